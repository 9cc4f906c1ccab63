/*
 * Physical page allocator (see vm_page.h for the page states).
 *
 * Boot: the multiboot memory map says which ranges are RAM (type 1) and
 * which are not; a page is usable only if it lies wholly inside RAM, in no
 * other entry of the map, above 1 MiB, and outside every boot range we must
 * keep (the kernel image up to _phys_bss_end, the multiboot info, its
 * command line, memory map, module list, modules and module strings).  The
 * struct vm_page array covers frames 0 .. end of RAM and is placed in the
 * first usable gap below 4 GiB (the boot stub's physmap reaches only that
 * far until pmap_init runs); its own pages become reserved too.
 *
 * Free pages sit on one doubly linked list, ascending by address after
 * boot and LIFO afterwards (a page just freed is warm in the cache).
 * Ascending matters once: pmap_init's first table pages come from low
 * memory, which the boot physmap maps.  The list is doubly linked so that
 * vm_page_alloc_contig can take a run from its middle; that scans the
 * array (first fit) from vp_low_free, a lower bound on the free frames
 * that frees lower and scans raise, which is fine for large allocations.
 *
 * Locking: vp_lock (interrupt-safe) protects the free list, the counters
 * and every page's state; it is a leaf lock, so zone and pmap locks may be
 * held while calling in here.
 */
#include <stdbool.h>

#include "kern/panic.h"
#include "kern/printf.h"
#include "kern/spinlock.h"
#include "kern/string.h"
#include "vm/vm_page.h"

#define VP_LOW_LIMIT 0x100000ul        /* nothing below 1 MiB is allocated */
#define VP_BOOTMAP_LIMIT 0x100000000ul /* the boot stub's physmap ends here */
#define VP_MAX_RAM (64ul << 30)        /* frames above this are not managed */
#define VP_MAX_RANGES 64
/* The kernel, the boot info, each module and its string (boot=mach: up to 129 modules). */
#define VP_MAX_BOOT_RANGES 320

extern char _phys_bss_end[];

static struct vm_page *vp_pages;                   /* [I] the array, indexed by frame number */
static uint64_t vp_npages;                         /* [I] entries in the array */
static struct vm_phys_range vp_map[VP_MAX_RANGES]; /* [I] the memory map */
static unsigned vp_nmap;
static struct vm_phys_range vp_boot[VP_MAX_BOOT_RANGES]; /* [I] protected ranges */
static unsigned vp_nboot;
static paddr_t vp_ram_end;                  /* [I] end of the highest managed RAM */
static const struct multiboot_info *vp_mbi; /* [I] */

static spinlock_t vp_lock = SPINLOCK_INIT;
static struct vm_page *vp_free_head; /* [v] */
static uint64_t vp_nfree;            /* [v] */
static uint64_t vp_ntotal;           /* [I] free + allocated */
static uint64_t vp_low_free;         /* [v] no frame below this one is free */

static void vp_add_map(paddr_t start, paddr_t end, uint32_t type)
{
	if (end <= start)
		return;
	if (vp_nmap == VP_MAX_RANGES)
		panic("vm_page_init: more than %d memory map entries", VP_MAX_RANGES);
	vp_map[vp_nmap++] = (struct vm_phys_range){ start, end, type, NULL };
}

static void vp_add_boot(paddr_t start, paddr_t end, const char *what)
{
	if (end <= start)
		return;
	if (vp_nboot == VP_MAX_BOOT_RANGES)
		panic("vm_page_init: more than %d protected boot ranges", VP_MAX_BOOT_RANGES);
	vp_boot[vp_nboot++] = (struct vm_phys_range){ start, end, VM_PHYS_BOOT, what };
}

static void vp_add_boot_string(uint32_t pa, const char *what)
{
	if (pa)
		vp_add_boot(pa, pa + strlen(PHYS_TO_VIRT(pa)) + 1, what);
}

static void vp_parse(const struct multiboot_info *mbi)
{
	if (mbi->flags & MB_INFO_MEM_MAP) {
		uintptr_t p = (uintptr_t)PHYS_TO_VIRT(mbi->mmap_addr);
		uintptr_t end = p + mbi->mmap_length;

		while (p + sizeof(struct multiboot_mmap_entry) <= end) {
			const struct multiboot_mmap_entry *e = (const void *)p;

			vp_add_map(e->addr, e->addr + e->len, e->type);
			p += e->size + 4;
		}
	} else if (mbi->flags & MB_INFO_MEMORY) {
		vp_add_map(0, (paddr_t)mbi->mem_lower << 10, MB_MMAP_AVAILABLE);
		vp_add_map(VP_LOW_LIMIT, VP_LOW_LIMIT + ((paddr_t)mbi->mem_upper << 10),
		           MB_MMAP_AVAILABLE);
	} else {
		panic("vm_page_init: the boot loader gave no memory map");
	}

	paddr_t mbi_pa = VIRT_TO_PHYS(mbi);

	vp_add_boot(KERNEL_PHYS_LOAD, (paddr_t)_phys_bss_end, "kernel");
	vp_add_boot(mbi_pa, mbi_pa + sizeof(*mbi), "multiboot info");
	if (mbi->flags & MB_INFO_CMDLINE)
		vp_add_boot_string(mbi->cmdline, "command line");
	if (mbi->flags & MB_INFO_MEM_MAP)
		vp_add_boot(mbi->mmap_addr, (paddr_t)mbi->mmap_addr + mbi->mmap_length,
		            "memory map");
	if ((mbi->flags & MB_INFO_MODS) && mbi->mods_count) {
		const struct multiboot_module *m = PHYS_TO_VIRT(mbi->mods_addr);

		vp_add_boot(mbi->mods_addr, mbi->mods_addr + (paddr_t)mbi->mods_count * sizeof(*m),
		            "module list");
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			vp_add_boot(m[i].mod_start, m[i].mod_end, "module");
			vp_add_boot_string(m[i].string, "module string");
		}
	}
}

/* Marks the frames touching [start, end) reserved. */
static void vp_reserve(paddr_t start, paddr_t end)
{
	uint64_t first = start >> PAGE_SHIFT, last = round_page(end) >> PAGE_SHIFT;

	for (uint64_t i = first; i < last && i < vp_npages; i++)
		vp_pages[i].state = VM_PAGE_RESERVED;
}

/* Does [start, end) touch a non-RAM map entry or a protected boot range? */
static bool vp_conflicts(paddr_t start, paddr_t end, paddr_t *skip_to)
{
	for (unsigned i = 0; i < vp_nmap + vp_nboot; i++) {
		const struct vm_phys_range *r = i < vp_nmap ? &vp_map[i] : &vp_boot[i - vp_nmap];

		if (r->type == MB_MMAP_AVAILABLE)
			continue;
		if (trunc_page(r->start) < end && round_page(r->end) > start) {
			*skip_to = round_page(r->end);
			return true;
		}
	}
	return false;
}

/* First page-aligned gap of `bytes' in RAM between 1 MiB and 4 GiB. */
static paddr_t vp_find_space(uint64_t bytes)
{
	for (unsigned i = 0; i < vp_nmap; i++) {
		const struct vm_phys_range *r = &vp_map[i];
		paddr_t pa = round_page(r->start), end = trunc_page(r->end), skip;

		if (r->type != MB_MMAP_AVAILABLE)
			continue;
		if (pa < VP_LOW_LIMIT)
			pa = VP_LOW_LIMIT;
		if (end > VP_BOOTMAP_LIMIT)
			end = VP_BOOTMAP_LIMIT;
		while (pa + bytes <= end) {
			if (!vp_conflicts(pa, pa + bytes, &skip))
				return pa;
			pa = skip;
		}
	}
	return 0;
}

void vm_page_init(const struct multiboot_info *mbi)
{
	uint64_t ram_bytes = 0;

	vp_mbi = mbi;
	vp_parse(mbi);

	for (unsigned i = 0; i < vp_nmap; i++) {
		const struct vm_phys_range *r = &vp_map[i];

		if (r->type != MB_MMAP_AVAILABLE)
			continue;
		ram_bytes += r->end - r->start;
		paddr_t end = trunc_page(r->end) < VP_MAX_RAM ? trunc_page(r->end) : VP_MAX_RAM;
		if (end > vp_ram_end)
			vp_ram_end = end;
	}
	vp_npages = vp_ram_end >> PAGE_SHIFT;
	if (vp_npages == 0)
		panic("vm_page_init: no usable RAM in the memory map");

	uint64_t array_bytes = round_page(vp_npages * sizeof(struct vm_page));
	paddr_t array_pa = vp_find_space(array_bytes);

	if (!array_pa)
		panic("vm_page_init: no room below 4 GiB for %lu KiB of vm_page array",
		      array_bytes >> 10);
	vp_add_boot(array_pa, array_pa + array_bytes, "vm_page array");
	vp_pages = PHYS_TO_VIRT(array_pa);
	memset(vp_pages, 0, array_bytes); /* every frame starts RESERVED */

	/* RAM pages wholly inside a type-1 entry become candidates... */
	for (unsigned i = 0; i < vp_nmap; i++) {
		const struct vm_phys_range *r = &vp_map[i];

		if (r->type != MB_MMAP_AVAILABLE)
			continue;
		for (uint64_t f = round_page(r->start) >> PAGE_SHIFT;
		     f < trunc_page(r->end) >> PAGE_SHIFT && f < vp_npages; f++)
			vp_pages[f].state = VM_PAGE_FREE;
	}
	/* ...unless anything else claims them. */
	vp_reserve(0, VP_LOW_LIMIT);
	for (unsigned i = 0; i < vp_nmap; i++)
		if (vp_map[i].type != MB_MMAP_AVAILABLE)
			vp_reserve(vp_map[i].start, vp_map[i].end);
	for (unsigned i = 0; i < vp_nboot; i++)
		vp_reserve(vp_boot[i].start, vp_boot[i].end);

	struct vm_page *tail = NULL;

	for (uint64_t f = 0; f < vp_npages; f++) {
		struct vm_page *pg = &vp_pages[f];

		if (pg->state != VM_PAGE_FREE)
			continue;
		pg->prev = tail;
		if (tail)
			tail->next = pg;
		else
			vp_free_head = pg;
		tail = pg;
		if (!vp_nfree++)
			vp_low_free = f;
	}
	vp_ntotal = vp_nfree;

	kprintf("vm_page: %lu MiB usable RAM, %lu KiB of it reserved (low memory, kernel, boot "
	        "data, %lu KiB page array), %lu free pages\n",
	        ram_bytes >> 20, ((ram_bytes >> PAGE_SHIFT) - vp_ntotal) << 2, array_bytes >> 10,
	        vp_nfree);
}

static void vp_unlink(struct vm_page *pg)
{
	if (pg->prev)
		pg->prev->next = pg->next;
	else
		vp_free_head = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
}

/* Takes a free page off the list and hands it out clean.  vp_lock held. */
static void vp_take(struct vm_page *pg)
{
	vp_unlink(pg);
	vp_nfree--;
	*pg = (struct vm_page){ .state = VM_PAGE_ALLOCATED };
}

uint32_t alloc_fail_countdown; /* [a] alloc_fail_after */

void alloc_fail_after(uint32_t n)
{
	__atomic_store_n(&alloc_fail_countdown, n, __ATOMIC_RELAXED);
}

__attribute__((cold)) bool alloc_fail_take(void)
{
	uint32_t n = __atomic_load_n(&alloc_fail_countdown, __ATOMIC_RELAXED);

	while (n != 0 && !__atomic_compare_exchange_n(&alloc_fail_countdown, &n, n - 1, false,
	                                              __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return n == 1;
}

paddr_t vm_page_alloc(void)
{
	if (alloc_fail_now())
		return 0;
	unsigned long flags = spin_lock_irqsave(&vp_lock);
	struct vm_page *pg = vp_free_head;

	if (pg)
		vp_take(pg);
	spin_unlock_irqrestore(&vp_lock, flags);
	return pg ? vm_page_to_phys(pg) : 0;
}

paddr_t vm_page_alloc_contig(size_t npages)
{
	if (npages <= 1)
		return npages ? vm_page_alloc() : 0;

	unsigned long flags = spin_lock_irqsave(&vp_lock);
	uint64_t run = 0, f;
	paddr_t pa = 0;

	if (npages <= vp_nfree) {
		while (vp_low_free < vp_npages && vp_pages[vp_low_free].state != VM_PAGE_FREE)
			vp_low_free++;
		for (f = vp_low_free; f < vp_npages; f++) {
			run = vp_pages[f].state == VM_PAGE_FREE ? run + 1 : 0;
			if (run == npages)
				break;
		}
		if (run == npages) {
			for (uint64_t i = f + 1 - npages; i <= f; i++)
				vp_take(&vp_pages[i]);
			pa = (f + 1 - npages) << PAGE_SHIFT;
		}
	}
	spin_unlock_irqrestore(&vp_lock, flags);
	return pa;
}

void vm_page_free(paddr_t pa)
{
	struct vm_page *pg = vm_page_lookup(pa);

	if ((pa & PAGE_MASK) || !pg || pg->state == VM_PAGE_RESERVED)
		panic("vm_page_free: %#lx was never an allocatable page", pa);

	unsigned long flags = spin_lock_irqsave(&vp_lock);

	if (pg->state != VM_PAGE_ALLOCATED) {
		spin_unlock_irqrestore(&vp_lock, flags);
		panic("vm_page_free: double free of %#lx", pa);
	}
	*pg = (struct vm_page){ .state = VM_PAGE_FREE, .next = vp_free_head };
	if (vp_free_head)
		vp_free_head->prev = pg;
	vp_free_head = pg;
	vp_nfree++;
	if ((pa >> PAGE_SHIFT) < vp_low_free)
		vp_low_free = pa >> PAGE_SHIFT;
	spin_unlock_irqrestore(&vp_lock, flags);
}

void vm_page_free_contig(paddr_t pa, size_t npages)
{
	for (size_t i = 0; i < npages; i++)
		vm_page_free(pa + i * PAGE_SIZE);
}

uint64_t vm_page_free_count(void)
{
	return __atomic_load_n(&vp_nfree, __ATOMIC_RELAXED);
}

uint64_t vm_page_total_count(void)
{
	return vp_ntotal;
}

struct vm_page *vm_page_lookup(paddr_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT;

	return f < vp_npages ? &vp_pages[f] : NULL;
}

paddr_t vm_page_to_phys(const struct vm_page *pg)
{
	return (paddr_t)(pg - vp_pages) << PAGE_SHIFT;
}

unsigned vm_page_phys_ranges(const struct vm_phys_range **r)
{
	*r = vp_map;
	return vp_nmap;
}

unsigned vm_page_boot_ranges(const struct vm_phys_range **r)
{
	*r = vp_boot;
	return vp_nboot;
}

paddr_t vm_page_ram_end(void)
{
	return vp_ram_end;
}

const struct multiboot_info *vm_page_boot_info(void)
{
	return vp_mbi;
}
