/*
 * The mach_port routines (S_mach_port_*): ipc/mach_port.c's calls on the
 * name space of the task named by the request port.  Holding a task's
 * port is holding its space, as in Mach: a task may work on another's
 * names.  A name that is not a live task port is KERN_INVALID_TASK.
 *
 * Rights travel through the kernel space (mig-defs/README.md): a right
 * in the request (insert_right's poly, request_notification's notify) is
 * taken out of the kernel space and handed to mach_port.c, which
 * consumes it on success; on failure it is released here.  A right
 * going back (extract_right's poly, the previous notification request)
 * is put into the kernel space, and the reply moves it to the caller.
 */
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_port.h"
#include "kern/ipc_tt.h"
#include "kern/task.h"
#include "mach_port_S.h" /* mig-gen/ */

/* The space of the task named task_name, with the task referenced in *taskp. */
static struct ipc_space *mps_space(mach_port_t task_name, struct task **taskp)
{
	struct task *task = ipc_tt_task(task_name);

	*taskp = task;
	return task ? task->itk_space : NULL;
}

/* [i] Takes the carried right named name (type: the received PORT_*) out of the kernel space. */
static kern_return_t mps_take(mach_port_t name, mach_msg_type_name_t type, struct ipc_port **port,
                              mach_msg_type_name_t *got)
{
	if (!MACH_PORT_VALID(name) || !MACH_MSG_TYPE_PORT_ANY_RIGHT(type))
		return KERN_INVALID_CAPABILITY;
	/* PORT_RECEIVE, _SEND, _SEND_ONCE are MOVE_RECEIVE, _SEND, _SEND_ONCE. */
	if (ipc_right_copyin(ipc_space_kernel, name, type, false, port, got) != KERN_SUCCESS)
		return KERN_INVALID_CAPABILITY;
	return KERN_SUCCESS;
}

/* [i] Names port (a carried right of type) in the kernel space for the reply. */
static mach_port_t mps_give(struct ipc_port *port, mach_msg_type_name_t type)
{
	mach_port_name_t name = MACH_PORT_NULL;

	if (port == NULL)
		return MACH_PORT_NULL;
	if (ipc_right_copyout(ipc_space_kernel, port, type, &name) != KERN_SUCCESS)
		return MACH_PORT_NULL;
	return name;
}

#define MPS_CALL(task_name, call)                                                                  \
	do {                                                                                       \
		struct task *task_;                                                                \
		struct ipc_space *space = mps_space(task_name, &task_);                            \
		if (space == NULL)                                                                 \
			return KERN_INVALID_TASK;                                                  \
		kern_return_t kr_ = (call);                                                        \
		task_deallocate(task_);                                                            \
		return kr_;                                                                        \
	} while (0)

kern_return_t S_mach_port_names(mach_port_t task, mach_port_array_t *names,
                                mach_msg_type_number_t *namesCnt, mach_port_type_array_t *types,
                                mach_msg_type_number_t *typesCnt)
{
	struct task *t;
	struct ipc_space *space = mps_space(task, &t);
	mach_port_name_t *n = NULL;
	mach_port_type_t *ty = NULL;
	mach_msg_type_number_t count = 0;

	if (space == NULL)
		return KERN_INVALID_TASK;
	kern_return_t kr = mach_port_names(space, &n, &ty, &count);

	task_deallocate(t);
	if (kr != KERN_SUCCESS)
		return kr;
	*names = n; /* kalloc'd; dealloc: the reply frees them */
	*types = ty;
	*namesCnt = *typesCnt = count;
	return KERN_SUCCESS;
}

kern_return_t S_mach_port_type(mach_port_t task, mach_port_name_t name, mach_port_type_t *ptype)
{
	MPS_CALL(task, mach_port_type(space, name, ptype));
}

kern_return_t S_mach_port_allocate(mach_port_t task, mach_port_right_t right,
                                   mach_port_name_t *name)
{
	MPS_CALL(task, mach_port_allocate(space, right, name));
}

kern_return_t S_mach_port_destroy(mach_port_t task, mach_port_name_t name)
{
	MPS_CALL(task, mach_port_destroy(space, name));
}

kern_return_t S_mach_port_deallocate(mach_port_t task, mach_port_name_t name)
{
	MPS_CALL(task, mach_port_deallocate(space, name));
}

kern_return_t S_mach_port_get_refs(mach_port_t task, mach_port_name_t name, mach_port_right_t right,
                                   mach_port_urefs_t *refs)
{
	MPS_CALL(task, mach_port_get_refs(space, name, right, refs));
}

kern_return_t S_mach_port_mod_refs(mach_port_t task, mach_port_name_t name, mach_port_right_t right,
                                   mach_port_delta_t delta)
{
	MPS_CALL(task, mach_port_mod_refs(space, name, right, delta));
}

kern_return_t S_mach_port_set_qlimit(mach_port_t task, mach_port_name_t name,
                                     mach_port_msgcount_t qlimit)
{
	MPS_CALL(task, mach_port_set_qlimit(space, name, qlimit));
}

kern_return_t S_mach_port_move_member(mach_port_t task, mach_port_name_t member,
                                      mach_port_name_t after)
{
	MPS_CALL(task, mach_port_move_member(space, member, after));
}

kern_return_t S_mach_port_request_notification(mach_port_t task, mach_port_name_t name,
                                               mach_msg_id_t id, mach_port_mscount_t sync,
                                               mach_port_t notify, mach_port_t *previous,
                                               mach_msg_type_name_t *previousPoly)
{
	struct task *t;
	struct ipc_space *space = mps_space(task, &t);
	struct ipc_port *nport = NULL, *prev = NULL;
	mach_msg_type_name_t got;
	kern_return_t kr = KERN_SUCCESS;

	if (space == NULL)
		return KERN_INVALID_TASK;
	unsigned long f = ipc_lock();

	if (notify != MACH_PORT_NULL)
		kr = mps_take(notify, MACH_MSG_TYPE_PORT_SEND_ONCE, &nport, &got);
	ipc_unlock(f);
	if (kr == KERN_SUCCESS) {
		kr = mach_port_request_notification(space, name, id, sync, nport, &prev);
		f = ipc_lock();
		if (kr != KERN_SUCCESS)
			ipc_right_release(nport, MACH_MSG_TYPE_PORT_SEND_ONCE);
		else
			*previous = mps_give(prev, MACH_MSG_TYPE_PORT_SEND_ONCE);
		ipc_unlock(f);
	}
	*previousPoly = MACH_MSG_TYPE_MOVE_SEND_ONCE;
	task_deallocate(t);
	return kr;
}

kern_return_t S_mach_port_insert_right(mach_port_t task, mach_port_name_t name, mach_port_t poly,
                                       mach_msg_type_name_t polyPoly)
{
	struct task *t;
	struct ipc_space *space = mps_space(task, &t);
	struct ipc_port *port = NULL;
	mach_msg_type_name_t type;

	if (space == NULL)
		return KERN_INVALID_TASK;
	unsigned long f = ipc_lock();
	kern_return_t kr = mps_take(poly, polyPoly, &port, &type);

	ipc_unlock(f);
	if (kr == KERN_SUCCESS) {
		kr = mach_port_insert_right(space, name, port, type);
		if (kr != KERN_SUCCESS) {
			f = ipc_lock();
			ipc_right_release(port, type);
			ipc_unlock(f);
		}
	}
	task_deallocate(t);
	return kr;
}

kern_return_t S_mach_port_extract_right(mach_port_t task, mach_port_name_t name,
                                        mach_msg_type_name_t msgt_name, mach_port_t *poly,
                                        mach_msg_type_name_t *polyPoly)
{
	struct task *t;
	struct ipc_space *space = mps_space(task, &t);
	struct ipc_port *port = NULL;
	mach_msg_type_name_t type = MACH_MSG_TYPE_PORT_SEND;

	if (space == NULL)
		return KERN_INVALID_TASK;
	kern_return_t kr = mach_port_extract_right(space, name, msgt_name, &port, &type);

	task_deallocate(t);
	if (kr != KERN_SUCCESS)
		return kr;
	unsigned long f = ipc_lock();

	*poly = mps_give(port, type);
	ipc_unlock(f);
	*polyPoly = type; /* PORT_RECEIVE/_SEND/_SEND_ONCE are the MOVE_* dispositions */
	return KERN_SUCCESS;
}
