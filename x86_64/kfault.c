#include <stddef.h>

#include "kern/panic.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/kfault.h"
#include "x86_64/trap.h"

void kfault_push(struct kfault_catch *c)
{
	struct cpu *cpu = cpu_current();

	c->prev = cpu->fault_catch;
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

int kfault_recover(struct trap_frame *tf)
{
	struct cpu *cpu = cpu_current();
	struct kfault_catch *c = cpu->fault_catch;

	if (!c || trap_from_user(tf))
		return 0;
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
