/*
 * Address maps (see vm_map.h for the model and the lock rule).
 *
 * Entries form a doubly linked list sorted by address, closed into a ring
 * by the sentinel map->head; a hint remembers the last entry found, which
 * makes the fault path's lookup O(1) for the usual run of faults in one
 * region, and lets vm_map_remove see without a lookup that a range is
 * exactly the entry vm_map_enter just made (vm_allocate, vm_deallocate).
 * A list is plenty for the handful of regions a task has; a tree can
 * replace it behind vm_map_lookup_locked without changing callers.
 *
 * Operations on a range [start, end) that cuts an entry first "clip" it:
 * split it into two entries at start or end, so that the range is covered
 * by whole entries.  Clipping needs a new entry, so an operation checks
 * the whole range first, then takes exactly the entries its clips need,
 * and only then changes anything: it either fails without effect or
 * succeeds completely.  Afterwards neighbours with identical attributes
 * are merged back together.
 *
 * Entries come from the map's own spares (map->spare, up to
 * VM_MAP_SPARE_ENTRIES, refilled by every entry the map frees) before the
 * zone, so a vm_allocate/vm_deallocate pair costs no allocator call at
 * all.  The zone may be called with the map lock held (the lock order
 * allows it).  vm_map_reclaim hands every map's spares back.
 *
 * Resident pages live in map->resident keyed by virtual address, not in
 * the entries, so splitting and merging entries never moves pages.  An
 * entry's `resident' flag says that some of its pages may be resident: it
 * is set when a page is recorded in it, copied by a clip and OR-ed by a
 * merge, so it may be stale but never wrongly clear.  Removing or
 * reprotecting entries whose flag is clear skips the resident table.
 */
#include "kern/kern_return.h"
#include "kern/panic.h"
#include "kern/string.h"
#include "kern/zalloc.h"
#include "vm/vm_map.h"
#include "x86_64/cpu.h"

static struct zone vm_map_zone;
static struct zone vm_map_entry_zone;

static spinlock_t vm_map_list_lock = SPINLOCK_INIT; /* before any map's lock */
static struct vm_map *vm_map_list;                  /* [A] every map */

/* The map whose tables each CPU has loaded (vm_map_activate), NULL: the kernel's. */
static struct vm_map *vm_map_active_cpu[MAX_CPUS];

void vm_map_init(void)
{
	zone_init(&vm_map_zone, "vm.map", sizeof(struct vm_map));
	zone_init(&vm_map_entry_zone, "vm.map.entry", sizeof(struct vm_map_entry));
}

unsigned vm_prot_to_pmap(vm_prot_t prot)
{
	unsigned p = 0;

	if (prot & VM_PROT_ALL)
		p |= PMAP_READ;
	if (prot & VM_PROT_WRITE)
		p |= PMAP_WRITE;
	if (prot & VM_PROT_EXECUTE)
		p |= PMAP_EXEC;
	return p;
}

bool vm_prot_allows(vm_prot_t prot, vm_prot_t access)
{
	if (access == VM_PROT_READ)
		return (prot & VM_PROT_ALL) != 0;
	return (prot & access) == access;
}

/* One of the map's spares, or NULL if it has none.  map->lock held. */
static inline struct vm_map_entry *vme_spare_take(struct vm_map *map)
{
	struct vm_map_entry *e = map->spare;

	if (e) {
		map->spare = e->next;
		map->nspare--;
	}
	return e;
}

/* One of the map's spares, else a new entry; NULL if out of memory.  map->lock held. */
static struct vm_map_entry *vme_alloc(struct vm_map *map)
{
	struct vm_map_entry *e = vme_spare_take(map);

	return e ? e : zalloc(&vm_map_entry_zone);
}

/* Keeps e as a spare if the map has room for one, else frees it.  map->lock held. */
static void vme_free(struct vm_map *map, struct vm_map_entry *e)
{
	if (map->nspare < VM_MAP_SPARE_ENTRIES) {
		e->next = map->spare;
		map->spare = e;
		map->nspare++;
	} else {
		zfree(&vm_map_entry_zone, e);
	}
}

/* Frees the map's spares.  map->lock held (or the map unreachable). */
static void vme_drain(struct vm_map *map)
{
	while (map->spare) {
		struct vm_map_entry *e = map->spare;

		map->spare = e->next;
		zfree(&vm_map_entry_zone, e);
	}
	map->nspare = 0;
}

/*
 * Links e into the list before `before' (which may be the sentinel).
 * Linking and unlinking leave map->size alone: clips and merges do not
 * change it, so only vm_map_enter and vm_map_remove account for their range.
 */
static void vme_link(struct vm_map *map, struct vm_map_entry *before, struct vm_map_entry *e)
{
	e->next = before;
	e->prev = before->prev;
	before->prev->next = e;
	before->prev = e;
	map->nentries++;
}

static void vme_unlink(struct vm_map *map, struct vm_map_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	map->nentries--;
	if (map->hint == e)
		map->hint = e->prev; /* a merge's survivor; the sentinel is fine too */
}

static bool vme_mergeable(const struct vm_map_entry *a, const struct vm_map_entry *b)
{
	return a->end == b->start && a->prot == b->prot && a->max_prot == b->max_prot &&
	       a->inheritance == b->inheritance && a->backing == b->backing;
}

/*
 * Merges compatible neighbours among the entries from the one before
 * `first' up to the first one starting after `hi'.
 */
static void vme_coalesce(struct vm_map *map, struct vm_map_entry *first, uintptr_t hi)
{
	struct vm_map_entry *e = first->prev != &map->head ? first->prev : first;

	while (e->next != &map->head && e->next->start <= hi) {
		struct vm_map_entry *n = e->next;

		if (!vme_mergeable(e, n)) {
			e = n;
			continue;
		}
		vme_unlink(map, n);
		e->end = n->end;
		e->resident |= n->resident;
		vme_free(map, n);
	}
}

/*
 * Splits e at addr (strictly inside it) using *spare.  e keeps the part
 * inside the range being worked on: the upper part when clipping a
 * range's start (the spare becomes the lower part, linked before e), the
 * lower part when clipping its end (the spare becomes the upper part).
 */
static void vme_clip(struct vm_map *map, struct vm_map_entry *e, uintptr_t addr, bool keep_upper,
                     struct vm_map_entry **spare)
{
	struct vm_map_entry *n = *spare;

	if (!n || addr <= e->start || addr >= e->end)
		panic("vme_clip: %#lx not inside [%#lx, %#lx) or no spare", addr, e->start, e->end);
	*spare = NULL;
	*n = *e;
	if (keep_upper) {
		n->end = addr;
		e->start = addr;
		vme_link(map, e, n);
	} else {
		n->start = addr;
		e->end = addr;
		vme_link(map, e->next, n);
	}
}

struct vm_map_entry *vm_map_lookup_locked(struct vm_map *map, uintptr_t addr)
{
	struct vm_map_entry *e = map->hint;

	if (e != &map->head && e->start <= addr && addr < e->end)
		return e;
	if (e == &map->head || addr < e->start)
		e = map->head.next;
	for (; e != &map->head && e->start <= addr; e = e->next)
		if (addr < e->end) {
			map->hint = e;
			return e;
		}
	return NULL;
}

/* The first entry that ends above addr, or the sentinel. */
static struct vm_map_entry *vme_first_after(struct vm_map *map, uintptr_t addr)
{
	struct vm_map_entry *e = map->head.next;

	while (e != &map->head && e->end <= addr)
		e = e->next;
	return e;
}

/*
 * Is [start, end) a valid range of the map, covered by entries without a
 * hole?  Returns the entries containing start and end - 1 in *first, *last.
 */
static inline kern_return_t vme_check_range(struct vm_map *map, uintptr_t start, uintptr_t end,
                                            struct vm_map_entry **first, struct vm_map_entry **last)
{
	if ((start | end) & PAGE_MASK)
		return KERN_INVALID_ARGUMENT;
	if (start >= end || start < map->min || end > map->max)
		return KERN_INVALID_ADDRESS;

	struct vm_map_entry *e = vm_map_lookup_locked(map, start);

	if (!e)
		return KERN_INVALID_ADDRESS;
	*first = e;
	for (uintptr_t at = e->end; at < end; at = e->end) {
		e = e->next;
		if (e == &map->head || e->start != at)
			return KERN_INVALID_ADDRESS; /* a hole */
	}
	*last = e;
	return KERN_SUCCESS;
}

static void vme_spares_put(struct vm_map *map, struct vm_map_entry **spares)
{
	for (int i = 0; i < 2; i++)
		if (spares[i])
			vme_free(map, spares[i]);
}

/*
 * Takes the entries vme_clip_range will need for [start, end), which
 * first .. last cover: one for each end of the range that cuts an entry.
 * false if out of memory (nothing taken).  map->lock held.
 */
static inline bool vme_spares_get(struct vm_map *map, const struct vm_map_entry *first,
                                  const struct vm_map_entry *last, uintptr_t start, uintptr_t end,
                                  struct vm_map_entry **spares)
{
	bool cut_start = first->start < start;
	bool cut_end = last->end > end;

	spares[0] = cut_start ? vme_alloc(map) : NULL;
	spares[1] = cut_end ? vme_alloc(map) : NULL;
	if ((cut_start && !spares[0]) || (cut_end && !spares[1])) {
		vme_spares_put(map, spares);
		return false;
	}
	return true;
}

/* Clips so that [start, end), known to be covered, is made of whole entries; returns the first. */
static struct vm_map_entry *vme_clip_range(struct vm_map *map, struct vm_map_entry *first,
                                           uintptr_t start, uintptr_t end,
                                           struct vm_map_entry **spares)
{
	if (first->start < start)
		vme_clip(map, first, start, true, &spares[0]);

	struct vm_map_entry *last = first;

	while (last->end < end)
		last = last->next;
	if (last->end > end)
		vme_clip(map, last, end, false, &spares[1]);
	return first;
}

kern_return_t vm_map_create(struct vm_map **out)
{
	struct vm_map *map = zalloc(&vm_map_zone);

	if (!map)
		return KERN_RESOURCE_SHORTAGE;
	*map = (struct vm_map){
		.lock = SPINLOCK_INIT, .min = VM_MIN_USER, .max = VM_MAX_USER, .refs = 1
	};
	if (pmap_create(&map->pmap) != KERN_SUCCESS) {
		zfree(&vm_map_zone, map);
		return KERN_RESOURCE_SHORTAGE;
	}
	map->head.next = map->head.prev = &map->head;
	map->head.start = map->head.end = map->max; /* never matches a lookup */
	map->hint = &map->head;
	vm_resident_init(&map->resident);

	unsigned long flags = spin_lock_irqsave(&vm_map_list_lock);

	map->all_next = vm_map_list;
	if (vm_map_list)
		vm_map_list->all_prev = map;
	vm_map_list = map;
	spin_unlock_irqrestore(&vm_map_list_lock, flags);
	*out = map;
	return KERN_SUCCESS;
}

static void vm_map_free_page(void *arg, uintptr_t va, paddr_t pa)
{
	struct vm_map *map = arg;

	if (map)
		pmap_remove(&map->pmap, va); /* KERN_INVALID_ADDRESS if never mapped: fine */
	vm_page_free(pa);
}

void vm_map_destroy(struct vm_map *map)
{
	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (vm_map_active_cpu[i] == map)
			panic("vm_map_destroy: map %p is active on cpu %u", map, i);

	unsigned long flags = spin_lock_irqsave(&vm_map_list_lock);

	if (map->all_prev)
		map->all_prev->all_next = map->all_next;
	else
		vm_map_list = map->all_next;
	if (map->all_next)
		map->all_next->all_prev = map->all_prev;
	spin_unlock_irqrestore(&vm_map_list_lock, flags);

	while (map->head.next != &map->head) {
		struct vm_map_entry *e = map->head.next;

		vme_unlink(map, e);
		vme_free(map, e);
	}
	vme_drain(map);
	/* The page tables go as a whole below: no need to unmap page by page. */
	vm_resident_remove_range(&map->resident, map->min, map->max, vm_map_free_page, NULL);
	vm_resident_fini(&map->resident);
	pmap_destroy(&map->pmap);
	zfree(&vm_map_zone, map);
}

void vm_map_deallocate_last(struct vm_map *map)
{
	/* A kernel thread that activated the map may drop its last reference. */
	unsigned long flags = intr_save();

	if (vm_map_active() == map)
		vm_map_activate(NULL);
	intr_restore(flags);
	vm_map_destroy(map);
}

kern_return_t vm_map_lookup(struct vm_map *map, uintptr_t addr, struct vm_map_entry *out)
{
	unsigned long flags = spin_lock_irqsave(&map->lock);
	struct vm_map_entry *e = vm_map_lookup_locked(map, addr);

	if (e)
		*out = *e;
	spin_unlock_irqrestore(&map->lock, flags);
	return e ? KERN_SUCCESS : KERN_INVALID_ADDRESS;
}

kern_return_t vm_map_region(struct vm_map *map, uintptr_t addr, struct vm_map_entry *out)
{
	unsigned long flags = spin_lock_irqsave(&map->lock);
	struct vm_map_entry *e = vme_first_after(map, addr);
	bool found = e != &map->head;

	if (found)
		*out = *e;
	spin_unlock_irqrestore(&map->lock, flags);
	return found ? KERN_SUCCESS : KERN_NO_SPACE;
}

/*
 * Where [*addr, *addr + size) goes: the entry to link before, or NULL with
 * the error.  Inlined: vm_map_enter is its only caller and it runs on every
 * vm_allocate.
 */
static inline __attribute__((always_inline)) struct vm_map_entry *
vme_place(struct vm_map *map, uintptr_t *addr, size_t size, bool anywhere, kern_return_t *err)
{
	if (!anywhere) {
		uintptr_t start = *addr;

		if (start < map->min || start > map->max || size > map->max - start) {
			*err = KERN_INVALID_ADDRESS;
			return NULL;
		}
		struct vm_map_entry *e = vme_first_after(map, start);

		if (e != &map->head && e->start < start + size) {
			*err = KERN_NO_SPACE;
			return NULL;
		}
		return e;
	}
	/* First fit: the lowest hole of at least size bytes. */
	uintptr_t hole = map->min;
	struct vm_map_entry *e;

	for (e = map->head.next; e != &map->head; e = e->next) {
		if (e->start >= hole && e->start - hole >= size)
			break;
		if (e->end > hole)
			hole = e->end;
	}
	if (e == &map->head && (hole > map->max || map->max - hole < size)) {
		*err = KERN_NO_SPACE;
		return NULL;
	}
	*addr = hole;
	return e;
}

/*
 * Makes n the new entry [start, start + size), anonymous with protection
 * prot, links it before `before', points the hint at it (the caller's next
 * fault or deallocate is likely there) and sets *addr.  map->lock held.
 */
static inline __attribute__((always_inline)) void
vme_enter_insert(struct vm_map *map, struct vm_map_entry *n, struct vm_map_entry *before,
                 uintptr_t *addr, uintptr_t start, size_t size, vm_prot_t prot)
{
	/* Field by field: the prev/next links are set by vme_link. */
	n->start = start;
	n->end = start + size;
	n->prot = prot;
	n->max_prot = VM_PROT_ALL;
	n->inheritance = VM_INHERIT_DEFAULT;
	n->backing = VM_BACKING_ANON;
	n->resident = false;
	vme_link(map, before, n);
	map->size += size;
	map->hint = n;
	*addr = start;
}

/*
 * The two ends of vm_map_enter that call out: with no spare entry (the
 * zone), and with a neighbour to merge (vme_coalesce).  Out of line, so
 * that the usual case saves no registers.  Both release map->lock, taken
 * with flags.
 */
static __attribute__((noinline)) kern_return_t
vme_enter_zalloc_unlock(struct vm_map *map, struct vm_map_entry *before, uintptr_t *addr,
                        uintptr_t start, size_t size, vm_prot_t prot, unsigned long flags)
{
	struct vm_map_entry *n = zalloc(&vm_map_entry_zone);

	if (n) {
		vme_enter_insert(map, n, before, addr, start, size, prot);
		vme_coalesce(map, n, start + size);
	}
	spin_unlock_irqrestore(&map->lock, flags);
	return n ? KERN_SUCCESS : KERN_RESOURCE_SHORTAGE;
}

static __attribute__((noinline)) kern_return_t
vme_enter_coalesce_unlock(struct vm_map *map, struct vm_map_entry *n, unsigned long flags)
{
	vme_coalesce(map, n, n->end);
	spin_unlock_irqrestore(&map->lock, flags);
	return KERN_SUCCESS;
}

/* vm_map_enter once its arguments are checked (vm_map.h). */
kern_return_t vm_map_enter_valid(struct vm_map *map, uintptr_t *addr, size_t size, bool anywhere,
                                 vm_prot_t prot)
{
	unsigned long flags = spin_lock_irqsave(&map->lock);
	kern_return_t err = KERN_SUCCESS;
	uintptr_t start = *addr;
	struct vm_map_entry *before = vme_place(map, &start, size, anywhere, &err);

	if (!before) {
		spin_unlock_irqrestore(&map->lock, flags);
		return err;
	}
	struct vm_map_entry *n = vme_spare_take(map);

	if (!n)
		return vme_enter_zalloc_unlock(map, before, addr, start, size, prot, flags);
	vme_enter_insert(map, n, before, addr, start, size, prot);
	/*
	 * Only a neighbour touching the new range can merge with it: skip the
	 * walk when neither does (the sentinel's end is map->max, past any
	 * start, and its start at most matches harmlessly).
	 */
	if (n->prev->end == n->start || before->start == n->end)
		return vme_enter_coalesce_unlock(map, n, flags);
	spin_unlock_irqrestore(&map->lock, flags);
	return KERN_SUCCESS;
}

/*
 * The general case of vm_map_remove: any range, checked, clipped and
 * removed entry by entry, its resident pages freed.  Called with
 * map->lock held, taken with flags, and releases it: out of line, so that
 * the fast path in vm_map_remove saves no registers.
 */
static __attribute__((noinline)) kern_return_t
vme_remove_unlock(struct vm_map *map, uintptr_t start, uintptr_t end, unsigned long flags)
{
	struct vm_map_entry *e, *last, *spares[2];
	kern_return_t err = vme_check_range(map, start, end, &e, &last);

	if (err == KERN_SUCCESS && !vme_spares_get(map, e, last, start, end, spares))
		err = KERN_RESOURCE_SHORTAGE;
	if (err == KERN_SUCCESS) {
		bool resident = false;

		e = vme_clip_range(map, e, start, end, spares);
		while (e != &map->head && e->start < end) {
			struct vm_map_entry *next = e->next;

			resident |= e->resident;
			vme_unlink(map, e);
			vme_free(map, e);
			e = next;
		}
		map->size -= end - start;
		if (resident)
			vm_resident_remove_range(&map->resident, start, end, vm_map_free_page, map);
	}
	spin_unlock_irqrestore(&map->lock, flags);
	return err;
}

kern_return_t vm_map_remove(struct vm_map *map, uintptr_t start, uintptr_t end)
{
	unsigned long flags = spin_lock_irqsave(&map->lock);
	struct vm_map_entry *e = map->hint;

	/*
	 * The common case, vm_deallocate of what vm_allocate just returned and
	 * nobody touched: the range is exactly the hint's entry, which never
	 * had resident pages.  An entry is page aligned, not empty and inside
	 * the map, so the range needs no further checks and no clips.  The
	 * sentinel (start == end == map->max) is no entry.
	 */
	if (e->start != start || e->end != end || e == &map->head || e->resident)
		return vme_remove_unlock(map, start, end, flags);
	map->size -= end - start;
	vme_unlink(map, e);
	vme_free(map, e);
	spin_unlock_irqrestore(&map->lock, flags);
	return KERN_SUCCESS;
}

struct vm_map_reprotect {
	struct pmap *pmap;
	unsigned pprot;
};

/* Gives a resident page's mapping, if it has one, the entry's new protection. */
static void vm_map_reprotect_page(void *arg, uintptr_t va, paddr_t pa)
{
	struct vm_map_reprotect *rp = arg;

	if (rp->pprot == 0)
		pmap_remove(rp->pmap, va); /* the page stays resident, unmapped */
	else
		pmap_protect(rp->pmap, va, rp->pprot); /* not mapped: the next fault maps it */
}

kern_return_t vm_map_protect(struct vm_map *map, uintptr_t start, uintptr_t end, vm_prot_t prot,
                             bool set_max)
{
	if (prot & ~VM_PROT_ALL)
		return KERN_INVALID_ARGUMENT;

	unsigned long flags = spin_lock_irqsave(&map->lock);
	struct vm_map_entry *first, *last, *e, *spares[2];
	kern_return_t err = vme_check_range(map, start, end, &first, &last);

	for (e = first; err == KERN_SUCCESS && e != &map->head && e->start < end; e = e->next)
		if ((prot & e->max_prot) != prot) /* set_max too: a maximum only goes down */
			err = KERN_PROTECTION_FAILURE;
	if (err == KERN_SUCCESS && !vme_spares_get(map, first, last, start, end, spares))
		err = KERN_RESOURCE_SHORTAGE;

	if (err == KERN_SUCCESS) {
		first = vme_clip_range(map, first, start, end, spares);
		for (e = first; e != &map->head && e->start < end; e = e->next) {
			vm_prot_t old = e->prot;

			if (set_max) {
				e->max_prot = prot;
				e->prot &= prot;
			} else {
				e->prot = prot;
			}
			if (e->prot == old || !e->resident)
				continue;
			struct vm_map_reprotect rp = { &map->pmap, vm_prot_to_pmap(e->prot) };

			vm_resident_foreach_range(&map->resident, e->start, e->end,
			                          vm_map_reprotect_page, &rp);
		}
		vme_coalesce(map, first, end);
	}
	spin_unlock_irqrestore(&map->lock, flags);
	return err;
}

void vm_map_page_insert_locked(struct vm_map *map, struct vm_map_entry *e, uintptr_t va, paddr_t pa)
{
	e->resident = true;
	vm_resident_insert(&map->resident, va, pa);
}

void vm_map_reclaim(void)
{
	unsigned long flags = spin_lock_irqsave(&vm_map_list_lock);

	for (struct vm_map *map = vm_map_list; map; map = map->all_next) {
		spin_lock(&map->lock);
		vme_drain(map);
		pmap_collect(&map->pmap);
		spin_unlock(&map->lock);
	}
	spin_unlock_irqrestore(&vm_map_list_lock, flags);
}

void vm_map_activate(struct vm_map *map)
{
	unsigned long flags = intr_save();

	pmap_activate(map ? &map->pmap : &kernel_pmap);
	vm_map_active_cpu[cpu_id()] = map;
	intr_restore(flags);
}

struct vm_map *vm_map_active(void)
{
	return vm_map_active_cpu[cpu_id()];
}

uint64_t vm_map_resident_pages(struct vm_map *map)
{
	return __atomic_load_n(&map->resident.count, __ATOMIC_RELAXED);
}

uint64_t vm_map_entry_count(struct vm_map *map)
{
	return __atomic_load_n(&map->nentries, __ATOMIC_RELAXED);
}
