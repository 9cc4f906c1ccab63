/*
 * Host unit tests of tools/mpstream.c and tools/mpload.c: the perf stream
 * framing, its codecs, and the checks made on every payload.  A synthetic
 * stream is built with the encoder, then decoded whole, cut at every byte,
 * flipped at every byte, reordered, gapped and stuffed with absurd counts;
 * every damage must be detected and counted, never decoded, never crash.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host/htest.h"
#include "tools/mpload.h"
#include "tools/mpstream.h"

#define MAXF 32

/* A stream under construction; off[i] is where frame i starts. */
struct sb {
	uint8_t *p;
	size_t len, cap;
	uint32_t seq;
	size_t off[MAXF + 1];
	size_t n;
};

static uint8_t *sb_payload(struct sb *b, size_t len)
{
	if (b->len + PERF_STREAM_HDR_SIZE + len > b->cap) {
		b->cap = (b->len + PERF_STREAM_HDR_SIZE + len) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memset(b->p + b->len, 0, PERF_STREAM_HDR_SIZE + len);
	return b->p + b->len + PERF_STREAM_HDR_SIZE;
}

static void sb_seal_version(struct sb *b, uint16_t version, uint16_t type, size_t len)
{
	b->off[b->n++] = b->len;
	b->len += mps_frame_seal_version(b->p + b->len, version, type, b->seq++, (uint32_t)len);
	b->off[b->n] = b->len;
}

static void sb_seal(struct sb *b, uint16_t type, size_t len)
{
	sb_seal_version(b, PERF_STREAM_VERSION, type, len);
}

static void mk_rec(struct perf_record *r, uint64_t i)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = 1000 + 100 * i;
	r->event = (uint8_t)(i % PERF_EVENT_MAX);
	r->flags = i % 3 == 0 ? PERF_REC_F_TIMED : 0;
	r->cpu = (uint16_t)(i % 2);
	r->task = (uint16_t)(1 + i % 3);
	r->thread = (uint16_t)(10 + i % 5);
	r->data1 = 0x1000 * i;
	r->duration_ns = r->flags ? 40 : 0;
	r->data2 = (uint32_t)i;
}

/* Frames of this stream version (1: the layout before dropped existed). */
static uint16_t sb_version = PERF_STREAM_VERSION;

static void add_meta_mode(struct sb *b, uint32_t mode)
{
	struct perf_stream_meta m = { .clock = PERF_STREAM_CLOCK_WALL, .ncpus = 2 };

	m.tsc_hz = 2400000000ULL;
	m.buffer_records = 4096;
	m.buffer_mode = mode;
	m.rate = mode == PERF_STREAM_MODE_SATURATE ? 1000 : 0;
	strcpy(m.version, "machperf 0.1 test");
	mps_enc_meta(sb_payload(b, sizeof(m)), &m);
	sb_seal_version(b, sb_version, PERF_STREAM_META, sizeof(m));
}

static void add_meta(struct sb *b)
{
	add_meta_mode(b, PERF_STREAM_MODE_CIRCULAR);
}

/*
 * n records of cpu from cursor *cur, of which lost (with sequence numbers)
 * were lost before them and dropped (without: saturate) were dropped.
 */
static void add_records_drop(struct sb *b, uint32_t cpu, uint64_t *cur, uint32_t n, uint64_t lost,
                             uint64_t dropped, uint64_t *next_i)
{
	struct perf_stream_records h = { *cur, *cur + n + lost, lost, n, cpu, dropped };
	size_t hsz = mps_records_size(sb_version);
	size_t len = hsz + (size_t)n * sizeof(struct perf_record);
	uint8_t *p = sb_payload(b, len), head[sizeof(h)];

	mps_enc_records(head, &h);
	memcpy(p, head, hsz); /* version 1: the 32-byte prefix */
	for (uint32_t i = 0; i < n; i++) {
		struct perf_record r;

		mk_rec(&r, (*next_i)++);
		mps_enc_record(p + hsz + i * sizeof(r), &r);
	}
	*cur = h.cursor_after;
	sb_seal_version(b, sb_version, PERF_STREAM_RECORDS, len);
}

/* n records of cpu from cursor *cur, of which lost were lost before them. */
static void add_records_cpu(struct sb *b, uint32_t cpu, uint64_t *cur, uint32_t n, uint64_t lost,
                            uint64_t *next_i)
{
	add_records_drop(b, cpu, cur, n, lost, 0, next_i);
}

static void add_records(struct sb *b, uint64_t *cur, uint32_t n, uint64_t lost, uint64_t *next_i)
{
	add_records_cpu(b, 0, cur, n, lost, next_i);
}

static void add_stats(struct sb *b)
{
	size_t len = sizeof(struct perf_stream_stats) + 2 * (120 + 16) + 3 * 24;
	uint8_t *p = sb_payload(b, len), *q = p + 8;

	mps_enc_pair(p, 2, 0);
	for (uint32_t ev = 0; ev < 2; ev++) {
		struct perf_event_stats s = { .event = ev, .count = 5, .min_ns = 10, .max_ns = 90 };

		s.p50_ns = s.p95_ns = s.p99_ns = s.p999_ns = 50;
		s.mean_mns = 42500;
		s.rate_mhz = 1234567;
		mps_enc_event_stats(q, &s);
		mps_enc_hist(q + 120, 5, ev == 0 ? 2 : 1);
		q += 136;
		if (ev == 0) {
			mps_enc_bucket(q, 10, 10, 2);
			mps_enc_bucket(q + 24, 88, 91, 3);
			q += 48;
		} else {
			mps_enc_bucket(q, 0, 127, 5);
			q += 24;
		}
	}
	sb_seal(b, PERF_STREAM_STATS, len);
}

static void add_system(struct sb *b)
{
	struct perf_stream_system y = { .ncpus = 2, .written = 100, .read = 90, .lost = 10 };
	struct perf_stream_cpu c = { .busy_ns = 7, .context_switches = 3 };
	uint8_t *p = sb_payload(b, sizeof(y) + 2 * sizeof(c));

	mps_enc_system(p, &y);
	mps_enc_cpu(p + sizeof(y), &c);
	c.busy_ns = 8;
	mps_enc_cpu(p + sizeof(y) + sizeof(c), &c);
	sb_seal(b, PERF_STREAM_SYSTEM, sizeof(y) + 2 * sizeof(c));
}

static void add_tasks(struct sb *b)
{
	size_t len = 8 + 2 * sizeof(struct perf_stream_task) + 2 * 8;
	uint8_t *p = sb_payload(b, len);
	struct perf_stream_task t = { .id = 1, .nthreads = 1, .cpu_ns = 500 };

	mps_enc_pair(p, 2, 2);
	strcpy(t.name, "bootstrap");
	mps_enc_task(p + 8, &t);
	t.id = 2;
	memset(t.name, 'x', sizeof(t.name)); /* no terminating NUL */
	mps_enc_task(p + 8 + sizeof(t), &t);
	mps_enc_pair(p + 8 + 2 * sizeof(t), 10, 1);
	mps_enc_pair(p + 16 + 2 * sizeof(t), 11, 2);
	sb_seal(b, PERF_STREAM_TASKS, len);
}

/*
 * END with one cursor range per CPU: first[i]..last[i] for cpu i; written =
 * the ranges + dropped + skew (skew != 0: books that do not balance).
 */
static void add_end_full(struct sb *b, uint32_t ncpus, const uint64_t *first, const uint64_t *last,
                         uint64_t read, uint64_t dropped, int64_t skew)
{
	struct perf_stream_end e = { 0, read, 0, ncpus, 0, dropped };
	size_t hsz = mps_end_size(sb_version);
	size_t len = hsz + ncpus * sizeof(struct perf_stream_range);
	uint8_t *p = sb_payload(b, len), head[sizeof(e)];

	for (uint32_t i = 0; i < ncpus; i++) {
		struct perf_stream_range r = { i, 0, first[i], last[i] };

		mps_enc_range(p + hsz + i * sizeof(r), &r);
		e.written += last[i] - first[i];
	}
	e.lost = e.written - read;
	e.written += dropped + (uint64_t)skew;
	mps_enc_end(head, &e);
	memcpy(p, head, hsz);
	sb_seal_version(b, sb_version, PERF_STREAM_END, len);
}

static void add_end_cpus(struct sb *b, uint32_t ncpus, const uint64_t *first, const uint64_t *last,
                         uint64_t read)
{
	add_end_full(b, ncpus, first, last, read, 0, 0);
}

static void add_end(struct sb *b, uint64_t first, uint64_t last, uint64_t read)
{
	add_end_cpus(b, 1, &first, &last, read);
}

/* The reference stream: 9 frames, 30 records, 4 lost in the kernel. */
#define REF_RECORDS 30
#define REF_LOST 4
#define REF_FRAMES 9
#define REF_RECFRAME 3 /* index of the second RECORDS frame (10 records) */

static void make_ref(struct sb *b)
{
	uint64_t cur = 500, i = 0;

	memset(b, 0, sizeof(*b));
	add_meta(b);
	add_tasks(b);
	add_records(b, &cur, 8, 0, &i);
	add_records(b, &cur, 10, REF_LOST, &i);
	add_records(b, &cur, 12, 0, &i);
	add_stats(b);
	add_system(b);
	add_records(b, &cur, 0, 0, &i);
	add_end(b, 500, cur, REF_RECORDS);
}

static void load(struct mp_stream *s, const uint8_t *p, size_t len)
{
	static const uint8_t empty[1];
	FILE *f = fmemopen((void *)(len ? p : empty), len ? len : 1, "rb");

	if (len == 0)
		fgetc(f); /* fmemopen wants size > 0: consume the byte */
	HT_CHECK(mp_load(s, f, "test", "test", NULL) == 0);
	fclose(f);
}

static void crc32_known_value(void)
{
	HT_CHECK_U64(mps_crc32(0, "123456789", 9), 0xcbf43926U);
	HT_CHECK_U64(mps_crc32(mps_crc32(0, "1234", 4), "56789", 5), 0xcbf43926U);
	HT_CHECK_U64(mps_crc32(0, "", 0), 0);
}

static void codecs_round_trip(void)
{
	uint64_t seed = 1;
	uint8_t buf[256];
	struct perf_record r, r2;
	struct perf_event_stats s, s2;
	struct perf_stream_system y, y2;
	struct perf_stream_meta m, m2;
	struct perf_stream_records h, h2;
	struct perf_stream_end e, e2;

	for (int k = 0; k < 100; k++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)ht_rand(&seed);
		memcpy(&r, buf, sizeof(r));
		memcpy(&s, buf, sizeof(s));
		memcpy(&y, buf, sizeof(y));
		memcpy(&m, buf, sizeof(m));
		mps_enc_record(buf, &r);
		HT_CHECK(memcmp(buf, &r, sizeof(r)) == 0); /* x86_64: the wire is the struct */
		mps_dec_record(buf, &r2);
		HT_CHECK(memcmp(&r, &r2, sizeof(r)) == 0);
		mps_enc_event_stats(buf, &s);
		mps_dec_event_stats(buf, &s2);
		HT_CHECK(memcmp(&s, &s2, sizeof(s)) == 0);
		mps_enc_system(buf, &y);
		HT_CHECK(memcmp(buf, &y, sizeof(y)) == 0);
		mps_dec_system(buf, &y2);
		HT_CHECK(memcmp(&y, &y2, sizeof(y)) == 0);
		mps_enc_meta(buf, &m);
		mps_dec_meta(buf, &m2);
		HT_CHECK(memcmp(&m, &m2, sizeof(m)) == 0);
		memcpy(&h, buf + 100, sizeof(h));
		mps_enc_records(buf, &h);
		HT_CHECK(memcmp(buf, &h, sizeof(h)) == 0);
		mps_dec_records(buf, PERF_STREAM_VERSION, &h2);
		HT_CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
		mps_dec_records(buf, 1, &h2); /* version 1: no dropped */
		HT_CHECK(memcmp(&h, &h2, PERF_STREAM_RECORDS_V1_SIZE) == 0 && h2.dropped == 0);
		memcpy(&e, buf + 150, sizeof(e));
		mps_enc_end(buf, &e);
		HT_CHECK(memcmp(buf, &e, sizeof(e)) == 0);
		mps_dec_end(buf, PERF_STREAM_VERSION, &e2);
		HT_CHECK(memcmp(&e, &e2, sizeof(e)) == 0);
		mps_dec_end(buf, 1, &e2);
		HT_CHECK(memcmp(&e, &e2, PERF_STREAM_END_V1_SIZE) == 0 && e2.dropped == 0);
	}
	HT_CHECK_U64(mps_records_size(1), 32);
	HT_CHECK_U64(mps_records_size(2), 40);
	HT_CHECK_U64(mps_end_size(1), 32);
	HT_CHECK_U64(mps_end_size(2), 40);
}

static void clean_stream_decodes_exactly(void)
{
	struct mp_stream s;
	struct sb b;

	make_ref(&b);
	load(&s, b.p, b.len);
	HT_CHECK(mp_complete(&s));
	HT_CHECK(s.balanced);
	HT_CHECK_U64(s.fc.frames, REF_FRAMES);
	HT_CHECK_U64(s.fc.bytes_skipped, 0);
	HT_CHECK_U64(s.nrec, REF_RECORDS);
	HT_CHECK_U64(s.lost_reported, REF_LOST);
	HT_CHECK_U64(s.lost_transit, 0);
	HT_CHECK_U64(s.nloss, 1);
	HT_CHECK_U64(s.loss[0].ts_ns, 1000 + 100 * 8);
	for (size_t i = 0; i < s.nrec; i++) {
		struct perf_record want;

		mk_rec(&want, i);
		HT_CHECK(memcmp(&s.rec[i], &want, sizeof(want)) == 0);
	}
	HT_CHECK(s.ev[0].present && s.ev[1].present && !s.ev[2].present);
	HT_CHECK_U64(s.ev[0].nbuckets, 2);
	HT_CHECK_U64(s.ev[0].buckets[1].hi, 91);
	HT_CHECK_U64(s.ev[1].s.rate_mhz, 1234567);
	HT_CHECK_U64(s.ntask, 2);
	HT_CHECK(strcmp(s.task[0].name, "bootstrap") == 0);
	HT_CHECK_U64(strlen(s.task[1].name), PERF_STREAM_NAME_MAX);
	HT_CHECK_U64(s.nthread, 2);
	HT_CHECK_U64(s.thread[1].task, 2);
	HT_CHECK(mp_task_of(&s, 0x10001) == &s.task[0]);
	HT_CHECK(s.have_system && s.sys.ncpus == 2 && s.sys_cpu[1].busy_ns == 8);
	HT_CHECK_U64(s.sys.written, 100);
	HT_CHECK_U64(s.msg_total, 0);
	mp_free(&s);
	free(b.p);
}

/* Two CPUs' cursor sequences, interleaved; a frame of one CPU lost. */
static void per_cpu_cursors(void)
{
	uint64_t first[2] = { 0, 1ULL << 56 }, cur[2] = { 0, 1ULL << 56 }, i = 0;
	struct mp_stream s;
	struct sb b;
	size_t a, z;

	memset(&b, 0, sizeof(b));
	add_meta(&b);
	add_records_cpu(&b, 0, &cur[0], 3, 0, &i);
	add_records_cpu(&b, 1, &cur[1], 4, 1, &i);
	add_records_cpu(&b, 0, &cur[0], 5, 0, &i);
	add_records_cpu(&b, 1, &cur[1], 6, 0, &i);
	add_records_cpu(&b, 1, &cur[1], 2, 0, &i);
	add_end_cpus(&b, 2, first, cur, 20);
	load(&s, b.p, b.len);
	HT_CHECK(mp_complete(&s));
	HT_CHECK_U64(s.nchain, 2);
	HT_CHECK_U64(s.lost_reported, 1);
	mp_free(&s);

	/* drop CPU 1's middle frame: 6 records lost in transit on CPU 1 only */
	a = b.off[4], z = b.off[5];
	memmove(b.p + a, b.p + z, b.len - z);
	load(&s, b.p, b.len - (z - a));
	HT_CHECK(s.balanced && !mp_complete(&s));
	HT_CHECK_U64(s.lost_transit, 6);
	HT_CHECK_U64(s.nrec, 14);
	mp_free(&s);
	free(b.p);

	/* cursors of a CPU END does not know */
	memset(&b, 0, sizeof(b));
	cur[0] = cur[1] = 0;
	add_meta(&b);
	add_records_cpu(&b, 0, &cur[0], 3, 0, &i);
	add_records_cpu(&b, 5, &cur[1], 3, 0, &i);
	add_end(&b, 0, cur[0], 3);
	load(&s, b.p, b.len);
	HT_CHECK(!s.balanced && !mp_complete(&s));
	mp_free(&s);
	free(b.p);
}

/* One byte at a time: the reader's buffering must not matter. */
static long slow_read(void *ctx, void *buf, size_t n)
{
	return mps_mem_read(ctx, buf, n ? 1 : 0);
}

static void byte_by_byte_reads(void)
{
	struct mps_reader r;
	struct mps_frame f;
	struct mps_mem mem;
	struct sb b;
	uint32_t n = 0;

	make_ref(&b);
	mem = (struct mps_mem){ b.p, b.len, 0 };
	HT_CHECK(mps_reader_init(&r, slow_read, &mem, NULL, NULL) == 0);
	while (mps_reader_next(&r, &f) == MPS_FRAME) {
		HT_CHECK_U64(f.seq, n);
		HT_CHECK_U64(f.offset, b.off[n]);
		HT_CHECK_U64(f.len, b.off[n + 1] - b.off[n] - PERF_STREAM_HDR_SIZE);
		n++;
	}
	HT_CHECK_U64(n, REF_FRAMES);
	HT_CHECK_U64(r.c.corrupt + r.c.truncated + r.c.missing, 0);
	mps_reader_fini(&r);
	free(b.p);
}

/* Cut the stream at every byte: never complete, never more than was there. */
static void truncated_at_every_byte(void)
{
	struct sb b;

	make_ref(&b);
	for (size_t cut = 0; cut < b.len; cut++) {
		struct mp_stream s;
		bool boundary = false;

		for (size_t k = 0; k <= b.n; k++)
			boundary = boundary || b.off[k] == cut;
		load(&s, b.p, cut);
		if (mp_complete(&s) || s.nrec > REF_RECORDS || s.msg_total == 0)
			HT_FAIL("cut at %zu: complete %d, %zu records, %" PRIu64 " messages", cut,
			        mp_complete(&s), s.nrec, s.msg_total);
		if (!boundary && s.fc.truncated != 1)
			HT_FAIL("cut at %zu inside a frame: truncated %" PRIu64, cut,
			        s.fc.truncated);
		if (boundary && (s.fc.truncated != 0 || s.have_end))
			HT_FAIL("cut at frame boundary %zu: truncated %" PRIu64, cut,
			        s.fc.truncated);
		mp_free(&s);
	}
	free(b.p);
}

/* Flip every byte in turn: the CRC (or the header checks) catch each one. */
static void corrupted_at_every_byte(void)
{
	struct sb b;

	make_ref(&b);
	for (size_t at = 0; at < b.len; at++) {
		struct mp_stream s;

		b.p[at] ^= 0x5a;
		load(&s, b.p, b.len);
		if (mp_complete(&s) || s.fc.corrupt + s.fc.truncated != 1 ||
		    s.fc.frames >= REF_FRAMES || s.nrec > REF_RECORDS)
			HT_FAIL("byte %zu flipped: complete %d, corrupt %" PRIu64
			        ", truncated %" PRIu64 ", frames %" PRIu64,
			        at, mp_complete(&s), s.fc.corrupt, s.fc.truncated, s.fc.frames);
		b.p[at] ^= 0x5a;
		mp_free(&s);
	}
	free(b.p);
}

/* Frames moved, dropped or repeated. */
static void reorder_gap_duplicate(void)
{
	struct sb b, o;
	struct mp_stream s;
	size_t a0, a1, a2;

	make_ref(&b);
	a0 = b.off[REF_RECFRAME - 1], a1 = b.off[REF_RECFRAME], a2 = b.off[REF_RECFRAME + 1];
	o.p = malloc(b.len * 2);

	/* swap frames 2 and 3: 3 arrives (2 missing), then 2 goes backwards */
	memcpy(o.p, b.p, a0);
	memcpy(o.p + a0, b.p + a1, a2 - a1);
	memcpy(o.p + a0 + (a2 - a1), b.p + a0, a1 - a0);
	memcpy(o.p + a2, b.p + a2, b.len - a2);
	load(&s, o.p, b.len);
	HT_CHECK(!mp_complete(&s));
	HT_CHECK_U64(s.fc.reordered, 1);
	HT_CHECK_U64(s.fc.missing, 1);
	HT_CHECK_U64(s.nrec, REF_RECORDS - 8);
	HT_CHECK_U64(s.lost_transit, 8); /* the dropped frame's records, as a cursor gap */
	HT_CHECK(s.balanced);
	mp_free(&s);

	/* drop the second RECORDS frame: a gap of one frame, 10 + 4 records */
	memcpy(o.p, b.p, a1);
	memcpy(o.p + a1, b.p + a2, b.len - a2);
	load(&s, o.p, b.len - (a2 - a1));
	HT_CHECK(!mp_complete(&s));
	HT_CHECK_U64(s.fc.missing, 1);
	HT_CHECK_U64(s.fc.corrupt + s.fc.reordered, 0);
	HT_CHECK_U64(s.lost_transit, 10 + REF_LOST);
	HT_CHECK_U64(s.lost_reported, 0);
	HT_CHECK(s.balanced); /* every record is here or counted */
	mp_free(&s);

	/* repeat a frame */
	memcpy(o.p, b.p, a2);
	memcpy(o.p + a2, b.p + a1, a2 - a1);
	memcpy(o.p + a2 + (a2 - a1), b.p + a2, b.len - a2);
	load(&s, o.p, b.len + (a2 - a1));
	HT_CHECK(!mp_complete(&s));
	HT_CHECK_U64(s.fc.reordered, 1);
	HT_CHECK_U64(s.nrec, REF_RECORDS);
	mp_free(&s);

	/* start at seq 3: three frames missing at the start */
	load(&s, b.p + a1, b.len - a1);
	HT_CHECK_U64(s.fc.missing, 3);
	HT_CHECK(!s.have_meta && !mp_complete(&s));
	mp_free(&s);
	free(o.p);
	free(b.p);
}

/* Garbage between frames: one corrupt run, every good frame still found. */
static void garbage_is_one_corrupt_run(void)
{
	static const uint8_t junk[] = "xxMPF1\x01\x00\x02\x00garbage with a fake magic MPF";
	struct mp_stream s;
	struct sb b;
	uint8_t *o;
	size_t at;

	make_ref(&b);
	at = b.off[4];
	o = malloc(b.len + sizeof(junk));
	memcpy(o, b.p, at);
	memcpy(o + at, junk, sizeof(junk));
	memcpy(o + at + sizeof(junk), b.p + at, b.len - at);
	load(&s, o, b.len + sizeof(junk));
	HT_CHECK_U64(s.fc.corrupt, 1);
	HT_CHECK_U64(s.fc.bytes_skipped, sizeof(junk));
	HT_CHECK_U64(s.fc.frames, REF_FRAMES);
	HT_CHECK_U64(s.fc.missing, 0);
	HT_CHECK_U64(s.nrec, REF_RECORDS);
	HT_CHECK(!mp_complete(&s));
	mp_free(&s);
	free(o);
	free(b.p);
}

/* Payloads with valid CRCs that contradict themselves are rejected. */
static void absurd_counts_rejected(void)
{
	struct {
		const char *what;
		size_t off; /* in the payload of the second RECORDS frame */
		uint64_t v;
		int width;
	} cases[] = {
		{ "count huge", 24, 0xffffffffU, 4 },
		{ "count one more", 24, 11, 4 },
		{ "cursors", 8, 1, 8 },
		{ "lost huge", 16, UINT64_MAX, 8 },
		{ "dropped huge", 32, UINT64_MAX, 8 },
		{ "event id", sizeof(struct perf_stream_records) + 8, 200, 1 },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct mp_stream s;
		struct sb b;
		uint8_t *p;

		make_ref(&b);
		p = b.p + b.off[REF_RECFRAME] + PERF_STREAM_HDR_SIZE + cases[k].off;
		if (cases[k].width == 8)
			mps_put64(p, cases[k].v);
		else if (cases[k].width == 4)
			mps_put32(p, (uint32_t)cases[k].v);
		else
			*p = (uint8_t)cases[k].v;
		mps_frame_seal(b.p + b.off[REF_RECFRAME], PERF_STREAM_RECORDS, REF_RECFRAME,
		               (uint32_t)(b.off[REF_RECFRAME + 1] - b.off[REF_RECFRAME] -
		                          PERF_STREAM_HDR_SIZE));
		load(&s, b.p, b.len);
		if (s.malformed != 1 || mp_complete(&s) || s.nrec != REF_RECORDS - 10)
			HT_FAIL("%s: malformed %" PRIu64 ", %zu records", cases[k].what,
			        s.malformed, s.nrec);
		mp_free(&s);
		free(b.p);
	}
}

static void absurd_length_is_corrupt(void)
{
	static const uint32_t lens[] = { PERF_STREAM_MAX_PAYLOAD + 1, 0xffffffffU };

	for (size_t k = 0; k < 2; k++) {
		struct mp_stream s;
		struct sb b;

		make_ref(&b);
		mps_put32(b.p + b.off[2] + 12, lens[k]);
		load(&s, b.p, b.len);
		HT_CHECK_U64(s.fc.corrupt, 1);
		HT_CHECK_U64(s.fc.missing, 1);
		HT_CHECK(!mp_complete(&s));
		mp_free(&s);
		free(b.p);
	}
}

static void bad_stats_rejected(void)
{
	struct {
		size_t off; /* in the STATS payload */
		uint64_t v;
	} cases[] = {
		{ 8 + 120, 6 },                /* hist total != sum */
		{ 8 + 136 + 24, 5 },           /* second bucket starts inside the first */
		{ 8 + 136 + 48 + 120 + 8, 9 }, /* nbuckets beyond the payload */
		{ 8 + 136 + 48, 0 },           /* event id repeated */
		{ 0, 13 },                     /* nevents */
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct mp_stream s;
		struct sb b;
		size_t f = 5;
		uint8_t *p;

		make_ref(&b);
		p = b.p + b.off[f] + PERF_STREAM_HDR_SIZE + cases[k].off;
		if (cases[k].off == 8 + 136 + 48 + 120 + 8 || cases[k].off == 0 ||
		    cases[k].off == 8 + 136 + 48)
			mps_put32(p, (uint32_t)cases[k].v);
		else
			mps_put64(p, cases[k].v);
		mps_frame_seal(b.p + b.off[f], PERF_STREAM_STATS, (uint32_t)f,
		               (uint32_t)(b.off[f + 1] - b.off[f] - PERF_STREAM_HDR_SIZE));
		load(&s, b.p, b.len);
		if (s.malformed != 1 || s.ev[0].present || s.ev[1].present)
			HT_FAIL("stats case %zu: malformed %" PRIu64, k, s.malformed);
		mp_free(&s);
		free(b.p);
	}
}

static void end_checks(void)
{
	struct mp_stream s;
	struct sb b;
	uint64_t cur = 0, i = 0;

	/* END that does not add up */
	memset(&b, 0, sizeof(b));
	add_meta(&b);
	add_records(&b, &cur, 5, 0, &i);
	add_end(&b, 0, cur, 4);
	load(&s, b.p, b.len);
	HT_CHECK(!s.balanced && !mp_complete(&s));
	mp_free(&s);

	/* a frame after END */
	add_records(&b, &cur, 1, 0, &i);
	load(&s, b.p, b.len);
	HT_CHECK_U64(s.malformed, 1);
	mp_free(&s);
	free(b.p);

	/* END counts 7 more records than the frames carried, yet no frame is missing */
	memset(&b, 0, sizeof(b));
	cur = 0;
	add_meta(&b);
	add_records(&b, &cur, 5, 0, &i);
	add_end(&b, 0, cur + 7, 12);
	load(&s, b.p, b.len);
	HT_CHECK(!s.balanced && !mp_complete(&s));
	HT_CHECK_U64(s.lost_transit, 7);
	HT_CHECK_U64(s.nloss, 1);
	mp_free(&s);
	free(b.p);

	/* the last RECORDS frame lost: its records are counted in transit */
	memset(&b, 0, sizeof(b));
	cur = 0;
	add_meta(&b);
	add_records(&b, &cur, 5, 0, &i);
	add_records(&b, &cur, 6, 1, &i);
	add_end(&b, 0, cur, 11);
	memmove(b.p + b.off[2], b.p + b.off[3], b.len - b.off[3]);
	load(&s, b.p, b.len - (b.off[3] - b.off[2]));
	HT_CHECK(s.balanced && !mp_complete(&s));
	HT_CHECK_U64(s.fc.missing, 1);
	HT_CHECK_U64(s.lost_transit, 7);
	mp_free(&s);
	free(b.p);
}

/* Cut frame k out of b (its records then go missing in transit). */
static size_t cut_frame(const struct sb *b, size_t k, uint8_t *out)
{
	memcpy(out, b->p, b->off[k]);
	memcpy(out + b->off[k], b->p + b->off[k + 1], b->len - b->off[k + 1]);
	return b->len - (b->off[k + 1] - b->off[k]);
}

/*
 * Saturate mode: a full buffer refuses the newest records, which take no
 * sequence number, so the cursors do not show them: dropped, not lost.
 * Frames 1..5 are RECORDS (frame 4 carries drops only), 6 is END.
 */
static void make_saturate(struct sb *b, uint64_t end_dropped, int64_t skew)
{
	uint64_t first[2] = { 0, 1ULL << 56 }, cur[2] = { 0, 1ULL << 56 }, i = 0;

	memset(b, 0, sizeof(*b));
	add_meta_mode(b, PERF_STREAM_MODE_SATURATE);
	add_records_drop(b, 0, &cur[0], 4, 0, 0, &i);
	add_records_drop(b, 0, &cur[0], 3, 0, 5, &i); /* 5 refused before these */
	add_records_drop(b, 1, &cur[1], 2, 1, 0, &i); /* and one lost with its number */
	add_records_drop(b, 0, &cur[0], 0, 0, 9, &i); /* drops only: the cursor stays */
	add_records_drop(b, 1, &cur[1], 6, 0, 2, &i);
	add_end_full(b, 2, first, cur, 15, end_dropped, skew);
}

static void saturate_drops_balance(void)
{
	uint64_t rep = 0, drop = 0;
	struct mp_stream s;
	struct sb b;
	uint8_t *o;

	make_saturate(&b, 16, 0);
	load(&s, b.p, b.len);
	HT_CHECK(mp_complete(&s) && s.balanced);
	HT_CHECK_U64(s.meta.buffer_mode, PERF_STREAM_MODE_SATURATE);
	HT_CHECK_U64(s.nrec, 15);
	HT_CHECK_U64(s.lost_reported, 1);
	HT_CHECK_U64(s.dropped_reported, 16);
	HT_CHECK_U64(s.lost_transit, 0);
	HT_CHECK_U64(mp_lost_total(&s), 17);
	HT_CHECK_U64(s.end.written, 15 + 1 + 16);
	HT_CHECK_U64(s.end.dropped, 16);
	HT_CHECK_U64(s.msg_total, 0);
	HT_CHECK_U64(s.nloss, 4); /* every loss has its place in time */
	for (size_t k = 0; k < s.nloss; k++) {
		rep += s.loss[k].reported;
		drop += s.loss[k].dropped;
		HT_CHECK_U64(s.loss[k].transit, 0);
	}
	HT_CHECK_U64(rep, 1);
	HT_CHECK_U64(drop, 16);
	mp_free(&s);

	/* the drops-only frame lost on the way: END still counts its drops */
	o = malloc(b.len);
	load(&s, o, cut_frame(&b, 4, o));
	HT_CHECK(s.balanced && !mp_complete(&s));
	HT_CHECK_U64(s.fc.missing, 1);
	HT_CHECK_U64(s.dropped_reported, 7);
	HT_CHECK_U64(s.lost_transit, 9);
	HT_CHECK_U64(mp_lost_total(&s), 17);
	mp_free(&s);

	/* a frame with records and drops lost: 3 as a cursor gap, 5 from END */
	load(&s, o, cut_frame(&b, 2, o));
	HT_CHECK(s.balanced && !mp_complete(&s));
	HT_CHECK_U64(s.nrec, 12);
	HT_CHECK_U64(s.lost_transit, 3 + 5);
	HT_CHECK_U64(s.nrec + mp_lost_total(&s), s.end.written);
	mp_free(&s);
	free(o);
	free(b.p);
}

/* Books that do not balance are rejected, drops or not. */
static void saturate_unbalanced_rejected(void)
{
	static const struct {
		const char *what;
		uint64_t dropped;
		int64_t skew;
	} cases[] = {
		{ "END counts fewer drops than the frames", 15, 0 },
		{ "END counts more drops, no frame lost", 17, 0 },
		{ "written leaves the drops out", 16, -16 },
		{ "written counts a record too many", 16, 1 },
		{ "written counts the drops twice", 16, 16 },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct mp_stream s;
		struct sb b;

		make_saturate(&b, cases[k].dropped, cases[k].skew);
		load(&s, b.p, b.len);
		if (s.balanced || mp_complete(&s) || s.malformed != 0 || s.msg_total == 0)
			HT_FAIL("%s: balanced %d, malformed %" PRIu64, cases[k].what, s.balanced,
			        s.malformed);
		mp_free(&s);
		free(b.p);
	}

	/* the integration bug: drops reported as lost while the cursor stays put */
	{
		struct perf_stream_records h = { 100, 100, 9, 0, 0, 0 };
		uint64_t cur = 100, i = 0;
		struct mp_stream s;
		struct sb b;

		memset(&b, 0, sizeof(b));
		add_meta_mode(&b, PERF_STREAM_MODE_SATURATE);
		add_records_drop(&b, 0, &cur, 3, 0, 0, &i);
		h.cursor_before = h.cursor_after = cur;
		mps_enc_records(sb_payload(&b, sizeof(h)), &h);
		sb_seal(&b, PERF_STREAM_RECORDS, sizeof(h));
		add_end_full(&b, 1, (uint64_t[]){ 100 }, &cur, 3, 9, 0);
		load(&s, b.p, b.len);
		HT_CHECK_U64(s.malformed, 1);
		HT_CHECK(!mp_complete(&s));
		mp_free(&s);
		free(b.p);
	}
}

/* A version 1 stream (no dropped fields) still decodes; version 3 is unknown. */
static void version1_still_read(void)
{
	struct mp_stream s;
	struct sb b;

	sb_version = 1;
	make_ref(&b);
	sb_version = PERF_STREAM_VERSION;
	HT_CHECK_U64(mps_get16(b.p + 4), 1);
	HT_CHECK_U64(b.off[REF_RECFRAME + 1] - b.off[REF_RECFRAME],
	             PERF_STREAM_HDR_SIZE + 32 + 10 * sizeof(struct perf_record));
	load(&s, b.p, b.len);
	HT_CHECK(mp_complete(&s));
	HT_CHECK_U64(s.nrec, REF_RECORDS);
	HT_CHECK_U64(s.lost_reported, REF_LOST);
	HT_CHECK_U64(s.dropped_reported, 0);
	HT_CHECK_U64(s.end.dropped, 0);
	for (size_t i = 0; i < s.nrec; i++) {
		struct perf_record want;

		mk_rec(&want, i);
		HT_CHECK(memcmp(&s.rec[i], &want, sizeof(want)) == 0);
	}
	mp_free(&s);
	free(b.p);

	/* a version 1 header on a version 2 payload does not fit its count */
	make_ref(&b);
	mps_frame_seal_version(
	    b.p + b.off[REF_RECFRAME], 1, PERF_STREAM_RECORDS, REF_RECFRAME,
	    (uint32_t)(b.off[REF_RECFRAME + 1] - b.off[REF_RECFRAME] - PERF_STREAM_HDR_SIZE));
	load(&s, b.p, b.len);
	HT_CHECK_U64(s.malformed, 1);
	mp_free(&s);

	mps_frame_seal_version(
	    b.p + b.off[REF_RECFRAME], PERF_STREAM_VERSION + 1, PERF_STREAM_RECORDS, REF_RECFRAME,
	    (uint32_t)(b.off[REF_RECFRAME + 1] - b.off[REF_RECFRAME] - PERF_STREAM_HDR_SIZE));
	load(&s, b.p, b.len);
	HT_CHECK_U64(s.fc.corrupt, 1);
	HT_CHECK_U64(s.fc.missing, 1);
	HT_CHECK(!mp_complete(&s));
	mp_free(&s);
	free(b.p);
}

static void large_frame(void)
{
	struct mp_stream s;
	struct sb b;
	uint64_t cur = 0, i = 0;

	memset(&b, 0, sizeof(b));
	add_meta(&b);
	add_records(&b, &cur, PERF_STREAM_MAX_RECORDS, 0, &i);
	add_records(&b, &cur, PERF_STREAM_MAX_RECORDS, 0, &i);
	add_end(&b, 0, cur, cur);
	/* the largest RECORDS frame: a record more would not fit */
	HT_CHECK(b.off[2] - b.off[1] <= PERF_STREAM_MAX_FRAME);
	HT_CHECK(b.off[2] - b.off[1] + sizeof(struct perf_record) > PERF_STREAM_MAX_FRAME);
	load(&s, b.p, b.len);
	HT_CHECK(mp_complete(&s));
	HT_CHECK_U64(s.nrec, 2 * PERF_STREAM_MAX_RECORDS);
	mp_free(&s);
	free(b.p);
}

/* Random damage: many flips, cuts and splices.  Only survival and sanity. */
static void random_damage_never_crashes(void)
{
	uint64_t seed = 42;
	struct sb b;
	uint8_t *o;

	make_ref(&b);
	o = malloc(b.len * 2);
	for (int round = 0; round < 300; round++) {
		struct mp_stream s;
		size_t len = b.len;

		memcpy(o, b.p, b.len);
		for (int k = (int)ht_rand_below(&seed, 8) + 1; k > 0; k--)
			o[ht_rand_below(&seed, len)] = (uint8_t)ht_rand(&seed);
		if (round % 3 == 0)
			len = ht_rand_below(&seed, b.len);
		if (round % 5 == 0 && len > 0) {
			size_t a = ht_rand_below(&seed, len), c = ht_rand_below(&seed, b.len - a);

			memcpy(o + len, b.p + a, c);
			len += c;
		}
		load(&s, o, len);
		HT_CHECK(s.fc.frames <= 2 * REF_FRAMES && s.nrec <= 2 * REF_RECORDS);
		mp_free(&s);
	}
	for (int round = 0; round < 100; round++) {
		struct mp_stream s;
		size_t len = ht_rand_below(&seed, b.len);

		for (size_t k = 0; k < len; k++)
			o[k] = (uint8_t)ht_rand(&seed);
		load(&s, o, len);
		HT_CHECK(!mp_complete(&s) && s.nrec == 0);
		mp_free(&s);
	}
	free(o);
	free(b.p);
}

static const struct ht_case cases[] = {
	HT_CASE(crc32_known_value),
	HT_CASE(codecs_round_trip),
	HT_CASE(clean_stream_decodes_exactly),
	HT_CASE(per_cpu_cursors),
	HT_CASE(byte_by_byte_reads),
	HT_CASE(truncated_at_every_byte),
	HT_CASE(corrupted_at_every_byte),
	HT_CASE(reorder_gap_duplicate),
	HT_CASE(garbage_is_one_corrupt_run),
	HT_CASE(absurd_counts_rejected),
	HT_CASE(absurd_length_is_corrupt),
	HT_CASE(bad_stats_rejected),
	HT_CASE(end_checks),
	HT_CASE(saturate_drops_balance),
	HT_CASE(saturate_unbalanced_rejected),
	HT_CASE(version1_still_read),
	HT_CASE(large_frame),
	HT_CASE(random_damage_never_crashes),
};

int main(void)
{
	return ht_main(cases, HT_NCASES(cases));
}
