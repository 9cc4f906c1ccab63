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
	uint64_t tat;      /* [a] theoretical arrival time of the next event, ns */
	uint64_t allowed;  /* [a] */
	uint64_t limited;  /* [a] */
};

bool perf_ratelimit_init(struct perf_ratelimit *rl, uint32_t rate, uint32_t burst, uint64_t now_ns);
bool perf_ratelimit_allow(struct perf_ratelimit *rl, uint64_t now_ns);

#endif /* KERN_PERF_RATELIMIT_H */
