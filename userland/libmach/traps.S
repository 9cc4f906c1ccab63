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
MACH_TRAP mach_reply_port, MACH_TRAP_mach_reply_port
MACH_TRAP mach_thread_self, MACH_TRAP_mach_thread_self
MACH_TRAP mach_host_self, MACH_TRAP_mach_host_self
/* The trap behind mach_task_self() (<mach/mach_init.h> caches its result). */
MACH_TRAP __mach_task_self, MACH_TRAP_mach_task_self

/*
 * mach_msg_trap(msg, option, send_size, rcv_size, rcv_name, timeout,
 * notify): seven arguments, but a trap carries six registers.  notify
 * (the seventh, on the stack) is not passed: the kernel implements no
 * MACH_SEND_NOTIFY / MACH_RCV_NOTIFY and ignores it (docs/ipc.md).
 */
MACH_TRAP mach_msg_trap, MACH_TRAP_mach_msg_trap

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

/*
 * mach_msg (mach_msg.c has the contract): the trap itself is made here,
 * and only a result other than MACH_MSG_SUCCESS goes on to C, where
 * interrupted sends and receives are retried.  A C wrapper around
 * mach_msg_trap cost ~30 instructions per message, a tenth of a null
 * round trip.  After `syscall' every register but rax, rcx and r11 is
 * as it was, so the arguments are still in place for mach_msg_retry;
 * its seventh argument, mr, goes in the stack slot of mach_msg's seventh
 * (notify, which no trap carries), the callee's to use in the SysV ABI.
 */
	.text
	.globl mach_msg
	.type mach_msg, @function
	.p2align 4
mach_msg:
	mov	%rcx, %r10
	mov	$(MACH_TRAP_mach_msg_trap), %rax
	syscall
	test	%eax, %eax
	jnz	1f
	ret
1:	mov	%r10, %rcx
	mov	%eax, 8(%rsp)
	jmp	mach_msg_retry
	.size mach_msg, . - mach_msg
