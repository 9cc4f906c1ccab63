/*
 * Suite "timer": the clock (kern/clock.c) and its x86_64 parts (TSC,
 * PIT, LAPIC timer).
 *
 * Bounds depend on the clock mode.  Under icount every figure is a pure
 * function of the instruction stream, so the checks are tight.  Under
 * wall time (plain TCG) the TSC, the PIT and the LAPIC timer all follow
 * host time, but QEMU may be preempted between any two guest
 * instructions on a busy host: the checks use medians and wide bounds
 * that still catch a wrong unit or a factor-of-two error.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kern/clock.h"
#include "kern/ktest.h"
#include "kern/string.h"
#include "x86_64/cpu.h"
#include "x86_64/pit.h"
#include "x86_64/tsc.h"

#define NS_PER_SEC 1000000000ull

/*
 * Tight bounds only when the machine really counts instructions: a
 * "clock=icount" override on a wall-time machine relabels the figures but
 * does not make them exact.
 */
static bool tt_icount(void)
{
	return clock_mode() == CLOCK_MODE_ICOUNT &&
	       clock_calibration()->detected == CLOCK_MODE_ICOUNT;
}

/*
 * How long to wait for n ticks before calling them missing: n periods,
 * plus, under wall time, 200 ms for a host too busy to run QEMU's timers
 * (at 10 kHz, 20 periods are only 2 ms).  Waits end at the ticks, so
 * the slack costs nothing when the ticks come.
 */
static uint64_t tt_deadline(uint64_t n)
{
	return n * (tsc_hz() / clock_hz()) + (tt_icount() ? 0 : tsc_from_ns(200000000));
}

/* Busy-waits (interrupts as they are) until ticks pass target or span cycles elapse. */
static bool tt_wait_ticks(uint64_t target, uint64_t span)
{
	uint64_t t0 = tsc_read();

	while (clock_ticks() < target)
		if (tsc_read() - t0 > span)
			return false;
	return true;
}

/* floor(in * to / from) in 64-bit arithmetic (from * to < 2^64). */
static uint64_t tt_ref_scale(uint64_t in, uint64_t from, uint64_t to)
{
	return in / from * to + in % from * to / from;
}

KTEST(timer, mode_reported)
{
	const struct clock_calibration *cal = clock_calibration();
	struct tsc_icount_probe p;
	bool icount = tsc_probe_icount(&p);

	ktest_diag(kt, "mode %s, detected %s; probe deltas %lu %lu %lu %lu for %lu extra insns",
	           clock_mode_name(), cal->detected == CLOCK_MODE_ICOUNT ? "icount" : "wall",
	           p.delta[0], p.delta[1], p.delta[2], p.delta[3], p.loop_insns);
	KT_EXPECT(kt, clock_mode() == CLOCK_MODE_WALL || clock_mode() == CLOCK_MODE_ICOUNT);
	KT_EXPECT(kt, strcmp(clock_mode_name(), tt_icount() ? "icount" : "wall") == 0);
	/* The probe gives the same answer now as at boot. */
	KT_EXPECT_EQ(kt, icount, cal->detected == CLOCK_MODE_ICOUNT);
	if (icount)
		KT_EXPECT_EQ(kt, p.delta[1] - p.delta[0], p.loop_insns << p.shift);
}

KTEST(timer, scale_math)
{
	struct tsc_scale s;

	tsc_scale_init(&s, NS_PER_SEC, NS_PER_SEC);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 0), 0);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 1), 1);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 1000), 1000);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 1ull << 63), 1ull << 63);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, UINT64_MAX), UINT64_MAX);

	tsc_scale_init(&s, 3 * NS_PER_SEC, NS_PER_SEC);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 3000000000ull), 1000000000ull);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 3), 1);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 2), 0);
	uint64_t big = tsc_scale_apply(&s, 1ull << 63);

	KT_EXPECT(kt, big == 3074457345618258602ull || big == 3074457345618258603ull);

	tsc_scale_init(&s, NS_PER_SEC, 3 * NS_PER_SEC); /* ns -> cycles */
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 1), 3);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, NS_PER_SEC), 3 * NS_PER_SEC);

	/* Slow clock: 10^18 cycles are 10^19 ns; beyond 2^64 ns it saturates. */
	tsc_scale_init(&s, 100000000ull, NS_PER_SEC);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 1000000000000000000ull), 10000000000000000000ull);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, UINT64_MAX), UINT64_MAX);

	tsc_scale_init(&s, 10 * NS_PER_SEC, NS_PER_SEC);
	KT_EXPECT_EQ(kt, tsc_scale_apply(&s, 10 * NS_PER_SEC), NS_PER_SEC);

	/* An awkward rate: never below the exact value, never more than 1 above. */
	const uint64_t hz = 2994300007ull;
	const uint64_t in[] = { 1,
		                999,
		                1000,
		                hz - 1,
		                hz,
		                hz + 1,
		                1000000000000,
		                123456789012345,
		                1ull << 50,
		                1000000000000000000ull,
		                1ull << 62 };

	tsc_scale_init(&s, hz, NS_PER_SEC);
	for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		uint64_t got = tsc_scale_apply(&s, in[i]),
		         ref = tt_ref_scale(in[i], hz, NS_PER_SEC);

		if (!KT_EXPECT(kt, got == ref || got == ref + 1))
			ktest_diag(kt, "%lu cycles at %lu Hz: %lu ns, exact %lu", in[i], hz, got,
			           ref);
	}

	/* Monotonic, and ns -> cycles undoes cycles -> ns to within a ns. */
	struct tsc_scale back;
	bool mono = true, trip = true;

	tsc_scale_init(&back, NS_PER_SEC, hz);
	for (uint64_t base = 1; base < (1ull << 62); base *= 7) {
		uint64_t prev = tsc_scale_apply(&s, base);

		for (uint64_t c = base + 1; c < base + 64; c++) {
			uint64_t ns = tsc_scale_apply(&s, c), cyc = tsc_scale_apply(&back, ns);

			mono &= ns >= prev;
			prev = ns;
			/* ns is within 1 ns of exact; 1 ns is < 3 cycles at this rate. */
			trip &= cyc + 4 >= c && cyc <= c + 4;
		}
	}
	KT_EXPECT(kt, mono);
	KT_EXPECT(kt, trip);
}

KTEST(timer, tsc_frequency_plausible)
{
	const struct clock_calibration *cal = clock_calibration();

	ktest_diag(kt, "tsc %lu Hz (measured %lu Hz), LAPIC timer clock %lu Hz, %u per tick",
	           tsc_hz(), cal->tsc_measured_hz, cal->timer_input_hz, cal->timer_count);
	KT_EXPECT_EQ(kt, tsc_hz(), cal->tsc_hz);
	KT_EXPECT(kt, tsc_hz() >= 100000000ull && tsc_hz() <= 10000000000ull);
	KT_EXPECT(kt, cal->timer_input_hz >= 1000000ull && cal->timer_input_hz <= 10000000000ull);
	if (tt_icount()) {
		/* QEMU's virtual clock: 1 GHz; the PIT agrees to 0.01%. */
		KT_EXPECT_EQ(kt, tsc_hz(), NS_PER_SEC);
		KT_EXPECT(kt, cal->tsc_measured_hz >= NS_PER_SEC - NS_PER_SEC / 10000 &&
		                  cal->tsc_measured_hz <= NS_PER_SEC + NS_PER_SEC / 10000);
		KT_EXPECT_EQ(kt, cal->timer_input_hz % 1000000, 0);
	}
}

KTEST(timer, tsc_matches_pit)
{
	/*
	 * Median of three 10 ms PIT one-shots, timed with the TSC; one under
	 * icount, where they are identical (and slow to emulate: QEMU leaves
	 * its fast path while a timer interrupt waits for interrupts on).
	 */
	const uint16_t count = (PIT_HZ + 50) / 100;
	const int n = tt_icount() ? 1 : 3;
	uint64_t d[3];

	for (int i = 0; i < n; i++) {
		uint64_t v = tsc_measure_pit(count);
		int j = i;

		for (; j > 0 && d[j - 1] > v; j--)
			d[j] = d[j - 1];
		d[j] = v;
	}
	uint64_t expect = tsc_hz() * count / PIT_HZ;
	uint64_t tol = tt_icount() ? expect / 10000 : expect / 10;

	uint64_t med = d[n / 2];

	ktest_diag(kt, "10 ms PIT one-shot: %lu TSC ticks (min %lu max %lu), expected %lu", med,
	           d[0], d[n - 1], expect);
	KT_EXPECT(kt, med + tol >= expect && med <= expect + tol);
}

KTEST(timer, pit_wait_duration)
{
	/* The gate-and-output busy-wait lasts what it is asked: 5 ms. */
	const uint16_t count = (PIT_HZ + 100) / 200;
	unsigned long flags = intr_save();
	uint64_t t0 = tsc_read();

	pit_wait(count);
	uint64_t d = tsc_read() - t0;

	intr_restore(flags);
	uint64_t expect = tsc_hz() * count / PIT_HZ;

	ktest_diag(kt, "5 ms pit_wait: %lu TSC ticks, expected %lu", d, expect);
	/* Under wall time a busy host can only make it late, by any amount. */
	KT_EXPECT(kt, d + expect / (tt_icount() ? 10000 : 10) >= expect);
	if (tt_icount())
		KT_EXPECT(kt, d <= expect + expect / 10000);
}

KTEST(timer, clock_ns_monotonic)
{
	uint64_t prev = clock_ns(), first = prev;
	bool mono = true;

	for (int i = 0; i < 10000; i++) {
		uint64_t now = clock_ns();

		mono &= now >= prev;
		prev = now;
	}
	KT_EXPECT(kt, mono);
	KT_EXPECT(kt, first > 0);

	/* clock_delay_ns waits at least what it is asked; clock_ns agrees with the TSC. */
	uint64_t t0 = tsc_read(), n0 = clock_ns();

	clock_delay_ns(2000000);
	uint64_t n1 = clock_ns(), t1 = tsc_read();

	KT_EXPECT(kt, n1 - n0 >= 2000000);
	KT_EXPECT(kt, n1 - n0 <= tsc_to_ns(t1 - t0));
	if (tt_icount())
		KT_EXPECT(kt, n1 - n0 <= 2000000 + 20000);
}

KTEST(timer, ticks_advance)
{
	KT_ASSERT(kt, intr_enabled());
	/* Interrupts on: two ticks come (in about 2 periods). */
	uint64_t t0 = clock_ticks();

	if (!KT_EXPECT(kt, tt_wait_ticks(t0 + 2, tt_deadline(20))))
		ktest_diag(kt, "ticks %lu -> %lu in the time of 20", t0, clock_ticks());

	/* Interrupts off: none for 3 periods; back on, the pending one arrives. */
	intr_disable();
	uint64_t t1 = clock_ticks();

	clock_delay_ns(3 * NS_PER_SEC / clock_hz());
	uint64_t t2 = clock_ticks();

	intr_enable();
	KT_EXPECT_EQ(kt, t2, t1);
	KT_EXPECT(kt, tt_wait_ticks(t2 + 1, tt_deadline(20)));
}

static volatile uint64_t tt_hook_runs;

static void tt_hook(void)
{
	tt_hook_runs++;
}

KTEST(timer, tick_hook)
{
	/* Interrupts off around (un)registration, so no tick slips in between. */
	unsigned long flags = intr_save();

	tt_hook_runs = 0;
	clock_register_tick_hook(tt_hook);
	uint64_t t0 = clock_ticks();

	intr_restore(flags);
	KT_EXPECT(kt, tt_wait_ticks(t0 + 3, tt_deadline(30)));
	flags = intr_save();
	clock_unregister_tick_hook(tt_hook);
	uint64_t runs = tt_hook_runs, t1 = clock_ticks();

	intr_restore(flags);
	/* Every tick from registration to removal ran the hook, and no other. */
	KT_EXPECT_EQ(kt, runs, t1 - t0);
	tt_wait_ticks(t1 + 2, tt_deadline(30));
	KT_EXPECT_EQ(kt, tt_hook_runs, runs);
}

#define TT_RATE_MAX 64

static volatile uint64_t tt_stamp[TT_RATE_MAX + 1];
static volatile unsigned tt_nstamps, tt_want;

static void tt_stamp_hook(void)
{
	if (tt_nstamps < tt_want)
		tt_stamp[tt_nstamps++] = tsc_read();
}

static bool tt_wait_ticks_stamped(unsigned n, uint64_t span)
{
	uint64_t t0 = tsc_read();

	while (tt_nstamps < n)
		if (tsc_read() - t0 > span)
			return false;
	return true;
}

KTEST(timer, tick_rate)
{
	/*
	 * The TSC time of n + 1 consecutive ticks (n about 100 ms worth,
	 * 5..64).  Under icount the whole span is exact.  Under wall time a
	 * busy host makes QEMU drop ticks (at 10 kHz, up to 40% of them on a
	 * 2-core machine running four guests), which stretches the span
	 * but not the typical gap between ticks: the median gap is checked.
	 */
	uint32_t hz = clock_hz();
	unsigned n = hz / 10 < 5 ? 5 : hz / 10 > TT_RATE_MAX ? TT_RATE_MAX : hz / 10;
	unsigned long flags = intr_save();

	KT_ASSERT(kt, flags & (1ul << 9));
	tt_nstamps = 0;
	tt_want = n + 1;
	clock_register_tick_hook(tt_stamp_hook);
	intr_restore(flags);
	/*
	 * Under icount spin: with sleep=on (QEMU's default) a halted CPU lets
	 * virtual time follow the host's clock.  Under wall time halt: a
	 * spinning guest competes with QEMU's own timer thread for a busy
	 * host, and at 10 kHz only every third tick then gets through.
	 * (ticks_advance has shown that ticks come, so hlt returns.)
	 */
	bool done = true;

	if (tt_icount())
		done = tt_wait_ticks_stamped(n + 1, tt_deadline(n + 20));
	else
		while (tt_nstamps < n + 1)
			cpu_halt();
	clock_unregister_tick_hook(tt_stamp_hook);
	KT_ASSERT(kt, done);

	uint64_t gap[TT_RATE_MAX];

	for (unsigned i = 0; i < n; i++) {
		uint64_t g = tt_stamp[i + 1] - tt_stamp[i];
		unsigned j = i;

		for (; j > 0 && gap[j - 1] > g; j--)
			gap[j] = gap[j - 1];
		gap[j] = g;
	}
	uint64_t period = tsc_hz() / hz, span = tt_stamp[n] - tt_stamp[0];
	uint64_t expect = tsc_hz() * n / hz, median = gap[n / 2];

	ktest_diag(kt,
	           "%u ticks at %u Hz took %lu TSC ticks (%lu ns), expected %lu; gaps %lu..%lu, "
	           "median %lu, expected %lu",
	           n, hz, span, tsc_to_ns(span), expect, gap[0], gap[n - 1], median, period);
	if (tt_icount()) {
		KT_EXPECT(kt, span + expect / 10000 >= expect && span <= expect + expect / 10000);
		KT_EXPECT(kt,
		          median + period / 10000 >= period && median <= period + period / 10000);
	} else { /* a rate between 50% and 200% of hz */
		KT_EXPECT(kt, median >= period / 2 && median <= period * 2);
	}
}
