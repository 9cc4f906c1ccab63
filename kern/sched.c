/*
 * The scheduler.
 *
 * Policy.  32 priorities, higher runs first; one FIFO run queue per
 * priority and a bitmap of the non-empty ones, so picking the next thread
 * is one bit scan.  The rule: the running thread is always of the highest
 * priority among runnable ones.
 *   - A thread made runnable (created, woken, its priority raised) above
 *     the running thread's priority preempts it: at once when that happens
 *     in thread context, at the end of the next timer interrupt when it
 *     happens in an interrupt.
 *   - Equal priorities take turns: each run lasts a quantum
 *     (SCHED_QUANTUM_NS of clock_ns time, checked at every tick, so at
 *     least one tick long); when it is used up and another thread
 *     of the same or higher priority is runnable, the running one goes to
 *     the tail of its queue.  A thread preempted by a higher priority
 *     before its quantum is over goes back to the head of its queue and
 *     keeps the rest of its quantum.
 *   - thread_yield puts the caller at the tail; a woken thread goes to the
 *     tail with a fresh quantum.
 *   - Lower priorities never run while a higher one is runnable (no aging:
 *     a spinning high-priority thread starves lower ones, by design).
 *   - With nothing runnable the CPU runs its idle thread, which reaps dead
 *     threads and halts (sti; hlt) until an interrupt.
 *
 * Switching.  sched_lock is held (interrupts off) across cpu_switch: the
 * outgoing thread takes it, the incoming one releases it, on its return
 * from cpu_switch or, for a new thread, in sched_first_run.  Right after
 * the switch the incoming thread runs the switch tail for the outgoing
 * one (cpu->prev_thread): it is off the CPU now, so a dead one can become
 * a zombie, to be freed by the reaper -- never by itself, on its own stack.
 *
 * Waiting.  A waiting thread is on one wait queue (a hash bucket keyed by
 * its event) and, with a timeout, on the timeout list sorted by deadline,
 * which every tick checks from its head.  A thread that asserted a wait is
 * TH_WAITING while it still runs; a wakeup before it blocks just makes it
 * TH_RUNNING again and thread_block returns at once.
 *
 * Lock order: sched_lock is taken last (after any object lock a caller
 * holds) and is a leaf except for the allocators the reaper calls after
 * dropping it.
 */
#include <stddef.h>

#include "kern/clock.h"
#include "kern/panic.h"
#include "kern/sched.h"
#include "kern/spinlock.h"
#include "kern/string.h"
#include "kern/thread.h"
#include "x86_64/cpu.h"
#include "x86_64/switch.h"

#define SCHED_WAIT_BUCKETS 64
#define IF_FLAG (1ul << 9)

struct thread_q {
	struct thread *head, *tail;
};

static spinlock_t sched_lock = SPINLOCK_INIT;
static struct thread_q sched_rq[SCHED_NPRI];            /* [s] */
static uint32_t sched_rq_bitmap;                        /* [s] bit p: sched_rq[p] not empty */
static unsigned sched_nrunnable;                        /* [s] */
static struct thread_q sched_waitq[SCHED_WAIT_BUCKETS]; /* [s] */
static struct thread *sched_timeouts;                   /* [s] sorted by wait_deadline */
static struct thread_q sched_zombies;                   /* [s] exited, off their CPU */
static uint64_t sched_quantum;                          /* [I] ns */
static uint64_t sched_half_tick;                        /* [I] ns */
static volatile bool sched_up;                          /* [I] */

static void q_append(struct thread_q *q, struct thread *t)
{
	t->q_next = NULL;
	t->q_prev = q->tail;
	if (q->tail)
		q->tail->q_next = t;
	else
		q->head = t;
	q->tail = t;
}

static void q_prepend(struct thread_q *q, struct thread *t)
{
	t->q_prev = NULL;
	t->q_next = q->head;
	if (q->head)
		q->head->q_prev = t;
	else
		q->tail = t;
	q->head = t;
}

static void q_remove(struct thread_q *q, struct thread *t)
{
	if (t->q_prev)
		t->q_prev->q_next = t->q_next;
	else
		q->head = t->q_next;
	if (t->q_next)
		t->q_next->q_prev = t->q_prev;
	else
		q->tail = t->q_prev;
	t->q_next = t->q_prev = NULL;
}

static struct thread_q *sched_bucket(event_t event)
{
	uint64_t h = (uint64_t)(uintptr_t)event * 0x9e3779b97f4a7c15ull;

	return &sched_waitq[h >> 58]; /* top 6 bits: 64 buckets */
}
_Static_assert(SCHED_WAIT_BUCKETS == 64, "sched_bucket takes 6 bits");

static void rq_insert(struct thread *t, bool at_head)
{
	struct thread_q *q = &sched_rq[t->priority];

	if (at_head)
		q_prepend(q, t);
	else
		q_append(q, t);
	sched_rq_bitmap |= 1u << t->priority;
	sched_nrunnable++;
}

static void rq_remove(struct thread *t)
{
	struct thread_q *q = &sched_rq[t->priority];

	q_remove(q, t);
	if (!q->head)
		sched_rq_bitmap &= ~(1u << t->priority);
	sched_nrunnable--;
}

static struct thread *rq_pick(void)
{
	if (!sched_rq_bitmap)
		return NULL;
	int p = 31 - __builtin_clz(sched_rq_bitmap);
	struct thread *t = sched_rq[p].head;

	rq_remove(t);
	return t;
}

/* Is a thread runnable that should run instead of cur?  Strictly higher, or any for idle. */
static bool sched_higher_runnable(const struct thread *cur)
{
	if (cur->idle)
		return sched_rq_bitmap != 0;
	return ((uint64_t)sched_rq_bitmap >> (cur->priority + 1)) != 0;
}

static void sched_note_preempt(void)
{
	struct cpu *c = cpu_current();

	if (sched_higher_runnable(c->thread))
		c->need_resched = 1;
}

/* t (not running, not queued) becomes runnable. */
static void sched_setrun(struct thread *t)
{
	t->state = TH_RUNNABLE;
	t->quantum_left = sched_quantum;
	rq_insert(t, false);
	sched_note_preempt();
}

static bool sched_clear_wait(struct thread *t, int result);

/* The thread that ran before this switch is off its CPU now. */
static void sched_switch_tail(void)
{
	struct cpu *c = cpu_current();
	struct thread *prev = c->prev_thread;

	c->prev_thread = NULL;
	prev->on_cpu = false;
	if (prev->state == TH_TERMINATED) {
		q_append(&sched_zombies, prev);
		/* thread_join waits on the thread itself. */
		for (struct thread *w = sched_bucket(prev)->head, *n; w; w = n) {
			n = w->q_next;
			if (w->wait_event == prev)
				sched_clear_wait(w, THREAD_AWAKENED);
		}
	}
}

/*
 * Runs the highest-priority runnable thread (or idle) instead of the
 * current one, which the caller has already queued, made wait or
 * terminated -- or left running, to be kept if nothing better exists.
 */
static void sched_switch(void)
{
	struct cpu *c = cpu_current();
	struct thread *from = c->thread;
	struct thread *to = rq_pick();

	c->need_resched = 0;
	if (to == NULL) {
		if (from->state == TH_RUNNING)
			return;
		to = c->idle_thread;
	}
	to->slice_end = clock_ns() + to->quantum_left;
	if (to == from) {
		from->state = TH_RUNNING; /* requeued, but still the best */
		return;
	}
	if (from->idle)
		from->state = TH_RUNNABLE;
	to->state = TH_RUNNING;
	to->on_cpu = true;
	to->switches_in++;
	c->prev_thread = from;
	c->thread = to;
	cpu_switch(from, to);
	sched_switch_tail();
}

/*
 * Is the running thread's time slice used up?  Time, not ticks: a slow
 * emulator may deliver fewer ticks than asked.  Half a tick of slack: a
 * slice that started just after a tick ends at the tick nearest its end,
 * not one tick later.
 */
static bool sched_slice_over(const struct thread *cur, uint64_t now)
{
	return now + sched_half_tick >= cur->slice_end;
}

/* Involuntary: the current thread gives way to a better one, if any. */
static void sched_preempt(void)
{
	struct cpu *c = cpu_current();
	struct thread *cur = c->thread;

	if (cur->state == TH_RUNNING && !cur->idle) {
		uint64_t now = clock_ns();
		bool over = sched_slice_over(cur, now);

		if (!over && !sched_higher_runnable(cur)) {
			c->need_resched = 0;
			return;
		}
		cur->state = TH_RUNNABLE;
		if (!over) {
			cur->quantum_left = cur->slice_end - now;
			rq_insert(cur, true);
		} else {
			cur->quantum_left = sched_quantum;
			rq_insert(cur, false);
		}
	}
	c->preemptions++;
	sched_switch();
}

/* Releases sched_lock, preempting first if that is due and allowed here. */
static void sched_unlock(unsigned long flags)
{
	struct cpu *c = cpu_current();

	/* A switch tail may ask again (it woke a joiner): loop until settled. */
	while (c->need_resched && (flags & IF_FLAG) && c->irq_depth == 0)
		sched_preempt();
	spin_unlock_irqrestore(&sched_lock, flags);
}

bool sched_ready(void)
{
	return sched_up;
}

void thread_assert_wait(event_t event)
{
	unsigned long flags = spin_lock_irqsave(&sched_lock);
	struct thread *cur = cpu_current()->thread;

	KASSERT(cur->state == TH_RUNNING && !cur->idle);
	cur->state = TH_WAITING;
	cur->wait_event = event;
	cur->wait_result = THREAD_AWAKENED;
	cur->wait_deadline = 0;
	if (event)
		q_append(sched_bucket(event), cur);
	spin_unlock_irqrestore(&sched_lock, flags);
}

void thread_set_timeout(uint64_t ns)
{
	unsigned long flags = spin_lock_irqsave(&sched_lock);
	struct thread *cur = cpu_current()->thread;

	/* A wakeup may already have ended the wait: nothing to bound then. */
	if (cur->state == TH_WAITING && cur->wait_deadline == 0) {
		struct thread **pp = &sched_timeouts;

		cur->wait_deadline = clock_ns() + (ns ? ns : 1);
		while (*pp && (*pp)->wait_deadline <= cur->wait_deadline)
			pp = &(*pp)->to_next;
		cur->to_next = *pp;
		*pp = cur;
	}
	spin_unlock_irqrestore(&sched_lock, flags);
}

int thread_block(void)
{
	unsigned long flags = spin_lock_irqsave(&sched_lock);
	struct thread *cur = cpu_current()->thread;

	KASSERT(cpu_current()->irq_depth == 0);
	if (cur->state == TH_WAITING)
		sched_switch();
	int r = cur->wait_result;

	sched_unlock(flags);
	return r;
}

int thread_sleep(event_t event, uint64_t timeout_ns)
{
	thread_assert_wait(event);
	if (timeout_ns)
		thread_set_timeout(timeout_ns);
	return thread_block();
}

/* Ends t's wait (sched_lock held); false if it was not waiting. */
static bool sched_clear_wait(struct thread *t, int result)
{
	if (t->state != TH_WAITING)
		return false;
	if (t->wait_event)
		q_remove(sched_bucket(t->wait_event), t);
	if (t->wait_deadline) {
		struct thread **pp = &sched_timeouts;

		while (*pp != t)
			pp = &(*pp)->to_next;
		*pp = t->to_next;
		t->to_next = NULL;
	}
	t->wait_event = NULL;
	t->wait_deadline = 0;
	t->wait_result = result;
	if (t->on_cpu)
		t->state = TH_RUNNING; /* it has not blocked yet */
	else
		sched_setrun(t);
	return true;
}

static unsigned sched_wakeup(event_t event, bool one)
{
	unsigned n = 0;

	if (!sched_up || event == NULL)
		return 0;
	unsigned long flags = spin_lock_irqsave(&sched_lock);

	for (struct thread *t = sched_bucket(event)->head, *next; t; t = next) {
		next = t->q_next;
		if (t->wait_event != event)
			continue;
		sched_clear_wait(t, THREAD_AWAKENED);
		n++;
		if (one)
			break;
	}
	sched_unlock(flags);
	return n;
}

unsigned thread_wakeup(event_t event)
{
	return sched_wakeup(event, false);
}

bool thread_wakeup_one(event_t event)
{
	return sched_wakeup(event, true) != 0;
}

bool thread_clear_wait(struct thread *t, int result)
{
	unsigned long flags = spin_lock_irqsave(&sched_lock);
	bool r = sched_clear_wait(t, result);

	sched_unlock(flags);
	return r;
}

void thread_yield(void)
{
	unsigned long flags = spin_lock_irqsave(&sched_lock);
	struct thread *cur = cpu_current()->thread;

	if (!cur->idle) {
		cur->state = TH_RUNNABLE;
		cur->quantum_left = sched_quantum;
		rq_insert(cur, false);
	}
	sched_switch();
	sched_unlock(flags);
}

kern_return_t thread_set_priority(struct thread *t, int pri)
{
	if (t == NULL || t->idle || pri < SCHED_PRI_MIN || pri > SCHED_PRI_MAX)
		return KERN_INVALID_ARGUMENT;
	unsigned long flags = spin_lock_irqsave(&sched_lock);

	if (t->state == TH_RUNNABLE) {
		rq_remove(t);
		t->priority = pri;
		rq_insert(t, false);
	} else {
		t->priority = pri;
	}
	sched_note_preempt();
	sched_unlock(flags);
	return KERN_SUCCESS;
}

/*
 * The tick hook (interrupt context, interrupts off): ends timed-out waits
 * and charges the running thread's quantum.  It only decides; the switch
 * happens in sched_preempt_check on the way out of the interrupt.
 */
static void sched_tick(void)
{
	struct cpu *c = cpu_current();

	spin_lock(&sched_lock);
	uint64_t now = clock_ns();

	while (sched_timeouts && sched_timeouts->wait_deadline <= now)
		sched_clear_wait(sched_timeouts, THREAD_TIMED_OUT);

	struct thread *cur = c->thread;

	if (!cur->idle && cur->state == TH_RUNNING && sched_slice_over(cur, now)) {
		if (((uint64_t)sched_rq_bitmap >> cur->priority) != 0)
			c->need_resched = 1;
		else
			cur->slice_end = now + sched_quantum; /* nobody to share with */
	}
	sched_note_preempt();
	spin_unlock(&sched_lock);
}

void sched_preempt_check(void)
{
	struct cpu *c = cpu_current();

	if (!sched_up || !c->need_resched)
		return;
	spin_lock(&sched_lock);
	while (c->need_resched)
		sched_preempt();
	spin_unlock(&sched_lock);
}

/* The idle thread: reap, then halt until an interrupt brings work. */
static void sched_idle(void *arg)
{
	for (;;) {
		thread_reap();
		intr_disable();
		spin_lock(&sched_lock);
		if (sched_rq_bitmap) {
			sched_switch();
			spin_unlock(&sched_lock);
			intr_enable();
			continue;
		}
		spin_unlock(&sched_lock);
		/* sti takes effect after hlt starts: no wakeup slips in between. */
		__asm__ volatile("sti; hlt" : : : "memory");
	}
}

void sched_init(void)
{
	struct cpu *c = cpu_current();

	KASSERT(!intr_enabled());
	sched_quantum = SCHED_QUANTUM_NS;
	sched_half_tick = 500000000ull / clock_hz();
	cpu_sched_init();

	c->thread = thread_alloc_boot();
	c->thread->slice_end = clock_ns() + sched_quantum;
	c->idle_thread = thread_alloc_idle(sched_idle);
	sched_up = true;
	clock_register_tick_hook(sched_tick);
}

void sched_thread_start(struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&sched_lock);

	t->on_cpu = false;
	sched_setrun(t);
	sched_unlock(flags);
}

void sched_first_run(void)
{
	sched_switch_tail();
	sched_unlock(IF_FLAG); /* a new thread runs with interrupts on */
}

void sched_thread_exit(void)
{
	intr_disable();
	spin_lock(&sched_lock);
	struct thread *cur = cpu_current()->thread;

	if (cur->idle || cur->kstack_slot < 0)
		panic("sched_thread_exit: thread %u (%s) may not exit", cur->id, cur->name);
	cur->state = TH_TERMINATED;
	sched_switch();
	panic("sched_thread_exit: a dead thread ran again");
}

struct thread *sched_take_zombies(void)
{
	unsigned long flags = spin_lock_irqsave(&sched_lock);
	struct thread *z = sched_zombies.head;

	sched_zombies.head = sched_zombies.tail = NULL;
	spin_unlock_irqrestore(&sched_lock, flags);
	return z;
}

void sched_wait_terminated(struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&sched_lock);
	struct thread *cur = cpu_current()->thread;

	while (t->state != TH_TERMINATED || t->on_cpu) {
		cur->state = TH_WAITING;
		cur->wait_event = t;
		cur->wait_result = THREAD_AWAKENED;
		cur->wait_deadline = 0;
		q_append(sched_bucket(t), cur);
		sched_switch();
	}
	sched_unlock(flags);
}

void sched_get_cpu_stats(unsigned cpu, struct sched_cpu_stats *st)
{
	struct cpu *c = &cpus[cpu < MAX_CPUS ? cpu : 0];
	unsigned long flags = intr_save();

	st->context_switches = c->ctx_switches;
	st->preemptions = c->preemptions;
	st->idle_tsc = c->idle_tsc; /* the reader is not idle: nothing in progress on its CPU */
	intr_restore(flags);
}

unsigned sched_runnable_count(void)
{
	return sched_nrunnable;
}

uint64_t sched_quantum_ns(void)
{
	uint64_t tick = 1000000000ull / clock_hz();

	return sched_quantum > tick ? sched_quantum : tick;
}
