/*
 * Boot-CPU setup: the final GDT with a TSS, the GS base for per-CPU data,
 * and the FPU/SSE control bits that user code (newlib) relies on.
 */
#include <stddef.h>

#include "x86_64/cpu.h"
#include "x86_64/io.h"

struct cpu cpus[MAX_CPUS];
unsigned ncpus = 1;
static int cpu_ready;

extern char boot_stack_top[];

int cpu_id(void)
{
	return cpu_ready ? (int)cpu_current()->id : 0;
}

static uint64_t cpu_seg(int user, int code, int longmode)
{
	uint64_t d = 0xffffull | (0xfull << 48); /* limit */

	d |= 1ull << 47; /* present */
	d |= 1ull << 44; /* code/data */
	d |= (uint64_t)(user ? 3 : 0) << 45;
	d |= 1ull << 41; /* readable / writable */
	if (code)
		d |= 1ull << 43;
	if (code && longmode)
		d |= 1ull << 53;
	else
		d |= 1ull << 54; /* 32-bit default size */
	d |= 1ull << 55;         /* 4 KiB granularity */
	return d;
}

/* GDT per CPU: null, kcode, kdata, ucode32, udata, ucode, tss (16 bytes). */
static uint64_t cpu_gdt[MAX_CPUS][8] __attribute__((aligned(16)));

static void cpu_load_gdt(struct cpu *c)
{
	uint64_t *g = cpu_gdt[c->id];
	uint64_t base = (uint64_t)&c->tss;
	uint64_t limit = sizeof(c->tss) - 1;

	g[0] = 0;
	g[1] = cpu_seg(0, 1, 1);
	g[2] = cpu_seg(0, 0, 0);
	g[3] = cpu_seg(1, 1, 0);
	g[4] = cpu_seg(1, 0, 0);
	g[5] = cpu_seg(1, 1, 1);
	g[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
	       (((base >> 24) & 0xff) << 56);
	g[7] = base >> 32;

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = { sizeof(cpu_gdt[0]) - 1, (uint64_t)g };

	__asm__ volatile("lgdt %0\n\t"
	                 "pushq %1\n\t"
	                 "leaq 1f(%%rip), %%rax\n\t"
	                 "pushq %%rax\n\t"
	                 "lretq\n"
	                 "1:\n\t"
	                 "movw %w2, %%ax\n\t"
	                 "movw %%ax, %%ds\n\t"
	                 "movw %%ax, %%es\n\t"
	                 "movw %%ax, %%ss\n\t"
	                 :
	                 : "m"(desc), "i"((uint64_t)SEL_KCODE), "i"(SEL_KDATA)
	                 : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS));
}

static void cpu_enable_sse(void)
{
	uint64_t cr0 = read_cr0();

	cr0 &= ~(1ull << 2); /* EM: no x87 emulation */
	cr0 |= 1ull << 1;    /* MP */
	cr0 |= 1ull << 5;    /* NE: native FPU errors */
	write_cr0(cr0);
	write_cr4(read_cr4() | (1ull << 9) | (1ull << 10)); /* OSFXSR, OSXMMEXCPT */
	__asm__ volatile("fninit");
}

void cpu_init_boot(void)
{
	struct cpu *c = &cpus[0];

	c->self = c;
	c->id = 0;
	c->tss.iomap_base = sizeof(struct tss);
	c->tss.rsp[0] = (uint64_t)boot_stack_top;
	c->kernel_rsp = (uint64_t)boot_stack_top;
	cpu_load_gdt(c);
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	cpu_enable_sse();
	cpu_ready = 1;
}
