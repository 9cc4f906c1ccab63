/* Whole-machine operations the portable kernel needs from x86_64/. */
#ifndef X86_64_MACHINE_H
#define X86_64_MACHINE_H

#include <stdint.h>

/* isa-debug-exit codes: QEMU exits with (code << 1) | 1. */
#define MACHINE_EXIT_SUCCESS 0x10
#define MACHINE_EXIT_FAILURE 0x20

/* Ends the QEMU run; halts forever on hardware without isa-debug-exit. */
__attribute__((noreturn)) void machine_exit(uint32_t code);

/* Stops this CPU for good with interrupts off. */
__attribute__((noreturn)) void machine_halt(void);

#endif
