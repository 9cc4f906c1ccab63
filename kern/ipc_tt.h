/*
 * Tasks and threads as kernel objects: the objects behind the port names
 * a kernel MIG routine receives (names in the kernel's IPC space, see
 * mig-defs/README.md), for kern/ipc_tt.c, vm/vm_server.c and
 * ipc/mach_port_server.c.
 */
#ifndef KERN_IPC_TT_H
#define KERN_IPC_TT_H

#include <mach/port.h>

struct task;
struct thread;
struct vm_map;

/*
 * The task (or thread) whose kernel port name denotes in the kernel
 * space, with a reference the caller drops (task_deallocate,
 * thread_deallocate); NULL if name is not a live task (thread) port.
 */
struct task *ipc_tt_task(mach_port_t name);
struct thread *ipc_tt_thread(mach_port_t name);

/*
 * The map of the live task whose kernel port name denotes, with the task
 * referenced in *taskp (the caller drops it); NULL (and *taskp NULL) if
 * name is not a live task port or the task's memory is gone.  One ipc
 * lock for both: the task's dead flag and map change only on the way
 * to its port's destruction, which takes the ipc lock too.
 */
struct vm_map *ipc_tt_task_map(mach_port_t name, struct task **taskp);

#endif
