/*
 * The kernel half of mach_msg's RPC fast path, for ipc/ only: what
 * mach_msg.c inlines into the trap (the hot half) and what it calls when
 * a reply is not the usual one (ipc_kobject.c, the cold half).
 *
 * For a send-then-receive by the current task, ipc_kobject_rpc_serve
 * serves a simple request (no COMPLEX bit; in, size bytes, on the
 * caller's stack, which this may rewrite) to dest, a kernel object the
 * caller holds a reference on, with the reply right the caller made (its
 * MAKE_SEND_ONCE of rcv_name): a send-once right to reply_port.  Neither
 * right gets a name in the kernel space: the server sees
 * IPC_KOBJECT_NAME_TARGET and _REPLY, which ipc_kobject_port resolves.
 * It returns a simple reply to that right (the right still made, the
 * reply in a buffer for ipc_kobject_out_put), which the caller writes
 * out as received when it can, using the right up; else NULL, with any
 * other reply in *kmsg (its rights taken in, the reply right among
 * them) and a right that got no reply destroyed, as Mach does.  What the
 * caller cannot finish itself goes to ipc_kobject_rpc_finish: a simple
 * reply becomes a kmsg, and mach_msg_fast_reply hands it over or queues
 * it and receives.  The reference on dest stays the caller's.
 */
#ifndef IPC_IPC_KOBJECT_RPC_H
#define IPC_IPC_KOBJECT_RPC_H

#include <mach/mig_errors.h>

#include "ipc/ipc_kobject.h"
#include "ipc/ipc_port.h"
#include "kern/kalloc.h"
#include "kern/thread.h"

struct ipc_io;
struct ipc_kmsg;

/*
 * [I] The servers of each kernel object type, tried in order
 * (ipc_kobject_register).  Read without the ipc lock: a row changes only
 * at boot and for IKOT_TEST (tests/kern/test_ipc.c, with no request to
 * it in flight), and a slot is one pointer.
 */
extern ipc_kobject_demux_t ipc_demux[IKOT_MAX][IPC_KOBJECT_DEMUX_MAX];

/* The reply a MIG server writes for an id it does not know. */
void ipc_kobject_bad_id(const mach_msg_header_t *in, mach_msg_header_t *out);

/* Runs port's servers on in until one knows its id; else the MIG_BAD_ID reply. */
static inline __attribute__((always_inline)) void
ipc_kobject_demux(struct ipc_port *port, mach_msg_header_t *in, mach_msg_header_t *out)
{
	ipc_kobject_demux_t *row = ipc_demux[__atomic_load_n(&port->kotype, __ATOMIC_RELAXED)];

	for (int i = 0; i < IPC_KOBJECT_DEMUX_MAX; i++) {
		ipc_kobject_demux_t demux = __atomic_load_n(&row[i], __ATOMIC_RELAXED);

		if (demux == NULL)
			break;
		/*
		 * The 8-byte port slots' upper halves and what a hand-written
		 * server leaves: the 40 bytes of a mig_reply_header_t as five
		 * stores (GCC makes a rep stos of ten iterations of the struct).
		 */
		uint64_t *z = (uint64_t *)out;

		_Static_assert(sizeof(mig_reply_header_t) == 5 * sizeof(uint64_t), "reply header");
		z[0] = 0;
		z[1] = 0;
		z[2] = 0;
		z[3] = 0;
		z[4] = 0;
		if (demux(in, out))
			return;
	}
	ipc_kobject_bad_id(in, out);
}

/* The reply's RetCode (KERN_SUCCESS for a complex reply, which has no room for a failure). */
static inline __attribute__((always_inline)) kern_return_t
ipc_kobject_retcode(const mach_msg_header_t *out)
{
	if (!(out->msgh_bits & MACH_MSGH_BITS_COMPLEX) &&
	    out->msgh_size >= sizeof(mig_reply_header_t))
		return ((const mig_reply_header_t *)out)->RetCode;
	return KERN_SUCCESS;
}

/* Whether a reply to the reply right is simple and well formed: written back as received. */
static inline __attribute__((always_inline)) bool
ipc_kobject_reply_simple(const mach_msg_header_t *out)
{
	return !(out->msgh_bits & MACH_MSGH_BITS_COMPLEX) &&
	       MACH_MSGH_BITS_REMOTE(out->msgh_bits) == MACH_MSG_TYPE_MOVE_SEND_ONCE &&
	       MACH_MSGH_BITS_LOCAL(out->msgh_bits) == 0 &&
	       out->msgh_size >= sizeof(mach_msg_header_t) && !(out->msgh_size & 3) &&
	       out->msgh_size <= IPC_KOBJECT_REPLY_MAX;
}

/*
 * The usual reply: to the reply right, not MIG_NO_REPLY, simple and well
 * formed; the fast paths write it back as received.
 */
static inline __attribute__((always_inline)) bool
ipc_kobject_reply_usual(const mach_msg_header_t *out)
{
	return out->msgh_remote_port == IPC_KOBJECT_NAME_REPLY &&
	       ipc_kobject_retcode(out) != MIG_NO_REPLY && ipc_kobject_reply_simple(out);
}

/* The reply buffer: static when free (one exchange), else kalloc'd; NULL without memory. */
union ipc_kobject_out_buf {
	mach_msg_header_t h;
	uint8_t b[IPC_KOBJECT_REPLY_MAX];
};
extern union ipc_kobject_out_buf ipc_kobject_out_buf;
extern bool ipc_kobject_out_busy; /* [a] ipc_kobject_out_buf is handed out */

/*
 * The static buffer st (cap bytes, *busy) if it is free and holds size
 * bytes, else a kalloc'd one; NULL without memory (the request and the
 * reply buffers of the dispatch).  Inline, so that the buffer is a
 * constant on the RPC path.
 */
static inline __attribute__((always_inline)) mach_msg_header_t *
ipc_kobject_buf_get(mach_msg_header_t *st, size_t cap, bool *busy, mach_msg_size_t size)
{
	if (size <= cap && !__atomic_exchange_n(busy, true, __ATOMIC_ACQUIRE))
		return st;
	return kalloc(size);
}

static inline __attribute__((always_inline)) void
ipc_kobject_buf_put(mach_msg_header_t *st, bool *busy, mach_msg_header_t *h)
{
	if (h == st)
		__atomic_store_n(busy, false, __ATOMIC_RELEASE);
	else
		kfree(h);
}

static inline __attribute__((always_inline)) mach_msg_header_t *ipc_kobject_out_get(void)
{
	return ipc_kobject_buf_get(&ipc_kobject_out_buf.h, IPC_KOBJECT_REPLY_MAX,
	                           &ipc_kobject_out_busy, IPC_KOBJECT_REPLY_MAX);
}

static inline __attribute__((always_inline)) void ipc_kobject_out_put(mach_msg_header_t *out)
{
	ipc_kobject_buf_put(&ipc_kobject_out_buf.h, &ipc_kobject_out_busy, out);
}

/*
 * The cold half: out (NULL: no buffer) holds the reply, not the simple
 * reply to the reply right the hot half returns.  As ipc_kobject_rpc_serve.
 */
mach_msg_header_t *ipc_kobject_rpc_other(struct ipc_port *reply_port, mach_msg_header_t *out,
                                         struct ipc_kmsg **kmsg);

static inline __attribute__((always_inline)) mach_msg_header_t *
ipc_kobject_rpc_serve(struct ipc_port *dest, mach_msg_header_t *in, mach_msg_size_t size,
                      struct ipc_port *reply_port, struct ipc_kmsg **kmsg)
{
	mach_msg_header_t *out = ipc_kobject_out_get();

	if (__builtin_expect(out != NULL, 1)) {
		struct thread *self = thread_current();
		struct ipc_port *outer = self->ith_kcall; /* a call made by a server routine */

		/* The header as a receive from the kernel space would have written it. */
		in->msgh_bits =
		    MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND);
		in->msgh_size = size;
		in->msgh_remote_port_do_not_use = IPC_KOBJECT_NAME_REPLY;
		in->msgh_protected_payload = IPC_KOBJECT_NAME_TARGET;
		in->msgh_seqno = 0;
		self->ith_kcall = dest;
		ipc_kobject_demux(dest, in, out);
		self->ith_kcall = outer;
		if (__builtin_expect(ipc_kobject_reply_usual(out), 1)) {
			*kmsg = NULL;
			return out;
		}
	}
	return ipc_kobject_rpc_other(reply_port, out, kmsg);
}

mach_msg_return_t ipc_kobject_rpc_finish(const struct ipc_io *io, mach_msg_header_t *simple,
                                         struct ipc_kmsg *reply, struct ipc_port *reply_port,
                                         uintptr_t msg, mach_msg_option_t option,
                                         mach_msg_size_t rcv_size, mach_port_name_t rcv_name,
                                         mach_msg_timeout_t timeout);

#endif
