/*
 * Exact integer statistics of a stream of u64 values: count, min, max, sum
 * (128 bits) and sum of squares (192 bits).  Mean and variance are derived
 * exactly at read time; two accumulators merge by adding their fields.
 * Not internally synchronized: keep one per CPU (or per lock) and merge.
 */
#ifndef KERN_PERF_STATS_H
#define KERN_PERF_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <mach/perf_event.h>

#include "kern/perf_hist.h"
#include "kern/perf_wide.h"

struct perf_stats {
	uint64_t count;
	uint64_t min; /* UINT64_MAX when empty */
	uint64_t max;
	perf_u128 sum;
	perf_u128 sumsq_lo; /* sum of squares = sumsq_hi * 2^128 + sumsq_lo */
	uint64_t sumsq_hi;
};

void perf_stats_init(struct perf_stats *s);

/*
 * perf_stats_add - account one value.  Constant time, no division; inline
 * because the engine calls it on every timed event.
 */
static inline void perf_stats_add(struct perf_stats *s, uint64_t v)
{
	perf_u128 sq = (perf_u128)v * v;

	s->count++;
	if (v < s->min)
		s->min = v;
	if (v > s->max)
		s->max = v;
	s->sum += v;
	s->sumsq_lo += sq;
	s->sumsq_hi += s->sumsq_lo < sq;
}

void perf_stats_merge(struct perf_stats *dst, const struct perf_stats *src);

uint64_t perf_stats_mean(const struct perf_stats *s, uint32_t scale);
uint64_t perf_stats_variance(const struct perf_stats *s, uint32_t scale, bool sample,
                             bool *saturated);
uint64_t perf_stats_stddev(const struct perf_stats *s, uint32_t scale, bool sample);
struct perf_u256 perf_stats_var_num(const struct perf_stats *s);

void perf_stats_export(const struct perf_stats *s, const struct perf_hist *h, uint64_t interval_ns,
                       uint32_t event, struct perf_event_stats *out);

#endif /* KERN_PERF_STATS_H */
