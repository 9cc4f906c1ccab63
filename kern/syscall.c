/*
 * The Mach trap table: `syscall' with a trap number in rax
 * (include/mach/syscall_sw.h) lands here through syscall_dispatch.
 *
 * Every trap passes through syscall_dispatch's one entry and one exit
 * point, which is where the SYSCALL perf event (id 10: trap number,
 * duration) is recorded.  Only task_exit leaves without passing the exit
 * point: the thread is gone.  On the way out the thread exits instead if
 * its task is being terminated (task_user_return).
 *
 * Not yet, until the IPC issue: mach_msg_trap is an unknown trap
 * (KERN_INVALID_ARGUMENT); mach_reply_port, mach_thread_self,
 * mach_task_self and mach_host_self return MACH_PORT_NULL (0).
 */
#include <mach/syscall_sw.h>
#include <stdbool.h>
#include <stdint.h>

#include "kern/perf_analysis.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "vm/vm_copy.h"
#include "vm/vm_map.h"
#include "vm/vm_user.h"
#include "x86_64/syscall.h"

#define SYS_NTRAPS 104 /* -0 .. -103 */
#define MACH_PORT_NULL 0

/* thread_switch options (GNU Mach's). */
#define SWITCH_OPTION_NONE 0
#define SWITCH_OPTION_DEPRESS 1
#define SWITCH_OPTION_WAIT 2

typedef uint64_t (*sys_fn_t)(const struct trap_frame *tf);

static uint64_t sys_kr(kern_return_t kr)
{
	return (uint64_t)(int64_t)kr;
}

static uint64_t sys_port_null(const struct trap_frame *tf)
{
	return MACH_PORT_NULL;
}

/* mach_print(const char *s): s is at most MACH_PRINT_MAX bytes, NUL included. */
static uint64_t sys_mach_print(const struct trap_frame *tf)
{
	char buf[MACH_PRINT_MAX];
	size_t len;
	kern_return_t kr = copyinstr((const void *)syscall_arg(tf, 0), buf, sizeof(buf), &len);

	if (kr == KERN_SUCCESS)
		task_console_write(task_current(), buf, len);
	return sys_kr(kr);
}

/* swtch() and swtch_pri(pri): yield; true if other threads are runnable. */
static uint64_t sys_swtch(const struct trap_frame *tf)
{
	thread_yield();
	return sched_runnable_count() != 0;
}

/*
 * thread_switch(thread, option, time_ms): the thread is a hint (a port
 * name, ignored until IPC); DEPRESS yields (no priority depression yet),
 * WAIT sleeps time_ms (ended early if the task is terminated).
 */
static uint64_t sys_thread_switch(const struct trap_frame *tf)
{
	uint64_t option = syscall_arg(tf, 1), ms = (uint32_t)syscall_arg(tf, 2);

	switch (option) {
	case SWITCH_OPTION_NONE:
	case SWITCH_OPTION_DEPRESS:
		thread_yield();
		return sys_kr(KERN_SUCCESS);
	case SWITCH_OPTION_WAIT:
		task_sleep(ms * 1000000ull);
		return sys_kr(KERN_SUCCESS);
	default:
		return sys_kr(KERN_INVALID_ARGUMENT);
	}
}

/* tmp_vm_allocate(uintptr_t *addr, size_t size, int anywhere) */
static uint64_t sys_vm_allocate(const struct trap_frame *tf)
{
	uintptr_t *uaddr = (uintptr_t *)syscall_arg(tf, 0), addr;
	kern_return_t kr = copyin(uaddr, &addr, sizeof(addr));

	if (kr != KERN_SUCCESS)
		return sys_kr(kr);
	kr = vm_allocate(task_current()->map, &addr, syscall_arg(tf, 1), syscall_arg(tf, 2) != 0);
	if (kr == KERN_SUCCESS)
		kr = copyout(&addr, uaddr, sizeof(addr));
	return sys_kr(kr);
}

/* tmp_vm_deallocate(uintptr_t addr, size_t size) */
static uint64_t sys_vm_deallocate(const struct trap_frame *tf)
{
	return sys_kr(vm_deallocate(task_current()->map, syscall_arg(tf, 0), syscall_arg(tf, 1)));
}

/* tmp_vm_protect(uintptr_t addr, size_t size, int set_max, int prot) */
static uint64_t sys_vm_protect(const struct trap_frame *tf)
{
	return sys_kr(vm_protect(task_current()->map, syscall_arg(tf, 0), syscall_arg(tf, 1),
	                         syscall_arg(tf, 2) != 0, (vm_prot_t)syscall_arg(tf, 3)));
}

/* tmp_task_exit(int status): never returns. */
static uint64_t sys_task_exit(const struct trap_frame *tf)
{
	task_exit((int)syscall_arg(tf, 0));
}

static const sys_fn_t sys_table[SYS_NTRAPS] = {
	[-MACH_TRAP_mach_reply_port] = sys_port_null,
	[-MACH_TRAP_mach_thread_self] = sys_port_null,
	[-MACH_TRAP_mach_task_self] = sys_port_null,
	[-MACH_TRAP_mach_host_self] = sys_port_null,
	[-MACH_TRAP_mach_print] = sys_mach_print,
	[-MACH_TRAP_swtch_pri] = sys_swtch,
	[-MACH_TRAP_swtch] = sys_swtch,
	[-MACH_TRAP_thread_switch] = sys_thread_switch,
	[-MACH_TRAP_tmp_vm_allocate] = sys_vm_allocate,
	[-MACH_TRAP_tmp_vm_deallocate] = sys_vm_deallocate,
	[-MACH_TRAP_tmp_vm_protect] = sys_vm_protect,
	[-MACH_TRAP_tmp_task_exit] = sys_task_exit,
};

void syscall_dispatch(struct trap_frame *tf)
{
	long num = syscall_number(tf);
	uint64_t r = sys_kr(KERN_INVALID_ARGUMENT);

	/* SYSCALL perf event (id 10): data1 = num, data2 = the return value, timed. */
	PERF_TIME_BLOCK_CUR(PERF_EVENT_SYSCALL, num, (uint32_t)r, {
		if (num <= 0 && num > -SYS_NTRAPS && sys_table[-num])
			r = sys_table[-num](tf);
	}); /* perf */
	tf->rax = r;
	task_user_return();
}
