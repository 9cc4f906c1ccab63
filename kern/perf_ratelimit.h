/*
 * Rate limiter for raw perf records (never for statistics): a token bucket
 * in nanoseconds, implemented as GCRA on one 64-bit word so that a nested
 * caller (an interrupt on the same CPU) cannot corrupt it.
 */
#ifndef KERN_PERF_RATELIMIT_H
#define KERN_PERF_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define PERF_RATELIMIT_UNLIMITED 0u /* rate value meaning "no limit" */
#define PERF_RATELIMIT_MIN_RATE 100u
#define PERF_RATELIMIT_MAX_RATE 5000u

struct perf_ratelimit {
	uint32_t rate;     /* [I] events per second, or PERF_RATELIMIT_UNLIMITED */
	uint32_t burst;    /* [I] events allowed back to back */
	uint64_t interval; /* [I] ns between events at the sustained rate */
	uint64_t tau;      /* [I] (burst - 1) * interval: how far tat may run ahead */
	uint64_t tat;      /* [a] theoretical arrival time of the next event, ns
	                    * (0 and unused when unlimited) */
	uint64_t allowed;  /* [a] */
	uint64_t limited;  /* [a] */
};

bool perf_ratelimit_init(struct perf_ratelimit *rl, uint32_t rate, uint32_t burst, uint64_t now_ns);
bool perf_ratelimit_allow(struct perf_ratelimit *rl, uint64_t now_ns);

/*
 * perf_ratelimit_allow_excl - the same decision for a caller that no other
 * caller of rl can interrupt (the engine's record path, interrupts
 * masked): plain loads and stores, inline, and cheapest when it says no.
 * allow <=> max(tat, now) - now <= tau <=> now - tat + tau >= 0 (signed:
 * times differ by less than 2^63); an unlimited limiter keeps tat at 0.
 * Do not mix it with perf_ratelimit_allow on one limiter where nesting is
 * possible.
 */
static inline bool perf_ratelimit_allow_excl(struct perf_ratelimit *rl, uint64_t now_ns)
{
	if ((int64_t)(now_ns - rl->tat + rl->tau) < 0) {
		rl->limited++;
		return false;
	}
	if (rl->interval != 0)
		rl->tat = (rl->tat > now_ns ? rl->tat : now_ns) + rl->interval;
	rl->allowed++;
	return true;
}

#endif /* KERN_PERF_RATELIMIT_H */
