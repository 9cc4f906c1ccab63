/*
 * Physical page allocator.
 *
 * Every physical page frame below the end of usable RAM has a struct
 * vm_page, indexed by frame number; the array itself is carved out of
 * usable RAM at boot.  A page is in one of three states:
 *
 *	RESERVED   never allocatable: below 1 MiB, not RAM, the kernel image,
 *	           the multiboot info/cmdline/mmap/modules, the vm_page array
 *	FREE       on the free list
 *	ALLOCATED  handed out; `use' and the owner fields say by whom
 *
 * so vm_page_free catches a double free and a free of a page that was
 * never allocatable (both panic: a kernel invariant is broken).  Running
 * out of pages is a caller-visible failure: vm_page_alloc returns 0.
 *
 * The owner fields of an allocated page belong to whoever allocated it:
 * zones keep their per-page free list there, kalloc the length of a large
 * allocation, the pmap the number of valid entries of a page table.
 */
#ifndef VM_VM_PAGE_H
#define VM_VM_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86_64/multiboot.h"
#include "x86_64/pmap.h"

enum vm_page_state {
	VM_PAGE_RESERVED = 0,
	VM_PAGE_FREE,
	VM_PAGE_ALLOCATED,
};

/* What an allocated page is used for (vm_page.use); set by the owner. */
enum vm_page_use {
	VM_PAGE_USE_NONE = 0,    /* plain vm_page_alloc caller */
	VM_PAGE_USE_ZONE,        /* zone page: zone, freelist, count = objects in use */
	VM_PAGE_USE_KALLOC,      /* first page of a large kalloc: count = pages */
	VM_PAGE_USE_KALLOC_TAIL, /* the other pages of a large kalloc */
	VM_PAGE_USE_PTABLE,      /* page table: count = valid entries */
};

struct zone;

/*
 * Lock legend: [v] vm_page lock (free pages), [o] the page's owner
 * (allocated pages; the owner's own lock applies).
 */
struct vm_page {
	struct vm_page *next, *prev; /* [v] free list, or [o] the owner's list */
	struct zone *zone;           /* [o] VM_PAGE_USE_ZONE: owning zone */
	void *freelist;              /* [o] VM_PAGE_USE_ZONE: free objects in the page */
	uint32_t count;              /* [o] see enum vm_page_use */
	uint8_t state;               /* [v] enum vm_page_state */
	uint8_t use;                 /* [o] enum vm_page_use */
	uint16_t flags;              /* [o] owner-defined */
};
_Static_assert(sizeof(struct vm_page) == 40, "struct vm_page grew");

/* A range of physical memory as the boot loader described it (not page-aligned). */
struct vm_phys_range {
	paddr_t start, end; /* [start, end) */
	uint32_t type;      /* multiboot type (1 = RAM), or VM_PHYS_BOOT */
	const char *what;   /* for VM_PHYS_BOOT: "kernel", "module", ... */
};
#define VM_PHYS_BOOT 0x100 /* boot data that must never be allocated */

/* Sets the allocator up from the multiboot memory map; prints a summary. */
void vm_page_init(const struct multiboot_info *mbi);

/* One page, or 0 when none is free.  The contents are not cleared. */
paddr_t vm_page_alloc(void);
/* npages physically contiguous pages (first fit), or 0. */
paddr_t vm_page_alloc_contig(size_t npages);
/* Panics on a double free or an address that was never allocatable. */
void vm_page_free(paddr_t pa);
void vm_page_free_contig(paddr_t pa, size_t npages);

uint64_t vm_page_free_count(void);
/* Pages the allocator manages (free + allocated). */
uint64_t vm_page_total_count(void);

/* The page's descriptor, or NULL beyond the array. */
struct vm_page *vm_page_lookup(paddr_t pa);
paddr_t vm_page_to_phys(const struct vm_page *pg);

/*
 * What vm_page_init learned, for pmap_init (the physmap) and tests:
 * the memory map entries, the protected boot ranges (VM_PHYS_BOOT), the
 * end of usable RAM, and the multiboot info it was given.
 */
unsigned vm_page_phys_ranges(const struct vm_phys_range **r);
unsigned vm_page_boot_ranges(const struct vm_phys_range **r);
paddr_t vm_page_ram_end(void);
const struct multiboot_info *vm_page_boot_info(void);

/*
 * For tests that sweep allocation failures through a code path: the
 * nth allocation from now finds no memory, as if none were left; 0
 * turns it off.  Allocations are counted where they can fail: a page
 * (vm_page_alloc), a zone object (zalloc, kalloc's small sizes), a large
 * kalloc; a zalloc that takes a new page for its zone counts twice.
 * alloc_fail_pending says how many allocations are still to come before
 * it (0: it has happened, or none was set).  alloc_fail_now is the
 * allocators' side (true: fail this one): one load and a branch while no
 * failure is set.
 */
void alloc_fail_after(uint32_t n);
bool alloc_fail_take(void);

static inline uint32_t alloc_fail_pending(void)
{
	extern uint32_t alloc_fail_countdown;

	return __atomic_load_n(&alloc_fail_countdown, __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) bool alloc_fail_now(void)
{
	return __builtin_expect(alloc_fail_pending() != 0, 0) && alloc_fail_take();
}

#endif
