/*
 * The `syscall' entry and the way back to ring 3 (the design is in
 * syscall.h).
 *
 * On entry the CPU has put the user rip in rcx and the user rflags in
 * r11, masked IF, DF, TF and AC (FMASK) and loaded the kernel CS and SS;
 * rsp is still the user's and GS the user's.  The entry switches to this
 * thread's kernel stack (gs:8, set by every context switch), builds the
 * same struct trap_frame as trap_entry.S, with vector T_SYSCALL, plus the
 * fake call frame that ends backtraces at the user rip, and calls
 * syscall_dispatch with interrupts on.
 *
 * The way out is sysretq unless the frame holds something sysretq cannot
 * restore: a rip that is not a canonical user address (sysretq would
 * fault in ring 0 on Intel CPUs), or selectors other than the user ones.
 * Then it is trap_entry.S's iretq path.
 */
#include "x86_64/trap_asm.inc"
/* Checked against cpu.h and syscall.h in syscall.c. */
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28
#define T_SYSCALL 0x80
#define TF_RIP (17 * 8)
#define TF_CS (18 * 8)
#define TF_RFLAGS (19 * 8)
#define TF_RSP (20 * 8)
#define TF_SS (21 * 8)
#define RFLAGS_IF 0x200
#define RFLAGS_IOPL 0x3000

	.text
	.globl syscall_entry
	.type syscall_entry, @function
	.align 16
syscall_entry:
	swapgs
	movq	%rsp, %gs:16		/* cpu->user_rsp */
	movq	%gs:8, %rsp		/* cpu->kernel_rsp: this thread's stack top */
	pushq	$(SEL_UDATA | 3)	/* ss */
	pushq	%gs:16			/* rsp */
	pushq	%r11			/* rflags */
	pushq	$(SEL_UCODE | 3)	/* cs */
	pushq	%rcx			/* rip */
	pushq	$0			/* error */
	pushq	$T_SYSCALL		/* vector */
	TRAP_PUSH_GPRS
	movq	%rsp, %rdi		/* struct trap_frame * */
	pushq	TF_RIP(%rdi)		/* fake frame: the user rip ... */
	pushq	$0			/* ... and the end of the chain */
	movq	%rsp, %rbp
	sti
	call	syscall_dispatch
	cli
	addq	$16, %rsp		/* the fake frame */

	/* sysretq only for a canonical user rip and the user selectors. */
	movq	TF_RIP(%rsp), %rcx
	shrq	$47, %rcx
	jnz	1f
	cmpq	$(SEL_UCODE | 3), TF_CS(%rsp)
	jne	1f
	cmpq	$(SEL_UDATA | 3), TF_SS(%rsp)
	jne	1f

	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	addq	$8, %rsp		/* r11: gets rflags */
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	addq	$8, %rsp		/* rcx: gets rip */
	popq	%rbx
	popq	%rax
	/* rsp points at the vector now: the frame's offsets are 15 words less. */
	movq	TF_RIP - 15 * 8(%rsp), %rcx
	movq	TF_RFLAGS - 15 * 8(%rsp), %r11
	andq	$~RFLAGS_IOPL, %r11
	orq	$RFLAGS_IF, %r11
	movq	TF_RSP - 15 * 8(%rsp), %rsp
	swapgs
	sysretq

1:	jmp	trap_return
	.size syscall_entry, . - syscall_entry

/*
 * void user_frame_enter(struct trap_frame *tf): leaves for the context in
 * tf through the iretq path.  Interrupts off from here: between swapgs
 * and iretq GS is the user's.
 */
	.globl user_frame_enter
	.type user_frame_enter, @function
	.align 16
user_frame_enter:
	cli
	movq	%rdi, %rsp
	jmp	trap_return
	.size user_frame_enter, . - user_frame_enter
