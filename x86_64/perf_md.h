/*
 * The machine side of the perf engine's hot path (kern/perf_analysis.c):
 * the few instructions a record is built around, inline.
 *
 * The x86 page-fault error code has P, W and U in bits 0-2, like
 * PERF_PF_PRESENT, _WRITE and _USER; instruction fetch is bit 4.
 *
 * Interrupt masking uses pushfq/cli ... popfq: the record path runs with
 * interrupts masked whatever the caller's state, and popfq puts the
 * caller's IF back in one instruction, with no test.
 */
#ifndef X86_64_PERF_MD_H
#define X86_64_PERF_MD_H

#include <mach/perf_event.h>
#include <stddef.h>
#include <stdint.h>

#include "x86_64/cpu.h"

/* Masks interrupts on this CPU; returns the flags to hand to perf_md_irq_restore. */
static inline unsigned long perf_md_irq_save(void)
{
	unsigned long flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

/* Restores the interrupt state perf_md_irq_save saw. */
static inline void perf_md_irq_restore(unsigned long flags)
{
	__asm__ volatile("pushq %0; popfq" : : "r"(flags) : "memory", "cc");
}

/* This CPU's index, one load through the GS base (after cpu_init_boot). */
static inline uint64_t perf_md_cpu(void)
{
	uint64_t id;

	__asm__ volatile("movl %%gs:%c1, %k0" : "=r"(id) : "i"(offsetof(struct cpu, id)));
	return id;
}

/*
 * The raw clock: TSC ticks (guest instructions under -icount shift=0).
 * Three instructions: rdtsc clears the upper halves of rax and rdx, which
 * the compiler does not know (it would zero-extend eax once more).
 */
static inline uint64_t perf_md_ticks(void)
{
	uint64_t t, hi;

	__asm__ volatile("rdtsc; shlq $32, %1; orq %1, %0" : "=a"(t), "=d"(hi));
	return t;
}

/*
 * PERF_MD_RECORD_ASM - the body of perf_event_record (kern/perf_analysis.c
 * instantiates it in a naked function and supplies the operands: the
 * offsets of the per-CPU state's fields, the two globals, one flag).  It
 * is the engine's hottest code, written by hand because the compiler's
 * version spent a third more on register moves and saves; it does what
 * perf_analysis.c says in C next to the naked function (count, rate
 * limit, cost accounting, perf_ring_reserve_excl, the record,
 * perf_ring_commit_excl), and the kernel suite "perf" checks its records.
 *
 * In: edi event, esi task, edx thread, rcx data1, r8 data2 (SysV); only
 * caller-saved registers are used.  The caller's flags stay on the stack
 * from pushfq to popfq.  r9 is the CPU's state, rax the TSC, r10 the
 * thread, then bytes 12-15 of the record, then cons_lim; rdi the event,
 * then bytes 8-15 of the record; rdx the slot, then the record; rsi the
 * slot's commit word (address); r11 the sequence number, then BUSY(seq).
 *
 * Guest instructions from the call to the return: 19 when only statistics
 * are kept, 49 for a raw record in circular mode (the probe site adds
 * 10: the test, the arguments, the call).
 */
#define PERF_MD_RECORD_ASM                                                                                    \
	"pushfq\n\t"                                                                                          \
	"cli\n\t"                                                                                             \
	"movl %%gs:%c[cpu_id], %%eax\n\t"                                                                     \
	"movq %c[cpus](, %%rax, 8), %%r9\n\t"                                                                 \
	"movl %%edx, %%r10d\n\t"                                                                              \
	"rdtsc\n\t"                                                                                           \
	"shlq $32, %%rdx\n\t"                                                                                 \
	"orq %%rdx, %%rax\n\t" /* checked again with interrupts masked: a disable is final once it returns */ \
	"btl %%edi, %c[mask](%%rip)\n\t"                                                                      \
	"jnc 9f\n\t"                                                                                          \
	"movl %%edi, %%edx\n\t"                                                                               \
	"addq $1, %c[ucount](%%r9, %%rdx, 8)\n\t"                                                             \
	"cmpq %c[rl_next](%%r9), %%rax\n\t"                                                                   \
	"jl 8f\n\t" /* the rate limit says yes (now >= next, signed) */                                       \
	"cmpq $0, %c[rl_interval](%%r9)\n\t"                                                                  \
	"jne 7f\n"                                                                                            \
	"1:\n\t"                                                                                              \
	"movq %c[cost_full](%%r9), %%r11\n\t"                                                                 \
	"addq %%r11, %c[self](%%r9)\n\t" /* bytes 8-15 of the record: event, flags, cpu, task, thread */      \
	"shll $16, %%r10d\n\t"                                                                                \
	"movw %%si, %%r10w\n\t"                                                                               \
	"shlq $32, %%r10\n\t"                                                                                 \
	"orl %c[hdr](%%r9), %%edi\n\t"                                                                        \
	"orq %%r10, %%rdi\n\t" /* perf_ring_reserve_excl */                                                   \
	"movq %c[head](%%r9), %%r11\n\t"                                                                      \
	"movl %c[rmask](%%r9), %%edx\n\t"                                                                     \
	"andl %%r11d, %%edx\n\t"                                                                              \
	"movq %c[words](%%r9), %%rsi\n\t"                                                                     \
	"leaq (%%rsi, %%rdx, 8), %%rsi\n\t"                                                                   \
	"movq %c[cons_lim](%%r9), %%r10\n\t"                                                                  \
	"cmpl $0, %c[mode](%%r9)\n\t"                                                                         \
	"jne 6f\n\t" /* circular: an unread record (cons_lim < word) is overwritten, counted */               \
	"cmpq (%%rsi), %%r10\n\t"                                                                             \
	"adcq $0, %c[overwritten](%%r9)\n"                                                                    \
	"2:\n\t"                                                                                              \
	"leaq 1(, %%r11, 4), %%r11\n\t" /* BUSY(seq) before head moves */                                     \
	"movq %%r11, (%%rsi)\n\t"                                                                             \
	"addq $1, %c[head](%%r9)\n\t"                                                                         \
	"shlq $5, %%rdx\n\t"                                                                                  \
	"addq %c[recs](%%r9), %%rdx\n\t" /* the record: timestamp in raw TSC ticks, duration 0 */             \
	"movq %%rax, (%%rdx)\n\t"                                                                             \
	"movq %%rdi, 8(%%rdx)\n\t"                                                                            \
	"movq %%rcx, 16(%%rdx)\n\t"                                                                           \
	"movl $0, 24(%%rdx)\n\t"                                                                              \
	"movl %%r8d, 28(%%rdx)\n\t"                                                                           \
	"shrq $32, %%r8\n\t"                                                                                  \
	"jnz 5f\n"                                                                                            \
	"3:\n\t" /* perf_ring_commit_excl: DONE(seq) = BUSY(seq) + 1, last */                                 \
	"addq $1, (%%rsi)\n\t"                                                                                \
	"addq $1, %c[committed](%%r9)\n"                                                                      \
	"4:\n\t"                                                                                              \
	"popfq\n\t"                                                                                           \
	"ret\n" /* data2 saturates */                                                                         \
	"5:\n\t"                                                                                              \
	"movl $0xffffffff, 28(%%rdx)\n\t"                                                                     \
	"orb %[data2_sat], 9(%%rdx)\n\t"                                                                      \
	"jmp 3b\n" /* saturate mode: full if the slot holds an unread record; else the drop note */           \
	"6:\n\t"                                                                                              \
	"cmpq (%%rsi), %%r10\n\t"                                                                             \
	"jb 10f\n\t"                                                                                          \
	"xorl %%r10d, %%r10d\n\t"                                                                             \
	"xchgq %%r10, %c[pending](%%r9)\n\t"                                                                  \
	"pushq %%rsi\n\t"                                                                                     \
	"movq %c[drops](%%r9), %%rsi\n\t"                                                                     \
	"movq %%r10, (%%rsi, %%rdx, 8)\n\t"                                                                   \
	"popq %%rsi\n\t"                                                                                      \
	"jmp 2b\n"                                                                                            \
	"10:\n\t" /* dropped, counted as rb_count_drop does */                                                \
	"addq $1, %c[dropped](%%r9)\n\t"                                                                      \
	"addq $1, %c[refused](%%r9)\n\t"                                                                      \
	"lock addq $1, %c[pending](%%r9)\n\t"                                                                 \
	"jmp 4b\n" /* rate limited: next = max(next, now - tau) + interval (perf_ratelimit_step) */           \
	"7:\n\t"                                                                                              \
	"movq %%rax, %%r11\n\t"                                                                               \
	"subq %c[rl_tau](%%r9), %%r11\n\t"                                                                    \
	"movq %c[rl_next](%%r9), %%rdx\n\t"                                                                   \
	"cmpq %%rdx, %%r11\n\t"                                                                               \
	"cmovl %%rdx, %%r11\n\t"                                                                              \
	"addq %c[rl_interval](%%r9), %%r11\n\t"                                                               \
	"movq %%r11, %c[rl_next](%%r9)\n\t"                                                                   \
	"jmp 1b\n" /* statistics only */                                                                      \
	"8:\n\t"                                                                                              \
	"addq $1, %c[rl_limited](%%r9)\n\t"                                                                   \
	"movq %c[cost_stats](%%r9), %%r11\n\t"                                                                \
	"addq %%r11, %c[self](%%r9)\n"                                                                        \
	"9:\n\t"                                                                                              \
	"popfq\n\t"                                                                                           \
	"ret\n\t"

/* PERF_PF_* bits of a page fault's error code (x86_64/trap.h PF_*). */
static inline uint32_t perf_md_pf_bits(uint64_t error)
{
	return (uint32_t)(error & 0x7) | (error & 0x10 ? PERF_PF_EXEC : 0);
}

#endif
