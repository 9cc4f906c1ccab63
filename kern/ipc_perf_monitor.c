/*
 * The perf_monitor server: mig-defs/perf_monitor.defs on top of the
 * engine's kernel API (kern/perf_analysis.h).  docs/performance-analysis-
 * framework.md ("The RPC interface") is the user's view.
 *
 * Dispatch.  The generated demux perf_monitor_server is registered for
 * the host and host-priv kobject types, next to mach_host's: ipc_kobject
 * tries each demux of the port's type in turn, and ours answers FALSE
 * (without a reply the dispatcher keeps) for any id outside 3400..3499.
 * The routines see the kernel space's names (mig-defs/README.md):
 * the request port, the alert port's send right.
 *
 * Privilege.  Readers of statistics accept either host port; control,
 * raw samples, baselines, alerts and the delay knob need the privileged
 * one and answer KERN_INVALID_HOST to the other, before looking at any
 * other argument.
 *
 * Arguments.  Every value a user chooses is checked here or by the
 * engine, which returns KERN_INVALID_ARGUMENT without changing anything;
 * no argument can make the kernel panic.  Out-of-line results are
 * kalloc'd here and marked dealloc: the IPC layer copies them to the
 * receiver and frees them.  The import's out-of-line request buffer is
 * ours on success (kfree'd here) and the dispatcher's on failure.
 */
#include <mach/mig_errors.h>
#include <mach/perf_monitor_types.h>
#include <stddef.h>

#include "ipc/ipc_kobject.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_port.h"
#include "kern/ipc_perf_monitor.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/perf_alert.h"
#include "kern/perf_analysis.h"
#include "kern/string.h"
#include "kern/task.h"
#include "perf_monitor_S.h" /* mig-gen/: the S_ routines' prototypes */

boolean_t perf_monitor_server(mach_msg_header_t *in, mach_msg_header_t *out);

_Static_assert(PERF_SYS_MAX_CPUS == PERF_MAX_CPUS, "the message holds every CPU");

/* What name (a right in the kernel space) grants: none, reading, everything. */
enum pm_access { PM_NONE, PM_READ, PM_PRIV };

static enum pm_access pm_access(mach_port_t name)
{
	enum pm_access a = PM_NONE;
	unsigned long f = ipc_lock();
	const struct ipc_port *port = ipc_kobject_port(name);

	if (port && port->active && port->kotype == IKOT_HOST_PRIV)
		a = PM_PRIV;
	else if (port && port->active && port->kotype == IKOT_HOST)
		a = PM_READ;
	ipc_unlock(f);
	return a;
}

static kern_return_t pm_check(mach_port_t name, enum pm_access need)
{
	return pm_access(name) >= need ? KERN_SUCCESS : KERN_INVALID_HOST;
}

kern_return_t S_perf_monitor_enable(mach_port_t host_priv)
{
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	return kr != KERN_SUCCESS ? kr : perf_monitor_enable(true);
}

kern_return_t S_perf_monitor_disable(mach_port_t host_priv)
{
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	return kr != KERN_SUCCESS ? kr : perf_monitor_enable(false);
}

kern_return_t S_perf_monitor_configure(mach_port_t host_priv, natural_t rate,
                                       natural_t buffer_records, natural_t mode)
{
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	return kr != KERN_SUCCESS ? kr : perf_configure(rate, buffer_records, mode);
}

kern_return_t S_perf_monitor_set_event_mask(mach_port_t host_priv, natural_t event_mask)
{
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	return kr != KERN_SUCCESS ? kr : perf_set_event_mask(event_mask);
}

kern_return_t S_perf_monitor_get_event_stats(mach_port_t host, natural_t event,
                                             perf_event_stats_data_t *stats)
{
	struct perf_event_stats st;
	kern_return_t kr = pm_check(host, PM_READ);

	if (kr == KERN_SUCCESS)
		kr = perf_get_event_stats(event, &st);
	if (kr == KERN_SUCCESS)
		memcpy(stats, &st, sizeof(st));
	return kr;
}

/* The engine's perf_sysstats as the message carries it. */
static void pm_sysstats(const struct perf_sysstats *s, struct perf_system_stats *y)
{
	memset(y, 0, sizeof(*y));
	y->flags = (s->enabled ? PERF_SYS_F_ENABLED : 0) | (s->icount ? PERF_SYS_F_ICOUNT : 0) |
	           (s->baseline ? PERF_SYS_F_BASELINE : 0);
	y->ncpus = s->ncpus < PERF_SYS_MAX_CPUS ? s->ncpus : PERF_SYS_MAX_CPUS;
	y->sample_rate = s->rate;
	y->buffer_size = s->buffer_records;
	y->mode = s->mode;
	y->event_mask = s->event_mask;
	y->uptime_ns = s->uptime_ns;
	y->tsc_khz = s->tsc_hz / 1000;
	y->tsc_hz = s->tsc_hz;
	y->interval_ns = s->interval_ns;
	y->cost_record_ns = s->cost_record_ns;
	y->cost_stats_ns = s->cost_stats_ns;
	y->cost_block_ns = s->cost_block_ns;
	y->tasks = s->tasks;
	y->threads = s->threads;
	y->ports = ipc_port_count();
	y->free_pages = s->free_pages;
	y->total_pages = s->total_pages;
	y->read = s->read;
	y->reader_lost = s->lost;
	for (uint32_t c = 0; c < y->ncpus; c++) {
		const struct perf_cpu_sysstats *k = &s->cpu[c];
		struct perf_cpu_stats *u = &y->cpu[c];

		*u = (struct perf_cpu_stats){
			.busy_ns = k->busy_ns,
			.idle_ns = k->idle_ns,
			.interrupts = k->interrupts,
			.context_switches = k->context_switches,
			.preemptions = k->preemptions,
			.events = k->events,
			.sampled_out = k->sampled_out,
			.written = k->written,
			.committed = k->committed,
			.dropped = k->dropped,
			.overwritten = k->overwritten,
			.resize_lost = k->resize_lost,
			.discarded = k->discarded,
			.buffered = k->buffered,
			.capacity = k->capacity,
			.head = k->head,
		};
		y->events += k->events;
		y->written += k->written;
		y->lost += k->dropped + k->overwritten + k->resize_lost + k->discarded;
		y->buffered += k->buffered;
		y->sampled_out += k->sampled_out;
		y->interrupts += k->interrupts;
		y->context_switches += k->context_switches;
	}
}

kern_return_t S_perf_monitor_get_system_stats(mach_port_t host, perf_system_stats_data_t *stats)
{
	struct perf_sysstats *s;
	struct perf_system_stats *y;
	kern_return_t kr = pm_check(host, PM_READ);

	if (kr != KERN_SUCCESS)
		return kr;
	/* Too big for a kernel stack frame, both of them. */
	s = kalloc(sizeof(*s));
	y = kalloc(sizeof(*y));
	if (s == NULL || y == NULL)
		kr = KERN_RESOURCE_SHORTAGE;
	else
		kr = perf_get_system_stats(s);
	if (kr == KERN_SUCCESS) {
		pm_sysstats(s, y);
		memcpy(stats, y, sizeof(*y));
	}
	kfree(s);
	kfree(y);
	return kr;
}

kern_return_t S_perf_monitor_read_samples(mach_port_t host_priv, rpc_uint64_t cursor,
                                          perf_record_array_t *samples,
                                          mach_msg_type_number_t *samplesCnt,
                                          rpc_uint64_t *next_cursor, rpc_uint64_t *lost)
{
	struct perf_record *buf;
	uint64_t cur = cursor, lost_total = 0;
	size_t total = 0;
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	if (kr != KERN_SUCCESS)
		return kr;
	buf = kalloc(PERF_READ_MAX_RECORDS * sizeof(*buf));
	if (buf == NULL)
		return KERN_RESOURCE_SHORTAGE;
	/* The engine stops at losses and at a record being written: go on while it moves. */
	for (;;) {
		size_t n = 0;
		uint64_t l = 0;

		kr = perf_read_samples(&cur, buf + total, PERF_READ_MAX_RECORDS - total, &n, &l);
		if (kr != KERN_SUCCESS)
			break;
		total += n;
		lost_total += l;
		if ((n == 0 && l == 0) || total == PERF_READ_MAX_RECORDS)
			break;
	}
	if (kr != KERN_SUCCESS || total == 0) {
		kfree(buf);
		buf = NULL;
	}
	if (kr != KERN_SUCCESS)
		return kr;
	*samples = buf;
	*samplesCnt = (mach_msg_type_number_t)(total * PERF_RECORD_WORDS);
	*next_cursor = cur;
	*lost = lost_total;
	return KERN_SUCCESS;
}

kern_return_t S_perf_monitor_set_baseline(mach_port_t host_priv)
{
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	return kr != KERN_SUCCESS ? kr : perf_set_baseline();
}

kern_return_t S_perf_monitor_export_baseline(mach_port_t host_priv, perf_baseline_data_t *baseline,
                                             mach_msg_type_number_t *baselineCnt)
{
	size_t len = 0;
	uint8_t *buf;
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	if (kr != KERN_SUCCESS)
		return kr;
	kr = perf_baseline_export(NULL, 0, &len);
	if (kr == KERN_FAILURE)
		return kr; /* no baseline */
	if (len == 0 || len > PERF_BASELINE_MAX_BYTES)
		return KERN_FAILURE;
	buf = kalloc(len);
	if (buf == NULL)
		return KERN_RESOURCE_SHORTAGE;
	kr = perf_baseline_export(buf, len, &len);
	if (kr != KERN_SUCCESS) {
		kfree(buf);
		return kr;
	}
	*baseline = buf;
	*baselineCnt = (mach_msg_type_number_t)len;
	return KERN_SUCCESS;
}

kern_return_t S_perf_monitor_import_baseline(mach_port_t host_priv, perf_baseline_data_t baseline,
                                             mach_msg_type_number_t baselineCnt)
{
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	if (kr != KERN_SUCCESS)
		return kr;
	if (baselineCnt == 0 || baselineCnt > PERF_BASELINE_MAX_BYTES || baseline == NULL)
		return KERN_INVALID_ARGUMENT;
	kr = perf_baseline_import(baseline, baselineCnt);
	if (kr == KERN_SUCCESS)
		kfree(baseline); /* ours on success; the dispatcher frees it otherwise */
	return kr;
}

kern_return_t S_perf_monitor_check_regression(mach_port_t host, natural_t event,
                                              natural_t threshold_pct, boolean_t *regressed,
                                              natural_t *verdict, perf_regress_changes_t *changes)
{
	struct perf_regress_verdict v;
	struct perf_regress_changes c;
	kern_return_t kr = pm_check(host, PM_READ);

	if (kr == KERN_SUCCESS)
		kr = perf_check_regression(event, threshold_pct, &v);
	if (kr != KERN_SUCCESS)
		return kr;
	c = (struct perf_regress_changes){
		.mean_change_bp = v.mean_change_bp,
		.p50_change_bp = v.p50_change_bp,
		.p95_change_bp = v.p95_change_bp,
		.p99_change_bp = v.p99_change_bp,
		.z_milli = v.z_milli,
		.auc_ppm = v.auc_ppm,
		.n_base = v.n_base,
		.n_cur = v.n_cur,
	};
	*regressed = v.regressed;
	*verdict = v.reason;
	memcpy(changes, &c, sizeof(c));
	return KERN_SUCCESS;
}

kern_return_t S_perf_monitor_reset(mach_port_t host_priv)
{
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	return kr != KERN_SUCCESS ? kr : perf_reset();
}

/*
 * alert_port is a send right in the kernel space: on success it is ours,
 * so it is always moved out of the space here (into a port pointer the
 * alerts keep, or released); on an error before that the dispatcher
 * destroys it.
 */
kern_return_t S_perf_monitor_register_alert(mach_port_t host_priv, mach_port_t alert_port,
                                            natural_t event, rpc_uint64_t threshold_ns)
{
	struct ipc_port *port = NULL;
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	if (kr != KERN_SUCCESS)
		return kr;
	if (event >= PERF_EVENT_MAX || !(PERF_ALERT_EVENTS & (1u << event)))
		return KERN_INVALID_ARGUMENT;

	unsigned long f = ipc_lock();
	struct ipc_entry *e = ipc_entry_lookup(ipc_space_kernel, alert_port);

	if (e && (e->type & MACH_PORT_TYPE_SEND) && e->object) {
		port = e->object;
		if (!port->active || port->kotype != IKOT_NONE)
			port = NULL;
		else
			ipc_port_copy_send(port);
	}
	ipc_unlock(f);
	if (port == NULL)
		return KERN_INVALID_ARGUMENT;
	(void)mach_port_deallocate(ipc_space_kernel, alert_port);
	/* Both take the right over, whatever they return. */
	if (threshold_ns == 0)
		return perf_alert_cancel(port, event);
	return perf_alert_register(port, event, threshold_ns);
}

/* TSC cycles to ns, without overflow for any plausible frequency. */
static uint64_t pm_tsc_ns(uint64_t tsc, uint64_t hz)
{
	if (hz == 0)
		return 0;
	return tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
}

kern_return_t S_perf_monitor_get_task_stats(mach_port_t host, perf_task_stats_array_t *stats,
                                            mach_msg_type_number_t *statsCnt,
                                            natural_t *tasks_total)
{
	struct task_figures *fig;
	struct perf_task_stats *out;
	struct perf_sysstats *s;
	unsigned n, total;
	uint64_t hz;
	kern_return_t kr = pm_check(host, PM_READ);

	if (kr != KERN_SUCCESS)
		return kr;
	fig = kalloc(PERF_TASK_STATS_MAX * sizeof(*fig));
	s = kalloc(sizeof(*s));
	if (fig == NULL || s == NULL || perf_get_system_stats(s) != KERN_SUCCESS) {
		kfree(fig);
		kfree(s);
		return KERN_RESOURCE_SHORTAGE;
	}
	hz = s->tsc_hz;
	kfree(s);
	total = task_figures(fig, PERF_TASK_STATS_MAX);
	n = total < PERF_TASK_STATS_MAX ? total : PERF_TASK_STATS_MAX;
	out = n ? kalloc(n * sizeof(*out)) : NULL;
	if (n && out == NULL) {
		kfree(fig);
		return KERN_RESOURCE_SHORTAGE;
	}
	for (unsigned i = 0; i < n; i++) {
		out[i] = (struct perf_task_stats){
			.id = fig[i].id,
			.threads = fig[i].threads,
			.cpu_ns = pm_tsc_ns(fig[i].cpu_tsc, hz),
			.resident_pages = fig[i].resident_pages,
		};
		strlcpy(out[i].name, fig[i].name, sizeof(out[i].name));
	}
	kfree(fig);
	*stats = out;
	*statsCnt = (mach_msg_type_number_t)(n * PERF_TASK_STATS_WORDS);
	*tasks_total = total;
	return KERN_SUCCESS;
}

kern_return_t S_perf_monitor_inject_delay(mach_port_t host_priv, natural_t event, rpc_uint64_t ns)
{
	kern_return_t kr = pm_check(host_priv, PM_PRIV);

	return kr != KERN_SUCCESS ? kr : perf_inject_delay(event, ns);
}

/* Ours is tried after mach_host's; an id outside 3400..3499 is not ours. */
static boolean_t pm_demux(mach_msg_header_t *in, mach_msg_header_t *out)
{
	if (in->msgh_id < 3400 || in->msgh_id >= 3500)
		return FALSE;
	return perf_monitor_server(in, out);
}

void ipc_perf_monitor_init(void)
{
	if (!ipc_kobject_register(IKOT_HOST, pm_demux) ||
	    !ipc_kobject_register(IKOT_HOST_PRIV, pm_demux))
		panic("ipc_perf_monitor_init: no room for the perf_monitor demux");
	perf_alert_init();
}
