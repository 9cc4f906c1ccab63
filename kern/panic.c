/*
 * panic: report a broken invariant and end the run.
 *
 * Whatever happens, the run must end with "KERNEL PANIC: <message>" on
 * the console and the failure exit code, never a hang or a reboot loop.
 * So panic counts its own nesting: a fault or assertion inside the panic
 * path re-enters it, and each level does less than the one before.
 *
 *	level 1   the full message, the cpu, a backtrace
 *	level 2   "KERNEL PANIC: recursive panic: <message>", no backtrace
 *	level 3+  nothing more is printed: straight to the exit
 */
#include <stdarg.h>

#include "kern/console.h"
#include "kern/ksyms.h"
#include "kern/panic.h"
#include "kern/printf.h"
#include "x86_64/cpu.h"
#include "x86_64/machine.h"

static volatile int panic_depth;

void panic(const char *fmt, ...)
{
	va_list ap;

	intr_disable();
	int depth = __atomic_add_fetch(&panic_depth, 1, __ATOMIC_SEQ_CST);

	if (depth > 2)
		machine_exit(MACHINE_EXIT_FAILURE);
	unsigned long flags = console_lock();

	kprintf(depth == 1 ? "\nKERNEL PANIC: " : "\nKERNEL PANIC: recursive panic: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	if (depth == 1) {
		kprintf("  on cpu %d\n", cpu_id());
		ksym_backtrace_here();
	}
	console_unlock(flags);
	machine_exit(MACHINE_EXIT_FAILURE);
}
