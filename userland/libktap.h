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

#endif
