/*
 * mp-decode - check a perf stream and print a summary, or its canonical
 * JSON document (--json).  Exit status: 0 for a clean, complete stream; 1
 * when frames were corrupt, cut short, missing or rejected (the output is
 * still written, with "complete": false); 2 for usage errors, unreadable
 * input or unwritable output (no output file is left behind).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/mpjson.h"
#include "tools/mpload.h"
#include "tools/mpout.h"

static const char *prog = "mp-decode";

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s [--json [--no-records]] [-o FILE] [-q] [INPUT]\n"
	        "Checks the perf stream in INPUT (a file, or - / nothing for standard input)\n"
	        "frame by frame and prints a summary, or the canonical JSON document.\n"
	        "  -j, --json         write the JSON document (meta, records, stats, system,\n"
	        "                     tasks, loss accounting) instead of a summary\n"
	        "      --no-records   with --json: per-event record counts, not every record\n"
	        "  -o, --output FILE  write to FILE (through FILE.tmp, renamed when done)\n"
	        "  -q, --quiet        do not list each problem on standard error\n"
	        "  -h, --help         this text\n"
	        "Exit status: 0 complete stream; 1 corrupt, truncated, missing or rejected\n"
	        "frames (output written and marked incomplete); 2 usage error, unreadable\n"
	        "input or unwritable output.\n",
	        prog);
}

static void json_record(struct mj *j, const struct perf_record *r)
{
	mj_begin(j, '{');
	mj_ku64(j, "ts_ns", r->ts_ns);
	mj_kstr(j, "event", perf_event_name(r->event));
	mj_ku64(j, "flags", r->flags);
	mj_ku64(j, "cpu", r->cpu);
	mj_ku64(j, "task", r->task);
	mj_ku64(j, "thread", r->thread);
	mj_ku64(j, "data1", r->data1);
	mj_ku64(j, "data2", r->data2);
	mj_ku64(j, "duration_ns", r->duration_ns);
	mj_end(j, '}');
}

static void write_json(FILE *f, const struct mp_stream *s, bool records)
{
	struct mj j;

	mj_init(&j, f, 2);
	mj_begin(&j, '{');
	mj_kstr(&j, "format", "machperf-perf-stream");
	mj_ku64(&j, "version", PERF_STREAM_VERSION);
	mj_kstr(&j, "input", s->name);
	mj_kbool(&j, "complete", mp_complete(s));
	mj_key(&j, "meta");
	mp_json_meta(&j, s);
	mj_key(&j, "loss");
	mp_json_loss(&j, s);
	mj_key(&j, "records");
	mj_begin(&j, '{');
	mj_ku64(&j, "count", s->nrec);
	mj_key(&j, "per_event");
	mj_begin(&j, '{');
	for (int i = 0; i < PERF_EVENT_MAX; i++)
		mj_ku64(&j, perf_event_name((uint32_t)i), s->rec_per_event[i]);
	mj_end(&j, '}');
	if (records) {
		mj_key(&j, "items");
		mj_begin(&j, '[');
		for (size_t i = 0; i < s->nrec; i++)
			json_record(&j, &s->rec[i]);
		mj_end(&j, ']');
	}
	mj_end(&j, '}');
	mj_key(&j, "stats");
	mp_json_stats(&j, s);
	mj_key(&j, "system");
	mp_json_system(&j, s);
	mj_key(&j, "tasks");
	mp_json_tasks(&j, s);
	mj_key(&j, "threads");
	mj_begin(&j, '[');
	for (size_t i = 0; i < s->nthread; i++) {
		mj_begin(&j, '{');
		mj_ku64(&j, "id", s->thread[i].id);
		mj_ku64(&j, "task", s->thread[i].task);
		mj_end(&j, '}');
	}
	mj_end(&j, ']');
	mj_key(&j, "problems");
	mp_json_messages(&j, s);
	mj_end(&j, '}');
}

static void put_milli(FILE *f, uint64_t v)
{
	fprintf(f, "%" PRIu64 ".%03u", v / 1000, (unsigned)(v % 1000));
}

static void write_summary(FILE *f, const struct mp_stream *s)
{
	const struct perf_stream_meta *m = &s->meta;
	char why[512];

	mp_incomplete_why(s, why, sizeof(why));
	fprintf(f, "stream   %s: %s%s%s\n", s->name, mp_complete(s) ? "complete" : "INCOMPLETE",
	        mp_complete(s) ? "" : ": ", mp_complete(s) ? "" : why);
	if (s->have_meta)
		fprintf(f,
		        "meta     clock %s, %" PRIu32 " CPUs, TSC %" PRIu64
		        " Hz, rate limit %" PRIu32 " records/s per CPU (0: none), buffer %" PRIu32
		        " records per CPU (%s), kernel \"%.*s\"\n",
		        mp_clock_name(m->clock), m->ncpus, m->tsc_hz, m->rate, m->buffer_records,
		        mp_mode_name(m->buffer_mode), (int)strnlen(m->version, sizeof(m->version)),
		        m->version);
	fprintf(f,
	        "frames   %" PRIu64 " ok, %" PRIu64 " corrupt, %" PRIu64 " truncated, %" PRIu64
	        " missing, %" PRIu64 " reordered, %" PRIu64 " malformed; %" PRIu64
	        " bytes skipped\n",
	        s->fc.frames, s->fc.corrupt, s->fc.truncated, s->fc.missing, s->fc.reordered,
	        s->malformed, s->fc.bytes_skipped);
	fprintf(f,
	        "records  %zu received, %" PRIu64 " lost (%" PRIu64 " lost and %" PRIu64
	        " dropped in the kernel, %" PRIu64 " in transit)\n",
	        s->nrec, mp_lost_total(s), s->lost_reported, s->dropped_reported, s->lost_transit);
	if (s->have_end)
		fprintf(f,
		        "totals   written %" PRIu64 " = read %" PRIu64 " + lost %" PRIu64
		        " + dropped %" PRIu64 ": %s\n",
		        s->end.written, s->end.read, s->end.lost, s->end.dropped,
		        s->balanced ? "balanced" : "DOES NOT BALANCE");
	else
		fprintf(f, "totals   unknown (no END frame)\n");
	fprintf(f, "\n%-16s %10s %12s %10s %10s %10s %10s %10s %14s %10s\n", "event", "count",
	        "mean_ns", "p50_ns", "p95_ns", "p99_ns", "p99.9_ns", "max_ns", "events/s",
	        "records");
	for (int i = 0; i < PERF_EVENT_MAX; i++) {
		const struct perf_event_stats *st = &s->ev[i].s;

		if (!s->ev[i].present && s->rec_per_event[i] == 0)
			continue;
		fprintf(f, "%-16s ", perf_event_name((uint32_t)i));
		if (!s->ev[i].present) {
			fprintf(f, "%10s %12s %10s %10s %10s %10s %10s %14s", "-", "-", "-", "-",
			        "-", "-", "-", "-");
		} else {
			fprintf(f, "%10" PRIu64 " %8" PRIu64 ".%03u", st->count,
			        st->mean_mns / 1000, (unsigned)(st->mean_mns % 1000));
			fprintf(f,
			        " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
			        " %10" PRIu64,
			        st->p50_ns, st->p95_ns, st->p99_ns, st->p999_ns, st->max_ns);
			fprintf(f, " %10" PRIu64 ".%03u", st->rate_mhz / 1000,
			        (unsigned)(st->rate_mhz % 1000));
		}
		fprintf(f, " %10" PRIu64 "\n", s->rec_per_event[i]);
	}
	if (s->have_system) {
		const struct perf_stream_system *y = &s->sys;

		fprintf(f,
		        "\nsystem   %" PRIu64 " events; records written %" PRIu64 ", read %" PRIu64
		        ", lost %" PRIu64 ", buffered %" PRIu64 ", sampled out %" PRIu64
		        "; %" PRIu32 " tasks, %" PRIu32 " threads; uptime ",
		        y->events, y->written, y->read, y->lost, y->buffered, y->sampled_out,
		        y->tasks, y->threads);
		put_milli(f, y->uptime_ns / 1000000);
		fprintf(f, " s\n");
		for (uint32_t i = 0; i < y->ncpus; i++)
			fprintf(f,
			        "cpu %-4" PRIu32 " busy %" PRIu64 " ns, idle %" PRIu64
			        " ns, %" PRIu64 " interrupts, %" PRIu64 " context switches\n",
			        i, s->sys_cpu[i].busy_ns, s->sys_cpu[i].idle_ns,
			        s->sys_cpu[i].interrupts, s->sys_cpu[i].context_switches);
	}
	fprintf(f, "tasks    %zu tasks, %zu threads named\n", s->ntask, s->nthread);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-records", no_argument, NULL, 'R' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, records = true, quiet = false;
	const char *out = NULL;
	struct mp_stream s;
	struct mp_out o;
	FILE *f;
	int c, rc;

	while ((c = getopt_long(argc, argv, "jo:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'R':
			records = false;
			break;
		case 'o':
			out = optarg;
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
	f = mp_out_open(&o, out, prog);
	if (!f) {
		mp_free(&s);
		return MP_EXIT_USAGE;
	}
	if (json)
		write_json(f, &s, records);
	else
		write_summary(f, &s);
	if (mp_out_close(&o, true, prog) < 0) {
		mp_free(&s);
		return MP_EXIT_USAGE;
	}
	rc = MP_EXIT_OK;
	if (!mp_complete(&s)) {
		char why[512];

		mp_incomplete_why(&s, why, sizeof(why));
		fprintf(stderr,
		        "%s: %s: stream incomplete: %s; output marked \"complete\": false\n", prog,
		        s.name, why);
		rc = MP_EXIT_INCOMPLETE;
	}
	mp_free(&s);
	return rc;
}
