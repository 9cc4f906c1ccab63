/*
 * work-rpc ITER: MIG RPCs to a server, ITER times: mach_port_type on
 * one of our names, answered by the kernel's mach_port server (a client
 * and a server with a request and a reply each time).
 */
#include <mach/mach_init.h>
#include <mach/mach_traps.h>

#include "mach_port.h"
#include "work.h"

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);
	mach_port_t port = mach_reply_port();
	mach_port_type_t type;

	WORK_FOREACH(i, n)
	work_check(mach_port_type(mach_task_self(), port, &type), "mach_port_type");
	printf("work-rpc: %lu RPCs\n", n);
	return 0;
}
