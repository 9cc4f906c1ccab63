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
#include <mach/message.h>
#include <mach/vm_types.h>
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

/*
 * Peers (peer.c): the other party of the two-party workloads, a thread
 * of this task or a task of its own, running a raw function fn(a0, a1)
 * that uses libmach only and never returns.
 */
typedef void (*work_peer_fn)(mach_port_t a0, mach_port_t a1);

/* A new receive right in this task; the workload ends if there is none. */
mach_port_t work_port(void);
/* A stack for a peer thread of task; *top is its end. */
kern_return_t work_peer_stack(mach_port_t task, vm_address_t *top);
/* Starts fn(a0, a1) on a new thread of task (thread_create, thread_set_state, thread_resume). */
kern_return_t work_peer_start(mach_port_t task, work_peer_fn fn, mach_port_t a0, mach_port_t a1,
                              vm_address_t stack_top, mach_port_t *thread);
/* A new task holding a copy of this program and a stack (*stack_top); no thread yet. */
kern_return_t work_peer_task(mach_port_t *task, vm_address_t *stack_top);
/* Gives task our right name (how: MACH_MSG_TYPE_MAKE_SEND, MOVE_RECEIVE...) under the same name. */
kern_return_t work_peer_give(mach_port_t task, mach_port_t name, mach_msg_type_name_t how);
/* Terminates task and drops our right to it. */
void work_peer_task_end(mach_port_t task);

#endif
