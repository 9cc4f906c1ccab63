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

/* The raw clock: TSC ticks (guest instructions under -icount shift=0). */
static inline uint64_t perf_md_ticks(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* PERF_PF_* bits of a page fault's error code (x86_64/trap.h PF_*). */
static inline uint32_t perf_md_pf_bits(uint64_t error)
{
	return (uint32_t)(error & 0x7) | (error & 0x10 ? PERF_PF_EXEC : 0);
}

#endif
