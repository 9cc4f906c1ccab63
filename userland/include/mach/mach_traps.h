/*
 * The Mach traps as C functions (userland/libmach/traps.S).  The trap
 * numbers and the register convention are <mach/syscall_sw.h>.
 *
 * Everything else (vm_allocate, task_terminate, mach_port_allocate ...)
 * is a MIG RPC on a port: "mach.h", "mach_port.h", "mach_host.h" from
 * mig-gen/ (docs/userland.md).  mach_task_self() is <mach/mach_init.h>.
 */
#ifndef MACH_MACH_TRAPS_H
#define MACH_MACH_TRAPS_H

#include <mach/kern_return.h>
#include <stddef.h>
#include <stdint.h>

#include <mach/message.h>
#include <mach/port.h>
#include <mach/vm_prot.h>

/* thread_switch options (GNU Mach's values). */
#define SWITCH_OPTION_NONE 0
#define SWITCH_OPTION_DEPRESS 1
#define SWITCH_OPTION_WAIT 2

/* Prints a NUL-terminated string on the console. */
void mach_print(const char *s);

/* Yields the processor; true if other threads were ready to run. */
int swtch(void);
/* Like swtch, and depresses the caller's priority (GNU Mach). */
int swtch_pri(int priority);
/*
 * Hands the processor to thread_name (0: any), with option and a time in
 * ms.  thread_name is a mach_port_t and option_time a mach_msg_timeout_t
 * (both natural_t, unsigned int) in GNU Mach's prototype.
 */
kern_return_t thread_switch(unsigned int thread_name, int option, unsigned int option_time);

/*
 * The self traps: each returns a name in the caller's space for a send
 * right (one more user reference per call), or MACH_PORT_NULL.
 * mach_reply_port makes a new receive right.
 */
mach_port_t mach_reply_port(void);
mach_port_t mach_thread_self(void);
mach_port_t mach_host_self(void);
mach_port_t __mach_task_self(void);

/*
 * Any trap by number, for tests of the trap entry itself (unknown
 * numbers, hostile arguments): rax = number, rdi.. = a0..a5.
 */
long mach_trap_raw(long number, long a0, long a1, long a2, long a3, long a4, long a5);

#endif
