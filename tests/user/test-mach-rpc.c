/*
 * The kernel's MIG servers from a Mach programmer's side: the vm_*,
 * task_*, thread_* and host_* RPCs on mach_task_self(), the thread's own
 * port and the host ports, at least one success and one error each, and
 * a new task started from nothing (task_create, vm_allocate, vm_write,
 * thread_create, thread_set_state, thread_resume) that ends itself with
 * a hand-made task_terminate message while its parent waits for the
 * dead-name notification of its task port.
 *
 * argv[1] == "priv": the module was started with priv=1 and must find
 * the privileged host port as its TASK_HOST_PRIV_PORT; otherwise it must
 * not have one.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mach/host_info.h>
#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/mig_errors.h>
#include <mach/notify.h>
#include <mach/task_info.h>
#include <mach/task_special_ports.h>
#include <mach/thread_info.h>
#include <mach/thread_status.h>

#include "libktap.h"
#include "mach.h"      /* mig-gen/ */
#include "mach_host.h" /* mig-gen/ */
#include "mach_port.h" /* mig-gen/ */

#define PAGE 4096ul
#define KERNEL_ADDR 0xffffffff80100000ul

static int kr_is(const char *what, kern_return_t kr, kern_return_t want)
{
	if (kr != want)
		ktap_diag("%s: %s (%#x), want %s", what, mach_error_name(kr), kr,
		          mach_error_name(want));
	return kr == want;
}

static void test_vm(void)
{
	mach_port_t self = mach_task_self();
	vm_address_t addr = 0, a2;
	vm_size_t size;
	vm_prot_t prot, maxp;
	vm_inherit_t inh;
	boolean_t shared;
	mach_port_t obj;
	vm_offset_t off;
	int ok = kr_is("vm_allocate", vm_allocate(self, &addr, 4 * PAGE, TRUE), KERN_SUCCESS);

	ok = ok && addr != 0 && ((volatile uint64_t *)addr)[100] == 0;
	if (ok)
		((volatile uint64_t *)addr)[0] = 0x1234;
	ok = ok && kr_is("vm_protect read",
	                 vm_protect(self, addr + PAGE, PAGE, FALSE, VM_PROT_READ), KERN_SUCCESS);
	a2 = addr + PAGE;
	ok = ok && kr_is("vm_region",
	                 vm_region(self, &a2, &size, &prot, &maxp, &inh, &shared, &obj, &off),
	                 KERN_SUCCESS);
	ok = ok && a2 == addr + PAGE && size == PAGE && prot == VM_PROT_READ &&
	     maxp == VM_PROT_ALL && obj == MACH_PORT_NULL;
	ok = ok &&
	     kr_is("vm_protect beyond user space",
	           vm_protect(self, KERNEL_ADDR, PAGE, FALSE, VM_PROT_READ), KERN_INVALID_ADDRESS);
	ktap_ok(ok, "vm_allocate_protect_region");

	/* vm_write (out-of-line request) and vm_read (out-of-line reply). */
	char msg[64] = "written by vm_write";
	vm_offset_t data = 0;
	mach_msg_type_number_t cnt = 0;

	ok = kr_is("vm_write", vm_write(self, addr + 2 * PAGE + 10, (vm_offset_t)msg, sizeof(msg)),
	           KERN_SUCCESS);
	ok = ok && strcmp((char *)addr + 2 * PAGE + 10, msg) == 0;
	ok = ok && kr_is("vm_read", vm_read(self, addr, 3 * PAGE, &data, &cnt), KERN_SUCCESS);
	ok = ok && cnt == 3 * PAGE && data != addr && *(uint64_t *)data == 0x1234 &&
	     strcmp((char *)data + 2 * PAGE + 10, msg) == 0;
	if (data)
		vm_deallocate(self, data, cnt);
	ok = ok && kr_is("vm_write to a read-only page",
	                 vm_write(self, addr + PAGE, (vm_offset_t)msg, 8), KERN_PROTECTION_FAILURE);
	ok = ok && kr_is("vm_read of the kernel", vm_read(self, KERNEL_ADDR, 8, &data, &cnt),
	                 KERN_INVALID_ADDRESS);
	ok = ok && kr_is("vm_write from an unmapped buffer",
	                 vm_write(self, addr, (vm_offset_t)0x10, 8), MACH_SEND_INVALID_MEMORY);
	ktap_ok(ok, "vm_read_vm_write");

	vm_statistics_data_t st;

	ok = kr_is("vm_statistics", vm_statistics(self, &st), KERN_SUCCESS) &&
	     st.pagesize == (integer_t)PAGE && st.free_count > 0;
	ok = ok && kr_is("vm_deallocate", vm_deallocate(self, addr, 4 * PAGE), KERN_SUCCESS);
	a2 = 0x7ffffffff000ul; /* the top of user space: the stack ends here */
	ok = ok && kr_is("vm_region above everything",
	                 vm_region(self, &a2, &size, &prot, &maxp, &inh, &shared, &obj, &off),
	                 KERN_NO_SPACE);
	ktap_ok(ok, "vm_statistics_deallocate");
}

static void test_task_thread(void)
{
	mach_port_t self = mach_task_self(), me = mach_thread_self(), port;
	task_basic_info_data_t ti;
	mach_msg_type_number_t cnt = TASK_BASIC_INFO_COUNT;
	int ok = kr_is("task_info", task_info(self, TASK_BASIC_INFO, (task_info_t)&ti, &cnt),
	               KERN_SUCCESS);

	ok = ok && cnt == TASK_BASIC_INFO_COUNT && ti.virtual_size > 0 && ti.resident_size > 0 &&
	     ti.suspend_count == 0;
	cnt = TASK_BASIC_INFO_COUNT;
	ok = ok && kr_is("task_info flavor 99", task_info(self, 99, (task_info_t)&ti, &cnt),
	                 KERN_INVALID_ARGUMENT);
	ok = ok &&
	     kr_is("task_info on a thread port",
	           task_info(me, TASK_BASIC_INFO, (task_info_t)&ti, &cnt), KERN_INVALID_ARGUMENT);
	ok = ok &&
	     kr_is("task_get_special_port kernel",
	           task_get_special_port(self, TASK_KERNEL_PORT, &port), KERN_SUCCESS) &&
	     port == self;
	mach_port_deallocate(self, port);
	ok = ok && kr_is("task_get_special_port 99", task_get_special_port(self, 99, &port),
	                 KERN_INVALID_ARGUMENT);
	ok =
	    ok && kr_is("task_set_special_port kernel",
	                task_set_special_port(self, TASK_KERNEL_PORT, self), KERN_INVALID_ARGUMENT);
	ktap_ok(ok, "task_info_special_ports");

	thread_array_t threads = NULL;
	mach_msg_type_number_t nthreads = 0;

	ok = kr_is("task_threads", task_threads(self, &threads, &nthreads), KERN_SUCCESS);
	ok = ok && nthreads == 1 && threads[0] == me;
	for (unsigned i = 0; i < nthreads; i++)
		mach_port_deallocate(self, threads[i]);
	if (threads)
		vm_deallocate(self, (vm_address_t)threads, nthreads * sizeof(*threads));
	ktap_ok(ok, "task_threads");

	struct x86_64_thread_state ts;
	thread_basic_info_data_t bi;

	cnt = x86_64_THREAD_STATE_COUNT;
	ok = kr_is("thread_get_state",
	           thread_get_state(me, x86_64_THREAD_STATE, (thread_state_t)&ts, &cnt),
	           KERN_SUCCESS);
	ok = ok && cnt == x86_64_THREAD_STATE_COUNT && ts.rip > 0x400000 && ts.rip < 0x800000 &&
	     ts.rsp > 0x7f0000000000ul && ts.rsp < 0x800000000000ul && (ts.rflags & 0x200);
	cnt = 3;
	ok = ok && kr_is("thread_get_state count 3",
	                 thread_get_state(me, x86_64_THREAD_STATE, (thread_state_t)&ts, &cnt),
	                 KERN_INVALID_ARGUMENT);
	cnt = THREAD_BASIC_INFO_COUNT;
	ok = ok &&
	     kr_is("thread_info", thread_info(me, THREAD_BASIC_INFO, (thread_info_t)&bi, &cnt),
	           KERN_SUCCESS) &&
	     bi.run_state == TH_STATE_RUNNING && bi.suspend_count == 0;
	ok = ok && kr_is("thread_resume not suspended", thread_resume(me), KERN_FAILURE);
	ok = ok && kr_is("thread_get_state on the task port",
	                 thread_get_state(self, x86_64_THREAD_STATE, (thread_state_t)&ts, &cnt),
	                 KERN_INVALID_ARGUMENT);
	ok = ok && kr_is("task_resume not suspended", task_resume(self), KERN_FAILURE);
	ktap_ok(ok, "thread_state_info_self");
	mach_port_deallocate(self, me);
}

static void test_host(int priv)
{
	mach_port_t self = mach_task_self(), host = mach_host_self(), hpriv = MACH_PORT_NULL;
	host_basic_info_data_t hi;
	mach_msg_type_number_t cnt = HOST_BASIC_INFO_COUNT;
	kernel_version_t version;
	time_value_t t0, t1;
	int ok = kr_is("host_info", host_info(host, HOST_BASIC_INFO, (host_info_t)&hi, &cnt),
	               KERN_SUCCESS);

	ok = ok && hi.max_cpus >= 1 && hi.avail_cpus >= 1 && hi.memory_size >= (1ul << 20);
	ok = ok && kr_is("host_kernel_version", host_kernel_version(host, version), KERN_SUCCESS) &&
	     strncmp(version, "machperf", 8) == 0;
	ok = ok && kr_is("host_get_time", host_get_time(host, &t0), KERN_SUCCESS) &&
	     kr_is("host_get_time again", host_get_time(host, &t1), KERN_SUCCESS) &&
	     (t1.seconds > t0.seconds ||
	      (t1.seconds == t0.seconds && t1.microseconds >= t0.microseconds));
	ok = ok && kr_is("host_info on the task port",
	                 host_info(self, HOST_BASIC_INFO, (host_info_t)&hi, &cnt), MIG_BAD_ID);
	ktap_diag("kernel version: %s", version);
	ktap_ok(ok, "host_info_version_time");

	ok = kr_is("host_reboot on the unprivileged port", host_reboot(host, RB_HALT),
	           KERN_INVALID_HOST);
	ok = ok && kr_is("host_reboot on the task port", host_reboot(self, RB_HALT), MIG_BAD_ID);
	ok = ok && kr_is("task_get_special_port host_priv",
	                 task_get_special_port(self, TASK_HOST_PRIV_PORT, &hpriv), KERN_SUCCESS);
	if (priv) {
		cnt = HOST_BASIC_INFO_COUNT;
		ok = ok && MACH_PORT_VALID(hpriv) && hpriv != host &&
		     kr_is("host_info on host_priv",
		           host_info(hpriv, HOST_BASIC_INFO, (host_info_t)&hi, &cnt), KERN_SUCCESS);
	} else {
		ok = ok && hpriv == MACH_PORT_NULL;
	}
	if (MACH_PORT_VALID(hpriv))
		mach_port_deallocate(self, hpriv);
	mach_port_deallocate(self, host);
	ktap_ok(ok, "host_priv_%s", priv ? "given" : "withheld");
}

/*
 * The child's program, position independent, no stack needed at first.
 * rdi = a data page: it writes 0xc0ffee at (rdi), waits until the
 * parent writes non-zero at 8(rdi) (vm_write), then sends task_terminate
 * to its own task port (trap -28) as a one-way message (no reply port),
 * and spins if that ever returns.
 */
extern const char child_code[], child_code_end[];
__asm__(".pushsection .text\n"
        "	.balign 16\n"
        "child_code:\n"
        "	movq	$0xc0ffee, (%rdi)\n"
        "1:	pause\n"
        "	cmpq	$0, 8(%rdi)\n"
        "	je	1b\n"
        "	mov	%rdi, %rbx\n"
        "	mov	$-28, %rax\n" /* mach_task_self */
        "	syscall\n"
        "	lea	16(%rbx), %rdi\n" /* the message, in the data page */
        "	movl	$19, 0(%rdi)\n"   /* bits: COPY_SEND, no reply port */
        "	movl	$32, 4(%rdi)\n"   /* size */
        "	movq	%rax, 8(%rdi)\n"  /* remote: the task port */
        "	movq	$0, 16(%rdi)\n"
        "	movl	$0, 24(%rdi)\n"
        "	movl	$2008, 28(%rdi)\n" /* task_terminate */
        "	mov	$1, %esi\n"        /* MACH_SEND_MSG */
        "	mov	$32, %edx\n"
        "	xor	%r10d, %r10d\n"
        "	xor	%r8d, %r8d\n"
        "	xor	%r9d, %r9d\n"
        "	mov	$-25, %rax\n" /* mach_msg_trap */
        "	syscall\n"
        "2:	jmp	2b\n"
        "child_code_end:\n"
        ".popsection\n");

/* Polls the child's data word at addr until it reads want (or about 2 s pass). */
static int wait_child_word(mach_port_t child, vm_address_t addr, uint64_t want)
{
	for (int i = 0; i < 2000; i++) {
		vm_offset_t data = 0;
		mach_msg_type_number_t cnt = 0;
		uint64_t v = 0;

		if (vm_read(child, addr, 8, &data, &cnt) != KERN_SUCCESS)
			return 0;
		v = *(uint64_t *)data;
		vm_deallocate(mach_task_self(), data, cnt);
		if (v == want)
			return 1;
		thread_switch(0, SWITCH_OPTION_WAIT, 1);
	}
	return 0;
}

static void test_child_task(void)
{
	mach_port_t self = mach_task_self(), child = MACH_PORT_NULL, th = MACH_PORT_NULL;
	mach_port_t notify = MACH_PORT_NULL, prev = MACH_PORT_NULL;
	vm_address_t code = 0, data = 0, stack = 0;
	size_t len = (size_t)(child_code_end - child_code);
	struct x86_64_thread_state ts;
	int ok = kr_is("task_create", task_create(self, FALSE, &child), KERN_SUCCESS);

	ok = ok && kr_is("vm_allocate code", vm_allocate(child, &code, PAGE, TRUE), KERN_SUCCESS);
	ok = ok && kr_is("vm_write code", vm_write(child, code, (vm_offset_t)child_code, len),
	                 KERN_SUCCESS);
	ok = ok && kr_is("vm_protect code",
	                 vm_protect(child, code, PAGE, FALSE, VM_PROT_READ | VM_PROT_EXECUTE),
	                 KERN_SUCCESS);
	ok = ok && kr_is("vm_allocate data", vm_allocate(child, &data, PAGE, TRUE), KERN_SUCCESS);
	ok = ok &&
	     kr_is("vm_allocate stack", vm_allocate(child, &stack, 4 * PAGE, TRUE), KERN_SUCCESS);
	ok = ok && kr_is("thread_create", thread_create(child, &th), KERN_SUCCESS);
	memset(&ts, 0, sizeof(ts));
	ts.rip = KERNEL_ADDR;
	ok = ok && kr_is("thread_set_state kernel rip",
	                 thread_set_state(th, x86_64_THREAD_STATE, (thread_state_t)&ts,
	                                  x86_64_THREAD_STATE_COUNT),
	                 KERN_INVALID_ARGUMENT);
	ts.rip = code;
	ts.rsp = 0x8000000000000000ul;
	ok = ok && kr_is("thread_set_state non-canonical rsp",
	                 thread_set_state(th, x86_64_THREAD_STATE, (thread_state_t)&ts,
	                                  x86_64_THREAD_STATE_COUNT),
	                 KERN_INVALID_ARGUMENT);
	ts.rsp = stack + 4 * PAGE - 8;
	ts.rdi = data;
	ok = ok && kr_is("thread_set_state",
	                 thread_set_state(th, x86_64_THREAD_STATE, (thread_state_t)&ts,
	                                  x86_64_THREAD_STATE_COUNT),
	                 KERN_SUCCESS);
	/* It was made suspended: count 1. */
	thread_basic_info_data_t bi;
	mach_msg_type_number_t cnt = THREAD_BASIC_INFO_COUNT;

	ok = ok &&
	     kr_is("thread_info child",
	           thread_info(th, THREAD_BASIC_INFO, (thread_info_t)&bi, &cnt), KERN_SUCCESS) &&
	     bi.suspend_count == 1;
	ok = ok && kr_is("mach_port_allocate notify",
	                 mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &notify), KERN_SUCCESS);
	ok = ok &&
	     kr_is("request dead-name",
	           mach_port_request_notification(self, child, MACH_NOTIFY_DEAD_NAME, 0, notify,
	                                          MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev),
	           KERN_SUCCESS) &&
	     prev == MACH_PORT_NULL;
	ok = ok && kr_is("thread_resume", thread_resume(th), KERN_SUCCESS);
	ok = ok && kr_is("thread_resume again", thread_resume(th), KERN_FAILURE);
	ok = ok && wait_child_word(child, data, 0xc0ffee);
	ktap_ok(ok, "child_task_runs_copied_code");

	/* Its state, seen from here: rip in the copied code. */
	cnt = x86_64_THREAD_STATE_COUNT;
	ok = ok &&
	     kr_is("thread_get_state child",
	           thread_get_state(th, x86_64_THREAD_STATE, (thread_state_t)&ts, &cnt),
	           KERN_SUCCESS) &&
	     ts.rip >= code && ts.rip < code + len && ts.rdi == data;
	ok = ok && kr_is("task_suspend child", task_suspend(child), KERN_SUCCESS) &&
	     kr_is("task_resume child", task_resume(child), KERN_SUCCESS);
	ktap_ok(ok, "child_thread_state");

	/* Let it end itself; the dead-name notification names its task port. */
	uint64_t go = 1;
	struct {
		mach_msg_header_t head;
		mach_msg_type_t type;
		mach_port_t name;
		char pad[64];
	} n;

	ok = ok && kr_is("vm_write go", vm_write(child, data + 8, (vm_offset_t)&go, sizeof(go)),
	                 KERN_SUCCESS);
	memset(&n, 0, sizeof(n));
	ok = ok && kr_is("dead-name notification",
	                 mach_msg(&n.head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(n), notify,
	                          5000, MACH_PORT_NULL),
	                 MACH_MSG_SUCCESS);
	ok = ok && n.head.msgh_id == MACH_NOTIFY_DEAD_NAME && n.name == child;
	if (!ok)
		ktap_diag("notification id %d name %#x (child %#x)", n.head.msgh_id, n.name, child);
	mach_port_type_t type = 0;

	ok = ok &&
	     kr_is("mach_port_type of the dead child", mach_port_type(self, child, &type),
	           KERN_SUCCESS) &&
	     type == MACH_PORT_TYPE_DEAD_NAME;
	ok = ok &&
	     kr_is("task_terminate of a dead task", task_terminate(child), MACH_SEND_INVALID_DEST);
	ktap_ok(ok, "child_terminates_itself_dead_name");

	/* The dead name's references (ours, and the notification's if it added one). */
	mach_port_urefs_t refs = 0;

	mach_port_get_refs(self, child, MACH_PORT_RIGHT_DEAD_NAME, &refs);
	mach_port_mod_refs(self, child, MACH_PORT_RIGHT_DEAD_NAME, -(mach_port_delta_t)refs);
	mach_port_deallocate(self, th);
	mach_port_mod_refs(self, notify, MACH_PORT_RIGHT_RECEIVE, -1);
}

/* A task terminated from outside, with its thread suspended. */
static void test_terminate_other(void)
{
	mach_port_t self = mach_task_self(), child = MACH_PORT_NULL, th = MACH_PORT_NULL;
	int ok = kr_is("task_create", task_create(self, TRUE, &child), KERN_SUCCESS) &&
	         kr_is("thread_create", thread_create(child, &th), KERN_SUCCESS) &&
	         kr_is("thread_suspend", thread_suspend(th), KERN_SUCCESS) &&
	         kr_is("thread_abort", thread_abort(th), KERN_SUCCESS) &&
	         kr_is("task_terminate", task_terminate(child), KERN_SUCCESS);
	mach_port_type_t type = 0;

	for (int i = 0; ok && i < 100 && type != MACH_PORT_TYPE_DEAD_NAME; i++) {
		mach_port_type(self, child, &type);
		if (type != MACH_PORT_TYPE_DEAD_NAME)
			thread_switch(0, SWITCH_OPTION_WAIT, 1);
	}
	ok = ok && type == MACH_PORT_TYPE_DEAD_NAME;
	/* Its thread is gone or going: KERN_INVALID_ARGUMENT, or a dead name once it is freed. */
	kern_return_t kr = thread_resume(th);

	ktap_diag("thread_resume of a dead thread: %s", mach_error_name(kr));
	ok = ok && (kr == KERN_INVALID_ARGUMENT || kr == MACH_SEND_INVALID_DEST);
	ktap_ok(ok, "task_terminate_other");
	mach_port_mod_refs(self, child, MACH_PORT_RIGHT_DEAD_NAME, -1);
	mach_port_deallocate(self, th);
}

/*
 * mach_msg's fast paths (ipc/mach_msg.c) must give what the general path
 * gives.  A send-then-receive of a small simple message takes them; the
 * same message sent and received in two calls takes the general path.
 */
struct fp_msg {
	mach_msg_header_t h;
	uint32_t body[4]; /* a self message's data; a kernel reply's RetCodeType, RetCode */
};
_Static_assert(sizeof(mig_reply_header_t) == sizeof(mach_msg_header_t) + 8, "RetCode: body[1]");

/* The two results agree except for msgh_seqno. */
static int fp_same(const char *what, const struct fp_msg *fast, const struct fp_msg *slow,
                   mach_msg_size_t size)
{
	struct fp_msg a = *fast, b = *slow;

	a.h.msgh_seqno = b.h.msgh_seqno = 0;
	if (memcmp(&a, &b, size) == 0)
		return 1;
	ktap_diag("%s: bits %#x/%#x size %u/%u remote %#x/%#x local %#x/%#x id %d/%d", what,
	          fast->h.msgh_bits, slow->h.msgh_bits, fast->h.msgh_size, slow->h.msgh_size,
	          fast->h.msgh_remote_port, slow->h.msgh_remote_port, fast->h.msgh_local_port,
	          slow->h.msgh_local_port, fast->h.msgh_id, slow->h.msgh_id);
	return 0;
}

static void fp_self(struct fp_msg *m, mach_port_t port)
{
	memset(m, 0, sizeof(*m));
	m->h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	m->h.msgh_size = sizeof(*m);
	m->h.msgh_remote_port = port;
	m->h.msgh_id = 4242;
	for (int i = 0; i < 4; i++)
		m->body[i] = 0x51000000u + i;
}

/* A request the task port's servers do not know: the reply is MIG_BAD_ID. */
static void fp_request(struct fp_msg *m, mach_port_t reply)
{
	memset(m, 0, sizeof(*m));
	m->h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m->h.msgh_size = sizeof(m->h);
	m->h.msgh_remote_port = mach_task_self();
	m->h.msgh_local_port = reply;
	m->h.msgh_id = 999000;
}

/* m sent and received in two calls (the general path): 1, or 0 after a failure (said). */
static int fp_general(const char *what, struct fp_msg *m, mach_msg_size_t send_size,
                      mach_port_t port)
{
	int ok = kr_is(
	    what, mach_msg(&m->h, MACH_SEND_MSG, send_size, 0, MACH_PORT_NULL, 0, MACH_PORT_NULL),
	    MACH_MSG_SUCCESS);

	memset(m, 0, sizeof(*m));
	return ok &&
	       kr_is(what, mach_msg(&m->h, MACH_RCV_MSG, 0, sizeof(*m), port, 0, MACH_PORT_NULL),
	             MACH_MSG_SUCCESS);
}

static void test_fast_paths(void)
{
	mach_port_t self = mach_task_self(), port = MACH_PORT_NULL;
	struct fp_msg fast, slow, m;
	kern_return_t kr;
	int ok =
	    kr_is("mach_port_allocate", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &port),
	          KERN_SUCCESS) &&
	    kr_is("insert_right", mach_port_insert_right(self, port, port, MACH_MSG_TYPE_MAKE_SEND),
	          KERN_SUCCESS);

	/* Self round trip: the header as received, the data untouched, seqno counting. */
	fp_self(&fast, port);
	ok = ok && kr_is("self fast",
	                 mach_msg(&fast.h, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(fast), sizeof(fast),
	                          port, 0, MACH_PORT_NULL),
	                 MACH_MSG_SUCCESS);
	fp_self(&slow, port);
	ok = ok && fp_general("self general", &slow, sizeof(slow), port);
	ok = ok && fp_same("self", &fast, &slow, sizeof(fast)) &&
	     slow.h.msgh_seqno == fast.h.msgh_seqno + 1 &&
	     fast.h.msgh_bits == MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND) &&
	     fast.h.msgh_local_port == port && fast.body[3] == 0x51000003u;
	ktap_ok(ok, "fast_self_round_trip_as_general");

	/* Kernel RPC: the fast reply and the general one agree. */
	fp_request(&fast, port);
	ok = kr_is("rpc fast",
	           mach_msg(&fast.h, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(fast.h), sizeof(fast),
	                    port, 0, MACH_PORT_NULL),
	           MACH_MSG_SUCCESS);
	fp_request(&slow, port);
	ok = ok && fp_general("rpc general", &slow, sizeof(slow.h), port);
	ok = ok && fp_same("rpc", &fast, &slow, sizeof(mig_reply_header_t)) &&
	     fast.h.msgh_bits == MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE) &&
	     fast.h.msgh_local_port == port && fast.h.msgh_id == 999100 &&
	     (kern_return_t)fast.body[1] == MIG_BAD_ID;
	ktap_ok(ok, "fast_kernel_rpc_as_general");

	/* A reply bigger than the receive buffer: left queued (RCV_LARGE), then received. */
	fp_request(&m, port);
	kr = mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_LARGE, sizeof(m.h), sizeof(m.h),
	              port, 0, MACH_PORT_NULL);
	ok = kr_is("rpc too large", kr, MACH_RCV_TOO_LARGE) &&
	     m.h.msgh_size == sizeof(mig_reply_header_t);
	memset(&m, 0, sizeof(m));
	ok = ok && kr_is("rpc large receive",
	                 mach_msg(&m.h, MACH_RCV_MSG, 0, sizeof(m), port, 0, MACH_PORT_NULL),
	                 MACH_MSG_SUCCESS);
	ok = ok && m.h.msgh_id == 999100 && (kern_return_t)m.body[1] == MIG_BAD_ID;
	ktap_ok(ok, "fast_kernel_rpc_reply_too_large");

	/* A message already queued on the reply port comes first, the reply after it. */
	fp_self(&m, port);
	ok = kr_is("queue one",
	           mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL),
	           MACH_MSG_SUCCESS);
	fp_request(&m, port);
	ok = ok && kr_is("rpc behind",
	                 mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m.h), sizeof(m), port,
	                          0, MACH_PORT_NULL),
	                 MACH_MSG_SUCCESS);
	ok = ok && m.h.msgh_id == 4242;
	memset(&m, 0, sizeof(m));
	ok = ok && kr_is("reply after",
	                 mach_msg(&m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m), port, 0,
	                          MACH_PORT_NULL),
	                 MACH_MSG_SUCCESS);
	ok = ok && m.h.msgh_id == 999100;
	ktap_ok(ok, "fast_kernel_rpc_behind_queued_message");

	/* The send buffer unreadable: the general path's error, nothing sent or received. */
	kr = mach_msg((mach_msg_header_t *)KERNEL_ADDR,
	              MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, sizeof(m.h), sizeof(m), port,
	              0, MACH_PORT_NULL);
	ok = kr_is("kernel buffer", kr, MACH_SEND_INVALID_DATA);
	kr = mach_msg(&m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m), port, 0, MACH_PORT_NULL);
	ok = ok && kr_is("nothing queued", kr, MACH_RCV_TIMED_OUT);

	/*
	 * A message that runs into an unmapped page: the copy faults
	 * (copy_user's own recovery) and the general path gives its error.
	 * A self message in a read-only page: read, but the receive cannot
	 * write it back, so it is lost (MACH_RCV_INVALID_DATA), as on the
	 * general path, and nothing stays queued.
	 */
	vm_address_t two = 0;

	ok = ok && kr_is("two pages", vm_allocate(self, &two, 2 * PAGE, TRUE), KERN_SUCCESS) &&
	     kr_is("unmap second", vm_deallocate(self, two + PAGE, PAGE), KERN_SUCCESS);
	if (ok) {
		struct fp_msg *edge = (struct fp_msg *)(two + PAGE - sizeof(mach_msg_header_t));

		fp_self(&m, port);
		memcpy(&edge->h, &m.h, sizeof(m.h)); /* the body would be in the hole */
		kr = mach_msg(&edge->h, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, sizeof(m),
		              sizeof(m), port, 0, MACH_PORT_NULL);
		ok = kr_is("into a hole", kr, MACH_SEND_INVALID_DATA);

		fp_self((struct fp_msg *)two, port);
		ok = ok && kr_is("read-only", vm_protect(self, two, PAGE, FALSE, VM_PROT_READ),
		                 KERN_SUCCESS);
		kr = mach_msg((mach_msg_header_t *)two,
		              MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, sizeof(m), sizeof(m),
		              port, 0, MACH_PORT_NULL);
		ok = ok && kr_is("to a read-only buffer", kr, MACH_RCV_INVALID_DATA);
		kr = mach_msg(&m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m), port, 0,
		              MACH_PORT_NULL);
		ok = ok && kr_is("lost, not queued", kr, MACH_RCV_TIMED_OUT);
		/* A kernel request there: served, but its reply cannot be written back either. */
		ok = ok && kr_is("writable", vm_protect(self, two, PAGE, FALSE, VM_PROT_DEFAULT),
		                 KERN_SUCCESS);
		fp_request((struct fp_msg *)two, port);
		ok = ok && kr_is("read-only again",
		                 vm_protect(self, two, PAGE, FALSE, VM_PROT_READ), KERN_SUCCESS);
		kr = mach_msg((mach_msg_header_t *)two,
		              MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, sizeof(m.h),
		              sizeof(m), port, 0, MACH_PORT_NULL);
		ok = ok && kr_is("kernel reply to a read-only buffer", kr, MACH_RCV_INVALID_DATA);
		kr = mach_msg(&m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m), port, 0,
		              MACH_PORT_NULL);
		ok = ok && kr_is("reply lost, not queued", kr, MACH_RCV_TIMED_OUT);
		vm_deallocate(self, two, PAGE);
	}
	ktap_ok(ok, "fast_path_bad_buffer");

	/*
	 * A kernel request's shape that is not one: the reply right of
	 * another port than the receive's, a destination that is no right of
	 * ours, a reply "port" we only hold a send right to.  The general
	 * path's answers.
	 */
	mach_port_t other = MACH_PORT_NULL;

	ok = kr_is("other port", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &other),
	           KERN_SUCCESS);
	fp_request(&m, other);
	kr = mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, sizeof(m.h), sizeof(m),
	              port, 0, MACH_PORT_NULL);
	ok = ok && kr_is("reply to another port: this receive waits", kr, MACH_RCV_TIMED_OUT);
	memset(&m, 0, sizeof(m));
	kr =
	    mach_msg(&m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m), other, 0, MACH_PORT_NULL);
	ok = ok && kr_is("the reply on the other port", kr, MACH_MSG_SUCCESS) &&
	     m.h.msgh_id == 999100 && (kern_return_t)m.body[1] == MIG_BAD_ID;
	fp_request(&m, port);
	m.h.msgh_remote_port = 0x12345;
	kr = mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, sizeof(m.h), sizeof(m),
	              port, 0, MACH_PORT_NULL);
	ok = ok && kr_is("no such destination", kr, MACH_SEND_INVALID_DEST);
	fp_request(&m, self);
	kr = mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, sizeof(m.h), sizeof(m),
	              self, 0, MACH_PORT_NULL);
	ok = ok && kr_is("a reply right from a send right", kr, MACH_SEND_INVALID_REPLY);
	ktap_ok(ok, "fast_kernel_rpc_odd_shapes");
	mach_port_mod_refs(self, other, MACH_PORT_RIGHT_RECEIVE, -1);
	mach_port_mod_refs(self, port, MACH_PORT_RIGHT_RECEIVE, -1);
	mach_port_deallocate(self, port);
}

/*
 * Allocation failures swept through RPCs (the ktest trap fail_after,
 * tests/kern/ktest_traps.h: the nth kernel allocation from now fails):
 * a port with a send right and a no-senders request; memory written and
 * read back, a thread and task_threads in a child task; a port set with a
 * member and an extracted right; a message to ourselves with a receive
 * right, a send right and out-of-line data; each run from n = 1 until
 * a run makes fewer allocations than n.  (The child is made and
 * terminated outside the window: a task_create whose reply is lost leaves
 * an unreachable task, as in Mach.)  Each step may fail only
 * once the injected failure happened, and with a code, never a hang; the
 * run cleans up whatever it made, and the suite's leak check sees every
 * port, page and object back.  Without the trap (a boot=mach run), skip.
 */
#define AF_STEP(what, kr) ktap_sweep_step(sw, what, kr)

static void af_port(struct ktap_sweep *sw)
{
	mach_port_t self = mach_task_self(), port = MACH_PORT_NULL, prev = MACH_PORT_NULL;

	if (!AF_STEP("port allocate", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &port)))
		return;
	if (AF_STEP("insert_right",
	            mach_port_insert_right(self, port, port, MACH_MSG_TYPE_MAKE_SEND)) &&
	    AF_STEP("request no-senders",
	            mach_port_request_notification(self, port, MACH_NOTIFY_NO_SENDERS, 0, port,
	                                           MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev)))
		AF_STEP("deallocate send", mach_port_deallocate(self, port));
	mach_port_mod_refs(self, port, MACH_PORT_RIGHT_RECEIVE, -1);
}

/* A port set with a member, and a send right extracted and put back. */
static void af_set_extract(struct ktap_sweep *sw)
{
	mach_port_t self = mach_task_self(), set = MACH_PORT_NULL, port = MACH_PORT_NULL,
	            right = MACH_PORT_NULL;
	mach_msg_type_name_t type = 0;

	if (AF_STEP("set allocate", mach_port_allocate(self, MACH_PORT_RIGHT_PORT_SET, &set)) &&
	    AF_STEP("port allocate", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &port)) &&
	    AF_STEP("move_member", mach_port_move_member(self, port, set)) &&
	    AF_STEP("extract_right",
	            mach_port_extract_right(self, port, MACH_MSG_TYPE_MAKE_SEND, &right, &type)))
		AF_STEP("insert back", mach_port_insert_right(self, port, right, type));
	if (MACH_PORT_VALID(port)) {
		mach_port_deallocate(self, port); /* the send right, if it went back */
		mach_port_mod_refs(self, port, MACH_PORT_RIGHT_RECEIVE, -1);
	}
	if (MACH_PORT_VALID(set))
		mach_port_mod_refs(self, set, MACH_PORT_RIGHT_PORT_SET, -1);
}

/* A message to ourselves carrying a receive right, a send right and out-of-line data. */
static void af_self_message(struct ktap_sweep *sw)
{
	mach_port_t self = mach_task_self(), port = MACH_PORT_NULL, carried = MACH_PORT_NULL;
	static char data[3 * PAGE];
	struct {
		mach_msg_header_t h;
		mach_msg_type_t rt;
		mach_port_t r;
		mach_msg_type_t st;
		mach_port_t s;
		mach_msg_type_long_t ot;
		uint64_t addr;
	} __attribute__((packed, aligned(8))) m;

	if (!AF_STEP("port allocate", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &port)))
		return;
	if (AF_STEP("carried allocate",
	            mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &carried))) {
		memset(&m, 0, sizeof(m));
		data[0] = 'x';
		m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
		m.h.msgh_size =
		    offsetof(__typeof__(m), addr) + sizeof(m.addr); /* no tail padding */
		m.h.msgh_remote_port = port;
		m.rt = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_MOVE_RECEIVE,
			                  .msgt_size = 32,
			                  .msgt_number = 1,
			                  .msgt_inline = 1 };
		m.r = carried;
		m.st = m.rt;
		m.st.msgt_name = MACH_MSG_TYPE_MAKE_SEND;
		m.s = port;
		m.ot.msgtl_header.msgt_longform = 1;
		m.ot.msgtl_name = MACH_MSG_TYPE_BYTE;
		m.ot.msgtl_size = 8;
		m.ot.msgtl_number = sizeof(data);
		m.addr = (uintptr_t)data;
		kern_return_t kr = mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
		                            m.h.msgh_size, sizeof(m), port, 0, MACH_PORT_NULL);

		/*
		 * Received (or a receive error: what was copied out is named in
		 * m): the rights and data are in m.  A send error: nothing was
		 * taken, carried is still ours.
		 */
		bool received = AF_STEP("self message", kr) || (kr & 0xfffff000) == 0x10004000;

		if (received) {
			if (MACH_PORT_VALID(m.r))
				mach_port_mod_refs(self, m.r, MACH_PORT_RIGHT_RECEIVE, -1);
			if (MACH_PORT_VALID(m.s))
				mach_port_deallocate(self, m.s);
			if (kr == MACH_MSG_SUCCESS &&
			    (m.addr == 0 || *(const char *)m.addr != 'x')) {
				ktap_diag("self message: out-of-line data not received");
				sw->bad = true;
			}
			if (m.addr)
				vm_deallocate(self, m.addr, sizeof(data));
		} else {
			mach_port_mod_refs(self, carried, MACH_PORT_RIGHT_RECEIVE, -1);
		}
	}
	mach_port_mod_refs(self, port, MACH_PORT_RIGHT_RECEIVE, -1);
}

/*
 * In a child task made before the window (its termination after it
 * takes whatever a lost reply left in it): memory allocated, written and
 * read back, and a thread.
 */
static void af_child(struct ktap_sweep *sw)
{
	mach_port_t child = *(mach_port_t *)sw->ctx;
	mach_port_t self = mach_task_self(), th = MACH_PORT_NULL;
	vm_address_t a = 0;
	vm_offset_t data = 0;
	mach_msg_type_number_t cnt = 0;
	static const char text[] = "allocation failures";

	if (AF_STEP("vm_allocate", vm_allocate(child, &a, PAGE, TRUE)) &&
	    AF_STEP("vm_write", vm_write(child, a, (vm_offset_t)text, sizeof(text))) &&
	    AF_STEP("vm_read", vm_read(child, a, PAGE, &data, &cnt))) {
		if (memcmp((const void *)data, text, sizeof(text)) != 0) {
			ktap_diag("vm_read: not what vm_write wrote");
			sw->bad = true;
		}
		vm_deallocate(self, data, cnt);
	}
	if (AF_STEP("thread_create", thread_create(child, &th))) {
		thread_array_t threads = NULL;
		mach_msg_type_number_t n = 0;

		if (AF_STEP("task_threads", task_threads(child, &threads, &n))) {
			for (unsigned i = 0; i < n; i++)
				mach_port_deallocate(self, threads[i]);
			if (n != 1 || threads[0] != th) {
				ktap_diag("task_threads: %u threads", n);
				sw->bad = true;
			}
			vm_deallocate(self, (vm_address_t)threads, n * sizeof(*threads));
		}
		AF_STEP("thread_terminate", thread_terminate(th));
		mach_port_deallocate(self, th);
	}
}

/*
 * Terminates a child and waits until it is gone (its port a dead name),
 * as the others do.  A child whose only thread was terminated may have
 * ended by itself already (its task port dead: MACH_SEND_INVALID_DEST).
 */
static int af_child_end(mach_port_t task)
{
	mach_port_t self = mach_task_self();
	mach_port_type_t type = 0;
	kern_return_t kr = task_terminate(task);
	int ok = kr == MACH_SEND_INVALID_DEST || kr_is("task_terminate", kr, KERN_SUCCESS);

	for (int i = 0; ok && i < 100 && type != MACH_PORT_TYPE_DEAD_NAME; i++) {
		mach_port_type(self, task, &type);
		if (type != MACH_PORT_TYPE_DEAD_NAME)
			thread_switch(0, SWITCH_OPTION_WAIT, 1);
	}
	ok = ok && type == MACH_PORT_TYPE_DEAD_NAME;
	mach_port_mod_refs(self, task, MACH_PORT_RIGHT_DEAD_NAME, -1);
	return ok;
}

static bool af_child_begin(void *ctx)
{
	return kr_is("task_create", task_create(mach_task_self(), FALSE, (mach_port_t *)ctx),
	             KERN_SUCCESS);
}

static bool af_child_teardown(void *ctx)
{
	return af_child_end(*(mach_port_t *)ctx);
}

static void test_allocation_failures(void)
{
	mach_port_t child = MACH_PORT_NULL;
	struct ktap_sweep port = { .op = af_port }, set = { .op = af_set_extract },
	                  msg = { .op = af_self_message },
	                  task = { .ctx = &child,
		                   .setup = af_child_begin,
		                   .op = af_child,
		                   .teardown = af_child_teardown };

	ktap_sweep("allocation_failures_port", &port);
	ktap_sweep("allocation_failures_child_task", &task);
	ktap_sweep("allocation_failures_set_extract", &set);
	ktap_sweep("allocation_failures_self_message", &msg);
}

int main(int argc, char **argv)
{
	int priv = argc > 1 && strcmp(argv[1], "priv") == 0;

	ktap_plan(22);
	test_vm();
	test_task_thread();
	test_host(priv);
	test_child_task();
	test_terminate_other();
	test_fast_paths();
	test_allocation_failures();
	return ktap_done();
}
