#include <stdarg.h>

#include "kern/console.h"
#include "kern/ksyms.h"
#include "kern/panic.h"
#include "kern/printf.h"
#include "x86_64/cpu.h"
#include "x86_64/machine.h"

static volatile int panicking;

void panic(const char *fmt, ...)
{
	va_list ap;

	intr_disable();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST)) {
		/* A panic while panicking: say so once, then stop. */
		console_puts("\nKERNEL PANIC: recursive panic\n");
		machine_exit(MACHINE_EXIT_FAILURE);
	}
	unsigned long flags = console_lock();

	kprintf("\nKERNEL PANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	kprintf("  on cpu %d\n", cpu_id());
	ksym_backtrace_here();
	console_unlock(flags);
	machine_exit(MACHINE_EXIT_FAILURE);
}
