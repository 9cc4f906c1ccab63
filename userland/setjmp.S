/*
 * setjmp/longjmp, replacing newlib 3.3's x86_64 pair (libc.a's
 * lib_a-setjmp.o defines both; this object, linked before libc.a, keeps
 * that one out of the link).  newlib's longjmp returns 0 from setjmp when
 * called with 0; C requires 1 (seen: a setjmp loop never ended).  Same
 * jmp_buf layout as newlib's (<machine/setjmp.h>, _JBLEN 8):
 *	0 rbx, 8 rbp, 16 r12, 24 r13, 32 r14, 40 r15, 48 rsp after return, 56 rip
 * Signal masks and the FP environment are not part of it, as in newlib.
 */
	.text
	.globl setjmp
	.type setjmp, @function
	.p2align 4
setjmp:
	mov	%rbx, 0(%rdi)
	mov	%rbp, 8(%rdi)
	mov	%r12, 16(%rdi)
	mov	%r13, 24(%rdi)
	mov	%r14, 32(%rdi)
	mov	%r15, 40(%rdi)
	lea	8(%rsp), %rax
	mov	%rax, 48(%rdi)
	mov	(%rsp), %rax
	mov	%rax, 56(%rdi)
	xor	%eax, %eax
	ret
	.size setjmp, . - setjmp

	.globl longjmp
	.type longjmp, @function
	.p2align 4
longjmp:
	mov	%esi, %eax
	test	%eax, %eax
	jnz	1f
	inc	%eax			/* longjmp(env, 0) makes setjmp return 1 */
1:	mov	0(%rdi), %rbx
	mov	8(%rdi), %rbp
	mov	16(%rdi), %r12
	mov	24(%rdi), %r13
	mov	32(%rdi), %r14
	mov	40(%rdi), %r15
	mov	48(%rdi), %rsp
	jmp	*56(%rdi)
	.size longjmp, . - longjmp

	.section .note.GNU-stack, "", @progbits
