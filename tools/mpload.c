/*
 * mpload.c - a perf stream checked frame by frame into struct mp_stream.
 *
 * The reader (mpstream.c) vouches for the framing; this file for the
 * payloads.  A payload that contradicts itself is rejected whole (counted
 * in malformed) rather than half-decoded: its records then reappear as a
 * cursor gap, i.e. as records lost in transit, so the books still balance.
 */
#include "tools/mpload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LD_ECHO_MAX 20 /* messages printed as they come; the rest only counted */

static void ld_msg(struct mp_stream *s, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ld_msg(struct mp_stream *s, uint64_t offset, const char *fmt, ...)
{
	char text[320], line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "offset %" PRIu64 ": %s", offset, text);
	s->msg_total++;
	if (s->nmsg < MP_MAX_MESSAGES) {
		char *copy = strdup(line);

		if (copy)
			s->msg[s->nmsg++] = copy;
	}
	if (s->echo && s->msg_total <= LD_ECHO_MAX)
		fprintf(s->echo, "%s: %s: %s\n", s->prog, s->name, line);
	else if (s->echo && s->msg_total == LD_ECHO_MAX + 1)
		fprintf(s->echo, "%s: %s: further problems are counted, not shown\n", s->prog,
		        s->name);
}

static void ld_diag(void *ctx, uint64_t offset, const char *msg)
{
	ld_msg(ctx, offset, "%s", msg);
}

/* ld_grow - room for one more element in *arr; false when out of memory. */
static bool ld_grow(struct mp_stream *s, void **arr, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, ncap * size);
	if (!p) {
		s->nomem = true;
		return false;
	}
	*arr = p;
	*cap = ncap;
	return true;
}

/* ld_bad - reject frame f for the reason given. */
#define ld_bad(s, f, fmt, ...)                                                                     \
	do {                                                                                       \
		(s)->malformed++;                                                                  \
		ld_msg(s, (f)->offset, "%s frame seq %" PRIu32 " rejected: " fmt,                  \
		       mps_type_name((f)->type), (f)->seq, __VA_ARGS__);                           \
	} while (0)

static void ld_meta(struct mp_stream *s, const struct mps_frame *f)
{
	struct perf_stream_meta m;

	if (f->len != sizeof(m)) {
		ld_bad(s, f, "payload is %" PRIu32 " bytes, expected %zu", f->len, sizeof(m));
		return;
	}
	mps_dec_meta(f->payload, &m);
	if (m.clock > PERF_STREAM_CLOCK_ICOUNT) {
		ld_bad(s, f, "unknown clock mode %" PRIu32, m.clock);
		return;
	}
	s->meta = m;
	s->have_meta = true;
}

static void ld_add_loss(struct mp_stream *s, uint64_t ts, uint64_t reported, uint64_t dropped,
                        uint64_t transit)
{
	if ((reported | dropped | transit) == 0 ||
	    !ld_grow(s, (void **)&s->loss, s->nloss, &s->loss_cap, sizeof(*s->loss)))
		return;
	s->loss[s->nloss++] = (struct mp_loss){ ts, reported, dropped, transit };
}

/* ld_chain - the cursor sequence of cpu, created if new; NULL if out of memory. */
static struct mp_chain *ld_chain(struct mp_stream *s, uint32_t cpu, bool *is_new)
{
	for (size_t i = 0; i < s->nchain; i++)
		if (s->chain[i].cpu == cpu) {
			*is_new = false;
			return &s->chain[i];
		}
	if (!ld_grow(s, (void **)&s->chain, s->nchain, &s->chain_cap, sizeof(*s->chain)))
		return NULL;
	*is_new = true;
	s->chain[s->nchain] = (struct mp_chain){ .cpu = cpu };
	return &s->chain[s->nchain++];
}

static void ld_records(struct mp_stream *s, const struct mps_frame *f)
{
	struct perf_stream_records h;
	struct perf_record r;
	struct mp_chain *c;
	uint64_t gap = 0;
	size_t hsz = mps_records_size(f->version);
	bool is_new;

	if (f->len < hsz) {
		ld_bad(s, f, "payload of %" PRIu32 " bytes is shorter than its header", f->len);
		return;
	}
	mps_dec_records(f->payload, f->version, &h);
	if (f->len != hsz + (uint64_t)h.count * sizeof(r)) {
		ld_bad(s, f, "count %" PRIu32 " does not fit a payload of %" PRIu32 " bytes",
		       h.count, f->len);
		return;
	}
	if (h.cpu > 0xffff) {
		ld_bad(s, f, "cpu %" PRIu32 " out of range", h.cpu);
		return;
	}
	if (h.cursor_after < h.cursor_before || h.lost > UINT64_MAX - h.count ||
	    h.cursor_after - h.cursor_before != h.count + h.lost) {
		ld_bad(s, f,
		       "cursors %" PRIu64 "..%" PRIu64 " do not span count %" PRIu32
		       " + lost %" PRIu64,
		       h.cursor_before, h.cursor_after, h.count, h.lost);
		return;
	}
	if (h.dropped > UINT64_MAX / 4 - s->dropped_reported) {
		ld_bad(s, f, "dropped %" PRIu64 " is absurd", h.dropped);
		return;
	}
	for (size_t i = 0; i < s->nchain; i++) {
		if (s->chain[i].cpu == h.cpu && h.cursor_before < s->chain[i].cursor) {
			ld_bad(s, f,
			       "cpu %" PRIu32 ": cursor %" PRIu64 " goes back before %" PRIu64,
			       h.cpu, h.cursor_before, s->chain[i].cursor);
			return;
		}
	}
	for (uint32_t i = 0; i < h.count; i++) {
		uint8_t ev = f->payload[hsz + (size_t)i * sizeof(r) + 8];

		if (ev >= PERF_EVENT_MAX) {
			ld_bad(s, f, "record %" PRIu32 " has event id %u (ids end at %d)", i, ev,
			       PERF_EVENT_MAX - 1);
			return;
		}
	}
	c = ld_chain(s, h.cpu, &is_new);
	if (!c)
		return;
	if (is_new) {
		c->first = h.cursor_before;
		c->first_ts = c->last_ts = s->last_ts;
	} else {
		gap = h.cursor_before - c->cursor;
	}
	if (gap)
		ld_msg(s, f->offset,
		       "cpu %" PRIu32 ": %" PRIu64
		       " records lost in transit before cursor %" PRIu64,
		       h.cpu, gap, h.cursor_before);
	c->cursor = h.cursor_after;
	s->lost_reported += h.lost;
	s->dropped_reported += h.dropped;
	s->lost_transit += gap;
	for (uint32_t i = 0; i < h.count; i++) {
		if (!ld_grow(s, (void **)&s->rec, s->nrec, &s->rec_cap, sizeof(r)))
			return;
		mps_dec_record(f->payload + hsz + (size_t)i * sizeof(r), &r);
		if (i == 0) {
			ld_add_loss(s, r.ts_ns, h.lost, h.dropped, gap);
			if (is_new)
				c->first_ts = r.ts_ns;
		}
		s->rec[s->nrec++] = r;
		s->rec_per_event[r.event]++;
		s->last_ts = c->last_ts = r.ts_ns;
	}
	if (h.count == 0)
		ld_add_loss(s, c->last_ts, h.lost, h.dropped, gap);
}

/* ld_stats - parse into tmp first; commit only a frame that checks out. */
static void ld_stats(struct mp_stream *s, const struct mps_frame *f)
{
	struct mp_event tmp[PERF_EVENT_MAX];
	const uint8_t *p = f->payload, *endp = f->payload + f->len;
	uint32_t nevents;
	bool ok = false;

	memset(tmp, 0, sizeof(tmp));
	if (f->len < sizeof(struct perf_stream_stats)) {
		ld_bad(s, f, "payload of %" PRIu32 " bytes is shorter than its header", f->len);
		return;
	}
	nevents = mps_get32(p);
	p += sizeof(struct perf_stream_stats);
	if (nevents > PERF_EVENT_MAX) {
		ld_bad(s, f, "%" PRIu32 " events (at most %d)", nevents, PERF_EVENT_MAX);
		return;
	}
	for (uint32_t i = 0; i < nevents; i++) {
		struct perf_event_stats st;
		uint64_t total, sum = 0;
		uint32_t nb;
		struct mp_event *e;

		if ((size_t)(endp - p) < 120 + sizeof(struct perf_stream_hist)) {
			ld_bad(s, f, "event %" PRIu32 " of %" PRIu32 " runs past the payload", i,
			       nevents);
			goto out;
		}
		mps_dec_event_stats(p, &st);
		total = mps_get64(p + 120);
		nb = mps_get32(p + 128);
		p += 120 + sizeof(struct perf_stream_hist);
		if (st.event >= PERF_EVENT_MAX || tmp[st.event].present) {
			ld_bad(s, f, "event id %" PRIu32 " unknown or repeated", st.event);
			goto out;
		}
		if (nb > (size_t)(endp - p) / sizeof(struct perf_stream_bucket)) {
			ld_bad(s, f, "%s: %" PRIu32 " histogram buckets do not fit the payload",
			       perf_event_name(st.event), nb);
			goto out;
		}
		e = &tmp[st.event];
		e->present = true;
		e->s = st;
		e->hist_total = total;
		e->nbuckets = nb;
		e->buckets = nb ? calloc(nb, sizeof(*e->buckets)) : NULL;
		if (nb && !e->buckets) {
			s->nomem = true;
			goto out;
		}
		for (uint32_t b = 0; b < nb; b++, p += sizeof(struct perf_stream_bucket)) {
			struct perf_stream_bucket *k = &e->buckets[b];

			k->lo = mps_get64(p);
			k->hi = mps_get64(p + 8);
			k->count = mps_get64(p + 16);
			if (k->lo > k->hi || (b > 0 && k->lo <= e->buckets[b - 1].hi) ||
			    k->count > UINT64_MAX - sum) {
				ld_bad(s, f,
				       "%s: histogram bucket %" PRIu32 " [%" PRIu64 ", %" PRIu64
				       "] out of order or overflowing",
				       perf_event_name(st.event), b, k->lo, k->hi);
				goto out;
			}
			sum += k->count;
		}
		if (sum != total) {
			ld_bad(s, f,
			       "%s: histogram buckets add up to %" PRIu64 ", total says %" PRIu64,
			       perf_event_name(st.event), sum, total);
			goto out;
		}
		if (st.count > 0 && (st.min_ns > st.max_ns || st.p50_ns > st.p95_ns ||
		                     st.p95_ns > st.p99_ns || st.p99_ns > st.p999_ns)) {
			s->warnings++;
			ld_msg(s, f->offset, "%s: statistics out of order (min/max or percentiles)",
			       perf_event_name(st.event));
		}
	}
	if (p != endp) {
		ld_bad(s, f, "%zu bytes left over after %" PRIu32 " events", (size_t)(endp - p),
		       nevents);
		goto out;
	}
	ok = true;
	for (int i = 0; i < PERF_EVENT_MAX; i++) {
		if (!tmp[i].present)
			continue;
		free(s->ev[i].buckets);
		s->ev[i] = tmp[i];
	}
out:
	if (!ok)
		for (int i = 0; i < PERF_EVENT_MAX; i++)
			free(tmp[i].buckets);
}

static void ld_system(struct mp_stream *s, const struct mps_frame *f)
{
	struct perf_stream_cpu *cpus = NULL;
	struct perf_stream_system y;

	if (f->len < sizeof(y)) {
		ld_bad(s, f, "payload of %" PRIu32 " bytes is shorter than its header", f->len);
		return;
	}
	mps_dec_system(f->payload, &y);
	if (f->len != sizeof(y) + (uint64_t)y.ncpus * sizeof(*cpus)) {
		ld_bad(s, f, "%" PRIu32 " CPUs do not fit a payload of %" PRIu32 " bytes", y.ncpus,
		       f->len);
		return;
	}
	if (y.ncpus && !(cpus = calloc(y.ncpus, sizeof(*cpus)))) {
		s->nomem = true;
		return;
	}
	for (uint32_t i = 0; i < y.ncpus; i++)
		mps_dec_cpu(f->payload + sizeof(y) + (size_t)i * sizeof(*cpus), &cpus[i]);
	free(s->sys_cpu);
	s->sys = y;
	s->sys_cpu = cpus;
	s->have_system = true;
}

/* ld_upsert - index of id in the sorted array (inserted if absent), or -1. */
static long ld_upsert(struct mp_stream *s, void **arr, size_t *n, size_t *cap, size_t size,
                      uint32_t id)
{
	size_t lo = 0, hi = *n;
	uint8_t *a;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		uint32_t v;

		memcpy(&v, (uint8_t *)*arr + mid * size, sizeof(v)); /* id is the first field */
		if (v == id)
			return (long)mid;
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!ld_grow(s, arr, *n, cap, size))
		return -1;
	a = *arr;
	memmove(a + (lo + 1) * size, a + lo * size, (*n - lo) * size);
	memset(a + lo * size, 0, size);
	memcpy(a + lo * size, &id, sizeof(id));
	(*n)++;
	return (long)lo;
}

_Static_assert(offsetof(struct mp_task, id) == 0, "id first");
_Static_assert(offsetof(struct perf_stream_thread, id) == 0, "id first");

static void ld_tasks(struct mp_stream *s, const struct mps_frame *f)
{
	uint32_t nt, nth;
	const uint8_t *p;

	if (f->len < sizeof(struct perf_stream_tasks)) {
		ld_bad(s, f, "payload of %" PRIu32 " bytes is shorter than its header", f->len);
		return;
	}
	nt = mps_get32(f->payload);
	nth = mps_get32(f->payload + 4);
	if (f->len != sizeof(struct perf_stream_tasks) +
	                  (uint64_t)nt * sizeof(struct perf_stream_task) +
	                  (uint64_t)nth * sizeof(struct perf_stream_thread)) {
		ld_bad(s, f,
		       "%" PRIu32 " tasks and %" PRIu32 " threads do not fit %" PRIu32 " bytes", nt,
		       nth, f->len);
		return;
	}
	p = f->payload + sizeof(struct perf_stream_tasks);
	for (uint32_t i = 0; i < nt; i++, p += sizeof(struct perf_stream_task)) {
		struct perf_stream_task t;
		struct mp_task *m;
		long k;

		mps_dec_task(p, &t);
		k = ld_upsert(s, (void **)&s->task, &s->ntask, &s->task_cap, sizeof(*s->task),
		              t.id);
		if (k < 0)
			return;
		m = &s->task[k];
		m->nthreads = t.nthreads;
		m->cpu_ns = t.cpu_ns;
		m->resident_pages = t.resident_pages;
		memcpy(m->name, t.name, PERF_STREAM_NAME_MAX);
		m->name[PERF_STREAM_NAME_MAX] = 0;
	}
	for (uint32_t i = 0; i < nth; i++, p += sizeof(struct perf_stream_thread)) {
		long k = ld_upsert(s, (void **)&s->thread, &s->nthread, &s->thread_cap,
		                   sizeof(*s->thread), mps_get32(p));

		if (k < 0)
			return;
		s->thread[k].task = mps_get32(p + 4);
	}
}

static void ld_end(struct mp_stream *s, const struct mps_frame *f)
{
	struct perf_stream_range *r = NULL;
	struct perf_stream_end e;
	size_t hsz = mps_end_size(f->version);

	if (f->len < hsz) {
		ld_bad(s, f, "payload of %" PRIu32 " bytes is shorter than its header", f->len);
		return;
	}
	mps_dec_end(f->payload, f->version, &e);
	if (f->len != hsz + (uint64_t)e.ncpus * sizeof(*r)) {
		ld_bad(s, f, "%" PRIu32 " cursor ranges do not fit a payload of %" PRIu32 " bytes",
		       e.ncpus, f->len);
		return;
	}
	if (e.ncpus && !(r = calloc(e.ncpus, sizeof(*r)))) {
		s->nomem = true;
		return;
	}
	for (uint32_t i = 0; i < e.ncpus; i++)
		mps_dec_range(f->payload + hsz + (size_t)i * sizeof(*r), &r[i]);
	s->end = e;
	s->end_range = r;
	s->have_end = true;
}

/* ld_frames_lost - whether any frame went missing or was thrown away. */
static bool ld_frames_lost(const struct mp_stream *s)
{
	return s->fc.corrupt || s->fc.truncated || s->fc.missing || s->fc.reordered || s->malformed;
}

/* ld_range_of - END's cursor range for cpu, or NULL. */
static const struct perf_stream_range *ld_range_of(const struct mp_stream *s, uint32_t cpu)
{
	for (uint32_t i = 0; i < s->end.ncpus; i++)
		if (s->end_range[i].cpu == cpu)
			return &s->end_range[i];
	return NULL;
}

/* ld_end_sane - END's totals add up and its ranges are distinct and ordered. */
static bool ld_end_sane(struct mp_stream *s, uint64_t offset)
{
	const struct perf_stream_end *e = &s->end;
	uint64_t span = 0;

	for (uint32_t i = 0; i < e->ncpus; i++) {
		const struct perf_stream_range *r = &s->end_range[i];

		if (r->last_cursor < r->first_cursor || ld_range_of(s, r->cpu) != r ||
		    r->last_cursor - r->first_cursor > UINT64_MAX - span) {
			ld_msg(s, offset,
			       "END: cursor range of cpu %" PRIu32 " is backwards or repeated",
			       r->cpu);
			return false;
		}
		span += r->last_cursor - r->first_cursor;
	}
	/* written = span + dropped and span = read + lost, without overflow */
	if (e->dropped > e->written || e->written - e->dropped != span || e->read > span ||
	    span - e->read != e->lost) {
		ld_msg(s, offset,
		       "END does not balance: written %" PRIu64 " != read %" PRIu64
		       " + lost %" PRIu64 " + dropped %" PRIu64 ", or cursor ranges %" PRIu64
		       " != read + lost",
		       e->written, e->read, e->lost, e->dropped, span);
		return false;
	}
	return true;
}

/* ld_finish - close the books once the input has ended (see mpload.h). */
static void ld_finish(struct mp_stream *s, uint64_t offset)
{
	const struct perf_stream_end *e = &s->end;
	uint64_t edge = 0, have;

	if (!s->have_meta)
		ld_msg(s, offset, "no META frame: clock mode and configuration unknown");
	if (!s->have_end) {
		ld_msg(s, offset, "no END frame: the stream was cut short");
		return;
	}
	if (!ld_end_sane(s, offset))
		return;
	for (size_t i = 0; i < s->nchain; i++) {
		const struct mp_chain *c = &s->chain[i];
		const struct perf_stream_range *r = ld_range_of(s, c->cpu);

		if (!r || c->first < r->first_cursor || c->cursor > r->last_cursor) {
			ld_msg(s, offset,
			       "cpu %" PRIu32 ": records at cursors %" PRIu64 "..%" PRIu64
			       " lie outside END's ranges",
			       c->cpu, c->first, c->cursor);
			return;
		}
		ld_add_loss(s, c->first_ts, 0, 0, c->first - r->first_cursor);
		ld_add_loss(s, c->last_ts, 0, 0, r->last_cursor - c->cursor);
		edge += (c->first - r->first_cursor) + (r->last_cursor - c->cursor);
	}
	for (uint32_t i = 0; i < e->ncpus; i++) {
		const struct perf_stream_range *r = &s->end_range[i];
		bool seen = false;

		for (size_t k = 0; k < s->nchain; k++)
			seen = seen || s->chain[k].cpu == r->cpu;
		if (!seen) {
			ld_add_loss(s, s->last_ts, 0, 0, r->last_cursor - r->first_cursor);
			edge += r->last_cursor - r->first_cursor;
		}
	}
	if (edge)
		ld_msg(s, offset,
		       "%" PRIu64 " records lost in transit before the first or after the last"
		       " RECORDS frame of a CPU",
		       edge);
	s->lost_transit += edge;
	if (s->dropped_reported > e->dropped) {
		ld_msg(s, offset,
		       "RECORDS frames report %" PRIu64 " records dropped, END only %" PRIu64,
		       s->dropped_reported, e->dropped);
		return;
	}
	/* Drops have no cursor: those of frames that never arrived show only in END. */
	if (e->dropped > s->dropped_reported) {
		uint64_t d = e->dropped - s->dropped_reported;

		ld_msg(s, offset,
		       "%" PRIu64 " records dropped in the kernel (END) were reported in no RECORDS"
		       " frame that arrived: counted as lost in transit",
		       d);
		ld_add_loss(s, s->last_ts, 0, 0, d);
		s->lost_transit += d;
	}
	have = s->nrec + s->lost_reported + s->dropped_reported + s->lost_transit;
	if (have != e->written || s->nrec > e->read || s->lost_reported > e->lost) {
		ld_msg(s, offset,
		       "records received %zu + lost %" PRIu64 " (%" PRIu64 " lost and %" PRIu64
		       " dropped in the kernel) = %" PRIu64 ", but END says written %" PRIu64
		       " = read %" PRIu64 " + lost %" PRIu64 " + dropped %" PRIu64,
		       s->nrec, s->lost_reported + s->dropped_reported + s->lost_transit,
		       s->lost_reported, s->dropped_reported, have, e->written, e->read, e->lost,
		       e->dropped);
		return;
	}
	if (s->lost_transit && !ld_frames_lost(s)) {
		ld_msg(s, offset,
		       "%" PRIu64 " records lost in transit although no frame was lost: the"
		       " RECORDS frames and END disagree",
		       s->lost_transit);
		return;
	}
	s->balanced = true;
}

static long ld_read(void *ctx, void *buf, size_t n)
{
	size_t got = fread(buf, 1, n, ctx);

	if (got == 0 && ferror((FILE *)ctx))
		return -1;
	return (long)got;
}

int mp_load(struct mp_stream *s, FILE *in, const char *name, const char *prog, FILE *echo)
{
	struct mps_reader r;
	struct mps_frame f;
	int rc;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->prog = prog;
	s->echo = echo;
	if (mps_reader_init(&r, ld_read, in, ld_diag, s) < 0) {
		s->nomem = true;
		ld_msg(s, 0, "out of memory");
		return -1;
	}
	while ((rc = mps_reader_next(&r, &f)) == MPS_FRAME && !s->nomem) {
		if (s->have_end) {
			ld_bad(s, &f, "%s", "frame after END");
			continue;
		}
		switch (f.type) {
		case PERF_STREAM_META:
			ld_meta(s, &f);
			break;
		case PERF_STREAM_RECORDS:
			ld_records(s, &f);
			break;
		case PERF_STREAM_STATS:
			ld_stats(s, &f);
			break;
		case PERF_STREAM_SYSTEM:
			ld_system(s, &f);
			break;
		case PERF_STREAM_TASKS:
			ld_tasks(s, &f);
			break;
		case PERF_STREAM_END:
			ld_end(s, &f);
			break;
		default:
			ld_bad(s, &f, "unknown frame type %u", f.type);
		}
	}
	s->fc = r.c;
	if (rc == MPS_EIO) {
		s->io_error = true;
		ld_msg(s, r.base + r.pos, "read error: %s", strerror(errno));
	} else if (s->nomem) {
		ld_msg(s, r.base + r.pos, "out of memory");
	} else {
		ld_finish(s, r.base + r.pos);
	}
	mps_reader_fini(&r);
	if (s->echo && s->msg_total > LD_ECHO_MAX)
		fprintf(s->echo, "%s: %s: %" PRIu64 " problems in all\n", prog, name, s->msg_total);
	return s->io_error || s->nomem ? -1 : 0;
}

void mp_free(struct mp_stream *s)
{
	for (int i = 0; i < PERF_EVENT_MAX; i++)
		free(s->ev[i].buckets);
	for (size_t i = 0; i < s->nmsg; i++)
		free(s->msg[i]);
	free(s->rec);
	free(s->sys_cpu);
	free(s->end_range);
	free(s->chain);
	free(s->task);
	free(s->thread);
	free(s->loss);
	memset(s, 0, sizeof(*s));
}

bool mp_complete(const struct mp_stream *s)
{
	const struct mps_counts *c = &s->fc;

	return c->corrupt == 0 && c->truncated == 0 && c->missing == 0 && c->reordered == 0 &&
	       s->malformed == 0 && s->have_meta && s->have_end && s->balanced && !s->io_error &&
	       !s->nomem;
}

static void why_add(char *buf, size_t size, size_t *len, uint64_t n, const char *what)
{
	int w;

	if (n == 0 || *len >= size)
		return;
	w = snprintf(buf + *len, size - *len, "%s%" PRIu64 " %s", *len ? ", " : "", n, what);
	if (w > 0)
		*len += (size_t)w;
}

static void why_str(char *buf, size_t size, size_t *len, bool cond, const char *what)
{
	int w;

	if (!cond || *len >= size)
		return;
	w = snprintf(buf + *len, size - *len, "%s%s", *len ? ", " : "", what);
	if (w > 0)
		*len += (size_t)w;
}

void mp_incomplete_why(const struct mp_stream *s, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	why_add(buf, size, &len, s->fc.corrupt, "corrupt frame(s)");
	why_add(buf, size, &len, s->fc.truncated, "truncated frame(s)");
	why_add(buf, size, &len, s->fc.missing, "missing frame(s) (sequence gap)");
	why_add(buf, size, &len, s->fc.reordered, "reordered frame(s) dropped");
	why_add(buf, size, &len, s->malformed, "malformed frame(s) rejected");
	why_str(buf, size, &len, !s->have_meta, "no META frame");
	why_str(buf, size, &len, !s->have_end, "no END frame");
	why_str(buf, size, &len, s->have_end && !s->balanced,
	        "records do not balance (written != read + lost + dropped)");
	why_str(buf, size, &len, s->io_error, "read error");
	why_str(buf, size, &len, s->nomem, "out of memory");
}

const struct mp_task *mp_task_of(const struct mp_stream *s, uint32_t id)
{
	for (size_t i = 0; i < s->ntask; i++)
		if (s->task[i].id == id)
			return &s->task[i];
	for (size_t i = 0; i < s->ntask; i++)
		if ((s->task[i].id & 0xffff) == (id & 0xffff))
			return &s->task[i];
	return NULL;
}

int mp_load_args(struct mp_stream *s, int argc, char **argv, int optind, const char *prog,
                 bool quiet)
{
	const char *in = optind < argc ? argv[optind] : NULL;
	bool std = !in || strcmp(in, "-") == 0;
	FILE *f;
	int rc;

	if (argc - optind > 1) {
		fprintf(stderr, "%s: one input at most (got %d); see %s --help\n", prog,
		        argc - optind, prog);
		return -1;
	}
	f = std ? stdin : fopen(in, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, in, strerror(errno));
		return -1;
	}
	rc = mp_load(s, f, std ? "<stdin>" : in, prog, quiet ? NULL : stderr);
	if (f != stdin)
		fclose(f);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: cannot decode: %s; nothing written\n", prog, s->name,
		        s->io_error ? "read error" : "out of memory");
		mp_free(s);
		return -1;
	}
	return 0;
}

uint64_t mp_rec_start(const struct mp_stream *s, const struct perf_record *r)
{
	if ((r->flags & PERF_REC_F_TIMED) && (s->meta.flags & PERF_STREAM_META_F_TS_END))
		return r->ts_ns > r->duration_ns ? r->ts_ns - r->duration_ns : 0;
	return r->ts_ns;
}
