/*
 * perfctl: the guest's perf control agent, a Mach client of perf_monitor
 * (mig-defs/perf_monitor.defs).  docs/perf-analysis.md is the user's
 * guide; this is the protocol.
 *
 *	perfctl [CMD [ARG...] [+ CMD [ARG...]]...]
 *
 * With no arguments it serves the host channel: it reads one command per
 * line and answers each with one JSON line, {"ok":true,...} or
 * {"ok":false,"error":"KERN_INVALID_HOST","code":..,"message":".."}.
 * With arguments it runs those commands (separated by "+" words: module
 * strings cannot hold commas or quotes) and prints the answers on the
 * console; the command "serve" then turns to the channel.  It exits 0
 * if every command succeeded, 1 otherwise.
 *
 * Commands whose answer is bulk data send the JSON line first, then the
 * data: "dump" and "trace" a complete perf stream (<mach/perf_stream.h>,
 * META ... END) followed by one more JSON line with the totals;
 * "baseline-export" {"ok":true,"bytes":N} and N bytes.  "baseline-import
 * N" reads N bytes after its line.
 *
 * The privileged host port comes from task_get_special_port
 * (TASK_HOST_PRIV_PORT), which the kernel fills for the bootstrap task
 * and for modules started with priv=1; without it perfctl still answers
 * statistics (host_t) and refuses the rest with KERN_INVALID_HOST.
 */
#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/perf_monitor_types.h>
#include <mach/task_special_ports.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mach.h"
#include "perf_monitor.h"
#include "perfctl.h"

#define PC_ARGS_MAX 16
#define PC_LINE_MAX 512
#define PC_IMPORT_TIMEOUT_MS 30000

mach_port_t pc_host_priv, pc_host;
static bool pc_quit;

static const char *const pc_verdicts[] = {
	"NO_CHANGE", "TOO_FEW", "BELOW_FLOOR", "IMPROVED", "SLOWER", "EXACT_WITHIN", "EXACT_SLOWER",
};

/* An event by name or number; -1 if neither. */
static int pc_event(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s && !*end)
		return v >= 0 && v < PERF_EVENT_MAX ? (int)v : -1;
	return perf_event_lookup(s);
}

static bool pc_uint(const char *s, unsigned long long *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	*v = strtoull(s, &end, 0);
	return !*end;
}

/* Answers a failed RPC; true if it failed. */
static bool pc_failed(kern_return_t kr, const char *what)
{
	if (kr == KERN_SUCCESS)
		return false;
	pc_json_error(kr, "%s: %s", what,
	              kr == KERN_INVALID_HOST ? "perfctl does not hold the privileged host port"
	                                      : mach_error_name(kr));
	return true;
}

static bool pc_ok(void)
{
	pc_json_begin();
	pc_json_raw("{\"ok\":true");
	return true;
}

static void pc_stats_fields(const struct perf_event_stats *s)
{
	pc_json_raw("{\"event\":\"%s\"", perf_event_name(s->event));
	pc_json_u64("id", s->event);
	pc_json_u64("count", s->count);
	pc_json_u64("min_ns", s->min_ns);
	pc_json_u64("max_ns", s->max_ns);
	pc_json_u64("sum_ns", s->sum_ns);
	pc_json_raw(",\"mean_ns\":%llu.%03llu", (unsigned long long)(s->mean_mns / 1000),
	            (unsigned long long)(s->mean_mns % 1000));
	pc_json_raw(",\"stddev_ns\":%llu.%03llu", (unsigned long long)(s->stddev_mns / 1000),
	            (unsigned long long)(s->stddev_mns % 1000));
	pc_json_u64("p50_ns", s->p50_ns);
	pc_json_u64("p90_ns", s->p90_ns);
	pc_json_u64("p95_ns", s->p95_ns);
	pc_json_u64("p99_ns", s->p99_ns);
	pc_json_u64("p999_ns", s->p999_ns);
	pc_json_raw(",\"events_per_s\":%llu.%03llu", (unsigned long long)(s->rate_mhz / 1000),
	            (unsigned long long)(s->rate_mhz % 1000));
	pc_json_u64("interval_ns", s->interval_ns);
	pc_json_u64("flags", s->flags);
	pc_json_raw("}");
}

/* The loss counters, in every statistics answer. */
static void pc_loss_fields(const struct perf_system_stats *s)
{
	uint64_t dropped = 0, overwritten = 0, resize_lost = 0, discarded = 0;

	for (uint32_t c = 0; c < s->ncpus && c < PERF_SYS_MAX_CPUS; c++) {
		dropped += s->cpu[c].dropped;
		overwritten += s->cpu[c].overwritten;
		resize_lost += s->cpu[c].resize_lost;
		discarded += s->cpu[c].discarded;
	}
	pc_json_raw(",\"loss\":{\"written\":%llu", (unsigned long long)s->written);
	pc_json_u64("read", s->read);
	pc_json_u64("lost", s->lost);
	pc_json_u64("buffered", s->buffered);
	pc_json_u64("sampled_out", s->sampled_out);
	pc_json_u64("dropped", dropped);
	pc_json_u64("overwritten", overwritten);
	pc_json_u64("resize_lost", resize_lost);
	pc_json_u64("discarded", discarded);
	pc_json_u64("reader_lost", s->reader_lost);
	pc_json_raw("}");
}

static void pc_system_fields(const struct perf_system_stats *s)
{
	pc_json_raw(",\"system\":{\"enabled\":%s",
	            (s->flags & PERF_SYS_F_ENABLED) ? "true" : "false");
	pc_json_str("clock", (s->flags & PERF_SYS_F_ICOUNT) ? "icount" : "wall");
	pc_json_bool("baseline", (s->flags & PERF_SYS_F_BASELINE) != 0);
	pc_json_u64("ncpus", s->ncpus);
	pc_json_u64("rate", s->sample_rate);
	pc_json_u64("buffer_records", s->buffer_size);
	pc_json_str("mode", s->mode == PERF_BUFFER_SATURATE ? "saturate" : "circular");
	pc_json_u64("event_mask", s->event_mask);
	pc_json_u64("events", s->events);
	pc_json_u64("uptime_ns", s->uptime_ns);
	pc_json_u64("interval_ns", s->interval_ns);
	pc_json_u64("tsc_hz", s->tsc_hz);
	pc_json_u64("cost_record_ns", s->cost_record_ns);
	pc_json_u64("cost_stats_ns", s->cost_stats_ns);
	pc_json_u64("cost_block_ns", s->cost_block_ns);
	pc_json_u64("tasks", s->tasks);
	pc_json_u64("threads", s->threads);
	pc_json_u64("ports", s->ports);
	pc_json_u64("free_pages", s->free_pages);
	pc_json_u64("total_pages", s->total_pages);
	pc_json_u64("interrupts", s->interrupts);
	pc_json_u64("context_switches", s->context_switches);
	pc_json_raw(",\"cpus\":[");
	for (uint32_t c = 0; c < s->ncpus && c < PERF_SYS_MAX_CPUS; c++) {
		const struct perf_cpu_stats *p = &s->cpu[c];

		pc_json_raw("%s{\"cpu\":%u", c ? "," : "", c);
		pc_json_u64("busy_ns", p->busy_ns);
		pc_json_u64("idle_ns", p->idle_ns);
		pc_json_u64("interrupts", p->interrupts);
		pc_json_u64("context_switches", p->context_switches);
		pc_json_u64("preemptions", p->preemptions);
		pc_json_u64("events", p->events);
		pc_json_u64("written", p->written);
		pc_json_u64("buffered", p->buffered);
		pc_json_u64("capacity", p->capacity);
		pc_json_raw("}");
	}
	pc_json_raw("]}");
}

static bool cmd_stats(int argc, char **argv)
{
	perf_system_stats_data_t sys;
	int only = -1;

	if (argc > 2 || (argc == 2 && (only = pc_event(argv[1])) < 0)) {
		pc_json_error(KERN_INVALID_ARGUMENT, "usage: stats [EVENT] (an event name or id)");
		return false;
	}
	if (pc_failed(perf_monitor_get_system_stats(pc_host, &sys), "get_system_stats"))
		return false;
	pc_ok();
	pc_json_raw(",\"events\":[");
	for (int e = 0, first = 1; e < PERF_EVENT_MAX; e++) {
		perf_event_stats_data_t st;
		kern_return_t kr;

		if (only >= 0 && e != only)
			continue;
		kr = perf_monitor_get_event_stats(pc_host, (natural_t)e, &st);
		if (pc_failed(kr, "get_event_stats"))
			return false;
		pc_json_raw("%s", first ? "" : ",");
		pc_stats_fields(&st);
		first = 0;
	}
	pc_json_raw("]");
	pc_loss_fields(&sys);
	pc_system_fields(&sys);
	pc_json_raw("}");
	pc_json_end();
	return true;
}

static bool cmd_sysstats(int argc, char **argv)
{
	perf_system_stats_data_t sys;

	if (pc_failed(perf_monitor_get_system_stats(pc_host, &sys), "get_system_stats"))
		return false;
	pc_ok();
	pc_loss_fields(&sys);
	pc_system_fields(&sys);
	pc_json_raw("}");
	pc_json_end();
	return true;
}

/* The event mask of argv[1..]; false (answered) for a bad name. */
static bool pc_mask(int argc, char **argv, uint32_t *mask)
{
	*mask = 0;
	for (int i = 1; i < argc; i++) {
		int e = pc_event(argv[i]);

		if (e < 0) {
			pc_json_error(KERN_INVALID_ARGUMENT,
			              "unknown event '%s' (IPC_SEND ... PAGE_FAULT)", argv[i]);
			return false;
		}
		*mask |= 1u << e;
	}
	return true;
}

static bool pc_done(kern_return_t kr, const char *what)
{
	perf_system_stats_data_t sys;

	if (pc_failed(kr, what))
		return false;
	pc_ok();
	if (perf_monitor_get_system_stats(pc_host, &sys) == KERN_SUCCESS) {
		pc_json_bool("enabled", (sys.flags & PERF_SYS_F_ENABLED) != 0);
		pc_json_u64("event_mask", sys.event_mask);
	}
	pc_json_raw("}");
	pc_json_end();
	return true;
}

/* enable [EVENT...]: those events (default all) record, then recording starts. */
static bool cmd_enable(int argc, char **argv)
{
	uint32_t mask;

	if (!pc_mask(argc, argv, &mask))
		return false;
	if (argc == 1)
		mask = (1u << PERF_EVENT_MAX) - 1;
	if (pc_failed(perf_monitor_set_event_mask(pc_host_priv, mask), "set_event_mask"))
		return false;
	return pc_done(perf_monitor_enable(pc_host_priv), "enable");
}

/* disable: recording stops; disable EVENT...: those events stop recording. */
static bool cmd_disable(int argc, char **argv)
{
	perf_system_stats_data_t sys;
	uint32_t mask;

	if (argc == 1)
		return pc_done(perf_monitor_disable(pc_host_priv), "disable");
	if (!pc_mask(argc, argv, &mask))
		return false;
	if (pc_failed(perf_monitor_get_system_stats(pc_host, &sys), "get_system_stats"))
		return false;
	return pc_done(perf_monitor_set_event_mask(pc_host_priv, sys.event_mask & ~mask),
	               "set_event_mask");
}

static bool cmd_configure(int argc, char **argv)
{
	unsigned long long rate, buf, mode = PERF_BUFFER_CIRCULAR;

	if (argc < 3 || argc > 4 || !pc_uint(argv[1], &rate) || !pc_uint(argv[2], &buf) ||
	    (argc == 4 && strcmp(argv[3], "circular") != 0 && strcmp(argv[3], "saturate") != 0)) {
		pc_json_error(KERN_INVALID_ARGUMENT,
		              "usage: configure RATE BUFFER [circular|saturate] (RATE 0 or %u..%u, "
		              "BUFFER a power of two %u..%u)",
		              PERF_RATE_MIN, PERF_RATE_MAX, PERF_BUFFER_MIN, PERF_BUFFER_MAX);
		return false;
	}
	if (argc == 4 && strcmp(argv[3], "saturate") == 0)
		mode = PERF_BUFFER_SATURATE;
	if (rate > 0xffffffffull || buf > 0xffffffffull) {
		pc_json_error(KERN_INVALID_ARGUMENT, "RATE or BUFFER out of range");
		return false;
	}
	return pc_done(
	    perf_monitor_configure(pc_host_priv, (natural_t)rate, (natural_t)buf, (natural_t)mode),
	    "configure");
}

static bool cmd_simple(int argc, char **argv)
{
	if (strcmp(argv[0], "reset") == 0)
		return pc_done(perf_monitor_reset(pc_host_priv), "reset");
	return pc_done(perf_monitor_set_baseline(pc_host_priv), "set_baseline");
}

static bool cmd_baseline_export(int argc, char **argv)
{
	perf_baseline_data_t data = NULL;
	mach_msg_type_number_t n = 0;

	if (pc_failed(perf_monitor_export_baseline(pc_host_priv, &data, &n), "export_baseline"))
		return false;
	pc_ok();
	pc_json_u64("bytes", n);
	pc_json_raw("}");
	if (!pc_out_is_channel()) { /* argv mode: the size only */
		pc_json_end();
		pc_vm_free(data, n);
		return true;
	}
	pc_json_end();
	pc_out_bytes(data, n);
	pc_vm_free(data, n);
	return true;
}

static bool cmd_baseline_import(int argc, char **argv)
{
	unsigned long long n;

	if (argc != 2 || !pc_uint(argv[1], &n) || n == 0 || n > PERF_BASELINE_MAX_BYTES) {
		pc_json_error(KERN_INVALID_ARGUMENT,
		              "usage: baseline-import BYTES (1..%u), then the bytes",
		              PERF_BASELINE_MAX_BYTES);
		return false;
	}
	if (!pc_out_is_channel()) {
		pc_json_error(KERN_INVALID_ARGUMENT, "baseline-import reads the host channel only");
		return false;
	}
	uint8_t *buf = malloc(n);

	if (buf == NULL) {
		pc_json_error(KERN_RESOURCE_SHORTAGE, "no memory for %llu bytes", n);
		return false;
	}
	if (!pc_in_bytes(buf, n, PC_IMPORT_TIMEOUT_MS)) {
		free(buf);
		pc_json_error(KERN_FAILURE, "the host sent fewer than %llu bytes", n);
		return false;
	}
	kern_return_t kr = perf_monitor_import_baseline(pc_host_priv, buf, (natural_t)n);

	free(buf);
	if (kr == KERN_INVALID_ARGUMENT) {
		pc_json_error(kr, "the kernel refused the baseline: corrupt or not a machperf "
		                  "baseline (the current baseline is unchanged)");
		return false;
	}
	return pc_done(kr, "import_baseline");
}

static bool cmd_check(int argc, char **argv)
{
	unsigned long long pct;
	int e;

	if (argc != 3 || (e = pc_event(argv[1])) < 0 || !pc_uint(argv[2], &pct) || pct > 1000) {
		pc_json_error(KERN_INVALID_ARGUMENT, "usage: check EVENT PCT (PCT 0..1000)");
		return false;
	}
	boolean_t regressed = 0;
	natural_t verdict = 0;
	perf_regress_changes_t ch;
	kern_return_t kr = perf_monitor_check_regression(pc_host, (natural_t)e, (natural_t)pct,
	                                                 &regressed, &verdict, &ch);

	if (kr == KERN_FAILURE) {
		pc_json_error(kr, "no baseline to compare with, or it was measured on the other "
		                  "kind of clock (icount vs wall)");
		return false;
	}
	if (pc_failed(kr, "check_regression"))
		return false;
	pc_ok();
	pc_json_str("event", perf_event_name((uint32_t)e));
	pc_json_u64("threshold_pct", pct);
	pc_json_bool("regressed", regressed != 0);
	pc_json_str("verdict", verdict < 7 ? pc_verdicts[verdict] : "UNKNOWN");
	pc_json_i64("mean_change_bp", ch.mean_change_bp);
	pc_json_i64("p50_change_bp", ch.p50_change_bp);
	pc_json_i64("p95_change_bp", ch.p95_change_bp);
	pc_json_i64("p99_change_bp", ch.p99_change_bp);
	pc_json_i64("z_milli", ch.z_milli);
	pc_json_i64("auc_ppm", ch.auc_ppm);
	pc_json_u64("n_base", ch.n_base);
	pc_json_u64("n_cur", ch.n_cur);
	pc_json_raw("}");
	pc_json_end();
	return true;
}

/*
 * dump | trace SECS | read-samples, each optionally followed by "ring": a
 * stream, then a JSON line of totals.  With "ring" and the ivshmem device
 * present the stream goes to the bulk channel's ring instead of COM2 (the
 * opening line says "ring":true); the JSON lines stay on COM2.
 */
static bool cmd_stream(int argc, char **argv)
{
	unsigned long long secs = 0;
	bool full = strcmp(argv[0], "read-samples") != 0;
	bool ring = argc > 1 && strcmp(argv[argc - 1], "ring") == 0;
	int nargs = ring ? argc - 1 : argc;

	if ((strcmp(argv[0], "trace") == 0 &&
	     (nargs != 2 || !pc_uint(argv[1], &secs) || secs > 3600)) ||
	    (strcmp(argv[0], "trace") != 0 && nargs != 1)) {
		pc_json_error(KERN_INVALID_ARGUMENT,
		              "usage: dump | read-samples | trace SECS (0..3600), then ring");
		return false;
	}
	if (!pc_out_is_channel()) {
		pc_json_error(KERN_INVALID_ARGUMENT, "%s streams binary frames: host channel only",
		              argv[0]);
		return false;
	}
	if (ring && pc_hostchan_bulk_write(NULL, 0) <= 0)
		ring = false; /* no ivshmem device: COM2 carries it */
	pc_ok();
	pc_json_bool("stream", true);
	pc_json_bool("ring", ring);
	pc_json_raw("}");
	pc_json_end();

	uint64_t records = 0, lost = 0, bytes = 0;

	pc_out_bulk(ring);
	kern_return_t kr = pc_stream_send((unsigned)secs, full, &records, &lost, &bytes);

	pc_out_bulk(false);
	if (pc_failed(kr, "stream"))
		return false;
	pc_ok();
	pc_json_u64("records", records);
	pc_json_u64("lost", lost);
	pc_json_u64("bytes", bytes);
	pc_json_raw("}");
	pc_json_end();
	return true;
}

static bool cmd_tasks(int argc, char **argv)
{
	perf_task_stats_array_t ts = NULL;
	mach_msg_type_number_t n = 0;
	natural_t total = 0;

	if (pc_failed(perf_monitor_get_task_stats(pc_host, &ts, &n, &total), "get_task_stats"))
		return false;
	pc_ok();
	pc_json_u64("total", total);
	pc_json_raw(",\"tasks\":[");
	for (uint32_t i = 0; i < n / PERF_TASK_STATS_WORDS; i++) {
		char name[sizeof(ts[i].name) + 1];

		memcpy(name, ts[i].name, sizeof(ts[i].name));
		name[sizeof(ts[i].name)] = '\0';
		pc_json_raw("%s{\"id\":%u", i ? "," : "", ts[i].id);
		pc_json_str("name", name);
		pc_json_u64("threads", ts[i].threads);
		pc_json_u64("cpu_ns", ts[i].cpu_ns);
		pc_json_u64("resident_pages", ts[i].resident_pages);
		pc_json_raw("}");
	}
	pc_json_raw("]}");
	pc_json_end();
	pc_vm_free(ts, n * sizeof(uint64_t));
	return true;
}

/* User tasks other than the agent and the kernel's; -1 if unknown. */
static int pc_others(void)
{
	perf_task_stats_array_t ts = NULL;
	mach_msg_type_number_t n = 0;
	natural_t total = 0;
	int others = 0;

	if (perf_monitor_get_task_stats(pc_host, &ts, &n, &total) != KERN_SUCCESS)
		return -1;
	for (uint32_t i = 0; i < n / PERF_TASK_STATS_WORDS; i++)
		if (ts[i].id != 0 && strncmp(ts[i].name, "perfctl", 7) != 0 && ts[i].threads > 0)
			others++;
	pc_vm_free(ts, n * sizeof(uint64_t));
	return others;
}

/* wait-tasks [SECS]: until only the agent is left (the workloads ended). */
static bool cmd_wait_tasks(int argc, char **argv)
{
	unsigned long long secs = 600;
	int left = 0;

	if (argc > 2 || (argc == 2 && !pc_uint(argv[1], &secs))) {
		pc_json_error(KERN_INVALID_ARGUMENT, "usage: wait-tasks [SECS]");
		return false;
	}
	for (unsigned long long ms = 0; ms <= secs * 1000; ms += 20) {
		left = pc_others();
		if (left <= 0)
			break;
		thread_switch(0, SWITCH_OPTION_WAIT, 20);
	}
	if (left != 0) {
		pc_json_error(left < 0 ? KERN_FAILURE : KERN_FAILURE,
		              "%d workload tasks still running", left);
		return false;
	}
	pc_ok();
	pc_json_raw("}");
	pc_json_end();
	return true;
}

static bool cmd_inject(int argc, char **argv)
{
	unsigned long long ns;
	int e;

	if (argc != 3 || (e = pc_event(argv[1])) < 0 || !pc_uint(argv[2], &ns)) {
		pc_json_error(KERN_INVALID_ARGUMENT, "usage: inject EVENT NS (test only)");
		return false;
	}
	return pc_done(perf_monitor_inject_delay(pc_host_priv, (natural_t)e, ns), "inject_delay");
}

static bool cmd_ping(int argc, char **argv)
{
	pc_ok();
	pc_json_str("agent", "perfctl");
	pc_json_u64("protocol", 1);
	pc_json_bool("privileged", pc_host_priv != pc_host);
	pc_json_raw("}");
	pc_json_end();
	return true;
}

static bool cmd_quit(int argc, char **argv)
{
	pc_quit = true;
	return cmd_ping(argc, argv);
}

static bool cmd_serve(int argc, char **argv);

static const struct pc_cmd {
	const char *name;
	bool (*fn)(int argc, char **argv);
} pc_cmds[] = {
	{ "ping", cmd_ping },
	{ "enable", cmd_enable },
	{ "disable", cmd_disable },
	{ "configure", cmd_configure },
	{ "reset", cmd_simple },
	{ "stats", cmd_stats },
	{ "sysstats", cmd_sysstats },
	{ "tasks", cmd_tasks },
	{ "baseline-set", cmd_simple },
	{ "baseline-export", cmd_baseline_export },
	{ "baseline-import", cmd_baseline_import },
	{ "check", cmd_check },
	{ "read-samples", cmd_stream },
	{ "dump", cmd_stream },
	{ "trace", cmd_stream },
	{ "wait-tasks", cmd_wait_tasks },
	{ "inject", cmd_inject },
	{ "serve", cmd_serve },
	{ "quit", cmd_quit },
};

static bool pc_run(int argc, char **argv)
{
	if (argc == 0)
		return true;
	for (size_t i = 0; i < sizeof(pc_cmds) / sizeof(pc_cmds[0]); i++)
		if (strcmp(argv[0], pc_cmds[i].name) == 0)
			return pc_cmds[i].fn(argc, argv);
	pc_json_error(KERN_INVALID_ARGUMENT, "unknown command '%s'", argv[0]);
	return false;
}

/* Splits line into words in place. */
static int pc_split(char *line, char **argv)
{
	int argc = 0;

	for (char *p = strtok(line, " \t"); p && argc < PC_ARGS_MAX; p = strtok(NULL, " \t"))
		argv[argc++] = p;
	return argc;
}

static bool cmd_serve(int argc, char **argv)
{
	char line[PC_LINE_MAX];
	char *av[PC_ARGS_MAX];

	printf("perfctl: serving the host channel (COM2)%s\n",
	       pc_host_priv != pc_host ? "" : " without the privileged host port");
	fflush(stdout);
	pc_out_channel(true);
	cmd_ping(0, NULL); /* a hello; lost if no host is connected yet */
	while (!pc_quit && pc_in_line(line, sizeof(line))) {
		int ac = pc_split(line, av);

		if (ac > 0)
			pc_run(ac, av);
	}
	pc_out_channel(false);
	return true;
}

static void pc_ports(void)
{
	mach_port_t p = MACH_PORT_NULL;

	pc_host = mach_host_self();
	if (task_get_special_port(mach_task_self(), TASK_HOST_PRIV_PORT, &p) == KERN_SUCCESS &&
	    MACH_PORT_VALID(p))
		pc_host_priv = p;
	else
		pc_host_priv = pc_host;
}

int main(int argc, char **argv)
{
	bool ok = true;

	pc_ports();
	if (argc < 2)
		return cmd_serve(0, NULL) ? 0 : 1;
	for (int i = 1; i < argc;) {
		int j = i;

		while (j < argc && strcmp(argv[j], "+") != 0)
			j++;
		ok = pc_run(j - i, argv + i) && ok;
		i = j + 1;
		if (pc_quit)
			break;
	}
	return ok ? 0 : 1;
}
