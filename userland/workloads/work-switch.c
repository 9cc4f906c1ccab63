/*
 * work-switch ITER: yields the processor ITER times.  Two of them
 * running together ping-pong the CPU between them (CONTEXT_SWITCH).
 */
#include <mach/mach_traps.h>

#include "work.h"

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv), ran = 0;

	WORK_FOREACH(i, n)
	ran += swtch() != 0;
	printf("work-switch: %lu yields, %lu with another thread ready\n", n, ran);
	return 0;
}
