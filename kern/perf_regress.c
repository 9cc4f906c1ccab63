/*
 * perf_regress.c - regression verdicts that do not flap.
 *
 * What decides
 * ------------
 * STATISTICAL mode (wall clock, noisy).  The current run has regressed iff
 *   1. both sides have at least min_samples values, and
 *   2. the one-sided Mann-Whitney U test says the current values are larger
 *      (z >= z_milli / 1000), and
 *   3. the exact mean grew by at least max(threshold_bp, noise_floor_bp).
 * The U test compares whole distributions, so one outlier cannot trip it;
 * the effect threshold stops a tiny but "significant" shift (likely with
 * millions of events) from failing CI.  Percentile changes are reported but
 * do not decide.
 *
 * EXACT mode (icount: the same binary gives the same figures to the last
 * digit).  Regressed iff the exact mean grew by more than threshold_bp (so
 * threshold 0 means any growth), or p95 or p99 grew by more than
 * threshold_bp + PERF_REGRESS_HIST_SLACK_BP: percentiles are histogram
 * bucket midpoints, and a tiny shift can move one into the next bucket
 * (up to 1/64 of the value).  The U test is reported but does not decide.
 *
 * The U test from histograms
 * --------------------------
 * Both histograms share one bucket geometry, so one pass over the buckets in
 * value order gives, with values in one bucket treated as ties,
 *
 *	2U = sum_i c_i (2 B_i + b_i)	b_i, c_i baseline/current counts of
 *					bucket i, B_i baseline count below i
 *
 * (U counts pairs with current > baseline, ties counting 1/2).  With
 * E = 2U - n1 n2, N = n1 + n2 and the tie term T = sum_i (t_i^3 - t_i),
 * the normal approximation with tie correction is
 *
 *	z^2 = 3 E^2 N (N - 1) / (n1 n2 (N^3 - N - T)),
 *
 * so "z >= zt" is decided exactly, without floating point or square roots,
 * as E > 0 and 3 E^2 N (N-1) 10^6 >= zt_milli^2 n1 n2 (N^3 - N - T), in
 * 256-bit integers.  Those hold for N up to 2^37; beyond, all counts are
 * scaled down by the same power of two first (z changes negligibly).
 */
#include "kern/perf_regress.h"

#include "kern/perf_libc.h"
#include "kern/perf_wide.h"

#define RG_MAX_N (1ULL << 36)
#define RG_Z_MAX 1000000000LL

static const char *const rg_reason_names[] = {
	"NO_CHANGE", "TOO_FEW", "BELOW_FLOOR", "IMPROVED", "SLOWER", "EXACT_WITHIN", "EXACT_SLOWER",
};

/* perf_regress_reason_name - "SLOWER" etc., "UNKNOWN" for a bad code. */
const char *perf_regress_reason_name(uint32_t reason)
{
	if (reason >= sizeof(rg_reason_names) / sizeof(rg_reason_names[0]))
		return "UNKNOWN";
	return rg_reason_names[reason];
}

/*
 * perf_regress_params_default - defaults: 5% threshold, 2% noise floor,
 * z >= 2.576 (one-sided p < 0.005), 9 values per side; exact mode: 0%.
 */
void perf_regress_params_default(struct perf_regress_params *p, enum perf_regress_mode mode)
{
	p->mode = mode;
	p->threshold_bp = mode == PERF_REGRESS_EXACT ? 0 : 500;
	p->noise_floor_bp = 200;
	p->z_milli = 2576;
	p->min_samples = 9;
}

/* Signed 10000 * num / den, num given as magnitude and sign; den > 0. */
static int64_t rg_bp(struct perf_u256 mag, bool neg, struct perf_u256 den)
{
	struct perf_u256 q;
	uint64_t v;

	if (perf_u256_is_zero(den))
		return perf_u256_is_zero(mag)
		           ? 0
		           : (neg ? -PERF_REGRESS_CHANGE_INF : PERF_REGRESS_CHANGE_INF);
	q = perf_u256_div_round(perf_u256_mul64(mag, 10000), den);
	v = perf_u256_to64_sat(q, NULL);
	if (v >= (uint64_t)PERF_REGRESS_CHANGE_INF)
		v = (uint64_t)PERF_REGRESS_CHANGE_INF - 1;
	return neg ? -(int64_t)v : (int64_t)v;
}

/* perf_regress_change_bp - (cur - base) / base in parts per 10000, rounded. */
int64_t perf_regress_change_bp(uint64_t base, uint64_t cur)
{
	bool neg = cur < base;

	return rg_bp(perf_u256_from128(neg ? base - cur : cur - base), neg,
	             perf_u256_from128(base));
}

/* Change of the exact mean: (Sc nb - Sb nc) / (Sb nc). */
static int64_t rg_mean_change(const struct perf_stats *b, const struct perf_stats *c)
{
	struct perf_u256 x = perf_u256_mul128(c->sum, b->count);
	struct perf_u256 y = perf_u256_mul128(b->sum, c->count);
	bool neg = perf_u256_cmp(x, y) < 0;

	return rg_bp(neg ? perf_u256_sub(y, x) : perf_u256_sub(x, y), neg,
	             perf_u256_mul128(b->sum, c->count));
}

static uint64_t rg_count(const struct perf_hist *h, uint32_t i, unsigned shift)
{
	return (i < PERF_HIST_NBUCKETS ? h->counts[i] : h->overflow) >> shift;
}

/*
 * perf_regress_mann_whitney - U test of cur against base (see above).
 * mw->sig is +1 when z >= z_milli / 1000, -1 when z <= -z_milli / 1000.
 */
void perf_regress_mann_whitney(const struct perf_hist *base, const struct perf_hist *cur,
                               uint32_t z_milli, struct perf_regress_mw *mw)
{
	uint64_t n1 = 0, n2 = 0, bcum = 0, N;
	unsigned shift = 0;
	perf_u128 u2 = 0, t3 = 0, n1n2, e, var;
	struct perf_u256 lhs, unit, rhs, q;
	uint32_t i;
	bool neg;

	while ((base->total >> shift) + (cur->total >> shift) > RG_MAX_N)
		shift++;
	for (i = 0; i <= PERF_HIST_NBUCKETS; i++) {
		uint64_t b = rg_count(base, i, shift), c = rg_count(cur, i, shift);
		perf_u128 t = (perf_u128)b + c;

		u2 += (perf_u128)c * (2 * (perf_u128)bcum + b);
		bcum += b;
		n1 += b;
		n2 += c;
		t3 += t * t * t - t;
	}
	mw->z_milli = 0;
	mw->auc_ppm = 500000;
	mw->sig = 0;
	if (n1 == 0 || n2 == 0)
		return;
	N = n1 + n2;
	n1n2 = (perf_u128)n1 * n2;
	mw->auc_ppm = (uint32_t)perf_u256_to64_sat(
	    perf_u256_div_round(perf_u256_mul64(perf_u256_from128(u2), 1000000),
	                        perf_u256_from128(2 * n1n2)),
	    NULL);
	var = (perf_u128)N * N * N - N - t3;
	if (var == 0)
		return; /* every value tied: no evidence either way */
	neg = u2 < n1n2;
	e = neg ? n1n2 - u2 : u2 - n1n2;
	lhs = perf_u256_mul(perf_u256_mul128(e, e), perf_u256_from128((perf_u128)N * (N - 1)));
	lhs = perf_u256_mul64(lhs, 3000000);
	unit = perf_u256_mul128(n1n2, var);
	q = perf_u256_divmod(lhs, unit, NULL);
	{
		uint64_t z = perf_isqrt128(perf_u256_to128_sat(q));

		if (z > RG_Z_MAX)
			z = RG_Z_MAX;
		mw->z_milli = neg ? -(int64_t)z : (int64_t)z;
	}
	rhs = perf_u256_mul64(unit, (uint64_t)z_milli * z_milli);
	if (e != 0 && perf_u256_cmp(lhs, rhs) >= 0)
		mw->sig = neg ? -1 : 1;
}

/*
 * perf_regress_compare - verdict on cur against base (stats for the exact
 * mean, histograms for percentiles and the U test); see "What decides".
 */
void perf_regress_compare(const struct perf_regress_params *p, const struct perf_stats *base_s,
                          const struct perf_hist *base_h, const struct perf_stats *cur_s,
                          const struct perf_hist *cur_h, struct perf_regress_verdict *v)
{
	struct perf_regress_mw mw;
	uint32_t limit;

	memset(v, 0, sizeof(*v));
	v->n_base = base_s->count;
	v->n_cur = cur_s->count;
	v->mean_change_bp = rg_mean_change(base_s, cur_s);
	v->p50_change_bp = perf_regress_change_bp(perf_hist_percentile(base_h, 50000),
	                                          perf_hist_percentile(cur_h, 50000));
	v->p95_change_bp = perf_regress_change_bp(perf_hist_percentile(base_h, 95000),
	                                          perf_hist_percentile(cur_h, 95000));
	v->p99_change_bp = perf_regress_change_bp(perf_hist_percentile(base_h, 99000),
	                                          perf_hist_percentile(cur_h, 99000));
	perf_regress_mann_whitney(base_h, cur_h, p->z_milli, &mw);
	v->z_milli = mw.z_milli;
	v->auc_ppm = mw.auc_ppm;

	if (p->mode == PERF_REGRESS_EXACT) {
		if (v->n_base == 0 || v->n_cur == 0) {
			v->reason = PERF_REGRESS_R_TOO_FEW;
			return;
		}
		int64_t tail = (int64_t)p->threshold_bp + PERF_REGRESS_HIST_SLACK_BP;

		v->regressed = v->mean_change_bp > (int64_t)p->threshold_bp ||
		               v->p95_change_bp > tail || v->p99_change_bp > tail;
		v->reason =
		    v->regressed ? PERF_REGRESS_R_EXACT_SLOWER : PERF_REGRESS_R_EXACT_WITHIN;
		return;
	}

	limit = p->threshold_bp > p->noise_floor_bp ? p->threshold_bp : p->noise_floor_bp;
	if (v->n_base < p->min_samples || v->n_cur < p->min_samples)
		v->reason = PERF_REGRESS_R_TOO_FEW;
	else if (mw.sig < 0)
		v->reason = PERF_REGRESS_R_IMPROVED;
	else if (mw.sig == 0)
		v->reason = PERF_REGRESS_R_NO_CHANGE;
	else if (v->mean_change_bp < (int64_t)limit)
		v->reason = PERF_REGRESS_R_BELOW_FLOOR;
	else
		v->regressed = true;
	if (v->regressed)
		v->reason = PERF_REGRESS_R_SLOWER;
}
