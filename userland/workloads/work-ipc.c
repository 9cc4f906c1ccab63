/*
 * work-ipc ITER: IPC ping-pong between two tasks, ITER round trips
 * (IPC_SEND, IPC_RECEIVE).  The peer is a child task running a copy of
 * this program (peer.c); it holds the receive right of the ping port
 * and a send right to our pong port, and sends every ping back as a
 * pong with its first word incremented.  Both sides send and receive
 * in one mach_msg, as Mach servers do.  The child is terminated at the
 * end.
 */
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/message.h>
#include <string.h>

#include "work.h"

#define WORK_IPC_ID 4242

struct work_msg {
	mach_msg_header_t head;
	mach_msg_type_t type;
	uint32_t payload[8];
};

/* A message and room for anything the kernel may add on receipt. */
union work_buf {
	struct work_msg m;
	char room[sizeof(struct work_msg) + 64];
};

static void work_msg_init(struct work_msg *m, mach_port_t dest, uint32_t value)
{
	m->head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	m->head.msgh_size = sizeof(*m);
	m->head.msgh_remote_port = dest;
	m->head.msgh_local_port = MACH_PORT_NULL;
	m->head.msgh_seqno = 0;
	m->head.msgh_id = WORK_IPC_ID;
	m->type = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_INTEGER_32,
		                     .msgt_size = 32,
		                     .msgt_number = 8,
		                     .msgt_inline = 1 };
	m->payload[0] = value;
}

/* The child (raw, libmach only): answers each ping on ping with a pong to pong. */
static void __attribute__((noreturn)) ipc_peer(mach_port_t ping, mach_port_t pong)
{
	union work_buf b;
	mach_msg_return_t mr =
	    mach_msg(&b.m.head, MACH_RCV_MSG, 0, sizeof(b), ping, 0, MACH_PORT_NULL);

	for (;;) {
		if (mr != MACH_MSG_SUCCESS) {
			mr = mach_msg(&b.m.head, MACH_RCV_MSG, 0, sizeof(b), ping, 0,
			              MACH_PORT_NULL);
			continue;
		}
		work_msg_init(&b.m, pong, b.m.payload[0] + 1);
		mr = mach_msg(&b.m.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(b.m), sizeof(b), ping,
		              0, MACH_PORT_NULL);
	}
}

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);
	mach_port_t ping = work_port(), pong = work_port(), child, th;
	vm_address_t stack;
	union work_buf b;

	memset(&b, 0, sizeof(b));
	work_check(work_peer_task(&child, &stack), "work_peer_task");
	work_check(work_peer_give(mach_task_self(), ping, MACH_MSG_TYPE_MAKE_SEND), "make send");
	work_check(work_peer_give(child, ping, MACH_MSG_TYPE_MOVE_RECEIVE), "give ping");
	work_check(work_peer_give(child, pong, MACH_MSG_TYPE_MAKE_SEND), "give pong");
	work_check(work_peer_start(child, ipc_peer, ping, pong, stack, &th), "work_peer_start");
	WORK_FOREACH(i, n)
	{
		work_msg_init(&b.m, ping, (uint32_t)i);
		work_check(mach_msg(&b.m.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(b.m), sizeof(b),
		                    pong, 0, MACH_PORT_NULL),
		           "ping-pong");
		if (b.m.head.msgh_id != WORK_IPC_ID || b.m.payload[0] != (uint32_t)i + 1)
			work_check(KERN_FAILURE, "pong");
	}
	work_peer_task_end(child);
	printf("work-ipc: %lu round trips with a child task\n", n);
	return 0;
}
