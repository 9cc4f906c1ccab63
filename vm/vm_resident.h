/*
 * The resident pages of an address map: virtual page -> physical page.
 *
 * Anonymous memory has no backing object yet, so the map itself records
 * which of its pages are in memory.  The record is kept apart from the
 * page tables because a page can be resident without being mapped (an
 * entry protected VM_PROT_NONE keeps its data; vm_write fills pages the
 * task has not touched yet), and because it lets a map find its pages
 * without walking the page tables.
 *
 * A hash table keyed by virtual page.  The pages chain through their own
 * struct vm_page (owner fields: `next' links the bucket, `freelist' holds
 * the virtual address), so inserting never allocates and cannot fail; the
 * table grows when it gets crowded and simply stays small if kalloc says no.
 *
 * Not locked: the owning map's lock covers it.
 */
#ifndef VM_VM_RESIDENT_H
#define VM_VM_RESIDENT_H

#include <stdint.h>

#include "vm/vm_page.h"

#define VM_RESIDENT_INLINE_BUCKETS 16

struct vm_resident {
	struct vm_page **buckets; /* inline[] or a kalloc'd array */
	uint64_t nbuckets;        /* a power of two */
	uint64_t count;           /* pages recorded */
	struct vm_page *inline_buckets[VM_RESIDENT_INLINE_BUCKETS];
};

void vm_resident_init(struct vm_resident *r);
/* Frees the bucket array; panics if pages are still recorded. */
void vm_resident_fini(struct vm_resident *r);

/* Records pa as the page at virtual page va (page aligned, not yet recorded). */
void vm_resident_insert(struct vm_resident *r, uintptr_t va, paddr_t pa);
/* The page at va, or 0. */
paddr_t vm_resident_lookup(const struct vm_resident *r, uintptr_t va);
/* Forgets the page at va and returns it, or 0 if none was recorded. */
paddr_t vm_resident_remove(struct vm_resident *r, uintptr_t va);

/*
 * Forgets every page in [start, end) and calls fn(arg, va, pa) for each,
 * in no particular order.  Costs min(pages in the range, pages recorded)
 * lookups, so a huge mostly-untouched range is cheap.
 */
void vm_resident_remove_range(struct vm_resident *r, uintptr_t start, uintptr_t end,
                              void (*fn)(void *arg, uintptr_t va, paddr_t pa), void *arg);
/* The same without forgetting them: fn must not insert or remove. */
void vm_resident_foreach_range(struct vm_resident *r, uintptr_t start, uintptr_t end,
                               void (*fn)(void *arg, uintptr_t va, paddr_t pa), void *arg);

#endif
