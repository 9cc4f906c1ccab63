/*
 * Ports, port sets and their message queues.
 *
 * Locking.  All of IPC (ports, port sets, name spaces, queues, notification
 * requests) is guarded by one spinlock, the ipc lock, taken with
 * interrupts masked (ipc_lock/ipc_unlock).  The kernel is uniprocessor in
 * practice, so one lock costs nothing and keeps every multi-object
 * operation (moving a right from one space to a message, destroying a
 * port and turning its send rights into dead names) trivially atomic.
 * Nothing that may fault or take a VM lock runs under it: user copies and
 * out-of-line memory are handled with the lock released (ipc_kmsg.c).
 * Functions below marked "[i]" expect the ipc lock held.
 *
 * References.  A port is freed when its last reference goes.  Each of
 * these holds exactly one: an entry in a space naming the port (whatever
 * rights it holds for it), a right in a message (header or body), a
 * kernel object binding (task->itk_self ...), and whoever is between
 * lookups.  srights counts send rights (a space entry with send rights
 * counts once, whatever its user references; each send right in a
 * message once), sorights send-once rights; no-senders fires when
 * srights drops to zero.
 *
 * Death.  ipc_port_destroy (the receive right goes away) marks the port
 * inactive, destroys its queued messages, sends the dead-name
 * notifications requested for it and releases the no-senders request.
 * Send rights in spaces are not visited: an entry that names an inactive
 * port reads as a dead name and is turned into one when next looked at
 * (ipc_right_check, GNU Mach's scheme), so death costs nothing per holder.
 * With a port-destroyed request the receive right is sent to the request
 * port instead and the port lives on.
 */
#ifndef IPC_IPC_PORT_H
#define IPC_IPC_PORT_H

#include <mach/message.h>
#include <mach/port.h>
#include <stdbool.h>
#include <stdint.h>

#include "kern/spinlock.h"

struct ipc_space;
struct ipc_kmsg;

/* Kernel object types (the kobject binding of a port). */
enum ipc_kotype {
	IKOT_NONE = 0,
	IKOT_TASK,
	IKOT_THREAD,
	IKOT_HOST,
	IKOT_HOST_PRIV,
	IKOT_TEST,      /* ktest's hand-written servers */
	IKOT_BOOTSTRAP, /* the module runner's bootstrap port for a task (kern/bootstrap.c) */
	IKOT_MAX,
};

/* A dead-name request: when the port dies, notify gets a dead-name notification for name. */
struct ipc_dnreq {
	struct ipc_space *space;
	mach_port_name_t name;
	struct ipc_port *notify; /* a send-once right */
	struct ipc_dnreq *next;
};

/* The "dead port" a message can carry in place of a right (copied out as MACH_PORT_DEAD). */
#define IP_DEAD ((struct ipc_port *)~0ul)
#define IP_VALID(p) ((p) != NULL && (p) != IP_DEAD)

/* Lock legend: everything is [i], guarded by the ipc lock. */
struct ipc_port {
	uint32_t refs;
	bool active;                      /* false once destroyed */
	struct ipc_space *receiver;       /* NULL: in transit, or a kernel object's */
	mach_port_name_t receiver_name;   /* its name in receiver */
	struct ipc_pset *pset;            /* the set it is a member of, or NULL */
	struct ipc_port *pset_next;       /* the set's members */
	struct ipc_kmsg *q_head, *q_tail; /* queued messages */
	mach_port_msgcount_t msgcount;    /* queued */
	mach_port_msgcount_t qlimit;      /* senders block beyond this */
	mach_port_seqno_t seqno;          /* of the next message received */
	mach_port_mscount_t mscount;      /* make-send count */
	uint32_t srights, sorights;       /* send and send-once rights in existence */
	enum ipc_kotype kotype;           /* kernel object binding */
	void *kobject;
	struct ipc_port *nsrequest;    /* no-senders: send-once right, or NULL */
	struct ipc_port *pdrequest;    /* port-destroyed: send-once right, or NULL */
	struct ipc_dnreq *dnrequests;  /* dead-name requests */
	struct ipc_port *transit_dest; /* receive right in a queued message: that queue's port */
};

/* A port set: receiving from it receives from any member. */
struct ipc_pset {
	uint32_t refs;
	bool active;
	struct ipc_port *members;
	struct ipc_space *space;
	mach_port_name_t name;
};

extern spinlock_t ipc_lock_data;

/* Inline: a message takes the lock a few times. */
static inline __attribute__((always_inline)) unsigned long ipc_lock(void)
{
	return spin_lock_irqsave(&ipc_lock_data);
}

static inline __attribute__((always_inline)) void ipc_unlock(unsigned long flags)
{
	spin_unlock_irqrestore(&ipc_lock_data, flags);
}

/* Panics unless the ipc lock is held (debug aid for [i] functions). */
void ipc_lock_assert(void);

/* Creates the zones and the kernel space.  Once, at boot, after sched_init. */
void ipc_init(void);

/*
 * [i] A new active port with one reference (the caller's), no receiver,
 * qlimit MACH_PORT_QLIMIT_DEFAULT.  NULL when memory runs out.
 */
struct ipc_port *ipc_port_alloc(void);
/* [i] ipc_port_release's slow half: the last reference (or none: panic). */
void ipc_port_release_last(struct ipc_port *port);

/* [i] Inline: every message takes and drops a few. */
static inline __attribute__((always_inline)) void ipc_port_reference(struct ipc_port *port)
{
	port->refs++;
}

/* [i] Frees the port on the last reference. */
static inline __attribute__((always_inline)) void ipc_port_release(struct ipc_port *port)
{
	if (__builtin_expect(port->refs > 1, 1))
		port->refs--;
	else
		ipc_port_release_last(port);
}

/*
 * [i] The receive right of port goes away (the caller took it out of its
 * space or message and holds a reference).  See "Death" above.
 */
void ipc_port_destroy(struct ipc_port *port);

/* [i] A new port set with one reference, or NULL. */
struct ipc_pset *ipc_pset_alloc(void);
void ipc_pset_release(struct ipc_pset *pset);
/* [i] Removes every member and wakes receivers, which see the set gone. */
void ipc_pset_destroy(struct ipc_pset *pset);
/* [i] Adds port to pset (NULL: takes it out of its set). */
void ipc_pset_move(struct ipc_port *port, struct ipc_pset *pset);

/* [i] Rights in transit: one more send right (a made or copied one) and its release. */
struct ipc_port *ipc_port_make_send(struct ipc_port *port);
struct ipc_port *ipc_port_copy_send(struct ipc_port *port);

/* [i] One more send-once right (inline: every kernel RPC makes its reply right). */
static inline struct ipc_port *ipc_port_make_send_once(struct ipc_port *port)
{
	port->refs++;
	port->sorights++;
	return port;
}

/*
 * [i] Releases a right of msgt_name type (MACH_MSG_TYPE_PORT_SEND,
 * _SEND_ONCE, _RECEIVE) that nobody holds any more: no-senders, send-once
 * notifications and port destruction follow as Mach says.
 */
void ipc_right_release(struct ipc_port *port, mach_msg_type_name_t type);

/*
 * [i] Queues kmsg on its destination port, which must be active and not
 * a kernel object's.  With always set the queue limit does not apply
 * (kernel messages, send-once rights).  Wakes a receiver.  Returns false
 * when the queue is full and always is not set.
 */
bool ipc_mqueue_enqueue(struct ipc_kmsg *kmsg, bool always);

/* Counters for leak checks and statistics. */
unsigned ipc_port_count(void);
unsigned ipc_pset_count(void);

/*
 * [i] Whether a message on port can go straight to this thread's receive
 * from rcv_name in space (mach_msg's direct hand-offs and fast paths): port is an active
 * ordinary port that space receives as rcv_name, outside any set, with
 * nothing queued (so the message would be the next one dequeued anyway)
 * and room for one message.
 */
static inline __attribute__((always_inline)) bool
ipc_port_direct_ok(struct ipc_space *space, struct ipc_port *port, mach_port_name_t rcv_name)
{
	return IP_VALID(port) && port->active && port->kotype == IKOT_NONE &&
	       port->receiver == space && port->receiver_name == rcv_name && port->pset == NULL &&
	       port->q_head == NULL && port->msgcount < port->qlimit;
}

#endif
