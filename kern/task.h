/*
 * Tasks: an address space (and, with IPC, a port name space) plus the
 * threads that run in it.  A task dies when its last thread terminates or
 * when task_terminate is called; its pages, page tables, threads and
 * kernel objects all go back to the allocators.
 *
 * Life cycle.
 *   - task_create returns a task with an empty map and one reference, the
 *     caller's.  Every thread of the task holds one more, from its
 *     creation until its struct is freed (kern/thread.c calls
 *     task_thread_detach/_detached then), so thread->task is valid as
 *     long as the thread exists.  The last reference frees the struct.
 *   - Termination: task_terminate (or task_exit, or a user fault) sets
 *     `terminating' and ends the waits of the task's threads.  A thread of
 *     the task runs kernel code only inside a trap, syscall or interrupt,
 *     and on every way back to user mode it calls task_user_return, which
 *     makes it exit there.  The caller of task_exit exits itself last.
 *   - The last thread to exit (or task_terminate, when there is none)
 *     releases the map: pages and page tables go back at once, unless a
 *     kernel routine working on the map holds a reference (vm_server.c),
 *     and then when it drops it.  The thread structs (kernel stacks) go
 *     back when they are reaped.  task_wait returns when both have
 *     happened (not waiting for such a reference).
 *
 * How a task ended: TASK_EXITED with the status given to task_exit, or
 * TASK_KILLED with a short kind: the fault's ("page-fault",
 * "general-protection-fault", "invalid-opcode", "divide-error", ...,
 * trap_name() with dashes) or "terminated" (task_terminate).
 *
 * Console output (mach_print) is collected per task into lines; a whole
 * line goes out at once, after the task's prefix, so the output of tasks
 * running together never mixes within a line.  A task with a
 * TASK_CONSOLE_PORT (boot=mach) sends its output there instead.  A task can also capture
 * its lines into a buffer (the ktest user suite prints them later).
 */
#ifndef KERN_TASK_H
#define KERN_TASK_H

#include <mach/kern_return.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/spinlock.h"
#include "kern/thread.h"

struct vm_map;
struct trap_frame;
struct ipc_space;
struct ipc_port;

#define TASK_NAME_MAX 32
#define TASK_PREFIX_MAX 16
#define TASK_LINE_MAX 256 /* a longer line is broken */
#define TASK_KIND_MAX 32

enum task_end {
	TASK_RUNNING = 0, /* has not ended */
	TASK_EXITED,      /* task_exit(status) */
	TASK_KILLED,      /* a fault, or task_terminate */
};

/* Lock legend: [I] immutable after creation, [t] task->lock, [a] atomic, [L] task list lock. */
struct task {
	uint32_t id;                          /* [I] unique */
	char name[TASK_NAME_MAX];             /* [I] for diagnostics */
	struct vm_map *map;                   /* [t] its address space (a ref); NULL: released */
	spinlock_t lock;                      /* a leaf but for sched_lock and the console */
	unsigned nthreads;                    /* [t] threads that have not exited */
	struct thread *threads;               /* [t] not yet freed, linked by task_next */
	bool dead;                            /* [t] the map is gone: no thread will run */
	enum task_end end;                    /* [t] how it ended (first cause wins) */
	int exit_status;                      /* [t] TASK_EXITED: task_exit's status */
	char kill_kind[TASK_KIND_MAX];        /* [t] TASK_KILLED: see above */
	char console_prefix[TASK_PREFIX_MAX]; /* [t] printed before each line */
	char line[TASK_LINE_MAX];             /* [t] the line being collected */
	size_t line_len;                      /* [t] */
	char *capture;                        /* [t] if set, lines go here instead */
	size_t capture_size, capture_len;     /* [t] */
	bool capture_overflow;                /* [t] lines were lost */
	uint64_t cpu_tsc;                     /* [a] TSC cycles its threads ran (user + kernel) */
	uint32_t refs;                        /* [a] */
	struct ipc_space *itk_space;          /* [I] its port names (ipc/); emptied at death */
	struct ipc_port *itk_self;            /* [i] its kernel port (ipc lock); NULL once dead */
	/* Special ports (<mach/task_special_ports.h>): send rights, NULL for none. */
	struct ipc_port *itk_bootstrap; /* [i] */
	struct ipc_port *itk_exception; /* [i] */
	struct ipc_port *itk_host_priv; /* [i] */
	struct ipc_port *itk_console;   /* [i] boot=mach: its output goes here, not the console */
	/* One word, like thread->user_ret: task_user_return tests both in one branch. */
	union {
		struct {
			int suspend_count; /* [t] task_suspend count: > 0 stops every thread */
			bool terminating;  /* [t] task_terminate has begun */
			uint8_t user_ret_pad[3]; /* [I] always zero */
		};
		uint64_t user_ret; /* [a] nonzero: task_user_return_slow has work */
	};
	bool rpc_ref;          /* [t] made by task_create RPC: holds a ref until it dies */
	struct task *all_next; /* [L] */
	struct task *all_prev; /* [L] */
};

/*
 * A new task with an empty address space; *out holds the caller's
 * reference.  KERN_RESOURCE_SHORTAGE when memory runs out.
 */
kern_return_t task_create(const char *name, struct task **out);
void task_reference(struct task *task);
/* Drops a reference; the last one frees the struct (and the map if still there). */
void task_deallocate(struct task *task);

/*
 * A user thread in task: it enters ring 3 at entry with rsp = user_stack
 * and rdi = arg.  *out (if out is not NULL) gets a thread reference for
 * thread_join or thread_deallocate.  KERN_INVALID_ARGUMENT for NULL or
 * an entry or stack outside user space, KERN_INVALID_TASK when the task
 * is terminating, KERN_RESOURCE_SHORTAGE.
 */
kern_return_t thread_create_user(struct task *task, uintptr_t entry, uintptr_t user_stack,
                                 uint64_t arg, struct thread **out);
/* The same with rsi = arg1 too (the loader's main thread: argc, argv). */
kern_return_t task_thread_create(struct task *task, uintptr_t entry, uintptr_t user_stack,
                                 uint64_t arg0, uint64_t arg1, struct thread **out);

/*
 * Terminates every thread of task (TASK_KILLED "terminated" unless it had
 * already ended).  Does not wait; see task_wait.  When called by a thread
 * of task it returns, and the caller exits on its way back to user mode.
 * KERN_INVALID_ARGUMENT for NULL.
 */
kern_return_t task_terminate(struct task *task);

/*
 * Mach's task and thread control (the RPCs in kern/ipc_tt.c).  Suspension
 * and thread_terminate act at the user boundary: a thread stops (or
 * exits) on its way back to user mode, in task_user_return, so a thread
 * blocked in a trap finishes or is interrupted first.
 *	task_suspend/thread_suspend  count up; KERN_SUCCESS
 *	task_resume/thread_resume    count down; KERN_FAILURE at 0 (GNU Mach)
 *	thread_terminate_request     the thread exits at the boundary (its
 *	                             wait is interrupted); the last thread's
 *	                             exit ends the task
 * KERN_INVALID_ARGUMENT for NULL or a thread of no task.
 */
kern_return_t task_suspend(struct task *task);
kern_return_t task_resume(struct task *task);
kern_return_t thread_suspend(struct thread *t);
kern_return_t thread_resume(struct thread *t);
kern_return_t thread_terminate_request(struct thread *t);

/* Records TASK_EXITED with status, unless the task's end was recorded already. */
void task_set_exit_status(struct task *task, int status);

/* The current thread's task ends with TASK_EXITED status; the thread exits. */
__attribute__((noreturn)) void task_exit(int status);

/*
 * An exception from user mode nobody handled: prints one line
 *	task NAME (ID) killed: WHAT at rip 0xRIP addr 0xADDR
 * terminates the task (TASK_KILLED with the fault's kind) and exits the
 * current thread.  From trap_dispatch.
 */
__attribute__((noreturn)) void task_fault_kill(struct trap_frame *tf);

/*
 * On every way back to user mode (syscall, trap, interrupt), interrupts
 * off or on: exits the current thread if its task is terminating, stops
 * it while it or its task is suspended.  Nothing for kernel threads.
 * The check is inline (it is on every trap's path); the rest is
 * task_user_return_slow.
 */
void task_user_return_slow(struct task *task, struct thread *self);

static inline void task_user_return(void)
{
	struct thread *self = thread_current();
	struct task *task = self ? self->task : NULL;

	if (task && (__atomic_load_n(&self->user_ret, __ATOMIC_ACQUIRE) |
	             __atomic_load_n(&task->user_ret, __ATOMIC_ACQUIRE)))
		task_user_return_slow(task, self);
}

/*
 * Sleeps for ns (0: just yields), or less if the task is terminated
 * meanwhile.  For traps that wait on behalf of a user thread.
 */
void task_sleep(uint64_t ns);

/*
 * Waits until task is dead and all its threads are freed, or timeout_ns
 * passed (0: no limit).  Returns true if it ended.
 */
bool task_wait(struct task *task, uint64_t timeout_ns);

/* Console output of the task (mach_print): collected into lines. */
void task_console_write(struct task *task, const char *s, size_t len);
/* Prints a partial last line, if any. */
void task_console_flush(struct task *task);
/*
 * Lines go to buf (size bytes) instead of the console from now on, with
 * the prefix, NUL-terminated; task_capture_overflowed says whether lines
 * did not fit.  Before the task's threads start.
 */
void task_console_capture(struct task *task, char *buf, size_t size);
bool task_capture_overflowed(struct task *task);

/* The task of the running thread, or NULL for a kernel thread. */
struct task *task_current(void);

/* Tasks that exist (not yet freed); tasks created since boot. */
unsigned task_count(void);
uint64_t task_created_total(void);

/* perf: one task's figures (task_figures, for the perf_monitor server). */
struct task_figures {
	uint32_t id;
	uint32_t threads;
	uint64_t cpu_tsc;
	uint64_t resident_pages;
	char name[TASK_NAME_MAX];
};
/* perf: fills up to max of them, in no particular order; returns how many tasks exist. */
unsigned task_figures(struct task_figures *out, unsigned max);

/*
 * For kern/thread.c: attach a new thread before it runs (takes a task
 * reference; KERN_INVALID_TASK if the task is terminating); when its
 * struct is freed, detach it before the free and call
 * task_thread_detached after (drops the reference, wakes task_wait).
 */
kern_return_t task_thread_attach(struct task *task, struct thread *t);
void task_thread_detach(struct task *task, struct thread *t);
void task_thread_detached(struct task *task);

/*
 * For the context switch (interrupts off), at TSC time now: charges
 * from's task the time since the last switch on this CPU and loads the
 * map `to' runs in: its task's, or for a kernel thread the one it last
 * activated with vm_map_activate (NULL: the kernel's tables), which is
 * remembered for `from' if that is a kernel thread.
 */
void task_switch(struct thread *from, struct thread *to, uint64_t now);

#endif
