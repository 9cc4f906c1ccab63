/*
 * perf_query.c - the engine's readers: merged per-event statistics, system
 * counters and raw records.
 *
 * Consistency.  A CPU's statistics are written only by that CPU with its
 * interrupts masked (perf_analysis.c), so a reader on the same CPU gets a
 * consistent copy of one event by masking its own interrupts while it
 * copies.  Today there is one CPU; a reader of another CPU's state would
 * need that CPU to copy for it (an IPI) or a per-CPU sequence count.
 * Raw records need neither: the ring's commit protocol lets any CPU read
 * while the writer writes.  The ring holds timestamps as raw TSC ticks
 * (cheaper for the record path); perf_read_samples converts them to ns.  Readers are serialized by the engine mutex,
 * which also keeps perf_configure and perf_reset from changing a ring
 * under a reader.
 */
#include <stddef.h>

#include "kern/clock.h"
#include "kern/perf_analysis.h"
#include "kern/perf_internal.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "vm/vm_page.h"
#include "x86_64/cpu.h"
#include "x86_64/tsc.h"

struct perf_hist pa_hist_tmp; /* [m] */

static uint64_t pq_read_total; /* [m] records handed to readers */
static uint64_t pq_lost_total; /* [m] records reported lost to them */

void pa_merge_event(uint32_t ev, struct perf_stats *st, struct perf_hist *h)
{
	uint64_t untimed = 0;

	perf_stats_init(st);
	perf_hist_init(h);
	for (uint32_t c = 0; c < pa_ncpus; c++) {
		const struct pa_cpu *pc = pa_cpus[c];
		struct perf_stats s;
		unsigned long fl = intr_save();

		s = pc->st[ev];
		untimed += pc->ucount[ev];
		for (uint32_t i = 0; i < PERF_HIST_NBUCKETS; i++)
			h->counts[i] += pc->hist[ev][i];
		h->overflow += pc->hist[ev][PERF_HIST_NBUCKETS];
		intr_restore(fl);
		perf_stats_merge(st, &s);
	}
	/* The buckets hold the timed values: total, min and max are the stats'. */
	h->total = st->count;
	h->min = st->min;
	h->max = st->max;
	if (untimed != 0) {
		/* Events recorded without a duration count as duration 0. */
		struct perf_stats z;

		perf_stats_init(&z);
		z.count = untimed;
		z.min = 0;
		perf_stats_merge(st, &z);
		perf_hist_add_n(h, 0, untimed);
	}
}

kern_return_t perf_get_event_stats(uint32_t event, struct perf_event_stats *out)
{
	struct perf_stats st;

	if (event >= PERF_EVENT_MAX || out == NULL)
		return KERN_INVALID_ARGUMENT;
	if (pa_ncpus == 0)
		return KERN_FAILURE;
	pa_lock();
	pa_merge_event(event, &st, &pa_hist_tmp);
	perf_stats_export(&st, &pa_hist_tmp, pa_interval_ns(), event, out);
	if (pa_icount)
		out->flags |= PERF_STATS_F_ICOUNT;
	pa_unlock();
	return KERN_SUCCESS;
}

static void pq_cpu_stats(uint32_t c, uint64_t uptime, struct perf_cpu_sysstats *o)
{
	const struct pa_cpu *pc = pa_cpus[c];
	struct sched_cpu_stats ss;
	struct perf_ring_counters rc;
	unsigned long fl;

	sched_get_cpu_stats(c, &ss);
	o->idle_ns = tsc_to_ns(ss.idle_tsc);
	o->busy_ns = uptime > o->idle_ns ? uptime - o->idle_ns : 0;
	o->context_switches = ss.context_switches;
	o->preemptions = ss.preemptions;
	o->interrupts = cpus[c].irq_count;

	fl = intr_save();
	perf_ring_counters(&pc->ring, &rc);
	o->head = pc->ring.head;
	o->sampled_out = pc->rl.limited;
	o->events = 0;
	for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++)
		o->events += pc->ucount[ev] + pc->st[ev].count;
	intr_restore(fl);
	o->written = rc.written;
	o->committed = rc.committed;
	o->dropped = rc.dropped;
	o->overwritten = rc.overwritten;
	o->resize_lost = rc.resize_lost;
	o->discarded = rc.discarded;
	o->capacity = rc.capacity;
	o->buffered = o->head > rc.consumed ? o->head - rc.consumed : 0;
	if (o->buffered > rc.capacity)
		o->buffered = rc.capacity;
}

kern_return_t perf_get_system_stats(struct perf_sysstats *out)
{
	if (out == NULL)
		return KERN_INVALID_ARGUMENT;
	if (pa_ncpus == 0)
		return KERN_FAILURE;
	memset(out, 0, sizeof(*out));
	pa_lock();
	pa_get_config(out);
	out->icount = pa_icount;
	out->baseline = pa_baseline_is_set();
	out->ncpus = pa_ncpus;
	out->tsc_hz = tsc_hz();
	out->uptime_ns = clock_ns();
	out->tasks = task_count();
	out->threads = thread_count();
	out->free_pages = vm_page_free_count();
	out->total_pages = vm_page_total_count();
	out->read = pq_read_total;
	out->lost = pq_lost_total;
	for (uint32_t c = 0; c < pa_ncpus; c++)
		pq_cpu_stats(c, out->uptime_ns, &out->cpu[c]);
	pa_unlock();
	return KERN_SUCCESS;
}

kern_return_t perf_read_samples(uint64_t *cursor, struct perf_record *out, size_t max,
                                size_t *nread, uint64_t *lost)
{
	uint64_t seq, l = 0;
	uint32_t cpu;
	size_t n;

	if (cursor == NULL || nread == NULL || lost == NULL || (out == NULL && max != 0))
		return KERN_INVALID_ARGUMENT;
	cpu = PERF_CURSOR_CPU(*cursor);
	if (cpu >= pa_ncpus)
		return KERN_INVALID_ARGUMENT;
	seq = PERF_CURSOR_SEQ(*cursor);
	pa_lock();
	n = perf_ring_read(&pa_cpus[cpu]->ring, &seq, out, max, &l);
	for (size_t i = 0; i < n; i++) /* the ring holds raw TSC; readers get ns */
		out[i].ts_ns = pa_ts_to_ns(out[i].ts_ns);
	pq_read_total += n;
	pq_lost_total += l;
	pa_unlock();
	*cursor = PERF_CURSOR(cpu, seq);
	*nread = n;
	*lost = l;
	return KERN_SUCCESS;
}
