#include <stdint.h>

#include "kern/console.h"
#include "kern/spinlock.h"
#include "x86_64/cpu.h"
#include "x86_64/serial.h"

static spinlock_t console_spin = SPINLOCK_INIT; /* serialises CPUs on COM1 */
static volatile int console_owner = -1;         /* [console_spin] cpu id */
static int console_depth;                       /* [console_spin] nesting */

void console_init(void)
{
	serial_init();
}

unsigned long console_lock(void)
{
	unsigned long flags = intr_save();
	int me = cpu_id();

	if (console_owner == me) {
		console_depth++;
		return flags;
	}
	spin_lock(&console_spin);
	console_owner = me;
	console_depth = 1;
	return flags;
}

void console_unlock(unsigned long flags)
{
	if (--console_depth == 0) {
		console_owner = -1;
		spin_unlock(&console_spin);
	}
	intr_restore(flags);
}

void console_putc_locked(char c)
{
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
}

void console_puts(const char *s)
{
	unsigned long flags = console_lock();

	while (*s)
		console_putc_locked(*s++);
	console_unlock(flags);
}
