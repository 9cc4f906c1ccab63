/*
 * The resident pages of an address map (see vm_resident.h).
 *
 * Buckets are indexed by the virtual page number modulo the table size,
 * which spreads the common case, runs of consecutive pages, evenly.  The
 * table starts with the inline buckets and quadruples, while kalloc
 * agrees, once there are more than two pages per bucket on average.
 */
#include <stdbool.h>

#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/string.h"
#include "vm/vm_resident.h"

#define VR_MAX_BUCKETS (1ul << 16) /* 512 KiB of buckets: 256 MiB resident at 2 per bucket */

static uintptr_t vr_va(const struct vm_page *pg)
{
	return (uintptr_t)pg->freelist;
}

static struct vm_page **vr_bucket(const struct vm_resident *r, uintptr_t va)
{
	return &r->buckets[(va >> PAGE_SHIFT) & (r->nbuckets - 1)];
}

void vm_resident_init(struct vm_resident *r)
{
	*r = (struct vm_resident){ .nbuckets = VM_RESIDENT_INLINE_BUCKETS };
	r->buckets = r->inline_buckets;
}

void vm_resident_fini(struct vm_resident *r)
{
	if (r->count != 0)
		panic("vm_resident_fini: %lu pages still recorded", r->count);
	if (r->buckets != r->inline_buckets)
		kfree(r->buckets);
	r->buckets = r->inline_buckets;
	r->nbuckets = VM_RESIDENT_INLINE_BUCKETS;
}

/* Quadruples the table; keeps the old one if there is no memory. */
static void vr_grow(struct vm_resident *r)
{
	uint64_t n = r->nbuckets * 4;
	struct vm_page **b = kalloc(n * sizeof(*b));

	if (!b)
		return;
	memset(b, 0, n * sizeof(*b));

	struct vm_page **old = r->buckets;
	uint64_t oldn = r->nbuckets;

	r->buckets = b;
	r->nbuckets = n;
	for (uint64_t i = 0; i < oldn; i++)
		while (old[i]) {
			struct vm_page *pg = old[i], **nb = vr_bucket(r, vr_va(pg));

			old[i] = pg->next;
			pg->next = *nb;
			*nb = pg;
		}
	if (old != r->inline_buckets)
		kfree(old);
}

void vm_resident_insert(struct vm_resident *r, uintptr_t va, paddr_t pa)
{
	struct vm_page *pg = vm_page_lookup(pa);

	if (!pg || (va & PAGE_MASK))
		panic("vm_resident_insert: bad page %#lx at %#lx", pa, va);
	if (r->count >= 2 * r->nbuckets && r->nbuckets < VR_MAX_BUCKETS)
		vr_grow(r);

	struct vm_page **b = vr_bucket(r, va);

	pg->freelist = (void *)va;
	pg->prev = NULL;
	pg->next = *b;
	*b = pg;
	r->count++;
}

paddr_t vm_resident_lookup(const struct vm_resident *r, uintptr_t va)
{
	for (struct vm_page *pg = *vr_bucket(r, va); pg; pg = pg->next)
		if (vr_va(pg) == va)
			return vm_page_to_phys(pg);
	return 0;
}

paddr_t vm_resident_remove(struct vm_resident *r, uintptr_t va)
{
	for (struct vm_page **pp = vr_bucket(r, va); *pp; pp = &(*pp)->next) {
		struct vm_page *pg = *pp;

		if (vr_va(pg) != va)
			continue;
		*pp = pg->next;
		pg->next = NULL;
		pg->freelist = NULL;
		r->count--;
		return vm_page_to_phys(pg);
	}
	return 0;
}

/* Calls fn for every page in [start, end); forgets each first if `forget'. */
static void vr_scan(struct vm_resident *r, uintptr_t start, uintptr_t end, bool forget,
                    void (*fn)(void *arg, uintptr_t va, paddr_t pa), void *arg)
{
	if (start >= end || r->count == 0)
		return;
	if ((end - start) / PAGE_SIZE <= r->count) {
		for (uintptr_t va = start; va < end; va += PAGE_SIZE) {
			paddr_t pa = forget ? vm_resident_remove(r, va) : vm_resident_lookup(r, va);

			if (pa)
				fn(arg, va, pa);
		}
		return;
	}
	for (uint64_t i = 0; i < r->nbuckets; i++) {
		struct vm_page **pp = &r->buckets[i];

		while (*pp) {
			struct vm_page *pg = *pp;
			uintptr_t va = vr_va(pg);

			if (va < start || va >= end) {
				pp = &pg->next;
				continue;
			}
			if (forget) {
				*pp = pg->next;
				pg->next = NULL;
				pg->freelist = NULL;
				r->count--;
			} else {
				pp = &pg->next;
			}
			/* fn may free the page: nothing of it is used after this. */
			fn(arg, va, vm_page_to_phys(pg));
		}
	}
}

void vm_resident_remove_range(struct vm_resident *r, uintptr_t start, uintptr_t end,
                              void (*fn)(void *arg, uintptr_t va, paddr_t pa), void *arg)
{
	vr_scan(r, start, end, true, fn, arg);
}

void vm_resident_foreach_range(struct vm_resident *r, uintptr_t start, uintptr_t end,
                               void (*fn)(void *arg, uintptr_t va, paddr_t pa), void *arg)
{
	vr_scan(r, start, end, false, fn, arg);
}
