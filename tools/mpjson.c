/*
 * mpjson.c - the shared JSON sections (see mpjson.h and docs/perf-stream.md).
 *
 * Every number is an integer from the stream, or an integer in thousandths
 * printed with three decimals (mean_ns, stddev_ns, events_per_s): no
 * floating point, so two tools print the same digits.
 */
#include "tools/mpjson.h"

#include <string.h>

const char *mp_clock_name(uint32_t clock)
{
	return clock == PERF_STREAM_CLOCK_ICOUNT ? "icount" : "wall";
}

const char *mp_mode_name(uint32_t mode)
{
	if (mode == PERF_STREAM_MODE_SATURATE)
		return "saturate";
	if (mode == PERF_STREAM_MODE_CIRCULAR)
		return "circular";
	return "?";
}

void mp_json_meta(struct mj *j, const struct mp_stream *s)
{
	const struct perf_stream_meta *m = &s->meta;

	if (!s->have_meta) {
		mj_null(j);
		return;
	}
	mj_begin(j, '{');
	mj_kstr(j, "clock", mp_clock_name(m->clock));
	mj_ku64(j, "ncpus", m->ncpus);
	mj_ku64(j, "tsc_hz", m->tsc_hz);
	mj_ku64(j, "tick_fs", m->tick_fs);
	mj_ku64(j, "rate", m->rate);
	mj_ku64(j, "buffer_records", m->buffer_records);
	mj_kstr(j, "buffer_mode", mp_mode_name(m->buffer_mode));
	mj_ku64(j, "event_mask", m->event_mask);
	mj_ku64(j, "start_ns", m->start_ns);
	mj_kbool(j, "ts_end", m->flags & PERF_STREAM_META_F_TS_END);
	mj_key(j, "kernel_version");
	mj_strn(j, m->version, strnlen(m->version, sizeof(m->version)));
	mj_end(j, '}');
}

static void js_event(struct mj *j, const struct mp_event *e)
{
	const struct perf_event_stats *st = &e->s;

	mj_begin(j, '{');
	mj_ku64(j, "id", st->event);
	mj_kstr(j, "unit", st->flags & PERF_STATS_F_ICOUNT ? "insns" : "ns");
	mj_ku64(j, "flags", st->flags);
	mj_ku64(j, "count", st->count);
	mj_ku64(j, "min_ns", st->min_ns);
	mj_ku64(j, "max_ns", st->max_ns);
	mj_ku64(j, "sum_ns", st->sum_ns);
	mj_kmilli(j, "mean_ns", st->mean_mns);
	mj_kmilli(j, "stddev_ns", st->stddev_mns);
	mj_ku64(j, "variance_ns2", st->variance_ns2);
	mj_ku64(j, "p50_ns", st->p50_ns);
	mj_ku64(j, "p90_ns", st->p90_ns);
	mj_ku64(j, "p95_ns", st->p95_ns);
	mj_ku64(j, "p99_ns", st->p99_ns);
	mj_ku64(j, "p999_ns", st->p999_ns);
	mj_kmilli(j, "events_per_s", st->rate_mhz);
	mj_ku64(j, "interval_ns", st->interval_ns);
	mj_key(j, "histogram");
	mj_begin(j, '{');
	mj_ku64(j, "total", e->hist_total);
	mj_key(j, "buckets");
	mj_begin(j, '[');
	for (uint32_t b = 0; b < e->nbuckets; b++) {
		mj_begin(j, '[');
		mj_u64(j, e->buckets[b].lo);
		mj_u64(j, e->buckets[b].hi);
		mj_u64(j, e->buckets[b].count);
		mj_end(j, ']');
	}
	mj_end(j, ']');
	mj_end(j, '}');
	mj_end(j, '}');
}

void mp_json_stats(struct mj *j, const struct mp_stream *s)
{
	mj_begin(j, '{');
	for (int i = 0; i < PERF_EVENT_MAX; i++) {
		if (!s->ev[i].present)
			continue;
		mj_key(j, perf_event_name((uint32_t)i));
		js_event(j, &s->ev[i]);
	}
	mj_end(j, '}');
}

void mp_json_system(struct mj *j, const struct mp_stream *s)
{
	const struct perf_stream_system *y = &s->sys;

	if (!s->have_system) {
		mj_null(j);
		return;
	}
	mj_begin(j, '{');
	mj_ku64(j, "flags", y->flags);
	mj_kbool(j, "enabled", y->flags & PERF_STREAM_SYS_F_ENABLED);
	mj_kbool(j, "icount", y->flags & PERF_STREAM_SYS_F_ICOUNT);
	mj_kbool(j, "baseline", y->flags & PERF_STREAM_SYS_F_BASELINE);
	mj_ku64(j, "ncpus", y->ncpus);
	mj_ku64(j, "rate", y->rate);
	mj_ku64(j, "buffer_records", y->buffer_records);
	mj_kstr(j, "buffer_mode", mp_mode_name(y->buffer_mode));
	mj_ku64(j, "event_mask", y->event_mask);
	mj_ku64(j, "tasks", y->tasks);
	mj_ku64(j, "threads", y->threads);
	mj_ku64(j, "tsc_hz", y->tsc_hz);
	mj_ku64(j, "uptime_ns", y->uptime_ns);
	mj_ku64(j, "interval_ns", y->interval_ns);
	mj_ku64(j, "events", y->events);
	mj_ku64(j, "written", y->written);
	mj_ku64(j, "read", y->read);
	mj_ku64(j, "lost", y->lost);
	mj_ku64(j, "buffered", y->buffered);
	mj_ku64(j, "sampled_out", y->sampled_out);
	mj_ku64(j, "free_pages", y->free_pages);
	mj_ku64(j, "total_pages", y->total_pages);
	mj_ku64(j, "cost_record_ns", y->cost_record_ns);
	mj_kbool(j, "balanced",
	         y->read <= y->written && y->lost <= y->written - y->read &&
	             y->written - y->read - y->lost == y->buffered);
	mj_key(j, "cpus");
	mj_begin(j, '[');
	for (uint32_t i = 0; i < y->ncpus; i++) {
		const struct perf_stream_cpu *c = &s->sys_cpu[i];

		mj_begin(j, '{');
		mj_ku64(j, "busy_ns", c->busy_ns);
		mj_ku64(j, "idle_ns", c->idle_ns);
		mj_ku64(j, "interrupts", c->interrupts);
		mj_ku64(j, "context_switches", c->context_switches);
		mj_ku64(j, "events", c->events);
		mj_ku64(j, "written", c->written);
		mj_ku64(j, "lost", c->lost);
		mj_ku64(j, "buffered", c->buffered);
		mj_end(j, '}');
	}
	mj_end(j, ']');
	mj_end(j, '}');
}

void mp_json_tasks(struct mj *j, const struct mp_stream *s)
{
	mj_begin(j, '[');
	for (size_t i = 0; i < s->ntask; i++) {
		const struct mp_task *t = &s->task[i];

		mj_begin(j, '{');
		mj_ku64(j, "id", t->id);
		mj_kstr(j, "name", t->name);
		mj_ku64(j, "threads", t->nthreads);
		mj_ku64(j, "cpu_ns", t->cpu_ns);
		mj_ku64(j, "resident_pages", t->resident_pages);
		mj_end(j, '}');
	}
	mj_end(j, ']');
}

void mp_json_loss(struct mj *j, const struct mp_stream *s)
{
	mj_begin(j, '{');
	mj_ku64(j, "frames_ok", s->fc.frames);
	mj_ku64(j, "frames_corrupt", s->fc.corrupt);
	mj_ku64(j, "frames_truncated", s->fc.truncated);
	mj_ku64(j, "frames_missing", s->fc.missing);
	mj_ku64(j, "frames_reordered", s->fc.reordered);
	mj_ku64(j, "frames_malformed", s->malformed);
	mj_ku64(j, "bytes_skipped", s->fc.bytes_skipped);
	mj_ku64(j, "records_received", s->nrec);
	mj_ku64(j, "records_lost_reported", s->lost_reported);
	mj_ku64(j, "records_dropped_reported", s->dropped_reported);
	mj_ku64(j, "records_lost_in_transit", s->lost_transit);
	mj_ku64(j, "records_lost", mp_lost_total(s));
	if (s->have_end) {
		mj_ku64(j, "written", s->end.written);
		mj_ku64(j, "read", s->end.read);
		mj_ku64(j, "lost", s->end.lost);
		mj_ku64(j, "dropped", s->end.dropped);
	} else {
		static const char *const keys[] = { "written", "read", "lost", "dropped" };

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			mj_key(j, keys[i]);
			mj_null(j);
		}
	}
	mj_kbool(j, "balanced", s->balanced);
	mj_ku64(j, "problems", s->msg_total);
	mj_end(j, '}');
}

void mp_json_messages(struct mj *j, const struct mp_stream *s)
{
	mj_begin(j, '[');
	for (size_t i = 0; i < s->nmsg; i++)
		mj_str(j, s->msg[i]);
	mj_end(j, ']');
}
