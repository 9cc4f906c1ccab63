/*
 * work-switch ITER: context-switch ping-pong between two threads of
 * this task, ITER round trips (CONTEXT_SWITCH; IPC_SEND, IPC_RECEIVE).
 * The main thread and a raw second thread (peer.c) hand the processor
 * to each other with header-only messages: each sends to the other's
 * port and blocks receiving on its own in one mach_msg, so every
 * message wakes a blocked thread and blocks the sender, two switches a
 * round trip (more when other tasks are ready to run).  The second
 * thread is terminated at the end while it waits.
 */
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/message.h>

#include "mach.h" /* mig-gen/ */
#include "work.h"

#define WORK_SWITCH_ID 4400

union work_buf {
	mach_msg_header_t head;
	char room[sizeof(mach_msg_header_t) + 64];
};

/* Sends an empty message to dest (whose receive right we hold) and waits for one on mine. */
static mach_msg_return_t work_handoff(union work_buf *b, mach_port_t dest, mach_port_t mine)
{
	b->head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND_ONCE, 0);
	b->head.msgh_size = sizeof(b->head);
	b->head.msgh_remote_port = dest;
	b->head.msgh_local_port = MACH_PORT_NULL;
	b->head.msgh_seqno = 0;
	b->head.msgh_id = WORK_SWITCH_ID;
	return mach_msg(&b->head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(b->head), sizeof(*b), mine,
	                0, MACH_PORT_NULL);
}

/* The second thread (raw, libmach only): waits on mine, answers to theirs, forever. */
static void __attribute__((noreturn)) switch_peer(mach_port_t mine, mach_port_t theirs)
{
	union work_buf b;
	mach_msg_return_t mr =
	    mach_msg(&b.head, MACH_RCV_MSG, 0, sizeof(b), mine, 0, MACH_PORT_NULL);

	for (;;)
		mr = mr == MACH_MSG_SUCCESS
		         ? work_handoff(&b, theirs, mine)
		         : mach_msg(&b.head, MACH_RCV_MSG, 0, sizeof(b), mine, 0, MACH_PORT_NULL);
}

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);
	mach_port_t mine = work_port(), theirs = work_port(), th;
	vm_address_t stack;
	union work_buf b;

	work_check(work_peer_stack(mach_task_self(), &stack), "work_peer_stack");
	work_check(work_peer_start(mach_task_self(), switch_peer, theirs, mine, stack, &th),
	           "work_peer_start");
	WORK_FOREACH(i, n)
	{
		work_check(work_handoff(&b, theirs, mine), "handoff");
		if (b.head.msgh_id != WORK_SWITCH_ID)
			work_check(KERN_FAILURE, "handoff id");
	}
	work_check(thread_terminate(th), "thread_terminate");
	printf("work-switch: %lu round trips between two threads\n", n);
	return 0;
}
