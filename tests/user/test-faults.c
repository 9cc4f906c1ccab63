/*
 * Faults a user task must die of, one per run: argv[1] names the fault,
 * and the module string says how the kernel should report the kill, e.g.
 *
 *	tests/user/test-faults.elf null-read expect=killed:page-fault
 *
 * The program only prints diagnostics (no KTAP plan: it is not meant to
 * finish).  If the fault does not kill it, it says so and exits 1, so the
 * case fails whatever the expectation; an unknown kind exits 2.
 */
#include <stdint.h>
#include <string.h>

#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/mig_errors.h>

#include "libktap.h"
#include "mach.h"      /* mig-gen/: vm_allocate ... */
#include "mach_port.h" /* mig-gen/: mach_port_deallocate */

#define KERNEL_ADDR 0xffffffff80100000ul
#define NONCANONICAL_ADDR 0x8000000000000000ul

static volatile uintptr_t null_addr; /* 0, but the compiler cannot know */

static void fault_null_read(void)
{
	(void)*(volatile int *)null_addr;
}

static void fault_null_write(void)
{
	*(volatile int *)null_addr = 1;
}

/* A page the task owns, made read-only with vm_protect, then written. */
static void fault_write_ro(void)
{
	uintptr_t addr = 0;
	kern_return_t kr = vm_allocate(mach_task_self(), &addr, 4096, 1);

	if (kr == KERN_SUCCESS) {
		*(volatile int *)addr = 1;
		kr = vm_protect(mach_task_self(), addr, 4096, 0, VM_PROT_READ);
	}
	if (kr != KERN_SUCCESS) {
		ktap_diag("setup failed: %s (%d)", mach_error_name(kr), kr);
		return;
	}
	*(volatile int *)addr = 2;
}

/* The program's own code is mapped read-only + execute. */
static void fault_write_text(void)
{
	*(volatile uint8_t *)(uintptr_t)&fault_null_read = 0xc3;
}

/* Writable memory must not be executable (NX). */
static void fault_exec_data(void)
{
	static uint8_t ret_insn[64] __attribute__((aligned(64))) = { 0xc3 };

	((void (*)(void))(uintptr_t)ret_insn)();
}

static void fault_read_kernel(void)
{
	(void)*(volatile uint64_t *)KERNEL_ADDR;
}

static void fault_write_kernel(void)
{
	*(volatile uint64_t *)KERNEL_ADDR = 0;
}

static void fault_jump_kernel(void)
{
	((void (*)(void))KERNEL_ADDR)();
}

static void fault_noncanonical(void)
{
	(void)*(volatile uint64_t *)NONCANONICAL_ADDR;
}

static void fault_cli(void)
{
	__asm__ volatile("cli");
}

static void fault_hlt(void)
{
	__asm__ volatile("hlt");
}

static void fault_io_port(void)
{
	__asm__ volatile("outb %%al, $0xf4" : : "a"(0x10)); /* the QEMU exit port */
}

/* Vector 0x20 is a hardware interrupt: its gate must refuse ring 3 (#GP). */
static void fault_int_vector(void)
{
	__asm__ volatile("int $0x20");
}

static void fault_div0(void)
{
	uint32_t q, r;

	__asm__ volatile("divl %2" : "=a"(q), "=d"(r) : "r"(0u), "a"(1u), "d"(0u));
	(void)q;
	(void)r;
}

static void fault_ud2(void)
{
	__asm__ volatile("ud2");
}

static void fault_int3(void)
{
	__asm__ volatile("int3");
}

static volatile unsigned long depth_limit = ~0ul;

static unsigned long recurse(unsigned long n)
{
	volatile char frame[1024];

	frame[0] = (char)n;
	if (n >= depth_limit)
		return 0;
	return recurse(n + 1) + frame[0];
}

static void fault_stack_overflow(void)
{
	(void)recurse(0);
}

static const struct fault {
	const char *name;
	void (*fn)(void);
} faults[] = {
	{ "null-read", fault_null_read },
	{ "null-write", fault_null_write },
	{ "write-ro", fault_write_ro },
	{ "write-text", fault_write_text },
	{ "exec-data", fault_exec_data },
	{ "read-kernel", fault_read_kernel },
	{ "write-kernel", fault_write_kernel },
	{ "jump-kernel", fault_jump_kernel },
	{ "noncanonical", fault_noncanonical },
	{ "cli", fault_cli },
	{ "hlt", fault_hlt },
	{ "io-port", fault_io_port },
	{ "int-vector", fault_int_vector },
	{ "div0", fault_div0 },
	{ "ud2", fault_ud2 },
	{ "int3", fault_int3 },
	{ "stack-overflow", fault_stack_overflow },
};

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "";

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		if (strcmp(kind, faults[i].name) != 0)
			continue;
		ktap_diag("test-faults %s: the kernel should kill this task now", kind);
		faults[i].fn();
		ktap_diag("test-faults %s: survived the fault", kind);
		return 1;
	}
	ktap_diag("test-faults: unknown fault kind \"%s\"; kinds:", kind);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		ktap_diag("  %s", faults[i].name);
	return 2;
}
