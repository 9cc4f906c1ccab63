/*
 * The user-space bootstrap (boot=mach): the test runner as a Mach
 * program.  bootstrap.c runs the modules; load.c puts a program into a
 * new task.
 */
#ifndef USERLAND_BOOTSTRAP_H
#define USERLAND_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include <mach/mach_types.h>

#define BS_ARGC_MAX 64

/* Where the first thread of a loaded program starts. */
struct bs_start {
	uint64_t entry; /* rip */
	uint64_t rsp;   /* the initial stack: argc at rsp, 16-byte aligned */
	uint64_t argv;  /* rsi: argv's address in the task */
};

/*
 * Validates the ELF image (size bytes in this task) and loads it into
 * task with vm_allocate/vm_write/vm_protect, then the stack with argv.
 * 0, or -1 with a one-line reason in why (nothing started; the task may
 * hold part of the program: terminate it).
 */
int bs_load(mach_port_t task, const void *image, size_t size, int argc, const char *const argv[],
            struct bs_start *out, char *why, size_t len);

#endif
