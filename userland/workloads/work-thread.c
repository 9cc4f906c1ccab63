/*
 * work-thread ITER: thread create/terminate churn, ITER threads one
 * after the other (THREAD_CREATE, THREAD_TERMINATE).  Each is started
 * (thread_create, thread_set_state, thread_resume) on a raw function
 * that terminates its own thread at once: a thread_terminate request
 * to mach_thread_self() whose reply port is ours, so the kernel's reply
 * tells us the thread is on its way out; it ends on its way back from
 * that very call, before touching its stack again, so every thread can
 * use the same stack.
 */
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/message.h>
#include <mach/mig_errors.h>

#include "mach_port.h" /* mig-gen/ */
#include "work.h"

#define WORK_THREAD_TERMINATE_ID 2016 /* mig-defs: mach 2000 + 16, thread_terminate */

/* The thread (raw, libmach only): thread_terminate(mach_thread_self()), the reply to done. */
static void __attribute__((noreturn)) thread_body(mach_port_t done, mach_port_t unused)
{
	mach_msg_header_t rq = {
		.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE),
		.msgh_size = sizeof(rq),
		.msgh_remote_port = mach_thread_self(),
		.msgh_local_port = done,
		.msgh_id = WORK_THREAD_TERMINATE_ID,
	};

	(void)unused;
	mach_msg(&rq, MACH_SEND_MSG, sizeof(rq), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
	for (;;) /* not reached; if it were, the parent's receive times out */
		thread_switch(0, SWITCH_OPTION_WAIT, 1000);
}

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);
	mach_port_t done = work_port();
	vm_address_t stack;

	work_check(work_peer_stack(mach_task_self(), &stack), "work_peer_stack");
	WORK_FOREACH(i, n)
	{
		mach_port_t th = MACH_PORT_NULL;
		union {
			mig_reply_header_t r;
			char room[sizeof(mig_reply_header_t) + 64];
		} b;

		work_check(work_peer_start(mach_task_self(), thread_body, done, MACH_PORT_NULL,
		                           stack, &th),
		           "work_peer_start");
		work_check(mach_msg(&b.r.Head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(b), done,
		                    5000, MACH_PORT_NULL),
		           "thread_terminate reply");
		if (b.r.Head.msgh_id != WORK_THREAD_TERMINATE_ID + 100)
			work_check(MIG_REPLY_MISMATCH, "thread_terminate reply");
		work_check(b.r.RetCode, "thread_terminate");
		/* The thread's name: a send right, or a dead name once the thread is freed. */
		work_check(mach_port_deallocate(mach_task_self(), th), "mach_port_deallocate");
	}
	printf("work-thread: %lu threads started, each terminating itself\n", n);
	return 0;
}
