/* KTAP output for user test programs (libktap.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mach/mach_traps.h>

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
