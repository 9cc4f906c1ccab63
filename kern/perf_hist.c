/*
 * perf_hist.c - log-linear histogram (HdrHistogram-like) with exact min/max.
 *
 * Bucket index of v (S = PERF_HIST_SUB = 64, s = PERF_HIST_SUB_BITS = 6):
 *
 *	v < 2S:			index = v			(width 1)
 *	2^e <= v < 2^(e+1):	index = (e - s) * S + (v >> (e - s))	(width 2^(e-s))
 *
 * v >> (e - s) lies in [S, 2S), so the octaves follow each other without a
 * gap: index 128 is value 128, index 192 is value 256, and so on.  Within an
 * octave a bucket is 2^e / S wide, so its midpoint is within 2^e / 2S of any
 * value in it: a relative error of at most 1/128 (0.78%), the same for all
 * octaves.  Percentiles use the nearest-rank definition; the lowest and
 * highest ranks return the exact min and max, and every answer is clamped to
 * [min, max], so a distribution of equal values is reported exactly.
 */
#include "kern/perf_hist.h"

#include "kern/perf_libc.h"

/* perf_hist_init - empty histogram. */
void perf_hist_init(struct perf_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/* perf_hist_bucket_lo - smallest value of bucket index (< PERF_HIST_NBUCKETS). */
uint64_t perf_hist_bucket_lo(uint32_t index)
{
	unsigned shift;

	if (index < 2 * PERF_HIST_SUB)
		return index;
	shift = index / PERF_HIST_SUB - 1;
	return (uint64_t)(index % PERF_HIST_SUB + PERF_HIST_SUB) << shift;
}

/* perf_hist_bucket_hi - largest value of bucket index (inclusive). */
uint64_t perf_hist_bucket_hi(uint32_t index)
{
	if (index < 2 * PERF_HIST_SUB)
		return index;
	return perf_hist_bucket_lo(index) + (1ULL << (index / PERF_HIST_SUB - 1)) - 1;
}

/* perf_hist_bucket_mid - the value reported for bucket index. */
uint64_t perf_hist_bucket_mid(uint32_t index)
{
	uint64_t lo = perf_hist_bucket_lo(index);

	return lo + (perf_hist_bucket_hi(index) - lo + 1) / 2;
}

/* perf_hist_add_n - record n occurrences of value v. */
void perf_hist_add_n(struct perf_hist *h, uint64_t v, uint64_t n)
{
	uint32_t i;

	if (n == 0)
		return;
	i = perf_hist_index(v);
	if (i == PERF_HIST_NBUCKETS)
		h->overflow += n;
	else
		h->counts[i] += n;
	h->total += n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* perf_hist_add - record one value. */
void perf_hist_add(struct perf_hist *h, uint64_t v)
{
	perf_hist_add_n(h, v, 1);
}

/* perf_hist_merge - dst += src (src unchanged).  Exact: same geometry. */
void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src)
{
	for (uint32_t i = 0; i < PERF_HIST_NBUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->overflow += src->overflow;
	dst->total += src->total;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t perf_hist_count(const struct perf_hist *h)
{
	return h->total;
}

/*
 * perf_hist_percentile - the value at percentile pcm (parts per 100000;
 * values above 100000 mean 100000) by nearest rank: the value of rank
 * ceil(pcm * n / 100000), at least 1.  0 for an empty histogram.
 */
uint64_t perf_hist_percentile(const struct perf_hist *h, uint32_t pcm)
{
	uint64_t n = h->total, rank, cum = 0, v;

	if (n == 0)
		return 0;
	if (pcm > PERF_HIST_PCT_SCALE)
		pcm = PERF_HIST_PCT_SCALE;
	/* ceil(pcm * n / SCALE) without a 128-bit product or division */
	rank = (n / PERF_HIST_PCT_SCALE) * pcm +
	       ((n % PERF_HIST_PCT_SCALE) * pcm + PERF_HIST_PCT_SCALE - 1) / PERF_HIST_PCT_SCALE;
	if (rank <= 1)
		return h->min;
	if (rank >= n)
		return h->max;
	for (uint32_t i = 0; i < PERF_HIST_NBUCKETS; i++) {
		cum += h->counts[i];
		if (cum >= rank) {
			v = perf_hist_bucket_mid(i);
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max; /* rank falls among the overflow values */
}

/* perf_hist_iter_init - start iterating over the non-empty buckets of h. */
void perf_hist_iter_init(struct perf_hist_iter *it, const struct perf_hist *h)
{
	it->h = h;
	it->next = 0;
}

/*
 * perf_hist_iter_next - next non-empty bucket in increasing value order,
 * the overflow bin last (lo = 2^40, hi = the exact max).  False at the end.
 */
bool perf_hist_iter_next(struct perf_hist_iter *it, struct perf_hist_bucket *b)
{
	const struct perf_hist *h = it->h;

	while (it->next < PERF_HIST_NBUCKETS) {
		uint32_t i = it->next++;

		if (h->counts[i] != 0) {
			b->lo = perf_hist_bucket_lo(i);
			b->hi = perf_hist_bucket_hi(i);
			b->count = h->counts[i];
			b->index = i;
			return true;
		}
	}
	if (it->next == PERF_HIST_NBUCKETS) {
		it->next++;
		if (h->overflow != 0) {
			b->lo = PERF_HIST_MAX_VALUE + 1;
			b->hi = h->max;
			b->count = h->overflow;
			b->index = PERF_HIST_NBUCKETS;
			return true;
		}
	}
	return false;
}
