/*
 * FPU/SSE state belongs to the thread: run two or more instances in one
 * group with different seeds,
 *
 *	tests/user/test-fpu.elf 1 min-gaps 3 group=fpu
 *	tests/user/test-fpu.elf 2 min-gaps 3 group=fpu
 *
 * and each checks exact results while the others run in between: at
 * explicit yields (the swtch trap, with every XMM and x87 register and
 * MXCSR/FCW holding seed-specific values across it) and at timer
 * preemption (long loops with live XMM and x87 accumulators).  Every
 * value is an integer or a dyadic fraction, so the expected results are
 * exact, not approximate.  "min-gaps N" adds a case that fails unless
 * the loops were seen to be preempted (as in test-spin.c) at least N
 * times, so the preemption cases cannot pass without being exercised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mach/mach_traps.h>
#include <mach/syscall_sw.h>

#include "libktap.h"

#define ROUNDS 200
#define LOOP_N 6000000ul /* several time slices under TCG: preempted mid-loop */
#define MXCSR_DEFAULT 0x1f80u
#define FCW_DEFAULT 0x037fu

#define GAP_TSC 2000000ull /* more than an interrupt, less than a time slice (test-spin.c) */

static uint64_t seed;
static unsigned long loop_gaps; /* times the loops below were seen to be preempted */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Called every few iterations: counts the jumps of the TSC a preemption leaves. */
static inline void gap_check(uint64_t *last)
{
	uint64_t now = rdtsc();

	loop_gaps += now - *last > GAP_TSC;
	*last = now;
}
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int initial_state_ok(void)
{
	uint32_t mxcsr;
	uint16_t fcw;

	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	if (mxcsr != MXCSR_DEFAULT || fcw != FCW_DEFAULT)
		ktap_diag("initial MXCSR %#x (want %#x), FCW %#x (want %#x)", mxcsr, MXCSR_DEFAULT,
		          fcw, FCW_DEFAULT);
	return mxcsr == MXCSR_DEFAULT && fcw == FCW_DEFAULT;
}

/*
 * Loads xmm0-15 and MXCSR, traps into swtch, stores them back.  The trap
 * ABI preserves everything but rax, rcx and r11.
 */
static void xmm_across_swtch(const uint64_t in[32], uint64_t out[32], uint32_t mxcsr_in,
                             uint32_t *mxcsr_out)
{
	long rax = MACH_TRAP_swtch;
	uint32_t mx_default = MXCSR_DEFAULT;

	__asm__ volatile(
	    "movdqu 0x00(%[in]), %%xmm0\n\t"
	    "movdqu 0x10(%[in]), %%xmm1\n\t"
	    "movdqu 0x20(%[in]), %%xmm2\n\t"
	    "movdqu 0x30(%[in]), %%xmm3\n\t"
	    "movdqu 0x40(%[in]), %%xmm4\n\t"
	    "movdqu 0x50(%[in]), %%xmm5\n\t"
	    "movdqu 0x60(%[in]), %%xmm6\n\t"
	    "movdqu 0x70(%[in]), %%xmm7\n\t"
	    "movdqu 0x80(%[in]), %%xmm8\n\t"
	    "movdqu 0x90(%[in]), %%xmm9\n\t"
	    "movdqu 0xa0(%[in]), %%xmm10\n\t"
	    "movdqu 0xb0(%[in]), %%xmm11\n\t"
	    "movdqu 0xc0(%[in]), %%xmm12\n\t"
	    "movdqu 0xd0(%[in]), %%xmm13\n\t"
	    "movdqu 0xe0(%[in]), %%xmm14\n\t"
	    "movdqu 0xf0(%[in]), %%xmm15\n\t"
	    "ldmxcsr %[mxin]\n\t"
	    "syscall\n\t"
	    "stmxcsr %[mxout]\n\t"
	    "ldmxcsr %[mxdef]\n\t"
	    "movdqu %%xmm0, 0x00(%[out])\n\t"
	    "movdqu %%xmm1, 0x10(%[out])\n\t"
	    "movdqu %%xmm2, 0x20(%[out])\n\t"
	    "movdqu %%xmm3, 0x30(%[out])\n\t"
	    "movdqu %%xmm4, 0x40(%[out])\n\t"
	    "movdqu %%xmm5, 0x50(%[out])\n\t"
	    "movdqu %%xmm6, 0x60(%[out])\n\t"
	    "movdqu %%xmm7, 0x70(%[out])\n\t"
	    "movdqu %%xmm8, 0x80(%[out])\n\t"
	    "movdqu %%xmm9, 0x90(%[out])\n\t"
	    "movdqu %%xmm10, 0xa0(%[out])\n\t"
	    "movdqu %%xmm11, 0xb0(%[out])\n\t"
	    "movdqu %%xmm12, 0xc0(%[out])\n\t"
	    "movdqu %%xmm13, 0xd0(%[out])\n\t"
	    "movdqu %%xmm14, 0xe0(%[out])\n\t"
	    "movdqu %%xmm15, 0xf0(%[out])\n\t"
	    : "+a"(rax), [mxout] "=m"(*mxcsr_out)
	    : [in] "r"(in), [out] "r"(out), [mxin] "m"(mxcsr_in), [mxdef] "m"(mx_default)
	    : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
	      "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/*
 * Fills the x87 stack with eight 64-bit integers (exact in the 64-bit
 * mantissa) under a seed-specific control word, traps into swtch, pops
 * them back.  fistp pops st0 first: out[i] = in[7 - i].
 */
static void x87_across_swtch(const int64_t in[8], int64_t out[8], uint16_t fcw_in,
                             uint16_t *fcw_out)
{
	long rax = MACH_TRAP_swtch;

	__asm__ volatile("fninit\n\t"
	                 "fldcw %[cwin]\n\t"
	                 "fildq 0x00(%[in])\n\t"
	                 "fildq 0x08(%[in])\n\t"
	                 "fildq 0x10(%[in])\n\t"
	                 "fildq 0x18(%[in])\n\t"
	                 "fildq 0x20(%[in])\n\t"
	                 "fildq 0x28(%[in])\n\t"
	                 "fildq 0x30(%[in])\n\t"
	                 "fildq 0x38(%[in])\n\t"
	                 "syscall\n\t"
	                 "fnstcw %[cwout]\n\t"
	                 "fistpq 0x00(%[out])\n\t"
	                 "fistpq 0x08(%[out])\n\t"
	                 "fistpq 0x10(%[out])\n\t"
	                 "fistpq 0x18(%[out])\n\t"
	                 "fistpq 0x20(%[out])\n\t"
	                 "fistpq 0x28(%[out])\n\t"
	                 "fistpq 0x30(%[out])\n\t"
	                 "fistpq 0x38(%[out])\n\t"
	                 "fninit\n\t"
	                 : "+a"(rax), [cwout] "=m"(*fcw_out)
	                 : [in] "r"(in), [out] "r"(out), [cwin] "m"(fcw_in)
	                 : "rcx", "r11", "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)",
	                   "st(5)", "st(6)", "st(7)");
}

static void test_xmm_swtch(void)
{
	uint64_t in[32], out[32];
	uint32_t mx_in, mx_out;
	int bad = 0;

	for (int r = 0; r < ROUNDS && !bad; r++) {
		for (int i = 0; i < 32; i++)
			in[i] = rng();
		/* Rounding control (bits 13-14) and flush-to-zero (bit 15) vary. */
		mx_in = MXCSR_DEFAULT | (uint32_t)(rng() & 0xe000);
		xmm_across_swtch(in, out, mx_in, &mx_out);
		for (int i = 0; i < 32; i++)
			if (out[i] != in[i]) {
				ktap_diag("round %d: xmm%d qword %d %#llx, want %#llx", r, i / 2,
				          i % 2, (unsigned long long)out[i],
				          (unsigned long long)in[i]);
				bad = 1;
				break;
			}
		if ((mx_out & 0xffc0) != (mx_in & 0xffc0)) {
			ktap_diag("round %d: MXCSR %#x, want %#x", r, mx_out, mx_in);
			bad = 1;
		}
	}
	ktap_ok(!bad, "xmm_and_mxcsr_survive_swtch");
}

static void test_x87_swtch(void)
{
	int64_t in[8], out[8];
	uint16_t cw_in, cw_out;
	int bad = 0;

	for (int r = 0; r < ROUNDS && !bad; r++) {
		for (int i = 0; i < 8; i++)
			in[i] = (int64_t)rng();
		/* Rounding control (bits 10-11) varies; fistp of an integer is exact anyway. */
		cw_in = (uint16_t)(FCW_DEFAULT | (rng() & 0x0c00));
		x87_across_swtch(in, out, cw_in, &cw_out);
		for (int i = 0; i < 8; i++)
			if (out[i] != in[7 - i]) {
				ktap_diag("round %d: st(%d) %lld, want %lld", r, i,
				          (long long)out[i], (long long)in[7 - i]);
				bad = 1;
				break;
			}
		if ((cw_out & 0x1f3f) != (cw_in & 0x1f3f)) {
			ktap_diag("round %d: FCW %#x, want %#x", r, cw_out, cw_in);
			bad = 1;
		}
	}
	ktap_ok(!bad, "x87_stack_and_fcw_survive_swtch");
}

/*
 * Eight double accumulators, live in XMM registers through a loop long
 * enough for the timer to preempt it (no yields); a dyadic step keeps
 * every partial sum exact.
 */
static void test_sse_loop(void)
{
	double acc[8], step[8];
	int64_t start[8];
	uint64_t last = rdtsc();
	int bad = 0;

	for (int k = 0; k < 8; k++) {
		start[k] = (int64_t)(rng() % 1000000) - 500000;
		acc[k] = (double)start[k];
		step[k] = (double)(seed * 8 + k + 1) * 0.25;
	}
	for (unsigned long i = 1; i <= LOOP_N; i++) {
		for (int k = 0; k < 8; k++)
			acc[k] += step[k];
		if (i % 64 == 0)
			gap_check(&last);
	}
	for (int k = 0; k < 8; k++) {
		/* start + N * (seed * 8 + k + 1) / 4, computed in integers */
		int64_t quarters = start[k] * 4 + (int64_t)LOOP_N * (int64_t)(seed * 8 + k + 1);
		double want = (double)quarters / 4;

		if (acc[k] != want) {
			ktap_diag("accumulator %d: %.17g, want %.17g", k, acc[k], want);
			bad = 1;
		}
	}
	ktap_ok(!bad, "sse_accumulators_exact_under_preemption");
}

/* Long double sums beyond 2^53: exact only with the 64-bit mantissa (FCW 0x37f). */
static void test_x87_loop(void)
{
	uint64_t base = (1ull << 60) + seed * 12345;
	uint64_t step = seed * 2 + 1;
	long double acc = (long double)base, st = (long double)step;
	uint64_t want, last = rdtsc();
	int bad = 0;

	for (unsigned long i = 1; i <= LOOP_N; i++) {
		acc += st;
		if (i % 64 == 0)
			gap_check(&last);
	}
	want = base + LOOP_N * step;
	if ((uint64_t)acc != want) {
		ktap_diag("x87 sum %llu, want %llu", (unsigned long long)acc,
		          (unsigned long long)want);
		bad = 1;
	}
	ktap_ok(!bad, "x87_long_double_exact_under_preemption");
}

/* Divisions and square roots with exact answers, many times over. */
static void test_sse_exact_ops(void)
{
	volatile double three = 3.0;
	int bad = 0;

	for (unsigned long i = 1; i <= 200000 && !bad; i++) {
		double x = (double)(i + seed);

		if ((x * three) / three != x || __builtin_sqrt(x * x) != x)
			bad = 1;
		if (i % 50000 == 0)
			swtch();
	}
	ktap_ok(!bad, "sse_div_sqrt_exact");
}

int main(int argc, char **argv)
{
	unsigned long min_gaps = 0;
	int check_gaps = argc > 3 && strcmp(argv[2], "min-gaps") == 0;

	seed = argc > 1 ? strtoul(argv[1], NULL, 0) : 1;
	if (check_gaps)
		min_gaps = strtoul(argv[3], NULL, 0);
	rng_state = 0x2545f4914f6cdd1dull * (seed + 1);
	ktap_plan(check_gaps ? 7 : 6);
	ktap_diag("seed %llu", (unsigned long long)seed);
	ktap_ok(initial_state_ok(), "initial_fpu_state_is_default");
	test_xmm_swtch();
	test_x87_swtch();
	test_sse_loop();
	test_x87_loop();
	test_sse_exact_ops();
	ktap_diag("the loops were preempted %lu times", loop_gaps);
	if (check_gaps)
		ktap_ok(loop_gaps >= min_gaps, "loops_preempted_at_least_%lu_times", min_gaps);
	return ktap_done();
}
