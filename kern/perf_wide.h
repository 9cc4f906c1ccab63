/*
 * 256-bit unsigned integer helpers for the perf engine's exact statistics.
 *
 * Means, variances and the Mann-Whitney normal approximation are computed at
 * read time from exact integer sums whose products exceed 128 bits.  The
 * kernel has no floating point and no libgcc 128-bit division, so these do
 * long division by shift-and-subtract.  They are slow (a few hundred
 * iterations) and meant only for read paths, never for recording.
 */
#ifndef KERN_PERF_WIDE_H
#define KERN_PERF_WIDE_H

#include <stdbool.h>
#include <stdint.h>

typedef unsigned __int128 perf_u128;

/* Little-endian limbs: w[0] is the least significant. */
struct perf_u256 {
	uint64_t w[4];
};

static inline struct perf_u256 perf_u256_from128(perf_u128 v)
{
	struct perf_u256 r = { { (uint64_t)v, (uint64_t)(v >> 64), 0, 0 } };

	return r;
}

static inline bool perf_u256_is_zero(struct perf_u256 a)
{
	return (a.w[0] | a.w[1] | a.w[2] | a.w[3]) == 0;
}

static inline int perf_u256_cmp(struct perf_u256 a, struct perf_u256 b)
{
	for (int i = 3; i >= 0; i--) {
		if (a.w[i] != b.w[i])
			return a.w[i] < b.w[i] ? -1 : 1;
	}
	return 0;
}

static inline struct perf_u256 perf_u256_add(struct perf_u256 a, struct perf_u256 b)
{
	struct perf_u256 r;
	perf_u128 c = 0;

	for (int i = 0; i < 4; i++) {
		c += (perf_u128)a.w[i] + b.w[i];
		r.w[i] = (uint64_t)c;
		c >>= 64;
	}
	return r;
}

/* a - b modulo 2^256; callers make sure a >= b. */
static inline struct perf_u256 perf_u256_sub(struct perf_u256 a, struct perf_u256 b)
{
	struct perf_u256 r;
	uint64_t borrow = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t d = a.w[i] - b.w[i];
		uint64_t nb = (a.w[i] < b.w[i]) || (d < borrow);

		r.w[i] = d - borrow;
		borrow = nb;
	}
	return r;
}

/* a * m modulo 2^256 (callers keep products below 2^256). */
static inline struct perf_u256 perf_u256_mul64(struct perf_u256 a, uint64_t m)
{
	struct perf_u256 r;
	perf_u128 c = 0;

	for (int i = 0; i < 4; i++) {
		c += (perf_u128)a.w[i] * m;
		r.w[i] = (uint64_t)c;
		c >>= 64;
	}
	return r;
}

/* Full 128 x 128 -> 256-bit product. */
static inline struct perf_u256 perf_u256_mul128(perf_u128 a, perf_u128 b)
{
	struct perf_u256 lo = perf_u256_mul64(perf_u256_from128(a), (uint64_t)b);
	struct perf_u256 hi = perf_u256_mul64(perf_u256_from128(a), (uint64_t)(b >> 64));
	struct perf_u256 sh = { { 0, hi.w[0], hi.w[1], hi.w[2] } };

	return perf_u256_add(lo, sh);
}

/* a * b modulo 2^256 (callers keep products below 2^256). */
static inline struct perf_u256 perf_u256_mul(struct perf_u256 a, struct perf_u256 b)
{
	struct perf_u256 r = { { 0, 0, 0, 0 } };

	for (int i = 0; i < 4; i++) {
		struct perf_u256 p = perf_u256_mul64(a, b.w[i]);
		struct perf_u256 sh = { { 0, 0, 0, 0 } };

		for (int j = i; j < 4; j++)
			sh.w[j] = p.w[j - i];
		r = perf_u256_add(r, sh);
	}
	return r;
}

static inline int perf_u256_bits(struct perf_u256 a)
{
	for (int i = 3; i >= 0; i--) {
		if (a.w[i] != 0)
			return i * 64 + 64 - __builtin_clzll(a.w[i]);
	}
	return 0;
}

/*
 * perf_u256_divmod - floor(a / b), remainder in *rem if rem is not NULL.
 * Division by zero returns all ones (a saturated "infinity").
 */
static inline struct perf_u256 perf_u256_divmod(struct perf_u256 a, struct perf_u256 b,
                                                struct perf_u256 *rem)
{
	struct perf_u256 q = { { 0, 0, 0, 0 } };
	struct perf_u256 r = { { 0, 0, 0, 0 } };

	if (perf_u256_is_zero(b)) {
		struct perf_u256 inf = { { ~0ULL, ~0ULL, ~0ULL, ~0ULL } };

		if (rem)
			*rem = r;
		return inf;
	}
	for (int i = perf_u256_bits(a) - 1; i >= 0; i--) {
		uint64_t out = r.w[3] >> 63;

		r.w[3] = (r.w[3] << 1) | (r.w[2] >> 63);
		r.w[2] = (r.w[2] << 1) | (r.w[1] >> 63);
		r.w[1] = (r.w[1] << 1) | (r.w[0] >> 63);
		r.w[0] = (r.w[0] << 1) | ((a.w[i / 64] >> (i % 64)) & 1);
		if (out || perf_u256_cmp(r, b) >= 0) {
			r = perf_u256_sub(r, b);
			q.w[i / 64] |= 1ULL << (i % 64);
		}
	}
	if (rem)
		*rem = r;
	return q;
}

/* round(a / b), half away from zero; b must be non-zero. */
static inline struct perf_u256 perf_u256_div_round(struct perf_u256 a, struct perf_u256 b)
{
	struct perf_u256 rem;
	struct perf_u256 q = perf_u256_divmod(a, b, &rem);
	struct perf_u256 one = { { 1, 0, 0, 0 } };

	/* rem >= b - rem  <=>  2 rem >= b */
	if (perf_u256_cmp(rem, perf_u256_sub(b, rem)) >= 0)
		q = perf_u256_add(q, one);
	return q;
}

static inline uint64_t perf_u256_to64_sat(struct perf_u256 a, bool *sat)
{
	if (a.w[1] | a.w[2] | a.w[3]) {
		if (sat)
			*sat = true;
		return UINT64_MAX;
	}
	return a.w[0];
}

static inline perf_u128 perf_u256_to128_sat(struct perf_u256 a)
{
	if (a.w[2] | a.w[3])
		return ~(perf_u128)0;
	return ((perf_u128)a.w[1] << 64) | a.w[0];
}

/* floor(sqrt(x)) for a 128-bit x. */
static inline uint64_t perf_isqrt128(perf_u128 x)
{
	perf_u128 res = 0;
	perf_u128 one = (perf_u128)1 << 126;

	while (one > x)
		one >>= 2;
	while (one != 0) {
		if (x >= res + one) {
			x -= res + one;
			res = (res >> 1) + one;
		} else {
			res >>= 1;
		}
		one >>= 2;
	}
	return (uint64_t)res;
}

#endif /* KERN_PERF_WIDE_H */
