/* KTAP output for user test programs (libktap.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mach/mach_error.h>
#include <mach/mach_traps.h>
#include <stdint.h>

#include "libktap.h"

#define KTAP_LINE 512

static int ktap_planned;
static int ktap_run;
static int ktap_failed;

/* One line, prefix + formatted text + newline, in one mach_print (truncated if long). */
static void ktap_vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[KTAP_LINE];
	size_t n;

	snprintf(line, sizeof(line) - 1, "%s", prefix);
	n = strlen(line);
	vsnprintf(line + n, sizeof(line) - 1 - n, fmt, ap);
	n = strlen(line);
	line[n] = '\n';
	line[n + 1] = '\0';
	mach_print(line);
}

static void ktap_line(const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vline(prefix, fmt, ap);
	va_end(ap);
}

void ktap_plan(int n)
{
	ktap_planned = n;
	ktap_line("", "KTAP version 1\n1..%d", n);
}

bool ktap_ok(bool ok, const char *name_fmt, ...)
{
	char prefix[32];
	va_list ap;

	ktap_run++;
	if (!ok)
		ktap_failed++;
	snprintf(prefix, sizeof(prefix), "%sok %d ", ok ? "" : "not ", ktap_run);
	va_start(ap, name_fmt);
	ktap_vline(prefix, name_fmt, ap);
	va_end(ap);
	return ok;
}

void ktap_skip(const char *name, const char *reason)
{
	ktap_run++;
	ktap_line("", "ok %d %s # SKIP %s", ktap_run, name, reason);
}

void ktap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vline("# ", fmt, ap);
	va_end(ap);
}

int ktap_done(void)
{
	if (ktap_run != ktap_planned)
		ktap_diag("planned %d cases, ran %d", ktap_planned, ktap_run);
	ktap_diag("%d passed, %d failed", ktap_run - ktap_failed, ktap_failed);
	return ktap_failed == 0 && ktap_run == ktap_planned ? 0 : 1;
}

/* The ktest trap fail_after (tests/kern/ktest_traps.h); false without it. */
#define KTAP_TRAP_FAIL_AFTER -104
#define KTAP_SWEEP_MAX 200

static bool ktap_fail_after(unsigned n, uint32_t *pending)
{
	return mach_trap_raw(KTAP_TRAP_FAIL_AFTER, n, (long)pending, 0, 0, 0, 0) == 0;
}

bool ktap_sweep_step(struct ktap_sweep *sw, const char *what, int kr)
{
	uint32_t pending = 0;

	if (kr != 0) {
		/* Read the count without disturbing it: set the same one back. */
		ktap_fail_after(0, &pending);
		if (pending != 0) {
			ktap_diag("%s: %s (%#x) before the injected failure", what,
			          mach_error_name(kr), (unsigned)kr);
			sw->bad = true;
		}
		ktap_fail_after(pending, &pending);
	}
	return kr == 0;
}

void ktap_sweep(const char *name, struct ktap_sweep *sw)
{
	uint32_t pending = 0;
	unsigned n;

	sw->bad = false;
	for (n = 1; n <= KTAP_SWEEP_MAX; n++) {
		if (sw->setup && !sw->setup(sw->ctx)) {
			sw->bad = true;
			break;
		}
		if (!ktap_fail_after(n, &pending)) {
			if (sw->teardown)
				sw->teardown(sw->ctx);
			ktap_skip(name, "no fail_after trap (not a ktest kernel)");
			return;
		}
		sw->op(sw);
		ktap_fail_after(0, &pending);
		if (sw->teardown && !sw->teardown(sw->ctx))
			sw->bad = true;
		if (pending != 0)
			break; /* fewer than n allocations: the operation ran whole */
	}
	ktap_diag("%s: %u allocation failures swept", name, n - 1);
	ktap_ok(!sw->bad && n > 1 && n <= KTAP_SWEEP_MAX, "%s", name);
}
