/*
 * The C types of mig-defs/perf_monitor.defs: the engine's statistics,
 * system counters, regression changes and raw records as they travel in
 * messages.  Shared with userland.
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

#include <mach/perf_event.h>

/* perf_monitor_get_event_stats: struct perf_event_stats, 30 natural_t. */
typedef struct perf_event_stats perf_event_stats_data_t __attribute__((aligned(4)));

/* perf_monitor_configure mode: what a full per-CPU buffer does. */
#define PERF_MODE_SATURATE 0 /* refuse new records (counted as lost) */
#define PERF_MODE_CIRCULAR 1 /* overwrite the oldest (counted as lost) */

/*
 * struct perf_system_stats - engine-wide counters, 128 bytes
 * (perf_monitor_get_system_stats, 32 natural_t).
 *
 *   offset field
 *        0 flags          PERF_SYS_F_*
 *        4 ncpus          CPUs with a buffer
 *        8 sample_rate    1 in sample_rate events makes a raw record
 *       12 buffer_size    raw records per CPU buffer
 *       16 mode           PERF_MODE_*
 *       20 event_mask     bit n: event id n makes raw records
 *       24 events         events seen, all types (exact, never sampled)
 *       32 written        raw records offered to the buffers
 *       40 read           raw records handed to readers
 *       48 lost           raw records lost (refused, overwritten, resized away)
 *       56 buffered       raw records waiting in the buffers
 *                         (written = read + lost + buffered)
 *       64 sampled_out    events that made no raw record because of sampling
 *       72 uptime_ns      time since boot
 *       80 tsc_khz        calibrated TSC frequency
 *       88 reserved[5]    zero
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
};

#define PERF_SYS_F_ENABLED 0x01  /* recording */
#define PERF_SYS_F_ICOUNT 0x02   /* clock is icount: times are guest instructions */
#define PERF_SYS_F_BASELINE 0x04 /* a baseline is set */

typedef struct perf_system_stats perf_system_stats_data_t __attribute__((aligned(4)));

/*
 * perf_monitor_check_regression: the verdict and the changes.
 * Changes are (current - baseline) / baseline in parts per 10000.
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
 * 64-bit words (PERF_RECORD_WORDS per record).
 */
#define PERF_RECORD_WORDS (sizeof(struct perf_record) / sizeof(uint64_t))

typedef struct perf_record *perf_record_array_t __attribute__((aligned(4)));

/* perf_monitor_export_baseline / _import_baseline: an opaque byte blob. */
typedef uint8_t *perf_baseline_data_t __attribute__((aligned(4)));

_Static_assert(sizeof(perf_event_stats_data_t) == 30 * 4, "event stats: 30 natural_t");
_Static_assert(_Alignof(perf_event_stats_data_t) == 4, "event stats: 4-aligned");
_Static_assert(sizeof(perf_system_stats_data_t) == 32 * 4, "system stats: 32 natural_t");
_Static_assert(_Alignof(perf_system_stats_data_t) == 4, "system stats: 4-aligned");
_Static_assert(offsetof(struct perf_system_stats, events) == 24, "events");
_Static_assert(offsetof(struct perf_system_stats, buffered) == 56, "buffered");
_Static_assert(offsetof(struct perf_system_stats, tsc_khz) == 80, "tsc_khz");
_Static_assert(sizeof(perf_regress_changes_t) == 8 * 8, "changes: 8 rpc_int64_t");
_Static_assert(_Alignof(perf_regress_changes_t) == 4, "changes: 4-aligned");
_Static_assert(PERF_RECORD_WORDS == 4, "a record is 4 64-bit words");

#endif
