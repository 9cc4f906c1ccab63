/*
 * The 256 IDT entry stubs and the common path.  Each stub pushes a dummy
 * error code where the CPU pushes none, then its vector, so every handler
 * sees the same struct trap_frame (x86_64/trap.h).  Entries from user mode
 * swap GS so gs:0 is always this CPU's struct cpu in the kernel.
 *
 * Below the trap frame, trap_common pushes a fake call frame
 * [ interrupted rbp ][ interrupted rip ] and points rbp at it, so a
 * frame-pointer walk from trap_dispatch continues into the interrupted
 * kernel code (kern/ksyms.c).  The return address of the call into C,
 * exported as trap_entry_return_pc, tells the walk where that crossing
 * is.  From user mode the fake rbp is 0: the walk stops at the user rip.
 */
#include "x86_64/trap_asm.inc"
	.text

	.globl trap_stubs
	.align 16
trap_stubs:
	.set i, 0
	.rept 256
	.align 16
	.if (i == 8) || (i >= 10 && i <= 14) || (i == 17) || (i == 21) || (i == 29) || (i == 30)
	.else
	pushq	$0
	.endif
	pushq	$i
	jmp	trap_common
	.set i, i + 1
	.endr

trap_common:
	testb	$3, 24(%rsp)		/* cs of the interrupted context */
	jz	1f
	swapgs
1:
	TRAP_PUSH_GPRS
	cld
	movq	%rsp, %rdi		/* struct trap_frame * */
	pushq	17*8(%rdi)		/* fake frame: tf->rip ... */
	testb	$3, 18*8(%rdi)		/* tf->cs */
	jnz	3f
	pushq	%rbp			/* ... and the interrupted kernel rbp */
	jmp	4f
3:	pushq	$0			/* ... or the end of the chain */
4:	movq	%rsp, %rbp
	call	trap_dispatch
.Ltrap_dispatch_return:
	addq	$16, %rsp		/* the fake frame */
	.globl trap_return
trap_return:
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector, error */
	testb	$3, 8(%rsp)
	jz	2f
	swapgs
2:	iretq

	.section .rodata
	.globl trap_entry_return_pc
	.align 8
trap_entry_return_pc:
	.quad	.Ltrap_dispatch_return

	.globl trap_stub_table
	.align 8
trap_stub_table:
	.set i, 0
	.rept 256
	.quad trap_stubs + i * 16
	.set i, i + 1
	.endr
