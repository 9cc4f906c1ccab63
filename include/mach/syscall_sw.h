/*
 * Mach trap numbers and the trap calling convention.
 *
 * A trap is the `syscall` instruction with the (negative) trap number in
 * rax and up to six arguments in rdi, rsi, rdx, r10, r8, r9 (r10 stands in
 * for rcx, which `syscall` overwrites); the result comes back in rax.
 * rcx and r11 are clobbered, every other register is preserved.  An
 * unknown trap number returns KERN_INVALID_ARGUMENT (as GNU Mach's
 * kern_invalid does).
 */
#ifndef MACH_SYSCALL_SW_H
#define MACH_SYSCALL_SW_H

/* GNU Mach's numbers. */
#define MACH_TRAP_mach_msg_trap -25
#define MACH_TRAP_mach_reply_port -26
#define MACH_TRAP_mach_thread_self -27
#define MACH_TRAP_mach_task_self -28
#define MACH_TRAP_mach_host_self -29
#define MACH_TRAP_mach_print -30
#define MACH_TRAP_swtch_pri -59
#define MACH_TRAP_swtch -60
#define MACH_TRAP_thread_switch -61

/* mach_print(s): at most this many bytes, NUL included (else KERN_INVALID_ARGUMENT). */
#define MACH_PRINT_MAX 1024

/*
 * TEMPORARY traps, until the Mach IPC issue exposes vm_allocate and
 * friends and task_terminate as MIG RPCs on the task port; then they are
 * removed.  They act on the calling task.
 *	vm_allocate(uintptr_t *addr, size_t size, int anywhere)
 *	vm_deallocate(uintptr_t addr, size_t size)
 *	vm_protect(uintptr_t addr, size_t size, int set_max, int prot)
 *	task_exit(int status)		never returns
 */
#define MACH_TRAP_tmp_vm_allocate -100
#define MACH_TRAP_tmp_vm_deallocate -101
#define MACH_TRAP_tmp_vm_protect -102
#define MACH_TRAP_tmp_task_exit -103

#endif
