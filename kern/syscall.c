/*
 * The Mach trap table: `syscall' with a trap number in rax
 * (include/mach/syscall_sw.h) lands here through syscall_dispatch.
 *
 * Every trap but one passes through syscall_dispatch's one entry and one
 * exit point, which is where the SYSCALL perf event (id 10: trap number,
 * duration) is recorded.  On the way out the thread exits instead if
 * its task is being terminated, or stops while suspended
 * (task_user_return).  The exception: mach_msg_trap, while the SYSCALL
 * event is off, goes from x86_64/syscall_entry.S straight to
 * mach_msg_sys and does task_user_return's test there.
 *
 * The IPC traps (mach_msg_trap, mach_reply_port and the self traps) are
 * ipc/'s: ipc/mach_msg.c and ipc/ipc_kobject.c.  Everything else (vm_*,
 * task_terminate ...) is an RPC on a kernel object's port.
 */
#include <mach/syscall_sw.h>
#include <stdbool.h>
#include <stdint.h>

#include "kern/perf_analysis.h"
#include "ipc/ipc_kobject.h"
#include "ipc/mach_msg.h"
#include "kern/hostchan.h" /* issue 6: host channel */
#include "kern/sched.h"
#include "kern/syscall.h"
#include "kern/task.h"
#include "vm/vm_copy.h"
#include "x86_64/syscall.h"

#define SYS_NTRAPS 113 /* -0 .. -112 (issue 6: the host channel traps) */
#define SYS_TEST_FIRST 100
#define SYS_TEST_LAST 104 /* issue 6: -110 .. -112 are the host channel's */

/* thread_switch options (GNU Mach's). */
#define SWITCH_OPTION_NONE 0
#define SWITCH_OPTION_DEPRESS 1
#define SWITCH_OPTION_WAIT 2

static uint64_t sys_kr(kern_return_t kr)
{
	return (uint64_t)(int64_t)kr;
}

/* ipc: the self traps return a name in the caller's space, MACH_PORT_NULL on failure. */
static uint64_t sys_reply_port(const struct trap_frame *tf)
{
	return ipc_trap_reply_port();
}

static uint64_t sys_thread_self(const struct trap_frame *tf)
{
	return ipc_trap_thread_self();
}

static uint64_t sys_task_self(const struct trap_frame *tf)
{
	return ipc_trap_task_self();
}

static uint64_t sys_host_self(const struct trap_frame *tf)
{
	return ipc_trap_host_self();
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

/* issue 6: the host channel traps (kern/hostchan.h). */
static uint64_t sys_hostchan_write(const struct trap_frame *tf)
{
	return (uint64_t)hostchan_trap_write((uint32_t)syscall_arg(tf, 0), syscall_arg(tf, 1),
	                                     syscall_arg(tf, 2));
}

static uint64_t sys_hostchan_read(const struct trap_frame *tf)
{
	return (uint64_t)hostchan_trap_read((uint32_t)syscall_arg(tf, 0), syscall_arg(tf, 1),
	                                    syscall_arg(tf, 2), (uint32_t)syscall_arg(tf, 3));
}

static uint64_t sys_hostchan_bulk_write(const struct trap_frame *tf)
{
	return (uint64_t)hostchan_trap_bulk_write((uint32_t)syscall_arg(tf, 0), syscall_arg(tf, 1),
	                                          syscall_arg(tf, 2));
}

static sys_fn_t sys_table[SYS_NTRAPS] = {
	/* [I] after boot: only test traps are added */
	[-MACH_TRAP_mach_msg_trap] = mach_msg_sys, /* ipc/mach_msg.c */
	[-MACH_TRAP_mach_reply_port] = sys_reply_port,
	[-MACH_TRAP_mach_thread_self] = sys_thread_self,
	[-MACH_TRAP_mach_task_self] = sys_task_self,
	[-MACH_TRAP_mach_host_self] = sys_host_self,
	[-MACH_TRAP_mach_print] = sys_mach_print,
	[-MACH_TRAP_swtch_pri] = sys_swtch,
	[-MACH_TRAP_swtch] = sys_swtch,
	[-MACH_TRAP_thread_switch] = sys_thread_switch,
	[-MACH_TRAP_hostchan_write] = sys_hostchan_write,           /* issue 6 */
	[-MACH_TRAP_hostchan_read] = sys_hostchan_read,             /* issue 6 */
	[-MACH_TRAP_hostchan_bulk_write] = sys_hostchan_bulk_write, /* issue 6 */
};

bool syscall_register_test_trap(long num, sys_fn_t fn)
{
	if (num > -SYS_TEST_FIRST || num < -SYS_TEST_LAST || sys_table[-num])
		return false;
	sys_table[-num] = fn;
	return true;
}

static inline uint64_t sys_call(struct trap_frame *tf, long num)
{
	if (num <= 0 && num > -SYS_NTRAPS && sys_table[-num])
		return sys_table[-num](tf);
	return sys_kr(KERN_INVALID_ARGUMENT);
}

/* The SYSCALL perf event (id 10): data1 = num, data2 = the return value, timed. */
static __attribute__((noinline)) uint64_t sys_call_timed(struct trap_frame *tf, long num)
{
	uint64_t r = 0;

	PERF_TIME_BLOCK_CUR(PERF_EVENT_SYSCALL, num, (uint32_t)r, { r = sys_call(tf, num); });
	return r;
}

void syscall_dispatch(struct trap_frame *tf)
{
	long num = syscall_number(tf);

	/* The timed block out of line: untimed, a trap saves fewer registers. */
	tf->rax = PERF_EVENT_ON(PERF_EVENT_SYSCALL) ? sys_call_timed(tf, num) : sys_call(tf, num);
	task_user_return();
}
