/*
 * work-timer ITER: sleeps one millisecond ITER times, so the timer
 * interrupt wakes it each time (INTERRUPT, CONTEXT_SWITCH).
 */
#include <mach/mach_traps.h>

#include "work.h"

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);

	WORK_FOREACH(i, n)
	thread_switch(0, SWITCH_OPTION_WAIT, 1);
	printf("work-timer: %lu timer sleeps\n", n);
	return 0;
}
