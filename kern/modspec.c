/*
 * Module-string parsing (see modspec.h).  Plain C with no kernel or libc
 * dependency beyond the string routines both worlds have.
 */
#include <stddef.h>

#ifdef KERNEL
#include "kern/string.h"
#else
#include <string.h>
#endif

#include "kern/modspec.h"

const char *modspec_basename(const char *path)
{
	const char *b = path;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

/* Decimal, with an optional sign; false if s is not a number. */
static bool ms_int(const char *s, long *v)
{
	bool neg = *s == '-';
	long n = 0;

	if (neg || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000)
			return false;
		n = n * 10 + (*s - '0');
	}
	*v = neg ? -n : n;
	return true;
}

/* A runner option (key=value with a known key)?  Applies it and returns true. */
static bool ms_option(struct modspec *ms, const char *w)
{
	long v;

	if (strncmp(w, "expect=", 7) == 0) {
		const char *e = w + 7;

		if (strncmp(e, "exit:", 5) == 0 && ms_int(e + 5, &v)) {
			ms->expect_killed = false;
			ms->expect_status = (int)v;
		} else if (strcmp(e, "killed") == 0) {
			ms->expect_killed = true;
			ms->expect_kind = NULL;
		} else if (strncmp(e, "killed:", 7) == 0 && e[7]) {
			ms->expect_killed = true;
			ms->expect_kind = e + 7;
		} else {
			ms->error = "bad expect= (exit:N, killed or killed:KIND)";
		}
		return true;
	}
	if (strncmp(w, "group=", 6) == 0) {
		ms->group = w[6] ? w + 6 : NULL;
		return true;
	}
	if (strncmp(w, "priv=", 5) == 0) {
		if (strcmp(w + 5, "0") == 0 || strcmp(w + 5, "1") == 0)
			ms->priv = w[5] == '1';
		else
			ms->error = "bad priv= (0 or 1)";
		return true;
	}
	if (strncmp(w, "timeout=", 8) == 0) {
		if (ms_int(w + 8, &v) && v > 0)
			ms->timeout_s = (unsigned)v;
		else
			ms->error = "bad timeout= (seconds)";
		return true;
	}
	return false;
}

/* Appends s to ms->name if it fits whole; the name stays terminated. */
static void ms_name_add(struct modspec *ms, const char *s)
{
	size_t n = strlen(ms->name), k = strlen(s);

	if (n + k < sizeof(ms->name))
		memcpy(ms->name + n, s, k + 1);
}

void modspec_parse(struct modspec *ms, const char *string)
{
	size_t len = string ? strlen(string) : 0;

	memset(ms, 0, sizeof(*ms));
	ms->timeout_s = MODSPEC_TIMEOUT_DEFAULT_S;
	if (len >= sizeof(ms->words))
		len = sizeof(ms->words) - 1;
	if (len)
		memcpy(ms->words, string, len);

	for (char *p = ms->words; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		char *w = p;

		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
		if (ms->argc > 0 && ms_option(ms, w))
			continue;
		if (ms->argc == MODSPEC_ARGC_MAX) {
			ms->error = "too many arguments";
			break;
		}
		ms->argv[ms->argc++] = w;
	}
	if (ms->argc == 0) {
		ms->argv[ms->argc++] = "module";
		ms->error = "empty module string";
	}
	ms_name_add(ms, modspec_basename(ms->argv[0]));
	for (int i = 1; i < ms->argc; i++) {
		ms_name_add(ms, " ");
		ms_name_add(ms, ms->argv[i]);
	}
}
