/*
 * Kernel page tables.  All physical memory is mapped at PHYSMAP_BASE, so
 * any physical page can be reached with PHYS_TO_VIRT.
 *
 * Virtual memory layout (4-level paging, 48-bit addresses):
 *
 *	0x0000000000000000 .. 0x00007fffffffffff  user (PML4 0..255), per pmap;
 *	                                          nothing here in kernel_pmap
 *	0xffff800000000000 ..                     physmap: RAM, ACPI tables, the
 *	                                          first MiB, boot data (write-back),
 *	                                          0xfec00000..0xfeffffff (uncached)
 *	0xffffc00000000000 .. +KVA_SIZE           kva_alloc'd windows (PML4 384)
 *	0xffffffff80000000 ..                     kernel image (PML4 511)
 *
 * The kernel half (PML4 256..511) is shared by every pmap: pmap_create
 * copies kernel_pmap's PML4 entries and later changes to them are copied
 * to every pmap, so a kernel mapping anywhere in the upper half shows up
 * in every address space.  Kernel mappings are global (CR4.PGE).
 */
#ifndef X86_64_PMAP_H
#define X86_64_PMAP_H

#include <mach/kern_return.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/spinlock.h"
#include "x86_64/boot.h"

typedef uint64_t paddr_t;

#define PAGE_SIZE 4096ul
#define PAGE_SHIFT 12
#define PAGE_MASK (PAGE_SIZE - 1)
#define round_page(x) (((x) + PAGE_MASK) & ~PAGE_MASK)
#define trunc_page(x) ((x) & ~PAGE_MASK)

#define PHYS_TO_VIRT(pa) ((void *)((uintptr_t)(pa) + PHYSMAP_BASE))
#define VIRT_TO_PHYS(va) ((paddr_t)((uintptr_t)(va)-PHYSMAP_BASE))
/* Physical address of a symbol in the kernel image. */
#define KIMG_TO_PHYS(va) ((paddr_t)((uintptr_t)(va)-KERNEL_BASE))

#define USER_VA_END 0x0000800000000000ul /* user addresses are below this */
#define KVA_BASE 0xffffc00000000000ul
#define KVA_SIZE (256ul << 20)

/* Protection for pmap_*enter / *protect.  At least one of R, W, X. */
#define PMAP_READ 0x1
#define PMAP_WRITE 0x2
#define PMAP_EXEC 0x4
#define PMAP_NOCACHE 0x8 /* uncached (PCD|PWT): device registers */

/*
 * The calls that can fail return a kern_return_t:
 *	KERN_SUCCESS
 *	KERN_RESOURCE_SHORTAGE  no physical page for a page table
 *	KERN_INVALID_ARGUMENT   unaligned, non-canonical or other-half address, bad prot
 *	KERN_INVALID_ADDRESS    nothing mapped there (remove, protect)
 */

/*
 * One address space.  Lock legend: [I] immutable, [p] lock, [L] the pmap
 * list lock (pmap.c).
 */
struct pmap {
	paddr_t pml4;      /* [I] physical address of the top-level table */
	spinlock_t lock;   /* protects the user-half tables and counters */
	uint64_t ptpages;  /* [p] page-table pages owned (PML4 included) */
	struct pmap *next; /* [L] user pmaps, for kernel-half updates */
};

extern struct pmap kernel_pmap;

/* Builds kernel_pmap (no identity map) and switches to it.  After vm_page_init. */
void pmap_init(void);

/* Kernel mappings (kernel_pmap, kernel half only). */
kern_return_t pmap_kenter(uintptr_t va, paddr_t pa, unsigned prot);
kern_return_t pmap_kremove(uintptr_t va);
kern_return_t pmap_kprotect(uintptr_t va, unsigned prot);
/* Physical address va maps to (with va's page offset), 0 if unmapped. */
paddr_t pmap_kextract(uintptr_t va);
/* PMAP_* bits of the mapping of va, 0 if unmapped. */
unsigned pmap_kprot(uintptr_t va);

/*
 * User address spaces.  pmap_create shares the kernel half; pmap_destroy
 * frees every page-table page of the user half but not the frames mapped
 * there (they belong to whoever entered them).  A user page table that
 * pmap_remove empties stays in place, ready for the next pmap_enter in
 * its range; pmap_collect frees those (kernel tables go as they empty).
 */
kern_return_t pmap_create(struct pmap *pm);
void pmap_destroy(struct pmap *pm);
/* Frees pm's empty user page tables; returns how many pages it freed. */
uint64_t pmap_collect(struct pmap *pm);
kern_return_t pmap_enter(struct pmap *pm, uintptr_t va, paddr_t pa, unsigned prot);
kern_return_t pmap_remove(struct pmap *pm, uintptr_t va);
kern_return_t pmap_protect(struct pmap *pm, uintptr_t va, unsigned prot);
paddr_t pmap_extract(struct pmap *pm, uintptr_t va);
/* Loads pm's tables on this CPU. */
void pmap_activate(struct pmap *pm);

/*
 * Kernel virtual windows in [KVA_BASE, KVA_BASE + KVA_SIZE): address space
 * only, the caller maps pages with pmap_kenter.  kva_alloc returns 0 when
 * no run of npages is free; kva_free panics if a page is still mapped.
 */
uintptr_t kva_alloc(size_t npages);
void kva_free(uintptr_t va, size_t npages);

#endif
