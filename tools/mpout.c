/*
 * mpout.c - all-or-nothing output files and a small JSON writer.
 *
 * JSON strings: names come from the guest and may hold any byte.  Quotes,
 * backslashes and control characters are escaped; valid UTF-8 passes
 * through; every byte that does not start a valid UTF-8 sequence becomes
 * U+FFFD, so the document is always valid JSON (RFC 8259 wants UTF-8).
 */
#include "tools/mpout.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

FILE *mp_out_open(struct mp_out *o, const char *path, const char *prog)
{
	memset(o, 0, sizeof(*o));
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return o->f;
	}
	o->path = strdup(path);
	o->tmp = malloc(strlen(path) + 5);
	if (!o->path || !o->tmp) {
		fprintf(stderr, "%s: out of memory\n", prog);
		free(o->path);
		free(o->tmp);
		return NULL;
	}
	strcpy(o->tmp, path);
	strcat(o->tmp, ".tmp");
	o->f = fopen(o->tmp, "w");
	if (!o->f) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, o->tmp, strerror(errno));
		free(o->path);
		free(o->tmp);
	}
	return o->f;
}

int mp_out_close(struct mp_out *o, bool keep, const char *prog)
{
	int rc = 0;

	if (!o->f)
		return -1;
	if (!o->path) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "%s: writing standard output: %s\n", prog, strerror(errno));
			rc = -1;
		}
		o->f = NULL;
		return keep ? rc : -1;
	}
	if (fflush(o->f) != 0 || ferror(o->f)) {
		fprintf(stderr, "%s: writing %s: %s\n", prog, o->tmp, strerror(errno));
		rc = -1;
	}
	if (fclose(o->f) != 0 && rc == 0) {
		fprintf(stderr, "%s: closing %s: %s\n", prog, o->tmp, strerror(errno));
		rc = -1;
	}
	if (keep && rc == 0 && rename(o->tmp, o->path) != 0) {
		fprintf(stderr, "%s: renaming %s to %s: %s\n", prog, o->tmp, o->path,
		        strerror(errno));
		rc = -1;
	}
	if (!keep || rc != 0)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return keep ? rc : -1;
}

size_t mp_utf8_len(const uint8_t *p, size_t n)
{
	uint32_t c;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

void mj_escape(FILE *f, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;

	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t len;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c == '\t') {
			fputs("\\t", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if ((len = mp_utf8_len(p + i, n - i)) == 0) {
			fputs("\\ufffd", f);
			i++;
		} else {
			fwrite(p + i, 1, len, f);
			i += len;
		}
	}
}

void mj_init(struct mj *j, FILE *f, int pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

static void mj_newline(struct mj *j)
{
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* mj_sep - what goes before a value: nothing after a key, else a comma. */
static void mj_sep(struct mj *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (j->comma[j->depth])
		fputc(',', j->f);
	if (j->depth <= j->pretty)
		mj_newline(j);
	j->comma[j->depth] = true;
}

void mj_begin(struct mj *j, char open)
{
	mj_sep(j);
	fputc(open, j->f);
	if (j->depth < MJ_MAX_DEPTH)
		j->depth++;
	j->comma[j->depth] = false;
}

void mj_end(struct mj *j, char close)
{
	bool any = j->comma[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (any && j->depth < j->pretty)
		mj_newline(j);
	fputc(close, j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void mj_key(struct mj *j, const char *key)
{
	mj_sep(j);
	fputc('"', j->f);
	mj_escape(j->f, key, strlen(key));
	fputs(j->depth <= j->pretty ? "\": " : "\":", j->f);
	j->after_key = true;
}

void mj_strn(struct mj *j, const char *s, size_t n)
{
	mj_sep(j);
	fputc('"', j->f);
	mj_escape(j->f, s, n);
	fputc('"', j->f);
}

void mj_str(struct mj *j, const char *s)
{
	mj_strn(j, s, strlen(s));
}

void mj_u64(struct mj *j, uint64_t v)
{
	mj_sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void mj_i64(struct mj *j, int64_t v)
{
	mj_sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void mj_bool(struct mj *j, bool v)
{
	mj_sep(j);
	fputs(v ? "true" : "false", j->f);
}

void mj_null(struct mj *j)
{
	mj_sep(j);
	fputs("null", j->f);
}

void mj_milli(struct mj *j, uint64_t v)
{
	mj_sep(j);
	fprintf(j->f, "%" PRIu64 ".%03u", v / 1000, (unsigned)(v % 1000));
}

void mj_kstr(struct mj *j, const char *key, const char *s)
{
	mj_key(j, key);
	mj_str(j, s);
}

void mj_ku64(struct mj *j, const char *key, uint64_t v)
{
	mj_key(j, key);
	mj_u64(j, v);
}

void mj_kbool(struct mj *j, const char *key, bool v)
{
	mj_key(j, key);
	mj_bool(j, v);
}

void mj_kmilli(struct mj *j, const char *key, uint64_t v)
{
	mj_key(j, key);
	mj_milli(j, v);
}
