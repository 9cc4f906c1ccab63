/*
 * The 8254 PIT, used only as a known-rate reference to calibrate the TSC
 * and the LAPIC timer at boot.  Channel 2 (the speaker channel) is the one
 * whose gate and output software can control and read through port 0x61,
 * so it serves as a stopwatch without taking an interrupt: wait for its
 * output, or read its count.
 */
#ifndef X86_64_PIT_H
#define X86_64_PIT_H

#include <stdbool.h>
#include <stdint.h>

/* Input clock of the PIT. */
#define PIT_HZ 1193182u

/* Longest one-shot: 65535 clocks, about 54.9 ms. */
#define PIT_MAX_COUNT 65535u

/*
 * Starts a one-shot of count PIT clocks (1..PIT_MAX_COUNT) on channel 2:
 * the interval begins when this returns (read the TSC right after).
 */
void pit_oneshot_start(uint16_t count);

/* Has the one-shot started by pit_oneshot_start run out? */
bool pit_oneshot_expired(void);

/*
 * Channel 2's current count (it counts down from the one-shot's count,
 * and on from 0xffff after reaching 0).
 */
uint16_t pit_read_count(void);

/* Busy-waits count PIT clocks (1..PIT_MAX_COUNT). */
void pit_wait(uint16_t count);

#endif
