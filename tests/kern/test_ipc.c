/*
 * IPC: name spaces (ipc_space) and messages (ipc_msg).
 *
 * Most cases run in kernel context between spaces made for the test,
 * with mach_msg_kernel (kernel buffers, the same copyin/copyout and queue
 * code as the trap); ipc_msg.user_* run hand-assembled programs in a task
 * through the real trap.  Each case checks that ports, port sets, spaces
 * and messages are back to their starting counts (ktest itself checks
 * pages and allocator objects per suite).
 */
#include <mach/mig_errors.h>
#include <mach/notify.h>
#include <mach/syscall_sw.h>

#include "tests/kern/ktest_traps.h"
#include <stddef.h>

#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_kobject.h"
#include "ipc/ipc_kobject_rpc.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "ipc/mach_port.h"
#include "kern/kalloc.h"
#include "kern/ktest.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "kern/zalloc.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"
#include "x86_64/pmap.h"

struct it_counts {
	unsigned ports, psets, spaces, kmsgs;
};

static struct it_counts it_counts(void)
{
	return (struct it_counts){ ipc_port_count(), ipc_pset_count(), ipc_space_count(),
		                   ipc_kmsg_count() };
}

static void it_expect_counts(struct ktest_ctx *kt, struct it_counts c)
{
	KT_EXPECT_EQ(kt, ipc_port_count(), c.ports);
	KT_EXPECT_EQ(kt, ipc_pset_count(), c.psets);
	KT_EXPECT_EQ(kt, ipc_space_count(), c.spaces);
	KT_EXPECT_EQ(kt, ipc_kmsg_count(), c.kmsgs);
}

static struct ipc_space *it_space(struct ktest_ctx *kt)
{
	struct ipc_space *s = NULL;

	KT_EXPECT_EQ(kt, ipc_space_create(&s), KERN_SUCCESS);
	return s;
}

/* A send right (made from receive name rcv in from) inserted into to; its name there. */
static mach_port_name_t it_give_send(struct ktest_ctx *kt, struct ipc_space *from,
                                     mach_port_name_t rcv, struct ipc_space *to,
                                     mach_msg_type_name_t disp)
{
	struct ipc_port *port;
	mach_msg_type_name_t type;
	mach_port_name_t name = MACH_PORT_NULL;

	if (!KT_EXPECT_EQ(kt, mach_port_extract_right(from, rcv, disp, &port, &type), KERN_SUCCESS))
		return MACH_PORT_NULL;
	unsigned long f = ipc_lock();

	ipc_right_copyout(to, port, type, &name);
	ipc_unlock(f);
	return name;
}

/* A simple message: header plus one int. */
struct it_msg {
	mach_msg_header_t h;
	mach_msg_type_t t;
	uint32_t v;
};

static const mach_msg_type_t it_int_type = {
	.msgt_name = MACH_MSG_TYPE_INTEGER_32, .msgt_size = 32, .msgt_number = 1, .msgt_inline = 1
};

static struct it_msg it_simple(mach_port_name_t dest, mach_msg_type_name_t dtype,
                               mach_port_name_t reply, mach_msg_type_name_t rtype, int id,
                               uint32_t v)
{
	struct it_msg m;

	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(dtype, rtype);
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = dest;
	m.h.msgh_local_port = reply;
	m.h.msgh_id = id;
	m.t = it_int_type;
	m.v = v;
	return m;
}

static mach_msg_return_t it_send(struct ipc_space *s, void *m, mach_msg_size_t size)
{
	return mach_msg_kernel(s, m, MACH_SEND_MSG | MACH_SEND_TIMEOUT, size, 0, MACH_PORT_NULL, 0);
}

static mach_msg_return_t it_recv(struct ipc_space *s, void *m, mach_msg_size_t size,
                                 mach_port_name_t name, mach_msg_option_t extra)
{
	return mach_msg_kernel(s, m, MACH_RCV_MSG | MACH_RCV_TIMEOUT | extra, 0, size, name, 0);
}

static mach_port_urefs_t it_refs(struct ipc_space *s, mach_port_name_t n, mach_port_right_t r)
{
	mach_port_urefs_t refs = 12345;

	if (mach_port_get_refs(s, n, r, &refs) != KERN_SUCCESS)
		return 12345;
	return refs;
}

static mach_port_type_t it_type(struct ipc_space *s, mach_port_name_t n)
{
	mach_port_type_t t = 0;

	if (mach_port_type(s, n, &t) != KERN_SUCCESS)
		return 0xdead;
	return t;
}

KTEST(ipc_space, allocate_and_types)
{
	struct it_counts c = it_counts();
	struct ipc_space *s = it_space(kt);
	mach_port_name_t r, ps, d, x;

	KT_ASSERT(kt, s);
	KT_EXPECT_EQ(kt, mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &r), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_allocate(s, MACH_PORT_RIGHT_PORT_SET, &ps), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_allocate(s, MACH_PORT_RIGHT_DEAD_NAME, &d), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_allocate(s, MACH_PORT_RIGHT_SEND, &x), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(kt, mach_port_allocate(s, 99, &x), KERN_INVALID_VALUE);
	KT_EXPECT(kt, MACH_PORT_VALID(r) && MACH_PORT_VALID(ps) && MACH_PORT_VALID(d));
	KT_EXPECT(kt, r != ps && ps != d && r != d);
	KT_EXPECT_EQ(kt, it_type(s, r), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(kt, it_type(s, ps), MACH_PORT_TYPE_PORT_SET);
	KT_EXPECT_EQ(kt, it_type(s, d), MACH_PORT_TYPE_DEAD_NAME);
	mach_port_type_t t;

	KT_EXPECT_EQ(kt, mach_port_type(s, 0x12345, &t), KERN_INVALID_NAME);
	KT_EXPECT_EQ(kt, mach_port_type(s, MACH_PORT_NULL, &t), KERN_INVALID_NAME);
	KT_EXPECT_EQ(kt, mach_port_type(s, MACH_PORT_DEAD, &t), KERN_INVALID_NAME);

	mach_port_name_t *names;
	mach_port_type_t *types;
	mach_msg_type_number_t n;

	KT_EXPECT_EQ(kt, mach_port_names(s, &names, &types, &n), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, n, 3);
	kfree(names);
	kfree(types);
	KT_EXPECT_EQ(kt, ipc_port_count(), c.ports + 1);
	KT_EXPECT_EQ(kt, ipc_pset_count(), c.psets + 1);

	/* A freed slot comes back under another name; the stale name is invalid. */
	KT_EXPECT_EQ(kt, mach_port_destroy(s, r), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_destroy(s, r), KERN_INVALID_NAME);
	KT_EXPECT_EQ(kt, mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &x), KERN_SUCCESS);
	KT_EXPECT(kt, x != r);
	KT_EXPECT_EQ(kt, x >> 8, r >> 8);
	KT_EXPECT_EQ(kt, mach_port_type(s, r, &t), KERN_INVALID_NAME);
	ipc_space_destroy(s);
	it_expect_counts(kt, c);
}

KTEST(ipc_space, refs_and_mod_refs)
{
	struct it_counts c = it_counts();
	struct ipc_space *s = it_space(kt);
	mach_port_name_t r, d, so;

	KT_ASSERT(kt, s);
	KT_ASSERT_EQ(kt, mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &r), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_refs(s, r, MACH_PORT_RIGHT_RECEIVE), 1);
	KT_EXPECT_EQ(kt, it_refs(s, r, MACH_PORT_RIGHT_SEND), 0);
	mach_port_urefs_t refs;

	KT_EXPECT_EQ(kt, mach_port_get_refs(s, r, MACH_PORT_RIGHT_NUMBER, &refs),
	             KERN_INVALID_VALUE);
	KT_EXPECT_EQ(kt, mach_port_get_refs(s, 0x777, MACH_PORT_RIGHT_SEND, &refs),
	             KERN_INVALID_NAME);
	/* Send rights join the receive right's name. */
	KT_EXPECT_EQ(kt, it_give_send(kt, s, r, s, MACH_MSG_TYPE_MAKE_SEND), r);
	KT_EXPECT_EQ(kt, it_type(s, r), MACH_PORT_TYPE_SEND_RECEIVE);
	KT_EXPECT_EQ(kt, it_refs(s, r, MACH_PORT_RIGHT_SEND), 1);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_SEND, 5), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_refs(s, r, MACH_PORT_RIGHT_SEND), 6);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_SEND, -7), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_SEND, MACH_PORT_UREFS_MAX),
	             KERN_UREFS_OVERFLOW);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_SEND, MACH_PORT_UREFS_MAX - 6),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_SEND, 1), KERN_UREFS_OVERFLOW);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_SEND, -(int)MACH_PORT_UREFS_MAX),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(s, r), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_SEND_ONCE, -1),
	             KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_RECEIVE, 1), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_RECEIVE, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, 17, 0), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(kt, mach_port_deallocate(s, r), KERN_INVALID_RIGHT);

	/* Send-once: one reference, its own name. */
	so = it_give_send(kt, s, r, s, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	KT_EXPECT(kt, so != r && MACH_PORT_VALID(so));
	KT_EXPECT_EQ(kt, it_type(s, so), MACH_PORT_TYPE_SEND_ONCE);
	KT_EXPECT_EQ(kt, it_refs(s, so, MACH_PORT_RIGHT_SEND_ONCE), 1);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, so, MACH_PORT_RIGHT_SEND_ONCE, 1),
	             KERN_INVALID_VALUE);

	/* Dead names: references, and deallocating the last one frees the name. */
	KT_ASSERT_EQ(kt, mach_port_allocate(s, MACH_PORT_RIGHT_DEAD_NAME, &d), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, d, MACH_PORT_RIGHT_DEAD_NAME, 2), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_refs(s, d, MACH_PORT_RIGHT_DEAD_NAME), 3);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, d, MACH_PORT_RIGHT_SEND, -1), KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(kt, mach_port_deallocate(s, d), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, d, MACH_PORT_RIGHT_DEAD_NAME, -2), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_deallocate(s, d), KERN_INVALID_NAME);

	/* Destroying the receive right: the send-once right in the same space dies with it. */
	KT_EXPECT_EQ(kt, mach_port_mod_refs(s, r, MACH_PORT_RIGHT_RECEIVE, -1), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(s, so), MACH_PORT_TYPE_DEAD_NAME);
	KT_EXPECT_EQ(kt, mach_port_deallocate(s, so), KERN_SUCCESS);
	ipc_space_destroy(s);
	it_expect_counts(kt, c);
}

KTEST(ipc_space, receive_death_makes_dead_names)
{
	struct it_counts c = it_counts();
	struct ipc_space *a = it_space(kt), *b = it_space(kt);
	mach_port_name_t r, s1;

	KT_ASSERT(kt, a && b);
	KT_ASSERT_EQ(kt, mach_port_allocate(a, MACH_PORT_RIGHT_RECEIVE, &r), KERN_SUCCESS);
	s1 = it_give_send(kt, a, r, b, MACH_MSG_TYPE_MAKE_SEND);
	KT_EXPECT_EQ(kt, it_give_send(kt, a, r, b, MACH_MSG_TYPE_MAKE_SEND), s1);
	KT_EXPECT_EQ(kt, it_type(b, s1), MACH_PORT_TYPE_SEND);
	KT_EXPECT_EQ(kt, it_refs(b, s1, MACH_PORT_RIGHT_SEND), 2);
	KT_EXPECT_EQ(kt, mach_port_destroy(a, r), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(b, s1), MACH_PORT_TYPE_DEAD_NAME);
	KT_EXPECT_EQ(kt, it_refs(b, s1, MACH_PORT_RIGHT_DEAD_NAME), 2);
	KT_EXPECT_EQ(kt, mach_port_mod_refs(b, s1, MACH_PORT_RIGHT_SEND, -1), KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(kt, mach_port_deallocate(b, s1), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_refs(b, s1, MACH_PORT_RIGHT_DEAD_NAME), 1);
	/* The port is gone except for b's dead name; destroying spaces frees the rest. */
	ipc_space_destroy(a);
	ipc_space_destroy(b);
	it_expect_counts(kt, c);
}

KTEST(ipc_space, insert_extract_qlimit_sets)
{
	struct it_counts c = it_counts();
	struct ipc_space *a = it_space(kt), *b = it_space(kt);
	mach_port_name_t r, r2, ps;
	struct ipc_port *port;
	mach_msg_type_name_t type;

	KT_ASSERT(kt, a && b);
	KT_ASSERT_EQ(kt, mach_port_allocate(a, MACH_PORT_RIGHT_RECEIVE, &r), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, mach_port_allocate(a, MACH_PORT_RIGHT_RECEIVE, &r2), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_extract_right(a, r, 3, &port, &type), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(kt, mach_port_extract_right(a, 0x999, MACH_MSG_TYPE_MAKE_SEND, &port, &type),
	             KERN_INVALID_NAME);
	KT_EXPECT_EQ(kt, mach_port_extract_right(a, r, MACH_MSG_TYPE_COPY_SEND, &port, &type),
	             KERN_INVALID_RIGHT);
	KT_ASSERT_EQ(kt, mach_port_extract_right(a, r, MACH_MSG_TYPE_MAKE_SEND, &port, &type),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, type, MACH_MSG_TYPE_PORT_SEND);
	KT_EXPECT_EQ(kt, mach_port_insert_right(b, MACH_PORT_NULL, port, type), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(kt, mach_port_insert_right(b, 0x1234, port, type), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(b, 0x1234), MACH_PORT_TYPE_SEND);
	/* The same right again under the same name adds a reference; elsewhere it exists. */
	KT_ASSERT_EQ(kt, mach_port_extract_right(a, r, MACH_MSG_TYPE_MAKE_SEND, &port, &type),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_insert_right(b, 0x2201, port, type), KERN_RIGHT_EXISTS);
	KT_EXPECT_EQ(kt, mach_port_insert_right(b, 0x1234, port, type), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_refs(b, 0x1234, MACH_PORT_RIGHT_SEND), 2);
	KT_ASSERT_EQ(kt, mach_port_extract_right(a, r2, MACH_MSG_TYPE_MAKE_SEND, &port, &type),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_insert_right(b, 0x1234, port, type), KERN_NAME_EXISTS);
	KT_EXPECT_EQ(kt, mach_port_insert_right(b, 0x3300, port, type), KERN_SUCCESS);

	KT_EXPECT_EQ(kt, mach_port_set_qlimit(a, r, MACH_PORT_QLIMIT_MAX + 1), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(kt, mach_port_set_qlimit(b, 0x1234, 1), KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(kt, mach_port_set_qlimit(a, r, 1), KERN_SUCCESS);

	KT_ASSERT_EQ(kt, mach_port_allocate(a, MACH_PORT_RIGHT_PORT_SET, &ps), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_move_member(a, r, MACH_PORT_NULL), KERN_NOT_IN_SET);
	KT_EXPECT_EQ(kt, mach_port_move_member(a, r, r2), KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(kt, mach_port_move_member(a, ps, ps), KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(kt, mach_port_move_member(a, r, ps), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_move_member(a, r2, ps), KERN_SUCCESS);

	/* Receive from the set: the message on r2 comes through it. */
	struct it_msg m = it_simple(0x3300, MACH_MSG_TYPE_COPY_SEND, 0, 0, 55, 1);

	KT_EXPECT_EQ(kt, it_send(b, &m, sizeof(m)), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, it_recv(a, &m, sizeof(m), r2, 0), MACH_RCV_IN_SET);
	memset(&m, 0, sizeof(m));
	KT_EXPECT_EQ(kt, it_recv(a, &m, sizeof(m), ps, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, m.h.msgh_local_port, r2);
	KT_EXPECT_EQ(kt, m.h.msgh_id, 55);
	KT_EXPECT_EQ(kt, it_recv(a, &m, sizeof(m), ps, 0), MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(kt, mach_port_move_member(a, r, MACH_PORT_NULL), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_destroy(a, ps), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_move_member(a, r2, MACH_PORT_NULL), KERN_NOT_IN_SET);
	ipc_space_destroy(b);
	ipc_space_destroy(a);
	it_expect_counts(kt, c);
}

/* Two spaces: a holds receive right r, b a send right s to it. */
struct it_pair {
	struct ipc_space *a, *b;
	mach_port_name_t r, s;
	struct it_counts c;
};

static bool it_pair(struct ktest_ctx *kt, struct it_pair *p)
{
	p->c = it_counts();
	p->a = it_space(kt);
	p->b = it_space(kt);
	if (!p->a || !p->b)
		return false;
	if (!KT_EXPECT_EQ(kt, mach_port_allocate(p->a, MACH_PORT_RIGHT_RECEIVE, &p->r),
	                  KERN_SUCCESS))
		return false;
	p->s = it_give_send(kt, p->a, p->r, p->b, MACH_MSG_TYPE_MAKE_SEND);
	return MACH_PORT_VALID(p->s);
}

static void it_pair_done(struct ktest_ctx *kt, struct it_pair *p)
{
	ipc_space_destroy(p->a);
	ipc_space_destroy(p->b);
	it_expect_counts(kt, p->c);
}

KTEST(ipc_msg, rpc_between_spaces)
{
	struct it_pair p;
	mach_port_name_t reply;

	if (!it_pair(kt, &p))
		return;
	KT_ASSERT_EQ(kt, mach_port_allocate(p.b, MACH_PORT_RIGHT_RECEIVE, &reply), KERN_SUCCESS);
	struct it_msg m =
	    it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 100, 42);

	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_MSG_SUCCESS);
	memset(&m, 0, sizeof(m));
	KT_ASSERT_EQ(kt, it_recv(p.a, &m, sizeof(m), p.r, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, m.h.msgh_bits,
	             MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND));
	KT_EXPECT_EQ(kt, m.h.msgh_size, sizeof(m));
	KT_EXPECT_EQ(kt, m.h.msgh_local_port, p.r);
	KT_EXPECT_EQ(kt, m.h.msgh_id, 100);
	KT_EXPECT_EQ(kt, m.h.msgh_seqno, 0);
	KT_EXPECT_EQ(kt, m.v, 42);
	KT_EXPECT_EQ(kt, it_type(p.a, m.h.msgh_remote_port), MACH_PORT_TYPE_SEND_ONCE);
	/* The reply on the send-once right: the RPC path, send then receive in one call. */
	struct it_msg rep =
	    it_simple(m.h.msgh_remote_port, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 200, 43);

	KT_EXPECT_EQ(kt, it_send(p.a, &rep, sizeof(rep)), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(p.a, m.h.msgh_remote_port), 0xdead);
	memset(&rep, 0, sizeof(rep));
	KT_ASSERT_EQ(kt, it_recv(p.b, &rep, sizeof(rep), reply, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, rep.h.msgh_local_port, reply);
	KT_EXPECT_EQ(kt, rep.h.msgh_remote_port, MACH_PORT_NULL);
	KT_EXPECT_EQ(kt, rep.h.msgh_bits, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE));
	KT_EXPECT_EQ(kt, rep.v, 43);
	/* Send-then-receive to one's own port. */
	m = it_simple(reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 0, 0, 7, 8);
	KT_EXPECT_EQ(kt,
	             mach_msg_kernel(p.b, &m.h, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m), sizeof(m),
	                             reply, 0),
	             MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, m.h.msgh_id, 7);
	KT_EXPECT_EQ(kt, m.h.msgh_seqno, 1);
	it_pair_done(kt, &p);
}

KTEST(ipc_msg, timeouts_and_qlimit)
{
	struct it_pair p;
	struct it_msg m;

	if (!it_pair(kt, &p))
		return;
	KT_EXPECT_EQ(kt, it_recv(p.a, &m, sizeof(m), p.r, 0), MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(
	    kt, mach_msg_kernel(p.a, &m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m), p.r, 5),
	    MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(kt, mach_port_set_qlimit(p.a, p.r, 2), KERN_SUCCESS);
	for (int i = 0; i < 2; i++) {
		m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, 0, 0, i, i);
		KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_MSG_SUCCESS);
	}
	m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 9, 9);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_TIMED_OUT);
	/* Returned to the sender: the copied send right came back as one more reference. */
	KT_EXPECT_EQ(kt, m.h.msgh_remote_port, p.s);
	KT_EXPECT_EQ(kt, it_refs(p.b, p.s, MACH_PORT_RIGHT_SEND), 2);
	m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 9, 9);
	KT_EXPECT_EQ(
	    kt, mach_msg_kernel(p.b, &m.h, MACH_SEND_MSG | MACH_SEND_TIMEOUT, sizeof(m), 0, 0, 5),
	    MACH_SEND_TIMED_OUT);
	/* A send-once right ignores the limit. */
	mach_port_name_t so = it_give_send(kt, p.a, p.r, p.b, MACH_MSG_TYPE_MAKE_SEND_ONCE);

	m = it_simple(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 3, 3);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_MSG_SUCCESS);
	for (int i = 0; i < 3; i++) {
		KT_EXPECT_EQ(kt, it_recv(p.a, &m, sizeof(m), p.r, 0), MACH_MSG_SUCCESS);
		KT_EXPECT_EQ(kt, m.h.msgh_id, i == 2 ? 3 : i);
	}
	it_pair_done(kt, &p);
}

struct it_sender {
	struct ipc_space *s;
	mach_port_name_t dest;
	mach_msg_return_t mr[3];
};

static void it_sender_thread(void *arg)
{
	struct it_sender *snd = arg;

	for (int i = 0; i < 3; i++) {
		struct it_msg m = it_simple(snd->dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, i, i);

		snd->mr[i] = mach_msg_kernel(snd->s, &m.h, MACH_SEND_MSG, sizeof(m), 0, 0, 0);
	}
}

KTEST(ipc_msg, blocked_sender_and_receiver)
{
	struct it_pair p;
	struct it_msg m;
	struct thread *t;

	if (!it_pair(kt, &p))
		return;
	KT_EXPECT_EQ(kt, mach_port_set_qlimit(p.a, p.r, 1), KERN_SUCCESS);
	struct it_sender snd = { p.b, p.s, { -1, -1, -1 } };

	/* Higher priority: it runs at once, fills the queue and blocks. */
	KT_ASSERT_EQ(
	    kt,
	    thread_create_kernel("ipc-sender", it_sender_thread, &snd, SCHED_PRI_DEFAULT + 1, &t),
	    KERN_SUCCESS);
	KT_EXPECT_EQ(kt, snd.mr[0], MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, snd.mr[1], -1);
	for (int i = 0; i < 3; i++) {
		KT_EXPECT_EQ(kt,
		             mach_msg_kernel(p.a, &m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
		                             sizeof(m), p.r, 1000),
		             MACH_MSG_SUCCESS);
		KT_EXPECT_EQ(kt, m.h.msgh_id, i);
	}
	thread_join(t);
	KT_EXPECT_EQ(kt, snd.mr[1], MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, snd.mr[2], MACH_MSG_SUCCESS);
	it_pair_done(kt, &p);
}

KTEST(ipc_msg, rcv_too_large)
{
	struct it_pair p;
	struct {
		struct it_msg m;
		uint32_t pad[6];
	} big;
	struct it_msg m;

	if (!it_pair(kt, &p))
		return;
	memset(&big, 0, sizeof(big));
	big.m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &big, sizeof(big)), MACH_MSG_SUCCESS);
	memset(&m, 0, sizeof(m));
	KT_EXPECT_EQ(kt, it_recv(p.a, &m, sizeof(m), p.r, MACH_RCV_LARGE), MACH_RCV_TOO_LARGE);
	KT_EXPECT_EQ(kt, m.h.msgh_size, sizeof(big));
	/* Still queued: received with a big enough buffer. */
	KT_EXPECT_EQ(kt, it_recv(p.a, &big, sizeof(big), p.r, MACH_RCV_LARGE), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, big.m.h.msgh_id, 1);
	/* Without MACH_RCV_LARGE the message is destroyed; the header tells what it was. */
	big.m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &big, sizeof(big)), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, it_recv(p.a, &m, sizeof(m), p.r, 0), MACH_RCV_TOO_LARGE);
	KT_EXPECT_EQ(kt, m.h.msgh_id, 2);
	KT_EXPECT_EQ(kt, m.h.msgh_size, sizeof(big));
	KT_EXPECT_EQ(kt, it_recv(p.a, &m, sizeof(m), p.r, 0), MACH_RCV_TIMED_OUT);
	it_pair_done(kt, &p);
}

KTEST(ipc_msg, hostile_headers)
{
	struct it_pair p;
	struct it_msg m;
	mach_port_name_t dead;

	if (!it_pair(kt, &p))
		return;
	m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 28), MACH_SEND_MSG_TOO_SMALL);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 34), MACH_SEND_MSG_TOO_SMALL);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, IPC_KMSG_MAX_SIZE + 4), MACH_SEND_NO_BUFFER);
	m.h.msgh_bits |= 0x00010000;
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_HEADER);
	m = it_simple(p.s, MACH_MSG_TYPE_INTEGER_32, 0, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_HEADER);
	m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, p.s, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_HEADER);
	m = it_simple(0x4242, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_DEST);
	m = it_simple(MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_DEST);
	m = it_simple(p.s, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_DEST);
	m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, 0x4242, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_REPLY);
	m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, p.s, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_REPLY);
	KT_ASSERT_EQ(kt, mach_port_allocate(p.b, MACH_PORT_RIGHT_DEAD_NAME, &dead), KERN_SUCCESS);
	m = it_simple(dead, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(kt, it_refs(p.b, p.s, MACH_PORT_RIGHT_SEND), 1);
	KT_EXPECT_EQ(kt, it_recv(p.b, &m, sizeof(m), p.s, 0), MACH_RCV_INVALID_NAME);
	KT_EXPECT_EQ(kt, it_recv(p.b, &m, sizeof(m), 0x4242, 0), MACH_RCV_INVALID_NAME);
	/* Destination dead after its receive right went. */
	KT_EXPECT_EQ(kt, mach_port_destroy(p.a, p.r), KERN_SUCCESS);
	m = it_simple(p.s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, 1);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, sizeof(m)), MACH_SEND_INVALID_DEST);
	it_pair_done(kt, &p);
}

/* A complex message: header, one descriptor, a word of data, spare room. */
struct it_cmsg {
	mach_msg_header_t h;
	uint32_t w[16];
};

KTEST(ipc_msg, hostile_bodies)
{
	struct it_pair p;
	struct it_cmsg m;
	mach_msg_type_t t;
	struct it_cmsg n;
	uint32_t nports;

	if (!it_pair(kt, &p))
		return;
	nports = ipc_port_count();
#define IT_CMSG(dtype)                                                                             \
	do {                                                                                       \
		memset(&m, 0, sizeof(m));                                                          \
		m.h.msgh_bits = MACH_MSGH_BITS(dtype, 0) | MACH_MSGH_BITS_COMPLEX;                 \
		m.h.msgh_remote_port = p.s;                                                        \
	} while (0)
	/* A descriptor that says 8 ints follow, in a message with room for 2. */
	IT_CMSG(MACH_MSG_TYPE_COPY_SEND);
	t = it_int_type;
	t.msgt_number = 8;
	memcpy(&m.w[0], &t, 4);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 12), MACH_SEND_MSG_TOO_SMALL);
	/* One word short; exactly enough is fine (and received). */
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 4 + 28), MACH_SEND_MSG_TOO_SMALL);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 4 + 32), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, it_recv(p.a, &n, sizeof(n), p.r, 0), MACH_MSG_SUCCESS);
	/* A long descriptor cut short. */
	t = (mach_msg_type_t){ .msgt_longform = 1, .msgt_inline = 1 };
	memcpy(&m.w[0], &t, 4);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 8), MACH_SEND_MSG_TOO_SMALL);
	/* An out-of-line descriptor without its address. */
	t = it_int_type;
	t.msgt_inline = 0;
	memcpy(&m.w[0], &t, 4);
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 8), MACH_SEND_MSG_TOO_SMALL);
	/* A port that is not 32 bits. */
	t = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_COPY_SEND,
		               .msgt_size = 16,
		               .msgt_number = 1,
		               .msgt_inline = 1 };
	memcpy(&m.w[0], &t, 4);
	m.w[1] = p.s;
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 8), MACH_SEND_INVALID_TYPE);
	/* A right the sender does not hold: the moved destination right is lost, nothing leaks. */
	KT_EXPECT_EQ(kt, mach_port_mod_refs(p.b, p.s, MACH_PORT_RIGHT_SEND, 1), KERN_SUCCESS);
	IT_CMSG(MACH_MSG_TYPE_MOVE_SEND);
	t.msgt_size = 32;
	memcpy(&m.w[0], &t, 4);
	m.w[1] = 0x5151;
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 8), MACH_SEND_INVALID_RIGHT);
	KT_EXPECT_EQ(kt, it_refs(p.b, p.s, MACH_PORT_RIGHT_SEND), 1);
	/* Two rights, the second bad: the first (a made send-once) is released again. */
	mach_port_name_t r2;

	KT_ASSERT_EQ(kt, mach_port_allocate(p.b, MACH_PORT_RIGHT_RECEIVE, &r2), KERN_SUCCESS);
	IT_CMSG(MACH_MSG_TYPE_COPY_SEND);
	t.msgt_name = MACH_MSG_TYPE_MAKE_SEND_ONCE;
	t.msgt_number = 2;
	memcpy(&m.w[0], &t, 4);
	m.w[1] = r2;
	m.w[2] = p.s;
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 12), MACH_SEND_INVALID_RIGHT);
	/* The send-once notification of the released right sits on r2. */

	KT_EXPECT_EQ(kt, it_recv(p.b, &n, sizeof(n), r2, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, n.h.msgh_id, MACH_NOTIFY_SEND_ONCE);
	/* Out-of-line memory at a bad address (a kernel one). */
	IT_CMSG(MACH_MSG_TYPE_COPY_SEND);
	struct ipc_io io = { .space = p.b, .map = NULL, .kern = false };
	mach_msg_type_long_t lt = { .msgtl_header = { .msgt_longform = 1, .msgt_deallocate = 0 },
		                    .msgtl_name = MACH_MSG_TYPE_BYTE,
		                    .msgtl_size = 8,
		                    .msgtl_number = 100 };
	uint64_t bad = 0xffff800000001000ull;

	memcpy(&m.w[0], &lt, 12);
	memcpy(&m.w[3], &bad, 8);
	KT_EXPECT_EQ(kt, ipc_mach_msg(&io, (uintptr_t)&m, MACH_SEND_MSG, 32 + 20, 0, 0, 0, 0),
	             MACH_SEND_INVALID_DATA); /* the kernel buffer itself is refused first */
	KT_EXPECT_EQ(kt, ipc_port_count(), nports + 1);
	KT_EXPECT_EQ(kt, it_recv(p.a, &n, sizeof(n), p.r, 0), MACH_RCV_TIMED_OUT);
	it_pair_done(kt, &p);
#undef IT_CMSG
}

KTEST(ipc_msg, body_rights)
{
	struct it_pair p;
	struct it_cmsg m;
	mach_port_name_t q, q2;

	if (!it_pair(kt, &p))
		return;
	KT_ASSERT_EQ(kt, mach_port_allocate(p.b, MACH_PORT_RIGHT_RECEIVE, &q), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, mach_port_allocate(p.b, MACH_PORT_RIGHT_RECEIVE, &q2), KERN_SUCCESS);
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_remote_port = p.s;
	mach_msg_type_t t = { .msgt_size = 32, .msgt_number = 1, .msgt_inline = 1 };

	t.msgt_name = MACH_MSG_TYPE_MOVE_RECEIVE;
	memcpy(&m.w[0], &t, 4);
	m.w[1] = q;
	t.msgt_name = MACH_MSG_TYPE_MAKE_SEND;
	t.msgt_number = 2;
	memcpy(&m.w[2], &t, 4);
	m.w[3] = q2;
	m.w[4] = q2;
	t.msgt_name = MACH_MSG_TYPE_MAKE_SEND_ONCE;
	t.msgt_number = 1;
	memcpy(&m.w[5], &t, 4);
	m.w[6] = q2;
	t.msgt_name = MACH_MSG_TYPE_COPY_SEND;
	memcpy(&m.w[7], &t, 4);
	m.w[8] = p.s;
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 36), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(p.b, q), 0xdead);
	memset(&m, 0, sizeof(m));
	KT_ASSERT_EQ(kt, it_recv(p.a, &m, sizeof(m), p.r, 0), MACH_MSG_SUCCESS);
	KT_EXPECT(kt, m.h.msgh_bits & MACH_MSGH_BITS_COMPLEX);
	memcpy(&t, &m.w[0], 4);
	KT_EXPECT_EQ(kt, t.msgt_name, MACH_MSG_TYPE_PORT_RECEIVE);
	KT_EXPECT_EQ(kt, it_type(p.a, m.w[1]), MACH_PORT_TYPE_RECEIVE);
	memcpy(&t, &m.w[2], 4);
	KT_EXPECT_EQ(kt, t.msgt_name, MACH_MSG_TYPE_PORT_SEND);
	KT_EXPECT_EQ(kt, m.w[3], m.w[4]);
	KT_EXPECT_EQ(kt, it_refs(p.a, m.w[3], MACH_PORT_RIGHT_SEND), 2);
	memcpy(&t, &m.w[5], 4);
	KT_EXPECT_EQ(kt, t.msgt_name, MACH_MSG_TYPE_PORT_SEND_ONCE);
	KT_EXPECT_EQ(kt, it_type(p.a, m.w[6]), MACH_PORT_TYPE_SEND_ONCE);
	/* The copied send right to a's own port joins its receive right's name. */
	KT_EXPECT_EQ(kt, m.w[8], p.r);
	KT_EXPECT_EQ(kt, it_type(p.a, p.r), MACH_PORT_TYPE_SEND_RECEIVE);

	/* Sending a port's own receive right to it: destroyed, not a leak. */
	mach_port_name_t self = m.w[1];
	mach_port_name_t selfsend = it_give_send(kt, p.a, self, p.a, MACH_MSG_TYPE_MAKE_SEND);

	KT_EXPECT_EQ(kt, selfsend, self);
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_remote_port = self;
	t.msgt_name = MACH_MSG_TYPE_MOVE_RECEIVE;
	memcpy(&m.w[0], &t, 4);
	m.w[1] = self;
	KT_EXPECT_EQ(kt, it_send(p.a, &m, 32 + 8), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(p.a, self), 0xdead);
	it_pair_done(kt, &p);
}

KTEST(ipc_msg, out_of_line)
{
	struct it_pair p;
	struct it_cmsg m;
	size_t size = 3 * PAGE_SIZE + 100;
	uint8_t *buf = kalloc(size);

	if (!it_pair(kt, &p) || !KT_EXPECT(kt, buf))
		return;
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 7);
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_remote_port = p.s;
	mach_msg_type_long_t lt = { .msgtl_header = { .msgt_longform = 1, .msgt_deallocate = 1 },
		                    .msgtl_name = MACH_MSG_TYPE_BYTE,
		                    .msgtl_size = 8,
		                    .msgtl_number = (natural_t)size };
	uint64_t addr = (uintptr_t)buf;

	memcpy(&m.w[0], &lt, 12);
	memcpy(&m.w[3], &addr, 8); /* at offset 44: 4 mod 8, as MIG puts it */
	KT_EXPECT_EQ(kt, it_send(p.b, &m, 32 + 20), MACH_MSG_SUCCESS); /* buf is freed */
	memset(&m, 0, sizeof(m));
	KT_ASSERT_EQ(kt, it_recv(p.a, &m, sizeof(m), p.r, 0), MACH_MSG_SUCCESS);
	memcpy(&addr, &m.w[3], 8);
	uint8_t *got = (uint8_t *)addr;
	bool same = got != NULL;

	for (size_t i = 0; same && i < size; i++)
		same = got[i] == (uint8_t)(i * 7);
	KT_EXPECT(kt, same);
	kfree(got);
	it_pair_done(kt, &p);
}

KTEST(ipc_msg, notifications)
{
	struct it_pair p;
	struct it_cmsg n;
	mach_port_name_t np, nb;
	struct ipc_port *notify, *prev;
	mach_msg_type_name_t type;

	if (!it_pair(kt, &p))
		return;
	KT_ASSERT_EQ(kt, mach_port_allocate(p.a, MACH_PORT_RIGHT_RECEIVE, &np), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, mach_port_allocate(p.b, MACH_PORT_RIGHT_RECEIVE, &nb), KERN_SUCCESS);

	/* No-senders on r: b's send right is the only one. */
	KT_ASSERT_EQ(kt,
	             mach_port_extract_right(p.a, np, MACH_MSG_TYPE_MAKE_SEND_ONCE, &notify, &type),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_request_notification(p.a, p.r, 0777, 0, notify, &prev),
	             KERN_INVALID_VALUE);
	KT_EXPECT_EQ(
	    kt, mach_port_request_notification(p.a, p.r, MACH_NOTIFY_NO_SENDERS, 0, notify, &prev),
	    KERN_SUCCESS);
	KT_EXPECT(kt, prev == NULL);
	/* Dead-name on b's send right. */
	KT_ASSERT_EQ(kt,
	             mach_port_extract_right(p.b, nb, MACH_MSG_TYPE_MAKE_SEND_ONCE, &notify, &type),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(
	    kt, mach_port_request_notification(p.b, p.s, MACH_NOTIFY_DEAD_NAME, 0, notify, &prev),
	    KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(p.b, p.s), MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST);
	/* Deallocating the send right: port-deleted to nb, then no-senders to np. */
	KT_EXPECT_EQ(kt, mach_port_deallocate(p.b, p.s), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, it_recv(p.b, &n, sizeof(n), nb, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, n.h.msgh_id, MACH_NOTIFY_PORT_DELETED);
	KT_EXPECT_EQ(kt, n.w[1], p.s);
	KT_ASSERT_EQ(kt, it_recv(p.a, &n, sizeof(n), np, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, n.h.msgh_id, MACH_NOTIFY_NO_SENDERS);
	KT_EXPECT_EQ(kt, n.w[1], 1); /* the make-send count */

	/* Dead-name: a new send right in b, then r dies. */
	p.s = it_give_send(kt, p.a, p.r, p.b, MACH_MSG_TYPE_MAKE_SEND);
	KT_ASSERT_EQ(kt,
	             mach_port_extract_right(p.b, nb, MACH_MSG_TYPE_MAKE_SEND_ONCE, &notify, &type),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(
	    kt, mach_port_request_notification(p.b, p.s, MACH_NOTIFY_DEAD_NAME, 0, notify, &prev),
	    KERN_SUCCESS);
	/* Port-destroyed on r: its receive right comes to np instead of dying... */
	KT_ASSERT_EQ(kt,
	             mach_port_extract_right(p.a, np, MACH_MSG_TYPE_MAKE_SEND_ONCE, &notify, &type),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(
	    kt,
	    mach_port_request_notification(p.a, p.r, MACH_NOTIFY_PORT_DESTROYED, 1, notify, &prev),
	    KERN_INVALID_VALUE);
	KT_EXPECT_EQ(
	    kt,
	    mach_port_request_notification(p.a, p.r, MACH_NOTIFY_PORT_DESTROYED, 0, notify, &prev),
	    KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_destroy(p.a, p.r), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_type(p.b, p.s), MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST);
	KT_ASSERT_EQ(kt, it_recv(p.a, &n, sizeof(n), np, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, n.h.msgh_id, MACH_NOTIFY_PORT_DESTROYED);
	KT_EXPECT(kt, n.h.msgh_bits & MACH_MSGH_BITS_COMPLEX);
	mach_port_name_t back = n.w[1];

	KT_EXPECT_EQ(kt, it_type(p.a, back), MACH_PORT_TYPE_RECEIVE);
	/* ... and when it is destroyed again without a request, b's name dies. */
	KT_EXPECT_EQ(kt, mach_port_destroy(p.a, back), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, it_recv(p.b, &n, sizeof(n), nb, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, n.h.msgh_id, MACH_NOTIFY_DEAD_NAME);
	KT_EXPECT_EQ(kt, n.w[1], p.s);
	KT_EXPECT_EQ(kt, it_type(p.b, p.s), MACH_PORT_TYPE_DEAD_NAME);
	KT_EXPECT_EQ(kt, it_refs(p.b, p.s, MACH_PORT_RIGHT_DEAD_NAME), 2);
	/* A dead-name request on a dead name: immediate with sync, else an error. */
	KT_ASSERT_EQ(kt,
	             mach_port_extract_right(p.b, nb, MACH_MSG_TYPE_MAKE_SEND_ONCE, &notify, &type),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(
	    kt, mach_port_request_notification(p.b, p.s, MACH_NOTIFY_DEAD_NAME, 0, notify, &prev),
	    KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(
	    kt, mach_port_request_notification(p.b, p.s, MACH_NOTIFY_DEAD_NAME, 1, notify, &prev),
	    KERN_SUCCESS);
	KT_EXPECT_EQ(kt, it_refs(p.b, p.s, MACH_PORT_RIGHT_DEAD_NAME), 3);
	KT_ASSERT_EQ(kt, it_recv(p.b, &n, sizeof(n), nb, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, n.h.msgh_id, MACH_NOTIFY_DEAD_NAME);
	/* Send-once: an unused right tells its port. */
	mach_port_name_t so = it_give_send(kt, p.b, nb, p.a, MACH_MSG_TYPE_MAKE_SEND_ONCE);

	KT_EXPECT_EQ(kt, mach_port_deallocate(p.a, so), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, it_recv(p.b, &n, sizeof(n), nb, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, n.h.msgh_id, MACH_NOTIFY_SEND_ONCE);
	KT_EXPECT_EQ(kt, n.h.msgh_size, sizeof(mach_send_once_notification_t));
	it_pair_done(kt, &p);
}

/* The hand-written kernel server: id 1000 doubles its int; anything else is unknown. */
static boolean_t it_demux(mach_msg_header_t *in, mach_msg_header_t *out)
{
	struct it_msg *req = (struct it_msg *)in, *rep = (struct it_msg *)out;

	if (in->msgh_id != 1000)
		return FALSE;
	rep->h.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->msgh_bits), 0);
	rep->h.msgh_size = sizeof(*rep);
	rep->h.msgh_remote_port = in->msgh_remote_port;
	rep->h.msgh_local_port = MACH_PORT_NULL;
	rep->h.msgh_id = in->msgh_id + 100;
	rep->t = it_int_type;
	rep->v = KERN_SUCCESS;
	/* the payload rides in RetCode's slot only for id 1000 when asked: keep it simple */
	if (req->v != 0)
		rep->v = KERN_SUCCESS;
	return TRUE;
}

KTEST(ipc_msg, kobject_dispatch)
{
	struct it_counts c = it_counts();
	struct ipc_space *b = it_space(kt);
	int obj;
	struct ipc_port *kport = ipc_kobject_alloc(IKOT_TEST, &obj);
	mach_port_name_t reply;

	KT_ASSERT(kt, b && kport);
	KT_ASSERT(kt, ipc_kobject_register(IKOT_TEST, it_demux));
	mach_port_name_t kname = ipc_kobject_send_right(b, kport);

	KT_EXPECT(kt, MACH_PORT_VALID(kname));
	KT_EXPECT_EQ(kt, ipc_kobject_lookup(b, kname, IKOT_TEST), &obj);
	KT_EXPECT(kt, ipc_kobject_lookup(b, kname, IKOT_TASK) == NULL);
	KT_ASSERT_EQ(kt, mach_port_allocate(b, MACH_PORT_RIGHT_RECEIVE, &reply), KERN_SUCCESS);
	struct it_msg m =
	    it_simple(kname, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1000, 5);

	KT_EXPECT_EQ(kt,
	             mach_msg_kernel(b, &m.h, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
	                             sizeof(m), sizeof(m), reply, 1000),
	             MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, m.h.msgh_id, 1100);
	KT_EXPECT_EQ(kt, m.v, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, m.h.msgh_local_port, reply);
	/* An unknown id: MIG_BAD_ID. */
	m = it_simple(kname, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1234, 5);
	KT_EXPECT_EQ(kt,
	             mach_msg_kernel(b, &m.h, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
	                             sizeof(m), sizeof(m), reply, 1000),
	             MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, m.h.msgh_id, 1334);
	KT_EXPECT_EQ(kt, m.v, (uint32_t)MIG_BAD_ID);
	/* The kernel space keeps nothing of either request. */
	KT_EXPECT_EQ(kt, ipc_space_kernel->nused, 0);
	ipc_kobject_unregister(IKOT_TEST, it_demux);
	/* The object dies: b's right becomes a dead name. */
	ipc_kobject_destroy(kport);
	KT_EXPECT_EQ(kt, it_type(b, kname), MACH_PORT_TYPE_DEAD_NAME);
	ipc_space_destroy(b);
	it_expect_counts(kt, c);
}

/*
 * Allocation failures swept through message paths (alloc_fail_after):
 * for n = 1, 2, ... the nth allocation of the operation fails, until one
 * run makes fewer than n.  Whatever each step answers, nothing may be
 * lost: after the spaces are gone, ports, sets, spaces, kmsgs, zone
 * objects and free pages are where they started, and a step that failed
 * did so only because the injection happened.
 */
typedef bool (*it_af_op_t)(struct ktest_ctx *kt, struct it_pair *p, unsigned *steps);

/* One step's result: fine if it succeeded, or failed once the injection was used. */
static bool it_af_step(struct ktest_ctx *kt, kern_return_t r, unsigned *steps)
{
	(*steps)++;
	if (r != KERN_SUCCESS && alloc_fail_pending() != 0) {
		ktest_diag(kt, "step %u failed (%#x) before any allocation failed", *steps,
		           (unsigned)r);
		KT_EXPECT(kt, false);
	}
	return r == KERN_SUCCESS;
}

/* Rights of every kind in a body: b sends a receive, send and send-once rights to a. */
static bool it_af_body_rights(struct ktest_ctx *kt, struct it_pair *p, unsigned *steps)
{
	struct it_cmsg m;
	mach_port_name_t q, q2;
	mach_msg_type_t t = { .msgt_size = 32, .msgt_number = 1, .msgt_inline = 1 };

	if (!it_af_step(kt, mach_port_allocate(p->b, MACH_PORT_RIGHT_RECEIVE, &q), steps) ||
	    !it_af_step(kt, mach_port_allocate(p->b, MACH_PORT_RIGHT_RECEIVE, &q2), steps))
		return false;
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_remote_port = p->s;
	t.msgt_name = MACH_MSG_TYPE_MOVE_RECEIVE;
	memcpy(&m.w[0], &t, 4);
	m.w[1] = q;
	t.msgt_name = MACH_MSG_TYPE_MAKE_SEND;
	memcpy(&m.w[2], &t, 4);
	m.w[3] = q2;
	t.msgt_name = MACH_MSG_TYPE_MAKE_SEND_ONCE;
	memcpy(&m.w[4], &t, 4);
	m.w[5] = q2;
	if (!it_af_step(kt, it_send(p->b, &m, 32 + 24), steps))
		return false;
	memset(&m, 0, sizeof(m));
	return it_af_step(kt, it_recv(p->a, &m, sizeof(m), p->r, 0), steps);
}

/* Out-of-line data (kalloc'd on both sides) from b to a. */
static bool it_af_ool(struct ktest_ctx *kt, struct it_pair *p, unsigned *steps)
{
	struct it_cmsg m;
	size_t size = 1000;
	uint8_t *buf = kalloc(size);
	uint64_t addr = (uintptr_t)buf;

	if (!it_af_step(kt, buf ? KERN_SUCCESS : KERN_RESOURCE_SHORTAGE, steps))
		return false;
	memset(buf, 0x5a, size);
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_remote_port = p->s;
	mach_msg_type_long_t lt = { .msgtl_header = { .msgt_longform = 1 },
		                    .msgtl_name = MACH_MSG_TYPE_BYTE,
		                    .msgtl_size = 8,
		                    .msgtl_number = (natural_t)size };

	memcpy(&m.w[0], &lt, 12);
	memcpy(&m.w[3], &addr, 8);
	bool sent = it_af_step(kt, it_send(p->b, &m, 32 + 20), steps);

	kfree(buf);
	if (!sent)
		return false;
	memset(&m, 0, sizeof(m));
	bool ok = it_af_step(kt, it_recv(p->a, &m, sizeof(m), p->r, 0), steps);

	memcpy(&addr, &m.w[3], 8);
	if (ok && KT_EXPECT(kt, addr != 0)) {
		KT_EXPECT_EQ(kt, ((uint8_t *)addr)[size - 1], 0x5a);
		kfree((void *)addr);
	}
	return ok;
}

/* A request with a send-once reply right from b, received in a, and its reply. */
static bool it_af_rpc(struct ktest_ctx *kt, struct it_pair *p, unsigned *steps)
{
	mach_port_name_t reply;

	if (!it_af_step(kt, mach_port_allocate(p->b, MACH_PORT_RIGHT_RECEIVE, &reply), steps))
		return false;
	struct it_msg m =
	    it_simple(p->s, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 100, 1);

	if (!it_af_step(kt, it_send(p->b, &m, sizeof(m)), steps) ||
	    !it_af_step(kt, it_recv(p->a, &m, sizeof(m), p->r, 0), steps))
		return false;
	struct it_msg rep =
	    it_simple(m.h.msgh_remote_port, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 200, 2);

	if (!it_af_step(kt, it_send(p->a, &rep, sizeof(rep)), steps))
		return false;
	return it_af_step(kt, it_recv(p->b, &rep, sizeof(rep), reply, 0), steps);
}

/* A dead-name request on b's send right, then the port's death. */
static bool it_af_notify(struct ktest_ctx *kt, struct it_pair *p, unsigned *steps)
{
	mach_port_name_t nb;
	struct ipc_port *notify, *prev;
	mach_msg_type_name_t type;

	if (!it_af_step(kt, mach_port_allocate(p->b, MACH_PORT_RIGHT_RECEIVE, &nb), steps) ||
	    !it_af_step(
	        kt, mach_port_extract_right(p->b, nb, MACH_MSG_TYPE_MAKE_SEND_ONCE, &notify, &type),
	        steps))
		return false;
	kern_return_t kr =
	    mach_port_request_notification(p->b, p->s, MACH_NOTIFY_DEAD_NAME, 0, notify, &prev);

	if (kr != KERN_SUCCESS) {
		unsigned long f = ipc_lock();

		ipc_right_release(notify, MACH_MSG_TYPE_PORT_SEND_ONCE); /* still ours */
		ipc_unlock(f);
	}
	if (!it_af_step(kt, kr, steps) || !it_af_step(kt, mach_port_destroy(p->a, p->r), steps))
		return false;
	struct it_cmsg n;

	return it_af_step(kt, it_recv(p->b, &n, sizeof(n), nb, 0), steps);
}

static void it_af_sweep(struct ktest_ctx *kt, const char *name, it_af_op_t op)
{
	unsigned n, failed = 0;

	for (n = 1; n <= 64; n++) {
		struct it_pair p;
		unsigned steps = 0;
		uint64_t objects = zone_objects_in_use(), pages = vm_page_free_count();

		if (!it_pair(kt, &p))
			return;
		alloc_fail_after(n);
		bool ok = op(kt, &p, &steps);
		bool injected = alloc_fail_pending() == 0;

		alloc_fail_after(0);
		it_pair_done(kt, &p);
		KT_EXPECT_EQ(kt, zone_objects_in_use(), objects);
		KT_EXPECT_EQ(kt, vm_page_free_count(), pages);
		failed += !ok;
		if (!injected) {
			/* n allocations were more than the operation makes: it ran whole. */
			KT_EXPECT(kt, ok);
			break;
		}
	}
	ktest_diag(kt, "%s: %u allocation failures swept, %u runs stopped by one", name, n - 1,
	           failed);
	KT_EXPECT(kt, n > 1 && n <= 64); /* it allocates, and not without end */
}

KTEST(ipc_msg, allocation_failures)
{
	it_af_sweep(kt, "body rights", it_af_body_rights);
	it_af_sweep(kt, "out-of-line", it_af_ool);
	it_af_sweep(kt, "rpc", it_af_rpc);
	it_af_sweep(kt, "dead-name notification", it_af_notify);
}

/*
 * The user path without a user program: a kernel thread loads a task's
 * map and runs mach_msg on user addresses in it, with the task's space.
 */
KTEST(ipc_msg, user_buffers_and_ool)
{
	struct it_counts c = it_counts();
	struct task *task;
	uintptr_t ubuf = 0, uool = 0;
	size_t osize = 2 * PAGE_SIZE + 10;

	KT_ASSERT_EQ(kt, task_create("ipc-user", &task), KERN_SUCCESS);
	struct vm_map *old = vm_map_active();
	struct ipc_io io = { .space = task->itk_space, .map = task->map, .kern = false };
	mach_port_name_t r;

	vm_map_activate(task->map);
	KT_EXPECT_EQ(kt, vm_allocate(task->map, &ubuf, PAGE_SIZE, true), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_allocate(task->map, &uool, osize, true), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, mach_port_allocate(task->itk_space, MACH_PORT_RIGHT_RECEIVE, &r),
	             KERN_SUCCESS);
	uint8_t pat[64];

	for (unsigned i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i + 1);
	KT_EXPECT_EQ(kt, vm_write(task->map, uool + PAGE_SIZE, pat, sizeof(pat)), KERN_SUCCESS);
	struct it_cmsg m;

	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_remote_port = r;
	m.h.msgh_id = 9;
	mach_msg_type_long_t lt = { .msgtl_header = { .msgt_longform = 1, .msgt_deallocate = 1 },
		                    .msgtl_name = MACH_MSG_TYPE_BYTE,
		                    .msgtl_size = 8,
		                    .msgtl_number = (natural_t)osize };
	uint64_t a = uool;

	memcpy(&m.w[0], &lt, 12);
	memcpy(&m.w[3], &a, 8);
	KT_EXPECT_EQ(kt, vm_write(task->map, ubuf, &m, 52), KERN_SUCCESS);
	/* Send then receive into the same user buffer. */
	KT_EXPECT_EQ(kt,
	             ipc_mach_msg(&io, ubuf, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, 52,
	                          64, r, 100, 0),
	             MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, vm_read(task->map, ubuf, &m, 52), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, m.h.msgh_id, 9);
	KT_EXPECT_EQ(kt, m.h.msgh_local_port, r);
	memcpy(&a, &m.w[3], 8);
	uint8_t got[64];

	KT_EXPECT(kt, a != 0); /* (the sender's region went first: it may be the same place) */
	KT_EXPECT_EQ(kt, vm_read(task->map, a + PAGE_SIZE, got, sizeof(got)), KERN_SUCCESS);
	KT_EXPECT(kt, memcmp(got, pat, sizeof(pat)) == 0);
	/* Hostile buffers: unmapped, kernel addresses, unmapped out-of-line data. */
	KT_EXPECT_EQ(kt, ipc_mach_msg(&io, 0x10, MACH_SEND_MSG, 40, 0, 0, 0, 0),
	             MACH_SEND_INVALID_DATA);
	KT_EXPECT_EQ(kt, ipc_mach_msg(&io, 0xffffffff80100000ul, MACH_SEND_MSG, 40, 0, 0, 0, 0),
	             MACH_SEND_INVALID_DATA);
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_remote_port = r;
	m.h.msgh_local_port = MACH_PORT_NULL;
	a = 0x7000000000ul;
	memcpy(&m.w[3], &a, 8);
	KT_EXPECT_EQ(kt, vm_write(task->map, ubuf, &m, 52), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ipc_mach_msg(&io, ubuf, MACH_SEND_MSG, 52, 0, 0, 0, 0),
	             MACH_SEND_INVALID_MEMORY);
	struct it_msg s = it_simple(r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 3, 3);

	KT_EXPECT_EQ(kt, vm_write(task->map, ubuf, &s, sizeof(s)), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ipc_mach_msg(&io, ubuf, MACH_SEND_MSG, sizeof(s), 0, 0, 0, 0),
	             MACH_MSG_SUCCESS);
	/* Deliberately unlike GNU Mach: no receive into kernel memory (docs/ipc.md). */
	KT_EXPECT_EQ(kt,
	             ipc_mach_msg(&io, 0xffffffff80100000ul, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, 64,
	                          r, 0, 0),
	             MACH_RCV_INVALID_DATA);
	KT_EXPECT_EQ(kt, ipc_mach_msg(&io, ubuf, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, 64, r, 0, 0),
	             MACH_RCV_TIMED_OUT);
	vm_map_activate(old);
	task_terminate(task);
	KT_EXPECT(kt, task_wait(task, 1000000000ull));
	task_deallocate(task);
	it_expect_counts(kt, c);
}

/*
 * The traps from ring 3: mach_reply_port, then a message to it with
 * mach_msg_trap(SEND|RCV); exits with the received msgh_id (77), or the
 * mach_msg error, or 1 if the reply port did not come back as the local
 * port.
 */
extern const char it_um_rpc[], it_um_rpc_end[];
/* mach_task_self twice (equal, valid), mach_host_self, mach_thread_self: exit 0, else 1..4. */
extern const char it_um_self[], it_um_self_end[];
/*
 * A header-only request, id 2000, to the kernel object named by rdi with
 * a MAKE_SEND_ONCE reply right, in one mach_msg_trap(SEND|RCV) (the fast
 * path); exits with the received msgh_id, or the mach_msg error.
 */
extern const char it_um_kcall[], it_um_kcall_end[];

_Static_assert(MACH_TRAP_mach_msg_trap == -25 && MACH_TRAP_mach_reply_port == -26 &&
                   MACH_TRAP_mach_thread_self == -27 && MACH_TRAP_mach_task_self == -28 &&
                   MACH_TRAP_mach_host_self == -29 && KTEST_TRAP_task_exit == -103,
               "the programs below hard-code these");

__asm__(".pushsection .rodata\n"
        "	.balign 16\n"
        "it_um_rpc:\n"
        "	mov	$-26, %rax\n"
        "	syscall\n"
        "	mov	%eax, %ebx\n"
        "	sub	$64, %rsp\n"
        "	movl	$20, 0(%rsp)\n"
        "	movl	$32, 4(%rsp)\n"
        "	movq	%rbx, 8(%rsp)\n"
        "	movq	$0, 16(%rsp)\n"
        "	movl	$0, 24(%rsp)\n"
        "	movl	$77, 28(%rsp)\n"
        "	mov	%rsp, %rdi\n"
        "	mov	$3, %esi\n"
        "	mov	$32, %edx\n"
        "	mov	$64, %r10d\n"
        "	mov	%ebx, %r8d\n"
        "	xor	%r9d, %r9d\n"
        "	mov	$-25, %rax\n"
        "	syscall\n"
        "	mov	%eax, %edi\n"
        "	test	%eax, %eax\n"
        "	jnz	1f\n"
        "	mov	$1, %edi\n"
        "	cmpl	%ebx, 16(%rsp)\n"
        "	jne	1f\n"
        "	mov	28(%rsp), %edi\n"
        "1:	mov	$-103, %rax\n"
        "	syscall\n"
        "it_um_rpc_end:\n"
        "it_um_self:\n"
        "	mov	$-28, %rax\n"
        "	syscall\n"
        "	mov	%eax, %ebx\n"
        "	mov	$1, %edi\n"
        "	test	%eax, %eax\n"
        "	jz	1f\n"
        "	mov	$-28, %rax\n"
        "	syscall\n"
        "	mov	$2, %edi\n"
        "	cmp	%eax, %ebx\n"
        "	jne	1f\n"
        "	mov	$-29, %rax\n"
        "	syscall\n"
        "	mov	$3, %edi\n"
        "	test	%eax, %eax\n"
        "	jz	1f\n"
        "	mov	$-27, %rax\n"
        "	syscall\n"
        "	mov	$4, %edi\n"
        "	test	%eax, %eax\n"
        "	jz	1f\n"
        "	xor	%edi, %edi\n"
        "1:	mov	$-103, %rax\n"
        "	syscall\n"
        "it_um_self_end:\n"
        "it_um_kcall:\n"
        "	mov	%edi, %r12d\n"
        "	mov	$-26, %rax\n"
        "	syscall\n"
        "	mov	%eax, %ebx\n"
        "	sub	$64, %rsp\n"
        "	movl	$0x1513, 0(%rsp)\n" /* COPY_SEND, MAKE_SEND_ONCE */
        "	movl	$32, 4(%rsp)\n"
        "	movq	%r12, 8(%rsp)\n"
        "	movq	%rbx, 16(%rsp)\n"
        "	movl	$0, 24(%rsp)\n"
        "	movl	$2000, 28(%rsp)\n"
        "	mov	%rsp, %rdi\n"
        "	mov	$0x103, %esi\n" /* SEND | RCV | RCV_TIMEOUT */
        "	mov	$32, %edx\n"
        "	mov	$64, %r10d\n"
        "	mov	%ebx, %r8d\n"
        "	mov	$1000, %r9d\n"
        "	mov	$-25, %rax\n"
        "	syscall\n"
        "	mov	%eax, %edi\n"
        "	test	%eax, %eax\n"
        "	jnz	1f\n"
        "	mov	28(%rsp), %edi\n"
        "1:	mov	$-103, %rax\n"
        "	syscall\n"
        "it_um_kcall_end:\n"
        ".popsection\n");

#define IT_UM_CODE 0x400000ul
#define IT_UM_STACK 0x600000ul

/*
 * Runs code in a new task; its exit status, or -1.  kport (if not NULL):
 * the task gets a send right to it, whose name is the thread's rdi.
 */
static int it_um_run_port(struct ktest_ctx *kt, const char *code, const char *end,
                          struct ipc_port *kport)
{
	struct task *task;
	mach_port_name_t kname = MACH_PORT_NULL;
	uintptr_t ca = IT_UM_CODE, sa = IT_UM_STACK;
	int status = -1;

	if (!KT_EXPECT_EQ(kt, task_create("ipc-um", &task), KERN_SUCCESS))
		return -1;
	if (KT_EXPECT_EQ(kt, vm_allocate(task->map, &ca, PAGE_SIZE, false), KERN_SUCCESS) &&
	    KT_EXPECT_EQ(kt, vm_write(task->map, ca, code, end - code), KERN_SUCCESS) &&
	    KT_EXPECT_EQ(
	        kt, vm_protect(task->map, ca, PAGE_SIZE, false, VM_PROT_READ | VM_PROT_EXECUTE),
	        KERN_SUCCESS) &&
	    KT_EXPECT_EQ(kt, vm_allocate(task->map, &sa, 2 * PAGE_SIZE, false), KERN_SUCCESS) &&
	    (kport == NULL || KT_EXPECT(kt, MACH_PORT_VALID(kname = ipc_kobject_send_right(
	                                                        task->itk_space, kport)))) &&
	    KT_EXPECT_EQ(kt, thread_create_user(task, ca, sa + 2 * PAGE_SIZE, kname, NULL),
	                 KERN_SUCCESS)) {
		if (KT_EXPECT(kt, task_wait(task, 10000000000ull)) && task->end == TASK_EXITED)
			status = task->exit_status;
	}
	task_terminate(task);
	task_wait(task, 10000000000ull);
	task_deallocate(task);
	return status;
}

static int it_um_run(struct ktest_ctx *kt, const char *code, const char *end)
{
	return it_um_run_port(kt, code, end, NULL);
}

KTEST(ipc_msg, user_traps)
{
	struct it_counts c = it_counts();

	KT_EXPECT_EQ(kt, it_um_run(kt, it_um_rpc, it_um_rpc_end), 77);
	KT_EXPECT_EQ(kt, it_um_run(kt, it_um_self, it_um_self_end), 0);
	it_expect_counts(kt, c);
}

/* Id 2000: a server that keeps no reply right and sends no reply (MIG_NO_REPLY). */
static boolean_t it_noreply_demux(mach_msg_header_t *in, mach_msg_header_t *out)
{
	mig_reply_header_t *r = (mig_reply_header_t *)out;

	if (in->msgh_id != 2000)
		return FALSE;
	r->Head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->msgh_bits), 0);
	r->Head.msgh_size = sizeof(*r);
	r->Head.msgh_remote_port = in->msgh_remote_port;
	r->Head.msgh_id = in->msgh_id + 100;
	r->RetCode = MIG_NO_REPLY;
	return TRUE;
}

/* A server that knows no id: the next in the row must be asked. */
static boolean_t it_decline_demux(mach_msg_header_t *in, mach_msg_header_t *out)
{
	return FALSE;
}

/* id 2000: the usual simple reply, id 2100, KERN_SUCCESS. */
static boolean_t it_reply_demux(mach_msg_header_t *in, mach_msg_header_t *out)
{
	mig_reply_header_t *r = (mig_reply_header_t *)out;

	if (in->msgh_id != 2000)
		return FALSE;
	r->Head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->msgh_bits), 0);
	r->Head.msgh_size = sizeof(*r);
	r->Head.msgh_remote_port = in->msgh_remote_port;
	r->Head.msgh_id = in->msgh_id + 100;
	r->RetCodeType = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_INTEGER_32,
		                            .msgt_size = 32,
		                            .msgt_number = 1,
		                            .msgt_inline = 1 };
	r->RetCode = KERN_SUCCESS;
	return TRUE;
}

/*
 * The fast kernel RPC from ring 3 through a row of two servers (the first
 * declines), with the static reply buffer free and then held (as by a
 * request another thread is in the middle of): the same reply both
 * times, and the held buffer left alone, its holder's (the second call's
 * reply buffer came from kalloc).
 */
KTEST(ipc_msg, user_kernel_rpc_buffer_busy)
{
	struct it_counts c = it_counts();
	int obj;
	struct ipc_port *kport = ipc_kobject_alloc(IKOT_TEST, &obj);

	KT_ASSERT(kt, kport != NULL);
	KT_ASSERT(kt, ipc_kobject_register(IKOT_TEST, it_decline_demux));
	KT_ASSERT(kt, ipc_kobject_register(IKOT_TEST, it_reply_demux));
	KT_EXPECT_EQ(kt, it_um_run_port(kt, it_um_kcall, it_um_kcall_end, kport), 2100);
	KT_EXPECT(kt, !__atomic_load_n(&ipc_kobject_out_busy, __ATOMIC_RELAXED));
	__atomic_store_n(&ipc_kobject_out_busy, true, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(kt, it_um_run_port(kt, it_um_kcall, it_um_kcall_end, kport), 2100);
	KT_EXPECT(kt, __atomic_load_n(&ipc_kobject_out_busy, __ATOMIC_RELAXED));
	__atomic_store_n(&ipc_kobject_out_busy, false, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(kt, ipc_space_kernel->nused, 0);
	ipc_kobject_unregister(IKOT_TEST, it_reply_demux);
	ipc_kobject_unregister(IKOT_TEST, it_decline_demux);
	ipc_kobject_destroy(kport);
	it_expect_counts(kt, c);
}

/*
 * mach_msg's fast kernel RPC when the server sends no reply: the reply
 * right it was given is destroyed, so the caller's receive gets the
 * send-once notification (as the general path and Mach do), and nothing
 * is left in the kernel space.
 */
KTEST(ipc_msg, user_kernel_rpc_without_reply)
{
	struct it_counts c = it_counts();
	int obj;
	struct ipc_port *kport = ipc_kobject_alloc(IKOT_TEST, &obj);

	KT_ASSERT(kt, kport != NULL);
	KT_ASSERT(kt, ipc_kobject_register(IKOT_TEST, it_noreply_demux));
	KT_EXPECT_EQ(kt, it_um_run_port(kt, it_um_kcall, it_um_kcall_end, kport),
	             MACH_NOTIFY_SEND_ONCE);
	KT_EXPECT_EQ(kt, ipc_space_kernel->nused, 0);
	ipc_kobject_unregister(IKOT_TEST, it_noreply_demux);
	ipc_kobject_destroy(kport);
	it_expect_counts(kt, c);
}
