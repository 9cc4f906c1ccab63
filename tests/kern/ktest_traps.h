/*
 * Test traps: for the hand-written ring-3 programs of the in-kernel
 * suites only, which have no MIG stubs to call vm_allocate or end with a
 * status the Mach way.  They were the user ABI's TEMPORARY tmp_* traps;
 * the ABI lost them when the RPCs came (issue 4), and only a kernel
 * built with the ktest suites registers them (tests/kern/ktest_traps.c,
 * from ktest_main).  They act on the calling task:
 *	vm_allocate(uintptr_t *addr, size_t size, int anywhere)	-100
 *	vm_deallocate(uintptr_t addr, size_t size)		-101
 *	task_exit(int status)					-103, never returns
 *	fail_after(uint32_t n, uint32_t *pending)		-104
 * fail_after is alloc_fail_after(n) for user programs that sweep
 * allocation failures through RPCs (tests/user/test-mach-rpc.c); it
 * writes what alloc_fail_pending said before, and a kernel without the
 * traps answers KERN_INVALID_ARGUMENT, which such a program takes as
 * "skip".
 */
#ifndef TESTS_KERN_KTEST_TRAPS_H
#define TESTS_KERN_KTEST_TRAPS_H

#define KTEST_TRAP_vm_allocate -100
#define KTEST_TRAP_vm_deallocate -101
#define KTEST_TRAP_task_exit -103
#define KTEST_TRAP_fail_after -104

#endif
