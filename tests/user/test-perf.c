/*
 * The perf_monitor RPC interface from a user task (issue 5's in-guest
 * tests), through the MIG user stubs in libmach.  Started with priv=1:
 * the privileged host port is the task's TASK_HOST_PRIV_PORT special
 * port; mach_host_self() is the unprivileged one.
 *
 * Each case sets the engine up itself (mask, rate, buffer, reset) and
 * leaves it stopped with the defaults.  Raw records are read from the
 * cursor the system statistics give (the head of CPU 0's stream) after
 * the reset, so only this case's records are seen.  Our own RPCs are
 * system calls and IPC: cases that count events mask everything else
 * and account for the calls they make while recording.
 */
#include <stdint.h>
#include <string.h>

#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/perf_monitor_types.h>
#include <mach/syscall_sw.h>
#include <mach/task_special_ports.h>

#include "libktap.h"
#include "mach.h"
#include "mach_port.h"
#include "perf_monitor.h"

#define PAGE 4096ul
#define EV(e) (1u << (e))

static mach_port_t host, priv;
static struct perf_record recs[8192];

static int kr_is(const char *what, kern_return_t kr, kern_return_t want)
{
	if (kr != want)
		ktap_diag("%s: %s (%d), want %s", what, mach_error_name(kr), kr,
		          mach_error_name(want));
	return kr == want;
}

/* Stopped, every event, unlimited, 8K circular, statistics and buffers cleared. */
static void defaults(void)
{
	(void)perf_monitor_disable(priv);
	(void)perf_monitor_set_event_mask(priv, (1u << PERF_EVENT_MAX) - 1);
	(void)perf_monitor_configure(priv, PERF_RATE_UNLIMITED, PERF_BUFFER_DEFAULT,
	                             PERF_BUFFER_CIRCULAR);
	(void)perf_monitor_inject_delay(priv, PERF_EVENT_SYSCALL, 0);
	(void)perf_monitor_reset(priv);
}

static int setup(uint32_t mask, uint32_t rate, uint32_t records, uint32_t mode, uint64_t *cursor)
{
	perf_system_stats_data_t y;
	int ok = 1;

	ok &= kr_is("disable", perf_monitor_disable(priv), KERN_SUCCESS);
	ok &= kr_is("mask", perf_monitor_set_event_mask(priv, mask), KERN_SUCCESS);
	ok &= kr_is("configure", perf_monitor_configure(priv, rate, records, mode), KERN_SUCCESS);
	ok &= kr_is("reset", perf_monitor_reset(priv), KERN_SUCCESS);
	ok &= kr_is("system stats", perf_monitor_get_system_stats(host, &y), KERN_SUCCESS);
	*cursor = PERF_CURSOR(0, y.cpu[0].head);
	return ok;
}

/* Reads every record from *cursor into recs (as many as fit); returns how many, *lost the rest. */
static uint64_t drain(uint64_t *cursor, uint64_t *lost)
{
	uint64_t n = 0;

	*lost = 0;
	for (int guard = 0; guard < 256; guard++) {
		perf_record_array_t r = NULL;
		mach_msg_type_number_t cnt = 0;
		rpc_uint64_t next = 0, l = 0;
		kern_return_t kr = perf_monitor_read_samples(priv, *cursor, &r, &cnt, &next, &l);

		if (!kr_is("read_samples", kr, KERN_SUCCESS))
			return n;
		uint32_t got = cnt / PERF_RECORD_WORDS;

		for (uint32_t i = 0; i < got; i++, n++)
			if (n < sizeof(recs) / sizeof(recs[0]))
				recs[n] = r[i];
		if (r && cnt)
			(void)vm_deallocate(mach_task_self(), (vm_address_t)r, cnt * 8);
		*cursor = next;
		*lost += l;
		if (got == 0 && l == 0)
			break;
	}
	return n;
}

static uint64_t count_of(uint32_t ev)
{
	perf_event_stats_data_t st;

	if (perf_monitor_get_event_stats(host, ev, &st) != KERN_SUCCESS)
		return UINT64_MAX;
	return st.count;
}

/*
 * The first record of event ev whose data1 is d1 (when match_d1), whose data2 is
 * d2 (when match_d2) and which task made (unless task is ANY_TASK).  Other tasks
 * (a runner, its output) may record in the same window: match on what is ours.
 */
#define ANY_TASK 0xffffffffu
static const struct perf_record *find_rec(uint64_t n, uint32_t ev, uint32_t task, uint64_t d1,
                                          int match_d1, uint64_t d2, int match_d2)
{
	for (uint64_t i = 0; i < n && i < sizeof(recs) / sizeof(recs[0]); i++)
		if (recs[i].event == ev && (task == ANY_TASK || recs[i].task == task) &&
		    (!match_d1 || recs[i].data1 == d1) && (!match_d2 || recs[i].data2 == d2))
			return &recs[i];
	return NULL;
}

static const struct perf_record *find(uint64_t n, uint32_t ev, uint64_t d1, int match_d1)
{
	return find_rec(n, ev, ANY_TASK, d1, match_d1, 0, 0);
}

static void case_privilege(void)
{
	perf_event_stats_data_t st;
	perf_system_stats_data_t y;
	perf_record_array_t r = NULL;
	mach_msg_type_number_t cnt = 0;
	rpc_uint64_t next, lost;
	int ok = 1;

	ok &= kr_is("enable(host)", perf_monitor_enable(host), KERN_INVALID_HOST);
	ok &= kr_is("configure(host)",
	            perf_monitor_configure(host, 0, PERF_BUFFER_MIN, PERF_BUFFER_CIRCULAR),
	            KERN_INVALID_HOST);
	ok &= kr_is("mask(host)", perf_monitor_set_event_mask(host, 1), KERN_INVALID_HOST);
	ok &= kr_is("read(host)", perf_monitor_read_samples(host, 0, &r, &cnt, &next, &lost),
	            KERN_INVALID_HOST);
	ok &= kr_is("reset(host)", perf_monitor_reset(host), KERN_INVALID_HOST);
	ok &= kr_is("set_baseline(host)", perf_monitor_set_baseline(host), KERN_INVALID_HOST);
	ok &= kr_is("inject(host)", perf_monitor_inject_delay(host, PERF_EVENT_SYSCALL, 1),
	            KERN_INVALID_HOST);
	ok &= kr_is("stats(host)", perf_monitor_get_event_stats(host, PERF_EVENT_SYSCALL, &st),
	            KERN_SUCCESS);
	ok &= kr_is("system(host)", perf_monitor_get_system_stats(host, &y), KERN_SUCCESS);
	ok &= kr_is("stats(bad event)", perf_monitor_get_event_stats(host, 12, &st),
	            KERN_INVALID_ARGUMENT);
	ok &= kr_is("configure(rate 50)", perf_monitor_configure(priv, 50, PERF_BUFFER_MIN, 0),
	            KERN_INVALID_ARGUMENT);
	ok &= kr_is("configure(mode 9)", perf_monitor_configure(priv, 0, PERF_BUFFER_MIN, 9),
	            KERN_INVALID_ARGUMENT);
	ok &= kr_is("import(garbage)",
	            perf_monitor_import_baseline(priv, (perf_baseline_data_t) "garbage!", 8),
	            KERN_INVALID_ARGUMENT);
	ktap_ok(ok, "unprivileged_port_gets_invalid_host");
}

static volatile uint8_t *touch;

static void case_events(void)
{
	uint64_t cursor, lost, n;
	vm_address_t addr = 0;
	mach_port_t child = MACH_PORT_NULL, th = MACH_PORT_NULL;
	const struct perf_record *va, *vf, *pf, *sc, *tc, *tt, *hc, *ht, *ipc_s, *ipc_r, *cs, *in;
	int ok = setup((1u << PERF_EVENT_MAX) - 1, 0, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR,
	               &cursor);

	ok &= kr_is("enable", perf_monitor_enable(priv), KERN_SUCCESS);
	ok &= kr_is("vm_allocate", vm_allocate(mach_task_self(), &addr, 3 * PAGE, 1), KERN_SUCCESS);
	touch = (volatile uint8_t *)addr;
	if (addr)
		touch[PAGE] = 1; /* a page fault at addr + PAGE */
	ok &= kr_is("vm_deallocate", vm_deallocate(mach_task_self(), addr, 3 * PAGE), KERN_SUCCESS);
	ok &= kr_is("task_create", task_create(mach_task_self(), 0, &child), KERN_SUCCESS);
	ok &= kr_is("thread_create", thread_create(child, &th), KERN_SUCCESS);
	ok &= kr_is("thread_terminate", thread_terminate(th), KERN_SUCCESS);
	ok &= kr_is("task_terminate", task_terminate(child), KERN_SUCCESS);
	(void)mach_port_deallocate(mach_task_self(), th);
	(void)mach_port_deallocate(mach_task_self(), child);
	(void)thread_switch(0, SWITCH_OPTION_WAIT, 30); /* idle: switches and timer interrupts */
	ok &= kr_is("disable", perf_monitor_disable(priv), KERN_SUCCESS);
	n = drain(&cursor, &lost);
	ktap_diag("events: %lu records, %lu lost", (unsigned long)n, (unsigned long)lost);

	va = find(n, PERF_EVENT_VM_ALLOC, addr, 1);
	ok &= ktap_ok(lost == 0 && va && va->data2 == 3 * PAGE && va->task != 0,
	              "vm_alloc_with_task_and_size");
	uint16_t me = va ? va->task : 0xffff;
	uint16_t my_thread = va ? va->thread : 0xffff;

	vf = find(n, PERF_EVENT_VM_FREE, addr, 1);
	pf = find(n, PERF_EVENT_PAGE_FAULT, addr + PAGE, 1);
	sc = find_rec(n, PERF_EVENT_SYSCALL, me, (uint64_t)(int64_t)MACH_TRAP_thread_switch, 1, 0,
	              0);
	tc = find_rec(n, PERF_EVENT_TASK_CREATE, ANY_TASK, 0, 0, me, 1); /* data2: creator */
	tt = tc ? find_rec(n, PERF_EVENT_TASK_TERMINATE, ANY_TASK, tc->data1, 1, 0, 0) : NULL;
	hc = tc ? find_rec(n, PERF_EVENT_THREAD_CREATE, ANY_TASK, 0, 0, tc->data1, 1) : NULL;
	ht = hc ? find_rec(n, PERF_EVENT_THREAD_TERMINATE, ANY_TASK, hc->data1, 1, 0, 0) : NULL;
	ipc_s = find_rec(n, PERF_EVENT_IPC_SEND, me, 0, 0, 0, 0);
	ipc_r = find_rec(n, PERF_EVENT_IPC_RECEIVE, me, 0, 0, 0, 0);
	cs = find(n, PERF_EVENT_CONTEXT_SWITCH, 0, 0);
	in = find(n, PERF_EVENT_INTERRUPT, 0, 0);

	ok &= ktap_ok(vf && vf->data2 == 3 * PAGE && vf->task == me, "vm_free_with_task_and_size");
	ok &= ktap_ok(pf && pf->task == me && pf->thread == my_thread &&
	                  (pf->flags & PERF_REC_F_TIMED) && (pf->data2 & PERF_PF_WRITE),
	              "page_fault_with_address_and_kind");
	ok &= ktap_ok(sc && sc->task == me && sc->thread == my_thread &&
	                  (sc->flags & PERF_REC_F_TIMED),
	              "syscall_with_trap_number");
	ok &= ktap_ok(tc && tc->data2 == me && tt && tt->data1 == tc->data1,
	              "task_create_and_terminate");
	ok &= ktap_ok(hc && tc && hc->data2 == tc->data1 && ht && ht->data1 == hc->data1,
	              "thread_create_and_terminate");
	ok &= ktap_ok(ipc_s && ipc_r && ipc_s->task == me && (ipc_s->flags & PERF_REC_F_TIMED),
	              "ipc_send_and_receive");
	ok &= ktap_ok(cs != NULL, "context_switch");
	ktap_ok(in != NULL && (in->flags & PERF_REC_F_TIMED), "interrupt");
	(void)ok;
}

static void case_masked(void)
{
	uint64_t cursor, before;
	int ok = setup(EV(PERF_EVENT_VM_ALLOC), 0, PERF_BUFFER_DEFAULT, 0, &cursor);
	vm_address_t a = 0;

	/* Disabled: nothing counts. */
	(void)vm_allocate(mach_task_self(), &a, PAGE, 1);
	(void)vm_deallocate(mach_task_self(), a, PAGE);
	ok &= count_of(PERF_EVENT_VM_ALLOC) == 0;
	/* Enabled, VM_FREE masked: VM_ALLOC counts, VM_FREE and SYSCALL do not. */
	ok &= kr_is("enable", perf_monitor_enable(priv), KERN_SUCCESS);
	before = count_of(PERF_EVENT_VM_ALLOC);
	for (int i = 0; i < 5; i++) {
		(void)vm_allocate(mach_task_self(), &a, PAGE, 1);
		(void)vm_deallocate(mach_task_self(), a, PAGE);
	}
	ok &= kr_is("disable", perf_monitor_disable(priv), KERN_SUCCESS);
	ok &= count_of(PERF_EVENT_VM_ALLOC) - before == 5;
	ok &= count_of(PERF_EVENT_VM_FREE) == 0 && count_of(PERF_EVENT_SYSCALL) == 0;
	ktap_ok(ok, "disabled_and_masked_events_do_not_count");
}

static void case_sampling(void)
{
	uint64_t cursor, lost, n, count;
	int ok = setup(EV(PERF_EVENT_SYSCALL), PERF_RATE_MIN, PERF_BUFFER_DEFAULT, 0, &cursor);

	ok &= kr_is("enable", perf_monitor_enable(priv), KERN_SUCCESS);
	for (int i = 0; i < 3000; i++)
		(void)swtch();
	ok &= kr_is("disable", perf_monitor_disable(priv), KERN_SUCCESS);
	count = count_of(PERF_EVENT_SYSCALL);
	n = drain(&cursor, &lost);
	ktap_diag("sampling: %lu events, %lu records", (unsigned long)count, (unsigned long)n);
	ktap_ok(ok && count >= 3000 && n + lost < count / 2 && n > 0,
	        "sampling_limits_records_not_counts");
}

static void case_overflow(uint32_t mode, const char *name)
{
	uint64_t cursor, lost, n, count;
	perf_system_stats_data_t y;
	int ok = setup(EV(PERF_EVENT_SYSCALL), 0, PERF_BUFFER_MIN, mode, &cursor);

	ok &= kr_is("enable", perf_monitor_enable(priv), KERN_SUCCESS);
	for (int i = 0; i < 3000; i++)
		(void)swtch();
	ok &= kr_is("disable", perf_monitor_disable(priv), KERN_SUCCESS);
	count = count_of(PERF_EVENT_SYSCALL);
	n = drain(&cursor, &lost);
	ok &= kr_is("system stats", perf_monitor_get_system_stats(host, &y), KERN_SUCCESS);
	ktap_diag("%s: %lu events, %lu read, %lu lost, %lu overwritten, %lu dropped", name,
	          (unsigned long)count, (unsigned long)n, (unsigned long)lost,
	          (unsigned long)y.cpu[0].overwritten, (unsigned long)y.cpu[0].dropped);
	ktap_ok(ok && n == PERF_BUFFER_MIN && n + lost == count && lost > 0, "%s", name);
}

static void case_keep_up(void)
{
	uint64_t cursor, lost, n, total_lost = 0, total = 0;
	int ok = setup(EV(PERF_EVENT_SYSCALL), 0, PERF_BUFFER_MIN, PERF_BUFFER_CIRCULAR, &cursor);

	ok &= kr_is("enable", perf_monitor_enable(priv), KERN_SUCCESS);
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 500; i++)
			(void)swtch();
		n = drain(&cursor, &lost);
		total += n;
		total_lost += lost;
	}
	ok &= kr_is("disable", perf_monitor_disable(priv), KERN_SUCCESS);
	n = drain(&cursor, &lost);
	total += n;
	total_lost += lost;
	ktap_ok(ok && total_lost == 0 && total == count_of(PERF_EVENT_SYSCALL),
	        "reader_keeping_up_loses_nothing");
}

static void workload(void)
{
	for (int i = 0; i < 300; i++)
		(void)swtch();
}

static int check(uint32_t *verdict, boolean_t *regressed)
{
	perf_regress_changes_t ch;
	kern_return_t kr =
	    perf_monitor_check_regression(host, PERF_EVENT_SYSCALL, 10, regressed, verdict, &ch);

	ktap_diag("verdict %u regressed %d mean %+ld bp p95 %+ld bp n %lu/%lu", *verdict,
	          (int)*regressed, (long)ch.mean_change_bp, (long)ch.p95_change_bp,
	          (unsigned long)ch.n_base, (unsigned long)ch.n_cur);
	return kr_is("check_regression", kr, KERN_SUCCESS);
}

static void case_regression(void)
{
	uint64_t cursor;
	perf_system_stats_data_t y;
	uint32_t v1 = 99, v2 = 99;
	boolean_t r1 = 1, r2 = 0;
	int ok = setup(EV(PERF_EVENT_SYSCALL), 0, PERF_BUFFER_DEFAULT, 0, &cursor);
	bool icount;

	ok &= kr_is("system stats", perf_monitor_get_system_stats(host, &y), KERN_SUCCESS);
	icount = y.flags & PERF_SYS_F_ICOUNT;
	ok &= kr_is("enable", perf_monitor_enable(priv), KERN_SUCCESS);
	/*
	 * Every RPC here is itself a SYSCALL, recorded when its trap returns:
	 * the reset's own trap lands in the statistics it just cleared.  So
	 * both the baseline and the current run are "one reset trap + the
	 * workload", and under icount they must be identical.
	 */
	ok &= kr_is("reset", perf_monitor_reset(priv), KERN_SUCCESS);
	workload();
	ok &= kr_is("set_baseline", perf_monitor_set_baseline(priv), KERN_SUCCESS);
	ok &= kr_is("reset", perf_monitor_reset(priv), KERN_SUCCESS);
	workload();
	ok &= check(&v1, &r1);
	ok &= kr_is("inject", perf_monitor_inject_delay(priv, PERF_EVENT_SYSCALL, 50000),
	            KERN_SUCCESS);
	ok &= kr_is("reset", perf_monitor_reset(priv), KERN_SUCCESS);
	workload();
	ok &= check(&v2, &r2);
	ok &= kr_is("inject off", perf_monitor_inject_delay(priv, PERF_EVENT_SYSCALL, 0),
	            KERN_SUCCESS);
	(void)perf_monitor_disable(priv);
	ktap_ok(ok && r2 && (v2 == PERF_VERDICT_SLOWER || v2 == PERF_VERDICT_EXACT_SLOWER),
	        "regression_detected_when_injected");
	if (icount)
		ktap_ok(ok && !r1 && v1 == PERF_VERDICT_EXACT_WITHIN,
		        "same_workload_under_icount_not_a_regression");
	else
		ktap_skip("same_workload_under_icount_not_a_regression",
		          "clock is wall: the repeat is only reported (statistical verdict)");
}

static void case_alert(void)
{
	uint64_t cursor;
	mach_port_t port = MACH_PORT_NULL;
	union {
		perf_alert_msg_t m;
		uint8_t raw[256];
	} u;
	int ok = setup(EV(PERF_EVENT_SYSCALL), 0, PERF_BUFFER_DEFAULT, 0, &cursor);
	mach_msg_return_t mr;

	ok &= kr_is("port", mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port),
	            KERN_SUCCESS);
	ok &= kr_is("register(host)",
	            perf_monitor_register_alert(host, port, PERF_EVENT_SYSCALL, 20000),
	            KERN_INVALID_HOST);
	ok &= kr_is("register(VM_ALLOC)",
	            perf_monitor_register_alert(priv, port, PERF_EVENT_VM_ALLOC, 20000),
	            KERN_INVALID_ARGUMENT);
	ok &= kr_is("register", perf_monitor_register_alert(priv, port, PERF_EVENT_SYSCALL, 20000),
	            KERN_SUCCESS);
	ok &= kr_is("inject", perf_monitor_inject_delay(priv, PERF_EVENT_SYSCALL, 100000),
	            KERN_SUCCESS);
	ok &= kr_is("enable", perf_monitor_enable(priv), KERN_SUCCESS);
	(void)swtch();
	memset(&u, 0, sizeof(u));
	mr = mach_msg(&u.m.head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(u), port, 2000,
	              MACH_PORT_NULL);
	ok &= kr_is("receive alert", mr, MACH_MSG_SUCCESS);
	(void)perf_monitor_disable(priv);
	(void)perf_monitor_inject_delay(priv, PERF_EVENT_SYSCALL, 0);
	ok &= kr_is("cancel", perf_monitor_register_alert(priv, port, PERF_EVENT_SYSCALL, 0),
	            KERN_SUCCESS);
	if (mr == MACH_MSG_SUCCESS)
		ktap_diag("alert: event %u duration %lu count %lu suppressed %lu", u.m.data.event,
		          (unsigned long)u.m.data.duration_ns, (unsigned long)u.m.data.count,
		          (unsigned long)u.m.data.suppressed);
	ktap_ok(ok && u.m.head.msgh_id == PERF_ALERT_MSGH_ID &&
	            u.m.data.event == PERF_EVENT_SYSCALL && u.m.data.duration_ns > 20000 &&
	            u.m.data.count >= 1 && u.m.data.suppressed == u.m.data.count - 1,
	        "alert_arrives");
	(void)mach_port_mod_refs(mach_task_self(), port, MACH_PORT_RIGHT_RECEIVE, -1);
}

/*
 * Allocation failures swept through the perf_monitor RPCs (ktap_sweep,
 * libktap.h): a new buffer size, recording, the samples read, a baseline
 * set, exported and imported back, the per-task statistics and an alert
 * registered and cancelled, with the nth kernel allocation failing.  A
 * call that fails must leave the engine usable (the next run starts from
 * the defaults and must succeed whole in the end), and the user suite's
 * leak check sees everything back.
 */
#define PS_STEP(what, kr) ktap_sweep_step(sw, what, kr)

static void ps_perf(struct ktap_sweep *sw)
{
	mach_port_t self = mach_task_self(), port = MACH_PORT_NULL;
	perf_record_array_t r = NULL;
	perf_baseline_data_t b = NULL;
	perf_task_stats_array_t ts = NULL;
	mach_msg_type_number_t cnt = 0;
	rpc_uint64_t next = 0, lost = 0;
	natural_t total = 0;

	if (PS_STEP("configure",
	            perf_monitor_configure(priv, PERF_RATE_UNLIMITED, 2 * PERF_BUFFER_MIN,
	                                   PERF_BUFFER_CIRCULAR)) &&
	    PS_STEP("enable", perf_monitor_enable(priv))) {
		(void)swtch();
		PS_STEP("disable", perf_monitor_disable(priv));
	}
	if (PS_STEP("read_samples",
	            perf_monitor_read_samples(priv, PERF_CURSOR(0, 0), &r, &cnt, &next, &lost)) &&
	    r)
		vm_deallocate(self, (vm_address_t)r, cnt * sizeof(*r));
	cnt = 0;
	if (PS_STEP("set_baseline", perf_monitor_set_baseline(priv)) &&
	    PS_STEP("export_baseline", perf_monitor_export_baseline(priv, &b, &cnt))) {
		PS_STEP("import_baseline", perf_monitor_import_baseline(priv, b, cnt));
		vm_deallocate(self, (vm_address_t)b, cnt);
	}
	cnt = 0;
	if (PS_STEP("task_stats", perf_monitor_get_task_stats(host, &ts, &cnt, &total)) && ts)
		vm_deallocate(self, (vm_address_t)ts, cnt * sizeof(*ts));
	if (PS_STEP("port", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &port))) {
		if (PS_STEP("register_alert", perf_monitor_register_alert(
		                                  priv, port, PERF_EVENT_SYSCALL, 1000000000)))
			PS_STEP("cancel_alert",
			        perf_monitor_register_alert(priv, port, PERF_EVENT_SYSCALL, 0));
		mach_port_mod_refs(self, port, MACH_PORT_RIGHT_RECEIVE, -1);
	}
}

static bool ps_defaults(void *ctx __attribute__((unused)))
{
	defaults();
	return true;
}

static void case_allocation_failures(void)
{
	struct ktap_sweep sw = { .setup = ps_defaults, .op = ps_perf, .teardown = ps_defaults };

	ktap_sweep("allocation_failures_perf_monitor", &sw);
}

int main(void)
{
	kern_return_t kr;

	ktap_plan(19);
	host = mach_host_self();
	kr = task_get_special_port(mach_task_self(), TASK_HOST_PRIV_PORT, &priv);
	if (kr != KERN_SUCCESS || !MACH_PORT_VALID(priv)) {
		ktap_diag("no privileged host port (start with priv=1): %s", mach_error_name(kr));
		return 1;
	}
	kr = perf_monitor_get_system_stats(host, &(perf_system_stats_data_t){ 0 });
	if (kr == MIG_BAD_ID) {
		for (int i = 0; i < 19; i++)
			ktap_skip("perf", "the engine is configured out (--disable-perf-analysis)");
		return ktap_done();
	}
	case_privilege();
	case_events();
	case_masked();
	case_sampling();
	case_overflow(PERF_BUFFER_CIRCULAR, "overflow_counted_exactly_circular");
	case_overflow(PERF_BUFFER_SATURATE, "overflow_counted_exactly_saturate");
	case_keep_up();
	case_regression();
	case_alert();
	case_allocation_failures();
	defaults();
	return ktap_done();
}
