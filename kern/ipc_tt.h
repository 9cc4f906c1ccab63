/*
 * Tasks and threads as kernel objects: the objects behind the port names
 * a kernel MIG routine receives (names in the kernel's IPC space, see
 * mig-defs/README.md), for kern/ipc_tt.c, vm/vm_server.c and
 * ipc/mach_port_server.c.
 */
#ifndef KERN_IPC_TT_H
#define KERN_IPC_TT_H

#include <mach/port.h>

#include "ipc/ipc_kobject.h"
#include "ipc/ipc_port.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "vm/vm_map.h"

/*
 * The task (or thread) whose kernel port name denotes in the kernel
 * space, with a reference the caller drops (task_deallocate,
 * thread_deallocate); NULL if name is not a live task (thread) port.
 */
struct task *ipc_tt_task(mach_port_t name);
struct thread *ipc_tt_thread(mach_port_t name);

/* [i] The object of type behind a send right named name in the kernel space, or NULL. */
static inline void *ipc_tt_object(mach_port_t name, enum ipc_kotype type)
{
	/* A fast-path call's own port without a call: the common case. */
	struct ipc_port *port =
	    name == IPC_KOBJECT_NAME_TARGET ? thread_current()->ith_kcall : ipc_kobject_port(name);

	return port && port->active && port->kotype == type ? port->kobject : NULL;
}

/*
 * The map of the task whose kernel port name denotes, with a map
 * reference the caller drops (vm_map_deallocate), as GNU Mach's
 * convert_port_to_map; NULL if name is not a live task port or the
 * task's memory is gone.  The reference, not the task, keeps the map: it
 * outlives the task's death.  ipc_tt_task_map_locked is the general
 * case; ipc_tt_task_map tries the common one inline first
 * (ipc_tt_task_map_self).
 *
 * The general case takes the ipc lock and a plain increment, no task
 * reference and no check of the map's count: the port names the task
 * until ipc_task_terminate/ipc_task_free, and a map seen in task->map
 * under the ipc lock still has the task's reference (the note at the top
 * of kern/task.c), so its count is not 0.
 *
 * The common case, a fast-path call (IPC_KOBJECT_NAME_TARGET) on the
 * caller's own task (vm_allocate(mach_task_self(), ...)), needs no lock:
 * the dispatch holds the port (ith_kcall), and the task's map and its
 * reference stay as long as a thread of the task has not exited, which
 * the caller has not.  That the port is the task's is read unlocked:
 * task->itk_self changes only when the task dies, after its last thread
 * exited.
 */
struct vm_map *ipc_tt_task_map_locked(mach_port_t name);

/* The common case alone: true with the referenced map in *mapp, false if not that case. */
static inline bool ipc_tt_task_map_self(mach_port_t name, struct vm_map **mapp)
{
	struct thread *self = thread_current();
	struct task *task = self->task;

	/*
	 * The task's own kernel port: active, of kind IKOT_TASK and naming
	 * the task until the task is dead (ipc_task_terminate clears itk_self
	 * first), and neither itk_self nor the map is NULL before.
	 */
	if (name != IPC_KOBJECT_NAME_TARGET || task == NULL ||
	    self->ith_kcall != __atomic_load_n(&task->itk_self, __ATOMIC_RELAXED))
		return false;
	struct vm_map *map = task->map;

	vm_map_reference(map);
	*mapp = map;
	return true;
}

static inline struct vm_map *ipc_tt_task_map(mach_port_t name)
{
	struct vm_map *map;

	return ipc_tt_task_map_self(name, &map) ? map : ipc_tt_task_map_locked(name);
}

#endif
