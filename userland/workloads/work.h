/*
 * The standard workloads of `make run-performance-analysis`
 * (docs/perf-analysis.md): each is a small program that repeats one
 * kind of kernel work ITER times (argv[1], default WORK_ITER_DEFAULT; 0
 * repeats forever) and prints one line when it is done.  Failures are
 * printed by name and end the program with status 1.
 */
#ifndef USERLAND_WORK_H
#define USERLAND_WORK_H

#include <mach/mach_error.h>
#include <stdio.h>
#include <stdlib.h>

#define WORK_ITER_DEFAULT 1000

/* The iteration count from argv; 0: forever. */
static inline unsigned long work_iterations(int argc, char **argv)
{
	return argc > 1 ? strtoul(argv[1], NULL, 0) : WORK_ITER_DEFAULT;
}

/* Stops the workload when kr is an error. */
static inline void work_check(kern_return_t kr, const char *what)
{
	if (kr != KERN_SUCCESS) {
		printf("%s: %s (%d)\n", what, mach_error_name(kr), kr);
		exit(1);
	}
}

#define WORK_FOREACH(i, n) for (unsigned long i = 0; (n) == 0 || i < (n); i++)

#endif
