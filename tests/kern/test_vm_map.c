/*
 * Address maps: entries inserted, looked up, removed and reprotected,
 * split and merged (checked entry by entry), first-fit placement,
 * vm_map_destroy handing back every page, the spare entries that
 * vm_map_reclaim gives back, and allocation failures on the way.
 */
#include <stdbool.h>

#include "kern/kalloc.h"
#include "kern/kern_return.h"
#include "kern/ktest.h"
#include "vm/vm_fault.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "x86_64/trap.h"

#define P PAGE_SIZE
#define BASE 0x40000000ul /* 1 GiB: clear of VM_MIN_USER */

/* Expects the map's entries to be exactly the n ranges/protections given. */
struct vmt_ent {
	uintptr_t start, end;
	vm_prot_t prot, max_prot;
};

static void vmt_expect(struct ktest_ctx *kt, struct vm_map *map, const struct vmt_ent *want,
                       unsigned n)
{
	struct vm_map_entry e;
	uintptr_t at = 0;
	unsigned i = 0;

	while (vm_map_region(map, at, &e) == KERN_SUCCESS) {
		if (i >= n) {
			KT_EXPECT_EQ(kt, e.start, 0); /* an entry too many */
			return;
		}
		KT_EXPECT_EQ(kt, e.start, want[i].start);
		KT_EXPECT_EQ(kt, e.end, want[i].end);
		KT_EXPECT_EQ(kt, e.prot, want[i].prot);
		KT_EXPECT_EQ(kt, e.max_prot, want[i].max_prot);
		at = e.end;
		i++;
	}
	KT_EXPECT_EQ(kt, i, n);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), n);
}

static uintptr_t vmt_enter(struct ktest_ctx *kt, struct vm_map *map, uintptr_t at, size_t size,
                           vm_prot_t prot)
{
	kern_return_t kr = vm_map_enter(map, &at, size, false, prot);

	KT_EXPECT_EQ(kt, kr, KERN_SUCCESS);
	return at;
}

#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define R VM_PROT_READ
#define ALL VM_PROT_ALL

KTEST(vm_map, create_destroy_empty)
{
	struct vm_map *map;
	uint64_t free0 = vm_page_free_count();

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 0);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 0);
	KT_EXPECT(kt, vm_page_free_count() < free0); /* its PML4 */
	vm_map_destroy(map);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

KTEST(vm_map, enter_lookup)
{
	struct vm_map *map;
	struct vm_map_entry e;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE, 3 * P, RW);

	KT_EXPECT_EQ(kt, vm_map_lookup(map, BASE, &e), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, e.start, BASE);
	KT_EXPECT_EQ(kt, e.end, BASE + 3 * P);
	KT_EXPECT_EQ(kt, e.prot, RW);
	KT_EXPECT_EQ(kt, e.max_prot, ALL);
	KT_EXPECT_EQ(kt, e.inheritance, VM_INHERIT_DEFAULT);
	KT_EXPECT_EQ(kt, vm_map_lookup(map, BASE + 3 * P - 1, &e), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, e.start, BASE);
	KT_EXPECT_EQ(kt, vm_map_lookup(map, BASE + 3 * P, &e), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_lookup(map, BASE - 1, &e), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_lookup(map, 0, &e), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_region(map, BASE + 3 * P, &e), KERN_NO_SPACE);
	KT_EXPECT_EQ(kt, map->size, 3 * P);
	vm_map_destroy(map);
}

KTEST(vm_map, merge_neighbours)
{
	struct vm_map *map;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE + 2 * P, 2 * P, RW);
	vmt_enter(kt, map, BASE, 2 * P, RW); /* below, touching: merges */
	{
		const struct vmt_ent w[] = { { BASE, BASE + 4 * P, RW, ALL } };
		vmt_expect(kt, map, w, 1);
	}
	vmt_enter(kt, map, BASE + 5 * P, P, RW); /* a gap of one page: no merge */
	vmt_enter(kt, map, BASE + 6 * P, P, R);  /* touching, other protection: no merge */
	{
		const struct vmt_ent w[] = { { BASE, BASE + 4 * P, RW, ALL },
			                     { BASE + 5 * P, BASE + 6 * P, RW, ALL },
			                     { BASE + 6 * P, BASE + 7 * P, R, ALL } };
		vmt_expect(kt, map, w, 3);
	}
	vmt_enter(kt, map, BASE + 4 * P, P, RW); /* fills the gap: three become one */
	{
		const struct vmt_ent w[] = { { BASE, BASE + 6 * P, RW, ALL },
			                     { BASE + 6 * P, BASE + 7 * P, R, ALL } };
		vmt_expect(kt, map, w, 2);
	}
	KT_EXPECT_EQ(kt, map->size, 7 * P);
	vm_map_destroy(map);
}

KTEST(vm_map, remove_splits)
{
	struct vm_map *map;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE, 5 * P, RW);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + P, BASE + 3 * P), KERN_SUCCESS);
	{
		const struct vmt_ent w[] = { { BASE, BASE + P, RW, ALL },
			                     { BASE + 3 * P, BASE + 5 * P, RW, ALL } };
		vmt_expect(kt, map, w, 2);
	}
	/* Not allocated, or partly: refused, nothing changes. */
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + P, BASE + 2 * P), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE, BASE + 4 * P), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + 4 * P, BASE + 6 * P), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + 1, BASE + P), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + P, BASE + P), KERN_INVALID_ADDRESS);
	{
		const struct vmt_ent w[] = { { BASE, BASE + P, RW, ALL },
			                     { BASE + 3 * P, BASE + 5 * P, RW, ALL } };
		vmt_expect(kt, map, w, 2);
	}
	/* The tail of one entry; then whole entries. */
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + 4 * P, BASE + 5 * P), KERN_SUCCESS);
	{
		const struct vmt_ent w[] = { { BASE, BASE + P, RW, ALL },
			                     { BASE + 3 * P, BASE + 4 * P, RW, ALL } };
		vmt_expect(kt, map, w, 2);
	}
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE, BASE + P), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + 3 * P, BASE + 4 * P), KERN_SUCCESS);
	vmt_expect(kt, map, NULL, 0);
	KT_EXPECT_EQ(kt, map->size, 0);
	vm_map_destroy(map);
}

KTEST(vm_map, remove_across_entries)
{
	struct vm_map *map;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE, 2 * P, RW);
	vmt_enter(kt, map, BASE + 2 * P, 2 * P, R);
	vmt_enter(kt, map, BASE + 4 * P, 2 * P, RW);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 3);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + P, BASE + 5 * P), KERN_SUCCESS);
	{
		const struct vmt_ent w[] = { { BASE, BASE + P, RW, ALL },
			                     { BASE + 5 * P, BASE + 6 * P, RW, ALL } };
		vmt_expect(kt, map, w, 2);
	}
	KT_EXPECT_EQ(kt, map->size, 2 * P);
	vm_map_destroy(map);
}

KTEST(vm_map, protect_split_merge)
{
	struct vm_map *map;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE, 4 * P, RW);
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE + P, BASE + 3 * P, R, false), KERN_SUCCESS);
	{
		const struct vmt_ent w[] = { { BASE, BASE + P, RW, ALL },
			                     { BASE + P, BASE + 3 * P, R, ALL },
			                     { BASE + 3 * P, BASE + 4 * P, RW, ALL } };
		vmt_expect(kt, map, w, 3);
	}
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE + P, BASE + 3 * P, RW, false), KERN_SUCCESS);
	{
		const struct vmt_ent w[] = { { BASE, BASE + 4 * P, RW, ALL } };
		vmt_expect(kt, map, w, 1);
	}
	/* A new maximum cuts the current protection down and cannot go back up. */
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE, BASE + P, R, true), KERN_SUCCESS);
	{
		const struct vmt_ent w[] = { { BASE, BASE + P, R, R },
			                     { BASE + P, BASE + 4 * P, RW, ALL } };
		vmt_expect(kt, map, w, 2);
	}
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE, BASE + 2 * P, RW, false),
	             KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE, BASE + P, ALL, true), KERN_PROTECTION_FAILURE);
	/* A hole in the range, or outside user space: refused. */
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE + 3 * P, BASE + 5 * P, R, false),
	             KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_protect(map, 0, P, R, false), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE, BASE + P, 8, false), KERN_INVALID_ARGUMENT);
	{
		const struct vmt_ent w[] = { { BASE, BASE + P, R, R },
			                     { BASE + P, BASE + 4 * P, RW, ALL } };
		vmt_expect(kt, map, w, 2);
	}
	/* Lowering the rest to the same maximum merges everything again. */
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE + P, BASE + 4 * P, R, true), KERN_SUCCESS);
	{
		const struct vmt_ent w[] = { { BASE, BASE + 4 * P, R, R } };
		vmt_expect(kt, map, w, 1);
	}
	KT_EXPECT_EQ(kt, map->size, 4 * P); /* clips and merges move no bytes */
	vm_map_destroy(map);
}

KTEST(vm_map, anywhere_first_fit)
{
	struct vm_map *map;
	uintptr_t a;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	a = 0xdead000; /* ignored */
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, true, RW), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, a, VM_MIN_USER);
	vmt_enter(kt, map, VM_MIN_USER + 2 * P, P, R);
	vmt_enter(kt, map, VM_MIN_USER + 5 * P, P, R);
	/* Two pages do not fit the one-page hole: they go into the next. */
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, 2 * P, true, R), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, a, VM_MIN_USER + 3 * P);
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, true, R), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, a, VM_MIN_USER + P);
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, true, R), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, a, VM_MIN_USER + 6 * P);
	{
		const struct vmt_ent w[] = { { VM_MIN_USER, VM_MIN_USER + P, RW, ALL },
			                     { VM_MIN_USER + P, VM_MIN_USER + 7 * P, R, ALL } };
		vmt_expect(kt, map, w, 2);
	}
	/* Larger than what is left of user space. */
	a = 0;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, VM_MAX_USER - VM_MIN_USER, true, RW), KERN_NO_SPACE);
	KT_EXPECT_EQ(kt, a, 0);
	/* The highest page fits exactly. */
	vmt_enter(kt, map, VM_MAX_USER - P, P, RW);
	vm_map_destroy(map);
}

KTEST(vm_map, fixed_overlap_and_bounds)
{
	struct vm_map *map;
	uintptr_t a;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE, 2 * P, RW);
	a = BASE + P;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, 2 * P, false, RW), KERN_NO_SPACE);
	a = BASE - P;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, 2 * P, false, RW), KERN_NO_SPACE);
	a = BASE - P;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, 4 * P, false, RW), KERN_NO_SPACE);
	a = BASE;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, false, RW), KERN_NO_SPACE);
	a = 0;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, false, RW), KERN_INVALID_ADDRESS);
	a = VM_MAX_USER - P;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, 2 * P, false, RW), KERN_INVALID_ADDRESS);
	a = VM_MAX_USER;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, false, RW), KERN_INVALID_ADDRESS);
	a = 0xfffffffffffff000ul;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, 2 * P, false, RW), KERN_INVALID_ADDRESS);
	a = BASE + 8 * P + 1;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, false, RW), KERN_INVALID_ARGUMENT);
	a = BASE + 8 * P;
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P + 1, false, RW), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, 0, false, RW), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, false, 8), KERN_INVALID_ARGUMENT);
	{
		const struct vmt_ent w[] = { { BASE, BASE + 2 * P, RW, ALL } };
		vmt_expect(kt, map, w, 1);
	}
	vm_map_destroy(map);
}

/* Faults pages in, splits and merges around them: the pages stay where they were. */
KTEST(vm_map, pages_survive_split_and_merge)
{
	struct vm_map *map;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE, 4 * P, RW);
	for (unsigned i = 0; i < 4; i++)
		KT_EXPECT_EQ(kt, vm_fault(map, BASE + i * P, PF_WRITE), KERN_SUCCESS);

	paddr_t pa[4];

	for (unsigned i = 0; i < 4; i++) {
		pa[i] = pmap_extract(&map->pmap, BASE + i * P);
		KT_EXPECT(kt, pa[i] != 0);
		*(uint64_t *)PHYS_TO_VIRT(pa[i]) = 0x1111 * (i + 1);
	}
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE + P, BASE + 2 * P, R, false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE + P, BASE + 2 * P, RW, false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 1);
	for (unsigned i = 0; i < 4; i++) {
		KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, BASE + i * P), pa[i]);
		KT_EXPECT_EQ(kt, *(uint64_t *)PHYS_TO_VIRT(pa[i]), 0x1111 * (i + 1));
	}
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 4);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + P, BASE + 3 * P), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 2);
	KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, BASE + P), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, BASE + 3 * P), pa[3]);
	vm_map_destroy(map);
}

/* Enough pages to grow the resident table past its inline buckets, spread over page tables. */
KTEST(vm_map, destroy_frees_everything)
{
	uint64_t free0 = vm_page_free_count();
	struct vm_map *map;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE, 64 * P, RW);
	vmt_enter(kt, map, 0x10000000000ul, 64 * P, RW); /* another PML4 slot */
	vmt_enter(kt, map, VM_MAX_USER - 8 * P, 8 * P, R);
	for (unsigned i = 0; i < 64; i++) {
		KT_EXPECT_EQ(kt, vm_fault(map, BASE + i * P, PF_WRITE), KERN_SUCCESS);
		KT_EXPECT_EQ(kt, vm_fault(map, 0x10000000000ul + i * P + 8, 0), KERN_SUCCESS);
	}
	for (unsigned i = 0; i < 8; i++)
		KT_EXPECT_EQ(kt, vm_fault(map, VM_MAX_USER - (i + 1) * P, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 136);
	KT_EXPECT_EQ(kt, map->zero_fills, 136);
	KT_EXPECT(kt, map->resident.nbuckets > VM_RESIDENT_INLINE_BUCKETS);
	/* 136 pages, 3 page-table paths, the PML4, the table of buckets, entries. */
	KT_EXPECT(kt, free0 - vm_page_free_count() >= 136 + 3 * 3 + 1);
	vm_map_destroy(map);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

/* Entries a map frees become its spares (up to a limit); vm_map_reclaim hands them back. */
KTEST(vm_map, spare_entries_and_reclaim)
{
	struct vm_map *map;

	vm_map_reclaim();
	uint64_t objs0 = kalloc_objects_in_use();

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	uint64_t objs1 = kalloc_objects_in_use(); /* the map itself */

	vmt_enter(kt, map, BASE, 4 * P, RW);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs1 + 1);
	/* A hole cut in the middle: two clips, and the middle entry kept as a spare. */
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + P, BASE + 2 * P), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 2);
	KT_EXPECT_EQ(kt, map->nspare, 1);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs1 + 3);
	/* Filling it takes the spare; the merge gives two entries back. */
	vmt_enter(kt, map, BASE + P, P, RW);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 1);
	KT_EXPECT_EQ(kt, map->nspare, 2);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs1 + 3);

	/* An allocate/deallocate pair lives on the spares: no object comes or goes. */
	uintptr_t a = 0;

	KT_EXPECT_EQ(kt, vm_map_enter(map, &a, P, true, RW), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, map->nspare, 1);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs1 + 3);
	KT_EXPECT_EQ(kt, vm_map_remove(map, a, a + P), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, map->nspare, 2);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs1 + 3);

	/* Many entries freed at once: the spares stop at their limit, the rest go to the zone. */
	for (unsigned i = 0; i < 2 * VM_MAP_SPARE_ENTRIES; i++)
		vmt_enter(kt, map, BASE + (8 + 2 * i) * P, P, RW); /* a page apart: no merging */
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 1 + 2 * VM_MAP_SPARE_ENTRIES);
	KT_EXPECT_EQ(kt, map->nspare, 0);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + 8 * P, BASE + 9 * P), KERN_SUCCESS);
	for (unsigned i = 1; i < 2 * VM_MAP_SPARE_ENTRIES; i++)
		KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + (8 + 2 * i) * P, BASE + (9 + 2 * i) * P),
		             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, map->nspare, VM_MAP_SPARE_ENTRIES);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs1 + 1 + VM_MAP_SPARE_ENTRIES);

	vm_map_reclaim();
	KT_EXPECT_EQ(kt, map->nspare, 0);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs1 + 1);
	/* The map works on without spares. */
	vmt_enter(kt, map, BASE + 4 * P, P, RW);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 1);
	vm_map_destroy(map);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0);
}

/*
 * An entry's "may have resident pages" flag must survive merges whichever
 * side brings the pages, or vm_map_remove would leave them behind.
 */
KTEST(vm_map, resident_flag_follows_merges)
{
	uint64_t free0 = vm_page_free_count();
	struct vm_map *map;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE + P, P, RW);
	KT_EXPECT_EQ(kt, vm_fault(map, BASE + P, PF_WRITE), KERN_SUCCESS);
	/* The page's entry is absorbed by a new one below it, then one above joins. */
	vmt_enter(kt, map, BASE, P, RW);
	vmt_enter(kt, map, BASE + 2 * P, P, RW);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 1);
	/* Split off and merged back by protection changes around the page. */
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE, BASE + P, R, false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE + 2 * P, BASE + 3 * P, R, false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_protect(map, BASE, BASE + 3 * P, RW, false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 1);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 1);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + P, BASE + 2 * P), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, BASE + P), 0);
	vm_map_destroy(map);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

/*
 * vm_map_remove of exactly one entry: through the hint (the fast path),
 * with the hint elsewhere or on the sentinel, and with resident pages.
 */
KTEST(vm_map, remove_exact_entry)
{
	uint64_t free0 = vm_page_free_count();
	struct vm_map *map;

	KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	vmt_enter(kt, map, BASE, P, RW);
	vmt_enter(kt, map, BASE + 2 * P, P, RW); /* the hint is here now */
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE, BASE + P), KERN_SUCCESS);
	{
		const struct vmt_ent w[] = { { BASE + 2 * P, BASE + 3 * P, RW, ALL } };
		vmt_expect(kt, map, w, 1);
	}
	/* A range that starts at the hint's entry but runs past it: refused. */
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + 2 * P, BASE + 4 * P), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + 2 * P, BASE + 3 * P), KERN_SUCCESS);
	vmt_expect(kt, map, NULL, 0);
	KT_EXPECT_EQ(kt, map->size, 0);
	/* The hint is the sentinel now, whose bounds are [max, max): not an entry. */
	KT_EXPECT_EQ(kt, vm_map_remove(map, VM_MAX_USER, VM_MAX_USER), KERN_INVALID_ADDRESS);
	vmt_expect(kt, map, NULL, 0);
	vmt_enter(kt, map, BASE, P, RW); /* the list still works */
	vmt_expect(kt, map, (const struct vmt_ent[]){ { BASE, BASE + P, RW, ALL } }, 1);

	/* An exact entry with a resident page: the page goes too. */
	vmt_enter(kt, map, BASE + 4 * P, 2 * P, RW);
	KT_EXPECT_EQ(kt, vm_fault(map, BASE + 5 * P, PF_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 1);
	KT_EXPECT_EQ(kt, vm_map_remove(map, BASE + 4 * P, BASE + 6 * P), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, BASE + 5 * P), 0);
	vmt_expect(kt, map, (const struct vmt_ent[]){ { BASE, BASE + P, RW, ALL } }, 1);
	vm_map_destroy(map);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

/*
 * Allocation failures (alloc_fail_after) through a fresh map's first
 * entry, a hole cut in it (two clips) and a protection change (one
 * clip): for n = 1, 2, ... the nth allocation fails, until a run makes
 * fewer.  A step that fails says KERN_RESOURCE_SHORTAGE and leaves the
 * map as it was; after the map is destroyed every object and page is
 * back.
 */
KTEST(vm_map, allocation_failures)
{
	unsigned n, stopped = 0;

	for (n = 1; n <= 32; n++) {
		struct vm_map *map;
		uintptr_t at = BASE;

		vm_map_reclaim();
		uint64_t objs0 = kalloc_objects_in_use(), free0 = vm_page_free_count();

		KT_ASSERT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
		alloc_fail_after(n);
		kern_return_t kr = vm_map_enter(map, &at, 4 * P, false, RW);

		if (kr == KERN_SUCCESS) {
			kr = vm_map_remove(map, BASE + P, BASE + 2 * P);
			if (kr != KERN_SUCCESS) {
				const struct vmt_ent w[] = { { BASE, BASE + 4 * P, RW, ALL } };

				vmt_expect(kt, map, w, 1);
			}
		} else {
			vmt_expect(kt, map, NULL, 0);
		}
		if (kr == KERN_SUCCESS) {
			kr = vm_map_protect(map, BASE + 3 * P, BASE + 4 * P, R, false);
			if (kr != KERN_SUCCESS) {
				const struct vmt_ent w[] = { { BASE, BASE + P, RW, ALL },
					                     { BASE + 2 * P, BASE + 4 * P, RW,
					                       ALL } };

				vmt_expect(kt, map, w, 2);
			}
		}
		bool injected = alloc_fail_pending() == 0;

		alloc_fail_after(0);
		if (kr != KERN_SUCCESS) {
			stopped++;
			KT_EXPECT_EQ(kt, kr, KERN_RESOURCE_SHORTAGE);
			KT_EXPECT(kt, injected);
		}
		vm_map_destroy(map);
		vm_map_reclaim();
		KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0);
		KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
		if (!injected) {
			KT_EXPECT_EQ(kt, kr, KERN_SUCCESS);
			break;
		}
	}
	ktest_diag(kt, "%u allocation failures swept, %u runs stopped by one", n - 1, stopped);
	KT_EXPECT(kt, n > 1 && n <= 32 && stopped > 0);
}
