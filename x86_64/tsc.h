/*
 * The time-stamp counter: the kernel's clock source.  Calibrated against
 * the PIT at boot; converted to nanoseconds with a fixed-point multiply
 * (64x64->128 bits, then a shift), never a division on the hot path.
 *
 * Under QEMU's -icount the TSC counts guest instructions (2^shift per
 * instruction, 1 GHz of virtual time) instead of following the host's
 * clock; tsc_probe_icount() tells the two apart.
 */
#ifndef X86_64_TSC_H
#define X86_64_TSC_H

#include <stdbool.h>
#include <stdint.h>

#include "x86_64/io.h"

/* Fixed point: out = in * mult >> shift, with mult in [2^62, 2^63). */
struct tsc_scale {
	uint64_t mult;
	uint32_t shift;
};

/*
 * Sets s to convert a count at from_hz into a count at to_hz (both
 * 1..2^62).  mult is rounded up, so a conversion whose exact result is an
 * integer gives that integer, and any other result is the exact value
 * rounded down, or one more; the bound holds while in * to_hz / from_hz
 * stays below 2^62.
 */
void tsc_scale_init(struct tsc_scale *s, uint64_t from_hz, uint64_t to_hz);

/* Applies s; saturates at UINT64_MAX instead of wrapping. */
uint64_t tsc_scale_apply(const struct tsc_scale *s, uint64_t in);

/* Result of the icount probe (see tsc.c). */
struct tsc_icount_probe {
	uint64_t delta[4];   /* rdtsc deltas: short, long, short, long loop */
	uint64_t loop_insns; /* instructions the long loop adds over the short */
	bool icount;         /* deltas reproducible and counting instructions */
	uint32_t shift;      /* under icount: TSC ticks per instruction = 2^shift */
};

/* Runs the icount probe with interrupts off; fills *p and returns p->icount. */
bool tsc_probe_icount(struct tsc_icount_probe *p);

/*
 * Returns the TSC ticks in pit_count PIT clocks (1..0xc000), that is in
 * pit_count / PIT_HZ seconds, timed on PIT channel 2 with interrupts off.
 */
uint64_t tsc_measure_pit(uint16_t pit_count);

/*
 * Measures the TSC frequency in Hz against the PIT: the median of samples
 * (1..9) one-shots of pit_count clocks each.
 */
uint64_t tsc_calibrate(unsigned samples, uint16_t pit_count);

/* Installs the TSC frequency and takes "now" as time zero of clock_ns(). */
void tsc_init(uint64_t hz);

/* TSC frequency in Hz; 0 before tsc_init. */
uint64_t tsc_hz(void);

/* TSC value at tsc_init (time zero of clock_ns). */
uint64_t tsc_boot(void);

/* Converts TSC ticks to ns and back with the installed frequency. */
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t tsc_from_ns(uint64_t ns);

static inline uint64_t tsc_read(void)
{
	return rdtsc();
}

#endif
