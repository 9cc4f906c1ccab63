/*
 * mpout - output files that appear complete or not at all, and the JSON
 * writer the tools share.
 *
 * mp_out_open() writes to PATH.tmp (or stdout for "-"); mp_out_close(keep)
 * flushes, checks for write errors and renames PATH.tmp to PATH, or removes
 * PATH.tmp when keep is false or anything failed.  A reader of PATH never
 * sees a half-written file.
 */
#ifndef TOOLS_MPOUT_H
#define TOOLS_MPOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct mp_out {
	FILE *f;
	char *path; /* NULL for stdout */
	char *tmp;
};

/* mp_out_open - the stream to write, or NULL (message printed). */
FILE *mp_out_open(struct mp_out *o, const char *path, const char *prog);

/* mp_out_close - 0 when keep and everything reached PATH; else -1 and no PATH.tmp. */
int mp_out_close(struct mp_out *o, bool keep, const char *prog);

/* mp_utf8_len - length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
size_t mp_utf8_len(const uint8_t *p, size_t n);

#define MJ_MAX_DEPTH 16

/*
 * A streaming JSON writer.  Containers opened at a depth below pretty put
 * each member on its own line; deeper ones are written on one line.
 */
struct mj {
	FILE *f;
	int depth, pretty;
	bool after_key;
	bool comma[MJ_MAX_DEPTH + 1];
};

void mj_init(struct mj *j, FILE *f, int pretty);
void mj_begin(struct mj *j, char open);
void mj_end(struct mj *j, char close);
void mj_key(struct mj *j, const char *key);
void mj_str(struct mj *j, const char *s);
void mj_strn(struct mj *j, const char *s, size_t n);
void mj_u64(struct mj *j, uint64_t v);
void mj_i64(struct mj *j, int64_t v);
void mj_bool(struct mj *j, bool v);
void mj_null(struct mj *j);
/* v / 1000 with three decimals, exactly: 12345 -> 12.345 */
void mj_milli(struct mj *j, uint64_t v);
/* v ns as microseconds with three decimals: 12345 -> 12.345 */
#define mj_ns_as_us mj_milli

/* Shorthands for "key": value. */
void mj_kstr(struct mj *j, const char *key, const char *s);
void mj_ku64(struct mj *j, const char *key, uint64_t v);
void mj_kbool(struct mj *j, const char *key, bool v);
void mj_kmilli(struct mj *j, const char *key, uint64_t v);

/* mj_escape - s (n bytes) as the inside of a JSON string. */
void mj_escape(FILE *f, const char *s, size_t n);

#endif /* TOOLS_MPOUT_H */
