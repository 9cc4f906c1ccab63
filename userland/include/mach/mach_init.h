/*
 * mach_task_self(), as GNU Mach's libmach has it: the task's own port
 * name, fetched once by mach_init (crt0 calls it before main) and kept
 * in mach_task_self_.  Code that runs before mach_init, or in a task
 * whose memory was copied from another (test programs start code in new
 * tasks), calls the trap __mach_task_self() instead.
 */
#ifndef MACH_MACH_INIT_H
#define MACH_MACH_INIT_H

#include <mach/port.h>

extern mach_port_t mach_task_self_;

#define mach_task_self() (mach_task_self_)

void mach_init(void);

#endif
