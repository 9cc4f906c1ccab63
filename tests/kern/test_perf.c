/*
 * The performance analysis engine in the kernel (suite "perf"): probes,
 * enable and mask, sampling, both buffer modes, readers, interrupt-time
 * recording, baselines, regressions, and the real probes of the thread
 * life cycle, the switch and interrupts.
 *
 * The real probes: thread create/terminate, the switch and the timer
 * interrupt from kernel threads; a user task's system calls, page fault,
 * vm_allocate/vm_deallocate, creation and end (user_task_probes).
 *
 * The synthetic probes here record IPC_SEND and IPC_RECEIVE, which no real
 * path records yet (no IPC in the kernel's own tests).  Every case starts
 * from tp_begin (default configuration, statistics reset, buffer drained)
 * and ends with tp_end (recording off, every event on), so cases are
 * independent; the engine's buffers are allocated at boot and every
 * resize is undone, so the suite's leak check holds.
 */
#include <mach/perf_event.h>
#include <mach/syscall_sw.h>

#include "tests/kern/ktest_traps.h"
#include <stdbool.h>
#include <stdint.h>

#include "kern/clock.h"
#include "kern/kalloc.h"
#include "kern/kern_return.h"
#include "kern/ktest.h"
#include "kern/perf_analysis.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"
#include "x86_64/cpu.h"
#include "x86_64/trap.h"

#define TP_BUF 256
#define EV_A PERF_EVENT_IPC_SEND
#define EV_B PERF_EVENT_IPC_RECEIVE
#define TP_TAG_IRQ (1ull << 40)

static struct perf_record tp_buf[TP_BUF];
static uint64_t tp_cursor; /* [the suite] follows CPU 0's stream */

/* Every record from the cursor on; calls fn (if any) on each.  Returns records read. */
static uint64_t tp_drain(uint64_t *lost, void (*fn)(const struct perf_record *, void *), void *arg)
{
	uint64_t total = 0, l, ltot = 0;
	size_t n;

	if (lost)
		*lost = 0;
	do {
		if (perf_read_samples(&tp_cursor, tp_buf, TP_BUF, &n, &l) != KERN_SUCCESS)
			return total;
		for (size_t i = 0; fn && i < n; i++)
			fn(&tp_buf[i], arg);
		total += n;
		ltot += l;
	} while (n != 0 || l != 0);
	if (lost)
		*lost = ltot;
	return total;
}

static uint64_t tp_written(void)
{
	static struct perf_sysstats ss;

	perf_get_system_stats(&ss);
	return ss.cpu[0].written;
}

static void tp_begin(struct ktest_ctx *kt, uint32_t mask)
{
	KT_EXPECT_EQ(kt,
	             perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_set_event_mask(mask), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_monitor_enable(true), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_reset(), KERN_SUCCESS);
	tp_drain(NULL, NULL, NULL);
}

static void tp_end(struct ktest_ctx *kt)
{
	KT_EXPECT_EQ(kt, perf_monitor_enable(false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_set_event_mask(PERF_EVENT_ALL), KERN_SUCCESS);
	KT_EXPECT_EQ(kt,
	             perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR),
	             KERN_SUCCESS);
	perf_inject_delay(EV_A, 0);
	tp_drain(NULL, NULL, NULL);
}

static uint64_t tp_count(uint32_t ev)
{
	struct perf_event_stats s;

	perf_get_event_stats(ev, &s);
	return s.count;
}

/* A checksum binding a record's data2 to its other fields: a torn copy fails it. */
static uint32_t tp_sum(uint64_t d1, uint32_t thread)
{
	uint64_t x = d1 * 0x9e3779b97f4a7c15ull ^ (uint64_t)thread * 0xbf58476d1ce4e5b9ull;

	return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

/* ---- arguments ---- */

KTEST(perf, rejects_bad_arguments)
{
	struct perf_event_stats es;
	struct perf_regress_verdict v;
	uint64_t cur = PERF_CURSOR(PERF_MAX_CPUS - 1, 0), lost;
	size_t n;

	KT_EXPECT_EQ(kt, perf_configure(99, PERF_BUFFER_DEFAULT, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_configure(5001, PERF_BUFFER_DEFAULT, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_configure(0, 1000, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_configure(0, 512, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_configure(0, 65536, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_configure(0, PERF_BUFFER_DEFAULT, 2), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_set_event_mask(1u << PERF_EVENT_MAX), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_get_event_stats(PERF_EVENT_MAX, &es), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_get_event_stats(0, NULL), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_read_samples(&cur, tp_buf, TP_BUF, &n, &lost), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_read_samples(NULL, tp_buf, TP_BUF, &n, &lost), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_check_regression(PERF_EVENT_MAX, 5, &v), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_check_regression(0, 1001, &v), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_baseline_import(NULL, 64), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_inject_delay(PERF_EVENT_MAX, 1), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_inject_delay(0, 2000000000ull), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_baseline_export(NULL, 0, NULL), KERN_INVALID_ARGUMENT);
}

/* ---- recording control ---- */

KTEST(perf, disabled_and_masked_events_do_not_count)
{
	tp_begin(kt, PERF_EVENT_ALL);
	for (int i = 0; i < 100; i++)
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
	KT_EXPECT_EQ(kt, tp_count(EV_A), 100);

	KT_EXPECT_EQ(kt, perf_monitor_enable(false), KERN_SUCCESS);
	KT_EXPECT(kt, !perf_monitor_enabled());
	for (int i = 0; i < 100; i++) {
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
		PERF_TIME_BLOCK(EV_B, 0, 1, i, 0, { __asm__ volatile("" ::: "memory"); });
	}
	KT_EXPECT_EQ(kt, tp_count(EV_A), 100);
	KT_EXPECT_EQ(kt, tp_count(EV_B), 0);

	KT_EXPECT_EQ(kt, perf_monitor_enable(true), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_set_event_mask(PERF_EVENT_ALL & ~(1u << EV_A)), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_get_event_mask(), PERF_EVENT_ALL & ~(1u << EV_A));
	for (int i = 0; i < 100; i++) {
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
		PERF_TIME_BLOCK(EV_B, 0, 1, i, 0, { __asm__ volatile("" ::: "memory"); });
	}
	KT_EXPECT_EQ(kt, tp_count(EV_A), 100);
	KT_EXPECT_EQ(kt, tp_count(EV_B), 100);

	/* A block that began while its event was masked records nothing. */
	PERF_TIME_BLOCK(EV_A, 0, 1, 0, 0, { perf_set_event_mask(PERF_EVENT_ALL); });
	KT_EXPECT_EQ(kt, tp_count(EV_A), 100);
	KT_EXPECT_EQ(kt, perf_reset(), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, tp_count(EV_A), 0);
	KT_EXPECT_EQ(kt, tp_count(EV_B), 0);
	tp_end(kt);
}

/* Untimed events count as duration 0; timed ones carry compensated durations. */
KTEST(perf, statistics_of_timed_and_untimed_events)
{
	struct perf_event_stats s;
	struct perf_calibration cal;

	tp_begin(kt, (1u << EV_A) | (1u << EV_B));
	perf_get_calibration(&cal);
	KT_EXPECT(kt, cal.valid);
	KT_EXPECT(kt, cal.block_ticks > 0 && cal.block_ticks < cal.timed_ticks);
	KT_EXPECT(kt, cal.stats_ticks > 0 && cal.stats_ticks < cal.record_ticks);
	KT_EXPECT(kt, cal.timed_stats_ticks < cal.timed_ticks);
	for (int i = 0; i < 50; i++)
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
	KT_EXPECT_EQ(kt, perf_get_event_stats(EV_A, &s), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, s.count, 50);
	KT_EXPECT_EQ(kt, s.max_ns, 0);
	KT_EXPECT_EQ(kt, s.p99_ns, 0);
	KT_EXPECT_EQ(kt, !!(s.flags & PERF_STATS_F_ICOUNT), clock_mode() == CLOCK_MODE_ICOUNT);

	/* Empty blocks: what is left after compensation is (nearly) nothing. */
	unsigned long fl = intr_save();

	for (int i = 0; i < 200; i++)
		PERF_TIME_BLOCK(EV_B, 0, 1, i, 0, { __asm__ volatile("" ::: "memory"); });
	intr_restore(fl);
	KT_EXPECT_EQ(kt, perf_get_event_stats(EV_B, &s), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, s.count, 200);
	ktest_diag(
	    kt, "empty block after compensation: min %lu p50 %lu mean %lu.%03lu max %lu (%s)",
	    s.min_ns, s.p50_ns, s.mean_mns / 1000, s.mean_mns % 1000, s.max_ns, clock_mode_name());
	if (clock_mode() == CLOCK_MODE_ICOUNT)
		KT_EXPECT(kt, s.max_ns < 10); /* exact: what differs is the call site */
	else
		KT_EXPECT(kt, s.p50_ns < 50); /* TCG's wall clock is noisy: the median */

	/* A 20 us delay measures as at least 20 us, and not much more under icount. */
	perf_reset();
	for (int i = 0; i < 20; i++)
		PERF_TIME_BLOCK(EV_B, 0, 1, i, 0, { clock_delay_ns(20000); });
	KT_EXPECT_EQ(kt, perf_get_event_stats(EV_B, &s), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, s.count, 20);
	KT_EXPECT(kt, s.min_ns >= 20000);
	if (clock_mode() == CLOCK_MODE_ICOUNT)
		KT_EXPECT(kt, s.p50_ns < 21000);
	KT_EXPECT(kt, s.min_ns <= s.p50_ns && s.p50_ns <= s.p99_ns && s.p99_ns <= s.max_ns);
	KT_EXPECT(kt, s.interval_ns > 0 && s.rate_mhz > 0);
	tp_end(kt);
}

/* ---- sampling and buffers ---- */

KTEST(perf, sampling_limits_records_not_statistics)
{
	static struct perf_sysstats ss;
	uint64_t w0, read, lost;

	tp_begin(kt, 1u << EV_A);
	KT_ASSERT_EQ(kt, perf_configure(PERF_RATE_MIN, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR),
	             KERN_SUCCESS);
	w0 = tp_written();
	for (int i = 0; i < 5000; i++)
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
	read = tp_drain(&lost, NULL, NULL);
	KT_EXPECT_EQ(kt, tp_count(EV_A), 5000);
	KT_EXPECT(kt, read < 100); /* a burst of 10, then 100/s */
	KT_EXPECT_EQ(kt, read + lost, tp_written() - w0);
	KT_EXPECT_EQ(kt, perf_get_system_stats(&ss), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ss.rate, PERF_RATE_MIN);
	KT_EXPECT_EQ(kt, ss.cpu[0].sampled_out + (tp_written() - w0), 5000);
	ktest_diag(kt, "5000 events at 100/s: %lu raw records, %lu sampled out", read,
	           ss.cpu[0].sampled_out);
	tp_end(kt);
}

static void tp_check_seq(const struct perf_record *r, void *arg)
{
	uint64_t *last = arg;

	if (r->event == EV_A) {
		if (last[0] != UINT64_MAX && r->data1 != last[0] + 1)
			last[1]++; /* a gap among the records read */
		last[0] = r->data1;
	}
}

static void tp_overflow(struct ktest_ctx *kt, uint32_t mode)
{
	uint64_t w0, read, lost, last[2] = { UINT64_MAX, 0 }, first_seen;
	static struct perf_sysstats s0, ss;

	tp_begin(kt, 1u << EV_A);
	KT_ASSERT_EQ(kt, perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_MIN, mode), KERN_SUCCESS);
	perf_get_system_stats(&s0);
	w0 = tp_written();
	for (uint32_t i = 0; i < 3 * PERF_BUFFER_MIN; i++)
		PERF_EVENT_RECORD(EV_A, 0, 1, i, tp_sum(i, 1));
	perf_get_system_stats(&ss);
	KT_EXPECT_EQ(kt, ss.cpu[0].buffered, PERF_BUFFER_MIN);
	KT_EXPECT_EQ(kt, ss.cpu[0].capacity, PERF_BUFFER_MIN);
	read = tp_drain(&lost, tp_check_seq, last);
	first_seen = last[0] + 1 - read;
	KT_EXPECT_EQ(kt, read, PERF_BUFFER_MIN);
	KT_EXPECT_EQ(kt, read + lost, tp_written() - w0);
	KT_EXPECT_EQ(kt, lost, 2 * PERF_BUFFER_MIN);
	KT_EXPECT_EQ(kt, last[1], 0); /* the records kept are consecutive */
	if (mode == PERF_BUFFER_CIRCULAR) {
		KT_EXPECT_EQ(kt, last[0], 3 * PERF_BUFFER_MIN - 1); /* the newest survive */
		KT_EXPECT_EQ(kt, ss.cpu[0].overwritten - s0.cpu[0].overwritten,
		             2 * PERF_BUFFER_MIN);
	} else {
		KT_EXPECT_EQ(kt, first_seen, 0); /* the oldest survive */
		KT_EXPECT_EQ(kt, ss.cpu[0].dropped - s0.cpu[0].dropped, 2 * PERF_BUFFER_MIN);
	}
	KT_EXPECT_EQ(kt, tp_count(EV_A), 3 * PERF_BUFFER_MIN);
	tp_end(kt);
}

KTEST(perf, overflow_counted_exactly_circular)
{
	tp_overflow(kt, PERF_BUFFER_CIRCULAR);
}

KTEST(perf, overflow_counted_exactly_saturate)
{
	tp_overflow(kt, PERF_BUFFER_SATURATE);
}

KTEST(perf, reader_that_keeps_up_loses_nothing)
{
	uint64_t w0, read = 0, lost, ltot = 0;

	tp_begin(kt, PERF_EVENT_ALL);
	w0 = tp_written();
	for (uint32_t chunk = 0; chunk < 40; chunk++) {
		for (uint32_t i = 0; i < 500; i++)
			PERF_EVENT_RECORD(EV_A, 0, 1, chunk * 500 + i, 0);
		read += tp_drain(&lost, NULL, NULL);
		ltot += lost;
	}
	KT_EXPECT_EQ(kt, ltot, 0);
	KT_EXPECT_EQ(kt, read, tp_written() - w0);
	KT_EXPECT(kt, read >= 20000);
	tp_end(kt);
}

/* Shrinking keeps the newest unread records and counts the rest; growing loses nothing. */
KTEST(perf, resize_while_recording_counts_every_loss)
{
	uint64_t w0, read, lost;

	tp_begin(kt, 1u << EV_A);
	w0 = tp_written();
	for (uint32_t i = 0; i < 5000; i++)
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
	KT_ASSERT_EQ(kt, perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_MIN, PERF_BUFFER_SATURATE),
	             KERN_SUCCESS);
	for (uint32_t i = 0; i < 100; i++) /* saturated: dropped, counted */
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
	KT_ASSERT_EQ(kt, perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_MAX, PERF_BUFFER_CIRCULAR),
	             KERN_SUCCESS);
	for (uint32_t i = 0; i < 100; i++)
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
	read = tp_drain(&lost, NULL, NULL);
	KT_EXPECT_EQ(kt, read, PERF_BUFFER_MIN + 100);
	KT_EXPECT_EQ(kt, read + lost, tp_written() - w0);
	KT_EXPECT_EQ(kt, tp_count(EV_A), 5200);
	tp_end(kt);
}

/* ---- interrupt context ---- */

static volatile uint64_t tp_irq_n;

static void tp_tick_hook(void)
{
	uint64_t d1 = TP_TAG_IRQ | tp_irq_n++;

	PERF_EVENT_RECORD(EV_B, 0, 7, d1, tp_sum(d1, 7));
}

struct tp_check {
	uint64_t n, thread_recs, irq_recs, bad_sum, bad_event, bad_order, bad_flags, last_ts;
	uint64_t irq_between; /* irq records with thread records on both sides */
	uint64_t last_thread_d1, thread_gaps;
	bool prev_was_thread, pending_irq;
};

static void tp_check_rec(const struct perf_record *r, void *arg)
{
	struct tp_check *c = arg;
	uint8_t icount = clock_mode() == CLOCK_MODE_ICOUNT ? PERF_REC_F_ICOUNT : 0;

	if (c->n++ > 0 && r->ts_ns < c->last_ts)
		c->bad_order++;
	c->last_ts = r->ts_ns;
	if ((r->flags & PERF_REC_F_ICOUNT) != icount || r->cpu != 0)
		c->bad_flags++;
	if (r->event == EV_A || r->event == EV_B) {
		if (r->data2 != tp_sum(r->data1, r->thread))
			c->bad_sum++;
		if ((r->event == EV_B) != !!(r->data1 & TP_TAG_IRQ))
			c->bad_event++;
	} else if (r->event != PERF_EVENT_INTERRUPT && r->event != PERF_EVENT_CONTEXT_SWITCH) {
		c->bad_event++;
	}
	if (r->event == EV_A) {
		if (c->thread_recs && r->data1 <= c->last_thread_d1)
			c->bad_order++;
		c->last_thread_d1 = r->data1;
		c->thread_recs++;
		if (c->pending_irq)
			c->irq_between++;
		c->pending_irq = false;
		c->prev_was_thread = true;
	} else if (r->event == EV_B) {
		c->irq_recs++;
		c->pending_irq = c->prev_was_thread;
	}
}

/*
 * The self-test: the timer interrupt records while this thread records in
 * a tight loop and reads now and then; every record is then checked (event
 * ids, per-CPU timestamp order, checksums: nothing torn) and the books
 * must balance: written == read + lost.
 */
KTEST(perf, interrupt_and_thread_records_intact)
{
	struct tp_check c = { 0 };
	uint64_t w0, read = 0, lost, ltot = 0, t0;
	uint32_t i = 0;

	tp_begin(kt, (1u << EV_A) | (1u << EV_B) | (1u << PERF_EVENT_INTERRUPT));
	KT_ASSERT_EQ(kt, perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_MIN, PERF_BUFFER_CIRCULAR),
	             KERN_SUCCESS);
	tp_irq_n = 0;
	w0 = tp_written();
	clock_register_tick_hook(tp_tick_hook);
	t0 = clock_ticks();
	while (clock_ticks() - t0 < 4 || tp_irq_n < 4) {
		uint64_t d1 = i++;

		PERF_EVENT_RECORD(EV_A, 0, 3, d1, tp_sum(d1, 3));
		if (i % 1000 == 0) { /* read in the middle of it all (and lose a few) */
			read += tp_drain(&lost, tp_check_rec, &c);
			ltot += lost;
		}
	}
	clock_unregister_tick_hook(tp_tick_hook);
	read += tp_drain(&lost, tp_check_rec, &c);
	ltot += lost;
	KT_EXPECT_EQ(kt, read + ltot, tp_written() - w0);
	KT_EXPECT_EQ(kt, c.bad_sum, 0);
	KT_EXPECT_EQ(kt, c.bad_event, 0);
	KT_EXPECT_EQ(kt, c.bad_order, 0);
	KT_EXPECT_EQ(kt, c.bad_flags, 0);
	KT_EXPECT_EQ(kt, tp_count(EV_A), i);
	KT_EXPECT_EQ(kt, tp_count(EV_B), tp_irq_n);
	KT_EXPECT(kt, c.irq_recs > 0 && c.thread_recs > 0 && c.irq_between > 0);
	ktest_diag(kt,
	           "%u thread events, %lu from the timer; read %lu (%lu from the timer, %lu "
	           "between thread records), lost %lu",
	           i, tp_irq_n, read, c.irq_recs, c.irq_between, ltot);
	tp_end(kt);
}

/* ---- baselines and regressions ---- */

KTEST(perf, baseline_export_import_round_trip)
{
	size_t len = 0, len2 = 0;
	uint8_t *a, *b;
	struct perf_regress_verdict v;

	tp_begin(kt, (1u << EV_A) | (1u << EV_B));
	for (int i = 0; i < 300; i++) {
		PERF_EVENT_RECORD(EV_A, 0, 1, i, 0);
		PERF_TIME_BLOCK(EV_B, 0, 1, i, 0, { clock_delay_ns(100 + 10 * (i % 50)); });
	}
	KT_EXPECT_EQ(kt, perf_set_baseline(), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_baseline_export(NULL, 0, &len), KERN_INVALID_ARGUMENT);
	KT_ASSERT(kt, len > 64);
	a = kalloc(len);
	b = kalloc(len);
	KT_ASSERT(kt, a != NULL && b != NULL);
	KT_EXPECT_EQ(kt, perf_baseline_export(a, len - 1, &len2), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_baseline_export(a, len, &len2), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, len2, len);
	KT_EXPECT_EQ(kt, perf_baseline_import(a, len), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_baseline_export(b, len, &len2), KERN_SUCCESS);
	KT_EXPECT(kt, len2 == len && memcmp(a, b, len) == 0);

	/* Corruption anywhere, truncation, trailing bytes: rejected, baseline unchanged. */
	static const size_t spots[] = { 0, 4, 9, 13, 30, 44, 49, 64, 72, 100, 200 };

	for (size_t k = 0; k < sizeof(spots) / sizeof(spots[0]); k++) {
		size_t at = spots[k] < len ? spots[k] : len - 1;

		memcpy(b, a, len);
		b[at] ^= 0x10;
		if (!KT_EXPECT_EQ(kt, perf_baseline_import(b, len), KERN_INVALID_ARGUMENT))
			ktest_diag(kt, "a flipped bit at byte %lu was accepted", at);
	}
	memcpy(b, a, len);
	b[len - 1] ^= 1;
	KT_EXPECT_EQ(kt, perf_baseline_import(b, len), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_baseline_import(a, len - 1), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_baseline_import(a, 10), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_baseline_export(b, len, &len2), KERN_SUCCESS);
	KT_EXPECT(kt, len2 == len && memcmp(a, b, len) == 0);

	/* The current statistics are the baseline's: no regression, either mode. */
	KT_EXPECT_EQ(kt, perf_check_regression(EV_B, 5, &v), KERN_SUCCESS);
	KT_EXPECT(kt, !v.regressed);
	KT_EXPECT_EQ(kt, v.mean_change_bp, 0);
	KT_EXPECT_EQ(kt, v.n_base, 300);
	kfree(a);
	kfree(b);
	tp_end(kt);
}

#define TP_WORK_N 200

/* The workload: TP_WORK_N blocks of the same deterministic busy work. */
static void tp_workload(void)
{
	unsigned long fl = intr_save(); /* no tick inside a block: icount figures are exact */

	for (int i = 0; i < TP_WORK_N; i++) {
		PERF_TIME_BLOCK(EV_A, 0, 1, i, 0, {
			for (volatile int k = 0; k < 300; k++)
				;
		});
	}
	intr_restore(fl);
}

KTEST(perf, regression_detected_only_when_injected)
{
	struct perf_regress_verdict v;
	struct perf_event_stats s;
	bool icount = clock_mode() == CLOCK_MODE_ICOUNT;

	tp_begin(kt, 1u << EV_A);
	tp_workload();
	KT_ASSERT_EQ(kt, perf_set_baseline(), KERN_SUCCESS);
	perf_get_event_stats(EV_A, &s);
	ktest_diag(kt, "baseline block: mean %lu.%03lu p99 %lu (%s)", s.mean_mns / 1000,
	           s.mean_mns % 1000, s.p99_ns, clock_mode_name());

	/* The same workload again. */
	perf_reset();
	tp_workload();
	KT_EXPECT_EQ(kt, perf_check_regression(EV_A, 5, &v), KERN_SUCCESS);
	ktest_diag(kt, "repeated: %s, mean %+ld bp, p99 %+ld bp, z %ld.%03ld",
	           perf_regress_reason_name(v.reason), v.mean_change_bp, v.p99_change_bp,
	           v.z_milli / 1000, (v.z_milli < 0 ? -v.z_milli : v.z_milli) % 1000);
	if (icount) {
		KT_EXPECT(kt, !v.regressed);
		KT_EXPECT_EQ(kt, v.reason, PERF_REGRESS_R_EXACT_WITHIN);
		KT_EXPECT_EQ(kt, v.mean_change_bp, 0);
	}

	/* The same workload with a delay injected into the path: a regression. */
	KT_EXPECT_EQ(kt, perf_inject_delay(EV_A, s.mean_mns / 1000 + (icount ? 0 : 20000)),
	             KERN_SUCCESS);
	perf_reset();
	tp_workload();
	KT_EXPECT_EQ(kt, perf_inject_delay(EV_A, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_check_regression(EV_A, 5, &v), KERN_SUCCESS);
	ktest_diag(kt, "injected: %s, mean %+ld bp, p99 %+ld bp",
	           perf_regress_reason_name(v.reason), v.mean_change_bp, v.p99_change_bp);
	KT_EXPECT(kt, v.regressed);
	KT_EXPECT_EQ(kt, v.reason, icount ? PERF_REGRESS_R_EXACT_SLOWER : PERF_REGRESS_R_SLOWER);
	KT_EXPECT(kt, v.mean_change_bp > 5000);
	tp_end(kt);
}

/* ---- the real probes ---- */

static volatile bool tp_spin_done;

static void tp_nop(void *arg)
{
}

static void tp_spin(void *arg)
{
	clock_delay_ns(2000000); /* 2 ms of another thread's time */
	tp_spin_done = true;
}

struct tp_life {
	uint32_t me, child;
	uint64_t create, term, sw_to, sw_back, intr, intr_timed;
};

static void tp_life_rec(const struct perf_record *r, void *arg)
{
	struct tp_life *l = arg;

	switch (r->event) {
	case PERF_EVENT_THREAD_CREATE:
		l->create += r->data1 == l->child && r->data2 == 0 &&
		             r->thread == (l->me & 0xffff) && r->task == 0;
		break;
	case PERF_EVENT_THREAD_TERMINATE:
		l->term +=
		    r->data1 == l->child && r->data2 == 0 && r->thread == (l->child & 0xffff);
		break;
	case PERF_EVENT_CONTEXT_SWITCH:
		l->sw_to +=
		    r->data1 == l->me && r->data2 == l->child && r->thread == (l->me & 0xffff);
		l->sw_back += r->data1 == l->child && r->data2 != l->child;
		break;
	case PERF_EVENT_INTERRUPT:
		l->intr += r->data1 == T_LAPIC_TIMER;
		l->intr_timed += r->data1 == T_LAPIC_TIMER && (r->flags & PERF_REC_F_TIMED) &&
		                 r->duration_ns > 0;
		break;
	}
}

KTEST(perf, thread_switch_and_interrupt_probes)
{
	struct tp_life l = { 0 };
	struct thread *t;
	uint64_t t0;

	tp_begin(kt, PERF_EVENT_ALL);
	l.me = thread_current()->id;
	/* Higher priority: it runs at once, so we switch to it and back. */
	KT_ASSERT_EQ(kt,
	             thread_create_kernel("perf-probe", tp_nop, NULL, SCHED_PRI_DEFAULT + 4, &t),
	             KERN_SUCCESS);
	l.child = t->id;
	KT_EXPECT_EQ(kt, thread_join(t), KERN_SUCCESS);
	t0 = clock_ticks();
	while (clock_ticks() - t0 < 2)
		__asm__ volatile("pause");
	tp_drain(NULL, tp_life_rec, &l);
	ktest_diag(kt,
	           "thread %u: create %lu, terminate %lu, switch to %lu, back %lu, timer "
	           "interrupts %lu (%lu timed)",
	           l.child, l.create, l.term, l.sw_to, l.sw_back, l.intr, l.intr_timed);
	KT_EXPECT_EQ(kt, l.create, 1);
	KT_EXPECT_EQ(kt, l.term, 1);
	KT_EXPECT_EQ(kt, l.sw_to, 1);
	KT_EXPECT_EQ(kt, l.sw_back, 1);
	KT_EXPECT(kt, l.intr >= 2 && l.intr == l.intr_timed);
	KT_EXPECT(kt, tp_count(PERF_EVENT_INTERRUPT) >= 2);
	tp_end(kt);
}

/* A block whose thread is switched out leaves the other thread's time out. */
KTEST(perf, timed_block_excludes_time_switched_out)
{
	struct perf_event_stats s;
	struct thread *t;

	tp_begin(kt, PERF_EVENT_ALL);
	tp_spin_done = false;
	KT_ASSERT_EQ(kt, thread_create_kernel("perf-spin", tp_spin, NULL, SCHED_PRI_DEFAULT, &t),
	             KERN_SUCCESS);
	PERF_TIME_BLOCK(EV_A, 0, 1, 0, 0, {
		while (!tp_spin_done)
			thread_yield();
	});
	KT_EXPECT_EQ(kt, thread_join(t), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_get_event_stats(EV_A, &s), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, s.count, 1);
	ktest_diag(kt, "block around a 2 ms yield: %lu ns of its own", s.max_ns);
	KT_EXPECT(kt, s.max_ns < 1000000);
	tp_end(kt);
}

/* ---- the probes of a user task's life ---- */

_Static_assert(KTEST_TRAP_vm_allocate == -100 && KTEST_TRAP_vm_deallocate == -101 &&
                   KTEST_TRAP_task_exit == -103 && MACH_TRAP_mach_msg_trap == -25,
               "tp_user hard-codes these");

/*
 * mach_msg(0, no send or receive) (timed like every trap, though
 * syscall_entry.S sends it straight to mach_msg_sys while SYSCALL is off);
 * tmp_vm_allocate(&a, 3 pages, anywhere); *a = 42 (a page fault);
 * tmp_vm_deallocate(a, 3 pages); exit(5), or exit(9) if a call failed.
 */
__asm__(".pushsection .rodata\n"
        "	.balign 16\n"
        "tp_user:\n"
        "	xor	%edi, %edi\n"
        "	xor	%esi, %esi\n"
        "	mov	$-25, %rax\n"
        "	syscall\n"
        "	sub	$8, %rsp\n"
        "	movq	$0, (%rsp)\n"
        "	mov	%rsp, %rdi\n"
        "	mov	$12288, %esi\n"
        "	mov	$1, %edx\n"
        "	mov	$-100, %rax\n"
        "	syscall\n"
        "	test	%eax, %eax\n"
        "	jnz	1f\n"
        "	mov	(%rsp), %rdi\n"
        "	movl	$42, (%rdi)\n"
        "	mov	$12288, %esi\n"
        "	mov	$-101, %rax\n"
        "	syscall\n"
        "	mov	$5, %edi\n"
        "	test	%eax, %eax\n"
        "	jz	2f\n"
        "1:	mov	$9, %edi\n"
        "2:	mov	$-103, %rax\n"
        "	syscall\n"
        "tp_user_end:\n"
        ".popsection\n");
extern const char tp_user[], tp_user_end[];

#define TP_UCODE 0x400000ul
#define TP_USTACK 0x600000ul
#define TP_USTACK_SIZE 0x2000ul
#define TP_WAIT_NS (10 * 1000000000ull)

struct tp_task {
	uint32_t id;
	uint64_t addr, create, term, alloc, fault, free, sys_msg, sys_alloc, sys_free, sys_other;
};

static void tp_task_rec(const struct perf_record *r, void *arg)
{
	struct tp_task *t = arg;
	bool mine = r->task == (t->id & 0xffff);

	switch (r->event) {
	case PERF_EVENT_TASK_CREATE:
		t->create += r->data1 == t->id && r->data2 == 0 && r->task == 0;
		break;
	case PERF_EVENT_TASK_TERMINATE:
		t->term += r->data1 == t->id && r->data2 == 5;
		break;
	case PERF_EVENT_VM_ALLOC:
		if (mine && r->data2 == 3 * PAGE_SIZE) {
			t->alloc++;
			t->addr = r->data1;
		}
		break;
	case PERF_EVENT_PAGE_FAULT:
		t->fault += mine && r->data1 == t->addr && t->addr != 0 &&
		            r->data2 == (PERF_PF_WRITE | PERF_PF_USER) &&
		            (r->flags & PERF_REC_F_TIMED);
		break;
	case PERF_EVENT_VM_FREE:
		t->free += mine && r->data1 == t->addr && r->data2 == 3 * PAGE_SIZE;
		break;
	case PERF_EVENT_SYSCALL:
		if (!mine)
			break;
		t->sys_alloc += r->data1 == (uint64_t)-100 && r->data2 == 0;
		t->sys_free += r->data1 == (uint64_t)-101 && r->data2 == 0;
		t->sys_msg += r->data1 == (uint64_t)-25;
		t->sys_other += r->data1 != (uint64_t)-100 && r->data1 != (uint64_t)-101 &&
		                r->data1 != (uint64_t)-25;
		break;
	}
}

/* A user task's system calls, faults, allocations and life cycle, as recorded. */
KTEST(perf, user_task_probes)
{
	struct tp_task tt = { 0 };
	struct task *task;
	uintptr_t code = TP_UCODE, stack = TP_USTACK;
	struct vm_map *map;

	tp_begin(kt, PERF_EVENT_ALL);
	KT_ASSERT_EQ(kt, task_create("perf-user", &task), KERN_SUCCESS);
	tt.id = task->id;
	map = task->map;
	if (!KT_EXPECT_EQ(kt, vm_allocate(map, &code, PAGE_SIZE, false), KERN_SUCCESS) ||
	    !KT_EXPECT_EQ(kt, vm_write(map, code, tp_user, tp_user_end - tp_user), KERN_SUCCESS) ||
	    !KT_EXPECT_EQ(kt,
	                  vm_protect(map, code, PAGE_SIZE, false, VM_PROT_READ | VM_PROT_EXECUTE),
	                  KERN_SUCCESS) ||
	    !KT_EXPECT_EQ(kt, vm_allocate(map, &stack, TP_USTACK_SIZE, false), KERN_SUCCESS) ||
	    !KT_EXPECT_EQ(kt,
	                  thread_create_user(task, TP_UCODE, TP_USTACK + TP_USTACK_SIZE, 0, NULL),
	                  KERN_SUCCESS))
		task_terminate(task);
	KT_EXPECT(kt, task_wait(task, TP_WAIT_NS));
	KT_EXPECT_EQ(kt, task->end, TASK_EXITED);
	KT_EXPECT_EQ(kt, task->exit_status, 5);
	task_deallocate(task);
	tp_drain(NULL, tp_task_rec, &tt);
	ktest_diag(kt,
	           "task %u: create %lu, vm_allocate %lu at %#lx, fault %lu, vm_deallocate %lu, "
	           "syscalls %lu + %lu + %lu (+%lu), terminate %lu",
	           tt.id, tt.create, tt.alloc, tt.addr, tt.fault, tt.free, tt.sys_msg, tt.sys_alloc,
	           tt.sys_free, tt.sys_other, tt.term);
	KT_EXPECT_EQ(kt, tt.create, 1);
	KT_EXPECT_EQ(kt, tt.alloc, 1);
	KT_EXPECT_EQ(kt, tt.fault, 1);
	KT_EXPECT_EQ(kt, tt.free, 1);
	KT_EXPECT_EQ(kt, tt.sys_msg, 1);
	KT_EXPECT_EQ(kt, tt.sys_alloc, 1);
	KT_EXPECT_EQ(kt, tt.sys_free, 1);
	KT_EXPECT_EQ(kt, tt.sys_other, 0); /* exit never returns: no record */
	KT_EXPECT_EQ(kt, tt.term, 1);
	tp_end(kt);
}

/*
 * A delay injected before enable (perf.inject= on the command line) must
 * slow the event down, not the engine's idea of its own cost: calibration
 * runs on event 0 and used to measure the delay as the cost of a block.
 */
KTEST(perf, injected_delay_is_not_calibrated_away)
{
	struct perf_calibration before, after;

	perf_get_calibration(&before);
	KT_ASSERT_EQ(kt, perf_inject_delay(PERF_EVENT_IPC_SEND, 100000), KERN_SUCCESS);
	tp_begin(kt, PERF_EVENT_ALL); /* enables: calibrates with the delay armed */
	perf_get_calibration(&after);
	tp_end(kt);
	perf_inject_delay(PERF_EVENT_IPC_SEND, 0);
	KT_EXPECT(kt, after.valid);
	/* 100 us is at least 100,000 ticks at any plausible TSC rate. */
	KT_EXPECT(kt, after.block_ticks < 100000);
	ktest_diag(kt, "empty block: %lu ticks before, %lu with a delay armed", before.block_ticks,
	           after.block_ticks);
}
