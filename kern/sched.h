/*
 * The scheduler: which thread runs, waiting and waking.  Priorities and
 * states are described in kern/thread.h; the policy is in kern/sched.c.
 *
 * Waiting is Mach's two-step protocol, so a wakeup between "decide to
 * wait" and "switch away" is never lost:
 *
 *	spin_lock_irqsave(&obj->lock);
 *	while (!obj->ready) {
 *		thread_assert_wait(&obj->ready);
 *		spin_unlock_irqrestore(&obj->lock, flags);
 *		r = thread_block();
 *		flags = spin_lock_irqsave(&obj->lock);
 *	}
 *
 * and the waker sets obj->ready under obj->lock and calls
 * thread_wakeup(&obj->ready).  thread_sleep(event, timeout) is the
 * one-call form when no other lock is involved.
 */
#ifndef KERN_SCHED_H
#define KERN_SCHED_H

#include <mach/kern_return.h>
#include <stdbool.h>
#include <stdint.h>

#include "kern/thread.h"

/* Time slice: round robin among equal priorities switches this often. */
#define SCHED_QUANTUM_NS 10000000ull /* 10 ms; checked at ticks, so at least one */

/*
 * Turns the boot context into the first thread ("boot", SCHED_PRI_DEFAULT),
 * creates this CPU's idle thread and hooks the clock tick.  Once, after
 * the memory and clock subsystems, with interrupts off.
 */
void sched_init(void);

/* Has sched_init run?  Before it there is no current thread. */
bool sched_ready(void);

/*
 * Marks the current thread as waiting for event (NULL: for nothing, only a
 * timeout or thread_clear_wait ends the wait).  It keeps running until
 * thread_block.  Not from interrupt context.
 */
void thread_assert_wait(event_t event);
/* Bounds the wait just asserted: it ends THREAD_TIMED_OUT after ns. */
void thread_set_timeout(uint64_t ns);
/*
 * Switches away if the current thread still waits; returns why the wait
 * ended (THREAD_AWAKENED, THREAD_TIMED_OUT, THREAD_INTERRUPTED).  Returns
 * at once if the wait already ended, or if none was asserted
 * (THREAD_AWAKENED).
 */
int thread_block(void);
/* assert_wait + set_timeout (unless timeout_ns is 0: forever) + block. */
int thread_sleep(event_t event, uint64_t timeout_ns);

/* Wakes every thread waiting for event (THREAD_AWAKENED); returns how many.  Any context. */
unsigned thread_wakeup(event_t event);
/* Wakes the longest waiter for event, if any; returns whether one was woken. */
bool thread_wakeup_one(event_t event);
/*
 * Ends t's wait, whatever its event, with result (e.g. THREAD_INTERRUPTED).
 * Returns false if t was not waiting.
 */
bool thread_clear_wait(struct thread *t, int result);

/* Lets runnable threads of equal or higher priority run first. */
void thread_yield(void);

/*
 * Sets t's priority (SCHED_PRI_MIN..SCHED_PRI_MAX); takes effect at once,
 * preempting the caller if that makes another thread the highest.
 * Returns KERN_INVALID_ARGUMENT for NULL, the idle thread or a bad priority.
 */
kern_return_t thread_set_priority(struct thread *t, int pri);

/*
 * Preempts the current thread if the scheduler asked for it (quantum
 * over, a higher-priority thread woke).  Called on the way out of an
 * interrupt, after the EOI, with interrupts off; the thread switched away
 * from resumes here later and returns through its own trap frame.
 */
void sched_preempt_check(void);

/* Per-CPU counters, for the perf engine and tests. */
struct sched_cpu_stats {
	uint64_t context_switches; /* cpu_switch calls */
	uint64_t idle_tsc;         /* TSC cycles the idle thread was current */
	uint64_t preemptions;      /* involuntary switches (tick or wakeup) */
};
void sched_get_cpu_stats(unsigned cpu, struct sched_cpu_stats *st);

/* Runnable threads (on run queues). */
unsigned sched_runnable_count(void);
/* The effective time slice: SCHED_QUANTUM_NS, or one tick if that is longer. */
uint64_t sched_quantum_ns(void);

/* For kern/thread.c only. */
void sched_thread_start(struct thread *t);
__attribute__((noreturn)) void sched_thread_exit(void);
void sched_first_run(void);
struct thread *sched_take_zombies(void);
void sched_wait_terminated(struct thread *t);

#endif
