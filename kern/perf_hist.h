/*
 * Fixed-memory, mergeable log-linear histogram of u64 values (ns or icount).
 *
 * Geometry (the same for every histogram, so any two merge bucket by bucket):
 * values below 2 * PERF_HIST_SUB (128) have a bucket each; every power of two
 * [2^e, 2^(e+1)) above is split into PERF_HIST_SUB (64) equal buckets, up to
 * 2^PERF_HIST_MAX_BITS (2^40 ns, about 18 minutes).  A bucket is reported by
 * its midpoint, which is within 1/128 (0.78%) of any value in it.  Larger
 * values are counted in an overflow bin and reported as the exact maximum.
 *
 * Memory: PERF_HIST_NBUCKETS (2240) 64-bit counts, 17.9 KB per histogram.
 * Not internally synchronized: keep one per CPU (or per lock) and merge.
 */
#ifndef KERN_PERF_HIST_H
#define KERN_PERF_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define PERF_HIST_SUB_BITS 6
#define PERF_HIST_SUB (1u << PERF_HIST_SUB_BITS)
#define PERF_HIST_MAX_BITS 40
#define PERF_HIST_NBUCKETS ((PERF_HIST_MAX_BITS - PERF_HIST_SUB_BITS + 1) * PERF_HIST_SUB)
#define PERF_HIST_MAX_VALUE ((1ULL << PERF_HIST_MAX_BITS) - 1)

/* Percentiles are given in parts per 100000: 50000 = p50, 99900 = p99.9. */
#define PERF_HIST_PCT_SCALE 100000u

struct perf_hist {
	uint64_t total;    /* values added, including overflow */
	uint64_t overflow; /* values above PERF_HIST_MAX_VALUE */
	uint64_t min;      /* exact; UINT64_MAX when empty */
	uint64_t max;      /* exact; 0 when empty */
	uint64_t counts[PERF_HIST_NBUCKETS];
};

/* One non-empty bucket: values in [lo, hi] (inclusive), count of them. */
struct perf_hist_bucket {
	uint64_t lo;
	uint64_t hi;
	uint64_t count;
	uint32_t index; /* PERF_HIST_NBUCKETS for the overflow bin */
};

struct perf_hist_iter {
	const struct perf_hist *h;
	uint32_t next;
};

void perf_hist_init(struct perf_hist *h);
void perf_hist_add(struct perf_hist *h, uint64_t v);
void perf_hist_add_n(struct perf_hist *h, uint64_t v, uint64_t n);
void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src);
uint64_t perf_hist_count(const struct perf_hist *h);
uint64_t perf_hist_percentile(const struct perf_hist *h, uint32_t pcm);

/*
 * perf_hist_index - bucket of v; PERF_HIST_NBUCKETS if v overflows.
 * Inline: the engine calls it on every timed event.
 */
static inline uint32_t perf_hist_index(uint64_t v)
{
	unsigned e;

	if (v < 2 * PERF_HIST_SUB)
		return (uint32_t)v;
	if (v > PERF_HIST_MAX_VALUE)
		return PERF_HIST_NBUCKETS;
	e = 63 - (unsigned)__builtin_clzll(v);
	return (uint32_t)((e - PERF_HIST_SUB_BITS) * PERF_HIST_SUB +
	                  (v >> (e - PERF_HIST_SUB_BITS)));
}

uint64_t perf_hist_bucket_lo(uint32_t index);
uint64_t perf_hist_bucket_hi(uint32_t index);
uint64_t perf_hist_bucket_mid(uint32_t index);

void perf_hist_iter_init(struct perf_hist_iter *it, const struct perf_hist *h);
bool perf_hist_iter_next(struct perf_hist_iter *it, struct perf_hist_bucket *b);

#endif /* KERN_PERF_HIST_H */
