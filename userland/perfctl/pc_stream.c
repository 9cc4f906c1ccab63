/*
 * perfctl's framed binary streams (<mach/perf_stream.h>), encoded with
 * the host tools' own encoder (tools/mpstream.c, compiled for the
 * guest), so that guest and host cannot disagree on the format.
 *
 * Every stream is complete on its own: META first, END last, its frame
 * sequence starting at 0.  Records come from the agent's cursors, which
 * live as long as the agent: a stream starts where the previous one
 * stopped, and END's ranges say exactly which records it covers, so
 * records read + lost + dropped = written holds per stream.
 *
 * Lost and dropped.  read_samples answers one loss count, which mixes
 * records lost with their sequence numbers (overwritten, skipped, resized
 * or reset away: they lie between cursor and next_cursor) and records a
 * full saturate-mode buffer refused (no sequence number: the cursor does
 * not move for them).  Every sequence number the cursor passes is either
 * returned or lost, so lost = next_cursor - cursor - count exactly, and
 * the rest of the kernel's count is dropped (kern/perf_ring.c).
 *
 * Histograms.  perf_monitor has no histogram call, so a STATS frame's
 * buckets are derived from the exact percentiles: [min, p50], (p50, p90],
 * (p90, p95], (p95, p99], (p99, p99.9], (p99.9, max], each holding the
 * nearest-rank share of the count.  Coarse, but never invented.
 */
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/perf_stream.h>
#include <stdlib.h>
#include <string.h>

#include "mach.h"
#include "perf_monitor.h"
#include "perfctl.h"
#include "tools/mpstream.h"

#define PC_FRAME_MAX                                                                               \
	(PERF_STREAM_HDR_SIZE + sizeof(struct perf_stream_records) + PERF_READ_MAX_RECORDS * 32 +  \
	 64)

struct pc_cursor pc_cursors;
static uint8_t pc_frame[PC_FRAME_MAX > 65536 ? PC_FRAME_MAX : 65536];
static uint32_t pc_seq;
static uint64_t pc_bytes;
static bool pc_failed;

void pc_vm_free(const void *addr, size_t size)
{
	if (addr != NULL && size > 0)
		(void)vm_deallocate(mach_task_self(), (vm_address_t)addr, size);
}

static void pc_send(uint16_t type, uint32_t payload_len)
{
	size_t n = mps_frame_seal(pc_frame, type, pc_seq++, payload_len);

	if (n == 0 || !pc_out_bytes(pc_frame, n))
		pc_failed = true;
	pc_bytes += n;
}

static uint8_t *pc_payload(void)
{
	return pc_frame + PERF_STREAM_HDR_SIZE;
}

static void pc_send_meta(const struct perf_system_stats *s)
{
	struct perf_stream_meta m;

	memset(&m, 0, sizeof(m));
	m.clock =
	    (s->flags & PERF_SYS_F_ICOUNT) ? PERF_STREAM_CLOCK_ICOUNT : PERF_STREAM_CLOCK_WALL;
	m.ncpus = s->ncpus;
	m.tsc_hz = s->tsc_hz;
	m.tick_fs = s->tsc_hz ? 1000000000000000ull / s->tsc_hz : 0;
	m.rate = s->sample_rate;
	m.buffer_records = s->buffer_size;
	m.buffer_mode =
	    s->mode == PERF_BUFFER_SATURATE ? PERF_STREAM_MODE_SATURATE : PERF_STREAM_MODE_CIRCULAR;
	m.event_mask = s->event_mask;
	m.start_ns = s->uptime_ns;
	m.flags = PERF_STREAM_META_F_TS_END;
	strncpy(m.version, "machperf perfctl 1", sizeof(m.version));
	mps_enc_meta(pc_payload(), &m);
	pc_send(PERF_STREAM_META, sizeof(m));
}

/* One read_samples call on cpu as a RECORDS frame; *count, *lost, *dropped what it got. */
static kern_return_t pc_send_records(uint32_t cpu, uint32_t *count, uint64_t *lost,
                                     uint64_t *dropped)
{
	perf_record_array_t recs = NULL;
	mach_msg_type_number_t n = 0;
	rpc_uint64_t next = 0, lo = 0;
	uint64_t before = pc_cursors.cursor[cpu];
	kern_return_t kr = perf_monitor_read_samples(pc_host_priv, before, &recs, &n, &next, &lo);

	*count = 0;
	*lost = 0;
	*dropped = 0;
	if (kr != KERN_SUCCESS)
		return kr;
	uint32_t nrec = n / PERF_RECORD_WORDS;
	uint64_t span = next >= before ? next - before : 0;
	uint64_t seq_lost = span >= nrec ? span - nrec : 0; /* between the cursors */
	struct perf_stream_records h = {
		.cursor_before = before,
		.cursor_after = next,
		.lost = seq_lost,
		.count = nrec,
		.cpu = cpu,
		.dropped = lo > seq_lost ? lo - seq_lost : 0, /* refused, no sequence number */
	};
	uint8_t *p = pc_payload();

	if (nrec > 0 || lo > 0 || seq_lost > 0) {
		mps_enc_records(p, &h);
		for (uint32_t i = 0; i < nrec; i++)
			mps_enc_record(p + sizeof(h) + 32 * i, &recs[i]);
		pc_send(PERF_STREAM_RECORDS, sizeof(h) + 32 * nrec);
	}
	pc_vm_free(recs, n * sizeof(uint64_t));
	pc_cursors.cursor[cpu] = next;
	*count = nrec;
	*lost = h.lost;
	*dropped = h.dropped;
	return KERN_SUCCESS;
}

/* Percentile-derived buckets of one event (see the top of the file). */
static size_t pc_enc_buckets(uint8_t *p, const struct perf_event_stats *s)
{
	const uint64_t n = s->count;
	const uint64_t vals[] = {
		s->p50_ns, s->p90_ns, s->p95_ns, s->p99_ns, s->p999_ns, s->max_ns
	};
	const uint64_t permille[] = { 500, 900, 950, 990, 999, 1000 };
	uint64_t lo = s->min_ns, done = 0;
	uint32_t nb = 0;
	size_t off = 16;

	for (int k = 0; k < 6 && done < n; k++) {
		uint64_t cum = k == 5 ? n : (n * permille[k] + 999) / 1000;
		uint64_t hi = vals[k] > s->max_ns ? s->max_ns : vals[k];

		if (k == 5 || hi >= s->max_ns) { /* the top bucket takes the rest */
			hi = s->max_ns;
			cum = n;
		}
		if (cum <= done || hi < lo)
			continue; /* an empty share, or the same value as the bucket below */
		mps_enc_bucket(p + off, lo, hi, cum - done);
		off += 24;
		nb++;
		done = cum;
		lo = hi + 1;
	}
	if (done < n) { /* the last bucket ended at max already: it takes the rest */
		if (nb == 0) {
			mps_enc_bucket(p + off, s->min_ns, s->max_ns, n);
			off += 24;
			nb++;
		} else {
			mps_put64(p + off - 8, mps_get64(p + off - 8) + (n - done));
		}
	}
	mps_enc_hist(p, n, nb);
	return off;
}

static kern_return_t pc_send_stats(void)
{
	uint8_t *p = pc_payload();
	size_t off = 8;
	uint32_t nev = 0;

	for (uint32_t e = 0; e < PERF_EVENT_MAX; e++) {
		perf_event_stats_data_t st;
		kern_return_t kr = perf_monitor_get_event_stats(pc_host, e, &st);

		if (kr != KERN_SUCCESS)
			return kr;
		mps_enc_event_stats(p + off, &st);
		off += sizeof(struct perf_event_stats);
		off += pc_enc_buckets(p + off, &st);
		nev++;
	}
	mps_enc_pair(p, nev, 0);
	pc_send(PERF_STREAM_STATS, (uint32_t)off);
	return KERN_SUCCESS;
}

static void pc_send_system(const struct perf_system_stats *s)
{
	struct perf_stream_system y;
	uint8_t *p = pc_payload();
	uint32_t ncpus = s->ncpus < PERF_SYS_MAX_CPUS ? s->ncpus : PERF_SYS_MAX_CPUS;

	memset(&y, 0, sizeof(y));
	y.flags = s->flags & (PERF_STREAM_SYS_F_ENABLED | PERF_STREAM_SYS_F_ICOUNT |
	                      PERF_STREAM_SYS_F_BASELINE);
	y.ncpus = ncpus;
	y.rate = s->sample_rate;
	y.buffer_records = s->buffer_size;
	y.buffer_mode =
	    s->mode == PERF_BUFFER_SATURATE ? PERF_STREAM_MODE_SATURATE : PERF_STREAM_MODE_CIRCULAR;
	y.event_mask = s->event_mask;
	y.tasks = s->tasks;
	y.threads = s->threads;
	y.tsc_hz = s->tsc_hz;
	y.uptime_ns = s->uptime_ns;
	y.interval_ns = s->interval_ns;
	y.events = s->events;
	y.written = s->written;
	y.read = s->read;
	y.lost = s->lost;
	y.buffered = s->buffered;
	y.sampled_out = s->sampled_out;
	y.free_pages = s->free_pages;
	y.total_pages = s->total_pages;
	y.cost_record_ns = s->cost_record_ns;
	mps_enc_system(p, &y);
	for (uint32_t i = 0; i < ncpus; i++) {
		const struct perf_cpu_stats *c = &s->cpu[i];
		struct perf_stream_cpu o = {
			.busy_ns = c->busy_ns,
			.idle_ns = c->idle_ns,
			.interrupts = c->interrupts,
			.context_switches = c->context_switches,
			.events = c->events,
			.written = c->written,
			.lost = c->dropped + c->overwritten + c->resize_lost + c->discarded,
			.buffered = c->buffered,
		};

		mps_enc_cpu(p + sizeof(y) + 64 * i, &o);
	}
	pc_send(PERF_STREAM_SYSTEM, sizeof(y) + 64 * ncpus);
}

static kern_return_t pc_send_tasks(void)
{
	perf_task_stats_array_t ts = NULL;
	mach_msg_type_number_t n = 0;
	natural_t total = 0;
	kern_return_t kr = perf_monitor_get_task_stats(pc_host, &ts, &n, &total);

	if (kr != KERN_SUCCESS)
		return kr;
	uint32_t nt = n / PERF_TASK_STATS_WORDS;
	uint8_t *p = pc_payload();

	if (8 + 56 * (size_t)nt > sizeof(pc_frame) - PERF_STREAM_HDR_SIZE)
		nt = (sizeof(pc_frame) - PERF_STREAM_HDR_SIZE - 8) / 56;
	mps_enc_pair(p, nt, 0);
	for (uint32_t i = 0; i < nt; i++) {
		struct perf_stream_task t;

		memset(&t, 0, sizeof(t));
		t.id = ts[i].id;
		t.nthreads = ts[i].threads;
		t.cpu_ns = ts[i].cpu_ns;
		t.resident_pages = ts[i].resident_pages;
		strncpy(t.name, ts[i].name, sizeof(t.name));
		mps_enc_task(p + 8 + 56 * i, &t);
	}
	pc_vm_free(ts, n * sizeof(uint64_t));
	pc_send(PERF_STREAM_TASKS, 8 + 56 * nt);
	return KERN_SUCCESS;
}

kern_return_t pc_stream_send(unsigned secs, bool full, uint64_t *records, uint64_t *lost,
                             uint64_t *bytes)
{
	perf_system_stats_data_t s;
	kern_return_t kr = perf_monitor_get_system_stats(pc_host, &s), kr2 = KERN_SUCCESS;
	uint64_t first[PERF_SYS_MAX_CPUS], nread = 0, nlost = 0, ndropped = 0;

	if (kr != KERN_SUCCESS)
		return kr;
	uint32_t ncpus = s.ncpus < PERF_SYS_MAX_CPUS ? s.ncpus : PERF_SYS_MAX_CPUS;
	uint64_t deadline = s.uptime_ns + (uint64_t)secs * 1000000000ull;
	/* Until caught up: at most four buffers' worth, should recording outrun the reader. */
	uint64_t budget = 4ull * (s.buffer_size ? s.buffer_size : PERF_BUFFER_MAX) * ncpus;

	pc_seq = 0;
	pc_bytes = 0;
	pc_failed = false;
	for (uint32_t c = 0; c < ncpus; c++) {
		if (PERF_CURSOR_CPU(pc_cursors.cursor[c]) != c)
			pc_cursors.cursor[c] = PERF_CURSOR(c, 0);
		first[c] = pc_cursors.cursor[c];
	}
	pc_send_meta(&s);
	for (;;) {
		bool caught_up = true;

		for (uint32_t c = 0; c < ncpus && kr2 == KERN_SUCCESS && !pc_failed; c++) {
			uint32_t n;
			uint64_t lo, dr;

			kr2 = pc_send_records(c, &n, &lo, &dr);
			nread += n;
			nlost += lo;
			ndropped += dr;
			if (n == PERF_READ_MAX_RECORDS || lo > 0 || dr > 0)
				caught_up = false;
		}
		if (kr2 != KERN_SUCCESS || pc_failed)
			break;
		if (secs == 0 && (caught_up || nread >= budget))
			break;
		if (secs > 0) {
			if (perf_monitor_get_system_stats(pc_host, &s) != KERN_SUCCESS ||
			    s.uptime_ns >= deadline)
				break;
			if (caught_up)
				thread_switch(0, SWITCH_OPTION_WAIT, 10);
		}
	}
	if (full && !pc_failed) {
		if (kr2 == KERN_SUCCESS)
			kr2 = pc_send_tasks();
		if (kr2 == KERN_SUCCESS)
			kr2 = pc_send_stats();
		if (kr2 == KERN_SUCCESS &&
		    perf_monitor_get_system_stats(pc_host, &s) == KERN_SUCCESS)
			pc_send_system(&s);
	}

	struct perf_stream_end e = {
		.written = ndropped, /* + the cursor ranges, below */
		.read = nread,
		.lost = nlost,
		.ncpus = ncpus,
		.dropped = ndropped,
	};
	uint8_t *p = pc_payload();

	for (uint32_t c = 0; c < ncpus; c++) {
		struct perf_stream_range r = {
			.cpu = c,
			.first_cursor = first[c],
			.last_cursor = pc_cursors.cursor[c],
		};

		e.written += pc_cursors.cursor[c] - first[c];
		mps_enc_range(p + sizeof(e) + 24 * c, &r);
	}
	mps_enc_end(p, &e);
	pc_send(PERF_STREAM_END, sizeof(e) + 24 * ncpus);
	*records = nread;
	*lost = nlost + ndropped;
	*bytes = pc_bytes;
	if (pc_failed && kr2 == KERN_SUCCESS)
		kr2 = KERN_FAILURE;
	return kr2;
}
