/*
 * perf_stats.c - exact mean and variance without floating point.
 *
 * Recording keeps only integer sums: n, S = sum(x), Q = sum(x^2).  With x
 * below 2^64, S fits in 128 bits for any n < 2^64 and Q in 192 bits, so
 * nothing ever overflows or rounds while recording, and merging per-CPU
 * accumulators is plain addition.  At read time
 *
 *	mean              = S / n
 *	population var    = (n Q - S^2) / n^2
 *	sample var        = (n Q - S^2) / (n (n - 1))
 *
 * are evaluated in 256-bit integers (kern/perf_wide.h) and rounded once, to
 * the nearest unit of the caller's scale.  The numerator n Q - S^2 is
 * n^2 times the exact population variance, so it is never negative.
 */
#include "kern/perf_stats.h"

#include "kern/perf_libc.h"

/* perf_stats_init - empty accumulator. */
void perf_stats_init(struct perf_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->min = UINT64_MAX;
}

/* perf_stats_merge - dst += src (src unchanged). */
void perf_stats_merge(struct perf_stats *dst, const struct perf_stats *src)
{
	dst->count += src->count;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->sum += src->sum;
	dst->sumsq_lo += src->sumsq_lo;
	dst->sumsq_hi += src->sumsq_hi + (dst->sumsq_lo < src->sumsq_lo);
}

/*
 * a * m / d, rounded to nearest or down; falls back to floor(a / d) * m when
 * a * m would not fit (the answer then saturates any 64-bit result anyway).
 */
static struct perf_u256 st_scaled(struct perf_u256 a, uint64_t m, struct perf_u256 d, bool round)
{
	int mbits = m == 0 ? 0 : 64 - __builtin_clzll(m);

	if (perf_u256_bits(a) + mbits <= 255) {
		a = perf_u256_mul64(a, m);
		return round ? perf_u256_div_round(a, d) : perf_u256_divmod(a, d, NULL);
	}
	a = perf_u256_divmod(a, d, NULL);
	if (perf_u256_bits(a) + mbits > 255) {
		struct perf_u256 inf = { { ~0ULL, ~0ULL, ~0ULL, ~0ULL } };

		return inf;
	}
	return perf_u256_mul64(a, m);
}

/* perf_stats_mean - mean * scale, rounded to nearest; 0 when empty. */
uint64_t perf_stats_mean(const struct perf_stats *s, uint32_t scale)
{
	struct perf_u256 n = perf_u256_from128(s->count);

	if (s->count == 0)
		return 0;
	return perf_u256_to64_sat(st_scaled(perf_u256_from128(s->sum), scale, n, true), NULL);
}

/* perf_stats_var_num - n Q - S^2 = n^2 * (population variance), exactly. */
struct perf_u256 perf_stats_var_num(const struct perf_stats *s)
{
	struct perf_u256 q = { { (uint64_t)s->sumsq_lo, (uint64_t)(s->sumsq_lo >> 64), s->sumsq_hi,
		                 0 } };

	return perf_u256_sub(perf_u256_mul64(q, s->count), perf_u256_mul128(s->sum, s->sum));
}

static struct perf_u256 st_var_den(const struct perf_stats *s, bool sample)
{
	return perf_u256_mul128(s->count, sample ? s->count - 1 : s->count);
}

/*
 * perf_stats_variance - variance * scale, rounded to nearest; population
 * (divide by n) or sample (n - 1).  Saturates at UINT64_MAX, setting
 * *saturated if given.  0 with fewer than 1 (population) or 2 (sample) values.
 */
uint64_t perf_stats_variance(const struct perf_stats *s, uint32_t scale, bool sample,
                             bool *saturated)
{
	if (s->count < (sample ? 2u : 1u))
		return 0;
	return perf_u256_to64_sat(
	    st_scaled(perf_stats_var_num(s), scale, st_var_den(s, sample), true), saturated);
}

/* perf_stats_stddev - floor(sqrt(variance) * scale); saturates at UINT64_MAX. */
uint64_t perf_stats_stddev(const struct perf_stats *s, uint32_t scale, bool sample)
{
	struct perf_u256 v;

	if (s->count < (sample ? 2u : 1u))
		return 0;
	/* floor(sqrt(floor(y))) == floor(sqrt(y)) for y = var * scale^2 */
	v = st_scaled(perf_stats_var_num(s), (uint64_t)scale * scale, st_var_den(s, sample), false);
	if (v.w[2] | v.w[3])
		return UINT64_MAX;
	return perf_isqrt128(perf_u256_to128_sat(v));
}

/*
 * perf_stats_export - fill the user-visible statistics of one event from
 * its exact accumulator s and its histogram h (may be NULL: no percentiles)
 * over a measured interval of interval_ns.
 */
void perf_stats_export(const struct perf_stats *s, const struct perf_hist *h, uint64_t interval_ns,
                       uint32_t event, struct perf_event_stats *out)
{
	bool sat = false;

	memset(out, 0, sizeof(*out));
	out->event = event;
	out->count = s->count;
	out->min_ns = s->count ? s->min : 0;
	out->max_ns = s->max;
	if (s->sum > UINT64_MAX) {
		out->sum_ns = UINT64_MAX;
		out->flags |= PERF_STATS_F_SUM_SAT;
	} else {
		out->sum_ns = (uint64_t)s->sum;
	}
	out->mean_mns = perf_stats_mean(s, 1000);
	out->variance_ns2 = perf_stats_variance(s, 1, false, &sat);
	if (sat)
		out->flags |= PERF_STATS_F_VAR_SAT;
	out->stddev_mns = perf_stats_stddev(s, 1000, false);
	if (h != NULL) {
		out->p50_ns = perf_hist_percentile(h, 50000);
		out->p90_ns = perf_hist_percentile(h, 90000);
		out->p95_ns = perf_hist_percentile(h, 95000);
		out->p99_ns = perf_hist_percentile(h, 99000);
		out->p999_ns = perf_hist_percentile(h, 99900);
		if (h->overflow)
			out->flags |= PERF_STATS_F_HIST_OVF;
	}
	out->interval_ns = interval_ns;
	if (interval_ns != 0) {
		/* events/s * 1000 = count * 10^12 / interval_ns */
		struct perf_u256 r = perf_u256_div_round(
		    perf_u256_mul128(s->count, 1000000000000ULL), perf_u256_from128(interval_ns));

		out->rate_mhz = perf_u256_to64_sat(r, NULL);
	}
}
