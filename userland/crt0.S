/*
 * crt0 for machperf user programs linked against newlib.
 *
 * The kernel enters _start with a SysV-style initial stack:
 *	(%rsp)		argc
 *	8(%rsp)		argv[0] ... argv[argc-1], NULL
 *	then		envp[0] ..., NULL
 *	then		auxv (AT_NULL)
 * _start aligns the stack to 16 bytes itself rather than trusting it,
 * sets environ, caches mach_task_self() (mach_init), registers
 * __libc_fini_array with atexit *before* running the constructors (so
 * destructors registered by a constructor run first, as on every SysV
 * system), runs __libc_init_array, calls main
 * and hands its result to exit(), which flushes stdio and ends in _exit.
 */
	.text
	.globl _start
	.type _start, @function
_start:
	xor	%ebp, %ebp			/* the outermost frame, for backtraces */
	mov	(%rsp), %r12			/* argc */
	lea	8(%rsp), %r13			/* argv */
	lea	8(%r13,%r12,8), %r14		/* envp: past argv's NULL */
	and	$-16, %rsp
	mov	%r14, environ(%rip)
	call	mach_init			/* mach_task_self_ (<mach/mach_init.h>) */

	lea	__libc_fini_array(%rip), %rdi
	call	atexit
	call	__libc_init_array

	mov	%r12d, %edi
	mov	%r13, %rsi
	mov	%r14, %rdx
	call	main
	mov	%eax, %edi
	call	exit
	ud2
	.size _start, . - _start

/* __libc_init_array / __libc_fini_array call these; nothing to do. */
	.section .init, "ax", @progbits
	.globl _init
	.type _init, @function
_init:
	ret
	.size _init, . - _init

	.section .fini, "ax", @progbits
	.globl _fini
	.type _fini, @function
_fini:
	ret
	.size _fini, . - _fini

	.section .note.GNU-stack, "", @progbits
