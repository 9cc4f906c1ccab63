/*
 * The clock: a monotonic nanosecond time base (the calibrated TSC on
 * x86_64), a periodic tick for the scheduler, and which kind of time the
 * machine gives us.
 *
 * Clock modes.  On QEMU with -icount the TSC counts guest instructions, so
 * every time measured is reproducible to the cycle but has nothing to do
 * with the host's wall clock; without it, time is real (and noisy under
 * TCG).  clock_init detects which; "clock=icount" or "clock=wall" on the
 * command line overrides the detection.  Benchmarks record the mode so
 * that their figures are compared only with figures of the same kind.
 */
#ifndef KERN_CLOCK_H
#define KERN_CLOCK_H

#include <stdint.h>

enum clock_mode {
	CLOCK_MODE_WALL,   /* the TSC follows real (host) time */
	CLOCK_MODE_ICOUNT, /* the TSC counts guest instructions (QEMU -icount) */
};

#define CLOCK_HZ_DEFAULT 100
#define CLOCK_HZ_MIN 10
#define CLOCK_HZ_MAX 10000

/*
 * Masks the legacy PIC, detects the clock mode, calibrates the TSC and
 * starts the periodic tick at "hz=N" (default CLOCK_HZ_DEFAULT, clamped to
 * CLOCK_HZ_MIN..CLOCK_HZ_MAX).  Call once, after trap_init, with
 * interrupts off; the tick starts counting when they are enabled.
 */
void clock_init(void);

/* What clock_init measured, for reports and tests. */
struct clock_calibration {
	uint64_t tsc_measured_hz; /* TSC against the PIT */
	uint64_t tsc_hz;          /* in use (exactly 10^9 under icount) */
	uint64_t timer_input_hz;  /* LAPIC timer clock against the TSC */
	uint32_t timer_count;     /* timer input clocks per tick */
	enum clock_mode detected; /* before any clock= override */
};

const struct clock_calibration *clock_calibration(void);

/* Timer interrupts taken since clock_init. */
uint64_t clock_ticks(void);

/* Tick rate in Hz. */
uint32_t clock_hz(void);

enum clock_mode clock_mode(void);

/* "wall" or "icount". */
const char *clock_mode_name(void);

/* ns since clock_init (0 before it); implemented by the architecture. */
uint64_t clock_ns(void);

/* Busy-waits at least ns nanoseconds; interrupts may stay enabled. */
void clock_delay_ns(uint64_t ns);

#define CLOCK_TICK_HOOKS_MAX 8

/*
 * Adds hook to the functions run on every tick, in interrupt context with
 * interrupts off, in registration order.  Kernel subsystems register at
 * init; more than CLOCK_TICK_HOOKS_MAX is a kernel bug and panics.
 */
void clock_register_tick_hook(void (*hook)(void));

/* Removes a hook added by clock_register_tick_hook; panics if absent. */
void clock_unregister_tick_hook(void (*hook)(void));

#endif
