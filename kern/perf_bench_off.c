/*
 * perf_bench_off.c - the benchmark's reference loops, compiled as if the
 * kernel were configured with --disable-perf-analysis: the same loop with
 * no probe, and with probes that are compiled out.  Their difference is
 * what a compiled-out probe costs (kern/perf_bench.c prints it).
 */
#undef CONFIG_PERF_ANALYSIS

#include <mach/perf_event.h>
#include <stdint.h>

#include "kern/perf_analysis.h"
#include "x86_64/perf_md.h"

uint64_t perf_bench_loop_bare(uint32_t n);
uint64_t perf_bench_loop_out(uint32_t n);
uint64_t perf_bench_loop_out_timed(uint32_t n);

/* The loop every measurement is built on, without a probe. */
__attribute__((noinline)) uint64_t perf_bench_loop_bare(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++)
		__asm__ volatile("" : : "r"(i) : "memory");
	return perf_md_ticks() - t0;
}

__attribute__((noinline)) uint64_t perf_bench_loop_out(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++) {
		PERF_EVENT_RECORD(PERF_EVENT_IPC_SEND, 0, i, i, 0);
		__asm__ volatile("" : : "r"(i) : "memory");
	}
	return perf_md_ticks() - t0;
}

__attribute__((noinline)) uint64_t perf_bench_loop_out_timed(uint32_t n)
{
	uint64_t t0 = perf_md_ticks();

	for (uint32_t i = 0; i < n; i++) {
		PERF_TIME_BLOCK(PERF_EVENT_IPC_SEND, 0, i, i, 0, {
			__asm__ volatile("" : : "r"(i) : "memory");
		});
	}
	return perf_md_ticks() - t0;
}
