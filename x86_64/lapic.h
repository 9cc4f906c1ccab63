/*
 * The local APIC (xAPIC, memory-mapped): interrupt acknowledge and the
 * periodic timer that drives the clock tick.
 */
#ifndef X86_64_LAPIC_H
#define X86_64_LAPIC_H

#include <stdint.h>

/* Where the LAPIC registers live; reached through the physmap. */
#define LAPIC_PHYS 0xfee00000ul

/*
 * Enables this CPU's LAPIC (software enable through the spurious vector
 * register, vector T_SPURIOUS), masks LINT0 (the legacy PIC's ExtINT) and
 * the timer, and installs lapic_eoi as trap_eoi.
 */
void lapic_init(void);

/* Signals end of interrupt; installed as trap_eoi. */
void lapic_eoi(void);

uint32_t lapic_id(void);

/* Sends this CPU an interrupt on vector (tests: an interrupt that is not the timer's). */
void lapic_self_ipi(uint8_t vector);

/*
 * Measures the timer's input clock (bus clock, divide-by-1) in Hz against
 * the TSC, which must be calibrated (tsc_init) already.  Busy-waits about
 * ms milliseconds per sample; takes the median of samples (1..9).
 */
uint64_t lapic_timer_calibrate(unsigned samples, unsigned ms);

/*
 * Starts the timer in periodic mode on T_LAPIC_TIMER: tick() runs from
 * the interrupt, hz times per second, given the input clock bus_hz.
 * Returns the initial count programmed (input clocks per tick).
 */
uint32_t lapic_timer_start(uint64_t bus_hz, uint32_t hz, void (*tick)(void));

/* Masks the timer and clears its count. */
void lapic_timer_stop(void);

#endif
