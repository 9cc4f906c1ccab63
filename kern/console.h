#ifndef KERN_CONSOLE_H
#define KERN_CONSOLE_H

/*
 * The kernel console (COM1).  console_lock masks interrupts and serialises
 * CPUs; it is recursive on one CPU so that a panic inside a locked print
 * still gets its message out.
 */
void console_init(void);
unsigned long console_lock(void);
void console_unlock(unsigned long flags);
/* Writes one byte; the caller holds console_lock.  '\n' becomes "\r\n". */
void console_putc_locked(char c);
/* Writes a string under the lock. */
void console_puts(const char *s);

#endif
