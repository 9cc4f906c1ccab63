/*
 * The perf engine's state, shared by its files (perf_analysis.c records
 * and controls, perf_query.c and perf_baseline.c read).  Nothing outside
 * the engine includes this.
 *
 * Lock legend: [I] set at init, [c] written only by the owning CPU with
 * interrupts masked (the record path and control code running there),
 * [m] the engine mutex (pa_lock), [a] atomic.
 */
#ifndef KERN_PERF_INTERNAL_H
#define KERN_PERF_INTERNAL_H

#include <mach/perf_event.h>
#include <stdbool.h>
#include <stdint.h>

#include "kern/perf_analysis.h"
#include "kern/perf_hist.h"
#include "kern/perf_ratelimit.h"
#include "kern/perf_ring.h"
#include "kern/perf_stats.h"

/* Buckets of one event's histogram: perf_hist's, then the overflow bin. */
#define PA_NBUCKETS (PERF_HIST_NBUCKETS + 1)

/* Context switches remembered per CPU, for timed blocks that span some. */
#define PA_SW_HIST 8

struct pa_switch {
	uint64_t ticks; /* TSC at the switch */
	uint64_t self;  /* the CPU's engine-cost counter then */
	uint32_t to;    /* id of the thread switched to */
};

/* Indexes of pa_cpu.cost: [timed][raw record made]. */
#define PA_COST_UNTIMED 0
#define PA_COST_TIMED 1

struct pa_cpu {
	struct perf_ring ring;                /* [c] writer; readers under [m] */
	struct perf_ratelimit rl;             /* [c] in TSC ticks, not ns */
	uint64_t self;                        /* [c] calibrated engine cost spent here, ticks */
	uint64_t block;                       /* [c] ticks an empty timed block measures */
	uint64_t cost[2][2];                  /* [c] ticks one probe costs: [timed][raw record] */
	uint64_t nsw;                         /* [c] context switches noted */
	struct pa_switch sw[PA_SW_HIST];      /* [c] the last PA_SW_HIST of them */
	uint64_t ucount[PERF_EVENT_MAX];      /* [c] events recorded without duration */
	struct perf_stats st[PERF_EVENT_MAX]; /* [c] durations of timed events, ns */
	uint64_t (*hist)[PA_NBUCKETS];        /* [I] per event; [c] contents */
	void *ring_mem;                       /* [m] the ring's memory block */
	uint32_t ring_records;                /* [m] */
	uint32_t hdr_bits;                    /* [I] record bytes 8-11: cpu, PERF_REC_F_ICOUNT */
	uint32_t cpu;                         /* [I] */
};

extern struct pa_cpu *pa_cpus[PERF_MAX_CPUS]; /* [I] NULL beyond pa_ncpus */
extern uint32_t pa_ncpus;                     /* [I] */
extern bool pa_icount;                        /* [I] the clock counts instructions */

/* The engine mutex: control and readers, thread context only. */
void pa_lock(void);
void pa_unlock(void);

/* TSC ticks to ns with the calibrated frequency. */
uint64_t pa_ticks_to_ns(uint64_t ticks);

/*
 * A ring record's timestamp (raw TSC, as the record path stores it) to
 * ns since boot, as readers get it.
 */
uint64_t pa_ts_to_ns(uint64_t ticks);

/* Recording time since the last reset, ns.  [m] */
uint64_t pa_interval_ns(void);

/* Fills the engine's settings and calibration into a system-stats block.  [m] */
void pa_get_config(struct perf_sysstats *out);

/* Allocates the baseline (perf_baseline.c); from perf_analysis_init. */
void pa_baseline_init(void);

/* Is a baseline set (perf_baseline.c)?  [m] */
bool pa_baseline_is_set(void);

/* A histogram's worth of scratch space for readers.  [m] */
extern struct perf_hist pa_hist_tmp;

/*
 * Merged statistics and histogram of event over every CPU, each CPU's
 * part copied with its interrupts masked.  [m]
 */
void pa_merge_event(uint32_t event, struct perf_stats *st, struct perf_hist *h);

#endif /* KERN_PERF_INTERNAL_H */
