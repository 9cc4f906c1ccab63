/*
 * The test traps of tests/kern/ktest_traps.h, registered by ktest_main
 * (through its weak hook) in kernels built with the ktest suites.
 */
#include <stdint.h>

#include "kern/syscall.h"
#include "kern/task.h"
#include "tests/kern/ktest_traps.h"
#include "vm/vm_copy.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"
#include "x86_64/syscall.h"

static uint64_t kt_kr(kern_return_t kr)
{
	return (uint64_t)(int64_t)kr;
}

static uint64_t kt_vm_allocate(const struct trap_frame *tf)
{
	uintptr_t *uaddr = (uintptr_t *)syscall_arg(tf, 0), addr;
	kern_return_t kr = copyin(uaddr, &addr, sizeof(addr));

	if (kr != KERN_SUCCESS)
		return kt_kr(kr);
	kr = vm_allocate(task_current()->map, &addr, syscall_arg(tf, 1), syscall_arg(tf, 2) != 0);
	if (kr == KERN_SUCCESS)
		kr = copyout(&addr, uaddr, sizeof(addr));
	return kt_kr(kr);
}

static uint64_t kt_vm_deallocate(const struct trap_frame *tf)
{
	return kt_kr(vm_deallocate(task_current()->map, syscall_arg(tf, 0), syscall_arg(tf, 1)));
}

static uint64_t kt_task_exit(const struct trap_frame *tf)
{
	task_exit((int)syscall_arg(tf, 0));
}

static uint64_t kt_fail_after(const struct trap_frame *tf)
{
	uint32_t pending = alloc_fail_pending();

	alloc_fail_after((uint32_t)syscall_arg(tf, 0));
	return kt_kr(copyout(&pending, (void *)syscall_arg(tf, 1), sizeof(pending)));
}

void ktest_traps_init(void)
{
	syscall_register_test_trap(KTEST_TRAP_vm_allocate, kt_vm_allocate);
	syscall_register_test_trap(KTEST_TRAP_vm_deallocate, kt_vm_deallocate);
	syscall_register_test_trap(KTEST_TRAP_task_exit, kt_task_exit);
	syscall_register_test_trap(KTEST_TRAP_fail_after, kt_fail_after);
}
