/*
 * IDT setup and trap dispatch.  An exception the kernel did not expect
 * prints a report (vector name, error code, registers, CR2, symbolic
 * backtrace) and panics; an armed kfault_try catches it instead.
 */
#include <stddef.h>

#include "kern/ksyms.h"
#include "kern/panic.h"
#include "kern/printf.h"
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

static uint8_t df_stack[4096] __attribute__((aligned(16)));

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
}

trap_handler_t trap_register(int vector, trap_handler_t h)
{
	trap_handler_t old = trap_handlers[vector];

	trap_handlers[vector] = h;
	return old;
}

void trap_report(const struct trap_frame *tf)
{
	kprintf("%s (vector %lu) error code %#lx in %s mode\n", trap_name((unsigned)tf->vector),
	        tf->vector, tf->error, trap_from_user(tf) ? "user" : "kernel");
	if (tf->vector == T_PAGE_FAULT)
		kprintf("  cr2 %016lx (%s, %s, %s)\n", read_cr2(),
		        tf->error & PF_PRESENT ? "protection" : "not present",
		        tf->error & PF_INSTR   ? "fetch"
		        : tf->error & PF_WRITE ? "write"
		                               : "read",
		        tf->error & PF_USER ? "user" : "kernel");
	ksym_print_addr("  rip ", tf->rip);
	kprintf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", tf->rax, tf->rbx, tf->rcx,
	        tf->rdx);
	kprintf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", tf->rsi, tf->rdi, tf->rbp,
	        tf->rsp);
	kprintf("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", tf->r8, tf->r9, tf->r10,
	        tf->r11);
	kprintf("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", tf->r12, tf->r13, tf->r14,
	        tf->r15);
	kprintf("  cs %04lx ss %04lx rflags %016lx cr3 %016lx\n", tf->cs, tf->ss, tf->rflags,
	        read_cr3());
	if (!trap_from_user(tf))
		ksym_backtrace(tf->rip, tf->rbp);
}

void trap_dispatch(struct trap_frame *tf)
{
	unsigned v = (unsigned)tf->vector;
	trap_handler_t h = trap_handlers[v];

	if (v >= 32) {
		struct cpu *c = cpu_current();

		c->irq_count++;
		c->irq_depth++;
		if (h)
			h(tf);
		if (v != T_SPURIOUS)
			trap_eoi();
		c->irq_depth--;
		return;
	}
	if (h && h(tf))
		return;
	if (kfault_recover(tf))
		return;
	kprintf("\nunexpected ");
	trap_report(tf);
	panic("trap_dispatch: %s in %s mode at %#lx", trap_name(v),
	      trap_from_user(tf) ? "user" : "kernel", tf->rip);
}
