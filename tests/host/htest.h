/*
 * htest.h - a tiny KTAP-printing harness for host unit tests.
 *
 * Each test program lists its cases in a table and calls ht_main():
 *
 *	static const struct ht_case cases[] = { HT_CASE(ring_wraps), ... };
 *	int main(void) { return ht_main(cases, HT_NCASES(cases)); }
 *
 * and gets KTAP version 1 on stdout ("ok 1 ring_wraps", diagnostics as
 * "# ..." lines) and exit status 0 if every case passed, 1 otherwise.
 * A failed check records the failure and lets the case continue.
 */
#ifndef TESTS_HOST_HTEST_H
#define TESTS_HOST_HTEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct ht_case {
	const char *name;
	void (*fn)(void);
};

#define HT_CASE(fn)                                                                                \
	{                                                                                          \
#fn, fn                                                                            \
	}
#define HT_NCASES(a) (sizeof(a) / sizeof((a)[0]))

static int ht_case_failed;

#define HT_FAIL(...)                                                                               \
	do {                                                                                       \
		printf("# %s:%d: ", __FILE__, __LINE__);                                           \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		ht_case_failed = 1;                                                                \
	} while (0)

#define HT_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			HT_FAIL("check failed: %s", #cond);                                        \
	} while (0)

#define HT_CHECK_U64(a, b)                                                                         \
	do {                                                                                       \
		uint64_t ht_a_ = (uint64_t)(a), ht_b_ = (uint64_t)(b);                             \
		if (ht_a_ != ht_b_)                                                                \
			HT_FAIL("%s == %" PRIu64 ", expected %s == %" PRIu64, #a, ht_a_, #b,       \
			        ht_b_);                                                            \
	} while (0)

#define HT_CHECK_I64(a, b)                                                                         \
	do {                                                                                       \
		int64_t ht_a_ = (int64_t)(a), ht_b_ = (int64_t)(b);                                \
		if (ht_a_ != ht_b_)                                                                \
			HT_FAIL("%s == %" PRId64 ", expected %s == %" PRId64, #a, ht_a_, #b,       \
			        ht_b_);                                                            \
	} while (0)

/* Deterministic PRNG (splitmix64): tests are reproducible run to run. */
static inline uint64_t ht_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (modulo bias is irrelevant here). */
static inline uint64_t ht_rand_below(uint64_t *state, uint64_t n)
{
	return ht_rand(state) % n;
}

static inline int ht_main(const struct ht_case *cases, size_t n)
{
	size_t failed = 0;

	printf("KTAP version 1\n1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		ht_case_failed = 0;
		fflush(stdout);
		cases[i].fn();
		if (ht_case_failed)
			failed++;
		printf("%sok %zu %s\n", ht_case_failed ? "not " : "", i + 1, cases[i].name);
	}
	printf("# %zu passed, %zu failed\n", n - failed, failed);
	return failed ? 1 : 0;
}

#endif /* TESTS_HOST_HTEST_H */
