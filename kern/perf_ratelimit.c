/*
 * perf_ratelimit.c - token bucket as the generic cell rate algorithm.
 *
 * A bucket of `burst` tokens refilled at `rate` per second is equivalent to
 * keeping one time, tat, the moment the bucket would next be full again
 * minus one token's worth:
 *
 *	allow at now  <=>  max(tat, now) - now <= (burst - 1) * interval
 *	then          tat = max(tat, now) + interval,   interval = 10^9 / rate
 *
 * The word kept is next = tat - tau, the earliest time the next event is
 * allowed, so that the decision is one compare:
 *
 *	allow at now  <=>  now >= next
 *	then          next = max(next, now - tau) + interval
 *
 * Times are signed 64-bit (below 2^63), so next may be negative early on
 * and a clock that steps back compares correctly.  One word of state means
 * one compare-and-swap, so an interrupt that calls perf_ratelimit_allow()
 * in the middle of another call on the same CPU just makes the outer call
 * retry.  interval is rounded down: the sustained rate
 * is at most rate * (1 + rate / 10^9), 5 ppm high at 5000/s.
 */
#include "kern/perf_ratelimit.h"

#define RL_NS_PER_SEC 1000000000ULL

/*
 * perf_ratelimit_init - limit to rate events/s (100..5000) with bursts of
 * burst (0 means 1), or no limit for PERF_RATELIMIT_UNLIMITED.  The bucket
 * starts full at now_ns.  False, rl untouched, for a rate out of range.
 */
bool perf_ratelimit_init(struct perf_ratelimit *rl, uint32_t rate, uint32_t burst, uint64_t now_ns)
{
	if (rate != PERF_RATELIMIT_UNLIMITED &&
	    (rate < PERF_RATELIMIT_MIN_RATE || rate > PERF_RATELIMIT_MAX_RATE))
		return false;
	rl->rate = rate;
	rl->burst = burst == 0 ? 1 : burst;
	rl->interval = rate == PERF_RATELIMIT_UNLIMITED ? 0 : RL_NS_PER_SEC / rate;
	rl->tau = (uint64_t)(rl->burst - 1) * rl->interval;
	rl->next =
	    rate == PERF_RATELIMIT_UNLIMITED ? INT64_MIN : (int64_t)now_ns - (int64_t)rl->tau;
	rl->allowed = 0;
	rl->limited = 0;
	return true;
}

/*
 * perf_ratelimit_allow - whether an event at now_ns may be recorded; counts
 * it as allowed or limited.  Safe to nest on one CPU.  A clock that steps
 * back gains no tokens.
 */
bool perf_ratelimit_allow(struct perf_ratelimit *rl, uint64_t now_ns)
{
	int64_t next;

	if (rl->rate == PERF_RATELIMIT_UNLIMITED) {
		__atomic_fetch_add(&rl->allowed, 1, __ATOMIC_RELAXED);
		return true;
	}
	next = __atomic_load_n(&rl->next, __ATOMIC_RELAXED);
	do {
		if ((int64_t)now_ns < next) {
			__atomic_fetch_add(&rl->limited, 1, __ATOMIC_RELAXED);
			return false;
		}
	} while (!__atomic_compare_exchange_n(&rl->next, &next,
	                                      perf_ratelimit_step(rl, next, (int64_t)now_ns), false,
	                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	__atomic_fetch_add(&rl->allowed, 1, __ATOMIC_RELAXED);
	return true;
}
