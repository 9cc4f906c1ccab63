/*
 * Regression verdicts: compare a baseline distribution of one event with
 * the current one.  See perf_regress.c for exactly which statistic decides.
 */
#ifndef KERN_PERF_REGRESS_H
#define KERN_PERF_REGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "kern/perf_hist.h"
#include "kern/perf_stats.h"

enum perf_regress_mode {
	/* Noisy clock (wall time): Mann-Whitney U plus an effect threshold. */
	PERF_REGRESS_STATISTICAL = 0,
	/* Deterministic clock (icount): any change beyond the threshold. */
	PERF_REGRESS_EXACT = 1,
};

enum perf_regress_reason {
	PERF_REGRESS_R_NO_CHANGE = 0,    /* statistical: U test not significant */
	PERF_REGRESS_R_TOO_FEW = 1,      /* fewer than min_samples on a side */
	PERF_REGRESS_R_BELOW_FLOOR = 2,  /* significantly slower, but mean change
					 * below max(threshold, noise floor) */
	PERF_REGRESS_R_IMPROVED = 3,     /* significantly faster */
	PERF_REGRESS_R_SLOWER = 4,       /* regressed: significant and large enough */
	PERF_REGRESS_R_EXACT_WITHIN = 5, /* exact: no change beyond the threshold */
	PERF_REGRESS_R_EXACT_SLOWER = 6, /* regressed: exact change beyond threshold */
};

struct perf_regress_params {
	uint32_t mode;           /* enum perf_regress_mode */
	uint32_t threshold_bp;   /* allowed slowdown, parts per 10000 (500 = 5%) */
	uint32_t noise_floor_bp; /* statistical: smaller changes never regress */
	uint32_t z_milli;        /* statistical: one-sided critical z x 1000 */
	uint32_t min_samples;    /* statistical: values needed on each side */
};

/* Changes are (current - baseline) / baseline in parts per 10000, signed;
 * PERF_REGRESS_CHANGE_INF when the baseline is 0 and the current is not. */
#define PERF_REGRESS_CHANGE_INF INT64_MAX

/* Exact mode: percentile moves up to this are histogram quantization (1/64). */
#define PERF_REGRESS_HIST_SLACK_BP 160

struct perf_regress_verdict {
	bool regressed;
	uint32_t reason; /* enum perf_regress_reason */
	int64_t mean_change_bp;
	int64_t p50_change_bp;
	int64_t p95_change_bp;
	int64_t p99_change_bp;
	int64_t z_milli;  /* Mann-Whitney z x 1000; positive: current larger */
	uint32_t auc_ppm; /* U / (n_base n_cur): P(cur > base) + P(tie) / 2, ppm */
	uint64_t n_base;
	uint64_t n_cur;
};

/* Result of the Mann-Whitney U test on two histograms. */
struct perf_regress_mw {
	int64_t z_milli; /* |z| saturates at 10^9 */
	uint32_t auc_ppm;
	int sig; /* +1 current significantly larger, -1 smaller, 0 neither */
};

void perf_regress_params_default(struct perf_regress_params *p, enum perf_regress_mode mode);
void perf_regress_mann_whitney(const struct perf_hist *base, const struct perf_hist *cur,
                               uint32_t z_milli, struct perf_regress_mw *mw);
int64_t perf_regress_change_bp(uint64_t base, uint64_t cur);
void perf_regress_compare(const struct perf_regress_params *p, const struct perf_stats *base_s,
                          const struct perf_hist *base_h, const struct perf_stats *cur_s,
                          const struct perf_hist *cur_h, struct perf_regress_verdict *v);
const char *perf_regress_reason_name(uint32_t reason);

#endif /* KERN_PERF_REGRESS_H */
