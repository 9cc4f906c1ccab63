/*
 * perf_analysis.c - the engine's record path and its control.
 *
 * What a probe does
 * -----------------
 * Disabled, a probe is "test bit `event` of perf_active_mask, branch
 * predicted not taken".  perf_active_mask is the per-event enable mask
 * while monitoring is enabled and 0 otherwise, so one word answers both
 * questions.  Enabled, a probe calls in here, where one record is:
 *
 *	mask interrupts (pushfq; popq; cli)    <- the whole record is atomic
 *	read the TSC; find this CPU's state       with respect to this CPU
 *	statistics: exact sums (timed events) or a count (untimed ones),
 *	            and one histogram bucket
 *	rate limit: if it says no, stop here ("statistics only")
 *	ring: reserve, fill the 32 bytes, commit (pa_write)
 *	restore interrupts (pushq; popfq)
 *
 * perf_event_record, the untimed probe and the most frequent, is written
 * by hand (x86_64/perf_md.h, PERF_MD_RECORD_ASM): 19 instructions when
 * only statistics are kept, 49 with a raw record, plus 10 at the probe
 * site.  What keeps it that short: the caller's flags stay on the stack
 * (pushfq; cli ... popfq); the TSC is stored raw in the record and
 * converted to ns by the reader (perf_read_samples); the rate limit is
 * one signed compare (perf_ratelimit.h); the ring needs one compare of
 * the slot's commit word to know whether it overwrites an unread record
 * or is full (perf_ring_reserve_excl), and circular mode writes no drop
 * note; the record is five stores, no division or multiplication
 * anywhere.  The timed paths are C built from the same pieces (pa_put).
 *
 * Interrupt safety: masking, not nesting-safe updates
 * --------------------------------------------------
 * Each CPU owns its state and only that CPU writes it, but an interrupt
 * may record in the middle of a thread's record, and the timer interrupt
 * may preempt the thread there.  The record runs with interrupts masked
 * from the timestamp to the commit, because that makes three things true
 * at once, for five instructions (measured with `make bench` against a
 * build whose masking was a no-op: 4 guest instructions more per record,
 * 8 per timed block; 5-10 ns per record under plain TCG):
 *   - the multi-word statistics (128- and 192-bit sums, min, max, the
 *     histogram) never see a half-done update;
 *   - per-CPU timestamps follow sequence numbers: a record's timestamp is
 *     taken and its slot reserved in one step, so no interrupt can slip a
 *     later timestamp in between;
 *   - no thread is ever preempted holding a reserved slot, so "interrupts
 *     masked on this CPU" means "no writer here": perf_configure and
 *     perf_reset resize, switch or empty a ring under that condition.
 * Since nothing can nest inside a record, the ring is written with
 * perf_ring_write_excl: the slot protocol readers rely on (BUSY before
 * head moves, DONE last, their seqlock-style re-check) without the
 * compare-and-swaps that the nesting-safe perf_ring_reserve needs; that
 * one stays for a writer that cannot mask (an NMI-time probe would need
 * its own ring).  The alternative, nesting-safe per-field updates
 * (single-instruction read-modify-writes, carries chained with adc,
 * min/max by cmpxchg loops), would save the five instructions but give
 * neither the timestamp order nor the quiescence that resizing needs.
 *
 * Timed blocks and self-calibration
 * ---------------------------------
 * PERF_TIME_BLOCK opens a window in perf_time_begin (the last thing it
 * does is read the TSC) and closes it in perf_time_end (the first thing
 * it does is read the TSC).  The raw difference includes three things
 * that are not the measured code:
 *   1. the probe itself: the tail of perf_time_begin and the head of
 *      perf_time_end.  Calibration measures it as `block`: the minimum
 *      raw duration of PA_CAL_N empty blocks;
 *   2. records made on this CPU inside the window (nested probes, and
 *      interrupts that recorded).  Every record adds its calibrated cost
 *      to the CPU's counter `self`; the window's share is the difference;
 *   3. time the thread spent switched out (a timer interrupt that
 *      preempts its thread, a syscall that blocks).  The switch probe
 *      remembers the last PA_SW_HIST switches (time, self, thread);
 *      perf_time_end adds up only the intervals its thread ran.
 * duration = run - block - self_share, and 0 if that would be negative
 * (never an underflow).  Calibration runs at every enable, with
 * interrupts masked, on a scratch state (pa_scratch) that the same probe
 * code writes to: PA_CAL_N empty timed blocks, then loops of PA_CAL_N
 * probes of each kind (untimed or timed, raw record made or sampled out)
 * timed with the TSC, minus the same loop with the probe disabled; under
 * wall time the minimum of PA_CAL_ROUNDS rounds.  Under icount all of it
 * is exact and identical run to run, so compensated durations are too.
 *
 * Units: statistics and records are in ns (tsc_to_ns); under icount the
 * TSC runs at exactly 1 GHz of guest instructions, so "ns" are
 * instructions, and records carry PERF_REC_F_ICOUNT.  The rate limiter,
 * the compensation and the timestamps in the ring work in TSC ticks (a
 * record's timestamp becomes ns when it is read).
 */
#include <stddef.h>

#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/perf_analysis.h"
#include "kern/perf_alert.h" /* alerts: the threshold check in perf_time_end */
#include "kern/perf_internal.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/spinlock.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "x86_64/cpu.h"
#include "x86_64/perf_md.h"
#include "x86_64/tsc.h"

_Static_assert(MAX_CPUS <= PERF_MAX_CPUS, "perf_sysstats holds every CPU");
_Static_assert(PERF_EVENT_MAX <= 32, "one mask word");
_Static_assert(PERF_BUFFER_CIRCULAR == PERF_RING_CIRCULAR, "modes");
_Static_assert(PERF_BUFFER_SATURATE == PERF_RING_SATURATE, "modes");
_Static_assert(PERF_RATE_UNLIMITED == PERF_RATELIMIT_UNLIMITED, "rates");

#define PA_CAL_N 256    /* probes per calibration loop */
#define PA_CAL_ROUNDS 5 /* wall time: the minimum of this many rounds */
#define PA_CAL_EVENT 0  /* calibration records event 0 into the scratch state */
#define PA_INJECT_MAX_NS 1000000000ull

#define PA_LIKELY(x) __builtin_expect(!!(x), 1)
#define PA_UNLIKELY(x) __builtin_expect(!!(x), 0)

uint32_t perf_active_mask; /* [a] what probes test */
struct pa_cpu *pa_cpus[PERF_MAX_CPUS];
uint32_t pa_ncpus;
bool pa_icount;

static uint32_t pa_gen;                /* [a] bumped when recording (re)starts */
static uint64_t pa_tick0;              /* [I] TSC at clock_ns() == 0 */
static struct tsc_scale pa_scale;      /* [I] ticks -> ns */
static bool pa_ready;                  /* [I] perf_analysis_init done */
static bool pa_enabled;                /* [m] */
static uint32_t pa_event_mask;         /* [m] */
static uint32_t pa_rate;               /* [m] */
static uint32_t pa_buffer_records;     /* [m] */
static uint32_t pa_mode;               /* [m] */
static uint64_t pa_interval_acc;       /* [m] ns recorded before pa_enabled_since */
static uint64_t pa_enabled_since;      /* [m] clock_ns() at the last enable or reset */
static struct perf_calibration pa_cal; /* [m] */

/* Test-only delay injection (perf_inject_delay). */
static uint32_t pa_inject_mask;                  /* [a] */
static uint64_t pa_inject_ticks[PERF_EVENT_MAX]; /* [a] */

/* Per-CPU states, and calibration's scratch state (a small ring, one histogram row). */
static struct pa_cpu pa_cpu_store[PERF_MAX_CPUS];
static struct pa_cpu pa_scratch;
static void *pa_scratch_ring;

/* The engine mutex: a flag and a wait, so readers may copy at leisure. */
static spinlock_t pa_mutex_lock = SPINLOCK_INIT;
static bool pa_mutex_held;

void pa_lock(void)
{
	unsigned long flags = spin_lock_irqsave(&pa_mutex_lock);

	while (pa_mutex_held) {
		thread_assert_wait(&pa_mutex_held);
		spin_unlock_irqrestore(&pa_mutex_lock, flags);
		thread_block();
		flags = spin_lock_irqsave(&pa_mutex_lock);
	}
	pa_mutex_held = true;
	spin_unlock_irqrestore(&pa_mutex_lock, flags);
}

void pa_unlock(void)
{
	unsigned long flags = spin_lock_irqsave(&pa_mutex_lock);

	pa_mutex_held = false;
	spin_unlock_irqrestore(&pa_mutex_lock, flags);
	thread_wakeup(&pa_mutex_held);
}

static inline uint64_t pa_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * pa_scale.mult) >> (pa_scale.shift & 63));
}

uint64_t pa_ticks_to_ns(uint64_t ticks)
{
	return pa_ns(ticks);
}

uint64_t pa_ts_to_ns(uint64_t ticks)
{
	return pa_ns(ticks - pa_tick0);
}

uint32_t perf_cur_thread_id(void)
{
	struct thread *t = cpu_current()->thread;

	return t ? t->id : 0;
}

uint32_t perf_thread_task_id(const struct thread *t)
{
	return t && t->task ? t->task->id : 0;
}

uint32_t perf_cur_task_id(void)
{
	return perf_thread_task_id(cpu_current()->thread);
}

uint32_t perf_pf_bits(uint64_t error, bool resolved)
{
	return perf_md_pf_bits(error) | (resolved ? 0 : PERF_PF_UNRESOLVED);
}

/* ---- the record path ---- */

/*
 * The record path's functions are leaves with interrupts masked: they keep
 * no frame pointer (3 instructions per probe) since nothing can unwind
 * through them.
 */
#define PA_HOT __attribute__((optimize("omit-frame-pointer")))

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "event, flags, cpu stored as one word");
_Static_assert(offsetof(struct perf_record, cpu) == offsetof(struct perf_record, event) + 2,
               "event, flags, cpu stored as one word");

/*
 * The raw record, once the rate limit has said yes: reserve a slot, store
 * the fields in place, commit.  The timestamp is stored as raw TSC ticks
 * (perf_read_samples converts it to ns), and header, data words and
 * duration as the record's own fields, so that building it takes one
 * store per field and no shifting.
 */
static inline __attribute__((always_inline)) void pa_put(struct pa_cpu *pc, uint64_t now,
                                                         uint32_t hdr, uint32_t task,
                                                         uint32_t thread, uint64_t d1, uint64_t dur,
                                                         uint64_t d2)
{
	uint64_t seq;
	struct perf_record *r = perf_ring_reserve_excl(&pc->ring, &seq);

	if (PA_UNLIKELY(r == NULL))
		return;
	r->ts_ns = now;
	__builtin_memcpy(&r->event, &hdr, sizeof(hdr)); /* event, flags, cpu */
	r->task = (uint16_t)task;
	r->thread = (uint16_t)thread;
	r->data1 = d1;
	r->duration_ns = (uint32_t)dur;
	r->data2 = (uint32_t)d2;
	if (PA_UNLIKELY(d2 > UINT32_MAX)) {
		r->data2 = UINT32_MAX;
		r->flags |= PERF_REC_F_DATA2_SAT;
	}
	if (PA_UNLIKELY(dur > UINT32_MAX)) {
		r->duration_ns = UINT32_MAX;
		r->flags |= PERF_REC_F_DUR_SAT;
	}
	perf_ring_commit_excl(&pc->ring, seq);
}

/*
 * perf_event_record is x86_64/perf_md.h's PERF_MD_RECORD_ASM: this C,
 * written by hand (GCC's version spent a third more on register moves and
 * saves):
 *
 *	mask interrupts; now = TSC; pc = this CPU's state;
 *	if (perf_active_mask >> ev & 1) {
 *		pc->ucount[ev]++;
 *		if (perf_ratelimit_allow_excl(&pc->rl, now)) {
 *			pc->self += pc->cost[PA_COST_UNTIMED][1];
 *			pa_put(pc, now, ev | pc->hdr_bits, task, thread, d1, 0, d2);
 *		} else {
 *			pc->self += pc->cost[PA_COST_UNTIMED][0];
 *		}
 *	}
 *	restore interrupts;
 */
#define PA_OFF(f) "i"(offsetof(struct pa_cpu, f))

__attribute__((naked)) void perf_event_record(uint32_t ev, uint32_t task, uint32_t thread,
                                              uint64_t d1, uint64_t d2)
{
	__asm__ volatile(
	    PERF_MD_RECORD_ASM
	    :
	    : [cpu_id] "i"(offsetof(struct cpu, id)), [cpus] "i"(pa_cpus),
	      [mask] "i"(&perf_active_mask), [ucount] PA_OFF(ucount), [rl_next] PA_OFF(rl.next),
	      [rl_interval] PA_OFF(rl.interval), [rl_tau] PA_OFF(rl.tau),
	      [rl_limited] PA_OFF(rl.limited), [self] PA_OFF(self),
	      [cost_full] PA_OFF(cost[PA_COST_UNTIMED][1]),
	      [cost_stats] PA_OFF(cost[PA_COST_UNTIMED][0]), [hdr] PA_OFF(hdr_bits),
	      [head] PA_OFF(ring.head), [rmask] PA_OFF(ring.mask), [mode] PA_OFF(ring.mode),
	      [words] PA_OFF(ring.words), [recs] PA_OFF(ring.recs), [drops] PA_OFF(ring.drops),
	      [cons_lim] PA_OFF(ring.cons_lim), [overwritten] PA_OFF(ring.overwritten),
	      [committed] PA_OFF(ring.committed), [pending] PA_OFF(ring.pending),
	      [dropped] PA_OFF(ring.dropped), [refused] PA_OFF(ring.refused),
	      [data2_sat] "i"(PERF_REC_F_DATA2_SAT));
}

/* What PERF_MD_RECORD_ASM relies on besides the offsets it is given. */
_Static_assert(sizeof(struct perf_record) == 32, "shlq $5");
_Static_assert(PERF_RING_CIRCULAR == 0, "cmpl $0, mode");
_Static_assert(RB_BUSY + 1 == RB_DONE, "DONE(seq) = BUSY(seq) + 1");
_Static_assert(sizeof(((struct perf_ring *)0)->mask) == 4, "movl mask");
_Static_assert(sizeof(((struct pa_cpu *)0)->hdr_bits) == 4, "orl hdr_bits");
_Static_assert(sizeof(((struct perf_ratelimit *)0)->next) == 8, "signed 64-bit next");

/* Test-only: wait the injected delay for ev, inside the measured window. */
static __attribute__((noinline)) void pa_inject(uint32_t ev)
{
	uint64_t t0 = perf_md_ticks(), n = __atomic_load_n(&pa_inject_ticks[ev], __ATOMIC_RELAXED);

	while (perf_md_ticks() - t0 < n)
		__builtin_ia32_pause();
}

PA_HOT void perf_time_begin(struct perf_tb *tb, uint32_t ev)
{
	unsigned long fl = perf_md_irq_save();
	uint32_t cpu = perf_md_cpu();
	const struct pa_cpu *pc = pa_cpus[cpu];

	tb->cpu = cpu;
	tb->gen = pa_gen;
	tb->self = pc->self;
	tb->nsw = pc->nsw;
	tb->ticks = perf_md_ticks();
	perf_md_irq_restore(fl);
	if (PA_UNLIKELY(pa_inject_mask >> ev & 1))
		pa_inject(ev);
}

/*
 * The block spanned context switches (or CPUs): the ticks and engine cost
 * of the intervals in which this thread ran, from the switch history.
 * With more switches than the history holds, the early part of the
 * window is left out (the duration is then a lower bound).
 */
static __attribute__((noinline)) void pa_on_cpu(const struct pa_cpu *pc, const struct perf_tb *tb,
                                                uint32_t cpu, uint64_t now, uint64_t *run,
                                                uint64_t *self)
{
	uint32_t me = perf_cur_thread_id();
	uint64_t k = tb->nsw;

	*run = 0;
	*self = 0;
	if (tb->cpu != cpu) {
		*run = now - tb->ticks; /* migrated: no history to consult */
		return;
	}
	if (pc->nsw - k <= PA_SW_HIST) {
		/* This thread ran from the start to the first switch. */
		*run = pc->sw[k % PA_SW_HIST].ticks - tb->ticks;
		*self = pc->sw[k % PA_SW_HIST].self - tb->self;
	} else {
		k = pc->nsw - PA_SW_HIST;
	}
	for (; k < pc->nsw; k++) {
		const struct pa_switch *s = &pc->sw[k % PA_SW_HIST];
		uint64_t end_t = now, end_s = pc->self;

		if (s->to != me)
			continue;
		if (k + 1 < pc->nsw) {
			end_t = pc->sw[(k + 1) % PA_SW_HIST].ticks;
			end_s = pc->sw[(k + 1) % PA_SW_HIST].self;
		}
		*run += end_t - s->ticks;
		*self += end_s - s->self;
	}
}

PA_HOT void perf_time_end(const struct perf_tb *tb, uint32_t ev, uint32_t task, uint32_t thread,
                          uint64_t d1, uint64_t d2)
{
	unsigned long fl = perf_md_irq_save();
	uint64_t now = perf_md_ticks();
	uint32_t cpu = perf_md_cpu();
	struct pa_cpu *pc = pa_cpus[cpu];
	uint64_t run, self, comp, d;

	if (PA_LIKELY((perf_active_mask >> ev & 1) && tb->gen == pa_gen)) {
		if (PA_LIKELY(tb->cpu == cpu && tb->nsw == pc->nsw)) {
			run = now - tb->ticks;
			self = pc->self - tb->self;
		} else {
			pa_on_cpu(pc, tb, cpu, now, &run, &self);
		}
		comp = pc->block + self;
		d = pa_ns(run > comp ? run - comp : 0);
		perf_stats_add(&pc->st[ev], d);
		pc->hist[ev][perf_hist_index(d)]++;
		if (PA_UNLIKELY(d > perf_alert_threshold[ev])) /* perf alerts (kern/perf_alert.c) */
			perf_alert_note(ev, task, thread, d);
		if (PA_UNLIKELY(perf_ratelimit_allow_excl(&pc->rl, now))) {
			pc->self += pc->cost[PA_COST_TIMED][1];
			pa_put(pc, now, ev | PERF_REC_F_TIMED << 8 | pc->hdr_bits, task, thread, d1,
			       d, d2);
		} else {
			pc->self += pc->cost[PA_COST_TIMED][0];
		}
	}
	perf_md_irq_restore(fl);
}

void perf_context_switch(const struct thread *from, const struct thread *to)
{
	unsigned long fl = perf_md_irq_save();
	uint64_t now = perf_md_ticks();
	struct pa_cpu *pc = pa_cpus[perf_md_cpu()];
	uint32_t mask = perf_active_mask;
	const uint32_t ev = PERF_EVENT_CONTEXT_SWITCH;

	if (PA_LIKELY(mask != 0)) {
		struct pa_switch *s = &pc->sw[pc->nsw % PA_SW_HIST];

		s->ticks = now;
		s->self = pc->self;
		s->to = to->id;
		pc->nsw++;
		if (mask >> ev & 1) {
			pc->ucount[ev]++;
			if (perf_ratelimit_allow_excl(&pc->rl, now)) {
				pc->self += pc->cost[PA_COST_UNTIMED][1];
				pa_put(pc, now, ev | pc->hdr_bits, perf_thread_task_id(from),
				       from->id, from->id, 0, to->id);
			} else {
				pc->self += pc->cost[PA_COST_UNTIMED][0];
			}
		}
	}
	perf_md_irq_restore(fl);
}

/* ---- calibration ---- */

/* One calibration loop: PA_CAL_N probes of a kind; returns the ticks it took. */
static __attribute__((noinline)) uint64_t pa_cal_loop(unsigned kind)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < PA_CAL_N; i++) {
		if (kind == 0)
			PERF_EVENT_RECORD(PA_CAL_EVENT, 0, i, i, 0);
		else
			PERF_TIME_BLOCK(PA_CAL_EVENT, 0, i, i, 0, {});
		__asm__ volatile("" : : : "memory");
	}
	return perf_md_ticks() - t0;
}

/* Puts the scratch state back to empty, sampling everything or nothing. */
static void pa_cal_reset(bool sample, uint64_t now)
{
	struct pa_cpu *s = &pa_scratch;

	memset(s->ucount, 0, sizeof(s->ucount));
	perf_stats_init(&s->st[PA_CAL_EVENT]);
	perf_ring_init(&s->ring, pa_scratch_ring, perf_ring_mem_size(PERF_BUFFER_MIN),
	               PERF_BUFFER_MIN, PERF_RING_CIRCULAR);
	if (sample) {
		perf_ratelimit_init(&s->rl, PERF_RATELIMIT_UNLIMITED, 0, now);
	} else {
		perf_ratelimit_init(&s->rl, PERF_RATELIMIT_MIN_RATE, 1, now);
		s->rl.next = INT64_MAX / 2; /* no token before the end of time */
	}
}

static uint64_t pa_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * Measures the engine's own costs (see "Timed blocks and
 * self-calibration") with interrupts masked, on the scratch state, and
 * installs them in every CPU's state.  Called by perf_monitor_enable with
 * recording stopped.  [m]
 */
static void pa_calibrate(void)
{
	unsigned long fl = intr_save();
	uint32_t cpu = perf_md_cpu();
	struct pa_cpu *real = pa_cpus[cpu];
	uint64_t off[2] = { UINT64_MAX, UINT64_MAX }, cost[2][2], block = UINT64_MAX;
	unsigned rounds = pa_icount ? 1 : PA_CAL_ROUNDS;

	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			cost[i][j] = UINT64_MAX;
	/* A test-only injected delay must not be measured as the engine's own cost. */
	uint32_t inject = __atomic_exchange_n(&pa_inject_mask, 0, __ATOMIC_RELAXED);

	pa_scratch.cpu = cpu;
	pa_scratch.block = 0;
	memset(pa_scratch.cost, 0, sizeof(pa_scratch.cost));
	pa_cpus[cpu] = &pa_scratch;
	for (unsigned r = 0; r < rounds; r++) {
		pa_cal_reset(true, perf_md_ticks());
		__atomic_store_n(&perf_active_mask, 0, __ATOMIC_RELAXED);
		for (unsigned timed = 0; timed < 2; timed++)
			off[timed] = pa_min(off[timed], pa_cal_loop(timed));
		__atomic_store_n(&perf_active_mask, 1u << PA_CAL_EVENT, __ATOMIC_RELAXED);
		for (unsigned timed = 0; timed < 2; timed++) {
			for (unsigned full = 0; full < 2; full++) {
				pa_cal_reset(full, perf_md_ticks());
				cost[timed][full] = pa_min(cost[timed][full], pa_cal_loop(timed));
			}
		}
		/* The last loop was empty timed blocks with raw records: their minimum. */
		block = pa_min(block, pa_scratch.st[PA_CAL_EVENT].min);
	}
	__atomic_store_n(&perf_active_mask, 0, __ATOMIC_RELAXED);
	pa_cpus[cpu] = real;
	__atomic_store_n(&pa_inject_mask, inject, __ATOMIC_RELAXED);
	intr_restore(fl);

	/* st.min is in ns; back to ticks (exact under icount, +-1 tick otherwise). */
	pa_cal.block_ticks = tsc_from_ns(block);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			cost[i][j] = cost[i][j] > off[i] ? (cost[i][j] - off[i]) / PA_CAL_N : 0;
	pa_cal.record_ticks = cost[0][1];
	pa_cal.stats_ticks = cost[0][0];
	pa_cal.timed_ticks = cost[1][1];
	pa_cal.timed_stats_ticks = cost[1][0];
	pa_cal.valid = true;
	for (uint32_t c = 0; c < pa_ncpus; c++) {
		fl = intr_save(); /* remote CPUs would need an IPI; today there are none */
		pa_cpus[c]->block = pa_cal.block_ticks;
		memcpy(pa_cpus[c]->cost, cost, sizeof(cost));
		intr_restore(fl);
	}
}

void perf_get_calibration(struct perf_calibration *out)
{
	pa_lock();
	*out = pa_cal;
	pa_unlock();
}

/* ---- control ---- */

/* Makes what probes see follow pa_enabled and pa_event_mask.  [m] */
static void pa_publish_mask(void)
{
	uint32_t m = pa_enabled ? pa_event_mask : 0;

	if (__atomic_load_n(&perf_active_mask, __ATOMIC_RELAXED) == 0 && m != 0)
		__atomic_add_fetch(&pa_gen, 1, __ATOMIC_RELAXED); /* switch history restarts */
	__atomic_store_n(&perf_active_mask, m, __ATOMIC_RELEASE);
}

kern_return_t perf_monitor_enable(bool on)
{
	if (!pa_ready)
		return KERN_FAILURE;
	pa_lock();
	if (on && !pa_enabled) {
		pa_calibrate();
		pa_enabled_since = clock_ns();
		pa_enabled = true;
	} else if (!on && pa_enabled) {
		pa_interval_acc += clock_ns() - pa_enabled_since;
		pa_enabled = false;
	}
	pa_publish_mask();
	pa_unlock();
	return KERN_SUCCESS;
}

bool perf_monitor_enabled(void)
{
	return __atomic_load_n(&pa_enabled, __ATOMIC_RELAXED);
}

kern_return_t perf_set_event_mask(uint32_t mask)
{
	if (mask & ~PERF_EVENT_ALL)
		return KERN_INVALID_ARGUMENT;
	if (!pa_ready)
		return KERN_FAILURE;
	pa_lock();
	pa_event_mask = mask;
	pa_publish_mask();
	pa_unlock();
	return KERN_SUCCESS;
}

uint32_t perf_get_event_mask(void)
{
	return __atomic_load_n(&pa_event_mask, __ATOMIC_RELAXED);
}

uint64_t pa_interval_ns(void)
{
	return pa_interval_acc + (pa_enabled ? clock_ns() - pa_enabled_since : 0);
}

void pa_get_config(struct perf_sysstats *out)
{
	out->enabled = pa_enabled;
	out->event_mask = pa_event_mask;
	out->rate = pa_rate;
	out->buffer_records = pa_buffer_records;
	out->mode = pa_mode;
	out->interval_ns = pa_interval_ns();
	out->cost_record_ns = pa_ns(pa_cal.record_ticks);
	out->cost_stats_ns = pa_ns(pa_cal.stats_ticks);
	out->cost_block_ns = pa_ns(pa_cal.block_ticks);
}

/* The rate limiter in TSC ticks, keeping its counters.  Interrupts masked. */
static void pa_rl_setup(struct perf_ratelimit *rl, uint32_t rate, uint64_t now)
{
	uint64_t allowed = rl->allowed, limited = rl->limited;

	perf_ratelimit_init(rl, rate, rate / 10, now); /* bursts of 100 ms worth */
	rl->interval = tsc_from_ns(rl->interval);
	rl->tau = tsc_from_ns(rl->tau);
	if (rate != PERF_RATE_UNLIMITED)
		rl->next = (int64_t)now - (int64_t)rl->tau; /* a full bucket, in ticks */
	rl->allowed = allowed;
	rl->limited = limited;
}

kern_return_t perf_configure(uint32_t rate, uint32_t buffer_records, uint32_t mode)
{
	void *mem[PERF_MAX_CPUS] = { 0 };
	size_t size = perf_ring_mem_size(buffer_records);

	if (rate != PERF_RATE_UNLIMITED && (rate < PERF_RATE_MIN || rate > PERF_RATE_MAX))
		return KERN_INVALID_ARGUMENT;
	if (size == 0 || (mode != PERF_BUFFER_CIRCULAR && mode != PERF_BUFFER_SATURATE))
		return KERN_INVALID_ARGUMENT;
	if (!pa_ready)
		return KERN_FAILURE;
	pa_lock();
	if (buffer_records != pa_buffer_records) {
		for (uint32_t c = 0; c < pa_ncpus; c++) {
			mem[c] = kalloc(size);
			if (mem[c] == NULL) {
				for (uint32_t i = 0; i < c; i++)
					kfree(mem[i]);
				pa_unlock();
				return KERN_RESOURCE_SHORTAGE;
			}
		}
	}
	for (uint32_t c = 0; c < pa_ncpus; c++) {
		struct pa_cpu *pc = pa_cpus[c];
		void *old = NULL;
		/* Masked here, no record is in progress on this CPU: the ring is quiescent. */
		unsigned long fl = intr_save();

		if (mem[c] != NULL &&
		    !perf_ring_resize(&pc->ring, mem[c], size, buffer_records, &old))
			panic("perf_configure: resize to %u records refused", buffer_records);
		perf_ring_set_mode(&pc->ring, (enum perf_ring_mode)mode);
		pa_rl_setup(&pc->rl, rate, perf_md_ticks());
		intr_restore(fl);
		if (mem[c] != NULL) {
			kfree(old);
			pc->ring_mem = mem[c];
			pc->ring_records = buffer_records;
		}
	}
	pa_rate = rate;
	pa_buffer_records = buffer_records;
	pa_mode = mode;
	pa_unlock();
	return KERN_SUCCESS;
}

kern_return_t perf_reset(void)
{
	if (!pa_ready)
		return KERN_FAILURE;
	pa_lock();
	for (uint32_t c = 0; c < pa_ncpus; c++) {
		struct pa_cpu *pc = pa_cpus[c];
		unsigned long fl;

		/* One event at a time, so interrupts stay masked only briefly. */
		for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++) {
			fl = intr_save();
			pc->ucount[ev] = 0;
			perf_stats_init(&pc->st[ev]);
			memset(pc->hist[ev], 0, sizeof(pc->hist[ev]));
			intr_restore(fl);
		}
		fl = intr_save();
		perf_ring_discard(&pc->ring);
		pc->rl.allowed = 0;
		pc->rl.limited = 0;
		pa_rl_setup(&pc->rl, pa_rate, perf_md_ticks());
		intr_restore(fl);
	}
	pa_interval_acc = 0;
	pa_enabled_since = clock_ns();
	pa_unlock();
	return KERN_SUCCESS;
}

kern_return_t perf_inject_delay(uint32_t event, uint64_t ns)
{
	if (event >= PERF_EVENT_MAX || ns > PA_INJECT_MAX_NS)
		return KERN_INVALID_ARGUMENT;
	__atomic_store_n(&pa_inject_ticks[event], tsc_from_ns(ns), __ATOMIC_RELAXED);
	if (ns != 0)
		__atomic_or_fetch(&pa_inject_mask, 1u << event, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&pa_inject_mask, ~(1u << event), __ATOMIC_RELAXED);
	return KERN_SUCCESS;
}

/* ---- init ---- */

static void *pa_alloc_boot(size_t size, const char *what)
{
	void *p = kalloc(size);

	if (p == NULL)
		panic("perf_analysis_init: no memory for %s (%lu bytes)", what, size);
	memset(p, 0, size);
	return p;
}

static void pa_cpu_init(struct pa_cpu *pc, uint32_t cpu, uint32_t records, uint32_t nrows)
{
	size_t size = perf_ring_mem_size(records);

	pc->cpu = cpu;
	pc->hdr_bits = (uint32_t)(pa_icount ? PERF_REC_F_ICOUNT : 0) << 8 | cpu << 16;
	pc->ring_mem = pa_alloc_boot(size, "a perf buffer");
	pc->ring_records = records;
	if (!perf_ring_init(&pc->ring, pc->ring_mem, size, records, PERF_RING_CIRCULAR))
		panic("perf_analysis_init: perf_ring_init(%u) refused", records);
	pc->hist = pa_alloc_boot(nrows * sizeof(pc->hist[0]), "perf histograms");
	for (uint32_t ev = 0; ev < PERF_EVENT_MAX; ev++)
		perf_stats_init(&pc->st[ev]);
	pa_rl_setup(&pc->rl, PERF_RATE_UNLIMITED, perf_md_ticks());
}

/* "perf.inject=EVENT:NS" (test-only, see perf_inject_delay). */
static void pa_parse_inject(void)
{
	const char *v = cmdline_get("perf.inject");
	char name[24];
	size_t n = 0;
	uint64_t ns = 0;
	int ev;

	if (v == NULL)
		return;
	while (v[n] && v[n] != ':' && n + 1 < sizeof(name)) {
		name[n] = v[n];
		n++;
	}
	name[n] = 0;
	ev = perf_event_lookup(name);
	if (v[n] != ':' || ev < 0 || v[n + 1] == 0)
		goto bad;
	for (const char *s = v + n + 1; *s; s++) {
		if (*s < '0' || *s > '9' || ns > PA_INJECT_MAX_NS)
			goto bad;
		ns = ns * 10 + (uint64_t)(*s - '0');
	}
	if (perf_inject_delay((uint32_t)ev, ns) != KERN_SUCCESS)
		goto bad;
	kprintf("perf: test-only delay of %lu ns injected into every %s block\n", ns,
	        perf_event_name((uint32_t)ev));
	return;
bad:
	kprintf("perf: ignoring perf.inject=%s (want EVENT:NS, NS <= %llu)\n", v, PA_INJECT_MAX_NS);
}

void perf_analysis_init(void)
{
	if (pa_ready)
		panic("perf_analysis_init: called twice");
	pa_icount = clock_mode() == CLOCK_MODE_ICOUNT;
	pa_tick0 = tsc_boot();
	tsc_scale_init(&pa_scale, tsc_hz(), 1000000000ull);
	pa_ncpus = ncpus < PERF_MAX_CPUS ? ncpus : PERF_MAX_CPUS;
	for (uint32_t c = 0; c < pa_ncpus; c++) {
		pa_cpus[c] = &pa_cpu_store[c];
		pa_cpu_init(pa_cpus[c], c, PERF_BUFFER_DEFAULT, PERF_EVENT_MAX);
	}
	pa_cpu_init(&pa_scratch, 0, PERF_BUFFER_MIN, PA_CAL_EVENT + 1);
	pa_scratch_ring = pa_scratch.ring_mem;
	pa_baseline_init();
	pa_event_mask = PERF_EVENT_ALL;
	pa_rate = PERF_RATE_UNLIMITED;
	pa_buffer_records = PERF_BUFFER_DEFAULT;
	pa_mode = PERF_BUFFER_CIRCULAR;
	pa_ready = true;
	pa_parse_inject();
	if (cmdline_has("perf.enable") && cmdline_get_u64("perf.enable", 1) != 0)
		perf_monitor_enable(true);
}
