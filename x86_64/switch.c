/*
 * The machine side of the scheduler: cpu_switch, new-thread stacks and
 * kernel stack overflow reports.
 *
 * Preemption path.  The clock's tick hooks run inside the LAPIC timer
 * handler; the scheduler's hook (sched_tick) only decides and sets
 * cpu->need_resched, as a wakeup from any other interrupt handler does.
 * trap_dispatch switches on the way out of the outermost interrupt, after
 * the EOI (x86_64/trap.c).
 */
#include <stddef.h>

#include "kern/panic.h"
#include "kern/perf_analysis.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/switch.h"
#include "x86_64/trap.h"

_Static_assert(__builtin_offsetof(struct thread, md) == 0, "struct thread_md first");

void cpu_switch(struct thread *from, struct thread *to)
{
	struct cpu *c = cpu_current();
	uint64_t now = rdtsc();

	/*
	 * The CONTEXT_SWITCH perf event (id 8, data1 = from->id, data2 =
	 * to->id) is recorded here: every switch passes through this point
	 * exactly once, with interrupts off, on the CPU doing it.
	 */
	PERF_CONTEXT_SWITCH(from, to); /* perf */
	c->ctx_switches++;
	if (from->idle)
		c->idle_tsc += now - c->idle_since;
	if (to->idle)
		c->idle_since = now;

	fpu_save(&from->md.fpu);
	from->md.fault_catch = c->fault_catch;
	from->md.irq_depth = c->irq_depth;

	c->fault_catch = to->md.fault_catch;
	c->irq_depth = to->md.irq_depth;
	if (from->md.fs_base != to->md.fs_base) /* ipc: thread_set_state's fs_base */
		wrmsr(MSR_FS_BASE, to->md.fs_base);
	c->tss.rsp[0] = to->md.kstack_top;
	c->kernel_rsp = to->md.kstack_top;
	task_switch(from, to, now);
	fpu_restore(&to->md.fpu);

	switch_context(&from->md.rsp, to->md.rsp);
}

void cpu_thread_setup(struct thread *t, void (*entry)(void))
{
	uint64_t *sp = (uint64_t *)t->md.kstack_top;

	*--sp = 0;                  /* entry's return address: ends backtraces */
	*--sp = (uint64_t)entry;    /* switch_context returns here */
	for (int i = 0; i < 6; i++) /* rbp rbx r12 r13 r14 r15 */
		*--sp = 0;
	t->md.rsp = (uint64_t)sp;
	t->md.fault_catch = NULL;
	t->md.irq_depth = 0;
	fpu_area_init(&t->md.fpu);
}

static trap_handler_t sw_df_prev, sw_pf_prev; /* [I] */

/* A kernel fault at addr: if it is a stack guard, report the overflow and panic. */
static void sw_check_overflow(struct trap_frame *tf, uint64_t addr)
{
	if (trap_from_user(tf) || !thread_stack_guard_hit(addr))
		return;
	const struct thread *t = thread_stack_owner(addr);

	kprintf("\nkernel stack overflow: ");
	trap_report(tf);
	panic("kernel stack overflow in thread %u (%s): fault at %#lx, in the guard page below "
	      "its stack %#lx..%#lx",
	      t ? t->id : 0, t ? t->name : "?", addr, t ? t->kstack_base : 0,
	      t ? t->kstack_base + KSTACK_SIZE : 0);
}

/*
 * An overflow by a push or call faults on the guard, and the CPU cannot
 * push the page-fault frame there either: a double fault, on its own IST
 * stack, with cr2 still naming the guard.
 */
static int sw_double_fault(struct trap_frame *tf)
{
	sw_check_overflow(tf, read_cr2());
	return sw_df_prev ? sw_df_prev(tf) : 0;
}

/*
 * A plain store into the guard (rsp still fine) is an ordinary page fault.
 * With a kfault_try armed the access was a deliberate probe: let it catch.
 */
static int sw_page_fault(struct trap_frame *tf)
{
	if (cpu_current()->fault_catch == NULL)
		sw_check_overflow(tf, read_cr2());
	return sw_pf_prev ? sw_pf_prev(tf) : 0;
}

void cpu_sched_init(void)
{
	fpu_init();
	sw_df_prev = trap_register(T_DOUBLE_FAULT, sw_double_fault);
	sw_pf_prev = trap_register(T_PAGE_FAULT, sw_page_fault);
}
