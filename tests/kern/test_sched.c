/*
 * Threads and the scheduler.  The tests run in the boot thread, at
 * SCHED_PRI_DEFAULT (16): threads created below it run only once the test
 * blocks (usually in thread_join), threads created above it run before
 * thread_create_kernel returns.  Every thread is joined or reaped, so the
 * suites' leak checks see every stack page and struct come back.
 *
 * selftest_stackoverflow (run only when named: it panics) overflows a
 * thread's kernel stack into its guard page.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kern/clock.h"
#include "kern/kern_return.h"
#include "kern/ktest.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/thread.h"
#include "x86_64/cpu.h"
#include "x86_64/kfault.h"
#include "x86_64/lapic.h"
#include "x86_64/trap.h"

#define MS 1000000ull
#define PRI_LOW 8
#define PRI_HIGH 24

static bool ts_prio_ok(struct ktest_ctx *kt)
{
	return KT_EXPECT_EQ(kt, thread_current()->priority, SCHED_PRI_DEFAULT);
}

/* ---- thread life cycle ---- */

static void ts_nop(void *arg)
{
}

KTEST(thread, create_rejects_bad_arguments)
{
	struct thread *t = NULL;

	KT_EXPECT_EQ(kt, thread_create_kernel("x", NULL, NULL, PRI_LOW, &t), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, thread_create_kernel("x", ts_nop, NULL, -1, &t), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, thread_create_kernel("x", ts_nop, NULL, SCHED_PRI_MAX + 1, &t),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT(kt, t == NULL);
	KT_EXPECT_EQ(kt, thread_join(NULL), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, thread_join(thread_current()), KERN_INVALID_ARGUMENT);
	KT_EXPECT(kt, strcmp(mach_error_name(KERN_INVALID_ARGUMENT), "KERN_INVALID_ARGUMENT") == 0);
	KT_EXPECT(kt,
	          strcmp(mach_error_name(KERN_RESOURCE_SHORTAGE), "KERN_RESOURCE_SHORTAGE") == 0);
	KT_EXPECT(kt, strcmp(mach_error_name(11), "KERN_UNKNOWN_ERROR") == 0);
}

KTEST(thread, boot_thread_is_current)
{
	struct thread *me = thread_current();

	KT_ASSERT(kt, me != NULL);
	KT_EXPECT(kt, ts_prio_ok(kt));
	KT_EXPECT_EQ(kt, me->state, TH_RUNNING);
	KT_EXPECT_EQ(kt, me->kstack_slot, -1);
	KT_EXPECT(kt, strcmp(me->name, "boot") == 0);
	KT_EXPECT(kt, cpu_current()->idle_thread != NULL && cpu_current()->idle_thread != me);
}

static volatile unsigned ts_counter;

static void ts_count(void *arg)
{
	__atomic_add_fetch(&ts_counter, 1, __ATOMIC_RELAXED);
}

#define TS_MANY 64

/* Half run at once (above us), half when we join (below us). */
KTEST(thread, create_join_many)
{
	static struct thread *ts[TS_MANY];
	unsigned live0 = thread_count();
	uint64_t created0 = thread_created_total(), freed0 = thread_freed_total();

	ts_counter = 0;
	for (int i = 0; i < TS_MANY; i++) {
		kern_return_t kr = thread_create_kernel("many", ts_count, NULL,
		                                        i % 2 ? PRI_HIGH : PRI_LOW, &ts[i]);

		if (!KT_EXPECT_EQ(kt, kr, KERN_SUCCESS)) {
			ktest_diag(kt, "thread %d: %s", i, mach_error_name(kr));
			ts[i] = NULL;
		}
	}
	KT_EXPECT_EQ(kt, ts_counter, TS_MANY / 2);
	KT_EXPECT_EQ(kt, thread_count(), live0 + TS_MANY);
	for (int i = 1; i < TS_MANY; i++)
		if (ts[i] && ts[i - 1])
			KT_EXPECT(kt, ts[i]->id > ts[i - 1]->id);
	for (int i = 0; i < TS_MANY; i++)
		if (ts[i])
			KT_EXPECT_EQ(kt, thread_join(ts[i]), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ts_counter, TS_MANY);
	KT_EXPECT_EQ(kt, thread_count(), live0);
	KT_EXPECT_EQ(kt, thread_created_total() - created0, TS_MANY);
	KT_EXPECT_EQ(kt, thread_freed_total() - freed0, TS_MANY);
}

/* Without a reference the caller never sees them; thread_reap frees the dead. */
KTEST(thread, detached_threads_are_reaped)
{
	unsigned live0 = thread_count();

	ts_counter = 0;
	for (int i = 0; i < 8; i++)
		KT_EXPECT_EQ(kt, thread_create_kernel("detached", ts_count, NULL, PRI_HIGH, NULL),
		             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ts_counter, 8);
	thread_reap();
	KT_EXPECT_EQ(kt, thread_count(), live0);
}

static volatile int ts_after_exit;

static void ts_exit_early(void *arg)
{
	*(struct thread *volatile *)arg = thread_current();
	thread_exit();
	ts_after_exit = 1;
}

KTEST(thread, exit_ends_the_thread)
{
	struct thread *t, *seen = NULL;

	ts_after_exit = 0;
	KT_ASSERT_EQ(kt, thread_create_kernel("exit", ts_exit_early, &seen, PRI_LOW, &t),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, t->state, TH_RUNNABLE);
	KT_EXPECT(kt, seen == NULL);
	KT_EXPECT(kt, strcmp(t->name, "exit") == 0);
	KT_EXPECT_EQ(kt, thread_join(t), KERN_SUCCESS);
	KT_EXPECT(kt, seen == t);
	KT_EXPECT_EQ(kt, ts_after_exit, 0);
}

struct ts_guard {
	uint64_t base, top, probe_vector, on_own_stack, below_base_hit, base_hit;
	int64_t slot;
};

static void ts_guard_probe(void *arg)
{
	struct ts_guard *g = arg;
	struct thread *me = thread_current();
	struct kfault_catch c;
	int v;

	g->base = me->kstack_base;
	g->top = me->md.kstack_top;
	g->slot = me->kstack_slot;
	g->below_base_hit = thread_stack_guard_hit(g->base - 8);
	g->base_hit = thread_stack_guard_hit(g->base);
	g->on_own_stack = (uint64_t)__builtin_frame_address(0) > g->base &&
	                  (uint64_t)__builtin_frame_address(0) < g->top;
	if ((v = kfault_try(&c)) == 0) {
		(void)*(volatile uint64_t *)(g->base - 8);
		kfault_end(&c);
	}
	g->probe_vector = (uint64_t)v;
}

/* The page below a thread's stack is an unmapped guard. */
KTEST(thread, stack_has_guard_page)
{
	struct ts_guard g = { 0 };
	struct thread *t;

	KT_ASSERT_EQ(kt, thread_create_kernel("guard", ts_guard_probe, &g, PRI_HIGH, &t),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, thread_join(t), KERN_SUCCESS);
	KT_EXPECT(kt, g.slot >= 0);
	KT_EXPECT_EQ(kt, g.top - g.base, KSTACK_SIZE);
	KT_EXPECT_EQ(kt, g.base, KSTACK_AREA + (uint64_t)g.slot * KSTACK_SLOT + KSTACK_GUARD);
	KT_EXPECT(kt, g.on_own_stack); /* its frames were on its own stack */
	KT_EXPECT_EQ(kt, g.probe_vector, T_PAGE_FAULT + 1);
	KT_EXPECT(kt, g.below_base_hit);
	KT_EXPECT(kt, !g.base_hit);
	KT_EXPECT(kt, !thread_stack_guard_hit(0));
	KT_EXPECT(kt, !thread_stack_guard_hit(KERNEL_BASE));
}

/* ---- scheduling ---- */

static char ts_log[64];
static volatile unsigned ts_nlog;

static void ts_log_char(void *arg)
{
	unsigned long flags = intr_save();

	if (ts_nlog < sizeof(ts_log) - 1)
		ts_log[ts_nlog++] = (char)(uintptr_t)arg;
	ts_log[ts_nlog] = '\0';
	intr_restore(flags);
}

static void ts_log_reset(void)
{
	ts_nlog = 0;
	ts_log[0] = '\0';
}

/*
 * The highest priority runs first: above the creator at once, below it
 * only when it blocks, and then in priority order, not creation order.
 */
KTEST(sched, priority_order)
{
	struct thread *lo, *mid, *hi;

	ts_log_reset();
	KT_ASSERT_EQ(kt, thread_create_kernel("lo", ts_log_char, (void *)'L', PRI_LOW, &lo),
	             KERN_SUCCESS);
	KT_ASSERT_EQ(kt, thread_create_kernel("mid", ts_log_char, (void *)'M', PRI_LOW + 4, &mid),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ts_nlog, 0);
	KT_ASSERT_EQ(kt, thread_create_kernel("hi", ts_log_char, (void *)'H', PRI_HIGH, &hi),
	             KERN_SUCCESS);
	KT_EXPECT(kt, strcmp(ts_log, "H") == 0);
	thread_join(lo);
	thread_join(mid);
	thread_join(hi);
	KT_EXPECT(kt, strcmp(ts_log, "HML") == 0);
	if (strcmp(ts_log, "HML") != 0)
		ktest_diag(kt, "ran in order \"%s\"", ts_log);
}

KTEST(sched, set_priority_preempts)
{
	struct thread *t;

	ts_log_reset();
	KT_ASSERT_EQ(kt, thread_create_kernel("raised", ts_log_char, (void *)'R', PRI_LOW, &t),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ts_nlog, 0);
	KT_EXPECT_EQ(kt, thread_set_priority(t, SCHED_PRI_MAX + 1), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, thread_set_priority(cpu_current()->idle_thread, PRI_LOW),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, ts_nlog, 0);
	KT_EXPECT_EQ(kt, thread_set_priority(t, PRI_HIGH), KERN_SUCCESS);
	KT_EXPECT(kt, strcmp(ts_log, "R") == 0);
	thread_join(t);
}

static void ts_yielder(void *arg)
{
	for (int i = 0; i < 4; i++) {
		/* No tick between the log and the yield: the order is exact. */
		intr_disable();
		ts_log_char(arg);
		thread_yield();
		intr_enable();
	}
}

/* thread_yield goes to the back of its priority's queue: A B A B ... */
KTEST(sched, yield_round_robin)
{
	struct thread *a, *b;

	ts_log_reset();
	KT_ASSERT_EQ(kt, thread_create_kernel("A", ts_yielder, (void *)'A', PRI_LOW, &a),
	             KERN_SUCCESS);
	KT_ASSERT_EQ(kt, thread_create_kernel("B", ts_yielder, (void *)'B', PRI_LOW, &b),
	             KERN_SUCCESS);
	thread_join(a);
	thread_join(b);
	KT_EXPECT(kt, strcmp(ts_log, "ABABABAB") == 0);
	if (strcmp(ts_log, "ABABABAB") != 0)
		ktest_diag(kt, "ran in order \"%s\"", ts_log);
}

struct ts_spin {
	volatile int *stop;
	volatile uint64_t count;
};

/* Never yields, never blocks: only the timer can take the CPU away. */
static void ts_spinner(void *arg)
{
	struct ts_spin *s = arg;

	while (!*s->stop)
		s->count++;
}

/* Two spinners of one priority both progress: the quantum preempts. */
KTEST(sched, round_robin_preemption)
{
	volatile int stop = 0;
	struct ts_spin s1 = { &stop, 0 }, s2 = { &stop, 0 };
	struct thread *t1, *t2;
	struct sched_cpu_stats st0, st1;

	sched_get_cpu_stats(0, &st0);
	KT_ASSERT_EQ(kt, thread_create_kernel("spin1", ts_spinner, &s1, PRI_LOW, &t1),
	             KERN_SUCCESS);
	KT_ASSERT_EQ(kt, thread_create_kernel("spin2", ts_spinner, &s2, PRI_LOW, &t2),
	             KERN_SUCCESS);
	uint64_t tick0 = clock_ticks(), ns0 = clock_ns();

	/*
	 * A few quanta each; a busy host may deliver fewer ticks, so poll
	 * (2 s at most).  Our wakeups do not put the other spinner on the
	 * CPU (a preempted thread resumes first): only the quantum does.
	 */
	while ((t1->switches_in < 4 || t2->switches_in < 4) && clock_ns() - ns0 < 2000 * MS)
		thread_sleep(NULL, 3 * sched_quantum_ns());
	uint64_t ticks = clock_ticks() - tick0, ns = clock_ns() - ns0;
	uint64_t c1 = s1.count, c2 = s2.count, in1 = t1->switches_in, in2 = t2->switches_in;

	stop = 1;
	thread_join(t1);
	thread_join(t2);
	sched_get_cpu_stats(0, &st1);
	KT_EXPECT(kt, c1 > 0 && c2 > 0);
	KT_EXPECT(kt, in1 >= 4 && in2 >= 4);
	KT_EXPECT(kt, st1.preemptions - st0.preemptions >= 4);
	ktest_diag(kt,
	           "spin1 %lu iterations in %lu runs, spin2 %lu in %lu runs (%lu ticks, %lu us)",
	           c1, in1, c2, in2, ticks, ns / 1000);
}

static volatile int ts_high_done;

static void ts_high_sleeper(void *arg)
{
	thread_sleep(NULL, 20 * MS);
	ts_high_done = 1;
}

/* A low-priority spinner cannot hold off a higher thread whose timeout fires. */
KTEST(sched, high_priority_beats_spinner)
{
	volatile int stop = 0;
	struct ts_spin s = { &stop, 0 };
	struct thread *spin, *high;
	uint64_t t0 = clock_ns();

	ts_high_done = 0;
	KT_ASSERT_EQ(kt, thread_create_kernel("spinner", ts_spinner, &s, PRI_LOW - 4, &spin),
	             KERN_SUCCESS);
	KT_ASSERT_EQ(kt, thread_create_kernel("high", ts_high_sleeper, NULL, PRI_HIGH, &high),
	             KERN_SUCCESS);
	thread_join(high);
	uint64_t dt = clock_ns() - t0;

	stop = 1;
	thread_join(spin);
	KT_EXPECT_EQ(kt, ts_high_done, 1);
	KT_EXPECT(kt, s.count > 0);
	KT_EXPECT(kt, dt >= 20 * MS && dt < 500 * MS);
	ktest_diag(kt, "high finished after %lu us", dt / 1000);
}

static int ts_event;

KTEST(sched, sleep_times_out)
{
	uint64_t t0 = clock_ns();
	int r = thread_sleep(&ts_event, 30 * MS);
	uint64_t dt = clock_ns() - t0;
	uint64_t tick = 1000000000ull / clock_hz();

	KT_EXPECT_EQ(kt, r, THREAD_TIMED_OUT);
	KT_EXPECT(kt, dt >= 30 * MS);
	KT_EXPECT(kt, dt <= 30 * MS + 2 * tick + 200 * MS); /* slack for a busy host */
	ktest_diag(kt, "slept %lu us for 30000", dt / 1000);
}

static volatile unsigned ts_woken;

static void ts_waker(void *arg)
{
	thread_sleep(NULL, 10 * MS);
	ts_woken = thread_wakeup(arg);
}

KTEST(sched, sleep_is_woken)
{
	struct thread *w;

	ts_woken = 0;
	KT_ASSERT_EQ(kt, thread_create_kernel("waker", ts_waker, &ts_event, PRI_HIGH, &w),
	             KERN_SUCCESS);
	uint64_t t0 = clock_ns();
	int r = thread_sleep(&ts_event, 1000 * MS);
	uint64_t dt = clock_ns() - t0;

	thread_join(w);
	KT_EXPECT_EQ(kt, r, THREAD_AWAKENED);
	KT_EXPECT_EQ(kt, ts_woken, 1);
	KT_EXPECT(kt, dt < 1000 * MS);
	KT_EXPECT_EQ(kt, thread_wakeup(&ts_event), 0);
}

static volatile int ts_results[4];

static void ts_waiter(void *arg)
{
	int r = thread_sleep(&ts_event, 0);

	ts_results[(uintptr_t)arg] = r + 1;
	__atomic_add_fetch(&ts_counter, 1, __ATOMIC_RELAXED);
}

KTEST(sched, wakeup_one_wakes_one)
{
	struct thread *w[2];

	ts_counter = 0;
	KT_EXPECT(kt, !thread_wakeup_one(&ts_event));
	for (uintptr_t i = 0; i < 2; i++)
		KT_ASSERT_EQ(kt,
		             thread_create_kernel("waiter", ts_waiter, (void *)i, PRI_HIGH, &w[i]),
		             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ts_counter, 0);
	KT_EXPECT(kt, thread_wakeup_one(&ts_event));
	KT_EXPECT_EQ(kt, ts_counter, 1);
	KT_EXPECT_EQ(kt, ts_results[0], THREAD_AWAKENED + 1); /* the longest waiter */
	KT_EXPECT_EQ(kt, thread_wakeup(&ts_event), 1);
	KT_EXPECT_EQ(kt, ts_counter, 2);
	thread_join(w[0]);
	thread_join(w[1]);
}

KTEST(sched, clear_wait_interrupts)
{
	struct thread *w;

	ts_results[2] = 0;
	KT_ASSERT_EQ(kt, thread_create_kernel("waiter", ts_waiter, (void *)2, PRI_HIGH, &w),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, w->state, TH_WAITING);
	KT_EXPECT(kt, thread_clear_wait(w, THREAD_INTERRUPTED));
	KT_EXPECT_EQ(kt, ts_results[2], THREAD_INTERRUPTED + 1);
	KT_EXPECT(kt, !thread_clear_wait(thread_current(), THREAD_INTERRUPTED));
	thread_join(w);
}

/* Per-CPU counters: switches happen, and a sleep with nothing runnable is idle time. */
KTEST(sched, cpu_counters)
{
	struct sched_cpu_stats a, b;

	sched_get_cpu_stats(0, &a);
	thread_sleep(NULL, 20 * MS);
	sched_get_cpu_stats(0, &b);
	KT_EXPECT(kt, b.context_switches - a.context_switches >= 2);
	KT_EXPECT(kt, b.idle_tsc > a.idle_tsc);
	KT_EXPECT_EQ(kt, sched_runnable_count(), 0);
}

/* ---- FPU/SSE state ---- */

struct ts_fpu {
	uint8_t pattern[256];
	uint8_t readback[256];
	uint64_t switches;
};

static void ts_fpu_worker(void *arg)
{
	struct ts_fpu *f = arg;
	struct thread *me = thread_current();

	/* The kernel is -mgeneral-regs-only: nothing between these touches xmm. */
	__asm__ volatile("movdqu 0(%0), %%xmm0\n\tmovdqu 16(%0), %%xmm1\n\t"
	                 "movdqu 32(%0), %%xmm2\n\tmovdqu 48(%0), %%xmm3\n\t"
	                 "movdqu 64(%0), %%xmm4\n\tmovdqu 80(%0), %%xmm5\n\t"
	                 "movdqu 96(%0), %%xmm6\n\tmovdqu 112(%0), %%xmm7\n\t"
	                 "movdqu 128(%0), %%xmm8\n\tmovdqu 144(%0), %%xmm9\n\t"
	                 "movdqu 160(%0), %%xmm10\n\tmovdqu 176(%0), %%xmm11\n\t"
	                 "movdqu 192(%0), %%xmm12\n\tmovdqu 208(%0), %%xmm13\n\t"
	                 "movdqu 224(%0), %%xmm14\n\tmovdqu 240(%0), %%xmm15"
	                 :
	                 : "r"(f->pattern)
	                 : "memory");
	uint64_t in0 = me->switches_in;

	/* Across yields to the other worker and across timer preemptions. */
	for (int i = 0; i < 6; i++) {
		thread_yield();
		uint64_t t = clock_ticks();

		while (i < 2 && clock_ticks() < t + 2)
			__builtin_ia32_pause();
	}
	f->switches = me->switches_in - in0;
	__asm__ volatile("movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 16(%0)\n\t"
	                 "movdqu %%xmm2, 32(%0)\n\tmovdqu %%xmm3, 48(%0)\n\t"
	                 "movdqu %%xmm4, 64(%0)\n\tmovdqu %%xmm5, 80(%0)\n\t"
	                 "movdqu %%xmm6, 96(%0)\n\tmovdqu %%xmm7, 112(%0)\n\t"
	                 "movdqu %%xmm8, 128(%0)\n\tmovdqu %%xmm9, 144(%0)\n\t"
	                 "movdqu %%xmm10, 160(%0)\n\tmovdqu %%xmm11, 176(%0)\n\t"
	                 "movdqu %%xmm12, 192(%0)\n\tmovdqu %%xmm13, 208(%0)\n\t"
	                 "movdqu %%xmm14, 224(%0)\n\tmovdqu %%xmm15, 240(%0)"
	                 :
	                 : "r"(f->readback)
	                 : "memory");
}

KTEST(sched, fpu_state_is_per_thread)
{
	static struct ts_fpu f[2];
	struct thread *t[2];

	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 256; i++)
			f[k].pattern[i] = (uint8_t)(i * 7 + 1 + k * 0x55);
		memset(f[k].readback, 0, sizeof(f[k].readback));
	}
	for (int k = 0; k < 2; k++)
		KT_ASSERT_EQ(kt, thread_create_kernel("sse", ts_fpu_worker, &f[k], PRI_LOW, &t[k]),
		             KERN_SUCCESS);
	thread_join(t[0]);
	thread_join(t[1]);
	for (int k = 0; k < 2; k++) {
		KT_EXPECT(kt, memcmp(f[k].pattern, f[k].readback, 256) == 0);
		KT_EXPECT(kt, f[k].switches >= 6);
	}
}

/* A new thread starts with clean registers, not its creator's. */
static void ts_fpu_fresh(void *arg)
{
	__asm__ volatile("movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm15, 16(%0)" : : "r"(arg) : "memory");
}

KTEST(sched, fpu_new_thread_is_clean)
{
	static uint8_t junk[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static uint8_t seen[32];
	static const uint8_t zero[32];
	struct thread *t;

	memset(seen, 0xff, sizeof(seen));
	__asm__ volatile("movdqu (%0), %%xmm0\n\tmovdqu (%0), %%xmm15" : : "r"(junk) : "memory");
	KT_ASSERT_EQ(kt, thread_create_kernel("fresh", ts_fpu_fresh, seen, PRI_HIGH, &t),
	             KERN_SUCCESS);
	thread_join(t);
	KT_EXPECT(kt, memcmp(seen, zero, sizeof(seen)) == 0);
}

/* ---- deliberate kernel stack overflow (panics; run only when named) ---- */

static volatile int ts_recurse_forever = 1;

static __attribute__((noinline)) int ts_recurse(volatile char *prev, int depth)
{
	volatile char buf[128];

	buf[0] = (char)depth;
	buf[127] = prev ? prev[0] : 0;
	if (!ts_recurse_forever)
		return depth;
	return ts_recurse(buf, depth + 1) + buf[0];
}

static void ts_overflow(void *arg)
{
	ts_recurse(NULL, 0);
}

KTEST(selftest_stackoverflow, overflows_into_guard)
{
	struct thread *t;

	KT_ASSERT_EQ(kt, thread_create_kernel("overflow", ts_overflow, NULL, PRI_HIGH, &t),
	             KERN_SUCCESS);
	thread_join(t);
	KT_EXPECT(kt, !"the overflow should have panicked");
}

/*
 * A wakeup from an interrupt other than the timer's preempts at once, on
 * the way out of that interrupt (x86_64/trap.c), not at the next tick: a
 * high priority thread woken by a self-IPI's handler has run before the
 * interrupted thread gets a few thousand instructions further (a tick is
 * 10 ms).
 */
static volatile int ts_ipi_ran;

static int ts_ipi_handler(struct trap_frame *tf)
{
	thread_wakeup_one(&ts_event);
	return 1;
}

static void ts_ipi_waiter(void *arg)
{
	thread_sleep(&ts_event, 0);
	ts_ipi_ran = 1;
}

KTEST(sched, interrupt_wakeup_preempts_at_once)
{
	struct thread *w;
	int spins = -1;

	KT_ASSERT(kt, ts_prio_ok(kt));
	ts_ipi_ran = 0;
	trap_handler_t prev = trap_register(T_TEST_IPI, ts_ipi_handler);

	KT_ASSERT_EQ(kt, thread_create_kernel("ipi-waiter", ts_ipi_waiter, NULL, PRI_HIGH, &w),
	             KERN_SUCCESS);
	/* It runs first (higher priority) and goes to sleep. */
	KT_EXPECT_EQ(kt, ts_ipi_ran, 0);
	lapic_self_ipi(T_TEST_IPI);
	for (int i = 0; i < 1000; i++)
		if (ts_ipi_ran) {
			spins = i;
			break;
		}
	thread_wakeup(&ts_event); /* if it never woke: let it end */
	thread_join(w);
	trap_register(T_TEST_IPI, prev);
	KT_EXPECT(kt, spins >= 0);
}
