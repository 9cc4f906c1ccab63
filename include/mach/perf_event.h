/*
 * The performance analysis engine's user ABI: event ids, the 32-byte raw
 * record and the per-event statistics block.
 *
 * Everything here appears in files written by the engine and in messages to
 * userland, so ids, widths and offsets are fixed: each is a _Static_assert.
 */
#ifndef MACH_PERF_EVENT_H
#define MACH_PERF_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* Event ids: fixed forever, they are stored in trace files. */
enum perf_event_type {
	PERF_EVENT_IPC_SEND = 0,
	PERF_EVENT_IPC_RECEIVE = 1,
	PERF_EVENT_VM_ALLOC = 2,
	PERF_EVENT_VM_FREE = 3,
	PERF_EVENT_TASK_CREATE = 4,
	PERF_EVENT_TASK_TERMINATE = 5,
	PERF_EVENT_THREAD_CREATE = 6,
	PERF_EVENT_THREAD_TERMINATE = 7,
	PERF_EVENT_CONTEXT_SWITCH = 8,
	PERF_EVENT_INTERRUPT = 9,
	PERF_EVENT_SYSCALL = 10,
	PERF_EVENT_PAGE_FAULT = 11,
	PERF_EVENT_MAX = 12
};

typedef uint32_t perf_event_type_t;

/*
 * struct perf_record - one raw event, 32 bytes, naturally aligned.
 *
 *   offset size field
 *        0    8 ts_ns        timestamp, ns since boot (calibrated TSC), or
 *                            guest instructions when PERF_REC_F_ICOUNT is set
 *        8    1 event        enum perf_event_type
 *        9    1 flags        PERF_REC_F_*
 *       10    2 cpu          CPU that recorded it
 *       12    2 task         task id, low 16 bits (lifecycle events carry the
 *       14    2 thread       thread id, low 16 bits  full ids in data1/data2)
 *       16    8 data1        event specific, see below
 *       24    4 duration_ns  time spent, valid if PERF_REC_F_TIMED; saturates
 *                            at UINT32_MAX (4.29 s) with PERF_REC_F_DUR_SAT
 *       28    4 data2        event specific, see below; saturates at
 *                            UINT32_MAX with PERF_REC_F_DATA2_SAT
 *
 * Meaning of data1 / data2 per event:
 *   IPC_SEND, IPC_RECEIVE       message size in bytes / destination port name
 *   VM_ALLOC, VM_FREE           address / size in bytes
 *   TASK_CREATE                 task id / parent task id
 *   TASK_TERMINATE              task id / exit status
 *   THREAD_CREATE, _TERMINATE   thread id / task id
 *   CONTEXT_SWITCH              from thread id / to thread id
 *   INTERRUPT                   vector / 0
 *   SYSCALL                     trap number (sign-extended) / return value,
 *                               low 32 bits (a kern_return_t)
 *   PAGE_FAULT                  faulting address / PERF_PF_* bits
 *
 * Statistics never depend on these records: they are kept exactly for every
 * event, while raw records may be rate-limited or lost (and counted).
 */
struct perf_record {
	uint64_t ts_ns;
	uint8_t event;
	uint8_t flags;
	uint16_t cpu;
	uint16_t task;
	uint16_t thread;
	uint64_t data1;
	uint32_t duration_ns;
	uint32_t data2;
};

#define PERF_REC_F_TIMED 0x01     /* duration_ns is valid */
#define PERF_REC_F_DUR_SAT 0x02   /* true duration exceeded UINT32_MAX ns */
#define PERF_REC_F_DATA2_SAT 0x04 /* true data2 exceeded UINT32_MAX */
#define PERF_REC_F_ICOUNT 0x08    /* clock is icount: ts/duration are insns */

/* PAGE_FAULT data2 bits. */
#define PERF_PF_PRESENT 0x01 /* protection violation on a present page */
#define PERF_PF_WRITE 0x02
#define PERF_PF_USER 0x04
#define PERF_PF_EXEC 0x08
#define PERF_PF_UNRESOLVED 0x10 /* the handler did not resolve it (the task is killed) */

_Static_assert(sizeof(struct perf_record) == 32, "perf_record size");
_Static_assert(_Alignof(struct perf_record) == 8, "perf_record align");
_Static_assert(offsetof(struct perf_record, ts_ns) == 0, "ts_ns");
_Static_assert(offsetof(struct perf_record, event) == 8, "event");
_Static_assert(offsetof(struct perf_record, flags) == 9, "flags");
_Static_assert(offsetof(struct perf_record, cpu) == 10, "cpu");
_Static_assert(offsetof(struct perf_record, task) == 12, "task");
_Static_assert(offsetof(struct perf_record, thread) == 14, "thread");
_Static_assert(offsetof(struct perf_record, data1) == 16, "data1");
_Static_assert(offsetof(struct perf_record, duration_ns) == 24, "duration_ns");
_Static_assert(offsetof(struct perf_record, data2) == 28, "data2");

/*
 * struct perf_event_stats - user-visible statistics of one event type.
 *
 * All integers.  count/min/max/mean/variance are exact over every event
 * (computed from exact integer sums); the percentiles come from a log-linear
 * histogram and are within 1% (0.78%) of the exact order statistic.
 *
 *   offset field
 *        0 event          enum perf_event_type
 *        4 flags          PERF_STATS_F_*
 *        8 count          events seen (never sampled)
 *       16 min_ns, 24 max_ns
 *       32 sum_ns         saturates at UINT64_MAX (PERF_STATS_F_SUM_SAT)
 *       40 mean_mns       mean in milli-ns (ns x 1000), rounded to nearest
 *       48 variance_ns2   population variance in ns^2, rounded; saturates
 *                         at UINT64_MAX (PERF_STATS_F_VAR_SAT)
 *       56 stddev_mns     population standard deviation in milli-ns, floor
 *       64 p50_ns 72 p90_ns 80 p95_ns 88 p99_ns 96 p999_ns
 *      104 rate_mhz       events per second x 1000 over the measured interval
 *      112 interval_ns    length of the measured interval
 *
 * Size 120, alignment 8.  A MIG interface that packs bodies to 4 bytes should
 * carry it as an array of 30 natural_t, not as a struct of uint64_t.
 */
struct perf_event_stats {
	uint32_t event;
	uint32_t flags;
	uint64_t count;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t sum_ns;
	uint64_t mean_mns;
	uint64_t variance_ns2;
	uint64_t stddev_mns;
	uint64_t p50_ns;
	uint64_t p90_ns;
	uint64_t p95_ns;
	uint64_t p99_ns;
	uint64_t p999_ns;
	uint64_t rate_mhz;
	uint64_t interval_ns;
};

#define PERF_STATS_F_SUM_SAT 0x01  /* sum_ns saturated */
#define PERF_STATS_F_VAR_SAT 0x02  /* variance_ns2 saturated */
#define PERF_STATS_F_ICOUNT 0x04   /* values are guest instructions */
#define PERF_STATS_F_HIST_OVF 0x08 /* some values beyond the histogram range */

_Static_assert(sizeof(struct perf_event_stats) == 120, "perf_event_stats size");
_Static_assert(offsetof(struct perf_event_stats, count) == 8, "count");
_Static_assert(offsetof(struct perf_event_stats, sum_ns) == 32, "sum_ns");
_Static_assert(offsetof(struct perf_event_stats, mean_mns) == 40, "mean_mns");
_Static_assert(offsetof(struct perf_event_stats, variance_ns2) == 48, "var");
_Static_assert(offsetof(struct perf_event_stats, p50_ns) == 64, "p50_ns");
_Static_assert(offsetof(struct perf_event_stats, p999_ns) == 96, "p999_ns");
_Static_assert(offsetof(struct perf_event_stats, rate_mhz) == 104, "rate");
_Static_assert(offsetof(struct perf_event_stats, interval_ns) == 112, "interval");

/* perf_event_name - "IPC_SEND" ... "PAGE_FAULT", or "UNKNOWN" for a bad id. */
static inline const char *perf_event_name(uint32_t id)
{
	static const char *const names[PERF_EVENT_MAX] = {
		"IPC_SEND",       "IPC_RECEIVE",    "VM_ALLOC",      "VM_FREE",
		"TASK_CREATE",    "TASK_TERMINATE", "THREAD_CREATE", "THREAD_TERMINATE",
		"CONTEXT_SWITCH", "INTERRUPT",      "SYSCALL",       "PAGE_FAULT",
	};

	return id < PERF_EVENT_MAX ? names[id] : "UNKNOWN";
}

/*
 * perf_event_lookup - id of the event called name (case-insensitive, an
 * optional "PERF_EVENT_" prefix allowed), or -1.  Needs no libc.
 */
static inline int perf_event_lookup(const char *name)
{
	const char *pfx = "PERF_EVENT_";
	const char *s;
	uint32_t id;
	int i;

	for (i = 0; pfx[i] != 0; i++) {
		char c = name[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != pfx[i])
			break;
	}
	if (pfx[i] == 0)
		name += i;
	for (id = 0; id < PERF_EVENT_MAX; id++) {
		s = perf_event_name(id);
		for (i = 0;; i++) {
			char c = name[i];

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if (c != s[i])
				break;
			if (c == 0)
				return (int)id;
		}
	}
	return -1;
}

#endif /* MACH_PERF_EVENT_H */
