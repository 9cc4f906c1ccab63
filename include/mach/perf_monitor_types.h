/*
 * The C types of mig-defs/perf_monitor.defs: the engine's statistics,
 * system counters, regression changes, raw records, per-task figures and
 * alert messages as they travel in messages.  Shared with userland.
 * docs/performance-analysis-framework.md ("The RPC interface") says what
 * each routine does; kern/perf_analysis.h is the engine behind it.
 *
 * MIG packs bodies to 4 bytes, so each inline structure is carried as
 * an array of integers and its C type here is the natural structure with
 * its alignment lowered to 4 (a typedef may lower alignment; the layout
 * is unchanged): stubs and servers may then point into a message
 * without misaligned accesses.  The same goes for the address of
 * out-of-line data (the data itself is page-aligned).
 */
#ifndef MACH_PERF_MONITOR_TYPES_H
#define MACH_PERF_MONITOR_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include <mach/message.h>
#include <mach/perf_event.h>

/* perf_monitor_get_event_stats: struct perf_event_stats, 30 natural_t. */
typedef struct perf_event_stats perf_event_stats_data_t __attribute__((aligned(4)));

/*
 * perf_monitor_configure.  rate: raw records per second per CPU, or
 * PERF_RATE_UNLIMITED (a full trace); statistics are exact whatever the
 * rate.  buffer_records: per CPU, a power of two.  mode: what a full
 * buffer does.  The values are the engine's (kern/perf_analysis.h).
 */
#define PERF_RATE_UNLIMITED 0u
#define PERF_RATE_MIN 100u
#define PERF_RATE_MAX 5000u
#define PERF_BUFFER_MIN 1024u
#define PERF_BUFFER_MAX 32768u
#define PERF_BUFFER_DEFAULT 8192u
#define PERF_BUFFER_CIRCULAR 0u /* full: the oldest record is overwritten, counted */
#define PERF_BUFFER_SATURATE 1u /* full: the newest record is dropped, counted */
/* The draft's names, same values. */
#define PERF_MODE_CIRCULAR PERF_BUFFER_CIRCULAR
#define PERF_MODE_SATURATE PERF_BUFFER_SATURATE

/*
 * struct perf_cpu_stats - one CPU's counters, 16 u64 (128 bytes).
 * "since boot" counters never reset; "since reset" ones restart with
 * perf_monitor_reset.  Buffer counters: written = committed + dropped;
 * every committed record is read, overwritten, resize_lost, discarded or
 * still buffered.
 */
struct perf_cpu_stats {
	uint64_t busy_ns;          /* since boot: uptime - idle */
	uint64_t idle_ns;          /* since boot, in the idle thread */
	uint64_t interrupts;       /* since boot */
	uint64_t context_switches; /* since boot */
	uint64_t preemptions;      /* since boot, involuntary switches */
	uint64_t events;           /* events counted in statistics since reset */
	uint64_t sampled_out;      /* since reset: events the rate limit kept out of the buffer */
	uint64_t written;          /* raw records offered to the buffer, since boot */
	uint64_t committed;        /* ... stored */
	uint64_t dropped;          /* ... refused: saturate mode full, or a nested lap */
	uint64_t overwritten;      /* circular: unread records replaced */
	uint64_t resize_lost;      /* unread records a shrink could not keep */
	uint64_t discarded;        /* unread records a reset emptied */
	uint64_t buffered;         /* records no reader has consumed yet */
	uint64_t capacity;         /* buffer size in records */
	uint64_t head;             /* the next record's sequence number (cursor) */
};

#define PERF_SYS_MAX_CPUS 8

/*
 * struct perf_system_stats - perf_monitor_get_system_stats, 1280 bytes
 * (320 natural_t).  The first 128 bytes keep the draft's layout.
 *
 *   offset field
 *        0 flags            PERF_SYS_F_*
 *        4 ncpus            CPUs with a buffer (entries of cpu[] used)
 *        8 sample_rate      raw-record rate limit: records/s per CPU,
 *                           PERF_RATE_UNLIMITED (0) for none
 *       12 buffer_size      raw records per CPU buffer
 *       16 mode             PERF_BUFFER_*
 *       20 event_mask       bit n: event id n records (masked: not counted)
 *       24 events           events counted since reset, all types, all CPUs
 *       32 written          raw records offered to the buffers, since boot
 *       40 read             raw records handed to readers, since boot
 *       48 lost             records the buffers lost, since boot: dropped +
 *                           overwritten + resize_lost + discarded
 *                           (with one reader: written = read + lost + buffered)
 *       56 buffered         raw records waiting in the buffers
 *       64 sampled_out      events without a raw record because of the rate
 *       72 uptime_ns        time since boot
 *       80 tsc_khz          calibrated TSC frequency
 *       88 reserved[5]      zero
 *      128 interval_ns      recording time since the last reset
 *      136 cost_record_ns   calibrated cost of one fully recorded event
 *      144 cost_stats_ns    ... when sampling drops the raw record
 *      152 cost_block_ns    subtracted from every timed block
 *      160 tasks, 164 threads   that exist now
 *      168 ports            IPC ports that exist now
 *      176 free_pages, 184 total_pages   physical memory, 4 KiB pages
 *      192 tsc_hz           calibrated TSC frequency
 *      200 reader_lost      records reported lost to readers, since boot
 *      208 interrupts       sum over CPUs, since boot
 *      216 context_switches sum over CPUs, since boot
 *      224 reserved2[4]     zero
 *      256 cpu[8]           struct perf_cpu_stats, ncpus of them
 */
struct perf_system_stats {
	uint32_t flags;
	uint32_t ncpus;
	uint32_t sample_rate;
	uint32_t buffer_size;
	uint32_t mode;
	uint32_t event_mask;
	uint64_t events;
	uint64_t written;
	uint64_t read;
	uint64_t lost;
	uint64_t buffered;
	uint64_t sampled_out;
	uint64_t uptime_ns;
	uint64_t tsc_khz;
	uint64_t reserved[5];
	uint64_t interval_ns;
	uint64_t cost_record_ns;
	uint64_t cost_stats_ns;
	uint64_t cost_block_ns;
	uint32_t tasks;
	uint32_t threads;
	uint64_t ports;
	uint64_t free_pages;
	uint64_t total_pages;
	uint64_t tsc_hz;
	uint64_t reader_lost;
	uint64_t interrupts;
	uint64_t context_switches;
	uint64_t reserved2[4];
	struct perf_cpu_stats cpu[PERF_SYS_MAX_CPUS];
};

#define PERF_SYS_F_ENABLED 0x01  /* recording */
#define PERF_SYS_F_ICOUNT 0x02   /* clock is icount: times are guest instructions */
#define PERF_SYS_F_BASELINE 0x04 /* a baseline is set or imported */

typedef struct perf_system_stats perf_system_stats_data_t __attribute__((aligned(4)));

/*
 * perf_monitor_check_regression: the verdict (the engine's enum
 * perf_regress_reason, kern/perf_regress.c says what decides) and the
 * changes.  Changes are (current - baseline) / baseline in parts per
 * 10000.
 */
#define PERF_VERDICT_NO_CHANGE 0    /* statistical: not significant */
#define PERF_VERDICT_TOO_FEW 1      /* too few values on a side to decide */
#define PERF_VERDICT_BELOW_FLOOR 2  /* slower, but by less than threshold or noise */
#define PERF_VERDICT_IMPROVED 3     /* significantly faster */
#define PERF_VERDICT_SLOWER 4       /* regressed (statistical) */
#define PERF_VERDICT_EXACT_WITHIN 5 /* icount: no change beyond the threshold */
#define PERF_VERDICT_EXACT_SLOWER 6 /* regressed (icount, exact) */

/* Change when the baseline is 0 and the current value is not. */
#define PERF_CHANGE_INF INT64_MAX

struct perf_regress_changes {
	int64_t mean_change_bp;
	int64_t p50_change_bp;
	int64_t p95_change_bp;
	int64_t p99_change_bp;
	int64_t z_milli; /* Mann-Whitney z x 1000; positive: current larger */
	int64_t auc_ppm; /* P(current > baseline) + P(tie) / 2, ppm */
	uint64_t n_base; /* values in the baseline */
	uint64_t n_cur;  /* values now */
};

typedef struct perf_regress_changes perf_regress_changes_t __attribute__((aligned(4)));

/*
 * perf_monitor_read_samples: out-of-line struct perf_record, counted in
 * 64-bit words (PERF_RECORD_WORDS per record), at most
 * PERF_READ_MAX_RECORDS records a call.  A cursor is the engine's
 * PERF_CURSOR(cpu, seq): one stream per CPU, starting at sequence 0.
 */
#define PERF_RECORD_WORDS (sizeof(struct perf_record) / sizeof(uint64_t))
#define PERF_READ_MAX_RECORDS 2048u
#define PERF_CURSOR_CPU_SHIFT 56
#define PERF_CURSOR(cpu, seq) (((uint64_t)(cpu) << PERF_CURSOR_CPU_SHIFT) | (seq))
#define PERF_CURSOR_CPU(c) ((uint32_t)((c) >> PERF_CURSOR_CPU_SHIFT))
#define PERF_CURSOR_SEQ(c) ((c) & ((1ull << PERF_CURSOR_CPU_SHIFT) - 1))

typedef struct perf_record *perf_record_array_t __attribute__((aligned(4)));

/* perf_monitor_export_baseline / _import_baseline: an opaque byte blob. */
typedef uint8_t *perf_baseline_data_t __attribute__((aligned(4)));
/* Larger imports are refused (KERN_INVALID_ARGUMENT) before parsing. */
#define PERF_BASELINE_MAX_BYTES (1024u * 1024u)

/*
 * perf_monitor_get_task_stats: out of line, PERF_TASK_STATS_WORDS
 * rpc_uint64_t per task, at most PERF_TASK_STATS_MAX tasks.
 */
struct perf_task_stats {
	uint32_t id;             /* task id (the records' task field, low 16 bits) */
	uint32_t threads;        /* threads that have not exited */
	uint64_t cpu_ns;         /* time its threads ran, user + kernel */
	uint64_t resident_pages; /* pages mapped in its address space */
	char name[24];           /* NUL-terminated, truncated */
};

#define PERF_TASK_STATS_WORDS (sizeof(struct perf_task_stats) / sizeof(uint64_t))
#define PERF_TASK_STATS_MAX 256u

typedef struct perf_task_stats *perf_task_stats_array_t __attribute__((aligned(4)));

/*
 * Threshold alerts (perf_monitor_register_alert).  An alert is a
 * one-way message to the registered port (no reply port, no rights,
 * not complex), sent from a kernel thread, never from the probe:
 *
 *   offset field
 *        0 head        msgh_id PERF_ALERT_MSGH_ID, msgh_size 100 (PERF_ALERT_MSG_SIZE)
 *       32 data_type   MACH_MSG_TYPE_INTEGER_32, 32 bits, 16, inline
 *       36 data        struct perf_alert_data
 *
 * At most one alert per registration per PERF_ALERT_INTERVAL_NS; the
 * events over the threshold in between are folded into the next alert:
 * count says how many it stands for and suppressed how many of them got
 * no alert of their own (count - 1).  An alert a full queue refuses is
 * not retried; its events go into the next one.  A registration ends
 * when its port dies or it is cancelled (threshold 0).
 */
#define PERF_ALERT_MSGH_ID 3480
#define PERF_ALERT_MAX 8                    /* registrations, system-wide */
#define PERF_ALERT_INTERVAL_NS 100000000ull /* 100 ms per registration */
#define PERF_ALERT_EVENTS                                                                          \
	((1u << PERF_EVENT_IPC_SEND) | (1u << PERF_EVENT_IPC_RECEIVE) |                            \
	 (1u << PERF_EVENT_INTERRUPT) | (1u << PERF_EVENT_SYSCALL) |                               \
	 (1u << PERF_EVENT_PAGE_FAULT)) /* the timed events */

struct perf_alert_data {
	uint32_t event;        /* enum perf_event_type */
	uint32_t flags;        /* PERF_ALERT_F_* */
	uint32_t task;         /* task id of the longest event */
	uint32_t thread;       /* thread id of the longest event */
	uint64_t duration_ns;  /* the longest event over the threshold this alert covers */
	uint64_t threshold_ns; /* the registration's */
	uint64_t count;        /* events over the threshold since the previous alert (>= 1) */
	uint64_t suppressed;   /* of those, how many got no alert of their own */
	uint64_t seqno;        /* alerts sent on this registration, this one included */
	uint64_t timestamp_ns; /* clock_ns() when it was sent */
};

#define PERF_ALERT_F_ICOUNT 0x01 /* durations are guest instructions */

typedef struct perf_alert_data perf_alert_data_t __attribute__((aligned(4)));

/* The message; msgh_size is PERF_ALERT_MSG_SIZE (sizeof adds 4 bytes of tail padding). */
typedef struct {
	mach_msg_header_t head;
	mach_msg_type_t data_type;
	perf_alert_data_t data;
} perf_alert_msg_t;

#define PERF_ALERT_MSG_SIZE (offsetof(perf_alert_msg_t, data) + sizeof(perf_alert_data_t))

_Static_assert(sizeof(perf_event_stats_data_t) == 30 * 4, "event stats: 30 natural_t");
_Static_assert(_Alignof(perf_event_stats_data_t) == 4, "event stats: 4-aligned");
_Static_assert(sizeof(struct perf_cpu_stats) == 128, "cpu stats: 16 u64");
_Static_assert(sizeof(perf_system_stats_data_t) == 320 * 4, "system stats: 320 natural_t");
_Static_assert(_Alignof(perf_system_stats_data_t) == 4, "system stats: 4-aligned");
_Static_assert(offsetof(struct perf_system_stats, events) == 24, "events");
_Static_assert(offsetof(struct perf_system_stats, buffered) == 56, "buffered");
_Static_assert(offsetof(struct perf_system_stats, tsc_khz) == 80, "tsc_khz");
_Static_assert(offsetof(struct perf_system_stats, interval_ns) == 128, "interval_ns");
_Static_assert(offsetof(struct perf_system_stats, tasks) == 160, "tasks");
_Static_assert(offsetof(struct perf_system_stats, ports) == 168, "ports");
_Static_assert(offsetof(struct perf_system_stats, reader_lost) == 200, "reader_lost");
_Static_assert(offsetof(struct perf_system_stats, cpu) == 256, "cpu");
_Static_assert(sizeof(perf_regress_changes_t) == 8 * 8, "changes: 8 rpc_int64_t");
_Static_assert(_Alignof(perf_regress_changes_t) == 4, "changes: 4-aligned");
_Static_assert(PERF_RECORD_WORDS == 4, "a record is 4 64-bit words");
_Static_assert(sizeof(struct perf_task_stats) == 48, "task stats: 6 u64");
_Static_assert(PERF_TASK_STATS_WORDS == 6, "task stats: 6 rpc_uint64_t");
_Static_assert(sizeof(struct perf_alert_data) == 64, "alert data: 16 natural_t");
_Static_assert(offsetof(perf_alert_msg_t, data) == 36, "alert data after its descriptor");
_Static_assert(PERF_ALERT_MSG_SIZE == 100, "alert message: 100 bytes");

#endif
