/*
 * work-ipc ITER: IPC round trips: a message to a port of our own and
 * back, ITER times (IPC_SEND and IPC_RECEIVE; two tasks would need a
 * name service to find each other, which machperf has not yet).
 */
#include <mach/mach_traps.h>
#include <mach/message.h>
#include <string.h>

#include "work.h"

struct work_msg {
	mach_msg_header_t head;
	mach_msg_type_t type;
	uint32_t payload[8];
};

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);
	mach_port_t port = mach_reply_port();
	struct work_msg m;
	struct {
		struct work_msg m;
		char trailer[64];
	} r;

	if (!MACH_PORT_VALID(port))
		work_check(KERN_RESOURCE_SHORTAGE, "mach_reply_port");
	WORK_FOREACH(i, n)
	{
		memset(&m, 0, sizeof(m));
		m.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND_ONCE, 0);
		m.head.msgh_size = sizeof(m);
		m.head.msgh_remote_port = port;
		m.head.msgh_id = 4242;
		m.type.msgt_name = MACH_MSG_TYPE_INTEGER_32;
		m.type.msgt_size = 32;
		m.type.msgt_number = 8;
		m.type.msgt_inline = 1;
		m.payload[0] = (uint32_t)i;
		work_check(mach_msg(&m.head, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0,
		                    MACH_PORT_NULL),
		           "send");
		work_check(mach_msg(&r.m.head, MACH_RCV_MSG, 0, sizeof(r), port, 0, MACH_PORT_NULL),
		           "receive");
	}
	printf("work-ipc: %lu round trips\n", n);
	return 0;
}
