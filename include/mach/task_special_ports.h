/*
 * Special ports of a task (task_get_special_port / task_set_special_port)
 * and the exit-status message.
 *
 * GNU Mach's numbers: TASK_KERNEL_PORT (the task port itself, read-only
 * here: setting it is KERN_INVALID_ARGUMENT), TASK_EXCEPTION_PORT and
 * TASK_BOOTSTRAP_PORT (any send right, or MACH_PORT_NULL).
 * TASK_HOST_PRIV_PORT is machperf's: the privileged host port, given by
 * the kernel to the bootstrap task (and to ktest modules with priv=1);
 * a task passes it on like any right (task_set_special_port on a child,
 * or in a message).  A new task has none of them but its kernel port.
 *
 * Exit status.  A task ends itself with task_terminate(mach_task_self());
 * before that, libmach's _exit sends its status in a one-way message
 * (id MACH_EXIT_STATUS_ID, one int) to its bootstrap port, if it has
 * one.  The kernel's module runner is the bootstrap port of the modules
 * it starts and records the status as the task's exit status.
 */
#ifndef MACH_TASK_SPECIAL_PORTS_H
#define MACH_TASK_SPECIAL_PORTS_H

#include <mach/message.h>

#define TASK_KERNEL_PORT 1
#define TASK_EXCEPTION_PORT 3
#define TASK_BOOTSTRAP_PORT 4
#define TASK_HOST_PRIV_PORT 16 /* machperf */

#define MACH_EXIT_STATUS_ID 3600 /* no GNU Mach or Hurd subsystem uses 3600 */

/* The exit-status message: a simpleroutine's request (one int, no reply port). */
typedef struct {
	mach_msg_header_t head;
	mach_msg_type_t status_type; /* INTEGER_32, size 32, number 1, inline */
	integer_t status;
} mach_exit_status_msg_t;

_Static_assert(sizeof(mach_exit_status_msg_t) == 40, "exit status message: 40 bytes");

#endif
