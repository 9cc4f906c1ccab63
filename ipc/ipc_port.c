/*
 * Ports and port sets: allocation, references, rights in transit, death,
 * and queueing (the design is in ipc_port.h).
 *
 * Wait events.  A receiver waits on &port->q_head (or &pset->members for a
 * set); a sender blocked on a full queue waits on &port->msgcount.  Both
 * are woken on the port's death, and the waiters then see !active.
 */
#include <stddef.h>

#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_notify.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/zalloc.h"

spinlock_t ipc_lock_data = SPINLOCK_INIT;
static struct zone ipc_port_zone, ipc_pset_zone;
static unsigned ipc_nports, ipc_npsets; /* [i] */

void ipc_lock_assert(void)
{
	if (!__atomic_load_n(&ipc_lock_data.locked, __ATOMIC_RELAXED))
		panic("ipc_lock_assert: the ipc lock is not held");
}

void ipc_port_zones_init(void);
void ipc_port_zones_init(void)
{
	zone_init(&ipc_port_zone, "ipc.port", sizeof(struct ipc_port));
	zone_init(&ipc_pset_zone, "ipc.pset", sizeof(struct ipc_pset));
}

struct ipc_port *ipc_port_alloc(void)
{
	struct ipc_port *port = zalloc(&ipc_port_zone);

	if (port == NULL)
		return NULL;
	memset(port, 0, sizeof(*port));
	port->refs = 1;
	port->active = true;
	port->qlimit = MACH_PORT_QLIMIT_DEFAULT;
	ipc_nports++;
	return port;
}

void ipc_port_release_last(struct ipc_port *port)
{
	if (port->refs == 0)
		panic("ipc_port_release: port %p has no references", port);
	if (--port->refs)
		return;
	if (port->q_head || port->dnrequests || port->nsrequest || port->pdrequest || port->pset)
		panic("ipc_port_release: port %p freed with state", port);
	ipc_nports--;
	zfree(&ipc_port_zone, port);
}

struct ipc_port *ipc_port_make_send(struct ipc_port *port)
{
	port->refs++;
	port->srights++;
	port->mscount++;
	return port;
}

struct ipc_port *ipc_port_copy_send(struct ipc_port *port)
{
	port->refs++;
	port->srights++;
	return port;
}

void ipc_right_release(struct ipc_port *port, mach_msg_type_name_t type)
{
	if (!IP_VALID(port))
		return;
	switch (type) {
	case MACH_MSG_TYPE_PORT_SEND:
		if (port->srights == 0)
			panic("ipc_right_release: port %p has no send rights", port);
		if (--port->srights == 0 && port->active && port->nsrequest) {
			struct ipc_port *notify = port->nsrequest;

			port->nsrequest = NULL;
			ipc_notify_no_senders(notify, port->mscount);
		}
		ipc_port_release(port);
		break;
	case MACH_MSG_TYPE_PORT_SEND_ONCE:
		if (port->active && port->kotype == IKOT_NONE) {
			ipc_notify_send_once(port); /* takes the right over */
			return;
		}
		port->sorights--;
		ipc_port_release(port);
		break;
	case MACH_MSG_TYPE_PORT_RECEIVE:
		port->receiver = NULL;
		port->transit_dest = NULL;
		ipc_port_destroy(port);
		ipc_port_release(port);
		break;
	default:
		panic("ipc_right_release: bad type %u", type);
	}
}

void ipc_port_destroy(struct ipc_port *port)
{
	if (!port->active)
		return;
	port->receiver = NULL;
	port->receiver_name = MACH_PORT_NULL;
	if (port->pset)
		ipc_pset_move(port, NULL);
	if (port->pdrequest) {
		struct ipc_port *notify = port->pdrequest;

		port->pdrequest = NULL;
		port->refs++; /* the notification's receive right */
		ipc_notify_port_destroyed(notify, port);
		return;
	}
	port->active = false;
	port->kotype = IKOT_NONE;
	port->kobject = NULL;
	port->transit_dest = NULL;
	thread_wakeup(&port->q_head);
	thread_wakeup(&port->msgcount);

	/* Rights in queued messages may lead back here: keep the port referenced meanwhile. */
	port->refs++;
	while (port->q_head) {
		struct ipc_kmsg *kmsg = port->q_head;

		port->q_head = kmsg->next;
		if (port->q_head == NULL)
			port->q_tail = NULL;
		port->msgcount--;
		ipc_kmsg_destroy(kmsg);
	}
	struct ipc_dnreq *req = port->dnrequests;

	port->dnrequests = NULL;
	while (req) {
		struct ipc_dnreq *next = req->next;

		ipc_notify_dead_name(req->notify, req->name);
		kfree(req);
		req = next;
	}
	if (port->nsrequest) {
		struct ipc_port *notify = port->nsrequest;

		port->nsrequest = NULL;
		ipc_right_release(notify, MACH_MSG_TYPE_PORT_SEND_ONCE);
	}
	ipc_port_release(port);
}

struct ipc_pset *ipc_pset_alloc(void)
{
	struct ipc_pset *pset = zalloc(&ipc_pset_zone);

	if (pset == NULL)
		return NULL;
	memset(pset, 0, sizeof(*pset));
	pset->refs = 1;
	pset->active = true;
	ipc_npsets++;
	return pset;
}

void ipc_pset_release(struct ipc_pset *pset)
{
	if (--pset->refs)
		return;
	if (pset->members)
		panic("ipc_pset_release: set %p freed with members", pset);
	ipc_npsets--;
	zfree(&ipc_pset_zone, pset);
}

void ipc_pset_destroy(struct ipc_pset *pset)
{
	while (pset->members)
		ipc_pset_move(pset->members, NULL);
	pset->active = false;
	pset->space = NULL;
	thread_wakeup(&pset->members);
}

void ipc_pset_move(struct ipc_port *port, struct ipc_pset *pset)
{
	if (port->pset) {
		struct ipc_port **pp = &port->pset->members;

		while (*pp != port)
			pp = &(*pp)->pset_next;
		*pp = port->pset_next;
		port->pset_next = NULL;
		/* A receiver waiting on the port itself must learn it moved. */
		thread_wakeup(&port->q_head);
		port->pset = NULL;
	}
	if (pset) {
		port->pset = pset;
		port->pset_next = pset->members;
		pset->members = port;
		thread_wakeup(&port->q_head);
		if (port->q_head)
			thread_wakeup(&pset->members);
	}
}

bool ipc_mqueue_enqueue(struct ipc_kmsg *kmsg, bool always)
{
	struct ipc_port *port = kmsg->remote;

	if (!always && port->msgcount >= port->qlimit)
		return false;
	kmsg->next = NULL;
	if (port->q_tail)
		port->q_tail->next = kmsg;
	else
		port->q_head = kmsg;
	port->q_tail = kmsg;
	port->msgcount++;
	/* Receive rights carried inside now sit in port's queue (circularity checks). */
	for (uint32_t i = 0; i < kmsg->nitems; i++) {
		struct ipc_kitem *it = &kmsg->items[i];

		if (it->kind != IK_OOL && it->type == MACH_MSG_TYPE_PORT_RECEIVE)
			for (uint32_t j = 0; j < it->count; j++)
				if (IP_VALID(it->ports[j]))
					it->ports[j]->transit_dest = port;
	}
	thread_wakeup_one(&port->q_head);
	if (port->pset)
		thread_wakeup_one(&port->pset->members);
	return true;
}

unsigned ipc_port_count(void)
{
	return __atomic_load_n(&ipc_nports, __ATOMIC_RELAXED);
}

unsigned ipc_pset_count(void)
{
	return __atomic_load_n(&ipc_npsets, __ATOMIC_RELAXED);
}
