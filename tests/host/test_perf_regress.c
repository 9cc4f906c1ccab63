/*
 * Host unit tests of kern/perf_regress.c: verdicts on synthetic
 * distributions (a 10% shift is detected, identical or noisy-but-same is
 * not), the Mann-Whitney z against a long double rank-sum reference, and
 * the exact (icount) mode.
 */
#include <stdbool.h>
#include <string.h>

#include "kern/perf_regress.h"
#include "tests/host/htest.h"

struct side {
	struct perf_stats s;
	struct perf_hist h;
};

static struct side base, cur;

static void side_init(struct side *d)
{
	perf_stats_init(&d->s);
	perf_hist_init(&d->h);
}

static void side_add(struct side *d, uint64_t v)
{
	perf_stats_add(&d->s, v);
	perf_hist_add(&d->h, v);
}

/* A noisy latency: level + up to 20% jitter, 1% outliers at 3x. */
static uint64_t noisy(uint64_t *seed, uint64_t level)
{
	uint64_t v = level + ht_rand_below(seed, level / 5);

	if (ht_rand_below(seed, 100) == 0)
		v *= 3;
	return v;
}

/* Fill base with n noisy values and cur with n noisy values scaled by num/den. */
static void gen(uint64_t seed_b, uint64_t seed_c, size_t n, uint64_t num, uint64_t den)
{
	side_init(&base);
	side_init(&cur);
	for (size_t i = 0; i < n; i++) {
		side_add(&base, noisy(&seed_b, 10000));
		side_add(&cur, noisy(&seed_c, 10000) * num / den);
	}
}

static void verdict(const struct perf_regress_params *p, struct perf_regress_verdict *v)
{
	perf_regress_compare(p, &base.s, &base.h, &cur.s, &cur.h, v);
}

static void show(const struct perf_regress_verdict *v)
{
	printf("# %s: mean %+" PRId64 " p50 %+" PRId64 " p95 %+" PRId64 " p99 %+" PRId64
	       " bp, z %+" PRId64 "/1000, auc %u ppm\n",
	       perf_regress_reason_name(v->reason), v->mean_change_bp, v->p50_change_bp,
	       v->p95_change_bp, v->p99_change_bp, v->z_milli, v->auc_ppm);
}

static void identical_not_detected(void)
{
	struct perf_regress_params p;
	struct perf_regress_verdict v;

	perf_regress_params_default(&p, PERF_REGRESS_STATISTICAL);
	gen(1, 1, 20000, 1, 1);
	verdict(&p, &v);
	HT_CHECK(!v.regressed);
	HT_CHECK_U64(v.reason, PERF_REGRESS_R_NO_CHANGE);
	HT_CHECK_I64(v.mean_change_bp, 0);
	HT_CHECK_I64(v.p95_change_bp, 0);
	HT_CHECK_I64(v.z_milli, 0);
	HT_CHECK_U64(v.auc_ppm, 500000);
	HT_CHECK_U64(v.n_base, 20000);
}

static void shifted_10pct_detected(void)
{
	struct perf_regress_params p;
	struct perf_regress_verdict v;

	perf_regress_params_default(&p, PERF_REGRESS_STATISTICAL);
	gen(2, 3, 20000, 110, 100);
	verdict(&p, &v);
	show(&v);
	HT_CHECK(v.regressed);
	HT_CHECK_U64(v.reason, PERF_REGRESS_R_SLOWER);
	HT_CHECK(v.mean_change_bp > 950 && v.mean_change_bp < 1050);
	HT_CHECK(v.p95_change_bp > 850 && v.p95_change_bp < 1150);
	HT_CHECK(v.z_milli > 50000);
	HT_CHECK(v.auc_ppm > 600000);
}

static void noisy_but_same_not_detected(void)
{
	struct perf_regress_params p;
	struct perf_regress_verdict v;
	int sig = 0;

	perf_regress_params_default(&p, PERF_REGRESS_STATISTICAL);
	for (uint64_t k = 0; k < 40; k++) {
		gen(100 + k, 200 + k, 5000, 1, 1);
		verdict(&p, &v);
		if (v.regressed)
			HT_FAIL("pair %" PRIu64 " flagged", k);
		if (v.reason != PERF_REGRESS_R_NO_CHANGE)
			sig++;
		if (v.mean_change_bp > 300 || v.mean_change_bp < -300)
			HT_FAIL("pair %" PRIu64 ": mean change %" PRId64, k, v.mean_change_bp);
	}
	printf("# %d of 40 same-distribution pairs significant at z 2.576\n", sig);
	HT_CHECK(sig <= 3);
}

static void improvement_not_regression(void)
{
	struct perf_regress_params p;
	struct perf_regress_verdict v;

	perf_regress_params_default(&p, PERF_REGRESS_STATISTICAL);
	gen(4, 5, 20000, 90, 100);
	verdict(&p, &v);
	HT_CHECK(!v.regressed);
	HT_CHECK_U64(v.reason, PERF_REGRESS_R_IMPROVED);
	HT_CHECK(v.mean_change_bp < -900);
	HT_CHECK(v.z_milli < -50000);
}

/* Significant but tiny: the noise floor / threshold keeps it from failing CI. */
static void small_shift_below_floor(void)
{
	struct perf_regress_params p;
	struct perf_regress_verdict v;

	perf_regress_params_default(&p, PERF_REGRESS_STATISTICAL);
	gen(6, 7, 100000, 101, 100);
	verdict(&p, &v);
	show(&v);
	HT_CHECK(!v.regressed);
	HT_CHECK_U64(v.reason, PERF_REGRESS_R_BELOW_FLOOR);
	/* lowering the threshold under the change makes it a regression */
	p.threshold_bp = 50;
	p.noise_floor_bp = 50;
	verdict(&p, &v);
	HT_CHECK(v.regressed);
}

/* Nine repetitions per side, as the harness runs benchmarks. */
static void nine_repetitions(void)
{
	struct perf_regress_params p;
	struct perf_regress_verdict v;
	uint64_t sb = 8, sc = 9;

	perf_regress_params_default(&p, PERF_REGRESS_STATISTICAL);
	side_init(&base);
	side_init(&cur);
	for (int i = 0; i < 9; i++) {
		side_add(&base, 98000 + ht_rand_below(&sb, 4000));
		side_add(&cur, 108000 + ht_rand_below(&sc, 4000));
	}
	verdict(&p, &v);
	show(&v);
	HT_CHECK(v.regressed);
	HT_CHECK(v.z_milli > 3500); /* full separation of 9 vs 9: z = 3.576 */

	side_init(&cur);
	for (int i = 0; i < 9; i++)
		side_add(&cur, 98000 + ht_rand_below(&sc, 4000));
	verdict(&p, &v);
	HT_CHECK(!v.regressed);

	side_init(&cur);
	for (int i = 0; i < 8; i++)
		side_add(&cur, 200000);
	verdict(&p, &v);
	HT_CHECK(!v.regressed);
	HT_CHECK_U64(v.reason, PERF_REGRESS_R_TOO_FEW);
}

/* Deterministic (icount) runs: any change beyond the threshold counts. */
static void exact_mode(void)
{
	struct perf_regress_params p;
	struct perf_regress_verdict v;

	perf_regress_params_default(&p, PERF_REGRESS_EXACT);
	HT_CHECK_U64(p.threshold_bp, 0);
	gen(10, 10, 1000, 1, 1);
	verdict(&p, &v);
	HT_CHECK(!v.regressed);
	HT_CHECK_U64(v.reason, PERF_REGRESS_R_EXACT_WITHIN);

	/* every value one instruction slower: +0.1% of the mean */
	side_init(&cur);
	{
		uint64_t s = 10;

		for (int i = 0; i < 1000; i++)
			side_add(&cur, noisy(&s, 10000) + 11);
	}
	verdict(&p, &v);
	HT_CHECK(v.regressed);
	HT_CHECK_U64(v.reason, PERF_REGRESS_R_EXACT_SLOWER);
	p.threshold_bp = 50;
	verdict(&p, &v);
	HT_CHECK(!v.regressed);

	/* only the tail doubles: the mean moves < 5%, p99 by ~100% */
	side_init(&base);
	side_init(&cur);
	for (uint64_t i = 0; i < 1000; i++) {
		side_add(&base, 10000 + i);
		side_add(&cur, i >= 985 ? 2 * (10000 + i) : 10000 + i);
	}
	p.threshold_bp = 500;
	verdict(&p, &v);
	show(&v);
	HT_CHECK(v.mean_change_bp < 500);
	HT_CHECK(v.regressed);

	side_init(&cur);
	verdict(&p, &v);
	HT_CHECK_U64(v.reason, PERF_REGRESS_R_TOO_FEW);
}

struct lv {
	uint64_t key;
	int cur;
};

static int cmp_lv(const void *a, const void *b)
{
	uint64_t x = ((const struct lv *)a)->key, y = ((const struct lv *)b)->key;

	return x < y ? -1 : x > y;
}

/*
 * z from midranks of the raw samples (ties: same histogram bucket), in long
 * double, against the integer computation from the two histograms.
 */
static void mw_matches_rank_sum(void)
{
	static struct lv all[6000];
	uint64_t seed = 20;

	for (int trial = 0; trial < 6; trial++) {
		size_t n1 = 1000 + (size_t)trial * 300, n2 = 1500, n = n1 + n2, i, j;
		uint64_t range = trial < 3 ? 100 : 1000000; /* exact buckets, then log */
		long double r2 = 0, ties = 0, u, mu, sigma, z;
		struct perf_regress_mw mw;

		side_init(&base);
		side_init(&cur);
		for (i = 0; i < n; i++) {
			bool c = i >= n1;
			uint64_t v = ht_rand_below(&seed, range) + (c ? range / 50 * trial : 0);

			side_add(c ? &cur : &base, v);
			all[i].key = perf_hist_index(v);
			all[i].cur = c;
		}
		qsort(all, n, sizeof(all[0]), cmp_lv);
		for (i = 0; i < n; i = j) {
			long double mid, t;

			for (j = i; j < n && all[j].key == all[i].key; j++)
				;
			t = (long double)(j - i);
			mid = ((long double)i + 1 + (long double)j) / 2;
			for (size_t k = i; k < j; k++)
				if (all[k].cur)
					r2 += mid;
			ties += t * t * t - t;
		}
		u = r2 - (long double)n2 * (n2 + 1) / 2;
		mu = (long double)n1 * n2 / 2;
		sigma = __builtin_sqrtl((long double)n1 * n2 / 12 *
		                        ((n + 1) - ties / ((long double)n * (n - 1))));
		z = (u - mu) / sigma;
		perf_regress_mann_whitney(&base.h, &cur.h, 2576, &mw);
		if (__builtin_fabsl(z * 1000 - (long double)mw.z_milli) > 1.0L)
			HT_FAIL("trial %d: z %.4Lf, integer z_milli %" PRId64, trial, z,
			        mw.z_milli);
		if (__builtin_fabsl(u / (mu * 2) * 1e6L - mw.auc_ppm) > 1.0L)
			HT_FAIL("trial %d: auc %.1Lf, integer %u", trial, u / (mu * 2) * 1e6L,
			        mw.auc_ppm);
		HT_CHECK(mw.sig == (z >= 2.576L ? 1 : z <= -2.576L ? -1 : 0));
	}
}

static void change_bp_arithmetic(void)
{
	HT_CHECK_I64(perf_regress_change_bp(100, 110), 1000);
	HT_CHECK_I64(perf_regress_change_bp(100, 90), -1000);
	HT_CHECK_I64(perf_regress_change_bp(3, 4), 3333);
	HT_CHECK_I64(perf_regress_change_bp(3, 2), -3333);
	HT_CHECK_I64(perf_regress_change_bp(6, 7), 1667);
	HT_CHECK_I64(perf_regress_change_bp(0, 0), 0);
	HT_CHECK_I64(perf_regress_change_bp(0, 5), PERF_REGRESS_CHANGE_INF);
	HT_CHECK_I64(perf_regress_change_bp(UINT64_MAX, 0), -10000);
	HT_CHECK(!strcmp(perf_regress_reason_name(PERF_REGRESS_R_SLOWER), "SLOWER"));
	HT_CHECK(!strcmp(perf_regress_reason_name(99), "UNKNOWN"));
}

static const struct ht_case cases[] = {
	HT_CASE(identical_not_detected),
	HT_CASE(shifted_10pct_detected),
	HT_CASE(noisy_but_same_not_detected),
	HT_CASE(improvement_not_regression),
	HT_CASE(small_shift_below_floor),
	HT_CASE(nine_repetitions),
	HT_CASE(exact_mode),
	HT_CASE(mw_matches_rank_sum),
	HT_CASE(change_bp_arithmetic),
};

int main(void)
{
	return ht_main(cases, HT_NCASES(cases));
}
