/*
 * TSC calibration, conversion and the icount probe.
 *
 * Conversion.  ns = cycles * 10^9 / hz is done as (cycles * mult) >> shift
 * with a 128-bit product, where mult = ceil(10^9 * 2^shift / hz) is scaled
 * into [2^62, 2^63) for 62 significant bits.  mult itself is computed once
 * by shift-and-subtract long division in 64-bit registers, because the
 * kernel has no libgcc (__udivti3) for a 128-bit division.
 *
 * The icount probe.  Under QEMU -icount the TSC is QEMU's virtual clock,
 * which advances 2^shift ns per guest instruction: the rdtsc delta across
 * a fixed loop is then a pure function of the instruction count, the same
 * on every run.  Under plain TCG the TSC is the host's TSC, so the delta
 * is host time and jitters by at least a few cycles between runs.  The
 * probe times a short and a long loop twice each (after a warm-up run that
 * pays for translation) and calls it icount only if
 *   - both pairs of deltas are identical to the cycle,
 *   - long - short is exactly (2^shift) x the extra instructions, and
 *   - the short delta is its instruction count plus at most 8 instructions.
 * All three holding by chance on host time is not a realistic event.
 *
 * Calibration.  Under plain TCG a PIT access takes QEMU's big lock and the
 * host may deschedule QEMU at any point, so "spin until the PIT's output
 * rises, then read the TSC" can overshoot by milliseconds on a busy host.
 * Instead the PIT count is read between two rdtscs, a few times, and the
 * narrowest bracket kept, at both ends of the window: the error is then
 * the width of an undisturbed bracket (microseconds), whatever happened
 * in between.
 */
#include "kern/clock.h"
#include "kern/panic.h"
#include "x86_64/cpu.h"
#include "x86_64/pit.h"
#include "x86_64/tsc.h"

#define NS_PER_SEC 1000000000ull

/* Bracketed PIT reads per sample; the longest window leaves room for them. */
#define TSC_PIT_TRIES 5
#define TSC_PIT_MAX_WINDOW 0xc000

static struct tsc_scale tsc_ns_scale;  /* [I] cycles -> ns */
static struct tsc_scale tsc_cyc_scale; /* [I] ns -> cycles */
static uint64_t tsc_freq;              /* [I] Hz, 0 until tsc_init */
static uint64_t tsc_zero;              /* [I] TSC at tsc_init */

void tsc_scale_init(struct tsc_scale *s, uint64_t from_hz, uint64_t to_hz)
{
	if (from_hz == 0 || from_hz > (1ull << 62) || to_hz == 0 || to_hz > (1ull << 62))
		panic("tsc_scale_init: bad rates %lu -> %lu", from_hz, to_hz);

	/* q = floor(to * 2^shift / from), one quotient bit per step. */
	uint64_t q = to_hz / from_hz, r = to_hz % from_hz;
	uint32_t shift = 0;

	while (q < (1ull << 62) && shift < 63) {
		r <<= 1; /* r < from <= 2^62: no overflow */
		q <<= 1;
		if (r >= from_hz) {
			r -= from_hz;
			q |= 1;
		}
		shift++;
	}
	if (r != 0)
		q++; /* round up: exact results stay exact */
	s->mult = q;
	s->shift = shift;
}

uint64_t tsc_scale_apply(const struct tsc_scale *s, uint64_t in)
{
	unsigned __int128 p = (unsigned __int128)in * s->mult;

	p >>= s->shift;
	return p >> 64 ? UINT64_MAX : (uint64_t)p;
}

/*
 * rdtsc delta across n iterations of a two-instruction loop: 2n + 4
 * instructions (shl, or, mov, the loop, the second rdtsc).
 */
static uint64_t tsc_time_loop(uint64_t n)
{
	uint64_t t0, t1, hi;

	__asm__ volatile("rdtsc\n\t"
	                 "shl $32, %%rdx\n\t"
	                 "or %%rdx, %%rax\n\t"
	                 "mov %%rax, %[t0]\n"
	                 "1:\n\t"
	                 "dec %[n]\n\t"
	                 "jnz 1b\n\t"
	                 "rdtsc\n\t"
	                 : [t0] "=&r"(t0), [n] "+r"(n), "=a"(t1), "=&d"(hi)
	                 :
	                 : "cc");
	return ((hi << 32) | (t1 & 0xffffffffu)) - t0;
}

#define PROBE_SHORT 1000
#define PROBE_LONG 3000
#define PROBE_SLACK 8
#define PROBE_MAX_SHIFT 10

bool tsc_probe_icount(struct tsc_icount_probe *p)
{
	unsigned long flags = intr_save();

	(void)tsc_time_loop(PROBE_LONG);
	p->delta[0] = tsc_time_loop(PROBE_SHORT);
	p->delta[1] = tsc_time_loop(PROBE_LONG);
	p->delta[2] = tsc_time_loop(PROBE_SHORT);
	p->delta[3] = tsc_time_loop(PROBE_LONG);
	intr_restore(flags);

	p->loop_insns = 2 * (PROBE_LONG - PROBE_SHORT);
	p->icount = false;
	p->shift = 0;
	if (p->delta[0] != p->delta[2] || p->delta[1] != p->delta[3] || p->delta[1] < p->delta[0])
		return false;
	for (uint32_t shift = 0; shift <= PROBE_MAX_SHIFT; shift++) {
		uint64_t unit = 1ull << shift;
		uint64_t base = unit * 2 * PROBE_SHORT;

		if (p->delta[1] - p->delta[0] == unit * p->loop_insns && p->delta[0] >= base &&
		    p->delta[0] - base <= unit * PROBE_SLACK) {
			p->icount = true;
			p->shift = shift;
			break;
		}
	}
	return p->icount;
}

/* A PIT count and when it was read: between tsc and tsc + width. */
struct tsc_pit_sample {
	uint64_t tsc, width;
	uint16_t count;
};

/* The best bracketed PIT read of a few: the one least disturbed. */
static struct tsc_pit_sample tsc_pit_sample(void)
{
	struct tsc_pit_sample best = { 0, UINT64_MAX, 0 };

	for (int i = 0; i < TSC_PIT_TRIES; i++) {
		uint64_t a = rdtsc();
		uint16_t c = pit_read_count();
		uint64_t b = rdtsc();

		if (b - a < best.width) {
			best.tsc = a;
			best.width = b - a;
			best.count = c;
		}
	}
	return best;
}

uint64_t tsc_measure_pit(uint16_t pit_count)
{
	if (pit_count == 0 || pit_count > TSC_PIT_MAX_WINDOW)
		panic("tsc_measure_pit: %u PIT clocks", pit_count);

	unsigned long flags = intr_save();

	/* Counting down from 0xffff; wait for the first decrement (the load). */
	pit_oneshot_start(0xffff);
	while (pit_read_count() == 0xffff)
		;
	struct tsc_pit_sample s = tsc_pit_sample();

	while ((uint16_t)(s.count - pit_read_count()) < pit_count)
		;
	struct tsc_pit_sample e = tsc_pit_sample();

	intr_restore(flags);
	/* Bracket midpoints, over the PIT clocks that really passed. */
	uint64_t dtsc = (e.tsc + e.width / 2) - (s.tsc + s.width / 2);
	uint16_t dpit = (uint16_t)(s.count - e.count);

	return dtsc * pit_count / dpit;
}

uint64_t tsc_calibrate(unsigned samples, uint16_t pit_count)
{
	uint64_t hz[9];

	if (samples < 1 || samples > 9 || pit_count == 0)
		panic("tsc_calibrate: %u samples of %u PIT clocks", samples, pit_count);
	for (unsigned i = 0; i < samples; i++) {
		uint64_t h = tsc_measure_pit(pit_count) * PIT_HZ / pit_count;
		unsigned j = i;

		for (; j > 0 && hz[j - 1] > h; j--)
			hz[j] = hz[j - 1];
		hz[j] = h;
	}
	return hz[samples / 2];
}

void tsc_init(uint64_t hz)
{
	tsc_scale_init(&tsc_ns_scale, hz, NS_PER_SEC);
	tsc_scale_init(&tsc_cyc_scale, NS_PER_SEC, hz);
	tsc_zero = rdtsc();
	tsc_freq = hz;
}

uint64_t tsc_hz(void)
{
	return tsc_freq;
}

uint64_t tsc_boot(void)
{
	return tsc_zero;
}

uint64_t tsc_to_ns(uint64_t cycles)
{
	return tsc_scale_apply(&tsc_ns_scale, cycles);
}

uint64_t tsc_from_ns(uint64_t ns)
{
	return tsc_scale_apply(&tsc_cyc_scale, ns);
}

/* Declared in kern/clock.h: the portable clock's time source. */
uint64_t clock_ns(void)
{
	return tsc_freq ? tsc_to_ns(rdtsc() - tsc_zero) : 0;
}
