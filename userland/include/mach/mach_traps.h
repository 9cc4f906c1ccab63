/*
 * The Mach traps as C functions (userland/libmach/traps.S).  The trap
 * numbers and the register convention are <mach/syscall_sw.h>.
 *
 * The tmp_* traps are TEMPORARY: they stand in for the vm_allocate,
 * vm_deallocate, vm_protect and task_terminate RPCs on the task port
 * until Mach IPC and MIG stubs exist, and act on the calling task.  They
 * keep their tmp_ names so no caller mistakes them for the Mach API.
 */
#ifndef MACH_MACH_TRAPS_H
#define MACH_MACH_TRAPS_H

#include <mach/kern_return.h>
#include <stddef.h>
#include <stdint.h>

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
 * Allocates size bytes of demand-zero memory: anywhere (then *addr
 * returns the address) or exactly at *addr (page-aligned).
 */
kern_return_t tmp_vm_allocate(uintptr_t *addr, size_t size, int anywhere);
kern_return_t tmp_vm_deallocate(uintptr_t addr, size_t size);
kern_return_t tmp_vm_protect(uintptr_t addr, size_t size, int set_maximum, vm_prot_t prot);
/* Ends the calling task with status; never returns. */
__attribute__((noreturn)) void tmp_task_exit(int status);

/*
 * Any trap by number, for tests of the trap entry itself (unknown
 * numbers, hostile arguments): rax = number, rdi.. = a0..a5.
 */
long mach_trap_raw(long number, long a0, long a1, long a2, long a3, long a4, long a5);

#endif
