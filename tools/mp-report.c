/*
 * mp-report - perf stream to a self-contained HTML report: inline CSS and
 * SVG, no scripts, no network.  Sections: the loss counters (always, first),
 * the per-event table (count, mean, p50, p95, p99, p99.9, max, events/s,
 * exact integers from the STATS frames), a latency histogram per event type
 * (the STATS histogram buckets, summed per power of two), events/s over
 * time (the records), CPU time per task (the TASKS frames, or estimated
 * from CONTEXT_SWITCH records), the system statistics and every problem
 * found in the stream.  --stats-json writes the statistics exactly as
 * mp-decode --json does (the same code writes both).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/mpjson.h"
#include "tools/mpload.h"
#include "tools/mpout.h"
#include "tools/mpsvg.h"

#define RATE_POINTS 100

static const char *prog = "mp-report";

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s [-o FILE.html] [--stats-json FILE] [--title TEXT] [-q] [INPUT]\n"
	        "Writes a self-contained HTML report (charts included, nothing fetched) of\n"
	        "the perf stream in INPUT (a file, or - / nothing for standard input).\n"
	        "  -o, --output FILE      the HTML report (default: standard output)\n"
	        "  -s, --stats-json FILE  also the statistics as JSON, identical to the\n"
	        "                         \"stats\" of mp-decode --json\n"
	        "  -t, --title TEXT       the report's title\n"
	        "  -q, --quiet            do not list each problem on standard error\n"
	        "  -h, --help             this text\n"
	        "Files are written through FILE.tmp and renamed when done.\n"
	        "Exit status: 0 complete stream; 1 corrupt, truncated, missing or rejected\n"
	        "frames (report written, marked incomplete); 2 usage error, unreadable input\n"
	        "or unwritable output.\n",
	        prog);
}

static const char css[] =
    "body{font:14px/1.4 sans-serif;margin:2em;color:#222;max-width:1100px}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 8px}td.n{text-align:right;"
    "font-family:monospace}th{background:#f0f0f0}"
    ".ok{background:#e6f4e6;padding:6px 10px;border-left:4px solid #2ca02c}"
    ".bad{background:#fde8e8;padding:6px 10px;border-left:4px solid #d62728}"
    "svg.chart{display:block;margin:.5em 0 1.5em;font:11px sans-serif}"
    ".axis{stroke:#444;stroke-width:1}.xl{text-anchor:middle;fill:#444}"
    ".yl{text-anchor:end;fill:#444}.vl,.lg{fill:#222}"
    "code{background:#f4f4f4;padding:0 3px}";

static void td_u64(FILE *f, uint64_t v)
{
	fprintf(f, "<td class=n>%" PRIu64 "</td>", v);
}

static void td_milli(FILE *f, uint64_t v)
{
	fprintf(f, "<td class=n>%" PRIu64 ".%03u</td>", v / 1000, (unsigned)(v % 1000));
}

static void row_u64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "<tr><th>%s</th>", name);
	td_u64(f, v);
	fputs("</tr>\n", f);
}

static void sec_loss(FILE *f, const struct mp_stream *s)
{
	fputs("<h2 id=loss>Loss accounting</h2>\n<table>\n", f);
	row_u64(f, "records received", s->nrec);
	row_u64(f, "records lost (total)", mp_lost_total(s));
	row_u64(f, "records lost in the kernel (overwritten, resized, reset)", s->lost_reported);
	row_u64(f, "records dropped in the kernel (buffer full, saturate mode)",
	        s->dropped_reported);
	row_u64(f, "records lost in transit", s->lost_transit);
	if (s->have_end) {
		row_u64(f, "written (END)", s->end.written);
		row_u64(f, "read (END)", s->end.read);
		row_u64(f, "lost (END)", s->end.lost);
		row_u64(f, "dropped (END)", s->end.dropped);
	} else {
		fputs("<tr><th>written / read / lost / dropped (END)</th><td>unknown: no END "
		      "frame</td></tr>\n",
		      f);
	}
	fprintf(f, "<tr><th>written = read + lost + dropped</th><td>%s</td></tr>\n",
	        s->balanced ? "holds" : "does NOT hold");
	row_u64(f, "frames ok", s->fc.frames);
	row_u64(f, "frames corrupt", s->fc.corrupt);
	row_u64(f, "frames truncated", s->fc.truncated);
	row_u64(f, "frames missing", s->fc.missing);
	row_u64(f, "frames reordered", s->fc.reordered);
	row_u64(f, "frames malformed", s->malformed);
	row_u64(f, "bytes skipped", s->fc.bytes_skipped);
	fputs("</table>\n", f);
}

static void sec_events(FILE *f, const struct mp_stream *s)
{
	const char *unit =
	    s->have_meta && s->meta.clock == PERF_STREAM_CLOCK_ICOUNT ? "insns" : "ns";

	fprintf(f,
	        "<h2 id=events>Per-event statistics</h2>\n<p>Exact over every event (never "
	        "sampled); percentiles within 1%%. Times in %s.</p>\n<table>\n<tr><th>event</th>"
	        "<th>count</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th><th>p99.9</th>"
	        "<th>max</th><th>events/s</th><th>records</th></tr>\n",
	        unit);
	for (int i = 0; i < PERF_EVENT_MAX; i++) {
		const struct perf_event_stats *st = &s->ev[i].s;

		if (!s->ev[i].present)
			continue;
		fprintf(f, "<tr><th>%s</th>", perf_event_name((uint32_t)i));
		td_u64(f, st->count);
		td_milli(f, st->mean_mns);
		td_u64(f, st->p50_ns);
		td_u64(f, st->p95_ns);
		td_u64(f, st->p99_ns);
		td_u64(f, st->p999_ns);
		td_u64(f, st->max_ns);
		td_milli(f, st->rate_mhz);
		td_u64(f, s->rec_per_event[i]);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/*
 * Histogram columns: four per power of two (edges 4, 5, 6, 7 x 2^k), summed
 * from the STATS buckets (each by its midpoint; a bucket never spans two
 * columns below 2^40).  Values below 4 get a column each.
 */
#define HCOLS (4 * 64)

static uint32_t hist_col(uint64_t v)
{
	int e;

	if (v < 4)
		return (uint32_t)v;
	e = 63 - __builtin_clzll(v);
	return (uint32_t)(4 * (e - 1) + ((v >> (e - 2)) & 3));
}

static uint64_t hist_col_lo(uint32_t c)
{
	return c < 4 ? c : (uint64_t)(4 + c % 4) << (c / 4 - 1);
}

/* A histogram edge in the stream's time unit: guest instructions under icount. */
static bool hist_icount(const struct mp_stream *s)
{
	return s->have_meta && s->meta.clock == PERF_STREAM_CLOCK_ICOUNT;
}

static void hist_label(char *buf, size_t size, const struct mp_stream *s, uint64_t v)
{
	if (!hist_icount(s))
		fmt_ns(buf, size, v);
	else if (v < 10000)
		snprintf(buf, size, "%" PRIu64, v);
	else if (v < 10000000)
		snprintf(buf, size, "%" PRIu64 "k", v / 1000);
	else
		snprintf(buf, size, "%" PRIu64 "M", v / 1000000);
}

static void sec_hists(FILE *f, const struct mp_stream *s)
{
	static uint64_t v[HCOLS];
	static char lab[HCOLS][32];
	static const char *labels[HCOLS];
	char instant[PERF_EVENT_MAX * 20] = "";

	fputs("<h2 id=latency>Latency histograms</h2>\n", f);
	for (int i = 0; i < PERF_EVENT_MAX; i++) {
		const struct mp_event *e = &s->ev[i];
		uint32_t lo = HCOLS, hi = 0;

		if (!e->present || e->hist_total == 0)
			continue;
		if (e->s.max_ns == 0) {
			/* Instant events: every value is 0, nothing to draw. */
			size_t n = strlen(instant);

			snprintf(instant + n, sizeof(instant) - n, "%s%s", n ? ", " : "",
			         perf_event_name((uint32_t)i));
			continue;
		}
		memset(v, 0, sizeof(v));
		for (uint32_t b = 0; b < e->nbuckets; b++) {
			uint64_t mid = e->buckets[b].lo + (e->buckets[b].hi - e->buckets[b].lo) / 2;
			uint32_t k = hist_col(mid);

			v[k] += e->buckets[b].count;
			lo = k < lo ? k : lo;
			hi = k > hi ? k : hi;
		}
		for (uint32_t k = lo; k <= hi; k++) {
			hist_label(lab[k], sizeof(lab[k]), s, hist_col_lo(k));
			labels[k] = lab[k];
		}
		fprintf(f,
		        "<h3>%s</h3>\n<p>%" PRIu64 " values; four columns per doubling, each "
		        "labelled with its lower edge%s.</p>\n",
		        perf_event_name((uint32_t)i), e->hist_total,
		        hist_icount(s) ? " in guest instructions" : "");
		svg_columns(f, labels + lo, v + lo, hi - lo + 1, "values");
	}
	if (instant[0])
		fprintf(f, "<p>Instant events (no duration): %s.</p>\n", instant);
}

static void sec_rates(FILE *f, const struct mp_stream *s)
{
	struct svg_series ser[PERF_EVENT_MAX];
	double *y = NULL;
	size_t n = 0;
	uint64_t t0 = UINT64_MAX, t1 = 0, w;

	fputs("<h2 id=rates>Events per second over time</h2>\n", f);
	for (size_t i = 0; i < s->nrec; i++) {
		uint64_t a = mp_rec_start(s, &s->rec[i]);

		t0 = a < t0 ? a : t0;
		t1 = a > t1 ? a : t1;
	}
	if (s->nrec == 0 || !(y = calloc(PERF_EVENT_MAX * RATE_POINTS, sizeof(*y)))) {
		fputs("<p>No records in the stream.</p>\n", f);
		return;
	}
	w = (t1 - t0) / RATE_POINTS + 1;
	for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++) {
		if (s->rec_per_event[ev] == 0)
			continue;
		ser[n].name = perf_event_name(ev);
		ser[n].y = y + n * RATE_POINTS;
		for (size_t i = 0; i < s->nrec; i++)
			if (s->rec[i].event == ev)
				y[n * RATE_POINTS + (mp_rec_start(s, &s->rec[i]) - t0) / w] +=
				    1e9 / (double)w;
		n++;
	}
	fprintf(f, "<p>From the raw records, in %" PRIu64 " ns windows%s.</p>\n", w,
	        s->have_meta && s->meta.rate ? " (a rate limit was on: these are records/s)" : "");
	svg_lines(f, ser, n, RATE_POINTS, t0, t1, "/s");
	free(y);
}

/* cpu_estimate - per-task ns on CPU from CONTEXT_SWITCH records (to_thread runs). */
static uint64_t *cpu_estimate(const struct mp_stream *s)
{
	uint64_t *per_task = calloc(65536, sizeof(*per_task));
	uint16_t *task_of = calloc(65536, sizeof(*task_of));
	uint64_t last_ts[256];
	uint32_t running[256];
	bool any = false;

	if (!per_task || !task_of) {
		free(per_task);
		free(task_of);
		return NULL;
	}
	for (size_t i = 0; i < s->nrec; i++)
		task_of[s->rec[i].thread] = s->rec[i].task;
	for (size_t i = 0; i < s->nthread; i++)
		task_of[s->thread[i].id & 0xffff] = (uint16_t)s->thread[i].task;
	memset(running, 0xff, sizeof(running));
	for (size_t i = 0; i < s->nrec; i++) {
		const struct perf_record *r = &s->rec[i];

		if (r->event != PERF_EVENT_CONTEXT_SWITCH || r->cpu >= 256)
			continue;
		if (running[r->cpu] != UINT32_MAX && r->ts_ns >= last_ts[r->cpu]) {
			per_task[task_of[running[r->cpu] & 0xffff]] += r->ts_ns - last_ts[r->cpu];
			any = true;
		}
		running[r->cpu] = r->data2 & 0xffff;
		last_ts[r->cpu] = r->ts_ns;
	}
	free(task_of);
	if (!any) {
		free(per_task);
		return NULL;
	}
	return per_task;
}

static void sec_tasks(FILE *f, const struct mp_stream *s)
{
	const char *labels[64], *text[64];
	char lab[64][64], txt[64][32];
	uint64_t v[64], *est = NULL;
	size_t n = 0;
	bool from_tasks = false;

	fputs("<h2 id=cpu>CPU time per task</h2>\n", f);
	for (size_t i = 0; i < s->ntask; i++)
		from_tasks = from_tasks || s->task[i].cpu_ns > 0;
	if (!from_tasks)
		est = cpu_estimate(s);
	if (!from_tasks && !est) {
		fputs("<p>No per-task CPU data: no CPU times in TASKS frames and no "
		      "CONTEXT_SWITCH records.</p>\n",
		      f);
		return;
	}
	for (uint32_t id = 0; n < 64 && (from_tasks ? id < s->ntask : id < 65536); id++) {
		uint64_t ns = from_tasks ? s->task[id].cpu_ns : est[id];
		const struct mp_task *t;

		if (ns == 0)
			continue;
		t = from_tasks ? &s->task[id] : mp_task_of(s, id);
		if (t && t->name[0])
			snprintf(lab[n], sizeof(lab[n]), "%s (task %" PRIu32 ")", t->name,
			         from_tasks ? t->id : id);
		else
			snprintf(lab[n], sizeof(lab[n]), "task %" PRIu32, from_tasks ? t->id : id);
		fmt_ns(txt[n], sizeof(txt[n]), ns);
		labels[n] = lab[n];
		text[n] = txt[n];
		v[n++] = ns;
	}
	fprintf(f, "<p>%s.</p>\n",
	        from_tasks ? "From the TASKS frames"
	                   : "Estimated from CONTEXT_SWITCH records (time from a switch to "
	                     "the next one on the same CPU)");
	svg_hbars(f, labels, v, text, n);
	free(est);
}

static void sec_system(FILE *f, const struct mp_stream *s)
{
	const struct perf_stream_system *y = &s->sys;

	fputs("<h2 id=system>System statistics</h2>\n", f);
	if (!s->have_system) {
		fputs("<p>No SYSTEM frame in the stream.</p>\n", f);
		return;
	}
	fputs("<table>\n", f);
	row_u64(f, "events (all types)", y->events);
	row_u64(f, "records written", y->written);
	row_u64(f, "records read", y->read);
	row_u64(f, "records lost (dropped, overwritten, resized, reset)", y->lost);
	row_u64(f, "records buffered", y->buffered);
	row_u64(f, "sampled out (rate limit)", y->sampled_out);
	row_u64(f, "rate limit (records/s per CPU, 0: none)", y->rate);
	row_u64(f, "buffer (records per CPU)", y->buffer_records);
	fprintf(f, "<tr><th>buffer mode</th><td>%s</td></tr>\n", mp_mode_name(y->buffer_mode));
	row_u64(f, "tasks", y->tasks);
	row_u64(f, "threads", y->threads);
	row_u64(f, "free pages", y->free_pages);
	row_u64(f, "total pages", y->total_pages);
	row_u64(f, "uptime (ns)", y->uptime_ns);
	row_u64(f, "recording interval (ns)", y->interval_ns);
	row_u64(f, "TSC (Hz)", y->tsc_hz);
	row_u64(f, "cost of a recorded event (ns)", y->cost_record_ns);
	fputs("</table>\n", f);
	if (y->ncpus == 0)
		return;
	fputs("<table>\n<tr><th>CPU</th><th>busy ns</th><th>idle ns</th><th>interrupts</th>"
	      "<th>context switches</th><th>events</th><th>written</th><th>lost</th>"
	      "<th>buffered</th></tr>\n",
	      f);
	for (uint32_t i = 0; i < y->ncpus; i++) {
		const struct perf_stream_cpu *c = &s->sys_cpu[i];

		fprintf(f, "<tr><th>%" PRIu32 "</th>", i);
		td_u64(f, c->busy_ns);
		td_u64(f, c->idle_ns);
		td_u64(f, c->interrupts);
		td_u64(f, c->context_switches);
		td_u64(f, c->events);
		td_u64(f, c->written);
		td_u64(f, c->lost);
		td_u64(f, c->buffered);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void write_html(FILE *f, const struct mp_stream *s, const char *title)
{
	const struct perf_stream_meta *m = &s->meta;
	char why[512];

	fputs("<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
	html_str(f, title);
	fprintf(f,
	        "</title>\n<meta name=\"machperf-complete\" content=\"%s\">\n<style>%s</style>\n",
	        mp_complete(s) ? "true" : "false", css);
	fputs("</head>\n<body>\n<h1>", f);
	html_str(f, title);
	fputs("</h1>\n<p>Input <code>", f);
	html_str(f, s->name);
	fputs("</code>", f);
	if (s->have_meta) {
		fprintf(f, "; clock %s; %" PRIu32 " CPUs; TSC %" PRIu64 " Hz; kernel <code>",
		        mp_clock_name(m->clock), m->ncpus, m->tsc_hz);
		html_text(f, m->version, strnlen(m->version, sizeof(m->version)));
		fprintf(f,
		        "</code>; rate limit %" PRIu32
		        " records/s per CPU (0: none); buffer %" PRIu32 " records per CPU (%s)",
		        m->rate, m->buffer_records, mp_mode_name(m->buffer_mode));
	}
	fputs(".</p>\n", f);
	if (mp_complete(s)) {
		fputs("<p class=ok>Complete stream: every frame arrived intact.</p>\n", f);
	} else {
		mp_incomplete_why(s, why, sizeof(why));
		fputs("<p class=bad><b>INCOMPLETE stream</b>: ", f);
		html_str(f, why);
		fputs(". Numbers below cover only what arrived.</p>\n", f);
	}
	sec_loss(f, s);
	sec_events(f, s);
	sec_hists(f, s);
	sec_rates(f, s);
	sec_tasks(f, s);
	sec_system(f, s);
	fprintf(f, "<h2 id=problems>Problems found (%" PRIu64 ")</h2>\n", s->msg_total);
	if (s->nmsg) {
		fputs("<ul>\n", f);
		for (size_t i = 0; i < s->nmsg; i++) {
			fputs("<li>", f);
			html_str(f, s->msg[i]);
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	} else {
		fputs("<p>None.</p>\n", f);
	}
	fputs("</body>\n</html>\n", f);
}

static void write_stats_json(FILE *f, const struct mp_stream *s)
{
	struct mj j;

	mj_init(&j, f, 2);
	mj_begin(&j, '{');
	mj_kstr(&j, "format", "machperf-perf-stats");
	mj_ku64(&j, "version", PERF_STREAM_VERSION);
	mj_kbool(&j, "complete", mp_complete(s));
	mj_key(&j, "stats");
	mp_json_stats(&j, s);
	mj_key(&j, "system");
	mp_json_system(&j, s);
	mj_key(&j, "loss");
	mp_json_loss(&j, s);
	mj_end(&j, '}');
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "stats-json", required_argument, NULL, 's' },
		{ "title", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *sj = NULL, *title = "machperf performance report";
	struct mp_out oh, oj = { 0 };
	bool quiet = false, ok, okh, okj;
	struct mp_stream s;
	FILE *fh, *fj = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:s:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 's':
			sj = optarg;
			break;
		case 't':
			title = optarg;
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
	if (sj && (strcmp(sj, "-") == 0 || (out && strcmp(out, sj) == 0))) {
		fprintf(stderr, "%s: --stats-json needs a file of its own\n", prog);
		return MP_EXIT_USAGE;
	}
	if (mp_load_args(&s, argc, argv, optind, prog, quiet) < 0)
		return MP_EXIT_USAGE;
	fh = mp_out_open(&oh, out, prog);
	if (fh && sj && !(fj = mp_out_open(&oj, sj, prog)))
		mp_out_close(&oh, false, prog);
	if (!fh || (sj && !fj)) {
		mp_free(&s);
		return MP_EXIT_USAGE;
	}
	write_html(fh, &s, title);
	if (fj)
		write_stats_json(fj, &s);
	/* both or neither: a stats.json without its report (or the reverse) would mislead */
	ok = !ferror(fh) && (!fj || !ferror(fj));
	okh = mp_out_close(&oh, ok, prog) == 0;
	okj = !fj || mp_out_close(&oj, okh, prog) == 0;
	if (okh && !okj && out && strcmp(out, "-") != 0)
		remove(out);
	if (!okh || !okj) {
		mp_free(&s);
		return MP_EXIT_USAGE;
	}
	rc = MP_EXIT_OK;
	if (!mp_complete(&s)) {
		char why[512];

		mp_incomplete_why(&s, why, sizeof(why));
		fprintf(stderr, "%s: %s: stream incomplete: %s; report marked incomplete\n", prog,
		        s.name, why);
		rc = MP_EXIT_INCOMPLETE;
	}
	mp_free(&s);
	return rc;
}
