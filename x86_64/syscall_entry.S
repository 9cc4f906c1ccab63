/*
 * The `syscall' entry and the way back to ring 3 (the design is in
 * syscall.h).
 *
 * On entry the CPU has put the user rip in rcx and the user rflags in
 * r11, masked IF, DF, TF and AC (FMASK) and loaded the kernel CS and SS;
 * rsp is still the user's and GS the user's.  The entry switches to this
 * thread's kernel stack (gs:8, set by every context switch), builds the
 * same struct trap_frame as trap_entry.S, with vector T_SYSCALL, and
 * calls into C with interrupts on.  rbp points at the frame's error word
 * (always 0 here), which the rip above it makes a call frame
 * [ 0 ][ user rip ]: frame-pointer backtraces end at the user rip.
 *
 * mach_msg_trap, the trap of every RPC, goes straight to mach_msg_sys
 * when the SYSCALL perf event is off, and its way back does
 * task_user_return's test here (thread->user_ret | task->user_ret; any
 * work goes to task_user_return_slow).  Every other trap, and every trap
 * while the event is on, goes through syscall_dispatch (kern/syscall.c),
 * which times it and does the same test.  Either way tf->rax holds the
 * result as soon as the call returns, so thread_get_state never sees the
 * trap number there, and rax is reloaded from the frame after anything
 * that may have changed it (task_user_return_slow, a thread_set_state).
 *
 * The way out is sysretq unless the rip is not a canonical user address
 * (sysretq would fault in ring 0 on Intel CPUs): then it is trap_entry.S's
 * iretq path.  CS and SS are not checked: the only writers of a syscall
 * frame, this entry and machine_thread_set_state, store the user
 * selectors, and sysretq loads those anyway.  RFLAGS gets IF and loses
 * IOPL whatever the frame says.
 */
#include "x86_64/trap_asm.inc"
/* Checked against cpu.h, syscall.h, thread.h, task.h and co. in syscall.c. */
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28
#define T_SYSCALL 0x80
#define TF_RCX (12 * 8)
#define TF_RBX (13 * 8)
#define TF_RAX (14 * 8)
#define TF_ERROR (16 * 8)
#define TF_RIP (17 * 8)
#define TF_RFLAGS (19 * 8)
#define TF_RSP (20 * 8)
#define RFLAGS_IF 0x200
#define RFLAGS_IOPL 0x3000
#define CPU_THREAD 160		/* offsetof(struct cpu, thread) */
#define THREAD_TASK 784		/* offsetof(struct thread, task) */
#define THREAD_USER_RET 968	/* offsetof(struct thread, user_ret) */
#define TASK_USER_RET 488	/* offsetof(struct task, user_ret) */
#define TRAP_MACH_MSG (-25)	/* MACH_TRAP_mach_msg_trap */
#define PERF_SYSCALL_BYTE 1	/* PERF_EVENT_SYSCALL (10) in perf_active_mask */
#define PERF_SYSCALL_BIT 0x04

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
	leaq	TF_ERROR(%rsp), %rbp	/* [ 0 ][ user rip ]: the end of the chain */
	sti
	cmpq	$TRAP_MACH_MSG, %rax
	jne	.Ldispatch
#ifdef CONFIG_PERF_ANALYSIS
	testb	$PERF_SYSCALL_BIT, perf_active_mask + PERF_SYSCALL_BYTE(%rip)
	jnz	.Ldispatch
#endif
	call	mach_msg_trap_fast	/* x86_64/mach_msg_fast.S; mach_msg_sys for the rest */
	movq	%rax, TF_RAX(%rsp)	/* the result, in the frame at once (thread_get_state) */

	/* task_user_return: a user thread always has a task. */
	movq	%gs:CPU_THREAD, %rsi
	movq	THREAD_TASK(%rsi), %rdi
	movq	THREAD_USER_RET(%rsi), %rcx
	orq	TASK_USER_RET(%rdi), %rcx
	jnz	.Luser_ret_slow

	/* rax: the result; everything else comes from the frame. */
.Lexit:
	cli
	testl	$0xffff8000, TF_RIP + 4(%rsp)	/* rip bits 47..63 */
	jnz	.Liret

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
	/* rsp points at rcx (gets rip) now: the frame's offsets are 12 words less. */
	movq	TF_RBX - TF_RCX(%rsp), %rbx
	movq	TF_RIP - TF_RCX(%rsp), %rcx
	movq	TF_RFLAGS - TF_RCX(%rsp), %r11
	andq	$~RFLAGS_IOPL, %r11
	orq	$RFLAGS_IF, %r11
	movq	TF_RSP - TF_RCX(%rsp), %rsp
	swapgs
	sysretq

.Luser_ret_slow:
	call	task_user_return_slow	/* (task, self): the thread may stop here */
	jmp	.Lframe_exit

.Ldispatch:
	call	syscall_dispatch	/* puts the result in tf->rax */
.Lframe_exit:
	movq	TF_RAX(%rsp), %rax
	jmp	.Lexit

.Liret:
	jmp	trap_return		/* tf->rax is the result on every way here */
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
