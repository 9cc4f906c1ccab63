/*
 * Port name spaces: the entry table and the rights in it (ipc_space.h).
 *
 * The right operations follow GNU Mach's ipc_right.c: moving a right out
 * of a space (copyin), into a space (copyout), destroying what a name
 * denotes.  A send or send-once right whose port died is turned into a
 * dead name on first sight (ipc_right_check); if a dead-name request was
 * registered for it, the dead name gets one more user reference, the
 * one the dead-name notification stands for.
 */
#include <stddef.h>

#include "ipc/ipc_notify.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/string.h"

#define IE_NAME(index, gen) (((index) << 8) | ((gen)&0xffu))
#define IE_INITIAL 16

struct ipc_space *ipc_space_kernel;
static unsigned ipc_nspaces; /* [i] */

static kern_return_t ipc_space_alloc(uint32_t size, struct ipc_space **out)
{
	struct ipc_space *space = kalloc(sizeof(*space));
	struct ipc_entry *table = kalloc(size * sizeof(*table));

	if (space == NULL || table == NULL) {
		kfree(space);
		kfree(table);
		return KERN_RESOURCE_SHORTAGE;
	}
	memset(space, 0, sizeof(*space));
	memset(table, 0, size * sizeof(*table));
	space->active = true;
	space->table = table;
	space->size = size;
	/* Slot 0 is MACH_PORT_NULL: never handed out. */
	for (uint32_t i = size - 1; i >= 1; i--) {
		table[i].next_free = space->free_head;
		space->free_head = i;
	}
	unsigned long f = ipc_lock();

	ipc_nspaces++;
	ipc_unlock(f);
	*out = space;
	return KERN_SUCCESS;
}

kern_return_t ipc_space_create(struct ipc_space **out)
{
	return ipc_space_alloc(IE_INITIAL, out);
}

void ipc_space_kernel_init(void);
void ipc_space_kernel_init(void)
{
	/* Big enough up front: its table never grows inside a leak-checked test. */
	if (ipc_space_alloc(1024, &ipc_space_kernel) != KERN_SUCCESS)
		panic("ipc_space_kernel_init: no memory");
	ipc_space_kernel->kernel = true;
}

void ipc_space_terminate(struct ipc_space *space)
{
	unsigned long f = ipc_lock();

	if (!space->active) {
		ipc_unlock(f);
		return;
	}
	space->active = false;
	for (uint32_t i = 1; i < space->size; i++) {
		struct ipc_entry *e = &space->table[i];

		if (e->type != MACH_PORT_TYPE_NONE)
			ipc_right_destroy(space, IE_NAME(i, e->gen), e);
	}
	ipc_unlock(f);
}

void ipc_space_destroy(struct ipc_space *space)
{
	if (space == NULL)
		return;
	ipc_space_terminate(space);
	unsigned long f = ipc_lock();

	ipc_nspaces--;
	ipc_unlock(f);
	kfree(space->table);
	kfree(space);
}

/* [i] A send or send-once right to a dead port becomes a dead name. */
static void ipc_right_check(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *e)
{
	struct ipc_port *port = e->object;

	if (!(e->type & MACH_PORT_TYPE_SEND_RIGHTS) || (e->type & MACH_PORT_TYPE_RECEIVE) ||
	    port->active)
		return;
	uint32_t urefs = (e->type & MACH_PORT_TYPE_SEND_ONCE) ? 1 : e->urefs;

	if (e->dnrequest) {
		/* The notification was sent when the port died; it stands for one reference. */
		e->dnrequest = false;
		if (urefs < MACH_PORT_UREFS_MAX)
			urefs++;
	}
	if (e->type & MACH_PORT_TYPE_SEND_ONCE)
		port->sorights--;
	else
		port->srights--;
	e->type = MACH_PORT_TYPE_DEAD_NAME;
	e->urefs = urefs;
	e->object = NULL;
	ipc_port_release(port);
}

void ipc_entry_check_dead(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *e)
{
	ipc_right_check(space, name, e);
}

/* [i] Doubles the table. */
static kern_return_t ipc_space_grow(struct ipc_space *space)
{
	uint32_t nsize = space->size * 2;

	if (space->size >= IPC_SPACE_MAX_ENTRIES)
		return KERN_NO_SPACE;
	if (nsize > IPC_SPACE_MAX_ENTRIES)
		nsize = IPC_SPACE_MAX_ENTRIES;
	struct ipc_entry *table = kalloc(nsize * sizeof(*table));

	if (table == NULL)
		return KERN_RESOURCE_SHORTAGE;
	memcpy(table, space->table, space->size * sizeof(*table));
	memset(table + space->size, 0, (nsize - space->size) * sizeof(*table));
	for (uint32_t i = nsize - 1; i >= space->size; i--) {
		table[i].next_free = space->free_head;
		space->free_head = i;
	}
	kfree(space->table);
	space->table = table;
	space->size = nsize;
	return KERN_SUCCESS;
}

kern_return_t ipc_entry_alloc(struct ipc_space *space, mach_port_name_t *namep,
                              struct ipc_entry **entryp)
{
	if (!space->active)
		return KERN_INVALID_TASK;
	if (space->free_head == 0) {
		kern_return_t kr = ipc_space_grow(space);

		if (kr != KERN_SUCCESS)
			return kr;
	}
	uint32_t index = space->free_head;
	struct ipc_entry *e = &space->table[index];

	space->free_head = e->next_free;
	space->nused++;
	if (index >= space->hiwater)
		space->hiwater = index + 1;
	e->next_free = 0;
	e->urefs = 0;
	e->object = NULL;
	e->dnrequest = false;
	*namep = IE_NAME(index, e->gen);
	*entryp = e;
	return KERN_SUCCESS;
}

kern_return_t ipc_entry_alloc_name(struct ipc_space *space, mach_port_name_t name,
                                   struct ipc_entry **entryp)
{
	uint32_t index = IE_INDEX(name);

	if (!space->active)
		return KERN_INVALID_TASK;
	if (index == 0 || index >= IPC_SPACE_MAX_ENTRIES)
		return KERN_NO_SPACE;
	while (index >= space->size) {
		kern_return_t kr = ipc_space_grow(space);

		if (kr != KERN_SUCCESS)
			return kr;
	}
	struct ipc_entry *e = &space->table[index];

	if (e->type != MACH_PORT_TYPE_NONE)
		return KERN_NAME_EXISTS;
	uint32_t *pp = &space->free_head;

	while (*pp != index)
		pp = &space->table[*pp].next_free;
	*pp = e->next_free;
	space->nused++;
	if (index >= space->hiwater)
		space->hiwater = index + 1;
	e->next_free = 0;
	e->urefs = 0;
	e->object = NULL;
	e->dnrequest = false;
	e->gen = IE_GEN(name);
	*entryp = e;
	return KERN_SUCCESS;
}

void ipc_entry_free(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *e)
{
	uint32_t index = IE_INDEX(name);

	e->type = MACH_PORT_TYPE_NONE;
	e->object = NULL;
	e->urefs = 0;
	e->dnrequest = false;
	e->gen = (e->gen + 1) & 0xffu;
	if (index == 0xffffffu && e->gen == 0xffu)
		e->gen = 0; /* never MACH_PORT_DEAD */
	e->next_free = space->free_head;
	space->free_head = index;
	space->nused--;
}

/*
 * A space has at most one entry with send or receive rights for a port.
 * The receive right's entry is found from the port itself; otherwise
 * the table is scanned, but only up to hiwater: free slots are handed
 * out lowest first, so a space that never held many rights at once (the
 * kernel's, whose every kobject RPC copies out a send right that it
 * holds nowhere else) is scanned over a few slots instead of its whole
 * table (issue 4: this scan was half of a vm_allocate RPC).
 */
mach_port_name_t ipc_entry_find_port(struct ipc_space *space, struct ipc_port *port)
{
	if (port->receiver == space) {
		uint32_t index = IE_INDEX(port->receiver_name);

		if (index != 0 && index < space->size) {
			struct ipc_entry *e = &space->table[index];

			if (e->object == port && e->gen == IE_GEN(port->receiver_name) &&
			    (e->type & MACH_PORT_TYPE_SEND_RECEIVE))
				return port->receiver_name;
		}
	}
	for (uint32_t i = 1; i < space->hiwater; i++) {
		struct ipc_entry *e = &space->table[i];

		if (e->object == port && (e->type & MACH_PORT_TYPE_SEND_RECEIVE))
			return IE_NAME(i, e->gen);
	}
	return MACH_PORT_NULL;
}

struct ipc_port *ipc_right_dncancel(struct ipc_space *space, mach_port_name_t name,
                                    struct ipc_entry *e)
{
	if (!e->dnrequest)
		return NULL;
	e->dnrequest = false;
	struct ipc_port *port = e->object;

	if (port == NULL || (e->type & MACH_PORT_TYPE_PORT_SET))
		return NULL;
	for (struct ipc_dnreq **pp = &port->dnrequests; *pp; pp = &(*pp)->next) {
		struct ipc_dnreq *req = *pp;

		if (req->space == space && req->name == name) {
			struct ipc_port *notify = req->notify;

			*pp = req->next;
			kfree(req);
			return notify;
		}
	}
	return NULL;
}

/* [i] The entry lost its last right: cancel a dead-name request (port-deleted) and free it. */
static void ipc_entry_gone(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *e)
{
	struct ipc_port *notify = ipc_right_dncancel(space, name, e);

	ipc_entry_free(space, name, e);
	if (notify)
		ipc_notify_port_deleted(notify, name);
}

/* [i] Whether entry e (looked up, may be NULL) can give disp; see ipc_right_copyin_check. */
static kern_return_t rt_copyin_check(struct ipc_entry *e, mach_msg_type_name_t disp, bool deadok)
{
	if (e == NULL)
		return KERN_INVALID_NAME;
	mach_port_type_t t = e->type;

	switch (disp) {
	case MACH_MSG_TYPE_MOVE_RECEIVE:
	case MACH_MSG_TYPE_MAKE_SEND:
	case MACH_MSG_TYPE_MAKE_SEND_ONCE:
		return (t & MACH_PORT_TYPE_RECEIVE) ? KERN_SUCCESS : KERN_INVALID_RIGHT;
	case MACH_MSG_TYPE_COPY_SEND:
	case MACH_MSG_TYPE_MOVE_SEND:
		if (t & MACH_PORT_TYPE_SEND)
			return KERN_SUCCESS;
		return (deadok && (t & MACH_PORT_TYPE_DEAD_NAME)) ? KERN_SUCCESS
		                                                  : KERN_INVALID_RIGHT;
	case MACH_MSG_TYPE_MOVE_SEND_ONCE:
		if (t & MACH_PORT_TYPE_SEND_ONCE)
			return KERN_SUCCESS;
		return (deadok && (t & MACH_PORT_TYPE_DEAD_NAME)) ? KERN_SUCCESS
		                                                  : KERN_INVALID_RIGHT;
	default:
		return KERN_INVALID_VALUE;
	}
}

kern_return_t ipc_right_copyin_check(struct ipc_space *space, mach_port_name_t name,
                                     mach_msg_type_name_t disp, bool deadok)
{
	return rt_copyin_check(ipc_entry_lookup(space, name), disp, deadok);
}

kern_return_t ipc_right_copyin_check_entry(struct ipc_entry *e, mach_msg_type_name_t disp,
                                           bool deadok)
{
	return rt_copyin_check(e, disp, deadok);
}

kern_return_t ipc_right_copyin(struct ipc_space *space, mach_port_name_t name,
                               mach_msg_type_name_t disp, bool deadok, struct ipc_port **portp,
                               mach_msg_type_name_t *typep)
{
	return ipc_right_copyin_entry(space, name, ipc_entry_lookup(space, name), disp, deadok,
	                              portp, typep);
}

kern_return_t ipc_right_copyin_entry(struct ipc_space *space, mach_port_name_t name,
                                     struct ipc_entry *e, mach_msg_type_name_t disp, bool deadok,
                                     struct ipc_port **portp, mach_msg_type_name_t *typep)
{
	kern_return_t kr = rt_copyin_check(e, disp, deadok);

	if (kr != KERN_SUCCESS)
		return kr;
	struct ipc_port *port = e->object;

	if (e->type & MACH_PORT_TYPE_DEAD_NAME) {
		/* deadok: a moved dead name loses a reference, a copied one does not. */
		if (disp != MACH_MSG_TYPE_COPY_SEND && --e->urefs == 0)
			ipc_entry_free(space, name, e);
		*portp = IP_DEAD;
		*typep = disp == MACH_MSG_TYPE_MOVE_SEND_ONCE ? MACH_MSG_TYPE_PORT_SEND_ONCE
		                                              : MACH_MSG_TYPE_PORT_SEND;
		return KERN_SUCCESS;
	}
	switch (disp) {
	case MACH_MSG_TYPE_MAKE_SEND:
		*portp = ipc_port_make_send(port);
		*typep = MACH_MSG_TYPE_PORT_SEND;
		break;
	case MACH_MSG_TYPE_MAKE_SEND_ONCE:
		*portp = ipc_port_make_send_once(port);
		*typep = MACH_MSG_TYPE_PORT_SEND_ONCE;
		break;
	case MACH_MSG_TYPE_COPY_SEND:
		*portp = ipc_port_copy_send(port);
		*typep = MACH_MSG_TYPE_PORT_SEND;
		break;
	case MACH_MSG_TYPE_MOVE_RECEIVE:
		port->receiver = NULL;
		port->receiver_name = MACH_PORT_NULL;
		if (port->pset)
			ipc_pset_move(port, NULL);
		if (e->type & MACH_PORT_TYPE_SEND) {
			e->type &= ~MACH_PORT_TYPE_RECEIVE;
			port->refs++; /* the entry keeps its own for the send rights */
		} else {
			ipc_entry_gone(space, name, e);
		}
		*portp = port;
		*typep = MACH_MSG_TYPE_PORT_RECEIVE;
		break;
	case MACH_MSG_TYPE_MOVE_SEND:
		if (e->urefs > 1) {
			e->urefs--;
			*portp = ipc_port_copy_send(port);
		} else if (e->type & MACH_PORT_TYPE_RECEIVE) {
			/* The entry's send right count and a new reference go to the message. */
			e->type &= ~MACH_PORT_TYPE_SEND;
			e->urefs = 0;
			port->refs++;
			*portp = port;
		} else {
			ipc_entry_gone(space, name, e);
			*portp = port;
		}
		*typep = MACH_MSG_TYPE_PORT_SEND;
		break;
	case MACH_MSG_TYPE_MOVE_SEND_ONCE:
		ipc_entry_gone(space, name, e);
		*portp = port;
		*typep = MACH_MSG_TYPE_PORT_SEND_ONCE;
		break;
	default:
		return KERN_INVALID_VALUE;
	}
	return KERN_SUCCESS;
}

kern_return_t ipc_right_copyout(struct ipc_space *space, struct ipc_port *port,
                                mach_msg_type_name_t type, mach_port_name_t *namep)
{
	if (port == NULL) {
		*namep = MACH_PORT_NULL;
		return KERN_SUCCESS;
	}
	if (port == IP_DEAD) {
		*namep = MACH_PORT_DEAD;
		return KERN_SUCCESS;
	}
	if (!port->active && type != MACH_MSG_TYPE_PORT_RECEIVE) {
		ipc_right_release(port, type);
		*namep = MACH_PORT_DEAD;
		return KERN_SUCCESS;
	}
	if (!space->active) {
		ipc_right_release(port, type);
		*namep = MACH_PORT_NULL;
		return KERN_INVALID_TASK;
	}
	mach_port_name_t name = MACH_PORT_NULL;
	struct ipc_entry *e = NULL;

	if (type != MACH_MSG_TYPE_PORT_SEND_ONCE) {
		name = ipc_entry_find_port(space, port);
		if (name)
			e = ipc_entry_lookup(space, name);
	}
	if (e == NULL) {
		kern_return_t kr = ipc_entry_alloc(space, &name, &e);

		if (kr != KERN_SUCCESS) {
			ipc_right_release(port, type);
			*namep = MACH_PORT_NULL;
			return kr;
		}
		e->object = port; /* the right's reference becomes the entry's */
		switch (type) {
		case MACH_MSG_TYPE_PORT_SEND:
			e->type = MACH_PORT_TYPE_SEND;
			e->urefs = 1;
			break;
		case MACH_MSG_TYPE_PORT_SEND_ONCE:
			e->type = MACH_PORT_TYPE_SEND_ONCE;
			e->urefs = 1;
			break;
		default:
			e->type = MACH_PORT_TYPE_RECEIVE;
			port->receiver = space;
			port->receiver_name = name;
			port->transit_dest = NULL;
			break;
		}
		*namep = name;
		return KERN_SUCCESS;
	}
	/* Merge into the port's existing entry, which holds the one reference. */
	*namep = name;
	if (type == MACH_MSG_TYPE_PORT_SEND) {
		if (e->type & MACH_PORT_TYPE_SEND) {
			if (e->urefs >= MACH_PORT_UREFS_MAX) {
				ipc_right_release(port, type); /* kept at the maximum: drop it */
				return KERN_UREFS_OVERFLOW;
			}
			e->urefs++;
			port->srights--; /* counted once per entry */
		} else {
			e->type |= MACH_PORT_TYPE_SEND;
			e->urefs = 1;
		}
	} else {
		e->type |= MACH_PORT_TYPE_RECEIVE;
		port->receiver = space;
		port->receiver_name = name;
		port->transit_dest = NULL;
	}
	ipc_port_release(port);
	return KERN_SUCCESS;
}

void ipc_right_destroy(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *e)
{
	mach_port_type_t t = e->type;

	if (t & MACH_PORT_TYPE_PORT_SET) {
		struct ipc_pset *pset = e->object;

		ipc_entry_free(space, name, e);
		ipc_pset_destroy(pset);
		ipc_pset_release(pset);
		return;
	}
	if (t & MACH_PORT_TYPE_DEAD_NAME) {
		ipc_entry_free(space, name, e);
		return;
	}
	struct ipc_port *port = e->object;
	struct ipc_port *notify = ipc_right_dncancel(space, name, e);

	ipc_entry_free(space, name, e);
	if (t & MACH_PORT_TYPE_RECEIVE) {
		port->receiver = NULL;
		if (t & MACH_PORT_TYPE_SEND)
			port->srights--; /* no no-senders: the port is going */
		ipc_port_destroy(port);
		ipc_port_release(port);
	} else if (t & MACH_PORT_TYPE_SEND) {
		if (port->active)
			ipc_right_release(port, MACH_MSG_TYPE_PORT_SEND);
		else {
			port->srights--;
			ipc_port_release(port);
		}
	} else if (t & MACH_PORT_TYPE_SEND_ONCE) {
		ipc_right_release(port, MACH_MSG_TYPE_PORT_SEND_ONCE);
	}
	if (notify)
		ipc_notify_port_deleted(notify, name);
}

unsigned ipc_space_count(void)
{
	return __atomic_load_n(&ipc_nspaces, __ATOMIC_RELAXED);
}
