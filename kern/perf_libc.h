/*
 * The four memory routines the perf engine's portable core may use.  In the
 * kernel (-DKERNEL, freestanding) they come from kern/string.c; on the host
 * (unit tests) from libc.
 */
#ifndef KERN_PERF_LIBC_H
#define KERN_PERF_LIBC_H

#include <stddef.h>

#ifdef KERNEL
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#else
#include <string.h>
#endif

#endif /* KERN_PERF_LIBC_H */
