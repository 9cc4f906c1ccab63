/*
 * perf_bench.c - what a probe costs ("bench=perf" on the command line;
 * `make bench` boots it under icount and under plain TCG).  Not a test:
 * it prints figures and exits QEMU with success.
 *
 * Every figure is one loop of PERF_BENCH_N iterations, timed with the TSC
 * with interrupts masked (see pbn_run), minus the same loop without a
 * probe, divided by PERF_BENCH_N: guest instructions per probe under
 * icount, ns otherwise.
 * The probe records PERF_EVENT_IPC_SEND (nothing else records it yet)
 * with every other event masked.  Four states:
 *   - compiled out: kern/perf_bench_off.c, built without CONFIG_PERF_ANALYSIS;
 *   - disabled: compiled in, the event's bit clear;
 *   - statistics only: the rate limit (100/s, burst spent) refuses the record;
 *   - full record: no rate limit; the ring has wrapped once (steady state:
 *     every record overwrites an older one).
 *
 * Then two real operations, with every event enabled (full records),
 * with statistics only, and with the engine disabled, all in this one
 * boot, printed as ratios to the disabled figure:
 *   - a null RPC round trip between two kernel IPC spaces: the client
 *     sends a request with a send-once reply right, the server receives
 *     it and replies, the client receives the reply (mach_msg_kernel,
 *     four IPC probes, one thread: no context switch to blur the count);
 *   - vm_allocate + vm_deallocate of one page on a kernel-created map
 *     (two VM probes).
 * Their compiled-out figure would need a second kernel (configured with
 * --disable-perf-analysis), where `make bench` has no engine to run; the
 * probe loops above stand for it: kern/perf_bench_off.c is compiled as
 * that kernel would be, and the bench checks that its loops take exactly
 * the instructions of the loop without a probe.
 */
#include <stdint.h>

#include <mach/message.h>

#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "ipc/mach_port.h"
#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/perf_analysis.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "vm/vm_map.h"
#include "vm/vm_user.h"
#include "x86_64/pmap.h"
#include "x86_64/cpu.h"
#include "x86_64/machine.h"
#include "x86_64/perf_md.h"
#include "x86_64/tsc.h"

#define PERF_BENCH_N 4096u
#define PB_EV PERF_EVENT_IPC_SEND

uint64_t perf_bench_loop_bare(uint32_t n);
uint64_t perf_bench_loop_out(uint32_t n);
uint64_t perf_bench_loop_out_timed(uint32_t n);

static __attribute__((noinline)) uint64_t pbn_loop_in(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++) {
		PERF_EVENT_RECORD(PB_EV, 0, i, i, 0);
		__asm__ volatile("" : : "r"(i) : "memory");
	}
	return perf_md_ticks() - t0;
}

static __attribute__((noinline)) uint64_t pbn_loop_in_timed(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++) {
		PERF_TIME_BLOCK(PB_EV, 0, i, i, 0, { __asm__ volatile("" : : "r"(i) : "memory"); });
	}
	return perf_md_ticks() - t0;
}

/*
 * Ticks of one loop run with interrupts masked, after a run that warms it
 * up (under plain TCG the first run also pays for translating the code);
 * under wall time the fastest of PBN_ROUNDS.  Under icount every run gives
 * the same figure.
 */
#define PBN_ROUNDS 5

static uint64_t pbn_run(uint64_t (*loop)(uint32_t))
{
	unsigned rounds = clock_mode() == CLOCK_MODE_ICOUNT ? 1 : PBN_ROUNDS;
	unsigned long fl = intr_save();
	uint64_t best = UINT64_MAX;

	loop(PERF_BENCH_N);
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t t = loop(PERF_BENCH_N);

		if (t < best)
			best = t;
	}
	intr_restore(fl);
	return best;
}

/* Prints "name: X.XX per probe (loop ratio R.RR)" for a loop of t ticks against bare. */
static void pbn_print(const char *name, uint64_t t, uint64_t bare, bool icount)
{
	uint64_t d = t > bare ? t - bare : 0;
	uint64_t per = (icount ? d : tsc_to_ns(d)) * 100 / PERF_BENCH_N;
	uint64_t ratio = bare ? t * 100 / bare : 0;

	kprintf("perf bench: %-40s %s%lu.%02lu %s per probe   (loop x%lu.%02lu)\n", name,
	        t < bare ? "-" : "+", per / 100, per % 100, icount ? "insns" : "ns", ratio / 100,
	        ratio % 100);
}

/* "name: R" = per-probe cost of a over per-probe cost of b (loops of PERF_BENCH_N, minus bare). */
static void pbn_ratio(const char *name, uint64_t a, uint64_t bare, uint64_t b)
{
	uint64_t da = a > bare ? a - bare : 0, db = b > bare ? b - bare : 0;
	uint64_t r = db ? da * 100 / db : 0;

	kprintf("perf bench: ratio %-40s %lu.%02lu\n", name, r / 100, r % 100);
}

static uint64_t pbn_per(uint64_t t, uint64_t bare)
{
	return t > bare ? (t - bare) * 100 / PERF_BENCH_N : 0;
}

static void pbn_verdict(const char *what, uint64_t per100, uint64_t target)
{
	kprintf("perf bench: target %-24s <= %lu: %lu.%02lu, %s\n", what, target, per100 / 100,
	        per100 % 100, per100 <= target * 100 ? "met" : "MISSED");
}

/* ---- real operations: a null RPC round trip, vm_allocate + vm_deallocate ---- */

#define PBN_OPS 256u /* operations per measured loop */

/* The RPC's message: a header and nothing else. */
static struct pbn_rpc {
	struct ipc_space *client, *server;
	mach_port_name_t srv_rcv;   /* in server: the service's receive right */
	mach_port_name_t cli_send;  /* in client: a send right to it */
	mach_port_name_t cli_reply; /* in client: the reply port's receive right */
	bool ok;
} pbn_rpc;

static mach_msg_return_t pbn_rpc_once(void)
{
	mach_msg_header_t m = { 0 };
	mach_msg_return_t mr;

	m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m.msgh_size = sizeof(m);
	m.msgh_remote_port = pbn_rpc.cli_send;
	m.msgh_local_port = pbn_rpc.cli_reply;
	mr = mach_msg_kernel(pbn_rpc.client, &m, MACH_SEND_MSG | MACH_SEND_TIMEOUT, sizeof(m), 0,
	                     MACH_PORT_NULL, 0);
	if (mr != MACH_MSG_SUCCESS)
		return mr;
	mr = mach_msg_kernel(pbn_rpc.server, &m, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m),
	                     pbn_rpc.srv_rcv, 0);
	if (mr != MACH_MSG_SUCCESS)
		return mr;
	/* The reply, on the send-once right the request carried. */
	m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
	m.msgh_local_port = MACH_PORT_NULL;
	mr = mach_msg_kernel(pbn_rpc.server, &m, MACH_SEND_MSG | MACH_SEND_TIMEOUT, sizeof(m), 0,
	                     MACH_PORT_NULL, 0);
	if (mr != MACH_MSG_SUCCESS)
		return mr;
	return mach_msg_kernel(pbn_rpc.client, &m, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m),
	                       pbn_rpc.cli_reply, 0);
}

static bool pbn_rpc_setup(void)
{
	struct ipc_port *port;
	mach_msg_type_name_t type;
	unsigned long f;

	if (ipc_space_create(&pbn_rpc.server) != KERN_SUCCESS ||
	    ipc_space_create(&pbn_rpc.client) != KERN_SUCCESS ||
	    mach_port_allocate(pbn_rpc.server, MACH_PORT_RIGHT_RECEIVE, &pbn_rpc.srv_rcv) !=
	        KERN_SUCCESS ||
	    mach_port_allocate(pbn_rpc.client, MACH_PORT_RIGHT_RECEIVE, &pbn_rpc.cli_reply) !=
	        KERN_SUCCESS ||
	    mach_port_extract_right(pbn_rpc.server, pbn_rpc.srv_rcv, MACH_MSG_TYPE_MAKE_SEND, &port,
	                            &type) != KERN_SUCCESS)
		return false;
	f = ipc_lock();
	ipc_right_copyout(pbn_rpc.client, port, type, &pbn_rpc.cli_send);
	ipc_unlock(f);
	pbn_rpc.ok = pbn_rpc_once() == MACH_MSG_SUCCESS;
	return pbn_rpc.ok;
}

static __attribute__((noinline)) uint64_t pbn_loop_rpc(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++)
		if (pbn_rpc_once() != MACH_MSG_SUCCESS)
			pbn_rpc.ok = false;
	return perf_md_ticks() - t0;
}

static struct vm_map *pbn_map;
static bool pbn_vm_ok = true;

static __attribute__((noinline)) uint64_t pbn_loop_vm(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++) {
		uintptr_t a = 0;

		if (vm_allocate(pbn_map, &a, PAGE_SIZE, true) != KERN_SUCCESS ||
		    vm_deallocate(pbn_map, a, PAGE_SIZE) != KERN_SUCCESS)
			pbn_vm_ok = false;
	}
	return perf_md_ticks() - t0;
}

/*
 * Ticks of n operations, after a warm-up run (interrupts enabled: these
 * take locks and may allocate; the minimum of PBN_ROUNDS under wall time).
 */
static uint64_t pbn_run_ops(uint64_t (*loop)(uint32_t))
{
	unsigned rounds = clock_mode() == CLOCK_MODE_ICOUNT ? 1 : PBN_ROUNDS;
	uint64_t best = UINT64_MAX;

	loop(PBN_OPS);
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t t = loop(PBN_OPS);

		if (t < best)
			best = t;
	}
	return best;
}

/* "name: per-op figure (ratio to disabled)" for the three states of one operation. */
static void pbn_print_op(const char *name, const uint64_t t[3], bool icount)
{
	static const char *const state[3] = { "all events on", "statistics only", "disabled" };

	for (int k = 0; k < 3; k++) {
		uint64_t per = (icount ? t[k] : tsc_to_ns(t[k])) * 100 / PBN_OPS;
		uint64_t ratio = t[2] ? t[k] * 1000 / t[2] : 0;

		kprintf("perf bench: %-22s %-16s %lu.%02lu %s per op   ratio to disabled "
		        "%lu.%03lu\n",
		        name, state[k], per / 100, per % 100, icount ? "insns" : "ns", ratio / 1000,
		        ratio % 1000);
	}
}

/*
 * The two operations in the three states: all events with full records
 * (unlimited rate), statistics only (lowest rate, burst spent), disabled.
 * Every event is enabled in the first two (a real configuration: the
 * operations also take interrupts, switch... whatever they do).
 */
static void pbn_ops(bool icount)
{
	uint64_t rpc[3], vm[3];

	if (!pbn_rpc_setup())
		kprintf("perf bench: null RPC: setup failed, skipped\n");
	if (vm_map_create(&pbn_map) != KERN_SUCCESS) {
		kprintf("perf bench: vm: vm_map_create failed, skipped\n");
		pbn_vm_ok = false;
	}
	perf_set_event_mask(PERF_EVENT_ALL);
	perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR);
	perf_monitor_enable(true);
	rpc[0] = pbn_rpc.ok ? pbn_run_ops(pbn_loop_rpc) : 0;
	vm[0] = pbn_vm_ok ? pbn_run_ops(pbn_loop_vm) : 0;
	perf_configure(PERF_RATE_MIN, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR);
	rpc[1] = pbn_rpc.ok ? pbn_run_ops(pbn_loop_rpc) : 0;
	vm[1] = pbn_vm_ok ? pbn_run_ops(pbn_loop_vm) : 0;
	perf_monitor_enable(false);
	rpc[2] = pbn_rpc.ok ? pbn_run_ops(pbn_loop_rpc) : 0;
	vm[2] = pbn_vm_ok ? pbn_run_ops(pbn_loop_vm) : 0;
	if (pbn_rpc.ok)
		pbn_print_op("null RPC round trip", rpc, icount);
	else
		kprintf("perf bench: null RPC round trip: a message failed, no figures\n");
	if (pbn_vm_ok)
		pbn_print_op("vm_allocate+deallocate", vm, icount);
	else
		kprintf("perf bench: vm_allocate+deallocate: a call failed, no figures\n");
	kprintf("perf bench: (operations) compiled out: not measured in this kernel; a "
	        "--disable-perf-analysis kernel has no engine to run the bench\n");
	if (pbn_rpc.server != NULL)
		ipc_space_destroy(pbn_rpc.server);
	if (pbn_rpc.client != NULL)
		ipc_space_destroy(pbn_rpc.client);
	if (pbn_map != NULL)
		vm_map_destroy(pbn_map);
}

void perf_bench_main(void)
{
	const char *b = cmdline_get("bench");
	bool icount = clock_mode() == CLOCK_MODE_ICOUNT;
	uint64_t bare, bare_off, out, out_t, dis, dis_t, st, st_t, full, full_t;
	struct perf_calibration cal;

	if (b == NULL || strcmp(b, "perf") != 0)
		return;
	kprintf("perf bench: clock %s, TSC %lu Hz, %u iterations per loop, interrupts masked\n",
	        clock_mode_name(), tsc_hz(), PERF_BENCH_N);

	perf_set_event_mask(1u << PB_EV);
	perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR);
	perf_monitor_enable(true);

	bare = pbn_run(perf_bench_loop_bare);
	bare_off = pbn_run(perf_bench_loop_bare);
	out = pbn_run(perf_bench_loop_out);
	out_t = pbn_run(perf_bench_loop_out_timed);

	perf_set_event_mask(0);
	dis = pbn_run(pbn_loop_in);
	dis_t = pbn_run(pbn_loop_in_timed);
	perf_set_event_mask(1u << PB_EV);

	/* Full records, after one lap of the ring so that every record overwrites. */
	pbn_run(pbn_loop_in);
	full = pbn_run(pbn_loop_in);
	full_t = pbn_run(pbn_loop_in_timed);

	/* Statistics only: the lowest rate, its burst spent first. */
	perf_configure(PERF_RATE_MIN, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR);
	st = pbn_run(pbn_loop_in);
	st_t = pbn_run(pbn_loop_in_timed);
	perf_get_calibration(&cal);
	perf_monitor_enable(false);

	kprintf("perf bench: %-40s %lu.%02lu %s per iteration\n", "loop without a probe",
	        (icount ? bare : tsc_to_ns(bare)) * 100 / PERF_BENCH_N / 100,
	        (icount ? bare : tsc_to_ns(bare)) * 100 / PERF_BENCH_N % 100,
	        icount ? "insns" : "ns");
	pbn_print("PERF_EVENT_RECORD compiled out", out, bare_off, icount);
	pbn_print("PERF_EVENT_RECORD disabled", dis, bare, icount);
	pbn_print("PERF_EVENT_RECORD statistics only", st, bare, icount);
	pbn_print("PERF_EVENT_RECORD full record", full, bare, icount);
	pbn_print("PERF_TIME_BLOCK (empty) compiled out", out_t, bare_off, icount);
	pbn_print("PERF_TIME_BLOCK (empty) disabled", dis_t, bare, icount);
	pbn_print("PERF_TIME_BLOCK (empty) statistics only", st_t, bare, icount);
	pbn_print("PERF_TIME_BLOCK (empty) full record", full_t, bare, icount);
	kprintf("perf bench: self-calibration (ticks): block %lu, record %lu, stats-only %lu, "
	        "timed %lu, timed stats-only %lu\n",
	        cal.block_ticks, cal.record_ticks, cal.stats_ticks, cal.timed_ticks,
	        cal.timed_stats_ticks);
	pbn_ratio("PERF_EVENT_RECORD full / disabled", full, bare, dis);
	pbn_ratio("PERF_EVENT_RECORD stats only / disabled", st, bare, dis);
	pbn_ratio("PERF_TIME_BLOCK full / disabled", full_t, bare, dis_t);
	pbn_ratio("PERF_TIME_BLOCK stats only / disabled", st_t, bare, dis_t);
	/* The compiled-out loops against the same loop in a kernel without the engine. */
	kprintf(
	    "perf bench: compiled out vs no engine: PERF_EVENT_RECORD loop %lu, PERF_TIME_BLOCK "
	    "loop %lu, loop without a probe %lu ticks: %s\n",
	    out, out_t, bare_off,
	    out == bare_off && out_t == bare_off
	        ? "identical"
	        : (icount ? "DIFFERENT" : "(wall time: compare under icount)"));
	pbn_ops(icount);
	if (icount) {
		pbn_verdict("full record", pbn_per(full, bare), 60);
		pbn_verdict("statistics only", pbn_per(st, bare), 30);
		pbn_verdict("disabled probe", pbn_per(dis, bare), 3);
		pbn_verdict("compiled out", pbn_per(out, bare_off), 0);
		kprintf("perf bench: target %-24s %s\n", "compiled out = no engine",
		        out == bare_off && out_t == bare_off ? "met (identical)" : "MISSED");
	}
	kprintf("perf bench: done\n");
	machine_exit(MACHINE_EXIT_SUCCESS);
}
