/*
 * KTAP output for user test programs.  The kernel indents everything a
 * task prints, so a program's block appears as a nested subtest of the
 * `user` suite:
 *
 *	ktap_plan(2);
 *	ktap_ok(x == 1, "x_is_one");
 *	ktap_diag("x = %d", x);
 *	return ktap_done();	// exit status: 0 iff every planned case passed
 *
 * Every line goes out in one mach_print, unbuffered, so nothing is lost
 * if the program dies and lines from concurrent tasks never interleave
 * mid-line.
 */
#ifndef USERLAND_LIBKTAP_H
#define USERLAND_LIBKTAP_H

#include <stdbool.h>

/* Prints "KTAP version 1" and "1..n". */
void ktap_plan(int n);
/* Prints "ok N name" or "not ok N name"; returns ok. */
bool ktap_ok(bool ok, const char *name_fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "ok N name # SKIP reason". */
void ktap_skip(const char *name, const char *reason);
/* Prints "# ..." (a diagnostic line). */
void ktap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a summary diagnostic; 0 if all cases ran and passed, else 1. */
int ktap_done(void);

/*
 * Allocation-failure sweeps through kernel calls, with the ktest trap
 * fail_after (tests/kern/ktest_traps.h: the nth kernel allocation from
 * now fails).  ktap_sweep runs op for n = 1, 2, ... with the nth failing,
 * until a run makes fewer than n allocations, and reports one case
 * `name`; setup and teardown (either may be NULL) run around each run,
 * outside the window, on ctx.  op reports each kernel call's result with
 * ktap_sweep_step, which says whether it succeeded and marks the case
 * failed if it failed before the injected failure happened.  Without the
 * trap (not a ktest kernel) the case is skipped.  The kernel's own leak
 * check (the user suite's no_leaks) sees what a run lost.
 */
struct ktap_sweep {
	void *ctx;
	bool (*setup)(void *ctx);
	void (*op)(struct ktap_sweep *sw);
	bool (*teardown)(void *ctx);
	bool bad; /* [op] a step failed before the injection */
};
bool ktap_sweep_step(struct ktap_sweep *sw, const char *what, int kr);
void ktap_sweep(const char *name, struct ktap_sweep *sw);

#endif
