/*
 * The 256 IDT entry stubs and the common path.  Each stub pushes a dummy
 * error code where the CPU pushes none, then its vector, so every handler
 * sees the same struct trap_frame (x86_64/trap.h).  Entries from user mode
 * swap GS so gs:0 is always this CPU's struct cpu in the kernel.
 */
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
1:	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	cld
	movq	%rsp, %rdi
	/* A frame-pointer link through the interrupted rip for backtraces. */
	pushq	17*8(%rsp)		/* tf->rip */
	pushq	%rbp
	movq	%rsp, %rbp
	call	trap_dispatch
	addq	$16, %rsp
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
	.globl trap_stub_table
	.align 8
trap_stub_table:
	.set i, 0
	.rept 256
	.quad trap_stubs + i * 16
	.set i, i + 1
	.endr
