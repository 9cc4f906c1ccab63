/*
 * Zones (see zalloc.h).
 *
 * A zone page holds per_page objects from offset 0 and no header: its
 * bookkeeping lives in the page's struct vm_page (zone, freelist of the
 * page's free objects, count = objects in use), so a 2048-byte zone still
 * fits two objects per page and zfree finds the page from the address.
 * Pages with at least one free object are on the zone's partial list;
 * full pages are on no list; an empty page is freed at once.
 *
 * A free object holds the next free object and a check word
 * (address ^ ZONE_FREE_MAGIC).  zalloc verifies the word (a mismatch means
 * someone wrote to freed memory: panic) and clears it; zfree of an object
 * that carries it walks the page's free list to tell a double free from
 * user data that happens to match.
 *
 * Locking: each zone's lock (interrupt-safe) covers its pages and counters;
 * vm_page's lock nests inside.  zone_list_lock covers the list of zones.
 */
#include <stdbool.h>

#include "kern/panic.h"
#include "kern/printf.h"
#include "kern/zalloc.h"
#include "vm/vm_page.h"

#define ZONE_FREE_MAGIC 0x5a4f4e4546524545ul /* "ZONEFREE" */

struct zone_free {
	struct zone_free *next;
	uintptr_t check;
};

static spinlock_t zone_list_lock = SPINLOCK_INIT;
static struct zone *zone_list; /* [L] */
static struct zone zone_of_zones;

void zone_init(struct zone *z, const char *name, size_t size)
{
	if (size == 0 || size > PAGE_SIZE)
		panic("zone_init: zone %s: object size %lu not in 1..%lu", name, size, PAGE_SIZE);
	*z = (struct zone){ .name = name, .lock = SPINLOCK_INIT };
	z->size = (size + ZONE_ALIGN - 1) & ~(size_t)(ZONE_ALIGN - 1);
	z->per_page = PAGE_SIZE / z->size;

	unsigned long flags = spin_lock_irqsave(&zone_list_lock);

	z->next = zone_list;
	zone_list = z;
	spin_unlock_irqrestore(&zone_list_lock, flags);
}

void zalloc_init(void)
{
	zone_init(&zone_of_zones, "zones", sizeof(struct zone));
}

struct zone *zone_create(const char *name, size_t size)
{
	struct zone *z = zalloc(&zone_of_zones);

	if (z) {
		zone_init(z, name, size);
		z->dynamic = 1;
	}
	return z;
}

void zone_destroy(struct zone *z)
{
	if (z->in_use || z->pages)
		panic("zone_destroy: zone %s still has %lu objects in %lu pages", z->name,
		      z->in_use, z->pages);

	unsigned long flags = spin_lock_irqsave(&zone_list_lock);
	struct zone **pp = &zone_list;

	while (*pp && *pp != z)
		pp = &(*pp)->next;
	if (!*pp) {
		spin_unlock_irqrestore(&zone_list_lock, flags);
		panic("zone_destroy: %p is not a zone", z);
	}
	*pp = z->next;
	spin_unlock_irqrestore(&zone_list_lock, flags);
	if (z->dynamic)
		zfree(&zone_of_zones, z);
}

static void zn_list_push(struct zone *z, struct vm_page *pg)
{
	pg->prev = NULL;
	pg->next = z->partial;
	if (z->partial)
		z->partial->prev = pg;
	z->partial = pg;
}

static void zn_list_remove(struct zone *z, struct vm_page *pg)
{
	if (pg->prev)
		pg->prev->next = pg->next;
	else
		z->partial = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
	pg->next = pg->prev = NULL;
}

/* A fresh page cut into free objects, on the partial list.  Zone lock held. */
static struct vm_page *zn_grow(struct zone *z)
{
	paddr_t pa = vm_page_alloc();

	if (!pa)
		return NULL;

	struct vm_page *pg = vm_page_lookup(pa);
	char *base = PHYS_TO_VIRT(pa);
	struct zone_free *prev = NULL;

	for (unsigned i = z->per_page; i-- > 0;) {
		struct zone_free *f = (struct zone_free *)(base + i * z->size);

		f->next = prev;
		f->check = (uintptr_t)f ^ ZONE_FREE_MAGIC;
		prev = f;
	}
	pg->use = VM_PAGE_USE_ZONE;
	pg->zone = z;
	pg->freelist = prev;
	pg->count = 0;
	zn_list_push(z, pg);
	z->pages++;
	return pg;
}

void *zalloc(struct zone *z)
{
	unsigned long flags = spin_lock_irqsave(&z->lock);
	struct vm_page *pg = alloc_fail_now() ? NULL : z->partial ? z->partial : zn_grow(z);

	if (!pg) {
		z->failures++;
		spin_unlock_irqrestore(&z->lock, flags);
		return NULL;
	}

	struct zone_free *f = pg->freelist;

	if (f->check != ((uintptr_t)f ^ ZONE_FREE_MAGIC))
		panic("zalloc: zone %s: free object %p was written after it was freed", z->name, f);
	pg->freelist = f->next;
	f->next = NULL;
	f->check = 0;
	if (++pg->count == z->per_page)
		zn_list_remove(z, pg);
	z->allocs++;
	if (++z->in_use > z->max_in_use)
		z->max_in_use = z->in_use;
	spin_unlock_irqrestore(&z->lock, flags);
	return f;
}

void zfree(struct zone *z, void *obj)
{
	uintptr_t va = (uintptr_t)obj;
	struct vm_page *pg = va >= PHYSMAP_BASE ? vm_page_lookup(VIRT_TO_PHYS(va)) : NULL;
	unsigned long flags = spin_lock_irqsave(&z->lock);

	if (!pg || pg->state != VM_PAGE_ALLOCATED || pg->use != VM_PAGE_USE_ZONE || pg->zone != z ||
	    (va & PAGE_MASK) % z->size != 0 || (va & PAGE_MASK) / z->size >= z->per_page) {
		spin_unlock_irqrestore(&z->lock, flags);
		panic("zfree: %p is not an object of zone %s", obj, z->name);
	}

	struct zone_free *f = obj;

	if (f->check == (va ^ ZONE_FREE_MAGIC))
		for (struct zone_free *p = pg->freelist; p; p = p->next)
			if (p == f) {
				spin_unlock_irqrestore(&z->lock, flags);
				panic("zfree: zone %s: double free of %p", z->name, obj);
			}
	f->next = pg->freelist;
	f->check = va ^ ZONE_FREE_MAGIC;
	pg->freelist = f;
	if (pg->count-- == z->per_page && z->per_page > 1)
		zn_list_push(z, pg); /* it was full, on no list */
	z->frees++;
	z->in_use--;
	if (pg->count == 0) {
		if (z->per_page > 1)
			zn_list_remove(z, pg);
		z->pages--;
		pg->zone = NULL;
		pg->freelist = NULL;
		pg->use = VM_PAGE_USE_NONE;
		vm_page_free(vm_page_to_phys(pg));
	}
	spin_unlock_irqrestore(&z->lock, flags);
}

uint64_t zone_objects_in_use(void)
{
	unsigned long flags = spin_lock_irqsave(&zone_list_lock);
	uint64_t n = 0;

	for (struct zone *z = zone_list; z; z = z->next)
		n += __atomic_load_n(&z->in_use, __ATOMIC_RELAXED);
	spin_unlock_irqrestore(&zone_list_lock, flags);
	return n;
}

void zone_print_stats(void)
{
	unsigned long flags = spin_lock_irqsave(&zone_list_lock);

	kprintf("zone               size   in use    max  pages     allocs      frees  fail\n");
	for (struct zone *z = zone_list; z; z = z->next)
		kprintf("%-16s %6lu %8lu %6lu %6lu %10lu %10lu %5lu\n", z->name, z->size, z->in_use,
		        z->max_in_use, z->pages, z->allocs, z->frees, z->failures);
	spin_unlock_irqrestore(&zone_list_lock, flags);
}
