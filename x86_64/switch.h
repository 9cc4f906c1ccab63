/*
 * The context switch: the one place where a CPU stops running one thread
 * and starts another.
 *
 * switch_context (switch_asm.S) is the register swap: it pushes the
 * callee-saved registers (rbp rbx r12 r13 r14 r15) on the outgoing
 * thread's stack, stores rsp in *save_rsp, loads load_rsp, pops the same
 * registers and returns on the incoming stack.  Everything else a thread
 * owns on this CPU is swapped by cpu_switch around it: TSS rsp0 and the
 * syscall stack (cpu->kernel_rsp), the address space (task_switch:
 * the task's map, or what a kernel thread activated), the FPU/SSE
 * registers, the innermost kfault catch and the interrupt nesting depth
 * (a thread can be switched away from inside an interrupt handler and
 * resumes inside it).
 *
 * A new thread's stack is laid out so that the first switch_context to it
 * "returns" into its entry function with a null frame pointer and a null
 * return address, which ends backtraces:
 *
 *	kstack_top ->	+-------------------+
 *			| 0 (return addr)   |  entry's rsp at its first instruction
 *			| entry             |  switch_context's ret
 *			| 0 (rbp)           |
 *			| 0 rbx r12 r13 r14 |
 *	md.rsp ->	| 0 (r15)           |
 *			+-------------------+
 */
#ifndef X86_64_SWITCH_H
#define X86_64_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "x86_64/fpu.h"
#include "x86_64/trap.h"

struct kfault_catch;
struct thread;

/* Lock legend: [c] the thread itself or the CPU switching it. */
struct thread_md {
	uint64_t rsp;                     /* [c] saved rsp while switched out */
	uint64_t kstack_top;              /* [c] rsp0 while it runs */
	struct kfault_catch *fault_catch; /* [c] its innermost kfault_try while switched out */
	uint32_t irq_depth;               /* [c] interrupt nesting while switched out */
	struct fpu_area fpu;              /* [c] FPU/SSE registers while switched out */
	/* User state (x86_64/thread_state.c). */
	uint64_t fs_base;         /* [c] FS base in user mode; loaded by cpu_switch */
	bool user_entered;        /* its user frame is at the top of its kernel stack */
	struct trap_frame ustart; /* until then: where it will enter user mode */
};

/* switch_asm.S: the register swap.  Interrupts off. */
void switch_context(uint64_t *save_rsp, uint64_t load_rsp);

/*
 * Switches this CPU from `from' (the running thread) to `to'.  Returns
 * when something switches back to `from'.  Interrupts off, sched_lock
 * held (the incoming thread releases it).
 */
void cpu_switch(struct thread *from, struct thread *to);

/* Prepares t's stack (md.kstack_top set) to start in entry(); clean FPU state. */
void cpu_thread_setup(struct thread *t, void (*entry)(void));

/*
 * Machine parts of sched_init: the clean FPU state, preemption on the way
 * out of the timer interrupt, the kernel-stack-overflow reports.
 */
void cpu_sched_init(void);

#endif
