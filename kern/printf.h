#ifndef KERN_PRINTF_H
#define KERN_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Formatting understood: %d %i %u %x %X %o %p %s %c %%, flags '-' '0' '+' ' ' '#',
 * a width and a precision (also '*'), length modifiers hh h l ll z t j.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints to the console; whole calls are not interleaved between CPUs. */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);

#endif
