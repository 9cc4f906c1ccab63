/*
 * A CPU-bound task, for preemption tests: it spins without ever trapping
 * and counts how often the time stamp counter jumped by more than
 * GAP_TSC between two adjacent reads, i.e. how often it was preempted
 * for another task's time slice.  With "min-gaps N" it fails unless it
 * saw at least N such gaps, which proves that the scheduler preempted
 * it.  Two spinners in one group never yield, so each can only see the
 * other run by preemption:
 *
 *	tests/user/test-spin.elf 1 min-gaps 3 group=preempt
 *	tests/user/test-spin.elf 2 min-gaps 3 group=preempt
 *
 * "iterations N" sets the loop length (default SPIN_DEFAULT); other
 * words (the 1 and 2 above) are labels and ignored.  It always
 * terminates, so a broken scheduler shows as a failed case, not a hang.
 * Interrupt handlers take thousands of cycles, a 10 ms time slice tens
 * of millions; GAP_TSC sits between them (in icount mode a "cycle" is an
 * instruction).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libktap.h"

#define SPIN_DEFAULT 10000000ul
#define GAP_TSC 2000000ull

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

int main(int argc, char **argv)
{
	unsigned long iterations = SPIN_DEFAULT, min_gaps = 0, gaps = 0;
	uint64_t start, last, now, longest = 0;

	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "iterations") == 0)
			iterations = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "min-gaps") == 0)
			min_gaps = strtoul(argv[++i], NULL, 0);
	}
	ktap_plan(1);
	start = last = rdtsc();
	for (unsigned long i = 0; i < iterations; i++) {
		now = rdtsc();
		if (now - last > GAP_TSC) {
			gaps++;
			if (now - last > longest)
				longest = now - last;
		}
		last = now;
	}
	ktap_diag("%lu iterations in %llu cycles; %lu gaps over %llu, longest %llu", iterations,
	          (unsigned long long)(last - start), gaps, GAP_TSC, (unsigned long long)longest);
	ktap_ok(gaps >= min_gaps, "preempted_at_least_%lu_times", min_gaps);
	return ktap_done();
}
