/*
 * perf_baseline.c - baselines (a snapshot of every event's statistics and
 * histogram), their export format, and regression checks against them.
 *
 * Export format, version 1
 * ------------------------
 * A flat byte string, every integer little endian, no padding, so that a
 * host program can read it with nothing but this description:
 *
 *   header, 64 bytes
 *	 0 u32 magic        0x4c42504d ("MPBL")
 *	 4 u16 version      1
 *	 6 u16 header_size  64
 *	 8 u32 flags        bit 0: measured under icount (values are instructions)
 *	12 u32 nevents      PERF_EVENT_MAX (12)
 *	16 u32 sub_bits     histogram geometry: PERF_HIST_SUB_BITS (6)
 *	20 u32 max_bits     ... PERF_HIST_MAX_BITS (40)
 *	24 u64 tsc_hz       TSC frequency of the machine that measured it
 *	32 u64 interval_ns  recording time the snapshot covers
 *	40 u64 size         of the whole string, header included
 *	48 u32 crc32        CRC-32 (IEEE 802.3, as zlib's) of the whole string
 *	                    computed with this field set to 0
 *	52 u32 0, 56 u64 0  reserved
 *   then for each event id 0..nevents-1, in order, 72 bytes
 *	 0 u32 event        its id
 *	 4 u32 nbins        non-empty histogram bins that follow
 *	 8 u64 count, 16 u64 min, 24 u64 max   (empty: 0, UINT64_MAX, 0)
 *	32 u64 sum[2]       sum of values, 128 bits, low word first
 *	48 u64 sumsq[3]     sum of squares, 192 bits, low word first
 *   followed by nbins bins of 12 bytes, in increasing index order
 *	 0 u32 index        perf_hist bucket, PERF_HIST_NBUCKETS for overflow
 *	 4 u64 count        not 0
 *
 * Import checks everything before it changes anything: magic, version,
 * sizes, geometry, checksum, event order, bins sorted, in range, non-zero
 * and adding up to count, the first and last bins being min's and max's,
 * and the sums possible for count values in [min, max] (variance >= 0).
 * Any failure is KERN_INVALID_ARGUMENT and leaves the baseline as it was.
 */
#include <stddef.h>

#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/perf_analysis.h"
#include "kern/perf_internal.h"
#include "kern/perf_regress.h"
#include "kern/perf_wide.h"
#include "kern/string.h"
#include "x86_64/tsc.h"

#define PB_MAGIC 0x4c42504du
#define PB_VERSION 1u
#define PB_HDR 64u
#define PB_EVENT 72u
#define PB_BIN 12u
#define PB_F_ICOUNT 0x1u
#define PB_CRC_OFF 48u
#define PB_MAX_PCT 1000u

struct pb_baseline {
	bool valid;
	bool icount;
	uint64_t tsc_hz;
	uint64_t interval_ns;
	struct perf_stats st[PERF_EVENT_MAX];
	struct perf_hist h[PERF_EVENT_MAX];
};

static struct pb_baseline *pb_base; /* [I] the pointer, [m] the contents */

void pa_baseline_init(void)
{
	pb_base = kalloc(sizeof(*pb_base));
	if (pb_base == NULL)
		panic("pa_baseline_init: no memory for the baseline");
	memset(pb_base, 0, sizeof(*pb_base));
}

bool pa_baseline_is_set(void)
{
	return pb_base != NULL && pb_base->valid;
}

kern_return_t perf_set_baseline(void)
{
	if (pb_base == NULL)
		return KERN_FAILURE;
	pa_lock();
	for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++)
		pa_merge_event(ev, &pb_base->st[ev], &pb_base->h[ev]);
	pb_base->icount = pa_icount;
	pb_base->tsc_hz = tsc_hz();
	pb_base->interval_ns = pa_interval_ns();
	pb_base->valid = true;
	pa_unlock();
	return KERN_SUCCESS;
}

/* ---- byte order helpers and the checksum ---- */

static void pb_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void pb_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t pb_get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t pb_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* CRC-32 of b[0..n), with the 4 bytes at skip counted as zeros. */
static uint32_t pb_crc32(const uint8_t *b, size_t n, size_t skip)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= i - skip < 4 ? 0 : b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* ---- export ---- */

static uint32_t pb_nbins(const struct perf_hist *h)
{
	uint32_t n = h->overflow != 0;

	for (uint32_t i = 0; i < PERF_HIST_NBUCKETS; i++)
		n += h->counts[i] != 0;
	return n;
}

static size_t pb_size(void)
{
	size_t size = PB_HDR;

	for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++)
		size += PB_EVENT + (size_t)PB_BIN * pb_nbins(&pb_base->h[ev]);
	return size;
}

static uint8_t *pb_put_bin(uint8_t *p, uint32_t index, uint64_t count)
{
	pb_put32(p, index);
	pb_put64(p + 4, count);
	return p + PB_BIN;
}

kern_return_t perf_baseline_export(void *buf, size_t size, size_t *len)
{
	uint8_t *b = buf, *p;
	size_t need;

	if (len == NULL)
		return KERN_INVALID_ARGUMENT;
	if (pb_base == NULL)
		return KERN_FAILURE;
	pa_lock();
	if (!pb_base->valid) {
		pa_unlock();
		return KERN_FAILURE;
	}
	need = pb_size();
	*len = need;
	if (buf == NULL || size < need) {
		pa_unlock();
		return KERN_INVALID_ARGUMENT;
	}
	memset(b, 0, PB_HDR);
	pb_put32(b, PB_MAGIC);
	b[4] = PB_VERSION & 0xff;
	b[5] = PB_VERSION >> 8;
	b[6] = PB_HDR & 0xff;
	b[7] = PB_HDR >> 8;
	pb_put32(b + 8, pb_base->icount ? PB_F_ICOUNT : 0);
	pb_put32(b + 12, PERF_EVENT_MAX);
	pb_put32(b + 16, PERF_HIST_SUB_BITS);
	pb_put32(b + 20, PERF_HIST_MAX_BITS);
	pb_put64(b + 24, pb_base->tsc_hz);
	pb_put64(b + 32, pb_base->interval_ns);
	pb_put64(b + 40, need);
	p = b + PB_HDR;
	for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++) {
		const struct perf_stats *s = &pb_base->st[ev];
		const struct perf_hist *h = &pb_base->h[ev];

		pb_put32(p, ev);
		pb_put32(p + 4, pb_nbins(h));
		pb_put64(p + 8, s->count);
		pb_put64(p + 16, s->min);
		pb_put64(p + 24, s->max);
		pb_put64(p + 32, (uint64_t)s->sum);
		pb_put64(p + 40, (uint64_t)(s->sum >> 64));
		pb_put64(p + 48, (uint64_t)s->sumsq_lo);
		pb_put64(p + 56, (uint64_t)(s->sumsq_lo >> 64));
		pb_put64(p + 64, s->sumsq_hi);
		p += PB_EVENT;
		for (uint32_t i = 0; i < PERF_HIST_NBUCKETS; i++)
			if (h->counts[i] != 0)
				p = pb_put_bin(p, i, h->counts[i]);
		if (h->overflow != 0)
			p = pb_put_bin(p, PERF_HIST_NBUCKETS, h->overflow);
	}
	if ((size_t)(p - b) != need)
		panic("perf_baseline_export: wrote %lu bytes of %lu", (size_t)(p - b), need);
	pb_put32(b + PB_CRC_OFF, pb_crc32(b, need, PB_CRC_OFF));
	pa_unlock();
	return KERN_SUCCESS;
}

/* ---- import ---- */

/* One event's fixed part, decoded. */
static void pb_get_stats(const uint8_t *p, struct perf_stats *s)
{
	s->count = pb_get64(p + 8);
	s->min = pb_get64(p + 16);
	s->max = pb_get64(p + 24);
	s->sum = (perf_u128)pb_get64(p + 40) << 64 | pb_get64(p + 32);
	s->sumsq_lo = (perf_u128)pb_get64(p + 56) << 64 | pb_get64(p + 48);
	s->sumsq_hi = pb_get64(p + 64);
}

/* Are the sums possible for s->count values in [min, max]?  count > 0. */
static bool pb_sums_ok(const struct perf_stats *s)
{
	struct perf_u256 q = { { (uint64_t)s->sumsq_lo, (uint64_t)(s->sumsq_lo >> 64), s->sumsq_hi,
		                 0 } };
	struct perf_u256 lo = perf_u256_mul128((perf_u128)s->min * s->min, s->count);
	struct perf_u256 hi = perf_u256_mul128((perf_u128)s->max * s->max, s->count);

	if (s->sum < (perf_u128)s->min * s->count || s->sum > (perf_u128)s->max * s->count)
		return false;
	if (perf_u256_cmp(q, lo) < 0 || perf_u256_cmp(q, hi) > 0)
		return false;
	/* n Q >= S^2: the variance is not negative */
	return perf_u256_cmp(perf_u256_mul64(q, s->count), perf_u256_mul128(s->sum, s->sum)) >= 0;
}

static uint32_t pb_bin_of(uint64_t v)
{
	return perf_hist_index(v); /* PERF_HIST_NBUCKETS for an overflow value */
}

/*
 * Checks one event's section at b[*off..len); on success advances *off,
 * and with apply set stores it into the baseline.
 */
static bool pb_event(const uint8_t *b, size_t len, size_t *off, uint32_t ev, bool apply)
{
	const uint8_t *p = b + *off;
	struct perf_stats s;
	uint32_t nbins, prev = 0;
	uint64_t total = 0;

	if (len - *off < PB_EVENT || pb_get32(p) != ev)
		return false;
	nbins = pb_get32(p + 4);
	if (nbins > PERF_HIST_NBUCKETS + 1 || (len - *off - PB_EVENT) / PB_BIN < nbins)
		return false;
	pb_get_stats(p, &s);
	if (s.count == 0) {
		if (nbins != 0 || s.min != UINT64_MAX || s.max != 0 || s.sum != 0 ||
		    s.sumsq_lo != 0 || s.sumsq_hi != 0)
			return false;
	} else if (nbins == 0 || s.min > s.max || !pb_sums_ok(&s)) {
		return false;
	}
	p += PB_EVENT;
	for (uint32_t k = 0; k < nbins; k++, p += PB_BIN) {
		uint32_t index = pb_get32(p);
		uint64_t count = pb_get64(p + 4);

		if (index > PERF_HIST_NBUCKETS || (k > 0 && index <= prev) || count == 0 ||
		    count > s.count - total)
			return false;
		if ((k == 0 && index != pb_bin_of(s.min)) ||
		    (k == nbins - 1 && index != pb_bin_of(s.max)))
			return false;
		total += count;
		prev = index;
	}
	if (total != s.count)
		return false;
	if (apply) {
		struct perf_hist *h = &pb_base->h[ev];

		pb_base->st[ev] = s;
		perf_hist_init(h);
		h->total = s.count;
		h->min = s.min;
		h->max = s.max;
		p = b + *off + PB_EVENT;
		for (uint32_t k = 0; k < nbins; k++, p += PB_BIN) {
			uint32_t index = pb_get32(p);

			if (index == PERF_HIST_NBUCKETS)
				h->overflow = pb_get64(p + 4);
			else
				h->counts[index] = pb_get64(p + 4);
		}
	}
	*off += PB_EVENT + (size_t)PB_BIN * nbins;
	return true;
}

/* Validates (apply false) or loads (apply true) a whole exported string. */
static bool pb_parse(const uint8_t *b, size_t len, bool apply)
{
	size_t off = PB_HDR;

	if (len < PB_HDR || pb_get32(b) != PB_MAGIC)
		return false;
	if ((b[4] | b[5] << 8) != PB_VERSION || (b[6] | b[7] << 8) != PB_HDR)
		return false;
	if ((pb_get32(b + 8) & ~PB_F_ICOUNT) != 0 || pb_get32(b + 12) != PERF_EVENT_MAX ||
	    pb_get32(b + 16) != PERF_HIST_SUB_BITS || pb_get32(b + 20) != PERF_HIST_MAX_BITS)
		return false;
	if (pb_get64(b + 40) != len || pb_get32(b + 52) != 0 || pb_get64(b + 56) != 0)
		return false;
	if (pb_get32(b + PB_CRC_OFF) != pb_crc32(b, len, PB_CRC_OFF))
		return false;
	for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++)
		if (!pb_event(b, len, &off, ev, apply))
			return false;
	if (off != len)
		return false;
	if (apply) {
		pb_base->icount = (pb_get32(b + 8) & PB_F_ICOUNT) != 0;
		pb_base->tsc_hz = pb_get64(b + 24);
		pb_base->interval_ns = pb_get64(b + 32);
		pb_base->valid = true;
	}
	return true;
}

kern_return_t perf_baseline_import(const void *buf, size_t len)
{
	if (buf == NULL)
		return KERN_INVALID_ARGUMENT;
	if (pb_base == NULL)
		return KERN_FAILURE;
	pa_lock();
	if (!pb_parse(buf, len, false)) {
		pa_unlock();
		return KERN_INVALID_ARGUMENT;
	}
	pb_parse(buf, len, true);
	pa_unlock();
	return KERN_SUCCESS;
}

/* ---- regressions ---- */

kern_return_t perf_check_regression(uint32_t event, uint32_t threshold_pct,
                                    struct perf_regress_verdict *out)
{
	struct perf_regress_params p;
	struct perf_stats st;

	if (event >= PERF_EVENT_MAX || threshold_pct > PB_MAX_PCT || out == NULL)
		return KERN_INVALID_ARGUMENT;
	if (pb_base == NULL)
		return KERN_FAILURE;
	pa_lock();
	if (!pb_base->valid || pb_base->icount != pa_icount) {
		pa_unlock();
		return KERN_FAILURE;
	}
	pa_merge_event(event, &st, &pa_hist_tmp);
	perf_regress_params_default(&p, pa_icount ? PERF_REGRESS_EXACT : PERF_REGRESS_STATISTICAL);
	p.threshold_bp = threshold_pct * 100;
	perf_regress_compare(&p, &pb_base->st[event], &pb_base->h[event], &st, &pa_hist_tmp, out);
	pa_unlock();
	return KERN_SUCCESS;
}
