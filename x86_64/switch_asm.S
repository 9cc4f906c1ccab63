/*
 * void switch_context(uint64_t *save_rsp, uint64_t load_rsp)
 *
 * Saves the callee-saved registers on the current stack and the stack
 * pointer in *save_rsp (rdi), then resumes the context whose stack pointer
 * is load_rsp (rsi).  The caller-saved registers are dead across the call
 * by the ABI; rflags is the caller's business (interrupts are off).  The
 * frame it leaves is described in switch.h.
 */
	.text
	.globl switch_context
	.type switch_context, @function
	.align 16
switch_context:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size switch_context, . - switch_context
