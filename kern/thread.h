/*
 * Threads: the unit the scheduler runs.  This file is the thread's life
 * cycle (create, exit, join, reap) and its kernel stack; kern/sched.h is
 * everything about running, waiting and waking.
 *
 * Life cycle and ownership.  A thread is created RUNNABLE with one
 * reference for its own execution, plus one for the caller when the
 * caller asks for the pointer (out != NULL).  thread_exit() makes it
 * TERMINATED; once it is off its CPU for good (the next thread's switch
 * tail notices) it becomes a zombie.  The execution reference is dropped
 * by the reaper (thread_reap(), run by thread_join and by the idle
 * thread); the caller's by thread_join or thread_deallocate.  The last
 * reference frees the stack and the struct, so no thread ever frees the
 * stack it runs on.
 *
 * Kernel stacks live in their own virtual area, KSTACK_AREA: slot n is
 * [KSTACK_AREA + n * KSTACK_SLOT, + KSTACK_SLOT), whose lowest page is an
 * unmapped guard and the KSTACK_SIZE above it the stack.  An overflow
 * runs into the guard; the CPU cannot push the page-fault frame there
 * either and raises a double fault (on its own IST stack), whose handler
 * asks thread_stack_guard_hit() and panics with "kernel stack overflow".
 * The boot thread keeps the boot stack in .bss, which has no guard.
 */
#ifndef KERN_THREAD_H
#define KERN_THREAD_H

#include <mach/kern_return.h>
#include <stdbool.h>
#include <stdint.h>

#include "x86_64/boot.h"
#include "x86_64/cpu.h"
#include "x86_64/switch.h"

/* Kernel stack area: 0xffffff0000000000 (PML4 slot 510), 20 KiB slots. */
#define KSTACK_AREA 0xffffff0000000000ul
#define KSTACK_GUARD 4096ul
#define KSTACK_SLOT (KSTACK_SIZE + KSTACK_GUARD)
#define KSTACK_SLOTS 4096 /* at most this many threads at once (80 MiB of VA) */

/*
 * Priorities: 0..31, higher runs first.  The running thread is always a
 * highest-priority runnable one; equal priorities share the CPU round
 * robin, one quantum each.  The idle thread sits below all of them and
 * is on no run queue.
 */
#define SCHED_PRI_MIN 0
#define SCHED_PRI_MAX 31
#define SCHED_NPRI 32
#define SCHED_PRI_DEFAULT 16 /* the boot thread and ordinary kernel threads */

enum thread_state {
	TH_RUNNING,    /* on a CPU */
	TH_RUNNABLE,   /* on a run queue */
	TH_WAITING,    /* asserted a wait: on a wait queue (still on its CPU until it blocks) */
	TH_TERMINATED, /* thread_exit() called; freed once unreferenced */
};

/* Why a wait ended (GNU Mach's numbers). */
#define THREAD_AWAKENED 0    /* thread_wakeup / thread_wakeup_one on its event */
#define THREAD_TIMED_OUT 1   /* its timeout passed first */
#define THREAD_INTERRUPTED 2 /* thread_clear_wait(t, THREAD_INTERRUPTED) */

/* What a thread waits for: any address, compared by value. */
typedef const void *event_t;

#define THREAD_NAME_MAX 24

struct task;
struct vm_map;
struct ipc_port;

/*
 * Lock legend: [I] immutable after creation, [s] sched_lock,
 * [l] the thread list lock (kern/thread.c), [a] atomic, [c] only the
 * thread itself or the CPU running it.
 */
struct thread {
	struct thread_md md;        /* [c] machine state: saved rsp, FPU area, stack top */
	uint32_t id;                /* [I] unique; not reused for 2^32 creations */
	char name[THREAD_NAME_MAX]; /* [I] */
	struct task *task;          /* [I] owning task, NULL for kernel threads */
	struct thread *task_next;   /* [t] the task's threads (task->lock, kern/task.c) */
	struct vm_map *kernel_map;  /* [c] kernel thread: map it activated (vm_map_activate) */
	struct ipc_port *ith_self;  /* [c] its kernel port (ipc/), made on first mach_thread_self */
	struct ipc_port *ith_kcall; /* [c] the kernel object it is serving a fast-path RPC on */
	enum thread_state state;    /* [s] */
	int priority;               /* [s] SCHED_PRI_MIN..SCHED_PRI_MAX */
	uint64_t quantum_left;      /* [s] ns of time slice left for its next run */
	uint64_t slice_end;         /* [s] while it runs: clock_ns() at which its slice ends */
	bool on_cpu;                /* [s] some CPU runs it, or is still switching away */
	bool idle;                  /* [I] a CPU's idle thread */
	uintptr_t kstack_base;      /* [I] lowest stack address (just above the guard) */
	int kstack_slot;            /* [I] slot in KSTACK_AREA, -1 for the boot stack */
	event_t wait_event;         /* [s] what it waits for (NULL: only a timeout or clear) */
	int wait_result;            /* [s] THREAD_AWAKENED and co., valid after the wait */
	uint64_t wait_deadline;     /* [s] clock_ns() at which the wait times out, 0: never */
	struct thread *q_next;      /* [s] run queue, wait queue or zombie list */
	struct thread *q_prev;      /* [s] */
	struct thread *to_next;     /* [s] timeout list, sorted by wait_deadline */
	struct thread *all_next;    /* [l] every thread */
	struct thread *all_prev;    /* [l] */
	uint32_t refs;              /* [a] see the life cycle above */
	void (*fn)(void *);         /* [I] */
	void *arg;                  /* [I] */
	uint64_t switches_in;       /* [s] times it was switched to */
	/*
	 * Mach control of a user thread (kern/ipc_tt.c, task_user_return).
	 * One word with the task's user_ret: the way back to user mode
	 * tests both in one branch (syscall_entry.S too).
	 */
	union {
		struct {
			int suspend_count; /* [t] thread_suspend: > 0 stops it at the boundary */
			bool terminate_requested; /* [t] thread_terminate: exits at the boundary */
			uint8_t user_ret_pad[3];  /* [I] always zero */
		};
		uint64_t user_ret; /* [a] nonzero: task_user_return_slow has work */
	};
};

/*
 * Creates a kernel thread running fn(arg) at priority pri, RUNNABLE at
 * once (it runs before the caller returns if pri is higher than the
 * caller's).  If out is not NULL, *out gets a reference the caller must
 * give back with thread_join or thread_deallocate; otherwise the thread is
 * reaped on its own after it exits.
 * Returns KERN_SUCCESS, KERN_INVALID_ARGUMENT (pri out of range, no fn),
 * or KERN_RESOURCE_SHORTAGE (no memory, no stack slot).
 */
kern_return_t thread_create_kernel(const char *name, void (*fn)(void *), void *arg, int pri,
                                   struct thread **out);

/*
 * The same for a thread of task (NULL: a kernel thread), which is
 * attached to the task (task_thread_attach) before it can run and
 * detached when its struct is freed.  Also KERN_INVALID_TASK when the
 * task is terminating.
 */
kern_return_t thread_create_in_task(struct task *task, const char *name, void (*fn)(void *),
                                    void *arg, int pri, struct thread **out);

/* Ends the calling thread.  Returning from a thread's fn does the same. */
__attribute__((noreturn)) void thread_exit(void);

/* The thread running on this CPU (one load: it is on every trap's path). */
static inline struct thread *thread_current(void)
{
	return cpu_current()->thread;
}

/*
 * Waits until t has exited and left its CPU, then drops the caller's
 * reference (the one thread_create_kernel returned) and reaps.
 * Returns KERN_INVALID_ARGUMENT for NULL or the caller itself.
 */
kern_return_t thread_join(struct thread *t);

void thread_reference(struct thread *t);
/* Drops a reference; the last one frees the stack and the struct. */
void thread_deallocate(struct thread *t);

/* Drops the execution reference of every zombie; returns how many it took. */
unsigned thread_reap(void);

/* Threads that exist (not yet freed), idle and boot threads included. */
unsigned thread_count(void);
/* Threads created since boot, and freed since boot. */
uint64_t thread_created_total(void);
uint64_t thread_freed_total(void);

/*
 * Is addr inside the guard page of a kernel stack slot?  For the fault
 * paths: a kernel page fault or double fault there is a stack overflow.
 * Lock-free, so it is safe from a fault that hit with locks held.
 */
bool thread_stack_guard_hit(uint64_t addr);
/* The thread whose stack slot holds addr, or NULL; lock-free, for reports only. */
const struct thread *thread_stack_owner(uint64_t addr);

/* Internal to kern/thread.c and kern/sched.c. */
struct thread *thread_alloc_boot(void);
struct thread *thread_alloc_idle(void (*fn)(void *));

#endif
