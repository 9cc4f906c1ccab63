/*
 * Address maps: the user half of one task's address space, as a sorted
 * list of entries, each a page-aligned range [start, end) with a current
 * protection, a maximum protection, an inheritance and a backing.  The
 * only backing so far is anonymous demand-zero memory: a page is
 * allocated and zeroed on first touch (vm_fault.c) and freed when its
 * range is removed or the map destroyed.
 *
 * A map owns its pmap (the page tables of the user half) and its resident
 * pages (vm_resident.h).  Neighbouring entries with the same attributes
 * are merged, so the entry count stays the number of distinct regions.
 *
 * References (GNU Mach's): a map lives as long as someone holds one.
 * vm_map_create returns the creator's (a task's, released when the task
 * dies: kern/task.c); whoever uses a task's map outside that task's own
 * threads takes one more for the duration (vm/vm_server.c).  The last
 * vm_map_deallocate destroys the map in whatever thread drops it.
 *
 * Locking.  map->lock is a spinlock taken with interrupts off: the page
 * fault handler takes it from a trap in any of the task's threads (and
 * from copyin/copyout), and nothing sleeps while holding it (page
 * allocation, zeroing and page-table updates do not block).  Order: the
 * list of maps' lock (vm_map_reclaim), map->lock, then the pmap's lock,
 * zone/kalloc locks, the vm_page lock.
 * Never touch user memory through a user address with map->lock held: the
 * fault would take the lock again.
 *
 * Every call returning kern_return_t:
 *	KERN_SUCCESS
 *	KERN_INVALID_ARGUMENT   unaligned address or size, size 0, protection
 *	                        bits outside VM_PROT_ALL
 *	KERN_INVALID_ADDRESS    outside [VM_MIN_USER, VM_MAX_USER), wrapping,
 *	                        or (lookup, remove, protect) not allocated
 *	KERN_NO_SPACE           enter: the fixed range overlaps, or no hole fits
 *	KERN_PROTECTION_FAILURE protect: beyond an entry's maximum protection
 *	KERN_RESOURCE_SHORTAGE  no memory for an entry, the map or its tables
 */
#ifndef VM_VM_MAP_H
#define VM_VM_MAP_H

#include <mach/kern_return.h>
#include <mach/vm_inherit.h>
#include <mach/vm_prot.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/spinlock.h"
#include "vm/vm_resident.h"
#include "x86_64/pmap.h"

/*
 * User addresses: [VM_MIN_USER, VM_MAX_USER).  Page 0 stays unmapped so
 * a null pointer faults.  The last page below the non-canonical hole is
 * left out as well: an instruction ending there would make sysret return
 * to a non-canonical address, which faults in kernel mode on Intel CPUs.
 * Programs link below 2 GiB (the small code model); the rest is for
 * vm_allocate and stacks.
 */
#define VM_MIN_USER 0x1000ul
#define VM_MAX_USER 0x00007ffffffff000ul
_Static_assert(VM_MAX_USER <= USER_VA_END, "user space within the pmap's user half");

/* What backs an entry's pages. */
enum vm_map_backing {
	VM_BACKING_ANON = 1, /* anonymous, zero-filled on first touch */
};

/* Lock legend: [m] the map's lock. */
struct vm_map_entry {
	struct vm_map_entry *prev, *next; /* [m] sorted by address */
	uintptr_t start, end;             /* [m] [start, end), page aligned */
	vm_prot_t prot;                   /* [m] current protection */
	vm_prot_t max_prot;               /* [m] ceiling for prot */
	vm_inherit_t inheritance;         /* [m] for task_create (not used yet) */
	enum vm_map_backing backing;      /* [m] */
	bool resident;                    /* [m] some of its pages may be resident */
};

/* Free entries a map keeps for its next enter or clip (vm_map.c). */
#define VM_MAP_SPARE_ENTRIES 4

/* Lock legend: [I] immutable after creation, [m] lock, [A] vm_map.c's list lock, [a] atomic. */
struct vm_map {
	spinlock_t lock;
	uint32_t refs;                      /* [a] references (in the lock's padding) */
	struct vm_map *all_next, *all_prev; /* [A] every map, for vm_map_reclaim */
	struct pmap pmap;                   /* [m] page tables (also under its own lock) */
	struct vm_map_entry head;           /* [m] list sentinel: head.next is the lowest entry */
	struct vm_map_entry *hint;          /* [m] last entry found, or &head */
	uintptr_t min, max;                 /* [I] VM_MIN_USER, VM_MAX_USER */
	uint64_t nentries;                  /* [m] entries in the list */
	uint64_t size;                      /* [m] bytes covered by entries */
	struct vm_resident resident;        /* [m] resident pages; .count is the counter */
	uint64_t faults;                    /* [m] vm_fault calls that resolved */
	uint64_t zero_fills;                /* [m] pages allocated and zeroed by faults */
	struct vm_map_entry *spare;         /* [m] free entries, linked by next */
	unsigned nspare;                    /* [m] how many: at most VM_MAP_SPARE_ENTRIES */
};

/* Sets up the map and entry zones.  After kalloc_init. */
void vm_map_init(void);

/* A new empty map with its own pmap (sharing the kernel half). */
kern_return_t vm_map_create(struct vm_map **out);
/*
 * Frees every resident page, the page tables, the entries and the map,
 * whatever its references (for a map nobody else can know of; everyone
 * else calls vm_map_deallocate).  The map must not be active on any CPU
 * (panics if it is).
 */
void vm_map_destroy(struct vm_map *map);

/*
 * One more reference to map.  The caller must own one already, or know
 * that one exists which cannot go meanwhile (a live task's, seen under
 * the lock its release takes: kern/ipc_tt.h), so the count is never 0
 * here and a plain increment does.
 */
static inline void vm_map_reference(struct vm_map *map)
{
	__atomic_add_fetch(&map->refs, 1, __ATOMIC_RELAXED);
}

/* vm_map_deallocate's slow half: the last reference. */
void vm_map_deallocate_last(struct vm_map *map);

/*
 * Drops a reference; the last one destroys the map (if this CPU still
 * has it loaded, the kernel's tables are loaded first; it must not be
 * active on another CPU).  Inline: every vm_server routine drops one.
 */
static inline void vm_map_deallocate(struct vm_map *map)
{
	if (__atomic_sub_fetch(&map->refs, 1, __ATOMIC_ACQ_REL) == 0)
		vm_map_deallocate_last(map);
}

/*
 * A copy of the entry containing addr (its links are meaningless), or
 * KERN_INVALID_ADDRESS when no entry does.
 */
kern_return_t vm_map_lookup(struct vm_map *map, uintptr_t addr, struct vm_map_entry *out);
/*
 * The first entry ending above addr (vm_region's walk): a copy in *out,
 * KERN_NO_SPACE when there is none.
 */
kern_return_t vm_map_region(struct vm_map *map, uintptr_t addr, struct vm_map_entry *out);

/*
 * Maps [*addr, *addr + size) anonymous, protection prot, maximum
 * VM_PROT_ALL, inheritance VM_INHERIT_DEFAULT.  anywhere: the lowest hole
 * of size bytes (first fit) and *addr is set; otherwise exactly at *addr,
 * KERN_NO_SPACE if anything is mapped there.  Merges with neighbours.
 */
kern_return_t vm_map_enter_valid(struct vm_map *map, uintptr_t *addr, size_t size, bool anywhere,
                                 vm_prot_t prot);
/*
 * The argument checks inline, so that a caller whose arguments are valid
 * by construction (vm_allocate) has them folded away.
 */
static inline kern_return_t vm_map_enter(struct vm_map *map, uintptr_t *addr, size_t size,
                                         bool anywhere, vm_prot_t prot)
{
	if (size == 0 || (size & PAGE_MASK) || (!anywhere && (*addr & PAGE_MASK)) ||
	    (prot & ~VM_PROT_ALL))
		return KERN_INVALID_ARGUMENT;
	return vm_map_enter_valid(map, addr, size, anywhere, prot);
}

/*
 * Unmaps [start, end): splits entries at the ends, frees the resident
 * pages and removes their page-table entries.  Every page of the range
 * must be allocated, else KERN_INVALID_ADDRESS and nothing changes.
 */
kern_return_t vm_map_remove(struct vm_map *map, uintptr_t start, uintptr_t end);

/*
 * Sets the protection of [start, end) (or, with set_max, the maximum
 * protection, which also cuts the current one down to it), splitting and
 * merging entries and updating the resident pages' page-table entries.
 * All of the range must be allocated (KERN_INVALID_ADDRESS) and prot
 * within every entry's maximum (KERN_PROTECTION_FAILURE); nothing changes
 * on failure.
 */
kern_return_t vm_map_protect(struct vm_map *map, uintptr_t start, uintptr_t end, vm_prot_t prot,
                             bool set_max);

/*
 * Loads map's page tables on this CPU and makes it the map that kernel
 * threads' faults at user addresses resolve against (vm_fault.c); NULL
 * loads the kernel's.  The context switch should call this for a thread
 * that belongs to a task.
 */
void vm_map_activate(struct vm_map *map);
/* The map last activated on this CPU, or NULL. */
struct vm_map *vm_map_active(void);

/*
 * Gives back what maps keep for speed and could do without: every map's
 * spare entries (to the entry zone) and the page tables its pmap kept
 * after they emptied (pmap_collect).  Call it before counting free pages
 * or allocator objects against an earlier count (the ktest leak check
 * does), and before concluding that memory is exhausted.  Takes every
 * map's lock in turn: call it with none held.
 */
void vm_map_reclaim(void);

/* Counters, for statistics and the perf engine. */
uint64_t vm_map_resident_pages(struct vm_map *map);
uint64_t vm_map_entry_count(struct vm_map *map);

/* PMAP_* bits for a VM_PROT_* protection (0 for VM_PROT_NONE). */
unsigned vm_prot_to_pmap(vm_prot_t prot);

/*
 * Does protection prot allow an access of kind access (one VM_PROT_*
 * bit)?  On x86 a present page is always readable, so write or execute
 * permission implies read: a "write-only" page reads.
 */
bool vm_prot_allows(vm_prot_t prot, vm_prot_t access);

/*
 * For vm_fault and vm_user: internal, map->lock held.  The entry
 * containing addr, or NULL; updates the hint.
 */
struct vm_map_entry *vm_map_lookup_locked(struct vm_map *map, uintptr_t addr);
/*
 * Records pa as the resident page at va, inside entry e (map->lock held),
 * so that removing or reprotecting e knows it has pages to visit.
 */
void vm_map_page_insert_locked(struct vm_map *map, struct vm_map_entry *e, uintptr_t va,
                               paddr_t pa);

#endif
