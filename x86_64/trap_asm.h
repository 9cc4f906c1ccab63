/*
 * Assembly helpers shared by the two ways into the kernel (trap_entry.S,
 * syscall_entry.S): both build the same struct trap_frame (trap.h).
 */
/* clang-format off: assembly, not C */
#ifndef X86_64_TRAP_ASM_H
#define X86_64_TRAP_ASM_H

/* Pushes the general registers in struct trap_frame order (rax first). */
.macro TRAP_PUSH_GPRS
	pushq	%rax
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
.endm

#endif
