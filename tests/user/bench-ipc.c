/*
 * bench-ipc: what one Mach operation costs, measured from user space
 * (issue 4, "Benchmark"; docs/benchmarks.md).  A benchmark, not a test:
 * `make bench` boots it as the bootstrap task (it gets the privileged
 * host port) and it halts QEMU with host_reboot(RB_HALT) when done.
 *
 * Each operation runs BATCHES batches of its iteration count with rdtsc
 * around each batch; the figure is the median batch divided by the
 * count.  Under -icount shift=0 the TSC counts guest instructions, so
 * the figure is instructions per iteration, the same on every run (a
 * batch that a timer interrupt lands in is an outlier the median drops).
 * Under plain TCG it is converted to ns with the kernel's calibrated TSC
 * frequency (perf_monitor_get_system_stats' tsc_hz, which also says
 * whether the clock is icount); a kernel without the perf engine answers
 * MIG_BAD_ID, and then the frequency is calibrated here against
 * host_get_time over 100 ms and the mode is argv[1] ("icount" or
 * "wall", default wall).
 *
 * Figures include the C call: the libmach stub or MIG user stub and the
 * loop, a few instructions.  The operations:
 *	empty_trap	mach_trap_raw(-1): an unknown trap number, answered
 *			KERN_INVALID_ARGUMENT by the dispatcher (entry, the
 *			table check, the SYSCALL probe, exit)
 *	swtch		the swtch trap with nothing else runnable
 *	null_self_rtt	one mach_msg(MACH_SEND_MSG|MACH_RCV_MSG) of a
 *			header-only message (32 bytes here; GNU Mach's i386
 *			header is 24) to a port we hold the receive right of
 *	rpc_rtt		a header-only request with a send-once reply port
 *			to a server in another task, and its reply; the
 *			server is raw code (server_code below) started with
 *			task_create/vm_write/thread_create/thread_set_state/
 *			thread_resume, as tests/user/test-mach-rpc.c does
 *	vm_alloc_dealloc	vm_allocate + vm_deallocate of one page (two
 *			MIG RPCs to the kernel)
 *	vm_alloc_touch_dealloc	the same with one byte written to the page
 *			(a demand-zero fault: page allocation and zeroing)
 *	perf_sysstats_rpc / perf_evstats_rpc	perf_monitor_get_system_stats
 *			and get_event_stats: perfctl's `stats` is one of the
 *			first and one of the second per event type
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/host_info.h>
#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/perf_monitor_types.h>
#include <mach/task_special_ports.h>
#include <mach/thread_status.h>

#include "mach.h"         /* mig-gen/ */
#include "mach_host.h"    /* mig-gen/ */
#include "mach_port.h"    /* mig-gen/ */
#include "perf_monitor.h" /* mig-gen/ */

#define PAGE 4096ul
#define BATCHES 15
#define UNKNOWN_TRAP (-1)

static int bi_icount;      /* the TSC counts guest instructions */
static uint64_t bi_tsc_hz; /* TSC ticks per second */
static const char *bi_clock_src;

/*
 * only=NAME (argv[3]): run only that operation, three times, then once
 * between two calls of bi_marker, for an instruction trace:
 * docs/benchmarks.md ("Where the instructions go").
 */
static const char *bi_only;

__attribute__((noinline)) void bi_marker(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline uint64_t bi_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static void bi_check(kern_return_t kr, const char *what)
{
	if (kr != KERN_SUCCESS) {
		printf("bench ipc: FAILED %s: %s (%#x)\n", what, mach_error_name(kr), kr);
		exit(1);
	}
}

static int bi_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Runs op(arg) iters times per batch, BATCHES batches after one warm-up
 * batch, and prints the median batch per iteration.
 */
static void bi_measure(const char *name, unsigned long iters, void (*op)(void *), void *arg)
{
	uint64_t t[BATCHES];

	if (bi_only) {
		if (strcmp(bi_only, name) == 0) {
			for (int i = 0; i < 3; i++)
				op(arg);
			bi_marker();
			op(arg);
			bi_marker();
		}
		return;
	}
	for (unsigned long i = 0; i < iters; i++)
		op(arg);
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = bi_rdtsc();

		for (unsigned long i = 0; i < iters; i++)
			op(arg);
		t[b] = bi_rdtsc() - t0;
	}
	qsort(t, BATCHES, sizeof(t[0]), bi_cmp);
	uint64_t med = t[BATCHES / 2];

	if (bi_icount)
		printf("bench ipc: %-24s %8llu insn/iter (icount; min %llu max %llu per batch of "
		       "%lu)\n",
		       name, (unsigned long long)((med + iters / 2) / iters),
		       (unsigned long long)(t[0] / iters),
		       (unsigned long long)(t[BATCHES - 1] / iters), iters);
	else
		printf(
		    "bench ipc: %-24s %8llu ns/iter (wall; min %llu max %llu per batch of %lu)\n",
		    name, (unsigned long long)(med * 1000000000ull / bi_tsc_hz / iters),
		    (unsigned long long)(t[0] * 1000000000ull / bi_tsc_hz / iters),
		    (unsigned long long)(t[BATCHES - 1] * 1000000000ull / bi_tsc_hz / iters),
		    iters);
}

/* ---- the operations ---- */

static void op_empty_trap(void *arg)
{
	(void)arg;
	mach_trap_raw(UNKNOWN_TRAP, 0, 0, 0, 0, 0, 0);
}

static void op_swtch(void *arg)
{
	(void)arg;
	swtch();
}

struct bi_msg {
	mach_msg_header_t h;
	char room[224]; /* receive room: a reply never needs it */
};

static void op_null_self(void *arg)
{
	mach_port_t port = *(mach_port_t *)arg;
	struct bi_msg m;

	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	m.h.msgh_size = sizeof(m.h);
	m.h.msgh_remote_port = port;
	m.h.msgh_local_port = MACH_PORT_NULL;
	m.h.msgh_id = 1;
	mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m.h), sizeof(m), port,
	         MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
}

struct bi_rpc {
	mach_port_t server; /* send right to the server task's port */
	mach_port_t reply;  /* our receive right */
};

static void op_rpc(void *arg)
{
	struct bi_rpc *r = arg;
	struct bi_msg m;

	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m.h.msgh_size = sizeof(m.h);
	m.h.msgh_remote_port = r->server;
	m.h.msgh_local_port = r->reply;
	m.h.msgh_id = 1000;
	mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m.h), sizeof(m), r->reply,
	         MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
}

static void op_vm(void *arg)
{
	vm_address_t a = 0;

	(void)arg;
	vm_allocate(mach_task_self(), &a, PAGE, TRUE);
	vm_deallocate(mach_task_self(), a, PAGE);
}

static void op_vm_touch(void *arg)
{
	vm_address_t a = 0;

	(void)arg;
	vm_allocate(mach_task_self(), &a, PAGE, TRUE);
	*(volatile char *)a = 1;
	vm_deallocate(mach_task_self(), a, PAGE);
}

static void op_sysstats(void *arg)
{
	perf_system_stats_data_t s;

	perf_monitor_get_system_stats(*(mach_port_t *)arg, &s);
}

static void op_evstats(void *arg)
{
	perf_event_stats_data_t s;

	perf_monitor_get_event_stats(*(mach_port_t *)arg, 0, &s);
}

/*
 * The server task's program: position independent, no stack, no libc.
 * rdi = its data page, whose first word is the name of its receive
 * right.  Receives a message at 64(rdi), then forever replies with a
 * header-only message on the received reply right (id + 100, as MIG)
 * and receives the next one in the same mach_msg_trap; after an error
 * it only receives.
 */
extern const char server_code[], server_code_end[];
__asm__(".pushsection .text\n"
        "	.balign 16\n"
        "server_code:\n"
        "	mov	%rdi, %rbx\n"
        "	lea	64(%rbx), %r12\n"
        "0:	mov	%r12, %rdi\n"
        "	mov	$2, %esi\n" /* MACH_RCV_MSG */
        "	xor	%edx, %edx\n"
        "	mov	$256, %r10d\n"
        "	mov	(%rbx), %r8d\n"
        "	xor	%r9d, %r9d\n"
        "	mov	$-25, %rax\n" /* mach_msg_trap */
        "	syscall\n"
        "1:	test	%eax, %eax\n"
        "	jnz	0b\n"
        "	movl	$18, 0(%r12)\n" /* MACH_MSGH_BITS(MOVE_SEND_ONCE, 0) */
        "	movl	$32, 4(%r12)\n"
        "	movq	$0, 16(%r12)\n"
        "	addl	$100, 28(%r12)\n"
        "	mov	%r12, %rdi\n"
        "	mov	$3, %esi\n" /* MACH_SEND_MSG | MACH_RCV_MSG */
        "	mov	$32, %edx\n"
        "	mov	$256, %r10d\n"
        "	mov	(%rbx), %r8d\n"
        "	xor	%r9d, %r9d\n"
        "	mov	$-25, %rax\n"
        "	syscall\n"
        "	jmp	1b\n"
        "server_code_end:\n"
        ".popsection\n");

/* Starts the server task; fills r->server and returns its task port. */
static mach_port_t bi_start_server(struct bi_rpc *r)
{
	mach_port_t self = mach_task_self(), child, th;
	vm_address_t code = 0, data = 0;
	mach_port_name_t name;
	mach_msg_type_name_t type;
	struct x86_64_thread_state ts;
	size_t len = (size_t)(server_code_end - server_code);

	bi_check(task_create(self, FALSE, &child), "task_create");
	bi_check(vm_allocate(child, &code, PAGE, TRUE), "vm_allocate code");
	bi_check(vm_write(child, code, (vm_offset_t)server_code, len), "vm_write code");
	bi_check(vm_protect(child, code, PAGE, FALSE, VM_PROT_READ | VM_PROT_EXECUTE),
	         "vm_protect code");
	bi_check(vm_allocate(child, &data, PAGE, TRUE), "vm_allocate data");
	bi_check(mach_port_allocate(child, MACH_PORT_RIGHT_RECEIVE, &name), "mach_port_allocate");
	bi_check(mach_port_extract_right(child, name, MACH_MSG_TYPE_MAKE_SEND, &r->server, &type),
	         "mach_port_extract_right");
	uint64_t word = name;

	bi_check(vm_write(child, data, (vm_offset_t)&word, sizeof(word)), "vm_write data");
	bi_check(thread_create(child, &th), "thread_create");
	memset(&ts, 0, sizeof(ts));
	ts.rip = code;
	ts.rsp = data + PAGE - 8; /* unused: the server never touches its stack */
	ts.rdi = data;
	bi_check(thread_set_state(th, x86_64_THREAD_STATE, (thread_state_t)&ts,
	                          x86_64_THREAD_STATE_COUNT),
	         "thread_set_state");
	bi_check(thread_resume(th), "thread_resume");
	mach_port_deallocate(self, th);
	return child;
}

/* The clock: the kernel's (perf engine), else a calibration against host_get_time. */
static void bi_clock(mach_port_t host, const char *hint)
{
	perf_system_stats_data_t s;

	if (perf_monitor_get_system_stats(host, &s) == KERN_SUCCESS && s.tsc_hz) {
		bi_icount = (s.flags & PERF_SYS_F_ICOUNT) != 0;
		bi_tsc_hz = s.tsc_hz;
		bi_clock_src = "the kernel's calibration (perf_monitor_get_system_stats)";
		return;
	}
	time_value_t a, b;
	uint64_t t0, t1, us;

	bi_check(host_get_time(host, &a), "host_get_time");
	t0 = bi_rdtsc();
	do {
		bi_check(host_get_time(host, &b), "host_get_time");
		us = (uint64_t)(b.seconds - a.seconds) * 1000000 + b.microseconds - a.microseconds;
	} while (us < 100000);
	t1 = bi_rdtsc();
	bi_tsc_hz = (t1 - t0) * 1000000 / us;
	bi_icount = hint && strcmp(hint, "icount") == 0;
	bi_clock_src = "100 ms against host_get_time";
}

int main(int argc, char **argv)
{
	mach_port_t self = mach_task_self(), host = mach_host_self(), hpriv = MACH_PORT_NULL;
	unsigned long scale = argc > 2 ? strtoul(argv[2], NULL, 0) : 1;

	if (scale == 0)
		scale = 1;
	if (argc > 3 && strncmp(argv[3], "only=", 5) == 0)
		bi_only = argv[3] + 5;
	setvbuf(stdout, NULL, _IOLBF, 0);
	bi_clock(host, argc > 1 ? argv[1] : NULL);
	printf("bench ipc: clock %s, TSC %llu Hz (%s)\n", bi_icount ? "icount" : "wall",
	       (unsigned long long)bi_tsc_hz, bi_clock_src);

	bi_measure("empty_trap", 200 * scale, op_empty_trap, NULL);
	bi_measure("swtch", 200 * scale, op_swtch, NULL);

	mach_port_t port;

	bi_check(mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &port), "mach_port_allocate");
	bi_check(mach_port_insert_right(self, port, port, MACH_MSG_TYPE_MAKE_SEND),
	         "mach_port_insert_right");
	bi_measure("null_self_rtt", 200 * scale, op_null_self, &port);

	struct bi_rpc rpc;
	mach_port_t child = bi_start_server(&rpc);

	rpc.reply = mach_reply_port();
	bi_measure("rpc_rtt", 100 * scale, op_rpc, &rpc);
	bi_check(task_terminate(child), "task_terminate");

	bi_measure("vm_alloc_dealloc", 100 * scale, op_vm, NULL);
	bi_measure("vm_alloc_touch_dealloc", 50 * scale, op_vm_touch, NULL);

	perf_system_stats_data_t s;

	if (perf_monitor_get_system_stats(host, &s) == KERN_SUCCESS) {
		bi_measure("perf_sysstats_rpc", 20 * scale, op_sysstats, &host);
		bi_measure("perf_evstats_rpc", 20 * scale, op_evstats, &host);
	}
	printf("bench ipc: done\n");
	fflush(stdout);

	/* The bootstrap task holds the privileged host port: end the run. */
	if (task_get_special_port(self, TASK_HOST_PRIV_PORT, &hpriv) == KERN_SUCCESS &&
	    MACH_PORT_VALID(hpriv))
		host_reboot(hpriv, RB_HALT);
	return 0;
}
