/*
 * kalloc (see kalloc.h).
 *
 * Large allocations use contiguous physical pages through the physmap
 * rather than kva_alloc + pmap_kenter: no page-table work, no TLB
 * shootdowns later, and kfree is one page-descriptor lookup.  The cost is
 * fragmentation for very large requests on a long-running system; should
 * that matter, a kva-backed path can take the sizes above some threshold
 * without changing the interface.  The first page's vm_page records the
 * run length (use VM_PAGE_USE_KALLOC, count = pages); the others are
 * marked VM_PAGE_USE_KALLOC_TAIL so a pointer into the middle is refused.
 *
 * Locking: zone locks for small objects, vm_page's for large ones; the
 * large counters are atomics.
 */
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/zalloc.h"
#include "vm/vm_page.h"

#define KL_NZONES 8 /* 16 << 7 == KALLOC_MAX_SMALL */
_Static_assert((KALLOC_MIN_SMALL << (KL_NZONES - 1)) == KALLOC_MAX_SMALL, "kalloc classes");

static struct zone kl_zones[KL_NZONES];
static const char *const kl_names[KL_NZONES] = {
	"kalloc.16",  "kalloc.32",  "kalloc.64",   "kalloc.128",
	"kalloc.256", "kalloc.512", "kalloc.1024", "kalloc.2048",
};
static uint64_t kl_large_objects; /* atomic */
static uint64_t kl_large_pages;   /* atomic */

void kalloc_init(void)
{
	zalloc_init();
	for (unsigned i = 0; i < KL_NZONES; i++)
		zone_init(&kl_zones[i], kl_names[i], (size_t)KALLOC_MIN_SMALL << i);
}

void *kalloc(size_t size)
{
	if (size <= KALLOC_MAX_SMALL) {
		unsigned i = 0;

		while (((size_t)KALLOC_MIN_SMALL << i) < size)
			i++;
		return zalloc(&kl_zones[i]);
	}
	if (size > vm_page_total_count() * PAGE_SIZE)
		return NULL; /* also keeps round_page from overflowing */
	if (alloc_fail_now())
		return NULL; /* a test's injected failure (vm_page.h) */

	size_t npages = round_page(size) >> PAGE_SHIFT;
	paddr_t pa = vm_page_alloc_contig(npages);

	if (!pa)
		return NULL;

	struct vm_page *pg = vm_page_lookup(pa);

	for (size_t i = 1; i < npages; i++)
		pg[i].use = VM_PAGE_USE_KALLOC_TAIL;
	pg->count = npages;
	pg->use = VM_PAGE_USE_KALLOC;
	__atomic_add_fetch(&kl_large_objects, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&kl_large_pages, npages, __ATOMIC_RELAXED);
	return PHYS_TO_VIRT(pa);
}

void kfree(void *p)
{
	uintptr_t va = (uintptr_t)p;

	if (!p)
		return;

	struct vm_page *pg = va >= PHYSMAP_BASE ? vm_page_lookup(VIRT_TO_PHYS(va)) : NULL;

	if (pg && pg->state == VM_PAGE_ALLOCATED && pg->use == VM_PAGE_USE_ZONE &&
	    pg->zone >= kl_zones && pg->zone < kl_zones + KL_NZONES) {
		zfree(pg->zone, p);
		return;
	}
	if (pg && pg->state == VM_PAGE_ALLOCATED && pg->use == VM_PAGE_USE_KALLOC &&
	    !(va & PAGE_MASK)) {
		size_t npages = pg->count;

		for (size_t i = 0; i < npages; i++)
			pg[i].use = VM_PAGE_USE_NONE;
		__atomic_sub_fetch(&kl_large_objects, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&kl_large_pages, npages, __ATOMIC_RELAXED);
		vm_page_free_contig(VIRT_TO_PHYS(va), npages);
		return;
	}
	panic("kfree: %p was not allocated by kalloc, or was already freed", p);
}

uint64_t kalloc_objects_in_use(void)
{
	return zone_objects_in_use() + __atomic_load_n(&kl_large_objects, __ATOMIC_RELAXED);
}

uint64_t kalloc_bytes_in_use(void)
{
	uint64_t bytes = __atomic_load_n(&kl_large_pages, __ATOMIC_RELAXED) * PAGE_SIZE;

	for (unsigned i = 0; i < KL_NZONES; i++)
		bytes += __atomic_load_n(&kl_zones[i].in_use, __ATOMIC_RELAXED) * kl_zones[i].size;
	return bytes;
}
