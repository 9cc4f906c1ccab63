/*
 * mach_msg: the send and receive paths (GNU Mach's option bits and codes).
 */
#ifndef IPC_MACH_MSG_H
#define IPC_MACH_MSG_H

#include <mach/message.h>
#include <stdint.h>

#include "ipc/ipc_kmsg.h"

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

struct trap_frame;
/* The trap itself (kern/syscall.c's table): the arguments from tf, the result sign-extended. */
uint64_t mach_msg_sys(const struct trap_frame *tf);

#endif
