/*
 * Host unit tests of kern/perf_stats.c (exact mean/variance against a
 * long double two-pass reference, merge, extremes, export) and of
 * kern/perf_ratelimit.c.
 */
#include <stdbool.h>
#include <string.h>

#include "kern/perf_ratelimit.h"
#include "kern/perf_stats.h"
#include "tests/host/htest.h"

#define NV 50000

static uint64_t vals[NV];

/*
 * |got - want| <= 1 unit + relative 1e-12 (long double has 64 mantissa
 * bits), or got saturated at UINT64_MAX if want does not fit.
 */
static void near(const char *what, uint64_t got, long double want)
{
	long double d = (long double)got - want;

	if (want >= 18446744073709551615.0L) {
		if (got != UINT64_MAX)
			HT_FAIL("%s: got %" PRIu64 ", expected saturation", what, got);
		return;
	}
	if (d < 0)
		d = -d;
	if (d > 1.0L + want * 1e-12L)
		HT_FAIL("%s: got %" PRIu64 ", reference %.3Lf", what, got, want);
}

/* Two-pass reference in long double. */
static void check_against_reference(const char *what, const uint64_t *v, size_t n)
{
	struct perf_stats s;
	long double mean = 0, m2 = 0;

	perf_stats_init(&s);
	for (size_t i = 0; i < n; i++) {
		perf_stats_add(&s, v[i]);
		mean += v[i];
	}
	mean /= n;
	for (size_t i = 0; i < n; i++)
		m2 += ((long double)v[i] - mean) * ((long double)v[i] - mean);
	HT_CHECK_U64(s.count, n);
	near(what, perf_stats_mean(&s, 1), mean);
	near(what, perf_stats_mean(&s, 1000), mean * 1000);
	near(what, perf_stats_variance(&s, 1, false, NULL), m2 / n);
	near(what, perf_stats_variance(&s, 1000, false, NULL), m2 * 1000 / n);
	if (n > 1)
		near(what, perf_stats_variance(&s, 1, true, NULL), m2 / (n - 1));
	near(what, perf_stats_stddev(&s, 1000, false), 1000 * __builtin_sqrtl(m2 / n));
}

static void variance_matches_two_pass(void)
{
	uint64_t seed = 11;

	for (size_t i = 0; i < NV; i++)
		vals[i] = ht_rand_below(&seed, 1000000);
	check_against_reference("uniform", vals, NV);
	for (size_t i = 0; i < NV; i++)
		vals[i] = (1ULL << 39) + ht_rand_below(&seed, 1000);
	check_against_reference("large-offset", vals, NV);
	for (size_t i = 0; i < NV; i++)
		vals[i] = ht_rand_below(&seed, 1ULL << (i % 41));
	check_against_reference("wide", vals, NV);
	for (size_t i = 0; i < NV; i++)
		vals[i] = (i & 1) ? 10 : 1000000000;
	check_against_reference("two-point", vals, NV);
	vals[0] = 5;
	check_against_reference("single", vals, 1);
}

/* Small cases worked by hand: exact rounding. */
static void exact_small_cases(void)
{
	struct perf_stats s;
	bool sat = false;

	perf_stats_init(&s);
	HT_CHECK_U64(perf_stats_mean(&s, 1000), 0);
	HT_CHECK_U64(perf_stats_variance(&s, 1, false, NULL), 0);
	for (uint64_t v = 1; v <= 4; v++)
		perf_stats_add(&s, v);
	HT_CHECK_U64(perf_stats_mean(&s, 1), 3); /* 2.5 rounds up */
	HT_CHECK_U64(perf_stats_mean(&s, 1000), 2500);
	HT_CHECK_U64(perf_stats_variance(&s, 1, false, &sat), 1); /* 1.25 */
	HT_CHECK_U64(perf_stats_variance(&s, 1000, false, &sat), 1250);
	HT_CHECK_U64(perf_stats_variance(&s, 1000, true, &sat), 1667); /* 5/3 */
	HT_CHECK_U64(perf_stats_stddev(&s, 1000, false), 1118);        /* 1.1180 */
	HT_CHECK(!sat);
	HT_CHECK_U64(s.min, 1);
	HT_CHECK_U64(s.max, 4);
}

/* Sums beyond 64 bits and squares beyond 128 bits stay exact. */
static void extremes_exact(void)
{
	struct perf_stats s;
	bool sat = false;

	perf_stats_init(&s);
	for (int i = 0; i < 1000; i++)
		perf_stats_add(&s, UINT64_MAX);
	HT_CHECK_U64(perf_stats_mean(&s, 1), UINT64_MAX);
	HT_CHECK_U64(perf_stats_variance(&s, 1, false, &sat), 0);
	HT_CHECK(!sat);
	HT_CHECK_U64(s.sumsq_hi, 999); /* 1000 (2^64-1)^2 = 999 * 2^128 + ... */

	perf_stats_init(&s);
	perf_stats_add(&s, 0);
	perf_stats_add(&s, UINT64_MAX);
	HT_CHECK_U64(perf_stats_mean(&s, 1), 1ULL << 63);    /* 2^63 - 0.5 rounds up */
	HT_CHECK_U64(perf_stats_mean(&s, 1000), UINT64_MAX); /* saturates */
	HT_CHECK_U64(perf_stats_variance(&s, 1, false, &sat), UINT64_MAX);
	HT_CHECK(sat);
	HT_CHECK_U64(perf_stats_stddev(&s, 1, false), (1ULL << 63) - 1); /* (2^64-1)/2 */
}

static void merge_equals_all(void)
{
	struct perf_stats cpu[3], merged, all;
	uint64_t seed = 12;

	perf_stats_init(&merged);
	perf_stats_init(&all);
	for (int c = 0; c < 3; c++)
		perf_stats_init(&cpu[c]);
	for (int i = 0; i < NV; i++) {
		uint64_t v = ht_rand(&seed) >> (ht_rand_below(&seed, 64));
		int c = (int)ht_rand_below(&seed, 3);

		perf_stats_add(&cpu[c], v);
		perf_stats_add(&all, v);
	}
	for (int c = 0; c < 3; c++)
		perf_stats_merge(&merged, &cpu[c]);
	HT_CHECK(memcmp(&merged, &all, sizeof(all)) == 0);
	HT_CHECK_U64(perf_stats_variance(&merged, 1, true, NULL),
	             perf_stats_variance(&all, 1, true, NULL));
}

static void export_fills_user_stats(void)
{
	struct perf_stats s;
	static struct perf_hist h;
	struct perf_event_stats es;

	perf_stats_init(&s);
	perf_hist_init(&h);
	for (uint64_t v = 1; v <= 1000; v++) {
		perf_stats_add(&s, v * 100);
		perf_hist_add(&h, v * 100);
	}
	perf_stats_export(&s, &h, 2000000000ULL, PERF_EVENT_IPC_SEND, &es);
	HT_CHECK_U64(es.event, PERF_EVENT_IPC_SEND);
	HT_CHECK_U64(es.count, 1000);
	HT_CHECK_U64(es.min_ns, 100);
	HT_CHECK_U64(es.max_ns, 100000);
	HT_CHECK_U64(es.sum_ns, 50050000);
	HT_CHECK_U64(es.mean_mns, 50050000);
	HT_CHECK_U64(es.variance_ns2, 833332500); /* 100^2 (1000^2 - 1) / 12 */
	HT_CHECK_U64(es.stddev_mns, 28867499);
	HT_CHECK(es.p50_ns >= 49500 && es.p50_ns <= 50500);
	HT_CHECK(es.p99_ns >= 98010 && es.p99_ns <= 99990);
	HT_CHECK(es.p999_ns >= 99120 && es.p999_ns <= 100000);
	HT_CHECK_U64(es.rate_mhz, 500000); /* 1000 events in 2 s */
	HT_CHECK_U64(es.flags, 0);
	perf_stats_init(&s);
	perf_stats_export(&s, NULL, 0, PERF_EVENT_VM_FREE, &es);
	HT_CHECK_U64(es.count, 0);
	HT_CHECK_U64(es.min_ns, 0);
	HT_CHECK_U64(es.rate_mhz, 0);
}

static void ratelimit_rejects_bad_rates(void)
{
	struct perf_ratelimit rl;

	HT_CHECK(!perf_ratelimit_init(&rl, 99, 1, 0));
	HT_CHECK(!perf_ratelimit_init(&rl, 5001, 1, 0));
	HT_CHECK(perf_ratelimit_init(&rl, 100, 1, 0));
	HT_CHECK(perf_ratelimit_init(&rl, 5000, 1, 0));
	HT_CHECK(perf_ratelimit_init(&rl, PERF_RATELIMIT_UNLIMITED, 0, 0));
}

/* Events every 10 us for 10 s: allowed = burst + rate * 10 (within 1). */
static void ratelimit_sustained_rate(void)
{
	static const uint32_t rates[] = { 100, 300, 1000, 2000, 5000 };

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct perf_ratelimit rl;
		uint64_t allowed = 0, t0 = 123456789, n = 0;

		perf_ratelimit_init(&rl, rates[i], 10, t0);
		for (uint64_t t = t0; t < t0 + 10000000000ULL; t += 10000, n++)
			allowed += perf_ratelimit_allow(&rl, t);
		if (allowed + 1 < 10 + 10ULL * rates[i] || allowed > 11 + 10ULL * rates[i])
			HT_FAIL("rate %u: allowed %" PRIu64, rates[i], allowed);
		HT_CHECK_U64(rl.allowed, allowed);
		HT_CHECK_U64(rl.allowed + rl.limited, n);
	}
}

static void ratelimit_burst_and_idle(void)
{
	struct perf_ratelimit rl;
	uint64_t t = 1000000000ULL;
	int k = 0;

	perf_ratelimit_init(&rl, 1000, 5, t);
	while (perf_ratelimit_allow(&rl, t))
		k++;
	HT_CHECK_U64(k, 5); /* a full bucket lets a burst through at once */
	HT_CHECK(!perf_ratelimit_allow(&rl, t + 999999));
	HT_CHECK(perf_ratelimit_allow(&rl, t + 1000000)); /* one token per ms */
	/* a long idle period refills to the burst, not beyond */
	t += 60000000000ULL;
	for (k = 0; perf_ratelimit_allow(&rl, t); k++)
		;
	HT_CHECK_U64(k, 5);
	/* a clock stepping back gains nothing */
	HT_CHECK(!perf_ratelimit_allow(&rl, t - 5000000000ULL));
}

static void ratelimit_unlimited(void)
{
	struct perf_ratelimit rl;

	perf_ratelimit_init(&rl, PERF_RATELIMIT_UNLIMITED, 0, 0);
	for (int i = 0; i < 100000; i++)
		HT_CHECK(perf_ratelimit_allow(&rl, 5));
	HT_CHECK_U64(rl.allowed, 100000);
	HT_CHECK_U64(rl.limited, 0);
}

/* The engine's inline, non-atomic variant decides exactly like the atomic one. */
static void ratelimit_excl_matches(void)
{
	static const uint32_t rates[] = { PERF_RATELIMIT_UNLIMITED, 100, 777, 5000 };
	uint64_t seed = 42;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct perf_ratelimit a, b;
		uint64_t t = 5000000;

		perf_ratelimit_init(&a, rates[i], 7, t);
		perf_ratelimit_init(&b, rates[i], 7, t);
		for (int k = 0; k < 200000; k++) {
			/* mostly forward, in bursts, sometimes a step back */
			uint64_t r = ht_rand(&seed);

			t += (r & 3) == 0 ? ht_rand_below(&seed, 3000000)
			                  : ht_rand_below(&seed, 2000);
			if ((r & 0xff) == 1)
				t -= ht_rand_below(&seed, 1000000);
			if (perf_ratelimit_allow(&a, t) != perf_ratelimit_allow_excl(&b, t)) {
				HT_FAIL("rate %u: decisions differ at event %d", rates[i], k);
				break;
			}
		}
		HT_CHECK_U64(a.limited, b.limited);
		HT_CHECK_U64(b.allowed, 0); /* the exclusive variant counts only limited */
		HT_CHECK_U64((uint64_t)a.next, (uint64_t)b.next);
	}
}

static const struct ht_case cases[] = {
	HT_CASE(variance_matches_two_pass),
	HT_CASE(exact_small_cases),
	HT_CASE(extremes_exact),
	HT_CASE(merge_equals_all),
	HT_CASE(export_fills_user_stats),
	HT_CASE(ratelimit_rejects_bad_rates),
	HT_CASE(ratelimit_sustained_rate),
	HT_CASE(ratelimit_burst_and_idle),
	HT_CASE(ratelimit_unlimited),
	HT_CASE(ratelimit_excl_matches),
};

int main(void)
{
	return ht_main(cases, HT_NCASES(cases));
}
