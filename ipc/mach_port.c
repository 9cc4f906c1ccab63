/*
 * The mach_port_* calls (mach_port.h), after GNU Mach's ipc/mach_port.c
 * and ipc_right.c.
 */
#include <mach/notify.h>
#include <stddef.h>

#include "ipc/ipc_notify.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_port.h"
#include "kern/kalloc.h"
#include "kern/sched.h"
#include "kern/string.h"

#define MP_ENTRY_NAME(space, e) ((((uint32_t)((e) - (space)->table)) << 8) | (e)->gen)

/* [i] The entry for name, or the code saying why not. */
static kern_return_t mp_lookup(struct ipc_space *space, mach_port_name_t name,
                               struct ipc_entry **ep)
{
	if (space == NULL || !space->active)
		return KERN_INVALID_TASK;
	*ep = ipc_entry_lookup(space, name);
	return *ep ? KERN_SUCCESS : KERN_INVALID_NAME;
}

kern_return_t mach_port_names(struct ipc_space *space, mach_port_name_t **names,
                              mach_port_type_t **types, mach_msg_type_number_t *count)
{
	for (;;) {
		unsigned long f = ipc_lock();

		if (space == NULL || !space->active) {
			ipc_unlock(f);
			return KERN_INVALID_TASK;
		}
		uint32_t n = space->nused;

		ipc_unlock(f);
		mach_port_name_t *nv = n ? kalloc(n * sizeof(*nv)) : NULL;
		mach_port_type_t *tv = n ? kalloc(n * sizeof(*tv)) : NULL;

		if (n && (nv == NULL || tv == NULL)) {
			kfree(nv);
			kfree(tv);
			return KERN_RESOURCE_SHORTAGE;
		}
		f = ipc_lock();
		if (space->nused != n) { /* changed meanwhile: again */
			ipc_unlock(f);
			kfree(nv);
			kfree(tv);
			continue;
		}
		uint32_t k = 0;

		for (uint32_t i = 1; i < space->size && k < n; i++) {
			struct ipc_entry *e = &space->table[i];

			if (e->type == MACH_PORT_TYPE_NONE)
				continue;
			mach_port_name_t name = MP_ENTRY_NAME(space, e);

			ipc_entry_lookup(space, name); /* dead ports read as dead names */
			nv[k] = name;
			tv[k++] = e->type | (e->dnrequest ? MACH_PORT_TYPE_DNREQUEST : 0);
		}
		ipc_unlock(f);
		*names = nv;
		*types = tv;
		*count = k;
		return KERN_SUCCESS;
	}
}

kern_return_t mach_port_type(struct ipc_space *space, mach_port_name_t name, mach_port_type_t *type)
{
	struct ipc_entry *e;
	unsigned long f = ipc_lock();
	kern_return_t kr = mp_lookup(space, name, &e);

	if (kr == KERN_SUCCESS)
		*type = e->type | (e->dnrequest ? MACH_PORT_TYPE_DNREQUEST : 0);
	ipc_unlock(f);
	return kr;
}

kern_return_t mach_port_allocate(struct ipc_space *space, mach_port_right_t right,
                                 mach_port_name_t *namep)
{
	struct ipc_entry *e;
	mach_port_name_t name;
	kern_return_t kr;

	if (right != MACH_PORT_RIGHT_RECEIVE && right != MACH_PORT_RIGHT_PORT_SET &&
	    right != MACH_PORT_RIGHT_DEAD_NAME)
		return KERN_INVALID_VALUE;
	unsigned long f = ipc_lock();

	if (space == NULL || !space->active) {
		ipc_unlock(f);
		return KERN_INVALID_TASK;
	}
	kr = ipc_entry_alloc(space, &name, &e);
	if (kr != KERN_SUCCESS) {
		ipc_unlock(f);
		return kr;
	}
	if (right == MACH_PORT_RIGHT_RECEIVE) {
		struct ipc_port *port = ipc_port_alloc();

		if (port == NULL)
			goto shortage;
		e->type = MACH_PORT_TYPE_RECEIVE;
		e->object = port;
		port->receiver = space;
		port->receiver_name = name;
	} else if (right == MACH_PORT_RIGHT_PORT_SET) {
		struct ipc_pset *pset = ipc_pset_alloc();

		if (pset == NULL)
			goto shortage;
		e->type = MACH_PORT_TYPE_PORT_SET;
		e->object = pset;
		pset->space = space;
		pset->name = name;
	} else {
		e->type = MACH_PORT_TYPE_DEAD_NAME;
		e->urefs = 1;
	}
	ipc_unlock(f);
	*namep = name;
	return KERN_SUCCESS;
shortage:
	e->type = MACH_PORT_TYPE_DEAD_NAME; /* anything but free, for ipc_entry_free */
	ipc_entry_free(space, name, e);
	ipc_unlock(f);
	return KERN_RESOURCE_SHORTAGE;
}

kern_return_t mach_port_destroy(struct ipc_space *space, mach_port_name_t name)
{
	struct ipc_entry *e;
	unsigned long f = ipc_lock();
	kern_return_t kr = mp_lookup(space, name, &e);

	if (kr == KERN_SUCCESS)
		ipc_right_destroy(space, name, e);
	ipc_unlock(f);
	return kr;
}

/* [i] The send right of e (with its last reference) goes; the entry may stay for the receive. */
static void mp_drop_send(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *e)
{
	struct ipc_port *port = e->object;

	if (e->type & MACH_PORT_TYPE_RECEIVE) {
		e->type &= ~MACH_PORT_TYPE_SEND;
		e->urefs = 0;
		ipc_port_reference(port); /* the entry keeps its own */
		ipc_right_release(port, MACH_MSG_TYPE_PORT_SEND);
		return;
	}
	ipc_right_destroy(space, name, e);
}

/* [i] mod_refs on a receive right (or a port set): 0 or -1. */
static kern_return_t mp_mod_receive(struct ipc_space *space, mach_port_name_t name,
                                    struct ipc_entry *e, mach_port_delta_t delta)
{
	if (delta == 0)
		return KERN_SUCCESS;
	if (delta != -1)
		return KERN_INVALID_VALUE;
	if ((e->type & MACH_PORT_TYPE_RECEIVE) && (e->type & MACH_PORT_TYPE_SEND)) {
		/* The port dies; the name stays as the send rights' dead name. */
		struct ipc_port *port = e->object;
		struct ipc_port *notify = NULL;

		e->type &= ~MACH_PORT_TYPE_RECEIVE;
		port->refs++;
		port->receiver = NULL;
		if (port->pdrequest == NULL)
			notify = ipc_right_dncancel(space, name, e);
		ipc_port_destroy(port);
		ipc_port_release(port);
		ipc_entry_lookup(space, name);
		if (notify)
			ipc_notify_port_deleted(notify, name);
		return KERN_SUCCESS;
	}
	ipc_right_destroy(space, name, e);
	return KERN_SUCCESS;
}

kern_return_t mach_port_mod_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_delta_t delta)
{
	struct ipc_entry *e;

	if (right >= MACH_PORT_RIGHT_NUMBER)
		return KERN_INVALID_VALUE;
	unsigned long f = ipc_lock();
	kern_return_t kr = mp_lookup(space, name, &e);

	if (kr != KERN_SUCCESS)
		goto out;
	if (!(e->type & MACH_PORT_TYPE(right))) {
		kr = KERN_INVALID_RIGHT;
		goto out;
	}
	switch (right) {
	case MACH_PORT_RIGHT_RECEIVE:
	case MACH_PORT_RIGHT_PORT_SET:
		kr = mp_mod_receive(space, name, e, delta);
		break;
	case MACH_PORT_RIGHT_SEND_ONCE:
		if (delta == -1)
			ipc_right_destroy(space, name, e);
		else if (delta != 0)
			kr = KERN_INVALID_VALUE;
		break;
	default: /* SEND, DEAD_NAME: user references */
		if (delta < 0 &&
		    (uint32_t) - (int64_t)delta > e->urefs) { /* MACH_PORT_UREFS_UNDERFLOW */
			kr = KERN_INVALID_VALUE;
			break;
		}
		if (delta > 0 && (uint64_t)e->urefs + (uint64_t)delta > MACH_PORT_UREFS_MAX) {
			kr = KERN_UREFS_OVERFLOW;
			break;
		}
		e->urefs = (uint32_t)((int64_t)e->urefs + delta);
		if (e->urefs == 0) {
			if (right == MACH_PORT_RIGHT_SEND)
				mp_drop_send(space, name, e);
			else
				ipc_entry_free(space, name, e);
		}
		break;
	}
out:
	ipc_unlock(f);
	return kr;
}

kern_return_t mach_port_deallocate(struct ipc_space *space, mach_port_name_t name)
{
	mach_port_type_t type;
	kern_return_t kr = mach_port_type(space, name, &type);

	if (kr != KERN_SUCCESS)
		return kr;
	if (type & MACH_PORT_TYPE_SEND_ONCE)
		return mach_port_mod_refs(space, name, MACH_PORT_RIGHT_SEND_ONCE, -1);
	if (type & MACH_PORT_TYPE_SEND)
		return mach_port_mod_refs(space, name, MACH_PORT_RIGHT_SEND, -1);
	if (type & MACH_PORT_TYPE_DEAD_NAME)
		return mach_port_mod_refs(space, name, MACH_PORT_RIGHT_DEAD_NAME, -1);
	return KERN_INVALID_RIGHT;
}

kern_return_t mach_port_get_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_urefs_t *refs)
{
	struct ipc_entry *e;

	if (right >= MACH_PORT_RIGHT_NUMBER)
		return KERN_INVALID_VALUE;
	unsigned long f = ipc_lock();
	kern_return_t kr = mp_lookup(space, name, &e);

	if (kr == KERN_SUCCESS) {
		if (!(e->type & MACH_PORT_TYPE(right)))
			*refs = 0;
		else if (right == MACH_PORT_RIGHT_SEND || right == MACH_PORT_RIGHT_DEAD_NAME)
			*refs = e->urefs;
		else
			*refs = 1;
	}
	ipc_unlock(f);
	return kr;
}

kern_return_t mach_port_set_qlimit(struct ipc_space *space, mach_port_name_t name,
                                   mach_port_msgcount_t qlimit)
{
	struct ipc_entry *e;

	if (qlimit > MACH_PORT_QLIMIT_MAX)
		return KERN_INVALID_VALUE;
	unsigned long f = ipc_lock();
	kern_return_t kr = mp_lookup(space, name, &e);

	if (kr == KERN_SUCCESS && !(e->type & MACH_PORT_TYPE_RECEIVE))
		kr = KERN_INVALID_RIGHT;
	if (kr == KERN_SUCCESS) {
		struct ipc_port *port = e->object;

		port->qlimit = qlimit;
		thread_wakeup(&port->msgcount);
	}
	ipc_unlock(f);
	return kr;
}

kern_return_t mach_port_move_member(struct ipc_space *space, mach_port_name_t member,
                                    mach_port_name_t after)
{
	struct ipc_entry *e, *se = NULL;
	unsigned long f = ipc_lock();
	kern_return_t kr = mp_lookup(space, member, &e);

	if (kr == KERN_SUCCESS && !(e->type & MACH_PORT_TYPE_RECEIVE))
		kr = KERN_INVALID_RIGHT;
	if (kr == KERN_SUCCESS && after != MACH_PORT_NULL) {
		kr = mp_lookup(space, after, &se);
		if (kr == KERN_SUCCESS && !(se->type & MACH_PORT_TYPE_PORT_SET))
			kr = KERN_INVALID_RIGHT;
	}
	if (kr == KERN_SUCCESS) {
		struct ipc_port *port = e->object;

		if (se == NULL && port->pset == NULL)
			kr = KERN_NOT_IN_SET;
		else
			ipc_pset_move(port, se ? se->object : NULL);
	}
	ipc_unlock(f);
	return kr;
}

/* [i] A dead-name request on e (name), replacing any earlier one. */
static kern_return_t mp_dnrequest(struct ipc_space *space, mach_port_name_t name,
                                  struct ipc_entry *e, mach_port_mscount_t sync,
                                  struct ipc_port *notify, struct ipc_port **previous)
{
	if (!(e->type & (MACH_PORT_TYPE_PORT_RIGHTS | MACH_PORT_TYPE_DEAD_NAME)))
		return KERN_INVALID_RIGHT;
	if (e->type & MACH_PORT_TYPE_DEAD_NAME) {
		if (!IP_VALID(notify)) {
			*previous = NULL;
			return KERN_SUCCESS;
		}
		if (sync == 0)
			return KERN_INVALID_ARGUMENT;
		if (e->urefs >= MACH_PORT_UREFS_MAX)
			return KERN_UREFS_OVERFLOW;
		e->urefs++; /* the notification's reference */
		ipc_notify_dead_name(notify, name);
		*previous = NULL;
		return KERN_SUCCESS;
	}
	struct ipc_dnreq *req = NULL;

	if (IP_VALID(notify)) {
		req = kalloc(sizeof(*req));
		if (req == NULL)
			return KERN_RESOURCE_SHORTAGE;
	}
	*previous = ipc_right_dncancel(space, name, e);
	if (req) {
		struct ipc_port *port = e->object;

		*req = (struct ipc_dnreq){ space, name, notify, port->dnrequests };
		port->dnrequests = req;
		e->dnrequest = true;
	}
	return KERN_SUCCESS;
}

kern_return_t mach_port_request_notification(struct ipc_space *space, mach_port_name_t name,
                                             mach_msg_id_t id, mach_port_mscount_t sync,
                                             struct ipc_port *notify, struct ipc_port **previous)
{
	struct ipc_entry *e;

	if (id != MACH_NOTIFY_PORT_DESTROYED && id != MACH_NOTIFY_NO_SENDERS &&
	    id != MACH_NOTIFY_DEAD_NAME)
		return KERN_INVALID_VALUE;
	if (id == MACH_NOTIFY_PORT_DESTROYED && sync != 0)
		return KERN_INVALID_VALUE;
	if (IP_VALID(notify) == false)
		notify = NULL;
	unsigned long f = ipc_lock();
	kern_return_t kr = mp_lookup(space, name, &e);

	if (kr != KERN_SUCCESS)
		goto out;
	if (id == MACH_NOTIFY_DEAD_NAME) {
		kr = mp_dnrequest(space, name, e, sync, notify, previous);
		goto out;
	}
	if (!(e->type & MACH_PORT_TYPE_RECEIVE)) {
		kr = KERN_INVALID_RIGHT;
		goto out;
	}
	struct ipc_port *port = e->object;

	if (id == MACH_NOTIFY_PORT_DESTROYED) {
		*previous = port->pdrequest;
		port->pdrequest = notify;
		goto out;
	}
	*previous = port->nsrequest;
	port->nsrequest = NULL;
	if (notify && port->srights == 0 && sync <= port->mscount)
		ipc_notify_no_senders(notify, port->mscount);
	else
		port->nsrequest = notify;
out:
	ipc_unlock(f);
	return kr;
}

kern_return_t mach_port_insert_right(struct ipc_space *space, mach_port_name_t name,
                                     struct ipc_port *port, mach_msg_type_name_t type)
{
	struct ipc_entry *e;
	kern_return_t kr = KERN_SUCCESS;

	if (!MACH_PORT_VALID(name))
		return KERN_INVALID_VALUE;
	if (type != MACH_MSG_TYPE_PORT_SEND && type != MACH_MSG_TYPE_PORT_SEND_ONCE &&
	    type != MACH_MSG_TYPE_PORT_RECEIVE)
		return KERN_INVALID_VALUE;
	unsigned long f = ipc_lock();

	if (space == NULL || !space->active) {
		kr = KERN_INVALID_TASK;
		goto out;
	}
	if (!IP_VALID(port) || !port->active) {
		kr = KERN_INVALID_CAPABILITY;
		goto out;
	}
	e = ipc_entry_lookup(space, name);
	if (e) {
		if (type == MACH_MSG_TYPE_PORT_SEND_ONCE || e->object != port ||
		    !(e->type & MACH_PORT_TYPE_SEND_RECEIVE)) {
			kr = KERN_NAME_EXISTS;
			goto out;
		}
		if (type == MACH_MSG_TYPE_PORT_SEND && (e->type & MACH_PORT_TYPE_SEND) &&
		    e->urefs >= MACH_PORT_UREFS_MAX) {
			kr = KERN_UREFS_OVERFLOW;
			goto out;
		}
		if (type == MACH_MSG_TYPE_PORT_RECEIVE && (e->type & MACH_PORT_TYPE_RECEIVE)) {
			kr = KERN_NAME_EXISTS;
			goto out;
		}
		mach_port_name_t got;

		ipc_right_copyout(space, port, type, &got); /* merges into e */
		goto out;
	}
	if (type != MACH_MSG_TYPE_PORT_SEND_ONCE && ipc_entry_find_port(space, port)) {
		kr = KERN_RIGHT_EXISTS;
		goto out;
	}
	kr = ipc_entry_alloc_name(space, name, &e);
	if (kr != KERN_SUCCESS)
		goto out;
	e->object = port;
	e->urefs = type == MACH_MSG_TYPE_PORT_RECEIVE ? 0 : 1;
	e->type = type == MACH_MSG_TYPE_PORT_SEND        ? MACH_PORT_TYPE_SEND
	          : type == MACH_MSG_TYPE_PORT_SEND_ONCE ? MACH_PORT_TYPE_SEND_ONCE
	                                                 : MACH_PORT_TYPE_RECEIVE;
	if (type == MACH_MSG_TYPE_PORT_RECEIVE) {
		port->receiver = space;
		port->receiver_name = name;
		port->transit_dest = NULL;
	}
out:
	ipc_unlock(f);
	return kr;
}

kern_return_t mach_port_extract_right(struct ipc_space *space, mach_port_name_t name,
                                      mach_msg_type_name_t msgt_name, struct ipc_port **port,
                                      mach_msg_type_name_t *type)
{
	if (!MACH_MSG_TYPE_PORT_ANY(msgt_name))
		return KERN_INVALID_VALUE;
	unsigned long f = ipc_lock();
	kern_return_t kr = (space == NULL || !space->active)
	                       ? KERN_INVALID_TASK
	                       : ipc_right_copyin(space, name, msgt_name, true, port, type);

	ipc_unlock(f);
	return kr;
}
