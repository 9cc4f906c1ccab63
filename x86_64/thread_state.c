/*
 * User thread state: x86_64_THREAD_STATE to and from the trap frame (the
 * design is in thread_state.h).
 */
#include <mach/thread_status.h>

#include "kern/string.h"
#include "kern/thread.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/syscall.h"
#include "x86_64/thread_state.h"

/* Lowest non-canonical address: a user rip, rsp or fs_base must lie below. */
#define TS_USER_END 0x0000800000000000ul

void user_frame_enter(struct trap_frame *tf) __attribute__((noreturn)); /* syscall_entry.S */

static struct trap_frame *ts_frame(struct thread *t)
{
	if (t->md.user_entered)
		return (struct trap_frame *)(t->md.kstack_top - sizeof(struct trap_frame));
	return &t->md.ustart;
}

void machine_thread_user_init(struct thread *t)
{
	struct trap_frame *tf = &t->md.ustart;

	memset(tf, 0, sizeof(*tf));
	tf->cs = SEL_UCODE | 3;
	tf->ss = SEL_UDATA | 3;
	tf->rflags = USER_RFLAGS;
}

kern_return_t machine_thread_get_state(struct thread *t, int flavor, natural_t *state,
                                       mach_msg_type_number_t *count)
{
	struct x86_64_thread_state s;

	if (flavor != x86_64_THREAD_STATE || *count < x86_64_THREAD_STATE_COUNT)
		return KERN_INVALID_ARGUMENT;
	unsigned long flags = intr_save();
	const struct trap_frame *tf = ts_frame(t);

	s = (struct x86_64_thread_state){
		.rax = tf->rax,
		.rbx = tf->rbx,
		.rcx = tf->rcx,
		.rdx = tf->rdx,
		.rsi = tf->rsi,
		.rdi = tf->rdi,
		.rbp = tf->rbp,
		.rsp = tf->rsp,
		.r8 = tf->r8,
		.r9 = tf->r9,
		.r10 = tf->r10,
		.r11 = tf->r11,
		.r12 = tf->r12,
		.r13 = tf->r13,
		.r14 = tf->r14,
		.r15 = tf->r15,
		.rip = tf->rip,
		.rflags = tf->rflags,
		.fs_base = t->md.fs_base,
	};
	intr_restore(flags);
	memcpy(state, &s, sizeof(s)); /* state may be 4-aligned (a message) */
	*count = x86_64_THREAD_STATE_COUNT;
	return KERN_SUCCESS;
}

kern_return_t machine_thread_set_state(struct thread *t, int flavor, const natural_t *state,
                                       mach_msg_type_number_t count)
{
	struct x86_64_thread_state s;

	if (flavor != x86_64_THREAD_STATE || count < x86_64_THREAD_STATE_COUNT)
		return KERN_INVALID_ARGUMENT;
	memcpy(&s, state, sizeof(s));
	if (s.rip >= TS_USER_END || s.rsp >= TS_USER_END || s.fs_base >= TS_USER_END)
		return KERN_INVALID_ARGUMENT;
	unsigned long flags = intr_save();
	struct trap_frame *tf = ts_frame(t);

	tf->rax = s.rax;
	tf->rbx = s.rbx;
	tf->rcx = s.rcx;
	tf->rdx = s.rdx;
	tf->rsi = s.rsi;
	tf->rdi = s.rdi;
	tf->rbp = s.rbp;
	tf->rsp = s.rsp;
	tf->r8 = s.r8;
	tf->r9 = s.r9;
	tf->r10 = s.r10;
	tf->r11 = s.r11;
	tf->r12 = s.r12;
	tf->r13 = s.r13;
	tf->r14 = s.r14;
	tf->r15 = s.r15;
	tf->rip = s.rip;
	tf->rflags = (s.rflags & X86_64_RFLAGS_USER) | USER_RFLAGS;
	tf->cs = SEL_UCODE | 3; /* a frame from an interrupt returns by iretq: keep ring 3 */
	tf->ss = SEL_UDATA | 3;
	t->md.fs_base = s.fs_base;
	if (t == cpu_current()->thread)
		wrmsr(MSR_FS_BASE, s.fs_base);
	intr_restore(flags);
	return KERN_SUCCESS;
}

void machine_thread_user_start(void)
{
	struct thread *t = cpu_current()->thread;
	struct trap_frame tf;

	intr_disable(); /* no one may see user_entered before the frame is at the top */
	tf = t->md.ustart;
	t->md.user_entered = true;
	wrmsr(MSR_FS_BASE, t->md.fs_base);
	user_frame_enter(&tf);
}
