/*
 * mp-trace - perf stream to Chrome trace JSON (Trace Event Format), for
 * ui.perfetto.dev and chrome://tracing.
 *
 * Layout of the trace:
 *	pid task+1        one process per task, named after it ("M" events);
 *	  tid             one thread per (task, kernel thread), thread+1 when
 *	                  the thread id is unambiguous
 *	pid 100000+cpu    "CPU n": a copy of every event recorded on that CPU
 *	pid 300000        "event rates": a counter ("C") per event type, events/s
 *	                  per time window, from the records (under a rate limit,
 *	                  records/s)
 *	pid 300001        "perf stream": loss markers and a running loss counter
 *	                  (lost and dropped in the kernel, lost in transit)
 * Timed records (PERF_REC_F_TIMED) become complete events ("X"), the rest
 * instants ("i"); thread events have cat "event", CPU copies cat "cpu", so
 * counting cat "event" gives the records per event type.  ts and dur are
 * microseconds with three decimals: exact nanoseconds (under icount, one
 * instruction is shown as one ns).
 *
 * Slices on one track must nest.  Per track, slices are sorted by start and
 * longest first, and a stack of open slices is kept: a slice that starts
 * inside the top one but ends after it is clamped to end with it, and
 * counted ("slices_clamped" in otherData).  The whole trace is then sorted
 * by time, parents before children, so importers see the same nesting.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/mpjson.h"
#include "tools/mpload.h"
#include "tools/mpout.h"

#define PID_CPU 100000
#define PID_RATES 300000
#define PID_STREAM 300001
#define TID_SYNTH 1000000

static const char *prog = "mp-trace";

/* One trace event made from a record. */
struct tev {
	uint64_t ts, dur;
	uint32_t rec;   /* index in s->rec */
	uint32_t track; /* index in tracks[] */
	bool timed, cpu;
};

struct track {
	uint64_t key; /* task << 16 | thread, or 1 << 32 | cpu */
	uint32_t pid, tid;
	uint16_t task, thread, cpu;
	bool is_cpu;
};

struct trace {
	const struct mp_stream *s;
	struct tev *ev;
	size_t nev;
	struct track *tr; /* room for hcap / 2 */
	size_t ntr;
	uint32_t *hash; /* open addressing: track index or UINT32_MAX */
	size_t hcap;
	uint64_t clamped, cpu_clamped;
	uint64_t window_ns;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s [-o FILE] [-w MICROSECONDS] [-q] [INPUT]\n"
	        "Converts the perf stream in INPUT (a file, or - / nothing for standard input)\n"
	        "into a Chrome trace JSON for ui.perfetto.dev or chrome://tracing.\n"
	        "  -o, --output FILE   write to FILE (through FILE.tmp, renamed when done)\n"
	        "  -w, --window US     counter window in microseconds (default: 1/200 of\n"
	        "                      the trace, at least 1)\n"
	        "  -q, --quiet         do not list each problem on standard error\n"
	        "  -h, --help          this text\n"
	        "Exit status: 0 complete stream; 1 corrupt, truncated, missing or rejected\n"
	        "frames (trace written, otherData.complete false); 2 usage error, unreadable\n"
	        "input or unwritable output.\n",
	        prog);
}

/* Per-event argument names for data1 / data2 (NULL: not shown); hex addresses. */
static const struct {
	const char *d1, *d2;
	bool hex1;
} argnames[PERF_EVENT_MAX] = {
	[PERF_EVENT_IPC_SEND] = { "size", "port", false },
	[PERF_EVENT_IPC_RECEIVE] = { "size", "port", false },
	[PERF_EVENT_VM_ALLOC] = { "address", "size", true },
	[PERF_EVENT_VM_FREE] = { "address", "size", true },
	[PERF_EVENT_TASK_CREATE] = { "task", "parent", false },
	[PERF_EVENT_TASK_TERMINATE] = { "task", "status", false },
	[PERF_EVENT_THREAD_CREATE] = { "thread", "task", false },
	[PERF_EVENT_THREAD_TERMINATE] = { "thread", "task", false },
	[PERF_EVENT_CONTEXT_SWITCH] = { "from_thread", "to_thread", false },
	[PERF_EVENT_INTERRUPT] = { "vector", NULL, false },
	[PERF_EVENT_SYSCALL] = { "trap", "return", false },
	[PERF_EVENT_PAGE_FAULT] = { "address", "kind", true },
};

/* tr_track - index of the track for key (a hash lookup), created if new. */
static uint32_t tr_track(struct trace *t, bool is_cpu, uint16_t a, uint16_t b)
{
	uint64_t key = is_cpu ? 1ULL << 32 | a : (uint64_t)a << 16 | b;
	size_t h;

	if (2 * (t->ntr + 1) > t->hcap) {
		size_t ncap = t->hcap ? 2 * t->hcap : 1024;
		uint32_t *nh = malloc(ncap * sizeof(*nh));
		struct track *ntr = realloc(t->tr, ncap / 2 * sizeof(*ntr));

		if (!nh || !ntr) {
			free(nh);
			if (ntr)
				t->tr = ntr;
			return UINT32_MAX;
		}
		t->tr = ntr;
		memset(nh, 0xff, ncap * sizeof(*nh));
		for (size_t i = 0; i < t->ntr; i++) {
			for (h = t->tr[i].key * 0x9e3779b97f4a7c15ULL >> 20 & (ncap - 1);
			     nh[h] != UINT32_MAX; h = (h + 1) & (ncap - 1))
				;
			nh[h] = (uint32_t)i;
		}
		free(t->hash);
		t->hash = nh;
		t->hcap = ncap;
	}
	for (h = key * 0x9e3779b97f4a7c15ULL >> 20 & (t->hcap - 1); t->hash[h] != UINT32_MAX;
	     h = (h + 1) & (t->hcap - 1))
		if (t->tr[t->hash[h]].key == key)
			return t->hash[h];
	t->hash[h] = (uint32_t)t->ntr;
	t->tr[t->ntr] = (struct track){ .key = key, .is_cpu = is_cpu };
	if (is_cpu) {
		t->tr[t->ntr].cpu = a;
		t->tr[t->ntr].pid = t->tr[t->ntr].tid = PID_CPU + a;
	} else {
		t->tr[t->ntr].task = a;
		t->tr[t->ntr].thread = b;
		t->tr[t->ntr].pid = (uint32_t)a + 1;
	}
	return (uint32_t)t->ntr++;
}

/* tr_tids - thread+1, or a synthetic tid when one thread id shows in two tasks. */
static int tr_tids(struct trace *t)
{
	uint32_t synth = TID_SYNTH;
	uint32_t *uses = calloc(65536, sizeof(*uses));

	if (!uses)
		return -1;
	for (size_t i = 0; i < t->ntr; i++)
		if (!t->tr[i].is_cpu)
			uses[t->tr[i].thread]++;
	for (size_t i = 0; i < t->ntr; i++) {
		struct track *k = &t->tr[i];

		if (!k->is_cpu)
			k->tid = uses[k->thread] > 1 ? synth++ : (uint32_t)k->thread + 1;
	}
	free(uses);
	return 0;
}

static int by_track_start(const void *pa, const void *pb)
{
	const struct tev *a = pa, *b = pb;

	if (a->track != b->track)
		return a->track < b->track ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->dur != b->dur)
		return a->dur > b->dur ? -1 : 1;
	return a->rec < b->rec ? -1 : a->rec > b->rec;
}

static int by_time(const void *pa, const void *pb)
{
	const struct tev *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->dur != b->dur)
		return a->dur > b->dur ? -1 : 1;
	if (a->track != b->track)
		return a->track < b->track ? -1 : 1;
	return a->rec < b->rec ? -1 : a->rec > b->rec;
}

/* tr_nest - clamp partial overlaps per track (events sorted by track, start). */
static int tr_nest(struct trace *t)
{
	uint64_t *stack = NULL;
	size_t depth = 0, cap = 0;

	for (size_t i = 0; i < t->nev; i++) {
		struct tev *e = &t->ev[i];
		uint64_t end;

		if (i > 0 && t->ev[i - 1].track != e->track)
			depth = 0;
		if (!e->timed)
			continue;
		while (depth > 0 && stack[depth - 1] <= e->ts)
			depth--;
		end = e->ts + e->dur;
		if (depth > 0 && end > stack[depth - 1]) {
			e->dur = stack[depth - 1] - e->ts;
			end = stack[depth - 1];
			if (e->cpu)
				t->cpu_clamped++;
			else
				t->clamped++;
		}
		if (depth == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint64_t *p = realloc(stack, ncap * sizeof(*p));

			if (!p) {
				free(stack);
				return -1;
			}
			stack = p;
			cap = ncap;
		}
		stack[depth++] = end;
	}
	free(stack);
	return 0;
}

static int tr_build(struct trace *t)
{
	const struct mp_stream *s = t->s;

	t->ev = calloc(s->nrec ? 2 * s->nrec : 1, sizeof(*t->ev));
	if (!t->ev)
		return -1;
	for (size_t i = 0; i < s->nrec; i++) {
		const struct perf_record *r = &s->rec[i];
		bool timed = r->flags & PERF_REC_F_TIMED;
		uint32_t th = tr_track(t, false, r->task, r->thread);
		uint32_t tc = tr_track(t, true, r->cpu, 0);
		uint64_t ts = mp_rec_start(s, r), dur = timed ? r->duration_ns : 0;

		if (dur > UINT64_MAX - ts) /* a slice ends by the end of time */
			dur = UINT64_MAX - ts;

		if (th == UINT32_MAX || tc == UINT32_MAX)
			return -1;
		t->ev[t->nev++] = (struct tev){ ts, dur, (uint32_t)i, th, timed, false };
		t->ev[t->nev++] = (struct tev){ ts, dur, (uint32_t)i, tc, timed, true };
	}
	if (tr_tids(t) < 0)
		return -1;
	qsort(t->ev, t->nev, sizeof(*t->ev), by_track_start);
	if (tr_nest(t) < 0)
		return -1;
	qsort(t->ev, t->nev, sizeof(*t->ev), by_time);
	return 0;
}

static void put_us(struct mj *j, const char *key, uint64_t ns)
{
	mj_key(j, key);
	mj_ns_as_us(j, ns);
}

static void meta_event(struct mj *j, const char *what, uint32_t pid, uint32_t tid, bool thread,
                       const char *name)
{
	mj_begin(j, '{');
	mj_kstr(j, "name", what);
	mj_kstr(j, "ph", "M");
	mj_ku64(j, "pid", pid);
	if (thread)
		mj_ku64(j, "tid", tid);
	mj_key(j, "args");
	mj_begin(j, '{');
	if (strstr(what, "sort_index"))
		mj_ku64(j, "sort_index", tid);
	else
		mj_kstr(j, "name", name);
	mj_end(j, '}');
	mj_end(j, '}');
}

static void emit_metadata(struct mj *j, const struct trace *t)
{
	bool *named = calloc(65536, sizeof(*named));
	char name[128];

	for (size_t i = 0; i < t->ntr; i++) {
		const struct track *k = &t->tr[i];
		const struct mp_task *task;

		if (k->is_cpu) {
			snprintf(name, sizeof(name), "CPU %u", k->cpu);
			meta_event(j, "process_name", k->pid, 0, false, name);
			meta_event(j, "process_sort_index", k->pid, k->cpu, false, NULL);
			meta_event(j, "thread_name", k->pid, k->tid, true, "events");
			continue;
		}
		if (named && !named[k->task]) {
			named[k->task] = true;
			task = mp_task_of(t->s, k->task);
			if (task && task->name[0])
				snprintf(name, sizeof(name), "%s (task %u)", task->name, k->task);
			else
				snprintf(name, sizeof(name), "task %u", k->task);
			meta_event(j, "process_name", k->pid, 0, false, name);
			meta_event(j, "process_sort_index", k->pid, 1000 + (uint32_t)k->task, false,
			           NULL);
		}
		snprintf(name, sizeof(name), "thread %u", k->thread);
		meta_event(j, "thread_name", k->pid, k->tid, true, name);
	}
	free(named);
	meta_event(j, "process_name", PID_RATES, 0, false, "event rates");
	meta_event(j, "process_name", PID_STREAM, 0, false, "perf stream");
	meta_event(j, "thread_name", PID_STREAM, PID_STREAM, true, "loss");
}

static void emit_record(struct mj *j, const struct trace *t, const struct tev *e)
{
	const struct perf_record *r = &t->s->rec[e->rec];
	const struct track *k = &t->tr[e->track];
	char hex[24];

	mj_begin(j, '{');
	mj_kstr(j, "name", perf_event_name(r->event));
	mj_kstr(j, "cat", e->cpu ? "cpu" : "event");
	mj_kstr(j, "ph", e->timed ? "X" : "i");
	put_us(j, "ts", e->ts);
	if (e->timed)
		put_us(j, "dur", e->dur);
	else
		mj_kstr(j, "s", "t");
	mj_ku64(j, "pid", k->pid);
	mj_ku64(j, "tid", k->tid);
	mj_key(j, "args");
	mj_begin(j, '{');
	mj_ku64(j, "cpu", r->cpu);
	mj_ku64(j, "task", r->task);
	mj_ku64(j, "thread", r->thread);
	if (e->cpu) { /* the thread's copy has the details */
		mj_end(j, '}');
		mj_end(j, '}');
		return;
	}
	if (argnames[r->event].hex1) {
		snprintf(hex, sizeof(hex), "0x%" PRIx64, r->data1);
		mj_kstr(j, argnames[r->event].d1, hex);
	} else if (r->event == PERF_EVENT_SYSCALL) {
		mj_key(j, argnames[r->event].d1);
		mj_i64(j, (int64_t)r->data1);
	} else {
		mj_ku64(j, argnames[r->event].d1, r->data1);
	}
	if (argnames[r->event].d2)
		mj_ku64(j, argnames[r->event].d2, r->data2);
	if (e->timed)
		mj_ku64(j, "duration_ns", r->duration_ns);
	if (e->dur != (e->timed ? r->duration_ns : 0))
		mj_kbool(j, "clamped", true);
	if (r->flags & PERF_REC_F_DUR_SAT)
		mj_kbool(j, "duration_saturated", true);
	mj_end(j, '}');
	mj_end(j, '}');
}

/* emit_rates - events/s per event type per window, as counters. */
static void emit_rates(struct mj *j, const struct trace *t, uint64_t t0, uint64_t t1)
{
	const struct mp_stream *s = t->s;
	uint64_t w = t->window_ns, nwin = (t1 - t0) / w + 1;
	uint64_t *cnt;
	char name[64];

	cnt = calloc(nwin, sizeof(*cnt));
	if (!cnt)
		return;
	for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++) {
		if (s->rec_per_event[ev] == 0)
			continue;
		memset(cnt, 0, nwin * sizeof(*cnt));
		for (size_t i = 0; i < s->nrec; i++)
			if (s->rec[i].event == ev)
				cnt[(mp_rec_start(s, &s->rec[i]) - t0) / w]++;
		snprintf(name, sizeof(name), "%s/s", perf_event_name(ev));
		for (uint64_t k = 0; k <= nwin; k++) {
			unsigned __int128 milli =
			    k < nwin ? (unsigned __int128)cnt[k] * 1000000000000ULL / w : 0;

			mj_begin(j, '{');
			mj_kstr(j, "name", name);
			mj_kstr(j, "ph", "C");
			put_us(j, "ts", t0 + k * w);
			mj_ku64(j, "pid", PID_RATES);
			mj_key(j, "args");
			mj_begin(j, '{');
			mj_kmilli(j, "events/s", milli > UINT64_MAX ? UINT64_MAX : (uint64_t)milli);
			mj_end(j, '}');
			mj_end(j, '}');
		}
	}
	free(cnt);
}

static void emit_losses(struct mj *j, const struct trace *t, uint64_t t0)
{
	const struct mp_stream *s = t->s;
	uint64_t total = 0;
	char name[96];

	mj_begin(j, '{');
	mj_kstr(j, "name", "records lost");
	mj_kstr(j, "ph", "C");
	put_us(j, "ts", t0);
	mj_ku64(j, "pid", PID_STREAM);
	mj_key(j, "args");
	mj_begin(j, '{');
	mj_ku64(j, "total", 0);
	mj_end(j, '}');
	mj_end(j, '}');
	for (size_t i = 0; i < s->nloss; i++) {
		const struct mp_loss *l = &s->loss[i];

		total += l->reported + l->dropped + l->transit;
		snprintf(name, sizeof(name), "records lost: %" PRIu64,
		         l->reported + l->dropped + l->transit);
		mj_begin(j, '{');
		mj_kstr(j, "name", name);
		mj_kstr(j, "cat", "loss");
		mj_kstr(j, "ph", "i");
		mj_kstr(j, "s", "g");
		put_us(j, "ts", l->ts_ns);
		mj_ku64(j, "pid", PID_STREAM);
		mj_ku64(j, "tid", PID_STREAM);
		mj_key(j, "args");
		mj_begin(j, '{');
		mj_ku64(j, "lost_in_kernel", l->reported);
		mj_ku64(j, "dropped_in_kernel", l->dropped);
		mj_ku64(j, "lost_in_transit", l->transit);
		mj_end(j, '}');
		mj_end(j, '}');
		mj_begin(j, '{');
		mj_kstr(j, "name", "records lost");
		mj_kstr(j, "ph", "C");
		put_us(j, "ts", l->ts_ns);
		mj_ku64(j, "pid", PID_STREAM);
		mj_key(j, "args");
		mj_begin(j, '{');
		mj_ku64(j, "total", total);
		mj_end(j, '}');
		mj_end(j, '}');
	}
}

static void emit_other(struct mj *j, const struct trace *t)
{
	const struct mp_stream *s = t->s;
	char why[512];

	mj_begin(j, '{');
	mj_kstr(j, "generator", "machperf mp-trace");
	mj_kbool(j, "complete", mp_complete(s));
	mp_incomplete_why(s, why, sizeof(why));
	mj_kstr(j, "incomplete_because", why);
	mj_kstr(j, "clock", s->have_meta ? mp_clock_name(s->meta.clock) : "unknown");
	mj_key(j, "kernel_version");
	mj_strn(j, s->meta.version, strnlen(s->meta.version, sizeof(s->meta.version)));
	mj_ku64(j, "rate_limit", s->have_meta ? s->meta.rate : 0);
	mj_ku64(j, "window_ns", t->window_ns);
	mj_ku64(j, "slices_clamped", t->clamped);
	mj_ku64(j, "cpu_slices_clamped", t->cpu_clamped);
	mj_key(j, "loss");
	mp_json_loss(j, s);
	mj_key(j, "records_per_event");
	mj_begin(j, '{');
	for (uint32_t i = 0; i < PERF_EVENT_MAX; i++)
		mj_ku64(j, perf_event_name(i), s->rec_per_event[i]);
	mj_end(j, '}');
	mj_end(j, '}');
}

/* auto_window - at most 200 windows over span: 1, 2 or 5 x 10^k microseconds. */
static uint64_t auto_window(uint64_t span)
{
	static const uint64_t mult[3] = { 1, 2, 5 };

	for (uint64_t base = 1000; base <= 1000000000000000000ULL; base *= 10)
		for (int i = 0; i < 3; i++)
			if (span / (base * mult[i]) <= 200)
				return base * mult[i];
	return UINT64_MAX / 4;
}

static void write_trace(FILE *f, struct trace *t)
{
	const struct mp_stream *s = t->s;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	struct mj j;

	for (size_t i = 0; i < s->nrec; i++) {
		uint64_t a = mp_rec_start(s, &s->rec[i]);

		t0 = a < t0 ? a : t0;
		t1 = a > t1 ? a : t1;
	}
	for (size_t i = 0; i < s->nloss; i++) {
		t0 = s->loss[i].ts_ns < t0 ? s->loss[i].ts_ns : t0;
		t1 = s->loss[i].ts_ns > t1 ? s->loss[i].ts_ns : t1;
	}
	if (t0 > t1)
		t0 = t1 = 0;
	if (t->window_ns != 0 && (t1 - t0) / t->window_ns > 1000000) {
		fprintf(stderr,
		        "%s: %s: window too small for a trace this long: using 1/200 of it\n", prog,
		        s->name);
		t->window_ns = 0;
	}
	if (t->window_ns == 0)
		t->window_ns = auto_window(t1 - t0);
	mj_init(&j, f, 2);
	mj_begin(&j, '{');
	mj_kstr(&j, "displayTimeUnit", "ns");
	mj_key(&j, "otherData");
	emit_other(&j, t);
	mj_key(&j, "traceEvents");
	mj_begin(&j, '[');
	emit_metadata(&j, t);
	for (size_t i = 0; i < t->nev; i++)
		emit_record(&j, t, &t->ev[i]);
	emit_rates(&j, t, t0, t1);
	emit_losses(&j, t, t0);
	mj_end(&j, ']');
	mj_end(&j, '}');
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "window", required_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	struct trace t = { 0 };
	bool quiet = false;
	struct mp_stream s;
	struct mp_out o;
	FILE *f;
	char *endp;
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:w:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'w':
			t.window_ns = strtoull(optarg, &endp, 10) * 1000;
			if (*optarg == 0 || *endp != 0 || t.window_ns == 0 ||
			    t.window_ns > 3600000000000ULL) {
				fprintf(stderr,
				        "%s: --window wants microseconds, 1 to 3600000000: %s\n",
				        prog, optarg);
				return MP_EXIT_USAGE;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return MP_EXIT_OK;
		default:
			fprintf(stderr, "%s: see %s --help\n", prog, prog);
			return MP_EXIT_USAGE;
		}
	}
	if (mp_load_args(&s, argc, argv, optind, prog, quiet) < 0)
		return MP_EXIT_USAGE;
	t.s = &s;
	if (tr_build(&t) < 0) {
		fprintf(stderr, "%s: %s: cannot convert: %s; nothing written\n", prog, s.name,
		        s.io_error ? "read error" : "out of memory");
		rc = MP_EXIT_USAGE;
		goto out;
	}
	f = mp_out_open(&o, out, prog);
	if (!f) {
		rc = MP_EXIT_USAGE;
		goto out;
	}
	write_trace(f, &t);
	if (mp_out_close(&o, true, prog) < 0) {
		rc = MP_EXIT_USAGE;
		goto out;
	}
	rc = MP_EXIT_OK;
	if (t.clamped)
		fprintf(stderr,
		        "%s: %s: %" PRIu64 " partially overlapping slices clamped to nest\n", prog,
		        s.name, t.clamped);
	if (!mp_complete(&s)) {
		char why[512];

		mp_incomplete_why(&s, why, sizeof(why));
		fprintf(stderr,
		        "%s: %s: stream incomplete: %s; trace marked otherData.complete false\n",
		        prog, s.name, why);
		rc = MP_EXIT_INCOMPLETE;
	}
out:
	free(t.ev);
	free(t.tr);
	free(t.hash);
	mp_free(&s);
	return rc;
}
