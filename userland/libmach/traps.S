/*
 * Mach trap stubs.  <mach/syscall_sw.h>: `syscall` with the trap number
 * in rax, arguments in rdi rsi rdx r10 r8 r9, result in rax; rcx and r11
 * are clobbered (both caller-saved in the SysV ABI, so C callers lose
 * nothing).  The C ABI passes the fourth argument in rcx, which syscall
 * overwrites: it moves to r10.
 */
#include <mach/syscall_sw.h>

.macro MACH_TRAP name, number
	.text
	.globl \name
	.type \name, @function
	.p2align 4
\name:
	mov	%rcx, %r10
	mov	$(\number), %rax
	syscall
	ret
	.size \name, . - \name
.endm

MACH_TRAP mach_print, MACH_TRAP_mach_print
MACH_TRAP swtch_pri, MACH_TRAP_swtch_pri
MACH_TRAP swtch, MACH_TRAP_swtch
MACH_TRAP thread_switch, MACH_TRAP_thread_switch
MACH_TRAP tmp_vm_allocate, MACH_TRAP_tmp_vm_allocate
MACH_TRAP tmp_vm_deallocate, MACH_TRAP_tmp_vm_deallocate
MACH_TRAP tmp_vm_protect, MACH_TRAP_tmp_vm_protect

/* The kernel never returns from it; if it did, die loudly (#UD). */
	.text
	.globl tmp_task_exit
	.type tmp_task_exit, @function
	.p2align 4
tmp_task_exit:
	mov	$(MACH_TRAP_tmp_task_exit), %rax
	syscall
	ud2
	.size tmp_task_exit, . - tmp_task_exit

/* long mach_trap_raw(number, a0, a1, a2, a3, a4, a5): a5 is on the stack. */
	.globl mach_trap_raw
	.type mach_trap_raw, @function
	.p2align 4
mach_trap_raw:
	mov	%rdi, %rax
	mov	%rsi, %rdi
	mov	%rdx, %rsi
	mov	%rcx, %rdx
	mov	%r8, %r10
	mov	%r9, %r8
	mov	8(%rsp), %r9
	syscall
	ret
	.size mach_trap_raw, . - mach_trap_raw

	.section .note.GNU-stack, "", @progbits
