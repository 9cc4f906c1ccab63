/*
 * work-vm ITER: vm_allocate and vm_deallocate of 64 KiB, ITER times,
 * touching one page each time (VM_ALLOC, VM_FREE).
 */
#include <mach/mach_init.h>

#include "mach.h"
#include "work.h"

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);

	WORK_FOREACH(i, n)
	{
		vm_address_t a = 0;

		work_check(vm_allocate(mach_task_self(), &a, 65536, 1), "vm_allocate");
		*(volatile char *)a = 1;
		work_check(vm_deallocate(mach_task_self(), a, 65536), "vm_deallocate");
	}
	printf("work-vm: %lu allocate/free pairs\n", n);
	return 0;
}
