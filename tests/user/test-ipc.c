/*
 * Mach IPC from a user task: ports and rights through the mach_port
 * RPCs, messages to oneself (inline data, a right in the body, out-of-
 * line memory), timeouts and a too-small buffer, an RPC to a server
 * thread of this task (thread_create + thread_set_state + thread_resume
 * on a stack of its own; its code makes no newlib call), a dead-name
 * notification, and hostile messages, each answered with its code.
 * The user suite's leak check (pages, kalloc objects, ports) runs after
 * this task is gone.
 */
#include <stdint.h>
#include <string.h>

#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/mig_errors.h>
#include <mach/notify.h>
#include <mach/thread_info.h>
#include <mach/thread_status.h>

#include "libktap.h"
#include "mach.h"      /* mig-gen/ */
#include "mach_port.h" /* mig-gen/ */

#define PAGE 4096ul
#define KERNEL_ADDR 0xffffffff80100000ul
#define ID_PING 1000

static int kr_is(const char *what, kern_return_t kr, kern_return_t want)
{
	if (kr != want)
		ktap_diag("%s: %s (%#x), want %s", what, mach_error_name(kr), kr,
		          mach_error_name(want));
	return kr == want;
}

/* A message with one inline int. */
struct msg_int {
	mach_msg_header_t head;
	mach_msg_type_t type;
	int value;
};

/* Room to receive anything small. */
struct msg_buf {
	mach_msg_header_t head;
	char body[256];
};

static const mach_msg_type_t int_type = {
	.msgt_name = MACH_MSG_TYPE_INTEGER_32, .msgt_size = 32, .msgt_number = 1, .msgt_inline = 1
};

static void msg_int_init(struct msg_int *m, mach_port_t dest, mach_msg_type_name_t disp, int value)
{
	memset(m, 0, sizeof(*m));
	m->head.msgh_bits = MACH_MSGH_BITS(disp, 0);
	m->head.msgh_size = sizeof(*m);
	m->head.msgh_remote_port = dest;
	m->head.msgh_id = ID_PING;
	m->type = int_type;
	m->value = value;
}

static mach_msg_return_t send(void *m, mach_msg_size_t size)
{
	return mach_msg(m, MACH_SEND_MSG | MACH_SEND_TIMEOUT, size, 0, MACH_PORT_NULL, 100,
	                MACH_PORT_NULL);
}

static mach_msg_return_t recv(void *m, mach_msg_size_t size, mach_port_t port, unsigned ms)
{
	return mach_msg(m, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, size, port, ms, MACH_PORT_NULL);
}

static mach_port_t port_with_send(void)
{
	mach_port_t p = MACH_PORT_NULL;

	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &p) != KERN_SUCCESS)
		return MACH_PORT_NULL;
	if (mach_port_insert_right(mach_task_self(), p, p, MACH_MSG_TYPE_MAKE_SEND) != KERN_SUCCESS)
		return MACH_PORT_NULL;
	return p;
}

static void port_destroy(mach_port_t p)
{
	mach_port_destroy(mach_task_self(), p);
}

static void test_ports_and_self_messages(void)
{
	mach_port_t self = mach_task_self(), p = port_with_send();
	mach_port_type_t type = 0;
	mach_port_urefs_t refs = 0;
	struct msg_int m;
	struct msg_buf r;
	int ok = MACH_PORT_VALID(p);

	ok = ok && kr_is("mach_port_type", mach_port_type(self, p, &type), KERN_SUCCESS) &&
	     type == (MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	ok = ok &&
	     kr_is("get_refs", mach_port_get_refs(self, p, MACH_PORT_RIGHT_SEND, &refs),
	           KERN_SUCCESS) &&
	     refs == 1;
	ok = ok && kr_is("insert_right under a taken name",
	                 mach_port_insert_right(self, p, self, MACH_MSG_TYPE_COPY_SEND),
	                 KERN_NAME_EXISTS);
	ktap_ok(ok, "port_allocate_insert_send");

	msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 4242);
	ok = ok && kr_is("send to self", send(&m, sizeof(m)), MACH_MSG_SUCCESS);
	memset(&r, 0, sizeof(r));
	ok = ok && kr_is("receive", recv(&r, sizeof(r), p, 100), MACH_MSG_SUCCESS) &&
	     r.head.msgh_id == ID_PING && r.head.msgh_size == sizeof(m) &&
	     ((struct msg_int *)&r)->value == 4242;
	ktap_ok(ok, "self_message_inline_data");

	ok = kr_is("receive on an empty port", recv(&r, sizeof(r), p, 10), MACH_RCV_TIMED_OUT);
	msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 1);
	ok = ok && kr_is("send", send(&m, sizeof(m)), MACH_MSG_SUCCESS);
	ok = ok && kr_is("receive into 32 bytes", recv(&r, 32, p, 10), MACH_RCV_TOO_LARGE);
	recv(&r, sizeof(r), p, 0); /* drain, if it stayed queued */
	ok = ok && kr_is("receive on a bogus name", recv(&r, sizeof(r), 0x7fff0f00, 10),
	                 MACH_RCV_INVALID_NAME);
	ktap_ok(ok, "timeout_too_large_invalid_name");

	/* A send right to q, made from the receive right, in the body. */
	mach_port_t q = MACH_PORT_NULL;
	struct {
		mach_msg_header_t head;
		mach_msg_type_t type;
		mach_port_t port;
	} pm;

	ok = kr_is("allocate q", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &q),
	           KERN_SUCCESS);
	memset(&pm, 0, sizeof(pm));
	pm.head.msgh_bits = MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	pm.head.msgh_size = sizeof(pm);
	pm.head.msgh_remote_port = p;
	pm.type = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_MAKE_SEND,
		                     .msgt_size = 32,
		                     .msgt_number = 1,
		                     .msgt_inline = 1 };
	pm.port = q;
	ok = ok && kr_is("send a right", send(&pm, sizeof(pm)), MACH_MSG_SUCCESS);
	ok = ok && kr_is("receive a right", recv(&r, sizeof(r), p, 100), MACH_MSG_SUCCESS);
	mach_msg_type_t *rt = (mach_msg_type_t *)r.body;
	mach_port_t got = *(mach_port_t *)(r.body + 4);

	ok = ok && (r.head.msgh_bits & MACH_MSGH_BITS_COMPLEX) &&
	     rt->msgt_name == MACH_MSG_TYPE_PORT_SEND && got == q;
	ok = ok && kr_is("type of q", mach_port_type(self, q, &type), KERN_SUCCESS) &&
	     type == (MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	ktap_ok(ok, "right_in_body_make_send");
	port_destroy(q);

	/* Three pages out of line, a copy. */
	vm_address_t src = 0;
	struct {
		mach_msg_header_t head;
		mach_msg_type_long_t type;
		vm_address_t addr;
	} __attribute__((packed, aligned(4))) om;

	ok = kr_is("vm_allocate", vm_allocate(self, &src, 3 * PAGE, TRUE), KERN_SUCCESS);
	for (size_t i = 0; ok && i < 3 * PAGE; i += 512)
		((char *)src)[i] = (char)(i / 512 + 1);
	memset(&om, 0, sizeof(om));
	om.head.msgh_bits = MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	om.head.msgh_size = sizeof(om);
	om.head.msgh_remote_port = p;
	om.type.msgtl_header.msgt_longform = 1;
	om.type.msgtl_name = MACH_MSG_TYPE_BYTE;
	om.type.msgtl_size = 8;
	om.type.msgtl_number = 3 * PAGE;
	om.addr = src;
	ok = ok && kr_is("send out of line", send(&om, sizeof(om)), MACH_MSG_SUCCESS);
	((char *)src)[0] = 99; /* a copy: the receiver must not see this */
	ok = ok && kr_is("receive out of line", recv(&r, sizeof(r), p, 100), MACH_MSG_SUCCESS);
	vm_address_t dst;

	memcpy(&dst, r.body + sizeof(mach_msg_type_long_t), sizeof(dst));
	ok = ok && dst != 0 && dst != src && ((char *)dst)[0] == 1 &&
	     ((char *)dst)[2 * PAGE + 512] == (char)(2 * PAGE / 512 + 2);
	if (dst)
		vm_deallocate(self, dst, 3 * PAGE);
	vm_deallocate(self, src, 3 * PAGE);
	ktap_ok(ok, "out_of_line_three_pages");
	port_destroy(p);
}

/* ---- an RPC to a server thread of this task ---- */

/* The server thread: no newlib, only traps.  Replies value + 1 until told 0. */
static void __attribute__((noreturn, used)) server_main(mach_port_t port)
{
	struct msg_buf r;

	for (;;) {
		struct msg_int *in = (struct msg_int *)&r, out;

		if (mach_msg_trap(&r.head, MACH_RCV_MSG, 0, sizeof(r), port, 0, MACH_PORT_NULL) !=
		    MACH_MSG_SUCCESS)
			continue;
		out.head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->head.msgh_bits), 0);
		out.head.msgh_size = sizeof(out);
		out.head.msgh_remote_port = in->head.msgh_remote_port;
		out.head.msgh_local_port = MACH_PORT_NULL;
		out.head.msgh_seqno = 0;
		out.head.msgh_id = in->head.msgh_id + 100;
		out.type = int_type;
		out.value = in->value + 1;
		mach_msg_trap(&out.head, MACH_SEND_MSG, sizeof(out), 0, MACH_PORT_NULL, 0,
		              MACH_PORT_NULL);
	}
}

/*
 * Starts a thread of this task at fn(arg) on a new 8-page stack (*stack,
 * for the caller to free once the thread is gone), as thread_create,
 * thread_set_state and thread_resume do it; 0 after a failure (said).
 */
static int thread_start(void (*fn)(mach_port_t), mach_port_t arg, mach_port_t *th,
                        vm_address_t *stack)
{
	mach_port_t self = mach_task_self();
	struct x86_64_thread_state ts;
	int ok = kr_is("stack", vm_allocate(self, stack, 8 * PAGE, TRUE), KERN_SUCCESS);

	ok = ok && kr_is("thread_create", thread_create(self, th), KERN_SUCCESS);
	memset(&ts, 0, sizeof(ts));
	ts.rip = (uint64_t)(uintptr_t)fn;
	ts.rsp = *stack + 8 * PAGE - 8; /* as after a call */
	ts.rdi = arg;
	ok = ok && kr_is("thread_set_state",
	                 thread_set_state(*th, x86_64_THREAD_STATE, (thread_state_t)&ts,
	                                  x86_64_THREAD_STATE_COUNT),
	                 KERN_SUCCESS);
	return ok && kr_is("thread_resume", thread_resume(*th), KERN_SUCCESS);
}

static void test_rpc_thread(void)
{
	mach_port_t self = mach_task_self(), p = port_with_send(), th = MACH_PORT_NULL;
	mach_port_t reply = mach_reply_port();
	vm_address_t stack = 0;
	int ok = MACH_PORT_VALID(p) && MACH_PORT_VALID(reply) &&
	         thread_start(server_main, p, &th, &stack);
	for (int i = 0; ok && i < 5; i++) {
		struct msg_int m;
		struct msg_buf r;

		msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 10 * i);
		m.head.msgh_bits =
		    MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
		m.head.msgh_local_port = reply;
		memcpy(&r, &m, sizeof(m));
		ok = kr_is("rpc",
		           mach_msg(&r.head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
		                    sizeof(m), sizeof(r), reply, 2000, MACH_PORT_NULL),
		           MACH_MSG_SUCCESS) &&
		     r.head.msgh_id == ID_PING + 100 && ((struct msg_int *)&r)->value == 10 * i + 1;
	}
	thread_array_t threads = NULL;
	mach_msg_type_number_t n = 0;

	ok = ok && kr_is("task_threads", task_threads(self, &threads, &n), KERN_SUCCESS) && n == 2;
	for (unsigned i = 0; i < n; i++)
		mach_port_deallocate(self, threads[i]);
	if (threads)
		vm_deallocate(self, (vm_address_t)threads, n * sizeof(*threads));
	ktap_ok(ok, "rpc_to_server_thread");

	/* The server blocks in a receive: thread_terminate ends it there. */
	ok = kr_is("thread_terminate", thread_terminate(th), KERN_SUCCESS);
	for (int i = 0; ok && i < 100; i++) {
		if (task_threads(self, &threads, &n) != KERN_SUCCESS)
			break;
		for (unsigned j = 0; j < n; j++)
			mach_port_deallocate(self, threads[j]);
		vm_deallocate(self, (vm_address_t)threads, n * sizeof(*threads));
		if (n == 1)
			break;
		thread_switch(0, SWITCH_OPTION_WAIT, 1);
	}
	ok = ok && n == 1;
	ktap_ok(ok, "thread_terminate_server");
	mach_port_deallocate(self, th);
	vm_deallocate(self, stack, 8 * PAGE);
	port_destroy(p);
	port_destroy(reply);
}

/*
 * p's receive right travels in a message queued on q; destroying q
 * destroys the message and with it p, so our send right to p becomes a
 * dead name and the dead-name notification we asked for arrives.
 */
static void test_dead_name(void)
{
	mach_port_t self = mach_task_self(), p = port_with_send(), q = MACH_PORT_NULL;
	mach_port_t notify = MACH_PORT_NULL, prev = MACH_PORT_NULL, sp = MACH_PORT_NULL;
	mach_dead_name_notification_t n;
	mach_port_type_t type = 0;
	struct {
		mach_msg_header_t head;
		mach_msg_type_t type;
		mach_port_t port;
	} pm;
	int ok = MACH_PORT_VALID(p) &&
	         kr_is("notify port", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &notify),
	               KERN_SUCCESS) &&
	         kr_is("q", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &q), KERN_SUCCESS);

	/* A send right to p under a name of its own: p's name goes with the receive right. */
	ok = ok && kr_is("extract a send right",
	                 mach_port_extract_right(self, p, MACH_MSG_TYPE_MAKE_SEND, &sp, &type),
	                 KERN_SUCCESS);
	if (ok && sp != p)
		ktap_diag("extracted send right named %#x, p %#x", sp, p);
	ok = ok && sp == p; /* one name per port in a space: the same name, one more send ref */
	ok = ok && kr_is("request dead-name",
	                 mach_port_request_notification(self, p, MACH_NOTIFY_DEAD_NAME, 0, notify,
	                                                MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev),
	                 KERN_SUCCESS);
	memset(&pm, 0, sizeof(pm));
	pm.head.msgh_bits = MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
	pm.head.msgh_size = sizeof(pm);
	pm.head.msgh_remote_port = q;
	pm.type = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_MOVE_RECEIVE,
		                     .msgt_size = 32,
		                     .msgt_number = 1,
		                     .msgt_inline = 1 };
	pm.port = p;
	ok = ok && kr_is("send p's receive right", send(&pm, sizeof(pm)), MACH_MSG_SUCCESS);
	ok = ok && kr_is("type while in transit", mach_port_type(self, p, &type), KERN_SUCCESS);
	if (ok && type != (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST))
		ktap_diag("type in transit %#x", type);
	ok = ok && type == (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST);
	ok = ok && kr_is("destroy q", mach_port_destroy(self, q), KERN_SUCCESS);
	memset(&n, 0, sizeof(n));
	ok = ok && kr_is("notification", recv(&n, sizeof(n), notify, 1000), MACH_MSG_SUCCESS);
	ok = ok && n.not_header.msgh_id == MACH_NOTIFY_DEAD_NAME && n.not_port == p;
	if (!ok)
		ktap_diag("notification id %#o port %#x (p %#x)", n.not_header.msgh_id, n.not_port,
		          p);
	ok = ok && kr_is("type", mach_port_type(self, p, &type), KERN_SUCCESS) &&
	     type == MACH_PORT_TYPE_DEAD_NAME;
	struct msg_int m;

	msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 0);
	ok = ok && kr_is("send to a dead name", send(&m, sizeof(m)), MACH_SEND_INVALID_DEST);
	ktap_ok(ok, "dead_name_notification");
	port_destroy(p);
	port_destroy(notify);
}

/* ---- hostile messages ---- */

static void test_hostile(void)
{
	mach_port_t self = mach_task_self(), p = port_with_send(), sendonly = MACH_PORT_NULL;
	struct msg_int m;
	struct msg_buf r;
	int ok = MACH_PORT_VALID(p);

	msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 0);
	ok &= kr_is("send_size 16", mach_msg_trap(&m.head, MACH_SEND_MSG, 16, 0, 0, 0, 0),
	            MACH_SEND_MSG_TOO_SMALL);
	ok &= kr_is("send_size 38", mach_msg_trap(&m.head, MACH_SEND_MSG, 38, 0, 0, 0, 0),
	            MACH_SEND_MSG_TOO_SMALL);
	ok &= kr_is("buffer unmapped", mach_msg_trap((void *)0x10, MACH_SEND_MSG, 40, 0, 0, 0, 0),
	            MACH_SEND_INVALID_DATA);
	ok &= kr_is("buffer in the kernel",
	            mach_msg_trap((void *)KERNEL_ADDR, MACH_SEND_MSG, 40, 0, 0, 0, 0),
	            MACH_SEND_INVALID_DATA);
	m.head.msgh_remote_port = 0x7fff0f00;
	ok &= kr_is("bogus destination", send(&m, sizeof(m)), MACH_SEND_INVALID_DEST);
	m.head.msgh_remote_port = p;
	m.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m.head.msgh_local_port = 0x7fff0f00;
	ok &= kr_is("bogus reply port", send(&m, sizeof(m)), MACH_SEND_INVALID_REPLY);
	m.head.msgh_bits = MACH_MSGH_BITS(0x7f, 0);
	m.head.msgh_local_port = MACH_PORT_NULL;
	ok &= kr_is("bogus disposition", send(&m, sizeof(m)), MACH_SEND_INVALID_HEADER);
	ktap_ok(ok, "hostile_headers_and_buffers");

	/* msgh_size lies: the kernel takes send_size (GNU Mach) and says so on receive. */
	msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 5);
	m.head.msgh_size = 100000;
	ok = kr_is("msgh_size lies", send(&m, sizeof(m)), MACH_MSG_SUCCESS) &&
	     kr_is("receive it", recv(&r, sizeof(r), p, 100), MACH_MSG_SUCCESS) &&
	     r.head.msgh_size == sizeof(m);

	/* A descriptor claiming 100 ints in a 40-byte message. */
	msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 0);
	m.head.msgh_bits |= MACH_MSGH_BITS_COMPLEX;
	m.type.msgt_number = 100;
	ok &= kr_is("descriptor overruns", send(&m, sizeof(m)), MACH_SEND_MSG_TOO_SMALL);

	/* Rights the sender does not hold. */
	struct {
		mach_msg_header_t head;
		mach_msg_type_t type;
		mach_port_t port;
	} pm;

	ok &= kr_is("a send right", mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &sendonly),
	            KERN_SUCCESS);
	memset(&pm, 0, sizeof(pm));
	pm.head.msgh_bits = MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	pm.head.msgh_size = sizeof(pm);
	pm.head.msgh_remote_port = p;
	pm.type = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_MOVE_SEND,
		                     .msgt_size = 32,
		                     .msgt_number = 1,
		                     .msgt_inline = 1 };
	pm.port = sendonly; /* a receive right only: no send right to move */
	ok &= kr_is("move a send right not held", send(&pm, sizeof(pm)), MACH_SEND_INVALID_RIGHT);
	pm.port = 0x7fff0f00;
	ok &= kr_is("move a bogus name", send(&pm, sizeof(pm)), MACH_SEND_INVALID_RIGHT);
	pm.type.msgt_name = MACH_MSG_TYPE_MOVE_RECEIVE;
	pm.type.msgt_size = 16; /* a right is 32 bits */
	ok &= kr_is("right of 16 bits", send(&pm, sizeof(pm)), MACH_SEND_INVALID_TYPE);
	ktap_ok(ok, "hostile_bodies_and_rights");

	/* Out of line from unmapped and kernel memory. */
	struct {
		mach_msg_header_t head;
		mach_msg_type_long_t type;
		vm_address_t addr;
	} __attribute__((packed, aligned(4))) om;

	memset(&om, 0, sizeof(om));
	om.head.msgh_bits = MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	om.head.msgh_size = sizeof(om);
	om.head.msgh_remote_port = p;
	om.type.msgtl_header.msgt_longform = 1;
	om.type.msgtl_name = MACH_MSG_TYPE_BYTE;
	om.type.msgtl_size = 8;
	om.type.msgtl_number = 2 * PAGE;
	om.addr = 0x10000;
	ok = kr_is("out of line unmapped", send(&om, sizeof(om)), MACH_SEND_INVALID_MEMORY);
	om.addr = KERNEL_ADDR;
	ok &= kr_is("out of line in the kernel", send(&om, sizeof(om)), MACH_SEND_INVALID_MEMORY);

	/* Receiving into the kernel: refused (GNU Mach would let it succeed), the message lost. */
	msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 9);
	ok &= kr_is("send", send(&m, sizeof(m)), MACH_MSG_SUCCESS);
	ok &= kr_is(
	    "receive into the kernel",
	    mach_msg_trap((void *)KERNEL_ADDR, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, 64, p, 100, 0),
	    MACH_RCV_INVALID_DATA);

	/* An id no server of the task port knows: MIG_BAD_ID in the reply. */
	mach_port_t reply = mach_reply_port();
	mig_reply_header_t *rep = (mig_reply_header_t *)&r;

	memset(&r, 0, sizeof(r));
	r.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	r.head.msgh_size = sizeof(mach_msg_header_t);
	r.head.msgh_remote_port = self;
	r.head.msgh_local_port = reply;
	r.head.msgh_id = 9999;
	ok &= kr_is("unknown id",
	            mach_msg(&r.head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
	                     sizeof(mach_msg_header_t), sizeof(r), reply, 1000, MACH_PORT_NULL),
	            MACH_MSG_SUCCESS);
	ok &= rep->Head.msgh_id == 9999 + 100 && kr_is("RetCode", rep->RetCode, MIG_BAD_ID);
	/* A known id with a malformed body: the generated server refuses it. */
	memset(&r, 0, sizeof(r));
	r.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	r.head.msgh_size = sizeof(mach_msg_header_t);
	r.head.msgh_remote_port = self;
	r.head.msgh_local_port = reply;
	r.head.msgh_id = 2021; /* vm_allocate, without its arguments */
	ok &= kr_is("short vm_allocate",
	            mach_msg(&r.head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
	                     sizeof(mach_msg_header_t), sizeof(r), reply, 1000, MACH_PORT_NULL),
	            MACH_MSG_SUCCESS);
	ok &= kr_is("RetCode", rep->RetCode, MIG_BAD_ARGUMENTS);
	ktap_ok(ok, "hostile_memory_and_kernel_objects");
	port_destroy(reply);
	port_destroy(sendonly);
	port_destroy(p);
}

/*
 * libmach's mach_msg retries a receive the kernel interrupted
 * (thread_abort) unless MACH_RCV_INTERRUPT asks to see it.  The receiver
 * is a second thread; intr_step says how far it got.
 */
static volatile int intr_step;
static volatile mach_msg_return_t intr_mr[2];

static void __attribute__((noreturn, used)) intr_main(mach_port_t port)
{
	struct msg_buf r;

	intr_step = 1;
	intr_mr[0] = mach_msg(&r.head, MACH_RCV_MSG | MACH_RCV_INTERRUPT, 0, sizeof(r), port, 0,
	                      MACH_PORT_NULL);
	intr_step = 2;
	intr_mr[1] = mach_msg(&r.head, MACH_RCV_MSG, 0, sizeof(r), port, 0, MACH_PORT_NULL);
	intr_step = 3;
	for (;;)
		thread_switch(MACH_PORT_NULL, SWITCH_OPTION_WAIT, 1000);
}

/* Waits (at most ~1 s) until th blocks in a wait with intr_step == step. */
static int intr_wait_blocked(mach_port_t th, int step)
{
	for (int i = 0; i < 1000; i++) {
		struct thread_basic_info bi;
		mach_msg_type_number_t n = THREAD_BASIC_INFO_COUNT;

		if (intr_step == step &&
		    thread_info(th, THREAD_BASIC_INFO, (thread_info_t)&bi, &n) == KERN_SUCCESS &&
		    bi.run_state == TH_STATE_WAITING)
			return 1;
		thread_switch(MACH_PORT_NULL, SWITCH_OPTION_WAIT, 1);
	}
	ktap_diag("the receiver never blocked at step %d (at %d)", step, intr_step);
	return 0;
}

static void test_interrupted_receive(void)
{
	mach_port_t self = mach_task_self(), p = port_with_send(), th = MACH_PORT_NULL;
	vm_address_t stack = 0;
	int ok = MACH_PORT_VALID(p) && thread_start(intr_main, p, &th, &stack);
	/* With MACH_RCV_INTERRUPT the caller sees the interruption. */
	ok = ok && intr_wait_blocked(th, 1) && kr_is("abort 1", thread_abort(th), KERN_SUCCESS);
	ok = ok && intr_wait_blocked(th, 2) &&
	     kr_is("first receive", intr_mr[0], MACH_RCV_INTERRUPTED);
	/* Without it the receive goes on, and gets the message sent after the abort. */
	ok = ok && kr_is("abort 2", thread_abort(th), KERN_SUCCESS) && intr_wait_blocked(th, 2);
	if (ok) {
		struct msg_int m;

		msg_int_init(&m, p, MACH_MSG_TYPE_COPY_SEND, 7);
		ok = kr_is("send",
		           mach_msg(&m.head, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0,
		                    MACH_PORT_NULL),
		           MACH_MSG_SUCCESS);
	}
	ok =
	    ok && intr_wait_blocked(th, 3) && kr_is("second receive", intr_mr[1], MACH_MSG_SUCCESS);
	ktap_ok(ok, "mach_msg_retries_interrupted_receive");
	if (MACH_PORT_VALID(th)) {
		thread_terminate(th);
		mach_port_deallocate(self, th);
	}
	port_destroy(p);
}

int main(void)
{
	ktap_plan(12);
	test_ports_and_self_messages();
	test_rpc_thread();
	test_dead_name();
	test_hostile();
	test_interrupted_receive();
	return ktap_done();
}
