/*
 * Module strings, as both module runners read them: the kernel's
 * (kern/bootstrap.c) and the user-space bootstrap (userland/bootstrap/,
 * which compiles kern/modspec.c for userland).
 *
 *	PATH [args...] [expect=exit:N | expect=killed | expect=killed:KIND]
 *	     [group=G] [timeout=SECS] [priv=0|1]
 *
 * Words of the form key=value with a known key are runner options; every
 * other word is an argument.  A malformed option or string sets error
 * and leaves the rest parsed.
 */
#ifndef KERN_MODSPEC_H
#define KERN_MODSPEC_H

#include <stdbool.h>

#define MODSPEC_STRING_MAX 256
#define MODSPEC_ARGC_MAX 64
#define MODSPEC_NAME_MAX 128
#define MODSPEC_TIMEOUT_DEFAULT_S 30

struct modspec {
	char words[MODSPEC_STRING_MAX]; /* the string, words NUL-separated */
	int argc;
	const char *argv[MODSPEC_ARGC_MAX]; /* argv[0] is PATH */
	char name[MODSPEC_NAME_MAX];        /* the test case: basename and arguments */
	const char *group;                  /* NULL: runs alone */
	bool expect_killed;
	int expect_status;       /* expect=exit:N (default 0) */
	const char *expect_kind; /* expect=killed:KIND, NULL: any kind */
	unsigned timeout_s;
	bool priv;         /* priv=1: gets the privileged host port */
	const char *error; /* what is malformed, or NULL */
};

/* Parses string (NULL is empty) into ms; the words are copied into ms. */
void modspec_parse(struct modspec *ms, const char *string);

/* The part of path after its last '/'. */
const char *modspec_basename(const char *path);

#endif
