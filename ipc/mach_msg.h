/*
 * mach_msg: the send and receive paths (GNU Mach's option bits and codes).
 */
#ifndef IPC_MACH_MSG_H
#define IPC_MACH_MSG_H

#include <mach/message.h>
#include <stdint.h>

#include "ipc/ipc_kmsg.h"
#include "vm/vm_copy.h"

/*
 * The whole of mach_msg for io's space: msg is a user address in the map
 * loaded on this CPU (io->kern false) or a kernel buffer (io->kern true).
 * timeout is in milliseconds and applies to each of the two phases.
 */
mach_msg_return_t ipc_mach_msg(const struct ipc_io *io, uintptr_t msg, mach_msg_option_t option,
                               mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                               mach_port_name_t rcv_name, mach_msg_timeout_t timeout,
                               mach_port_name_t notify);

/* mach_msg in kernel buffers against space (kernel threads, ktest). */
mach_msg_return_t mach_msg_kernel(struct ipc_space *space, mach_msg_header_t *msg,
                                  mach_msg_option_t option, mach_msg_size_t send_size,
                                  mach_msg_size_t rcv_size, mach_port_name_t rcv_name,
                                  mach_msg_timeout_t timeout);

/*
 * Sends a copied-in kmsg (option: MACH_SEND_TIMEOUT, MACH_SEND_ALWAYS).
 * A kernel object's port gets it dispatched at once, in this thread.
 * On MACH_SEND_TIMED_OUT, _INTERRUPTED and _INVALID_DEST (the port died)
 * the kmsg is still the caller's.
 */
mach_msg_return_t ipc_mqueue_send(struct ipc_kmsg *kmsg, mach_msg_option_t option,
                                  mach_msg_timeout_t timeout);

/* Writes h (size bytes) to the user's msg as a receive on rcv_name with seqno sees it. */
static inline __attribute__((always_inline)) mach_msg_return_t
mach_msg_fast_copyout(uintptr_t msg, mach_msg_header_t *h, mach_msg_size_t size,
                      mach_msg_type_name_t dest_type, mach_port_name_t rcv_name,
                      mach_port_seqno_t seqno)
{
	h->msgh_bits = MACH_MSGH_BITS(0, dest_type);
	h->msgh_size = size;
	h->msgh_remote_port_do_not_use = MACH_PORT_NULL;
	h->msgh_protected_payload = rcv_name;
	h->msgh_seqno = seqno;
	return copyout(h, (void *)msg, size) == KERN_SUCCESS ? MACH_MSG_SUCCESS
	                                                     : MACH_RCV_INVALID_DATA;
}

/*
 * The end of a fast-path kernel RPC (ipc_kobject_rpc_serve) whose reply could
 * not be written at once: reply (a kmsg, or NULL: none) is handed over
 * to this receive if it goes to reply_port (the port the caller receives
 * as rcv_name; compared only, the kmsg's right keeps it) or queued, and
 * the general receive follows.
 */
mach_msg_return_t mach_msg_fast_reply(const struct ipc_io *io, struct ipc_kmsg *reply,
                                      struct ipc_port *reply_port, uintptr_t msg,
                                      mach_msg_option_t option, mach_msg_size_t rcv_size,
                                      mach_port_name_t rcv_name, mach_msg_timeout_t timeout);

struct trap_frame;
/* The trap itself (kern/syscall.c's table): the arguments from tf, the result sign-extended. */
uint64_t mach_msg_sys(const struct trap_frame *tf);

/*
 * The assembly kernel RPC fast path (x86_64/mach_msg_fast.S), called by
 * the syscall entry for mach_msg_trap: the usual kernel RPC done in
 * assembly, anything else in mach_msg_sys.  It preserves none of the
 * callee-saved registers (the entry restores every register from the
 * trap frame).  Where it stops after taking the rights it continues in C:
 * mach_msg_kobject_serve before the server ran (h the request copied in),
 * mach_msg_kobject_served after (out its reply buffer, the reply right
 * still made).
 */
uint64_t mach_msg_trap_fast(const struct trap_frame *tf);
/*
 * Its ways into the C for what it does not do: mach_msg_sys_copied for a
 * message it copied in (h) that is not a kernel request (the C fast paths
 * on the copy, else the general path), mach_msg_sys_general for the
 * general path alone.  A task with a space, as mach_msg_sys checks.
 */
uint64_t mach_msg_sys_copied(const struct trap_frame *tf, mach_msg_header_t *h,
                             mach_msg_size_t send_size);
uint64_t mach_msg_sys_general(const struct trap_frame *tf);
mach_msg_return_t mach_msg_kobject_serve(const struct trap_frame *tf, mach_msg_header_t *h,
                                         mach_msg_size_t send_size, struct ipc_port *dest,
                                         struct ipc_port *reply_port);
mach_msg_return_t mach_msg_kobject_served(const struct trap_frame *tf, struct ipc_port *dest,
                                          struct ipc_port *reply_port, mach_msg_header_t *out);

#endif
