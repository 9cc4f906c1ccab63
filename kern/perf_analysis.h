/*
 * The performance analysis engine: probes, recording control, and the
 * readers' API.  docs/performance-analysis-framework.md describes the
 * whole; kern/perf_analysis.c has the design notes on the record path.
 *
 * Probes
 * ------
 *	PERF_EVENT_RECORD(event, task, thread, data1, data2);
 *	PERF_TIME_BLOCK(event, task, thread, data1, data2, { code; });
 *
 * event is a constant PERF_EVENT_* id; task and thread are the ids the
 * record carries (perf_cur_task_id() and perf_cur_thread_id() give the
 * running ones); data1/data2 are the event's two data words
 * (include/mach/perf_event.h says what each event puts there).  The
 * arguments are evaluated only when the event is recorded; in
 * PERF_TIME_BLOCK they are evaluated after the code, so they may name its
 * results.  The code must not leave the block (return, goto, break): the
 * block's end has to run.
 *
 * Three costs:
 *   - configured out (./configure --disable-perf-analysis): the macros
 *     expand to nothing (PERF_TIME_BLOCK to its code) and the engine is
 *     not linked; the arguments only appear inside sizeof, never evaluated;
 *   - compiled in, event disabled: one load of perf_active_mask and a
 *     branch predicted not taken (testb + jne); a function holding a
 *     PERF_TIME_BLOCK may also save a few more registers in its prologue,
 *     for the recording path's sake;
 *   - recording: statistics always, plus a raw record when the rate
 *     limit allows (see perf_analysis.c and the measured figures in the doc).
 *
 * Control and readers (everything below returning kern_return_t) run in
 * thread context, never from an interrupt, and are serialized by the
 * engine; configured out they all return KERN_FAILURE.
 */
#ifndef KERN_PERF_ANALYSIS_H
#define KERN_PERF_ANALYSIS_H

#include <mach/kern_return.h>
#include <mach/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/perf_regress.h"

struct thread;

/* Ids for the record of the running task (0: kernel) and thread. */
uint32_t perf_cur_task_id(void);
uint32_t perf_cur_thread_id(void);
/* Task id of t (0 for a kernel thread). */
uint32_t perf_thread_task_id(const struct thread *t);
/* PAGE_FAULT data2: PERF_PF_* bits of a fault's error code, and whether it was resolved. */
uint32_t perf_pf_bits(uint64_t error, bool resolved);

#define PERF_EVENT_ALL ((1u << PERF_EVENT_MAX) - 1)

/* ---- probes ---- */

#ifdef CONFIG_PERF_ANALYSIS

/* Bit n set: event n records now (0 while monitoring is disabled). [a] */
extern uint32_t perf_active_mask;

/*
 * A plain load: one instruction (testb $bit, perf_active_mask) and a
 * branch.  A probe inside a loop without calls or memory clobbers may have
 * it hoisted out of the loop: it then sees the mask of the loop's start.
 */
#define PERF_EVENT_ON(event) __builtin_expect((perf_active_mask & (1u << (event))) != 0, 0)

/* A timed block's start: filled by perf_time_begin, read by perf_time_end. */
struct perf_tb {
	uint64_t ticks; /* TSC when the measured window opened */
	uint64_t self;  /* the CPU's engine-cost counter then */
	uint64_t nsw;   /* the CPU's context-switch counter then */
	uint32_t gen;   /* recording generation (changes at enable) */
	uint32_t cpu;
};

/*
 * The probes' entry points.  Call them through the macros only: event is
 * checked at compile time there (< PERF_EVENT_MAX), not again here.
 */
void perf_event_record(uint32_t event, uint32_t task, uint32_t thread, uint64_t data1,
                       uint64_t data2);
void perf_time_begin(struct perf_tb *tb, uint32_t event);
void perf_time_end(const struct perf_tb *tb, uint32_t event, uint32_t task, uint32_t thread,
                   uint64_t data1, uint64_t data2);
void perf_context_switch(const struct thread *from, const struct thread *to);

#define PERF_EVENT_RECORD(event, task, thread, data1, data2)                                       \
	do {                                                                                       \
		_Static_assert((event) < PERF_EVENT_MAX, "a PERF_EVENT_* id");                     \
		if (PERF_EVENT_ON(event))                                                          \
			perf_event_record((event), (task), (thread), (uint64_t)(data1),            \
			                  (uint64_t)(data2));                                      \
	} while (0)

#define PERF_TIME_BLOCK(event, task, thread, data1, data2, ...)                                    \
	do {                                                                                       \
		struct perf_tb perf_tb_;                                                           \
		const bool perf_on_ = PERF_EVENT_ON(event);                                        \
		_Static_assert((event) < PERF_EVENT_MAX, "a PERF_EVENT_* id");                     \
                                                                                                   \
		if (perf_on_)                                                                      \
			perf_time_begin(&perf_tb_, (event));                                       \
		__VA_ARGS__;                                                                       \
		if (perf_on_)                                                                      \
			perf_time_end(&perf_tb_, (event), (task), (thread), (uint64_t)(data1),     \
			              (uint64_t)(data2));                                          \
	} while (0)

/*
 * The scheduler's switch (from, to: struct thread *): records
 * CONTEXT_SWITCH and lets timed blocks leave out the time their thread
 * spent switched out, so it runs whenever any event records.
 */
#define PERF_CONTEXT_SWITCH(from, to)                                                              \
	do {                                                                                       \
		if (__builtin_expect(__atomic_load_n(&perf_active_mask, __ATOMIC_RELAXED) != 0,    \
		                     0))                                                           \
			perf_context_switch((from), (to));                                         \
	} while (0)

#else /* !CONFIG_PERF_ANALYSIS */

#define PERF_EVENT_ON(event) 0

#define PERF_EVENT_RECORD(event, task, thread, data1, data2)                                       \
	do {                                                                                       \
		(void)sizeof(task);                                                                \
		(void)sizeof(thread);                                                              \
		(void)sizeof(data1);                                                               \
		(void)sizeof(data2);                                                               \
	} while (0)

#define PERF_TIME_BLOCK(event, task, thread, data1, data2, ...)                                    \
	do {                                                                                       \
		__VA_ARGS__;                                                                       \
		(void)sizeof(task);                                                                \
		(void)sizeof(thread);                                                              \
		(void)sizeof(data1);                                                               \
		(void)sizeof(data2);                                                               \
	} while (0)

#define PERF_CONTEXT_SWITCH(from, to)                                                              \
	do {                                                                                       \
		(void)sizeof(from);                                                                \
		(void)sizeof(to);                                                                  \
	} while (0)

#endif /* CONFIG_PERF_ANALYSIS */

/* The running task's and thread's ids in a probe. */
#define PERF_EVENT_RECORD_CUR(event, data1, data2)                                                 \
	PERF_EVENT_RECORD(event, perf_cur_task_id(), perf_cur_thread_id(), data1, data2)
#define PERF_TIME_BLOCK_CUR(event, data1, data2, ...)                                              \
	PERF_TIME_BLOCK(event, perf_cur_task_id(), perf_cur_thread_id(), data1, data2, __VA_ARGS__)

/* ---- types ---- */

/* Raw-record sampling: PERF_RATE_UNLIMITED, or 100..5000 records/s per CPU. */
#define PERF_RATE_UNLIMITED 0u
#define PERF_RATE_MIN 100u
#define PERF_RATE_MAX 5000u
#define PERF_BUFFER_MIN 1024u /* records per CPU; a power of two in between */
#define PERF_BUFFER_MAX 32768u
#define PERF_BUFFER_DEFAULT 8192u

/* Buffer modes: the values of enum perf_ring_mode (kern/perf_ring.h). */
#define PERF_BUFFER_CIRCULAR 0u /* full: the oldest record is overwritten, counted */
#define PERF_BUFFER_SATURATE 1u /* full: the newest record is dropped, counted */

/* What calibration measured at the last enable, in TSC ticks (perf_get_calibration). */
struct perf_calibration {
	uint64_t block_ticks;  /* an empty PERF_TIME_BLOCK's measured duration */
	uint64_t record_ticks; /* a whole PERF_EVENT_RECORD, raw record made */
	uint64_t stats_ticks;  /* the same when sampling drops the raw record */
	uint64_t timed_ticks;  /* a whole empty PERF_TIME_BLOCK, raw record made */
	uint64_t timed_stats_ticks;
	bool valid;
};
#define PERF_MAX_CPUS 8

struct perf_cpu_sysstats {
	uint64_t busy_ns;          /* since boot: uptime - idle */
	uint64_t idle_ns;          /* since boot, in the idle thread */
	uint64_t interrupts;       /* since boot */
	uint64_t context_switches; /* since boot */
	uint64_t preemptions;      /* since boot */
	uint64_t events;           /* events counted in statistics since reset */
	uint64_t sampled_out;      /* events the rate limit kept out of the buffer */
	uint64_t written;          /* raw records offered to the buffer, ever */
	uint64_t committed;        /* ... stored */
	uint64_t dropped;          /* ... refused: saturate full, or nested lap */
	uint64_t overwritten;      /* circular: unread records replaced */
	uint64_t resize_lost;      /* unread records a shrink could not keep */
	uint64_t discarded;        /* unread records perf_reset emptied */
	uint64_t buffered;         /* records a reader has not consumed (<= capacity) */
	uint64_t capacity;         /* buffer size in records */
	uint64_t head;             /* the next record's sequence number */
};

struct perf_sysstats {
	bool enabled;
	bool baseline; /* a baseline is set or imported */
	bool icount;   /* clock mode icount: times are guest instructions */
	uint32_t event_mask;
	uint32_t rate;           /* PERF_RATE_UNLIMITED or records/s per CPU */
	uint32_t buffer_records; /* per CPU */
	uint32_t mode;           /* PERF_BUFFER_* */
	uint32_t ncpus;
	uint64_t tsc_hz;
	uint64_t uptime_ns;
	uint64_t interval_ns;    /* recording time since the last reset */
	uint64_t cost_record_ns; /* calibrated cost of one fully recorded event */
	uint64_t cost_stats_ns;  /* ... when sampling drops the raw record */
	uint64_t cost_block_ns;  /* subtracted from every timed block */
	uint32_t tasks;
	uint32_t threads;
	uint64_t free_pages;
	uint64_t total_pages;
	uint64_t read; /* records handed to readers since boot */
	uint64_t lost; /* records reported lost to readers since boot */
	struct perf_cpu_sysstats cpu[PERF_MAX_CPUS];
};

/*
 * Raw records: a cursor names one CPU's stream and a sequence number in
 * it.  Records are per CPU (each CPU writes only its own buffer, and its
 * timestamps never go backwards within it); a reader keeps one cursor per
 * CPU, starting from PERF_CURSOR(cpu, 0), and merges by timestamp if it
 * wants one stream.  Today ncpus == 1 and the cursor of CPU 0 is simply
 * the sequence number.
 */
#define PERF_CURSOR_CPU_SHIFT 56
#define PERF_CURSOR(cpu, seq) (((uint64_t)(cpu) << PERF_CURSOR_CPU_SHIFT) | (seq))
#define PERF_CURSOR_CPU(c) ((uint32_t)((c) >> PERF_CURSOR_CPU_SHIFT))
#define PERF_CURSOR_SEQ(c) ((c) & ((1ull << PERF_CURSOR_CPU_SHIFT) - 1))

#ifdef CONFIG_PERF_ANALYSIS

/* ---- control ---- */

/*
 * Allocates every CPU's buffers, statistics and histograms (nothing is
 * allocated later but by perf_configure and the baseline import), reads
 * "perf.enable" and "perf.inject=EVENT:NS" from the command line.  Once,
 * after clock_init and sched_init.  Panics only if boot memory runs out.
 */
void perf_analysis_init(void);

/*
 * Starts (true) or stops recording.  Starting from stopped calibrates the
 * engine's own cost first (see perf_analysis.c).  Statistics and buffers
 * are kept across stop and start.  KERN_SUCCESS; KERN_FAILURE if the
 * engine is not initialized (or configured out).
 */
kern_return_t perf_monitor_enable(bool on);
bool perf_monitor_enabled(void);

/* Which events record (bit n: event n).  KERN_INVALID_ARGUMENT for unknown bits. */
kern_return_t perf_set_event_mask(uint32_t mask);
uint32_t perf_get_event_mask(void);

/*
 * Sets the raw-record rate limit, the buffer size (records per CPU) and
 * the buffer mode, for every CPU, while recording goes on.  A resize keeps
 * the newest unread records that fit and counts the others as lost; no
 * record is lost uncounted.  KERN_INVALID_ARGUMENT for a rate, size or
 * mode out of range (nothing changed); KERN_RESOURCE_SHORTAGE when the new
 * buffers cannot be allocated (nothing changed).
 */
kern_return_t perf_configure(uint32_t rate, uint32_t buffer_records, uint32_t mode);

/*
 * Clears statistics, histograms and the sampling state and counters,
 * restarts the measured interval, and empties the buffers: unread records
 * are counted as lost for a reader behind (cursors stay valid, sequence
 * numbers are never reused).  The buffers' own counters (written,
 * dropped, ...) and the readers' totals run on since boot.  Keeps the
 * baseline.
 */
kern_return_t perf_reset(void);

/*
 * Test-only knob: every timed block of event waits ns more inside its
 * measured window (0 turns it off), so regression detection can be
 * tested; also "perf.inject=EVENT:NS" on the command line.  Nothing else
 * uses it.  KERN_INVALID_ARGUMENT for a bad event or more than 1 s.
 */
kern_return_t perf_inject_delay(uint32_t event, uint64_t ns);

/* What calibration measured at the last enable, in TSC ticks. */
void perf_get_calibration(struct perf_calibration *out);

/* ---- readers ---- */

/*
 * The statistics of one event, merged over CPUs, over the interval since
 * the last reset during which recording was enabled.  Durations are in
 * ns (guest instructions under icount, PERF_STATS_F_ICOUNT); events
 * recorded without a duration count as 0.  KERN_INVALID_ARGUMENT for a
 * bad event or a NULL out.
 */
kern_return_t perf_get_event_stats(uint32_t event, struct perf_event_stats *out);

/* Engine, scheduler and memory counters.  KERN_INVALID_ARGUMENT for NULL. */
kern_return_t perf_get_system_stats(struct perf_sysstats *out);

/*
 * Copies up to max records of the cursor's CPU from *cursor on into out,
 * sets *nread, and advances *cursor past them and past the records lost
 * on the way, whose number goes in *lost: over any sequence of calls,
 * records read + lost == records written.  A read stops early at a
 * record still being written; call again while *nread or *lost is not 0.
 * KERN_INVALID_ARGUMENT for NULL pointers or a cursor naming no CPU.
 */
kern_return_t perf_read_samples(uint64_t *cursor, struct perf_record *out, size_t max,
                                size_t *nread, uint64_t *lost);

/* ---- baselines and regressions (kern/perf_baseline.c) ---- */

/* Snapshots every event's statistics and histogram as the baseline. */
kern_return_t perf_set_baseline(void);

/*
 * The baseline as a flat byte string (format in perf_baseline.c: little
 * endian, versioned, CRC-32).  *len gets its size; with size too small
 * (or buf NULL) nothing is written and KERN_INVALID_ARGUMENT returned.
 * KERN_FAILURE when no baseline is set.
 */
kern_return_t perf_baseline_export(void *buf, size_t size, size_t *len);

/* Validates a perf_baseline_export string and makes it the baseline;
 * KERN_INVALID_ARGUMENT (baseline unchanged) for anything malformed. */
kern_return_t perf_baseline_import(const void *buf, size_t len);

/*
 * Compares the event's current distribution with the baseline's at a
 * threshold in percent (0..1000): exact mode when both were measured
 * under icount, statistical otherwise (kern/perf_regress.c says what
 * decides).  KERN_INVALID_ARGUMENT for a bad event, threshold or NULL;
 * KERN_FAILURE without a baseline, or when the baseline was measured on
 * the other kind of clock.
 */
kern_return_t perf_check_regression(uint32_t event, uint32_t threshold_pct,
                                    struct perf_regress_verdict *out);

/* bench=perf on the command line: runs kern/perf_bench.c and exits QEMU. */
void perf_bench_main(void);

#else  /* !CONFIG_PERF_ANALYSIS */

/* Configured out: the engine is not linked; its entry points say so. */
static inline void perf_analysis_init(void)
{
}
static inline kern_return_t perf_monitor_enable(bool on)
{
	return KERN_FAILURE;
}
static inline bool perf_monitor_enabled(void)
{
	return false;
}
static inline kern_return_t perf_set_event_mask(uint32_t mask)
{
	return KERN_FAILURE;
}
static inline uint32_t perf_get_event_mask(void)
{
	return 0;
}
static inline kern_return_t perf_configure(uint32_t rate, uint32_t buffer_records, uint32_t mode)
{
	return KERN_FAILURE;
}
static inline kern_return_t perf_reset(void)
{
	return KERN_FAILURE;
}
static inline kern_return_t perf_inject_delay(uint32_t event, uint64_t ns)
{
	return KERN_FAILURE;
}
static inline void perf_get_calibration(struct perf_calibration *out)
{
	*out = (struct perf_calibration){ 0 };
}
static inline kern_return_t perf_get_event_stats(uint32_t event, struct perf_event_stats *out)
{
	return KERN_FAILURE;
}
static inline kern_return_t perf_get_system_stats(struct perf_sysstats *out)
{
	return KERN_FAILURE;
}
static inline kern_return_t perf_read_samples(uint64_t *cursor, struct perf_record *out, size_t max,
                                              size_t *nread, uint64_t *lost)
{
	return KERN_FAILURE;
}
static inline kern_return_t perf_set_baseline(void)
{
	return KERN_FAILURE;
}
static inline kern_return_t perf_baseline_export(void *buf, size_t size, size_t *len)
{
	return KERN_FAILURE;
}
static inline kern_return_t perf_baseline_import(const void *buf, size_t len)
{
	return KERN_FAILURE;
}
static inline kern_return_t perf_check_regression(uint32_t event, uint32_t threshold_pct,
                                                  struct perf_regress_verdict *out)
{
	return KERN_FAILURE;
}
static inline void perf_bench_main(void)
{
}
#endif /* CONFIG_PERF_ANALYSIS */

#endif /* KERN_PERF_ANALYSIS_H */
