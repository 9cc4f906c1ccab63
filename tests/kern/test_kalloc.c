/*
 * Zones and kalloc: patterns written into every object and verified before
 * it is freed (overlapping objects would corrupt each other), counters back
 * to zero, and running out of memory returns NULL.  Sizes come from a
 * fixed-seed xorshift generator, so every run does the same work.
 */
#include <stdbool.h>

#include "kern/kalloc.h"
#include "kern/ktest.h"
#include "kern/string.h"
#include "kern/zalloc.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "x86_64/cpu.h"
#include "x86_64/pmap.h"

static uint64_t ka_rand_state;

static uint64_t ka_rand(void)
{
	uint64_t x = ka_rand_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return ka_rand_state = x;
}

static uint64_t ka_pattern(const void *p, unsigned i)
{
	return ((uintptr_t)p * 0x9e3779b97f4a7c15ul) ^ i;
}

/* Fills [p, p + size) with a pattern unique to p; the tail bytes with its low byte. */
static void ka_fill(void *p, size_t size)
{
	uint64_t *w = p;
	size_t n = size / 8;

	for (size_t i = 0; i < n; i++)
		w[i] = ka_pattern(p, i);
	memset((char *)p + n * 8, (int)(ka_pattern(p, 0) & 0xff), size % 8);
}

static bool ka_check(const void *p, size_t size)
{
	const uint64_t *w = p;
	const unsigned char *tail = (const unsigned char *)p + size / 8 * 8;

	for (size_t i = 0; i < size / 8; i++)
		if (w[i] != ka_pattern(p, i))
			return false;
	for (size_t i = 0; i < size % 8; i++)
		if (tail[i] != (ka_pattern(p, 0) & 0xff))
			return false;
	return true;
}

KTEST(zalloc, basic)
{
	enum { N = 300 };
	static void *objs[N];
	uint64_t free0 = vm_page_free_count(), objs0 = kalloc_objects_in_use();
	struct zone *z = zone_create("test.40", 40);
	unsigned bad = 0;

	KT_ASSERT(kt, z);
	KT_EXPECT_EQ(kt, z->size, 48);
	KT_EXPECT_EQ(kt, z->per_page, PAGE_SIZE / 48);
	for (unsigned i = 0; i < N; i++) {
		objs[i] = zalloc(z);
		KT_ASSERT(kt, objs[i]);
		KT_EXPECT_EQ(kt, (uintptr_t)objs[i] % ZONE_ALIGN, 0);
		ka_fill(objs[i], 40);
	}
	KT_EXPECT_EQ(kt, z->in_use, N);
	KT_EXPECT_EQ(kt, z->pages, (N + z->per_page - 1) / z->per_page);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0 + 1 + N); /* + the zone struct */
	zone_print_stats();
	for (unsigned i = 0; i < N; i += 2) { /* every other one first: partial pages */
		bad += !ka_check(objs[i], 40);
		zfree(z, objs[i]);
	}
	KT_EXPECT_EQ(kt, z->in_use, N / 2);
	for (unsigned i = 1; i < N; i += 2) {
		bad += !ka_check(objs[i], 40);
		zfree(z, objs[i]);
	}
	KT_EXPECT_EQ(kt, bad, 0);
	KT_EXPECT_EQ(kt, z->in_use, 0);
	KT_EXPECT_EQ(kt, z->pages, 0);
	KT_EXPECT_EQ(kt, z->allocs, N);
	KT_EXPECT_EQ(kt, z->frees, N);
	zone_destroy(z);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0);
}

KTEST(zalloc, static_zone_reuses_freed_objects)
{
	static struct zone z;
	void *a, *b;

	zone_init(&z, "test.static", 100);
	KT_EXPECT_EQ(kt, z.size, 112);
	a = zalloc(&z);
	KT_ASSERT(kt, a);
	zfree(&z, a);
	KT_EXPECT_EQ(kt, z.pages, 0); /* the empty page went back at once */
	a = zalloc(&z);
	b = zalloc(&z);
	KT_ASSERT(kt, a && b);
	KT_EXPECT(kt, a != b);
	zfree(&z, a);
	KT_EXPECT_EQ(kt, zalloc(&z), a); /* LIFO within the page */
	zfree(&z, a);
	zfree(&z, b);
	zone_destroy(&z);
}

KTEST(zalloc, random_stress)
{
	enum { SLOTS = 512, OPS = 8000, NZONES = 4 };
	static void *slot[SLOTS];
	static const size_t sizes[NZONES] = { 16, 24, 200, 1500 };
	struct zone *zones[NZONES];
	unsigned bad = 0, live = 0;

	ka_rand_state = 0x2545f4914f6cdd1dul;
	for (unsigned i = 0; i < NZONES; i++) {
		zones[i] = zone_create("test.stress", sizes[i]);
		KT_ASSERT(kt, zones[i]);
	}
	memset(slot, 0, sizeof(slot));
	for (unsigned op = 0; op < OPS; op++) {
		unsigned s = ka_rand() % SLOTS, zi = s % NZONES;

		if (slot[s]) {
			bad += !ka_check(slot[s], sizes[zi]);
			zfree(zones[zi], slot[s]);
			slot[s] = NULL;
			live--;
		} else if ((slot[s] = zalloc(zones[zi])) != NULL) {
			ka_fill(slot[s], sizes[zi]);
			live++;
		}
	}
	uint64_t in_use = 0;

	for (unsigned i = 0; i < NZONES; i++)
		in_use += zones[i]->in_use;
	KT_EXPECT_EQ(kt, in_use, live);
	for (unsigned s = 0; s < SLOTS; s++)
		if (slot[s]) {
			bad += !ka_check(slot[s], sizes[s % NZONES]);
			zfree(zones[s % NZONES], slot[s]);
		}
	KT_EXPECT_EQ(kt, bad, 0);
	for (unsigned i = 0; i < NZONES; i++) {
		KT_EXPECT_EQ(kt, zones[i]->pages, 0);
		zone_destroy(zones[i]);
	}
}

KTEST(zalloc, exhaustion_returns_null)
{
	vm_map_reclaim(); /* what maps keep for speed is free memory here */
	struct zone *z = zone_create("test.page", PAGE_SIZE);
	void *head = NULL, *p;
	uint64_t n = 0, free0 = vm_page_free_count();

	KT_ASSERT(kt, z);
	unsigned long flags = intr_save(); /* nobody else may need a page meanwhile */

	while ((p = zalloc(z)) != NULL) {
		*(void **)p = head;
		head = p;
		n++;
	}
	uint64_t failures = z->failures, left = vm_page_free_count();

	while (head) {
		p = *(void **)head;
		zfree(z, head);
		head = p;
	}
	intr_restore(flags);
	KT_EXPECT_EQ(kt, n, free0);
	KT_EXPECT_EQ(kt, left, 0);
	KT_EXPECT_EQ(kt, failures, 1);
	KT_EXPECT_EQ(kt, z->pages, 0);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
	zone_destroy(z);
}

KTEST(kalloc, sizes_and_alignment)
{
	static const size_t sizes[] = { 1,   15,   16,   17,   31,   64,   100,  255,
		                        512, 1000, 2047, 2048, 2049, 4096, 4097, 3 * 4096 + 1 };
	uint64_t bytes0 = kalloc_bytes_in_use(), objs0 = kalloc_objects_in_use();

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		void *p = kalloc(size);

		KT_ASSERT(kt, p);
		KT_EXPECT_EQ(kt, (uintptr_t)p % (size > KALLOC_MAX_SMALL ? PAGE_SIZE : 16), 0);
		KT_EXPECT(kt, kalloc_bytes_in_use() >= bytes0 + size);
		KT_EXPECT(kt, kalloc_bytes_in_use() < bytes0 + 2 * size + 16);
		KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0 + 1);
		ka_fill(p, size);
		KT_EXPECT(kt, ka_check(p, size));
		kfree(p);
		KT_EXPECT_EQ(kt, kalloc_bytes_in_use(), bytes0);
	}
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0);
}

KTEST(kalloc, zero_size_and_null)
{
	void *a = kalloc(0), *b = kalloc(0);

	/* kalloc(0) is a unique minimal object: NULL only ever means out of memory. */
	KT_EXPECT(kt, a && b && a != b);
	KT_EXPECT_EQ(kt, kalloc_bytes_in_use() >= 2 * KALLOC_MIN_SMALL, 1);
	kfree(a);
	kfree(b);
	kfree(NULL);
}

KTEST(kalloc, large_is_contiguous)
{
	size_t size = 1 << 20;
	uint64_t free0 = vm_page_free_count();
	char *p = kalloc(size);

	KT_ASSERT(kt, p);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0 - size / PAGE_SIZE);
	KT_EXPECT_EQ(kt, kalloc_bytes_in_use() >= size, 1);
	for (size_t off = 0; off < size; off += PAGE_SIZE)
		if (pmap_kextract((uintptr_t)p + off) != pmap_kextract((uintptr_t)p) + off) {
			KT_EXPECT_EQ(kt, pmap_kextract((uintptr_t)p + off),
			             pmap_kextract((uintptr_t)p) + off);
			break;
		}
	ka_fill(p, size);
	KT_EXPECT(kt, ka_check(p, size));
	kfree(p);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
	KT_EXPECT(kt, kalloc((size_t)-1) == NULL);
	KT_EXPECT(kt, kalloc((vm_page_total_count() + 1) * PAGE_SIZE) == NULL);
}

KTEST(kalloc, random_stress)
{
	enum { SLOTS = 1024, OPS = 10000 };
	static void *slot[SLOTS];
	static size_t slot_size[SLOTS];
	unsigned bad = 0, nlarge = 0;
	uint64_t objs0 = kalloc_objects_in_use(), bytes0 = kalloc_bytes_in_use();

	ka_rand_state = 0x9e3779b97f4a7c15ul;
	memset(slot, 0, sizeof(slot));
	for (unsigned op = 0; op < OPS; op++) {
		unsigned s = ka_rand() % SLOTS;

		if (slot[s]) {
			bad += !ka_check(slot[s], slot_size[s]);
			kfree(slot[s]);
			slot[s] = NULL;
			continue;
		}
		uint64_t r = ka_rand();
		/* Mostly small, mostly very small; one in 32 up to 40 KiB. */
		size_t size = r % 32 == 0  ? 2049 + (r >> 8) % (40 << 10)
		              : r % 4 == 0 ? (r >> 8) % 2049
		                           : (r >> 8) % 129;

		nlarge += size > KALLOC_MAX_SMALL;
		slot[s] = kalloc(size);
		slot_size[s] = size;
		if (!KT_EXPECT(kt, slot[s]))
			break;
		ka_fill(slot[s], size);
	}
	for (unsigned s = 0; s < SLOTS; s++)
		if (slot[s]) {
			bad += !ka_check(slot[s], slot_size[s]);
			kfree(slot[s]);
		}
	KT_EXPECT_EQ(kt, bad, 0);
	KT_EXPECT(kt, nlarge > 50);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0);
	KT_EXPECT_EQ(kt, kalloc_bytes_in_use(), bytes0);
}

KTEST(kalloc, exhaustion_returns_null)
{
	vm_map_reclaim(); /* what maps keep for speed is free memory here */
	uint64_t free0 = vm_page_free_count(), objs0 = kalloc_objects_in_use();
	void *head = NULL, *p;
	uint64_t n2048 = 0, n16 = 0;
	unsigned long flags = intr_save(); /* nobody else may need a page meanwhile */

	while ((p = kalloc(2048)) != NULL) {
		*(void **)p = head;
		head = p;
		n2048++;
	}
	void *large = kalloc(3 * PAGE_SIZE);

	while ((p = kalloc(16)) != NULL) { /* what is left in partial 16-byte pages */
		*(void **)p = head;
		head = p;
		n16++;
	}
	uint64_t left = vm_page_free_count();

	while (head) {
		p = *(void **)head;
		kfree(head);
		head = p;
	}
	intr_restore(flags);
	KT_EXPECT_EQ(kt, left, 0);
	KT_EXPECT(kt, large == NULL);
	KT_EXPECT(kt, n2048 >= 2 * free0 - 2);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0);
}
