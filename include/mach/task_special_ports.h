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
 * TASK_CONSOLE_PORT is machperf's too (boot=mach, docs/userland.md):
 * when a task has one, what it prints (mach_print, and the kernel's
 * "task ... killed: ..." line about it) is not written to the console
 * but sent there, one message per mach_print call (id
 * MACH_CONSOLE_OUTPUT_ID, mach_console_output_msg_t), as a blocking
 * send, so a full queue slows the printer down and nothing is lost.
 * The bytes are as printed (not split into lines); whoever receives
 * them decides how and when they reach the console.
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
#define TASK_CONSOLE_PORT 17   /* machperf */

#define MACH_EXIT_STATUS_ID 3600 /* no GNU Mach or Hurd subsystem uses 3600 */

/* The exit-status message: a simpleroutine's request (one int, no reply port). */
typedef struct {
	mach_msg_header_t head;
	mach_msg_type_t status_type; /* INTEGER_32, size 32, number 1, inline */
	integer_t status;
} mach_exit_status_msg_t;

_Static_assert(sizeof(mach_exit_status_msg_t) == 40, "exit status message: 40 bytes");

#define MACH_CONSOLE_OUTPUT_ID 3601  /* machperf: what a task printed */
#define MACH_CONSOLE_OUTPUT_MAX 1024 /* bytes per message: mach_print's limit */

/*
 * The console-output message: a CHAR array of data_type.msgt_number
 * bytes (no NUL), msgh_size = 36 + the count rounded up to 4.
 */
typedef struct {
	mach_msg_header_t head;
	mach_msg_type_t data_type; /* CHAR, size 8, number = bytes, inline */
	char data[MACH_CONSOLE_OUTPUT_MAX];
} mach_console_output_msg_t;

_Static_assert(__builtin_offsetof(mach_console_output_msg_t, data) == 36,
               "console output message: the bytes at 36");

#endif
