/*
 * mpload - a whole perf stream decoded and checked into memory: what the
 * three tools print, convert and chart.
 *
 * Loss accounting (docs/perf-stream.md): records_received records arrived;
 * lost_reported were lost in the kernel with their sequence numbers
 * (overwritten, resized, reset: the RECORDS frames' lost fields);
 * dropped_reported were refused by a full saturate-mode buffer, without
 * sequence numbers (the dropped fields); lost_transit were in frames that
 * never arrived: gaps in a CPU's cursor sequence, plus the drops END counts
 * that no RECORDS frame arrived to report.  The stream balances when END is
 * present, END.written = END.read + END.lost + END.dropped, the sum of its
 * cursor ranges = END.read + END.lost, and received + lost_reported +
 * dropped_reported + lost_transit = END.written: every record written is
 * either here or counted.
 */
#ifndef TOOLS_MPLOAD_H
#define TOOLS_MPLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <mach/perf_event.h>
#include <mach/perf_stream.h>

#include "tools/mpstream.h"

/* Exit codes shared by the tools. */
#define MP_EXIT_OK 0         /* clean, complete stream */
#define MP_EXIT_INCOMPLETE 1 /* corrupt, lost or missing frames: output marked so */
#define MP_EXIT_USAGE 2      /* bad arguments, unreadable input, unwritable output */

#define MP_MAX_MESSAGES 100 /* kept for the outputs; all are counted */

struct mp_event {
	bool present;
	struct perf_event_stats s;
	uint64_t hist_total;
	uint32_t nbuckets;
	struct perf_stream_bucket *buckets;
};

struct mp_task {
	uint32_t id, nthreads;
	uint64_t cpu_ns, resident_pages;
	char name[PERF_STREAM_NAME_MAX + 1];
};

/* One CPU's cursor sequence, as the RECORDS frames showed it. */
struct mp_chain {
	uint32_t cpu;
	uint64_t first, cursor;     /* first cursor_before, last cursor_after */
	uint64_t first_ts, last_ts; /* of its first and last record */
};

/* A place where records were lost: before the records of one frame. */
struct mp_loss {
	uint64_t ts_ns;    /* of the first record after the loss */
	uint64_t reported; /* lost in the kernel, with sequence numbers */
	uint64_t dropped;  /* dropped in the kernel, without (saturate) */
	uint64_t transit;  /* lost with frames that never arrived */
};

struct mp_stream {
	const char *name;     /* of the input, for messages */
	struct mps_counts fc; /* framing */
	uint64_t malformed;   /* good frames whose payload did not make sense */
	uint64_t warnings;    /* odd but usable values */
	bool have_meta, have_system, have_end, io_error, nomem;
	struct perf_stream_meta meta;
	struct perf_stream_system sys;
	struct perf_stream_cpu *sys_cpu; /* sys.ncpus */
	struct perf_stream_end end;
	struct perf_stream_range *end_range; /* end.ncpus */
	struct mp_event ev[PERF_EVENT_MAX];

	struct perf_record *rec;
	size_t nrec, rec_cap;
	uint64_t rec_per_event[PERF_EVENT_MAX];

	struct mp_task *task; /* sorted by id */
	size_t ntask, task_cap;
	struct perf_stream_thread *thread; /* sorted by id */
	size_t nthread, thread_cap;

	struct mp_loss *loss;
	size_t nloss, loss_cap;
	struct mp_chain *chain;
	size_t nchain, chain_cap;
	uint64_t last_ts;
	uint64_t lost_reported, dropped_reported, lost_transit;
	bool balanced;

	char *msg[MP_MAX_MESSAGES];
	size_t nmsg;
	uint64_t msg_total;
	FILE *echo; /* if set, every message is also printed here as it comes */
	const char *prog;
};

/*
 * mp_load - decode everything from in into s (which it initialises).
 * Returns 0 when the input was read to its end (check mp_complete()), or -1
 * on a read error or out of memory (s->io_error, s->nomem; the message said
 * why).  Free with mp_free() either way.
 */
int mp_load(struct mp_stream *s, FILE *in, const char *name, const char *prog, FILE *echo);
void mp_free(struct mp_stream *s);

/* mp_lost_total - every record written and not received: kernel and transit. */
static inline uint64_t mp_lost_total(const struct mp_stream *s)
{
	return s->lost_reported + s->dropped_reported + s->lost_transit;
}

/* mp_complete - nothing corrupt, missing or unaccounted, META and END seen. */
bool mp_complete(const struct mp_stream *s);

/* mp_incomplete_why - a sentence listing what makes s incomplete. */
void mp_incomplete_why(const struct mp_stream *s, char *buf, size_t size);

/* mp_task_of - the task named for id (matched on the low 16 bits), or NULL. */
const struct mp_task *mp_task_of(const struct mp_stream *s, uint32_t id);

/*
 * mp_load_args - the tools' one input: argv[optind] if there is one ("-" or
 * none is stdin), decoded into s with mp_load.  Returns 0 with s loaded
 * (check mp_complete()), or -1 after saying why when there is more than
 * one input, it cannot be opened, or it cannot be decoded (a read error,
 * out of memory); s then holds nothing to free.
 */
int mp_load_args(struct mp_stream *s, int argc, char **argv, int optind, const char *prog,
                 bool quiet);

/* The start of a timed record's interval (META flag TS_END respected). */
uint64_t mp_rec_start(const struct mp_stream *s, const struct perf_record *r);

#endif /* TOOLS_MPLOAD_H */
