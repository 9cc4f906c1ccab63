/*
 * Host unit tests of kern/perf_hist.c: geometry, percentiles within 1% of
 * the exact order statistics on random and adversarial data, exact merge,
 * bucket iteration.
 */
#include <stdbool.h>
#include <string.h>

#include "kern/perf_hist.h"
#include "tests/host/htest.h"

#define NV 100000

static uint64_t vals[NV];

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Exact nearest-rank percentile of sorted v[0..n). */
static uint64_t exact_pct(const uint64_t *v, size_t n, uint32_t pcm)
{
	unsigned __int128 r = ((unsigned __int128)pcm * n + 99999) / 100000;

	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[(size_t)r - 1];
}

static const uint32_t pcms[] = { 0,     1,     1000,  10000, 25000, 50000, 75000,
	                         90000, 95000, 99000, 99900, 99990, 99999, 100000 };

/* Every percentile of h within 1% of the exact one of v (which gets sorted). */
static void check_pcts(const char *what, const struct perf_hist *h, uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(v[0]), cmp_u64);
	for (size_t i = 0; i < sizeof(pcms) / sizeof(pcms[0]); i++) {
		uint64_t want = exact_pct(v, n, pcms[i]);
		uint64_t got = perf_hist_percentile(h, pcms[i]);
		uint64_t diff = got > want ? got - want : want - got;

		/* diff / want <= 1%; exact below 128 */
		if ((unsigned __int128)diff * 100 > want || (want < 128 && diff != 0))
			HT_FAIL("%s: p%u/1000: got %" PRIu64 ", exact %" PRIu64, what, pcms[i], got,
			        want);
	}
}

static void fill_check(const char *what, uint64_t *v, size_t n)
{
	static struct perf_hist h;

	perf_hist_init(&h);
	for (size_t i = 0; i < n; i++)
		perf_hist_add(&h, v[i]);
	HT_CHECK_U64(perf_hist_count(&h), n);
	check_pcts(what, &h, v, n);
}

static void geometry_contiguous(void)
{
	uint64_t prev_hi = 0;

	HT_CHECK_U64(PERF_HIST_NBUCKETS, 2240);
	for (uint32_t i = 0; i < PERF_HIST_NBUCKETS; i++) {
		uint64_t lo = perf_hist_bucket_lo(i), hi = perf_hist_bucket_hi(i);
		uint64_t mid = perf_hist_bucket_mid(i);

		if (i > 0 && lo != prev_hi + 1)
			HT_FAIL("bucket %u starts at %" PRIu64 " after %" PRIu64, i, lo, prev_hi);
		if (perf_hist_index(lo) != i || perf_hist_index(hi) != i)
			HT_FAIL("bucket %u: index(lo)=%u index(hi)=%u", i, perf_hist_index(lo),
			        perf_hist_index(hi));
		/* the midpoint is within 1/128 of every value in the bucket */
		if ((mid - lo) * 128 > lo || (hi - mid) * 128 > lo)
			HT_FAIL("bucket %u [%" PRIu64 ", %" PRIu64 "] mid %" PRIu64 " too coarse",
			        i, lo, hi, mid);
		prev_hi = hi;
	}
	HT_CHECK_U64(prev_hi, PERF_HIST_MAX_VALUE);
	HT_CHECK_U64(perf_hist_index(PERF_HIST_MAX_VALUE + 1), PERF_HIST_NBUCKETS);
	HT_CHECK_U64(perf_hist_index(UINT64_MAX), PERF_HIST_NBUCKETS);
	HT_CHECK(sizeof(struct perf_hist) < 18 * 1024);
}

static void pct_uniform(void)
{
	uint64_t seed = 1;

	for (size_t i = 0; i < NV; i++)
		vals[i] = ht_rand_below(&seed, 1000000);
	fill_check("uniform", vals, NV);
}

/* Exponential-ish, integer only: a geometric power of two times a uniform. */
static void pct_exponential(void)
{
	uint64_t seed = 2;

	for (size_t i = 0; i < NV; i++) {
		uint64_t r = ht_rand(&seed), g = (uint64_t)__builtin_ctzll(r | (1ULL << 24));

		vals[i] = (500ULL << g) + ht_rand_below(&seed, 500ULL << g);
	}
	fill_check("exponential", vals, NV);
}

static void pct_bimodal(void)
{
	uint64_t seed = 3;

	for (size_t i = 0; i < NV; i++) {
		if (ht_rand_below(&seed, 10) == 0)
			vals[i] = 480000 + ht_rand_below(&seed, 40000);
		else
			vals[i] = 1900 + ht_rand_below(&seed, 200);
	}
	fill_check("bimodal", vals, NV);
}

static void pct_small_exact(void)
{
	uint64_t seed = 4;

	for (size_t i = 0; i < NV; i++)
		vals[i] = ht_rand_below(&seed, 128);
	fill_check("small", vals, NV);
}

static void pct_adversarial(void)
{
	size_t n;

	for (n = 0; n < 1000; n++)
		vals[n] = 12345;
	fill_check("all-equal", vals, n);
	for (n = 0; n < 1000; n++)
		vals[n] = 0;
	fill_check("all-zero", vals, n);
	vals[0] = 7;
	fill_check("single", vals, 1);

	n = 0;
	for (int rep = 0; rep < 20; rep++)
		for (int k = 0; k < 40; k++)
			vals[n++] = 1ULL << k;
	fill_check("powers-of-two", vals, n);

	n = 0;
	for (int k = 1; k <= 40; k++) {
		vals[n++] = (1ULL << k) - 1;
		vals[n++] = 1ULL << k;
		vals[n++] = (1ULL << k) + 1;
	}
	fill_check("bucket-edges", vals, n);

	n = 0;
	for (int i = 0; i < 1000; i++)
		vals[n++] = PERF_HIST_MAX_VALUE - (uint64_t)i * 1000003;
	fill_check("huge", vals, n);

	/* half beyond the histogram's range: their percentiles are the max */
	n = 0;
	for (int i = 0; i < 500; i++) {
		vals[n++] = 1000 + (uint64_t)i;
		vals[n++] = UINT64_MAX - 5;
	}
	{
		static struct perf_hist h;

		perf_hist_init(&h);
		for (size_t i = 0; i < n; i++)
			perf_hist_add(&h, vals[i]);
		HT_CHECK_U64(h.overflow, 500);
		HT_CHECK_U64(perf_hist_percentile(&h, 100000), UINT64_MAX - 5);
		HT_CHECK_U64(perf_hist_percentile(&h, 99000), UINT64_MAX - 5);
		HT_CHECK_U64(perf_hist_percentile(&h, 0), 1000);
		check_pcts("half-overflow", &h, vals, n);
	}
}

/* Merging per-CPU histograms gives exactly the histogram of all values. */
static void merge_equals_all(void)
{
	static struct perf_hist cpu[4], merged, all;
	uint64_t seed = 5;

	perf_hist_init(&merged);
	perf_hist_init(&all);
	for (int c = 0; c < 4; c++)
		perf_hist_init(&cpu[c]);
	for (size_t i = 0; i < NV; i++) {
		int c = (int)ht_rand_below(&seed, 4);
		uint64_t v = ht_rand_below(&seed, 1000ULL << (c * 8));

		vals[i] = v;
		perf_hist_add(&cpu[c], v);
		perf_hist_add(&all, v);
	}
	for (int c = 0; c < 4; c++)
		perf_hist_merge(&merged, &cpu[c]);
	HT_CHECK(memcmp(&merged, &all, sizeof(all)) == 0);
	check_pcts("merged", &merged, vals, NV);
	/* merging an empty histogram changes nothing */
	perf_hist_init(&cpu[0]);
	perf_hist_merge(&merged, &cpu[0]);
	HT_CHECK(memcmp(&merged, &all, sizeof(all)) == 0);
}

static void add_n_equals_repeated_add(void)
{
	static struct perf_hist a, b;

	perf_hist_init(&a);
	perf_hist_init(&b);
	for (int i = 0; i < 300; i++)
		perf_hist_add(&a, 4242);
	perf_hist_add_n(&b, 4242, 300);
	perf_hist_add_n(&b, 1, 0);
	HT_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

static void iterate_buckets(void)
{
	static struct perf_hist h;
	struct perf_hist_iter it;
	struct perf_hist_bucket b;
	uint64_t seed = 6, sum = 0, prev_hi = 0, nb = 0;
	bool first = true, saw_overflow = false;

	perf_hist_init(&h);
	perf_hist_iter_init(&it, &h);
	HT_CHECK(!perf_hist_iter_next(&it, &b));
	for (int i = 0; i < 10000; i++)
		perf_hist_add(&h, ht_rand_below(&seed, 1ULL << (i % 41)));
	perf_hist_add(&h, 1ULL << 50);
	perf_hist_iter_init(&it, &h);
	while (perf_hist_iter_next(&it, &b)) {
		HT_CHECK(b.count > 0);
		HT_CHECK(b.lo <= b.hi);
		if (!first && b.lo <= prev_hi)
			HT_FAIL("bucket [%" PRIu64 ", %" PRIu64 "] out of order", b.lo, b.hi);
		if (b.index == PERF_HIST_NBUCKETS) {
			saw_overflow = true;
			HT_CHECK_U64(b.hi, 1ULL << 50);
		}
		first = false;
		prev_hi = b.hi;
		sum += b.count;
		nb++;
	}
	HT_CHECK(saw_overflow);
	HT_CHECK_U64(sum, perf_hist_count(&h));
	HT_CHECK(nb > 100);
}

static void empty_histogram(void)
{
	static struct perf_hist h;

	perf_hist_init(&h);
	HT_CHECK_U64(perf_hist_count(&h), 0);
	HT_CHECK_U64(perf_hist_percentile(&h, 50000), 0);
	HT_CHECK_U64(perf_hist_percentile(&h, 100000), 0);
}

static const struct ht_case cases[] = {
	HT_CASE(geometry_contiguous), HT_CASE(pct_uniform),
	HT_CASE(pct_exponential),     HT_CASE(pct_bimodal),
	HT_CASE(pct_small_exact),     HT_CASE(pct_adversarial),
	HT_CASE(merge_equals_all),    HT_CASE(add_n_equals_repeated_add),
	HT_CASE(iterate_buckets),     HT_CASE(empty_histogram),
};

int main(void)
{
	return ht_main(cases, HT_NCASES(cases));
}
