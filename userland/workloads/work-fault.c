/*
 * work-fault ITER: a page-fault storm: ITER rounds of touching every
 * page of a fresh 1 MiB region (256 demand-zero faults a round).
 */
#include <mach/mach_init.h>

#include "mach.h"
#include "work.h"

#define WORK_REGION (1u << 20)

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);

	WORK_FOREACH(i, n)
	{
		vm_address_t a = 0;

		work_check(vm_allocate(mach_task_self(), &a, WORK_REGION, 1), "vm_allocate");
		for (vm_address_t p = a; p < a + WORK_REGION; p += 4096)
			*(volatile char *)p = (char)i;
		work_check(vm_deallocate(mach_task_self(), a, WORK_REGION), "vm_deallocate");
	}
	printf("work-fault: %lu rounds of %u faults\n", n, WORK_REGION / 4096);
	return 0;
}
