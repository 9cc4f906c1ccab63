/*
 * IDT setup and trap dispatch.  An exception the kernel did not expect
 * prints a report (vector name, decoded error code, registers, control
 * registers, symbolic backtrace) and panics; an armed kfault_try catches
 * it instead.  A double fault runs on its own stack (IST1), so a kernel
 * stack overflow (the page fault cannot push its frame) still reports.
 */
#include <stddef.h>

#include "kern/ksyms.h"
#include "kern/panic.h"
#include "kern/perf_analysis.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/kfault.h"
#include "x86_64/trap.h"

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate");

static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler_t trap_handlers[256];
extern const uint64_t trap_stub_table[256];

/*
 * The double-fault handler's stack (IST1): the report and panic run on it.
 * A kernel stack overflow reaches the double fault only if a guard page
 * lies below the stack.  The boot stack (boot.S, .bss) has none yet: it
 * runs into boot_pd and then the image, and the machine hangs or triple
 * faults.  selftest_stack_overflow (tests/kern/test_exceptions.c) unmaps
 * one for itself to show the report; a permanent guard belongs to pmap.
 */
static uint8_t df_stack[8192] __attribute__((aligned(16)));

/* Unexpected exceptions being reported, per CPU (see trap_dispatch). */
static int trap_reporting[MAX_CPUS];

#define TRAP_BACKTRACE_MAX 32

extern char boot_stack_bottom[], boot_stack_top[];
extern const uint64_t trap_entry_return_pc;

static int trap_walk_frameless(uint64_t fake_frame, uint64_t *ret);

static void trap_eoi_none(void)
{
}

void (*trap_eoi)(void) = trap_eoi_none;

static const char *const trap_names[32] = {
	[T_DIVIDE] = "divide error",
	[T_DEBUG] = "debug",
	[T_NMI] = "NMI",
	[T_BREAKPOINT] = "breakpoint",
	[T_OVERFLOW] = "overflow",
	[T_BOUND] = "bound range exceeded",
	[T_INVALID_OPCODE] = "invalid opcode",
	[T_NO_FPU] = "device not available",
	[T_DOUBLE_FAULT] = "double fault",
	[9] = "coprocessor segment overrun",
	[T_INVALID_TSS] = "invalid TSS",
	[T_SEGMENT_NP] = "segment not present",
	[T_STACK] = "stack-segment fault",
	[T_GP] = "general protection fault",
	[T_PAGE_FAULT] = "page fault",
	[T_FPU] = "x87 floating-point exception",
	[T_ALIGNMENT] = "alignment check",
	[T_MACHINE_CHECK] = "machine check",
	[T_SIMD] = "SIMD floating-point exception",
	[20] = "virtualization exception",
	[21] = "control protection exception",
};

const char *trap_name(unsigned vector)
{
	if (vector < 32)
		return trap_names[vector] ? trap_names[vector] : "reserved exception";
	return "interrupt";
}

static void idt_set(int v, uint64_t handler, int ist, int dpl)
{
	struct idt_gate *g = &idt[v];

	g->off_lo = handler & 0xffff;
	g->sel = SEL_KCODE;
	g->ist = (uint8_t)ist;
	g->type = (uint8_t)(0x8e | (dpl << 5)); /* present, interrupt gate */
	g->off_mid = (handler >> 16) & 0xffff;
	g->off_hi = (uint32_t)(handler >> 32);
	g->zero = 0;
}

void trap_init(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, trap_stub_table[v], 0, 0);
	/* Breakpoints may be raised from user mode (int3). */
	idt_set(T_BREAKPOINT, trap_stub_table[T_BREAKPOINT], 0, 3);
	/* A double fault gets its own stack: the kernel stack may be gone. */
	cpu_current()->tss.ist[0] = (uint64_t)(df_stack + sizeof(df_stack));
	idt_set(T_DOUBLE_FAULT, trap_stub_table[T_DOUBLE_FAULT], 1, 0);

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(desc));
	/* Faults can be caught from here on; backtraces may cross trap frames. */
	ksym_trap_init(trap_entry_return_pc, trap_walk_frameless);
}

trap_handler_t trap_register(int vector, trap_handler_t h)
{
	trap_handler_t old = trap_handlers[vector];

	trap_handlers[vector] = h;
	return old;
}

/* The fault's error code in words, for the vectors that push one. */
static void trap_print_error(const struct trap_frame *tf)
{
	uint64_t e = tf->error;

	switch (tf->vector) {
	case T_PAGE_FAULT:
		kprintf("  error code %#lx: %s, %s, %s%s%s%s\n", e,
		        e & PF_PRESENT ? "protection violation" : "not present",
		        e & PF_INSTR   ? "instruction fetch"
		        : e & PF_WRITE ? "write"
		                       : "read",
		        e & PF_USER ? "user" : "kernel",
		        e & PF_RSVD ? ", reserved bit set in a page table" : "",
		        e & (1u << 5) ? ", protection key" : "",
		        e & (1u << 6) ? ", shadow stack" : "");
		break;
	case T_INVALID_TSS:
	case T_SEGMENT_NP:
	case T_STACK:
	case T_GP:
		if (e == 0)
			kprintf("  error code 0: no selector (e.g. a non-canonical address)\n");
		else if (e & 2)
			kprintf("  error code %#lx: IDT vector %lu%s\n", e, (e >> 3) & 0x1fff,
			        e & 1 ? ", external event" : "");
		else
			kprintf("  error code %#lx: %s index %lu (selector %#lx)%s\n", e,
			        e & 4 ? "LDT" : "GDT", (e >> 3) & 0x1fff, e & 0xfffc,
			        e & 1 ? ", external event" : "");
		break;
	case T_DOUBLE_FAULT:
	case T_ALIGNMENT:
		break; /* always 0 */
	default:
		if (e)
			kprintf("  error code %#lx\n", e);
		break;
	}
}

static void trap_print_rflags(uint64_t rflags)
{
	static const char *const names[22] = {
		[0] = "CF",  [2] = "PF",  [4] = "AF",  [6] = "ZF",  [7] = "SF",
		[8] = "TF",  [9] = "IF",  [10] = "DF", [11] = "OF", [14] = "NT",
		[16] = "RF", [17] = "VM", [18] = "AC", [21] = "ID",
	};
	const char *sep = "";

	kprintf(" [");
	for (int b = 0; b < 22; b++)
		if ((rflags & (1ul << b)) && names[b]) {
			kprintf("%s%s", sep, names[b]);
			sep = " ";
		}
	kprintf(" IOPL=%lu]\n", (rflags >> 12) & 3);
}

/* A double fault here is almost always the kernel stack running out. */
static void trap_print_stack(const struct trap_frame *tf)
{
	uint64_t rsp = tf->rsp, bottom = (uint64_t)boot_stack_bottom,
	         top = (uint64_t)boot_stack_top;

	kprintf("  stack pointer %016lx", rsp);
	if (rsp >= bottom && rsp <= top)
		kprintf(": inside the boot stack, %lu bytes left\n", rsp - bottom);
	else if (rsp < bottom && bottom - rsp <= 64 * 1024)
		kprintf(": %lu bytes below the boot stack [%016lx, %016lx)\n", bottom - rsp, bottom,
		        top);
	else
		kprintf("\n");
}

/* Reads a word the fault may have left unmapped; 0 if it cannot. */
static int trap_read_u64(uint64_t addr, uint64_t *val)
{
	struct kfault_catch c;

	if ((addr & 7) || addr < 0xffff800000000000ull)
		return 0;
	if (kfault_try(&c) != 0)
		return 0;
	*val = *(volatile const uint64_t *)addr;
	kfault_end(&c);
	return 1;
}

/* Is ret the return address of a direct call to target? */
static int trap_returns_from_call_to(uint64_t ret, uint64_t target)
{
	int32_t rel;

	if (!ksym_lookup(ret - 5, NULL) || !ksym_lookup(ret - 1, NULL))
		return 0; /* not in the kernel's code */
	const uint8_t *call = (const uint8_t *)(ret - 5);

	__builtin_memcpy(&rel, call + 1, sizeof(rel));
	return call[0] == 0xe8 && ret + (uint64_t)(int64_t)rel == target;
}

/*
 * The caller of an interrupted function that has no frame of its own: a
 * leaf (GCC builds no frame for some), or one stopped in its prologue or
 * epilogue.  Its rbp is still the caller's, so a walk from rbp would skip
 * the caller; the caller's return address is near the top of the stack.
 * Recognised as a word, below the function's own frame if it has one,
 * that returns from a direct call to the function's entry.  After a jump
 * to no code (a bad function pointer) it is the word on top.
 */
static int trap_frameless_caller(const struct trap_frame *tf, uint64_t *ret)
{
	uint64_t off, w;

	if (trap_from_user(tf))
		return 0;
	if (!ksym_lookup(tf->rip, &off))
		return trap_read_u64(tf->rsp, ret) && ksym_lookup(*ret - 1, NULL);
	for (uint64_t a = tf->rsp; a < tf->rsp + 8 * 8; a += 8) {
		if (a == tf->rbp + 8 || !trap_read_u64(a, &w))
			return 0; /* reached the function's own frame */
		if (trap_returns_from_call_to(w, tf->rip - off)) {
			*ret = w;
			return 1;
		}
	}
	return 0;
}

/* For the symbolic walk: the trap frame sits right above the fake frame. */
static int trap_walk_frameless(uint64_t fake_frame, uint64_t *ret)
{
	return trap_frameless_caller((const struct trap_frame *)(fake_frame + 16), ret);
}

/* Backtrace of the interrupted kernel code. */
static int trap_collect(const struct trap_frame *tf, uint64_t *pcs, int max)
{
	uint64_t ret;

	if (max >= 2 && trap_frameless_caller(tf, &ret)) {
		pcs[0] = tf->rip;
		return 1 + ksym_backtrace_collect(ret, tf->rbp, pcs + 1, max - 1);
	}
	return ksym_backtrace_collect(tf->rip, tf->rbp, pcs, max);
}

void trap_report(const struct trap_frame *tf)
{
	unsigned v = (unsigned)tf->vector;
	uint64_t pcs[TRAP_BACKTRACE_MAX];

	kprintf("%s (vector %u) in %s mode on cpu %d\n",
	        v == T_DOUBLE_FAULT ? "double fault (kernel stack overflow?)" : trap_name(v), v,
	        trap_from_user(tf) ? "user" : "kernel", cpu_id());
	trap_print_error(tf);
	if (v == T_PAGE_FAULT)
		kprintf("  faulting address (cr2) %016lx\n", read_cr2());
	if (v == T_DOUBLE_FAULT)
		trap_print_stack(tf);
	ksym_print_addr("  rip ", tf->rip);
	kprintf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", tf->rax, tf->rbx, tf->rcx,
	        tf->rdx);
	kprintf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", tf->rsi, tf->rdi, tf->rbp,
	        tf->rsp);
	kprintf("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", tf->r8, tf->r9, tf->r10,
	        tf->r11);
	kprintf("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", tf->r12, tf->r13, tf->r14,
	        tf->r15);
	kprintf("  cs %04lx ss %04lx rflags %016lx", tf->cs, tf->ss, tf->rflags);
	trap_print_rflags(tf->rflags);
	kprintf("  cr0 %016lx cr2 %016lx cr3 %016lx cr4 %016lx\n", read_cr0(), read_cr2(),
	        read_cr3(), read_cr4());
	if (!trap_from_user(tf))
		ksym_backtrace_print(pcs, trap_collect(tf, pcs, TRAP_BACKTRACE_MAX));
}

void trap_dispatch(struct trap_frame *tf)
{
	unsigned v = (unsigned)tf->vector;
	trap_handler_t h = trap_handlers[v];

	if (v >= 32) {
		struct cpu *c = cpu_current();

		c->irq_count++;
		c->irq_depth++;
		PERF_TIME_BLOCK_CUR(PERF_EVENT_INTERRUPT, v, 0, {
			if (h)
				h(tf);
		}); /* perf */
		if (v != T_SPURIOUS)
			trap_eoi();
		c->irq_depth--;
		/*
		 * What the handler decided (the tick's end of a quantum, a
		 * device's wakeup of a higher priority thread) preempts here,
		 * after the EOI (the LAPIC keeps interrupting the thread switched
		 * to) and outside any nested handler.  The preempted thread's
		 * frame stays on its stack and is returned through when it runs
		 * again.
		 */
		if (c->irq_depth == 0)
			sched_preempt_check();
		if (trap_from_user(tf))
			task_user_return();
		return;
	}
	if (h && h(tf)) {
		if (trap_from_user(tf))
			task_user_return();
		return;
	}
	if (kfault_recover(tf))
		return;
	/* A user fault nobody resolved kills the task, not the kernel. */
	if (trap_from_user(tf) && v != T_NMI && v != T_DOUBLE_FAULT && v != T_MACHINE_CHECK)
		task_fault_kill(tf);
	/*
	 * A fault while reporting one (a corrupt frame the walk did not
	 * survive, a broken console) skips the report: panic copes with
	 * being re-entered, a report inside a report would not end.
	 */
	int *depth = &trap_reporting[cpu_id()];

	if ((*depth)++ == 0) {
		kprintf("\nunexpected ");
		trap_report(tf);
	}
	panic("trap_dispatch: %s in %s mode at %#lx", trap_name(v),
	      trap_from_user(tf) ? "user" : "kernel", tf->rip);
}
