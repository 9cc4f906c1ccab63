/*
 * Rate limiter for raw perf records (never for statistics): a token bucket
 * in nanoseconds (the engine uses TSC ticks), implemented as GCRA on one
 * 64-bit word so that a nested caller (an interrupt on the same CPU) cannot
 * corrupt it.  The word is the earliest time the next event is allowed,
 * so the decision is one signed compare (times are below 2^63).
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
	int64_t next;      /* [a] earliest time of the next allowed event, ns: GCRA's
	                    * theoretical arrival time minus tau (INT64_MIN when
	                    * unlimited) */
	uint64_t allowed;  /* [a] perf_ratelimit_allow only (not the _excl variant) */
	uint64_t limited;  /* [a] */
};

bool perf_ratelimit_init(struct perf_ratelimit *rl, uint32_t rate, uint32_t burst, uint64_t now_ns);
bool perf_ratelimit_allow(struct perf_ratelimit *rl, uint64_t now_ns);

/* The GCRA step from next at time now (perf_ratelimit.c explains it). */
static inline int64_t perf_ratelimit_step(const struct perf_ratelimit *rl, int64_t next,
                                          int64_t now)
{
	int64_t t = now - (int64_t)rl->tau;

	return (next > t ? next : t) + (int64_t)rl->interval;
}

/*
 * perf_ratelimit_allow_excl - the same decision for a caller that no other
 * caller of rl can interrupt (the engine's record path, interrupts
 * masked): plain loads and stores, inline, and cheapest when it says no
 * (one compare with next, one increment).  It counts only limited events
 * (allowed ones are the caller's count minus those).  An unlimited limiter keeps
 * next at INT64_MIN.  Do not mix it with perf_ratelimit_allow on one
 * limiter where nesting is possible.
 */
static inline __attribute__((always_inline)) bool
perf_ratelimit_allow_excl(struct perf_ratelimit *rl, uint64_t now_ns)
{
	if ((int64_t)now_ns < rl->next) {
		rl->limited++;
		return false;
	}
	if (rl->interval != 0)
		rl->next = perf_ratelimit_step(rl, rl->next, (int64_t)now_ns);
	return true;
}

#endif /* KERN_PERF_RATELIMIT_H */
