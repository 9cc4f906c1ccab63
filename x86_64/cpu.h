/*
 * Per-CPU data.  Each CPU's struct cpu is reached through the GS base
 * (gs:0 holds the struct's own address), so cpu_current() is one load and
 * bringing up another CPU means filling in one more struct.
 */
#ifndef X86_64_CPU_H
#define X86_64_CPU_H

#include <stdint.h>

#define MAX_CPUS 8

/* GDT selectors.  The user ones are laid out for syscall/sysret (STAR). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE32 0x18
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28
#define SEL_TSS 0x30

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

struct kfault_catch;
struct thread;

struct cpu {
	struct cpu *self;                 /* [I] gs:0, must stay first */
	uint64_t kernel_rsp;              /* [c] gs:8, syscall entry stack */
	uint64_t user_rsp;                /* [c] gs:16, scratch on syscall entry */
	uint32_t id;                      /* [I] */
	uint32_t apic_id;                 /* [I] */
	struct kfault_catch *fault_catch; /* [c] innermost kfault_try, or NULL */
	struct tss tss;                   /* [c] rsp0 changes on context switch */
	volatile uint64_t irq_count;      /* [c] interrupts taken */
	volatile uint32_t irq_depth;      /* [c] nesting of interrupt handlers */
	/* Scheduler (kern/sched.c, x86_64/switch.c). */
	struct thread *thread;          /* [c] the running thread */
	struct thread *idle_thread;     /* [I] this CPU's idle thread */
	struct thread *prev_thread;     /* [c] switched away from, for the switch tail */
	volatile uint32_t need_resched; /* [c] preempt at the next chance */
	uint64_t ctx_switches;          /* [c] context switches */
	uint64_t preemptions;           /* [c] involuntary ones among them */
	uint64_t idle_tsc;              /* [c] TSC cycles spent in the idle thread */
	uint64_t idle_since;            /* [c] TSC when the idle thread was switched to */
};
/* [I] immutable after cpu_init, [c] touched only by the owning CPU */

_Static_assert(__builtin_offsetof(struct cpu, self) == 0, "gs:0");
_Static_assert(__builtin_offsetof(struct cpu, kernel_rsp) == 8, "gs:8");
_Static_assert(__builtin_offsetof(struct cpu, user_rsp) == 16, "gs:16");

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus;

/* Sets up the boot CPU: GDT, TSS, GS base, SSE. */
void cpu_init_boot(void);

static inline struct cpu *cpu_current(void)
{
	struct cpu *c;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/* This CPU's index; 0 before cpu_init_boot has run. */
int cpu_id(void);

static inline unsigned long intr_save(void)
{
	unsigned long flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void intr_restore(unsigned long flags)
{
	if (flags & (1ul << 9))
		__asm__ volatile("sti" : : : "memory");
}

static inline void intr_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void intr_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline int intr_enabled(void)
{
	unsigned long flags;

	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	return (flags >> 9) & 1;
}

#endif
