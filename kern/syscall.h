/*
 * The trap table (kern/syscall.c).  Besides the Mach traps it can hold
 * test traps, numbers -100 .. -103, which only a kernel built with the
 * ktest suites registers for their hand-written ring-3 programs
 * (tests/kern/ktest_traps.h); a user program never has them to rely on.
 */
#ifndef KERN_SYSCALL_H
#define KERN_SYSCALL_H

#include <stdbool.h>
#include <stdint.h>

struct trap_frame;

typedef uint64_t (*sys_fn_t)(const struct trap_frame *tf);

/* Adds a test trap; false for a number outside -100 .. -103 or one taken.  At boot. */
bool syscall_register_test_trap(long num, sys_fn_t fn);

#endif
