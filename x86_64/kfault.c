/*
 * Recoverable kernel faults (see kfault.h for the contract).
 *
 * Each CPU keeps a stack of armed catches (cpu->fault_catch, innermost
 * first).  trap_dispatch offers every kernel-mode exception to
 * kfault_recover before it reports and panics; recovery pops the
 * innermost catch, records the fault in it and rewrites the trap frame so
 * that the iretq "returns" into kfault_longjmp(c, vector + 1).  The iretq
 * restores the interrupted RFLAGS, so the interrupt flag after a caught
 * fault is what it was at the faulting instruction.
 *
 * Not caught: NMI, double fault and machine check.  They are not caused
 * by the bracketed access (an NMI can arrive anywhere) or leave the
 * machine in a state a longjmp cannot repair; they are reported instead.
 */
#include <stddef.h>

#include "kern/panic.h"
#include "kern/printf.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/kfault.h"
#include "x86_64/trap.h"

void kfault_push(struct kfault_catch *c)
{
	struct cpu *cpu = cpu_current();

	c->prev = cpu->fault_catch;
	c->irq_depth = cpu->irq_depth;
	c->vector = c->error = c->cr2 = c->fault_rip = 0;
	cpu->fault_catch = c;
}

void kfault_end(struct kfault_catch *c)
{
	struct cpu *cpu = cpu_current();

	if (cpu->fault_catch != c)
		panic("kfault_end: unbalanced catch %p (innermost %p)", c, cpu->fault_catch);
	cpu->fault_catch = c->prev;
}

static int kfault_catchable(unsigned vector)
{
	return vector < 32 && vector != T_NMI && vector != T_DOUBLE_FAULT &&
	       vector != T_MACHINE_CHECK;
}

extern const char copy_user_end[], copy_user_fixup[];

int kfault_in_copy_user(uintptr_t rip)
{
	return rip >= (uintptr_t)copy_user && rip < (uintptr_t)copy_user_end;
}

int kfault_recover(struct trap_frame *tf)
{
	struct cpu *cpu = cpu_current();
	struct kfault_catch *c = cpu->fault_catch;

	/* copy_user resumes in its own frame: no stack to unwind, any depth. */
	if (!trap_from_user(tf) && kfault_catchable((unsigned)tf->vector) &&
	    kfault_in_copy_user(tf->rip)) {
		tf->rdx = tf->vector == T_PAGE_FAULT ? read_cr2() : 0;
		tf->rax = tf->vector + 1;
		tf->rip = (uint64_t)copy_user_fixup;
		return 1;
	}
	if (!c || trap_from_user(tf) || !kfault_catchable((unsigned)tf->vector) ||
	    c->irq_depth != cpu->irq_depth)
		return 0;
	/*
	 * The faulting code runs in the frame that armed the catch or in one
	 * it called, so at or below the catch's stack pointer.  A catch lower
	 * on the stack than the fault was armed by a function that has since
	 * returned without kfault_end: jumping there would resume a dead
	 * frame, so report the fault instead.
	 */
	if (c->rsp < tf->rsp) {
		kprintf(
		    "kfault_recover: catch %p is stale (armed at rsp %#lx, fault at rsp %#lx)\n", c,
		    c->rsp, tf->rsp);
		return 0;
	}
	cpu->fault_catch = c->prev;
	c->vector = tf->vector;
	c->error = tf->error;
	c->cr2 = tf->vector == T_PAGE_FAULT ? read_cr2() : 0;
	c->fault_rip = tf->rip;
	tf->rip = (uint64_t)kfault_longjmp;
	tf->rdi = (uint64_t)c;
	tf->rsi = tf->vector + 1;
	return 1;
}
