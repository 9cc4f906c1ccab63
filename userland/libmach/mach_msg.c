/*
 * mach_msg, libmach's wrapper around mach_msg_trap (GNU Mach's libmach
 * semantics; its fast half is in traps.S), and mach_init, which caches
 * mach_task_self().
 *
 * A send or receive the kernel interrupted (thread_abort, a suspension)
 * is retried unless the caller asked to see interruptions
 * (MACH_SEND_INTERRUPT, MACH_RCV_INTERRUPT).  A send that was
 * interrupted has not happened, so the whole call is repeated; a receive
 * that was interrupted comes after a completed send, so only the receive
 * is repeated.
 */
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/message.h>

mach_port_t mach_task_self_;

void mach_init(void)
{
	mach_task_self_ = __mach_task_self();
}

/*
 * mach_msg itself is in traps.S: it makes the trap and comes here only
 * when the result, mr, is not MACH_MSG_SUCCESS.
 */
mach_msg_return_t mach_msg_retry(mach_msg_header_t *msg, mach_msg_option_t option,
                                 mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                                 mach_port_t rcv_name, mach_msg_timeout_t timeout,
                                 mach_msg_return_t mr);

mach_msg_return_t mach_msg_retry(mach_msg_header_t *msg, mach_msg_option_t option,
                                 mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                                 mach_port_t rcv_name, mach_msg_timeout_t timeout,
                                 mach_msg_return_t mr)
{
	if (!(option & MACH_SEND_INTERRUPT))
		while (mr == MACH_SEND_INTERRUPTED)
			mr = mach_msg_trap(msg, option, send_size, rcv_size, rcv_name, timeout,
			                   MACH_PORT_NULL);
	if (!(option & MACH_RCV_INTERRUPT))
		while (mr == MACH_RCV_INTERRUPTED)
			mr = mach_msg_trap(msg, option & ~MACH_SEND_MSG, 0, rcv_size, rcv_name,
			                   timeout, MACH_PORT_NULL);
	return mr;
}
