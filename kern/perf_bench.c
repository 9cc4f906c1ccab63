/*
 * perf_bench.c - what a probe costs ("bench=perf" on the command line;
 * `make bench` boots it under icount and under plain TCG).  Not a test:
 * it prints figures and exits QEMU with success.
 *
 * Every figure is one loop of PERF_BENCH_N iterations, timed with the TSC
 * with interrupts masked (see pbn_run), minus the same loop without a
 * probe, divided by PERF_BENCH_N: guest instructions per probe under
 * icount, ns otherwise.
 * The probe records PERF_EVENT_IPC_SEND (nothing else records it yet)
 * with every other event masked.  Four states:
 *   - compiled out: kern/perf_bench_off.c, built without CONFIG_PERF_ANALYSIS;
 *   - disabled: compiled in, the event's bit clear;
 *   - statistics only: the rate limit (100/s, burst spent) refuses the record;
 *   - full record: no rate limit; the ring has wrapped once (steady state:
 *     every record overwrites an older one).
 */
#include <stdint.h>

#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/perf_analysis.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "x86_64/cpu.h"
#include "x86_64/machine.h"
#include "x86_64/perf_md.h"
#include "x86_64/tsc.h"

#define PERF_BENCH_N 4096u
#define PB_EV PERF_EVENT_IPC_SEND

uint64_t perf_bench_loop_bare(uint32_t n);
uint64_t perf_bench_loop_out(uint32_t n);
uint64_t perf_bench_loop_out_timed(uint32_t n);

static __attribute__((noinline)) uint64_t pbn_loop_in(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++) {
		PERF_EVENT_RECORD(PB_EV, 0, i, i, 0);
		__asm__ volatile("" : : "r"(i) : "memory");
	}
	return perf_md_ticks() - t0;
}

static __attribute__((noinline)) uint64_t pbn_loop_in_timed(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++) {
		PERF_TIME_BLOCK(PB_EV, 0, i, i, 0, { __asm__ volatile("" : : "r"(i) : "memory"); });
	}
	return perf_md_ticks() - t0;
}

/*
 * Ticks of one loop run with interrupts masked, after a run that warms it
 * up (under plain TCG the first run also pays for translating the code);
 * under wall time the fastest of PBN_ROUNDS.  Under icount every run gives
 * the same figure.
 */
#define PBN_ROUNDS 5

static uint64_t pbn_run(uint64_t (*loop)(uint32_t))
{
	unsigned rounds = clock_mode() == CLOCK_MODE_ICOUNT ? 1 : PBN_ROUNDS;
	unsigned long fl = intr_save();
	uint64_t best = UINT64_MAX;

	loop(PERF_BENCH_N);
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t t = loop(PERF_BENCH_N);

		if (t < best)
			best = t;
	}
	intr_restore(fl);
	return best;
}

/* Prints "name: X.XX per probe (loop ratio R.RR)" for a loop of t ticks against bare. */
static void pbn_print(const char *name, uint64_t t, uint64_t bare, bool icount)
{
	uint64_t d = t > bare ? t - bare : 0;
	uint64_t per = (icount ? d : tsc_to_ns(d)) * 100 / PERF_BENCH_N;
	uint64_t ratio = bare ? t * 100 / bare : 0;

	kprintf("perf bench: %-40s %s%lu.%02lu %s per probe   (loop x%lu.%02lu)\n", name,
	        t < bare ? "-" : "+", per / 100, per % 100, icount ? "insns" : "ns", ratio / 100,
	        ratio % 100);
}

static uint64_t pbn_per(uint64_t t, uint64_t bare)
{
	return t > bare ? (t - bare) * 100 / PERF_BENCH_N : 0;
}

static void pbn_verdict(const char *what, uint64_t per100, uint64_t target)
{
	kprintf("perf bench: target %-24s <= %lu: %lu.%02lu, %s\n", what, target, per100 / 100,
	        per100 % 100, per100 <= target * 100 ? "met" : "MISSED");
}

void perf_bench_main(void)
{
	const char *b = cmdline_get("bench");
	bool icount = clock_mode() == CLOCK_MODE_ICOUNT;
	uint64_t bare, bare_off, out, out_t, dis, dis_t, st, st_t, full, full_t;
	struct perf_calibration cal;

	if (b == NULL || strcmp(b, "perf") != 0)
		return;
	kprintf("perf bench: clock %s, TSC %lu Hz, %u iterations per loop, interrupts masked\n",
	        clock_mode_name(), tsc_hz(), PERF_BENCH_N);

	perf_set_event_mask(1u << PB_EV);
	perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR);
	perf_monitor_enable(true);

	bare = pbn_run(perf_bench_loop_bare);
	bare_off = pbn_run(perf_bench_loop_bare);
	out = pbn_run(perf_bench_loop_out);
	out_t = pbn_run(perf_bench_loop_out_timed);

	perf_set_event_mask(0);
	dis = pbn_run(pbn_loop_in);
	dis_t = pbn_run(pbn_loop_in_timed);
	perf_set_event_mask(1u << PB_EV);

	/* Full records, after one lap of the ring so that every record overwrites. */
	pbn_run(pbn_loop_in);
	full = pbn_run(pbn_loop_in);
	full_t = pbn_run(pbn_loop_in_timed);

	/* Statistics only: the lowest rate, its burst spent first. */
	perf_configure(PERF_RATE_MIN, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR);
	st = pbn_run(pbn_loop_in);
	st_t = pbn_run(pbn_loop_in_timed);
	perf_get_calibration(&cal);
	perf_monitor_enable(false);

	kprintf("perf bench: %-40s %lu.%02lu %s per iteration\n", "loop without a probe",
	        (icount ? bare : tsc_to_ns(bare)) * 100 / PERF_BENCH_N / 100,
	        (icount ? bare : tsc_to_ns(bare)) * 100 / PERF_BENCH_N % 100,
	        icount ? "insns" : "ns");
	pbn_print("PERF_EVENT_RECORD compiled out", out, bare_off, icount);
	pbn_print("PERF_EVENT_RECORD disabled", dis, bare, icount);
	pbn_print("PERF_EVENT_RECORD statistics only", st, bare, icount);
	pbn_print("PERF_EVENT_RECORD full record", full, bare, icount);
	pbn_print("PERF_TIME_BLOCK (empty) compiled out", out_t, bare_off, icount);
	pbn_print("PERF_TIME_BLOCK (empty) disabled", dis_t, bare, icount);
	pbn_print("PERF_TIME_BLOCK (empty) statistics only", st_t, bare, icount);
	pbn_print("PERF_TIME_BLOCK (empty) full record", full_t, bare, icount);
	kprintf("perf bench: self-calibration (ticks): block %lu, record %lu, stats-only %lu, "
	        "timed %lu, timed stats-only %lu\n",
	        cal.block_ticks, cal.record_ticks, cal.stats_ticks, cal.timed_ticks,
	        cal.timed_stats_ticks);
	if (icount) {
		pbn_verdict("full record", pbn_per(full, bare), 60);
		pbn_verdict("statistics only", pbn_per(st, bare), 30);
		pbn_verdict("disabled probe", pbn_per(dis, bare), 3);
		pbn_verdict("compiled out", pbn_per(out, bare_off), 0);
	}
	kprintf("perf bench: done\n");
	machine_exit(MACHINE_EXIT_SUCCESS);
}
