/*
 * mach_msg: send, receive, and send-then-receive (the RPC path).
 *
 * Send: the message is read and copied in (ipc_kmsg.c), then queued on
 * its destination.  A full queue (msgcount >= qlimit) blocks the sender
 * until a receive makes room, the timeout passes (MACH_SEND_TIMEOUT:
 * MACH_SEND_TIMED_OUT) or the thread is interrupted; messages on a
 * send-once right always go through, as in Mach.  A message that cannot
 * be sent after its copyin (timeout, interruption, the port died) goes
 * back to the sender's buffer with its rights, as GNU Mach's
 * "pseudo-receive" does.  A message to a kernel object's port is
 * dispatched at once, in the sender's thread (ipc_kobject.c).
 *
 * Receive: from a port (not in a set: MACH_RCV_IN_SET) or a port set.
 * A message bigger than rcv_size is left queued with MACH_RCV_LARGE
 * (msgh_size tells the size needed), else it is dequeued and destroyed
 * and only its header is written back, as GNU Mach does; both return
 * MACH_RCV_TOO_LARGE.
 *
 * Deliberate deviation from GNU Mach: a receive into a buffer at a
 * kernel address fails with MACH_RCV_INVALID_DATA (GNU Mach writes the
 * message there); see docs/ipc.md.
 */
#include <stddef.h>

#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_kobject.h"
#include "ipc/ipc_kobject_rpc.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "kern/perf_analysis.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "vm/vm_copy.h"
#include "x86_64/cpu.h"
#include "x86_64/syscall.h"
#include "x86_64/trap.h"

#define MS_NS 1000000ull

/* ipc_mqueue_send with the lock taken (f: its saved flags); returns unlocked. */
static mach_msg_return_t mqueue_send_locked(struct ipc_kmsg *kmsg, mach_msg_option_t option,
                                            mach_msg_timeout_t timeout, unsigned long f)
{
	struct ipc_port *port = kmsg->remote;
	bool always =
	    (option & MACH_SEND_ALWAYS) || kmsg->remote_type == MACH_MSG_TYPE_PORT_SEND_ONCE;

	if (kmsg->circular) {
		/* It carries its destination's receive right: nobody could ever receive it. */
		ipc_kmsg_destroy(kmsg);
		ipc_unlock(f);
		return MACH_MSG_SUCCESS;
	}
	for (;;) {
		if (!port->active) {
			ipc_unlock(f);
			return MACH_SEND_INVALID_DEST;
		}
		if (port->kotype != IKOT_NONE) {
			ipc_unlock(f);
			ipc_kobject_dispatch(kmsg);
			return MACH_MSG_SUCCESS;
		}
		if (ipc_mqueue_enqueue(kmsg, always)) {
			ipc_unlock(f);
			return MACH_MSG_SUCCESS;
		}
		if ((option & MACH_SEND_TIMEOUT) && timeout == 0) {
			ipc_unlock(f);
			return MACH_SEND_TIMED_OUT;
		}
		thread_assert_wait(&port->msgcount);
		if (option & MACH_SEND_TIMEOUT)
			thread_set_timeout(timeout * MS_NS);
		ipc_unlock(f);
		int r = thread_block();

		f = ipc_lock();
		if (r == THREAD_TIMED_OUT) {
			ipc_unlock(f);
			return MACH_SEND_TIMED_OUT;
		}
		if (r == THREAD_INTERRUPTED) {
			ipc_unlock(f);
			return MACH_SEND_INTERRUPTED;
		}
	}
}

mach_msg_return_t ipc_mqueue_send(struct ipc_kmsg *kmsg, mach_msg_option_t option,
                                  mach_msg_timeout_t timeout)
{
	return mqueue_send_locked(kmsg, option, timeout, ipc_lock());
}

/* [i] The first message of port or of any member of pset, dequeued if it fits. */
static struct ipc_kmsg *mqueue_take(struct ipc_port *port, mach_msg_size_t rcv_size, bool large,
                                    mach_msg_return_t *mr, mach_port_seqno_t *seqno)
{
	struct ipc_kmsg *kmsg = port->q_head;

	if (kmsg->size > rcv_size && large) {
		*mr = MACH_RCV_TOO_LARGE;
		return kmsg;
	}
	port->q_head = kmsg->next;
	if (port->q_head == NULL)
		port->q_tail = NULL;
	port->msgcount--;
	*seqno = port->seqno++;
	thread_wakeup_one(&port->msgcount);
	*mr = kmsg->size > rcv_size ? MACH_RCV_TOO_LARGE : MACH_MSG_SUCCESS;
	return kmsg;
}

/*
 * Waits for a message on name.  Returns it dequeued with MACH_MSG_SUCCESS,
 * or MACH_RCV_TOO_LARGE with *kmsgp the dequeued message (not RCV_LARGE)
 * or NULL and *needed its size (RCV_LARGE); else an error.
 */
static mach_msg_return_t mqueue_receive(struct ipc_space *space, mach_port_name_t name,
                                        mach_msg_option_t option, mach_msg_size_t rcv_size,
                                        mach_msg_timeout_t timeout, struct ipc_kmsg **kmsgp,
                                        mach_port_seqno_t *seqno, mach_msg_size_t *needed)
{
	unsigned long f = ipc_lock();
	struct ipc_entry *e = ipc_entry_lookup(space, name);
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	struct ipc_port *port = NULL;
	struct ipc_pset *pset = NULL;

	if (e == NULL || !(e->type & (MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_PORT_SET))) {
		ipc_unlock(f);
		return MACH_RCV_INVALID_NAME;
	}
	if (e->type & MACH_PORT_TYPE_PORT_SET) {
		pset = e->object;
		pset->refs++;
	} else {
		port = e->object;
		if (port->pset) {
			ipc_unlock(f);
			return MACH_RCV_IN_SET;
		}
		port->refs++;
	}
	for (;;) {
		struct ipc_port *from = NULL;

		if (pset) {
			if (!pset->active) {
				mr = MACH_RCV_PORT_DIED;
				break;
			}
			for (struct ipc_port *m = pset->members; m; m = m->pset_next)
				if (m->q_head) {
					from = m;
					break;
				}
		} else {
			if (!port->active || port->receiver != space) {
				mr = MACH_RCV_PORT_DIED;
				break;
			}
			if (port->pset) {
				mr = MACH_RCV_PORT_CHANGED;
				break;
			}
			if (port->q_head)
				from = port;
		}
		if (from) {
			struct ipc_kmsg *kmsg =
			    mqueue_take(from, rcv_size, option & MACH_RCV_LARGE, &mr, seqno);

			if (mr == MACH_RCV_TOO_LARGE && (option & MACH_RCV_LARGE)) {
				*needed = kmsg->size;
				*kmsgp = NULL;
			} else {
				*kmsgp = kmsg;
			}
			break;
		}
		if ((option & MACH_RCV_TIMEOUT) && timeout == 0) {
			mr = MACH_RCV_TIMED_OUT;
			break;
		}
		thread_assert_wait(pset ? (event_t)&pset->members : (event_t)&port->q_head);
		if (option & MACH_RCV_TIMEOUT)
			thread_set_timeout(timeout * MS_NS);
		ipc_unlock(f);
		int r = thread_block();

		f = ipc_lock();
		if (r == THREAD_INTERRUPTED) {
			mr = MACH_RCV_INTERRUPTED;
			break;
		}
		if (r == THREAD_TIMED_OUT) {
			/* One more look: a message may have come with the timeout. */
			option |= MACH_RCV_TIMEOUT;
			timeout = 0;
		}
	}
	if (pset)
		ipc_pset_release(pset);
	else
		ipc_port_release(port);
	ipc_unlock(f);
	return mr;
}

/* The options the direct hand-offs handle; anything else takes the general path. */
#define DIRECT_OPTIONS                                                                             \
	(MACH_SEND_MSG | MACH_RCV_MSG | MACH_SEND_TIMEOUT | MACH_RCV_TIMEOUT | MACH_RCV_LARGE |    \
	 MACH_SEND_INTERRUPT | MACH_RCV_INTERRUPT)

/*
 * The send half of a send-then-receive whose message can be received at
 * once by this very call (GNU Mach's RPC fast paths), without queueing
 * and a wakeup, a receive lookup and a dequeue:
 *   - a message to a port the caller receives as rcv_name (a self round
 *     trip): the message itself is what the receive gets;
 *   - a request to a kernel object whose reply right is a send-once right
 *     to rcv_name: the kernel serves it in this thread and its reply is
 *     what the receive gets.
 * The receive must be able to take it whole (size <= rcv_size) and the
 * port must be as ipc_port_direct_ok says; then the port's sequence number
 * advances as a dequeue would.  Returns the message to copy out with
 * *seqno set, or NULL with *mr the send's result and the general receive
 * to follow (a kernel reply that cannot be handed over is queued as
 * usual).
 */
/*
 * A kernel object's reply (NULL: none) to a request whose reply right
 * went to reply_port, which this thread receives as rcv_name: returns it
 * with *seqno set when it can go straight to this receive (as
 * ipc_port_direct_ok says, and it fits rcv_size), else queues it as any
 * reply (destroyed if even that fails) and returns NULL.  reply_port is
 * only compared unless the reply holds a right to it.
 */
static __attribute__((noinline)) struct ipc_kmsg *
reply_take(struct ipc_space *space, struct ipc_kmsg *reply, struct ipc_port *reply_port,
           mach_msg_size_t rcv_size, mach_port_name_t rcv_name, mach_port_seqno_t *seqno)
{
	if (reply == NULL)
		return NULL;

	unsigned long f = ipc_lock();

	if (reply->remote == reply_port && !reply->circular && reply->size <= rcv_size &&
	    ipc_port_direct_ok(space, reply_port, rcv_name)) {
		*seqno = reply_port->seqno++;
		ipc_unlock(f);
		return reply;
	}
	if (mqueue_send_locked(reply, MACH_SEND_ALWAYS, 0, f) != MACH_MSG_SUCCESS)
		ipc_kmsg_destroy_unlocked(reply);
	return NULL;
}

static struct ipc_kmsg *send_direct(struct ipc_space *space, struct ipc_kmsg *kmsg,
                                    mach_msg_option_t option, mach_msg_timeout_t timeout,
                                    mach_msg_size_t rcv_size, mach_port_name_t rcv_name,
                                    mach_port_seqno_t *seqno, mach_msg_return_t *mr)
{
	struct ipc_port *dest = kmsg->remote;
	unsigned long f = ipc_lock();

	if (!kmsg->circular && kmsg->size <= rcv_size && kmsg->nitems == 0 &&
	    ipc_port_direct_ok(space, dest, rcv_name)) {
		*seqno = dest->seqno++;
		ipc_unlock(f);
		*mr = MACH_MSG_SUCCESS;
		return kmsg;
	}
	struct ipc_port *reply_port = kmsg->local;

	if (!kmsg->circular && dest->active && dest->kotype != IKOT_NONE &&
	    kmsg->local_type == MACH_MSG_TYPE_PORT_SEND_ONCE &&
	    ipc_port_direct_ok(space, reply_port, rcv_name)) {
		ipc_unlock(f);
		struct ipc_kmsg *reply = ipc_kobject_serve(kmsg);

		*mr = MACH_MSG_SUCCESS;
		return reply_take(space, reply, reply_port, rcv_size, rcv_name, seqno);
	}
	*mr = mqueue_send_locked(kmsg, option & MACH_SEND_TIMEOUT, timeout, f);
	return NULL;
}

/* The receive half of mach_msg. */
static mach_msg_return_t msg_receive(const struct ipc_io *io, uintptr_t msg,
                                     mach_msg_option_t option, mach_msg_size_t rcv_size,
                                     mach_port_name_t rcv_name, mach_msg_timeout_t timeout)
{
	mach_msg_return_t mr;
	struct ipc_kmsg *kmsg = NULL;
	mach_port_seqno_t seqno = 0;
	mach_msg_size_t needed = 0;

	/* IPC_RECEIVE: the wait and dequeue, timed (the copyout is the receiver's cost). */
	PERF_TIME_BLOCK(PERF_EVENT_IPC_RECEIVE, perf_cur_task_id(), perf_cur_thread_id(),
	                kmsg ? kmsg->size : needed, rcv_name, {
		                mr = mqueue_receive(io->space, rcv_name, option, rcv_size, timeout,
		                                    &kmsg, &seqno, &needed);
	                });
	if (mr == MACH_RCV_TOO_LARGE) {
		if (kmsg == NULL) {
			/* MACH_RCV_LARGE: the message stays; the caller learns its size. */
			if (rcv_size >= offsetof(mach_msg_header_t, msgh_remote_port))
				(void)ipc_io_write(io, &needed,
				                   msg + offsetof(mach_msg_header_t, msgh_size),
				                   sizeof(needed));
			return mr;
		}
		/* Dequeued and destroyed; the header says what it was. */
		mach_msg_header_t h = kmsg->msg;

		h.msgh_bits = MACH_MSGH_BITS(0, kmsg->remote_type);
		h.msgh_remote_port = MACH_PORT_NULL;
		h.msgh_local_port = rcv_name;
		h.msgh_seqno = seqno;
		ipc_kmsg_destroy_unlocked(kmsg);
		if (rcv_size >= sizeof(h))
			(void)ipc_io_write(io, &h, msg, sizeof(h));
		return mr;
	}
	if (mr != MACH_MSG_SUCCESS)
		return mr;
	return ipc_kmsg_copyout(io, kmsg, msg, seqno, false);
}

mach_msg_return_t mach_msg_fast_reply(const struct ipc_io *io, struct ipc_kmsg *reply,
                                      struct ipc_port *reply_port, uintptr_t msg,
                                      mach_msg_option_t option, mach_msg_size_t rcv_size,
                                      mach_port_name_t rcv_name, mach_msg_timeout_t timeout)
{
	mach_port_seqno_t seqno = 0;

	reply = reply_take(io->space, reply, reply_port, rcv_size, rcv_name, &seqno);
	if (reply) {
		PERF_TIME_BLOCK(PERF_EVENT_IPC_RECEIVE, perf_cur_task_id(), perf_cur_thread_id(),
		                reply->size, rcv_name, {});
		return ipc_kmsg_copyout(io, reply, msg, seqno, false);
	}
	return msg_receive(io, msg, option, rcv_size, rcv_name, timeout);
}

/*
 * The fast paths of a send-then-receive (GNU Mach has its own in
 * mach_msg_trap; this one is ours).  A small simple message (no COMPLEX
 * bit, at most FAST_MAX bytes) sent on a copy-send right is handled on a
 * copy on the stack: no kmsg, no right moved into or out of a message,
 * no kernel-space names.  Two shapes qualify:
 *   - self: no reply right, to a port the caller receives as rcv_name
 *     that ipc_port_direct_ok accepts, and it fits rcv_size: the message is
 *     written back as its receive would see it (the send right carried
 *     and released again cancel out, as a copy-send does);
 *   - kernel RPC: to a kernel object, the reply right MAKE_SEND_ONCE of
 *     rcv_name, a receive right: ipc_kobject_rpc_serve serves it here, and
 *     a simple reply that fits is written as received when
 *     ipc_port_direct_ok then accepts the reply port (the reply right made
 *     here and used up by it); any other reply, or a reply port with
 *     messages queued, in a set or otherwise not direct, goes the general
 *     way (a kmsg, handed over or queued) and the general receive
 *     follows, as it would have after a general send.
 * The caller sees what the general path gives it, IPC_SEND and
 * IPC_RECEIVE events included.  Whatever does not qualify is found out
 * before anything changed, and takes the general path (false).
 */
#define FAST_MAX 256

union fast_buf {
	mach_msg_header_t h;
	uint8_t b[FAST_MAX];
};

/*
 * [i] The port behind name in space if its entry holds one of the rights
 * in types, else NULL.  No dead-name turn (ipc_entry_lookup's): the
 * callers check the port is active and leave a dead one to the general
 * path, which does it.  Index 0 is never an entry, and a terminated
 * space has no rights left.
 */
static inline __attribute__((always_inline)) struct ipc_port *
fast_right(struct ipc_space *space, mach_port_name_t name, mach_port_type_t types)
{
	uint32_t index = IE_INDEX(name);

	if (index - 1 >= space->size - 1)
		return NULL;
	struct ipc_entry *e = &space->table[index];

	return (e->type & types) && e->gen == IE_GEN(name) ? e->object : NULL;
}

/* The end of fast_kernel_rpc when the reply is not a simple one it can write at once. */
static __attribute__((noinline)) mach_msg_return_t
fast_kernel_rpc_finish(struct task *task, const struct trap_frame *tf, mach_msg_header_t *out,
                       struct ipc_kmsg *reply, struct ipc_port *reply_port)
{
	struct ipc_io io = { .space = task->itk_space, .map = task->map, .kern = false };

	return ipc_kobject_rpc_finish(
	    &io, out, reply, reply_port, syscall_arg(tf, 0), (mach_msg_option_t)syscall_arg(tf, 1),
	    (mach_msg_size_t)syscall_arg(tf, 3), (mach_port_name_t)syscall_arg(tf, 4),
	    (mach_msg_timeout_t)syscall_arg(tf, 5));
}

/*
 * The kernel RPC fast path once the server has run: out the simple reply
 * (NULL: none), reply any other as a kmsg.  Drops the reference on dest
 * and hands the reply to this receive (the reply right used up) when it
 * fits and the reply port allows it, else finishes the general way.
 */
static inline __attribute__((always_inline)) mach_msg_return_t
kobject_rpc_reply(const struct trap_frame *tf, struct ipc_port *dest, struct ipc_port *reply_port,
                  mach_msg_header_t *out, struct ipc_kmsg *reply)
{
	struct task *task = thread_current()->task;
	struct ipc_space *space = task->itk_space;
	mach_port_name_t rcv_name = (mach_port_name_t)syscall_arg(tf, 4);
	unsigned long f = ipc_lock();

	ipc_port_release(dest);
	if (out && out->msgh_size <= (mach_msg_size_t)syscall_arg(tf, 3) &&
	    ipc_port_direct_ok(space, reply_port, rcv_name)) {
		mach_port_seqno_t seqno = reply_port->seqno++;

		/* The reply right is used up by its message: no send-once notification. */
		reply_port->sorights--;
		ipc_port_release(reply_port);
		ipc_unlock(f);
		PERF_TIME_BLOCK(PERF_EVENT_IPC_RECEIVE, perf_cur_task_id(), perf_cur_thread_id(),
		                out->msgh_size, rcv_name, {});
		mach_msg_return_t mr =
		    mach_msg_fast_copyout(syscall_arg(tf, 0), out, out->msgh_size,
		                          MACH_MSG_TYPE_PORT_SEND_ONCE, rcv_name, seqno);

		ipc_kobject_out_put(out);
		return mr;
	}
	ipc_unlock(f);
	return fast_kernel_rpc_finish(task, tf, out, reply, reply_port);
}

/*
 * The kernel RPC fast path once its two rights are found and referenced
 * (dest, and the reply right made to reply_port): serves h, then
 * kobject_rpc_reply.
 */
static inline __attribute__((always_inline)) mach_msg_return_t
kobject_rpc_serve_reply(const struct trap_frame *tf, mach_msg_header_t *h,
                        mach_msg_size_t send_size, struct ipc_port *dest,
                        struct ipc_port *reply_port)
{
	mach_port_name_t dname = h->msgh_remote_port;
	struct ipc_kmsg *reply = NULL;
	mach_msg_header_t *out = NULL;

	/* IPC_SEND: the send proper, here the kernel's service, timed as on the general path. */
	PERF_TIME_BLOCK(PERF_EVENT_IPC_SEND, perf_cur_task_id(), perf_cur_thread_id(), send_size,
	                dname,
	                { out = ipc_kobject_rpc_serve(dest, h, send_size, reply_port, &reply); });
	return kobject_rpc_reply(tf, dest, reply_port, out, reply);
}

/* What x86_64/mach_msg_fast.S, the same path in assembly, takes for granted. */
#define ASM_EQ(what, value) _Static_assert((what) == (value), #what " (mach_msg_fast.S)")
ASM_EQ(offsetof(struct trap_frame, r10), 40);
ASM_EQ(offsetof(struct trap_frame, r8), 56);
ASM_EQ(offsetof(struct trap_frame, rdi), 72);
ASM_EQ(offsetof(struct trap_frame, rsi), 80);
ASM_EQ(offsetof(struct trap_frame, rdx), 88);
ASM_EQ(offsetof(struct cpu, thread), 160);
ASM_EQ(offsetof(struct thread, task), 784);
ASM_EQ(offsetof(struct thread, ith_kcall), 816);
ASM_EQ(offsetof(struct task, itk_space), 440);
ASM_EQ(offsetof(struct ipc_space, table), 8);
ASM_EQ(offsetof(struct ipc_space, size), 16);
ASM_EQ(sizeof(((struct ipc_space *)0)->size), 4);
ASM_EQ(sizeof(struct ipc_entry), 1 << 5);
ASM_EQ(offsetof(struct ipc_entry, object), 0);
ASM_EQ(offsetof(struct ipc_entry, type), 8);
ASM_EQ(sizeof(((struct ipc_entry *)0)->type), 4);
ASM_EQ(offsetof(struct ipc_entry, gen), 16);
ASM_EQ(sizeof(((struct ipc_entry *)0)->gen), 4);
ASM_EQ(offsetof(struct ipc_port, refs), 0);
ASM_EQ(sizeof(((struct ipc_port *)0)->refs), 4);
ASM_EQ(offsetof(struct ipc_port, active), 4);
ASM_EQ(sizeof(((struct ipc_port *)0)->active), 1);
ASM_EQ(offsetof(struct ipc_port, receiver), 8);
ASM_EQ(offsetof(struct ipc_port, receiver_name), 16);
ASM_EQ(offsetof(struct ipc_port, pset), 24);
ASM_EQ(offsetof(struct ipc_port, q_head), 40);
ASM_EQ(offsetof(struct ipc_port, msgcount), 56);
ASM_EQ(offsetof(struct ipc_port, qlimit), 60);
ASM_EQ(offsetof(struct ipc_port, seqno), 64);
ASM_EQ(offsetof(struct ipc_port, sorights), 76);
ASM_EQ(offsetof(struct ipc_port, kotype), 80);
ASM_EQ(sizeof(((struct ipc_port *)0)->kotype), 4);
ASM_EQ(IKOT_NONE, 0);
ASM_EQ(sizeof(ipc_demux[0]), 1 << 5);
ASM_EQ(sizeof(ipc_kobject_out_busy), 1);
ASM_EQ(sizeof(mig_reply_header_t), 40);
ASM_EQ(MACH_PORT_TYPE_SEND, 0x10000);
ASM_EQ(MACH_PORT_TYPE_RECEIVE, 0x20000);
ASM_EQ(DIRECT_OPTIONS, 0xd53);
ASM_EQ(MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE), 0x1513);
ASM_EQ(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND), 0x1112);
ASM_EQ(MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0), 0x12);
ASM_EQ(MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE), 0x1200);
ASM_EQ(IPC_KOBJECT_NAME_TARGET, 0xfffffe00u);
ASM_EQ(IPC_KOBJECT_NAME_REPLY, 0xfffffd00u);
ASM_EQ((uint32_t)MIG_NO_REPLY, 0xfffffecfu);
ASM_EQ(IPC_KOBJECT_REPLY_MAX, 8192);
ASM_EQ(FAST_MAX, 256);
ASM_EQ(sizeof(mach_msg_header_t), 32);
ASM_EQ(offsetof(mach_msg_header_t, msgh_local_port), 16);
ASM_EQ(offsetof(mach_msg_header_t, msgh_seqno), 24);
ASM_EQ(MACH_RCV_INVALID_DATA, 0x10004008);
ASM_EQ(VM_MAX_USER, 0x00007ffffffff000ul);
ASM_EQ((1u << PERF_EVENT_IPC_SEND) | (1u << PERF_EVENT_IPC_RECEIVE), 3);
ASM_EQ(sizeof(ipc_lock_data.locked), 4);

mach_msg_return_t mach_msg_kobject_serve(const struct trap_frame *tf, mach_msg_header_t *h,
                                         mach_msg_size_t send_size, struct ipc_port *dest,
                                         struct ipc_port *reply_port)
{
	return kobject_rpc_serve_reply(tf, h, send_size, dest, reply_port);
}

mach_msg_return_t mach_msg_kobject_served(const struct trap_frame *tf, struct ipc_port *dest,
                                          struct ipc_port *reply_port, mach_msg_header_t *out)
{
	struct ipc_kmsg *reply = NULL;

	if (!ipc_kobject_reply_usual(out))
		out = ipc_kobject_rpc_other(reply_port, out, &reply);
	return kobject_rpc_reply(tf, dest, reply_port, out, reply);
}

/*
 * The kernel RPC fast path: h (send_size bytes, copied in) to a kernel
 * object on a COPY_SEND right, the reply right MAKE_SEND_ONCE of rcv_name.
 * False if it does not apply, before anything changed.
 */
static inline __attribute__((always_inline)) bool
fast_kernel_rpc(struct task *task, const struct trap_frame *tf, mach_msg_header_t *h,
                mach_msg_size_t send_size, mach_msg_return_t *mrp)
{
	struct ipc_space *space = task->itk_space;
	unsigned long f = ipc_lock();
	struct ipc_port *dest = fast_right(space, h->msgh_remote_port, MACH_PORT_TYPE_SEND);
	struct ipc_port *reply_port;

	if (dest == NULL || !dest->active || dest->kotype == IKOT_NONE ||
	    (reply_port = fast_right(space, h->msgh_local_port, MACH_PORT_TYPE_RECEIVE)) == NULL) {
		ipc_unlock(f);
		return false;
	}
	ipc_port_reference(dest);
	ipc_port_make_send_once(reply_port); /* the reply right: MAKE_SEND_ONCE */
	ipc_unlock(f);
	*mrp = kobject_rpc_serve_reply(tf, h, send_size, dest, reply_port);
	return true;
}

/* The fast paths once the message (h, send_size bytes) is copied in. */
static inline __attribute__((always_inline)) bool
mach_msg_fast_copied(struct task *task, const struct trap_frame *tf, mach_msg_header_t *h,
                     mach_msg_size_t send_size, mach_msg_return_t *mrp)
{
	mach_port_name_t rcv_name = (mach_port_name_t)syscall_arg(tf, 4);

	/* Exactly these bits: no COMPLEX, nothing unused. */
	if (h->msgh_bits == MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE) &&
	    h->msgh_local_port == rcv_name)
		return fast_kernel_rpc(task, tf, h, send_size, mrp);
	if (h->msgh_bits != MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) ||
	    h->msgh_local_port != MACH_PORT_NULL || send_size > (mach_msg_size_t)syscall_arg(tf, 3))
		return false;

	/* A self round trip. */
	struct ipc_space *space = task->itk_space;
	mach_port_name_t dname = h->msgh_remote_port;
	unsigned long f = ipc_lock();
	struct ipc_port *dest = fast_right(space, dname, MACH_PORT_TYPE_SEND);

	if (dest == NULL || !ipc_port_direct_ok(space, dest, rcv_name)) {
		ipc_unlock(f);
		return false;
	}
	mach_port_seqno_t seqno = dest->seqno++;

	ipc_unlock(f);
	PERF_TIME_BLOCK(PERF_EVENT_IPC_SEND, perf_cur_task_id(), perf_cur_thread_id(), send_size,
	                dname, {});
	PERF_TIME_BLOCK(PERF_EVENT_IPC_RECEIVE, perf_cur_task_id(), perf_cur_thread_id(), send_size,
	                rcv_name, {});
	*mrp = mach_msg_fast_copyout(syscall_arg(tf, 0), h, send_size, MACH_MSG_TYPE_PORT_SEND,
	                             rcv_name, seqno);
	return true;
}

/* [I] The fast paths for the current task; the arguments come from tf. */
static inline __attribute__((always_inline)) bool
mach_msg_fast(struct task *task, const struct trap_frame *tf, mach_msg_return_t *mrp)
{
	union fast_buf buf;
	uintptr_t msg = syscall_arg(tf, 0);
	mach_msg_option_t option = (mach_msg_option_t)syscall_arg(tf, 1);
	mach_msg_size_t send_size = (mach_msg_size_t)syscall_arg(tf, 2);

	if ((option & ~DIRECT_OPTIONS) ||
	    (option & (MACH_SEND_MSG | MACH_RCV_MSG)) != (MACH_SEND_MSG | MACH_RCV_MSG) ||
	    send_size - sizeof(mach_msg_header_t) > FAST_MAX - sizeof(mach_msg_header_t) ||
	    (send_size & 3) || copyin((const void *)msg, &buf, send_size) != KERN_SUCCESS)
		return false;
	return mach_msg_fast_copied(task, tf, &buf.h, send_size, mrp);
}

mach_msg_return_t ipc_mach_msg(const struct ipc_io *io, uintptr_t msg, mach_msg_option_t option,
                               mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                               mach_port_name_t rcv_name, mach_msg_timeout_t timeout,
                               mach_port_name_t notify)
{
	mach_msg_return_t mr;

	if (option & MACH_SEND_MSG) {
		struct ipc_kmsg *kmsg;

		mr = ipc_kmsg_get(io, msg, send_size, &kmsg);
		if (mr != MACH_MSG_SUCCESS)
			return mr;
		mach_port_name_t dest = kmsg->msg.msgh_remote_port;

		mr = ipc_kmsg_copyin(io, kmsg);
		if (mr != MACH_MSG_SUCCESS)
			return mr;
		mach_msg_size_t size = kmsg->size;

		if ((option & MACH_RCV_MSG) && !(option & ~DIRECT_OPTIONS)) {
			struct ipc_kmsg *rk = NULL;
			mach_port_seqno_t seqno = 0;

			/* IPC_SEND and IPC_RECEIVE as on the general path; nothing waits. */
			PERF_TIME_BLOCK(PERF_EVENT_IPC_SEND, perf_cur_task_id(),
			                perf_cur_thread_id(), size, dest, {
				                rk = send_direct(io->space, kmsg, option, timeout,
				                                 rcv_size, rcv_name, &seqno, &mr);
			                });
			if (rk) {
				PERF_TIME_BLOCK(PERF_EVENT_IPC_RECEIVE, perf_cur_task_id(),
				                perf_cur_thread_id(), rk->size, rcv_name, {});
				return ipc_kmsg_copyout(io, rk, msg, seqno, false);
			}
		} else {
			/* IPC_SEND: the send proper (queueing or kernel dispatch), timed. */
			PERF_TIME_BLOCK(
			    PERF_EVENT_IPC_SEND, perf_cur_task_id(), perf_cur_thread_id(), size,
			    dest,
			    { mr = ipc_mqueue_send(kmsg, option & MACH_SEND_TIMEOUT, timeout); });
		}
		if (mr != MACH_MSG_SUCCESS) {
			/* Not sent: it goes back to the sender, rights and all. */
			mach_msg_return_t mr2 = ipc_kmsg_copyout(io, kmsg, msg, 0, true);

			if (mr2 != MACH_MSG_SUCCESS && mr2 != MACH_RCV_INVALID_DATA)
				mr |= mr2 & MACH_MSG_MASK;
			return mr;
		}
	}
	if (!(option & MACH_RCV_MSG))
		return MACH_MSG_SUCCESS;
	return msg_receive(io, msg, option, rcv_size, rcv_name, timeout);
}

mach_msg_return_t mach_msg_kernel(struct ipc_space *space, mach_msg_header_t *msg,
                                  mach_msg_option_t option, mach_msg_size_t send_size,
                                  mach_msg_size_t rcv_size, mach_port_name_t rcv_name,
                                  mach_msg_timeout_t timeout)
{
	struct ipc_io io = { .space = space, .map = NULL, .kern = true };

	return ipc_mach_msg(&io, (uintptr_t)msg, option, send_size, rcv_size, rcv_name, timeout,
	                    MACH_PORT_NULL);
}

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
                           mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                           mach_port_t rcv_name, mach_msg_timeout_t timeout, mach_port_t notify)
{
	return mach_msg_kernel(ipc_space_kernel, msg, option, send_size, rcv_size, rcv_name,
	                       timeout);
}

uint64_t mach_msg_sys_general(const struct trap_frame *tf)
{
	struct task *task = thread_current()->task;
	struct ipc_io io = { .space = task->itk_space, .map = task->map, .kern = false };

	return (uint64_t)(int64_t)ipc_mach_msg(
	    &io, syscall_arg(tf, 0), (mach_msg_option_t)syscall_arg(tf, 1),
	    (mach_msg_size_t)syscall_arg(tf, 2), (mach_msg_size_t)syscall_arg(tf, 3),
	    (mach_port_name_t)syscall_arg(tf, 4), (mach_msg_timeout_t)syscall_arg(tf, 5),
	    MACH_PORT_NULL /* notify: unused (no MACH_*_NOTIFY) */);
}

uint64_t mach_msg_sys_copied(const struct trap_frame *tf, mach_msg_header_t *h,
                             mach_msg_size_t send_size)
{
	mach_msg_return_t mr;

	if (mach_msg_fast_copied(thread_current()->task, tf, h, send_size, &mr))
		return (uint64_t)(int64_t)mr;
	return mach_msg_sys_general(tf);
}

uint64_t mach_msg_sys(const struct trap_frame *tf)
{
	struct thread *self = thread_current();
	struct task *task = self ? self->task : NULL;
	mach_msg_return_t mr;

	if (task == NULL || task->itk_space == NULL)
		return (uint64_t)(int64_t)MACH_SEND_INVALID_DEST;
	if (mach_msg_fast(task, tf, &mr))
		return (uint64_t)(int64_t)mr;
	return mach_msg_sys_general(tf);
}
