/*
 * Clock bring-up and the tick.  The order in clock_init matters:
 *   1. mask the legacy PIC, so no stray IRQ arrives on an exception vector;
 *   2. probe for icount before anything else reads the TSC for timing, and
 *      let "clock=" override the result;
 *   3. calibrate the TSC against the PIT (under icount the TSC is QEMU's
 *      virtual clock, 1 GHz by construction: a calibration within 2% of
 *      that is taken as exactly 1 GHz, so ns figures are exact too);
 *   4. calibrate the LAPIC timer against the TSC (rounded to whole MHz
 *      under icount) and start the tick.
 * Calibration is short and deterministic under icount (one sample), and
 * takes the median of several samples under wall time, where the host
 * may preempt QEMU at any moment.
 */
#include <stdbool.h>
#include <stddef.h>

#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/panic.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "x86_64/cpu.h"
#include "x86_64/lapic.h"
#include "x86_64/pic.h"
#include "x86_64/pit.h"
#include "x86_64/tsc.h"

#define NS_PER_SEC 1000000000ull

/* PIT clocks in 10 ms and 5 ms. */
#define CLOCK_PIT_10MS ((PIT_HZ + 50) / 100)
#define CLOCK_PIT_5MS ((PIT_HZ + 100) / 200)

static volatile uint64_t clock_tick_count; /* [t] written by the tick only */
static uint32_t clock_rate;                /* [I] */
static enum clock_mode clock_cur_mode;     /* [I] */
static struct clock_calibration clock_cal; /* [I] */

static void (*clock_hooks[CLOCK_TICK_HOOKS_MAX])(void); /* [i] */
static volatile unsigned clock_nhooks;                  /* [i] */
/* [I] set by clock_init, [t] tick interrupt, [i] written with interrupts off */

static void clock_tick(void)
{
	clock_tick_count++;
	for (unsigned i = 0; i < clock_nhooks; i++)
		clock_hooks[i]();
}

void clock_register_tick_hook(void (*hook)(void))
{
	unsigned long flags = intr_save();

	if (hook == NULL || clock_nhooks == CLOCK_TICK_HOOKS_MAX)
		panic("clock_register_tick_hook: %s", hook ? "table full" : "NULL hook");
	clock_hooks[clock_nhooks] = hook;
	clock_nhooks = clock_nhooks + 1;
	intr_restore(flags);
}

void clock_unregister_tick_hook(void (*hook)(void))
{
	unsigned long flags = intr_save();
	unsigned i = 0, n = clock_nhooks;

	while (i < n && clock_hooks[i] != hook)
		i++;
	if (i == n)
		panic("clock_unregister_tick_hook: %p not registered", (void *)hook);
	for (; i + 1 < n; i++)
		clock_hooks[i] = clock_hooks[i + 1];
	clock_nhooks = n - 1;
	intr_restore(flags);
}

/* hz= from the command line, clamped to the supported range. */
static uint32_t clock_parse_hz(void)
{
	const char *v = cmdline_get("hz");

	if (v == NULL)
		return CLOCK_HZ_DEFAULT;
	/* Two defaults tell "absent or malformed" apart from a parsed value. */
	uint64_t hz = cmdline_get_u64("hz", 0);

	if (hz != cmdline_get_u64("hz", 1)) {
		kprintf("clock: hz=%s is not a number; using %u Hz\n", v, CLOCK_HZ_DEFAULT);
		return CLOCK_HZ_DEFAULT;
	}
	if (hz < CLOCK_HZ_MIN || hz > CLOCK_HZ_MAX) {
		uint32_t c = hz < CLOCK_HZ_MIN ? CLOCK_HZ_MIN : CLOCK_HZ_MAX;

		kprintf("clock: hz=%s outside %u..%u; clamped to %u Hz\n", v, CLOCK_HZ_MIN,
		        CLOCK_HZ_MAX, c);
		return c;
	}
	return (uint32_t)hz;
}

static const char *clock_mode_str(enum clock_mode m)
{
	return m == CLOCK_MODE_ICOUNT ? "icount" : "wall";
}

/* The detected mode, unless clock= on the command line says otherwise. */
static enum clock_mode clock_pick_mode(enum clock_mode detected)
{
	const char *v = cmdline_get("clock");
	enum clock_mode m;

	if (v == NULL)
		return detected;
	if (strcmp(v, "icount") == 0) {
		m = CLOCK_MODE_ICOUNT;
	} else if (strcmp(v, "wall") == 0) {
		m = CLOCK_MODE_WALL;
	} else {
		kprintf("clock: clock=%s is neither icount nor wall; using the detected %s\n", v,
		        clock_mode_str(detected));
		return detected;
	}
	if (m != detected)
		kprintf("clock: clock=%s overrides the detected mode (%s)\n", v,
		        clock_mode_str(detected));
	return m;
}

void clock_init(void)
{
	struct tsc_icount_probe probe;

	pic_init();
	clock_rate = clock_parse_hz();
	tsc_probe_icount(&probe);
	clock_cal.detected = probe.icount ? CLOCK_MODE_ICOUNT : CLOCK_MODE_WALL;
	clock_cur_mode = clock_pick_mode(clock_cal.detected);

	bool icount = clock_cur_mode == CLOCK_MODE_ICOUNT;
	uint64_t measured =
	    icount ? tsc_calibrate(1, CLOCK_PIT_5MS) : tsc_calibrate(5, CLOCK_PIT_10MS);
	uint64_t hz = measured;

	if (icount && measured >= NS_PER_SEC - NS_PER_SEC / 50 &&
	    measured <= NS_PER_SEC + NS_PER_SEC / 50)
		hz = NS_PER_SEC;
	if (hz < 1000000)
		panic("clock_init: TSC calibrated to %lu Hz", hz);
	tsc_init(hz);

	lapic_init();
	uint64_t bus_hz = icount ? lapic_timer_calibrate(1, 2) : lapic_timer_calibrate(3, 5);

	/*
	 * Under icount the timer also runs on QEMU's virtual clock, at a whole
	 * number of MHz (1000): the few ppm of measurement offset go, and the
	 * tick period is an exact number of TSC ticks.
	 */
	if (icount)
		bus_hz = (bus_hz + 500000) / 1000000 * 1000000;

	clock_cal.tsc_measured_hz = measured;
	clock_cal.tsc_hz = hz;
	clock_cal.timer_input_hz = bus_hz;
	clock_cal.timer_count = lapic_timer_start(bus_hz, clock_rate, clock_tick);

	uint64_t tenths = (hz + 50000) / 100000;

	kprintf("clock: tsc %lu.%lu MHz (%s) | timer %u Hz via LAPIC\n", tenths / 10, tenths % 10,
	        clock_mode_str(clock_cur_mode), clock_rate);
}

const struct clock_calibration *clock_calibration(void)
{
	return &clock_cal;
}

uint64_t clock_ticks(void)
{
	return clock_tick_count;
}

uint32_t clock_hz(void)
{
	return clock_rate;
}

enum clock_mode clock_mode(void)
{
	return clock_cur_mode;
}

const char *clock_mode_name(void)
{
	return clock_mode_str(clock_cur_mode);
}

void clock_delay_ns(uint64_t ns)
{
	if (tsc_hz() == 0)
		panic("clock_delay_ns: called before clock_init");
	uint64_t span = tsc_from_ns(ns), t0 = tsc_read();

	while (tsc_read() - t0 < span)
		;
}
