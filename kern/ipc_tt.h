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

/*
 * The task (or thread) whose kernel port name denotes in the kernel
 * space, with a reference the caller drops (task_deallocate,
 * thread_deallocate); NULL if name is not a live task (thread) port.
 */
struct task *ipc_tt_task(mach_port_t name);
struct thread *ipc_tt_thread(mach_port_t name);

#endif
