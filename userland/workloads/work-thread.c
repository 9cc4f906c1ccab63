/*
 * work-thread ITER: thread_create and thread_terminate, ITER times
 * (THREAD_CREATE, THREAD_TERMINATE).  The threads never run: starting
 * them needs thread_set_state, which this workload leaves alone.
 */
#include <mach/mach_init.h>

#include "mach.h"
#include "mach_port.h"
#include "work.h"

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);

	WORK_FOREACH(i, n)
	{
		mach_port_t th = MACH_PORT_NULL;

		work_check(thread_create(mach_task_self(), &th), "thread_create");
		work_check(thread_terminate(th), "thread_terminate");
		(void)mach_port_deallocate(mach_task_self(), th);
	}
	printf("work-thread: %lu threads\n", n);
	return 0;
}
