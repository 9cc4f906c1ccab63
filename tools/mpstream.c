/*
 * mpstream.c - frames of the perf stream: CRC, codecs, and a resynchronising
 * reader.
 *
 * The reader keeps a window buf[pos, end) of the input, large enough for
 * the biggest legal frame, and looks at buf[pos]:
 *
 *	header bad or CRC bad  -> corrupt (counted once per run), pos += 1,
 *	                          scan for the next "MPF1"
 *	input ends inside it   -> truncated (unless already resynchronising),
 *	                          then scan on from pos + 1 as well
 *	good                   -> sequence check, return it, pos += frame size
 *
 * A run of garbage counts as one corrupt frame however long it is; the
 * frames it swallowed show up again as missing sequence numbers.  A good
 * frame whose seq steps back (or repeats) is dropped and counted as
 * reordered: its records may already have been counted, and decoding it
 * could double them.  Sequence numbers compare modulo 2^32.
 */
#include "tools/mpstream.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = 1;
}

uint32_t mps_crc32(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

const char *mps_type_name(uint32_t type)
{
	static const char *const names[PERF_STREAM_NTYPES] = {
		"type?", "META", "RECORDS", "STATS", "SYSTEM", "TASKS", "END",
	};

	return type < PERF_STREAM_NTYPES ? names[type] : "type?";
}

/* Codecs.  Each struct is a run of u64/u32/u16/u8 fields at fixed offsets. */

void mps_enc_meta(uint8_t *p, const struct perf_stream_meta *m)
{
	mps_put32(p + 0, m->clock);
	mps_put32(p + 4, m->ncpus);
	mps_put64(p + 8, m->tsc_hz);
	mps_put64(p + 16, m->tick_fs);
	mps_put32(p + 24, m->rate);
	mps_put32(p + 28, m->buffer_records);
	mps_put32(p + 32, m->buffer_mode);
	mps_put32(p + 36, m->event_mask);
	mps_put64(p + 40, m->start_ns);
	mps_put32(p + 48, m->flags);
	mps_put32(p + 52, m->reserved);
	memcpy(p + 56, m->version, sizeof(m->version));
	mps_put64(p + 120, m->reserved2);
}

void mps_dec_meta(const uint8_t *p, struct perf_stream_meta *m)
{
	m->clock = mps_get32(p + 0);
	m->ncpus = mps_get32(p + 4);
	m->tsc_hz = mps_get64(p + 8);
	m->tick_fs = mps_get64(p + 16);
	m->rate = mps_get32(p + 24);
	m->buffer_records = mps_get32(p + 28);
	m->buffer_mode = mps_get32(p + 32);
	m->event_mask = mps_get32(p + 36);
	m->start_ns = mps_get64(p + 40);
	m->flags = mps_get32(p + 48);
	m->reserved = mps_get32(p + 52);
	memcpy(m->version, p + 56, sizeof(m->version));
	m->reserved2 = mps_get64(p + 120);
}

size_t mps_records_size(uint16_t version)
{
	return version >= 2 ? sizeof(struct perf_stream_records) : PERF_STREAM_RECORDS_V1_SIZE;
}

size_t mps_end_size(uint16_t version)
{
	return version >= 2 ? sizeof(struct perf_stream_end) : PERF_STREAM_END_V1_SIZE;
}

void mps_enc_records(uint8_t *p, const struct perf_stream_records *r)
{
	mps_put64(p + 0, r->cursor_before);
	mps_put64(p + 8, r->cursor_after);
	mps_put64(p + 16, r->lost);
	mps_put32(p + 24, r->count);
	mps_put32(p + 28, r->cpu);
	mps_put64(p + 32, r->dropped);
}

void mps_dec_records(const uint8_t *p, uint16_t version, struct perf_stream_records *r)
{
	r->cursor_before = mps_get64(p + 0);
	r->cursor_after = mps_get64(p + 8);
	r->lost = mps_get64(p + 16);
	r->count = mps_get32(p + 24);
	r->cpu = mps_get32(p + 28);
	r->dropped = version >= 2 ? mps_get64(p + 32) : 0;
}

void mps_enc_record(uint8_t *p, const struct perf_record *r)
{
	mps_put64(p + 0, r->ts_ns);
	p[8] = r->event;
	p[9] = r->flags;
	mps_put16(p + 10, r->cpu);
	mps_put16(p + 12, r->task);
	mps_put16(p + 14, r->thread);
	mps_put64(p + 16, r->data1);
	mps_put32(p + 24, r->duration_ns);
	mps_put32(p + 28, r->data2);
}

void mps_dec_record(const uint8_t *p, struct perf_record *r)
{
	r->ts_ns = mps_get64(p + 0);
	r->event = p[8];
	r->flags = p[9];
	r->cpu = mps_get16(p + 10);
	r->task = mps_get16(p + 12);
	r->thread = mps_get16(p + 14);
	r->data1 = mps_get64(p + 16);
	r->duration_ns = mps_get32(p + 24);
	r->data2 = mps_get32(p + 28);
}

/* perf_event_stats: two u32, then thirteen u64 from offset 8. */
void mps_enc_event_stats(uint8_t *p, const struct perf_event_stats *s)
{
	const uint64_t *v = &s->count;

	mps_put32(p + 0, s->event);
	mps_put32(p + 4, s->flags);
	for (int i = 0; i < 14; i++)
		mps_put64(p + 8 + 8 * i, v[i]);
}

void mps_dec_event_stats(const uint8_t *p, struct perf_event_stats *s)
{
	uint64_t *v = &s->count;

	s->event = mps_get32(p + 0);
	s->flags = mps_get32(p + 4);
	for (int i = 0; i < 14; i++)
		v[i] = mps_get64(p + 8 + 8 * i);
}

_Static_assert(offsetof(struct perf_event_stats, interval_ns) == 8 + 13 * 8, "14 u64 from 8");

/* Runs of u32 and u64 fields. */
static void enc32s(uint8_t *p, const uint32_t *v, int n)
{
	for (int i = 0; i < n; i++)
		mps_put32(p + 4 * i, v[i]);
}

static void dec32s(const uint8_t *p, uint32_t *v, int n)
{
	for (int i = 0; i < n; i++)
		v[i] = mps_get32(p + 4 * i);
}

static void enc64s(uint8_t *p, const uint64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		mps_put64(p + 8 * i, v[i]);
}

static void dec64s(const uint8_t *p, uint64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		v[i] = mps_get64(p + 8 * i);
}

/* perf_stream_system: eight u32, then twelve u64 from offset 32. */
void mps_enc_system(uint8_t *p, const struct perf_stream_system *s)
{
	enc32s(p, &s->flags, 8);
	enc64s(p + 32, &s->tsc_hz, 12);
}

void mps_dec_system(const uint8_t *p, struct perf_stream_system *s)
{
	dec32s(p, &s->flags, 8);
	dec64s(p + 32, &s->tsc_hz, 12);
}

_Static_assert(offsetof(struct perf_stream_system, threads) == 7 * 4, "eight u32");
_Static_assert(offsetof(struct perf_stream_system, cost_record_ns) == 32 + 11 * 8, "12 u64");

void mps_enc_cpu(uint8_t *p, const struct perf_stream_cpu *c)
{
	enc64s(p, &c->busy_ns, 8);
}

void mps_dec_cpu(const uint8_t *p, struct perf_stream_cpu *c)
{
	dec64s(p, &c->busy_ns, 8);
}

_Static_assert(offsetof(struct perf_stream_cpu, buffered) == 7 * 8, "eight u64");

void mps_enc_task(uint8_t *p, const struct perf_stream_task *t)
{
	mps_put32(p + 0, t->id);
	mps_put32(p + 4, t->nthreads);
	mps_put64(p + 8, t->cpu_ns);
	mps_put64(p + 16, t->resident_pages);
	memcpy(p + 24, t->name, sizeof(t->name));
}

void mps_dec_task(const uint8_t *p, struct perf_stream_task *t)
{
	t->id = mps_get32(p + 0);
	t->nthreads = mps_get32(p + 4);
	t->cpu_ns = mps_get64(p + 8);
	t->resident_pages = mps_get64(p + 16);
	memcpy(t->name, p + 24, sizeof(t->name));
}

void mps_enc_end(uint8_t *p, const struct perf_stream_end *e)
{
	enc64s(p, &e->written, 3);
	mps_put32(p + 24, e->ncpus);
	mps_put32(p + 28, e->reserved);
	mps_put64(p + 32, e->dropped);
}

void mps_dec_end(const uint8_t *p, uint16_t version, struct perf_stream_end *e)
{
	dec64s(p, &e->written, 3);
	e->ncpus = mps_get32(p + 24);
	e->reserved = mps_get32(p + 28);
	e->dropped = version >= 2 ? mps_get64(p + 32) : 0;
}

void mps_enc_range(uint8_t *p, const struct perf_stream_range *r)
{
	mps_put32(p, r->cpu);
	mps_put32(p + 4, r->reserved);
	mps_put64(p + 8, r->first_cursor);
	mps_put64(p + 16, r->last_cursor);
}

void mps_dec_range(const uint8_t *p, struct perf_stream_range *r)
{
	r->cpu = mps_get32(p);
	r->reserved = mps_get32(p + 4);
	r->first_cursor = mps_get64(p + 8);
	r->last_cursor = mps_get64(p + 16);
}

void mps_enc_pair(uint8_t *p, uint32_t a, uint32_t b)
{
	mps_put32(p, a);
	mps_put32(p + 4, b);
}

void mps_enc_hist(uint8_t *p, uint64_t total, uint32_t nbuckets)
{
	mps_put64(p, total);
	mps_put32(p + 8, nbuckets);
	mps_put32(p + 12, 0);
}

void mps_enc_bucket(uint8_t *p, uint64_t lo, uint64_t hi, uint64_t count)
{
	mps_put64(p, lo);
	mps_put64(p + 8, hi);
	mps_put64(p + 16, count);
}

size_t mps_frame_seal(uint8_t *frame, uint16_t type, uint32_t seq, uint32_t payload_len)
{
	return mps_frame_seal_version(frame, PERF_STREAM_VERSION, type, seq, payload_len);
}

size_t mps_frame_seal_version(uint8_t *frame, uint16_t version, uint16_t type, uint32_t seq,
                              uint32_t payload_len)
{
	uint32_t crc;

	if (payload_len > PERF_STREAM_MAX_PAYLOAD)
		return 0;
	mps_put32(frame + 0, PERF_STREAM_MAGIC);
	mps_put16(frame + 4, version);
	mps_put16(frame + 6, type);
	mps_put32(frame + 8, seq);
	mps_put32(frame + 12, payload_len);
	mps_put32(frame + 16, 0);
	crc = mps_crc32(0, frame, 20);
	crc = mps_crc32(crc, frame + PERF_STREAM_HDR_SIZE, payload_len);
	mps_put32(frame + 20, crc);
	return PERF_STREAM_HDR_SIZE + (size_t)payload_len;
}

/* The reader. */

long mps_mem_read(void *ctx, void *buf, size_t n)
{
	struct mps_mem *m = ctx;
	size_t left = m->len - m->pos;

	if (n > left)
		n = left;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (long)n;
}

int mps_reader_init(struct mps_reader *r, mps_read_fn read, void *ctx, mps_diag_fn diag,
                    void *diag_ctx)
{
	memset(r, 0, sizeof(*r));
	r->read = read;
	r->ctx = ctx;
	r->diag = diag;
	r->diag_ctx = diag_ctx;
	r->cap = PERF_STREAM_MAX_FRAME + 65536;
	r->buf = malloc(r->cap);
	return r->buf ? 0 : -1;
}

void mps_reader_fini(struct mps_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

static void rd_diag(struct mps_reader *r, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rd_diag(struct mps_reader *r, uint64_t offset, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!r->diag)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->diag(r->diag_ctx, offset, msg);
}

/* rd_fill - make n bytes available at pos if the input has them. */
static bool rd_fill(struct mps_reader *r, size_t n)
{
	while (r->end - r->pos < n && !r->eof) {
		long got;

		if (r->cap - r->end < n) {
			memmove(r->buf, r->buf + r->pos, r->end - r->pos);
			r->base += r->pos;
			r->end -= r->pos;
			r->pos = 0;
		}
		got = r->read(r->ctx, r->buf + r->end, r->cap - r->end);
		if (got < 0) {
			r->io_error = true;
			r->eof = true;
		} else if (got == 0) {
			r->eof = true;
		} else {
			r->end += (size_t)got;
		}
	}
	return r->end - r->pos >= n;
}

static uint64_t rd_offset(const struct mps_reader *r)
{
	return r->base + r->pos;
}

/* rd_skip - drop n bytes at pos that belong to no good frame. */
static void rd_skip(struct mps_reader *r, size_t n)
{
	r->pos += n;
	r->c.bytes_skipped += n;
}

/* rd_bad - the frame at pos is unusable: count it unless in a bad run. */
static void rd_bad(struct mps_reader *r, uint64_t *counter, const char *what)
{
	if (!r->resyncing) {
		(*counter)++;
		rd_diag(r, rd_offset(r), "%s; resynchronising on the next frame magic", what);
	}
	r->resyncing = true;
	rd_skip(r, 1);
}

/* rd_scan - advance pos to the next possible magic (or near the end). */
static void rd_scan(struct mps_reader *r)
{
	static const uint8_t magic[4] = { 'M', 'P', 'F', '1' };

	for (;;) {
		size_t avail = r->end - r->pos;
		const uint8_t *hit = NULL;

		for (size_t i = 0; i + 4 <= avail; i++) {
			if (r->buf[r->pos + i] == 'M' &&
			    memcmp(r->buf + r->pos + i, magic, 4) == 0) {
				hit = r->buf + r->pos + i;
				break;
			}
		}
		if (hit) {
			rd_skip(r, (size_t)(hit - (r->buf + r->pos)));
			return;
		}
		/* keep 3 bytes: they may start a magic that the next read completes */
		if (avail > 3)
			rd_skip(r, avail - 3);
		if (r->eof || !rd_fill(r, 4))
			return;
	}
}

/* rd_seq - sequence check of a good frame; false if it must be dropped. */
static bool rd_seq(struct mps_reader *r, uint32_t seq, uint64_t offset)
{
	uint32_t d;

	if (!r->have_seq) {
		r->have_seq = true;
		if (seq != 0) {
			r->c.missing += seq;
			rd_diag(r, offset,
			        "first frame has seq %" PRIu32 ": %" PRIu32
			        " frames missing at the start",
			        seq, seq);
		}
		r->next_seq = seq + 1;
		return true;
	}
	d = seq - r->next_seq;
	if (d == 0) {
		r->next_seq++;
		return true;
	}
	if (d < 0x80000000U) {
		r->c.missing += d;
		rd_diag(r, offset,
		        "frame seq %" PRIu32 " where %" PRIu32 " was expected: %" PRIu32
		        " frames missing",
		        seq, r->next_seq, d);
		r->next_seq = seq + 1;
		return true;
	}
	r->c.reordered++;
	rd_diag(r, offset,
	        "frame seq %" PRIu32 " goes backwards (expected %" PRIu32
	        "): reordered or repeated frame dropped",
	        seq, r->next_seq);
	return false;
}

int mps_reader_next(struct mps_reader *r, struct mps_frame *f)
{
	for (;;) {
		const uint8_t *h;
		uint32_t len, crc, want;
		uint64_t off;

		if (r->resyncing)
			rd_scan(r);
		if (!rd_fill(r, PERF_STREAM_HDR_SIZE)) {
			size_t left = r->end - r->pos;

			if (left > 0 && !r->resyncing) {
				r->c.truncated++;
				rd_diag(
				    r, rd_offset(r),
				    "truncated frame: input ends %zu bytes into a %d-byte header",
				    left, PERF_STREAM_HDR_SIZE);
			}
			rd_skip(r, left);
			return r->io_error ? MPS_EIO : MPS_EOF;
		}
		h = r->buf + r->pos;
		off = rd_offset(r);
		len = mps_get32(h + 12);
		if (mps_get32(h) != PERF_STREAM_MAGIC) {
			rd_bad(r, &r->c.corrupt, "bad frame magic");
			continue;
		}
		if (mps_get16(h + 4) < PERF_STREAM_VERSION_MIN ||
		    mps_get16(h + 4) > PERF_STREAM_VERSION || mps_get32(h + 16) != 0 ||
		    len > PERF_STREAM_MAX_PAYLOAD) {
			char what[128];

			snprintf(what, sizeof(what),
			         "bad frame header (version %u, payload_len %" PRIu32
			         ", reserved %#" PRIx32 ")",
			         mps_get16(h + 4), len, mps_get32(h + 16));
			rd_bad(r, &r->c.corrupt, what);
			continue;
		}
		if (!rd_fill(r, PERF_STREAM_HDR_SIZE + (size_t)len)) {
			char what[128];

			if (r->io_error)
				return MPS_EIO;
			snprintf(what, sizeof(what),
			         "truncated frame: header says %" PRIu32
			         " payload bytes, input has %zu",
			         len, r->end - r->pos - PERF_STREAM_HDR_SIZE);
			rd_bad(r, &r->c.truncated, what);
			continue;
		}
		h = r->buf + r->pos;
		crc = mps_crc32(0, h, 20);
		crc = mps_crc32(crc, h + PERF_STREAM_HDR_SIZE, len);
		want = mps_get32(h + 20);
		if (crc != want) {
			char what[128];

			snprintf(what, sizeof(what),
			         "CRC mismatch in a %s frame (stored %08" PRIx32
			         ", computed %08" PRIx32 ")",
			         mps_type_name(mps_get16(h + 6)), want, crc);
			rd_bad(r, &r->c.corrupt, what);
			continue;
		}
		r->resyncing = false;
		r->pos += PERF_STREAM_HDR_SIZE + (size_t)len;
		if (!rd_seq(r, mps_get32(h + 8), off))
			continue;
		r->c.frames++;
		f->type = mps_get16(h + 6);
		f->version = mps_get16(h + 4);
		f->seq = mps_get32(h + 8);
		f->len = len;
		f->payload = h + PERF_STREAM_HDR_SIZE;
		f->offset = off;
		return MPS_FRAME;
	}
}
