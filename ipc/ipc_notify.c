/*
 * Kernel notifications: small messages built in the kernel and queued on
 * the send-once right they consume, whatever the queue limit (as Mach's
 * "send always").  The layouts are <mach/notify.h>'s.
 */
#include <mach/notify.h>
#include <stddef.h>

#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_notify.h"
#include "ipc/ipc_port.h"
#include "kern/kalloc.h"
#include "kern/string.h"

static const mach_msg_type_t ipc_notify_int_type = {
	.msgt_name = MACH_MSG_TYPE_INTEGER_32,
	.msgt_size = 32,
	.msgt_number = 1,
	.msgt_inline = 1,
};

static const mach_msg_type_t ipc_notify_name_type = {
	.msgt_name = MACH_MSG_TYPE_PORT_NAME,
	.msgt_size = 32,
	.msgt_number = 1,
	.msgt_inline = 1,
};

/* [i] Queues kmsg on notify (a send-once right it consumes), or drops it. */
static void ipc_notify_send(struct ipc_kmsg *kmsg)
{
	struct ipc_port *notify = kmsg->remote;

	if (!notify->active || notify->kotype != IKOT_NONE) {
		/* Nobody to tell: the right goes quietly (no send-once notification loop). */
		notify->sorights--;
		ipc_port_release(notify);
		kmsg->remote = NULL;
		ipc_kmsg_destroy(kmsg);
		return;
	}
	ipc_mqueue_enqueue(kmsg, true);
}

/* [i] A notification of size bytes with id to notify; NULL (right released) without memory. */
static struct ipc_kmsg *ipc_notify_alloc(struct ipc_port *notify, mach_msg_size_t size,
                                         mach_msg_id_t id)
{
	struct ipc_kmsg *kmsg = ipc_kmsg_alloc(size);

	if (kmsg == NULL) {
		/* Out of memory: the right goes without a word. */
		notify->sorights--;
		ipc_port_release(notify);
		return NULL;
	}
	memset(&kmsg->msg, 0, size);
	kmsg->remote = notify;
	kmsg->remote_type = MACH_MSG_TYPE_PORT_SEND_ONCE;
	kmsg->msg.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, 0);
	kmsg->msg.msgh_size = size;
	kmsg->msg.msgh_id = id;
	return kmsg;
}

static void ipc_notify_name(struct ipc_port *notify, mach_msg_id_t id, mach_port_name_t name)
{
	if (!IP_VALID(notify))
		return;
	struct ipc_kmsg *kmsg = ipc_notify_alloc(notify, sizeof(mach_dead_name_notification_t), id);

	if (kmsg == NULL)
		return;
	mach_dead_name_notification_t *n = (mach_dead_name_notification_t *)&kmsg->msg;

	n->not_type = ipc_notify_name_type;
	n->not_port = name;
	ipc_notify_send(kmsg);
}

void ipc_notify_port_deleted(struct ipc_port *notify, mach_port_name_t name)
{
	ipc_notify_name(notify, MACH_NOTIFY_PORT_DELETED, name);
}

void ipc_notify_dead_name(struct ipc_port *notify, mach_port_name_t name)
{
	ipc_notify_name(notify, MACH_NOTIFY_DEAD_NAME, name);
}

void ipc_notify_no_senders(struct ipc_port *notify, mach_port_mscount_t mscount)
{
	if (!IP_VALID(notify))
		return;
	struct ipc_kmsg *kmsg = ipc_notify_alloc(notify, sizeof(mach_no_senders_notification_t),
	                                         MACH_NOTIFY_NO_SENDERS);

	if (kmsg == NULL)
		return;
	mach_no_senders_notification_t *n = (mach_no_senders_notification_t *)&kmsg->msg;

	n->not_type = ipc_notify_int_type;
	n->not_count = mscount;
	ipc_notify_send(kmsg);
}

void ipc_notify_port_destroyed(struct ipc_port *notify, struct ipc_port *port)
{
	struct ipc_kmsg *kmsg = NULL;
	struct ipc_kitem *item = kalloc(sizeof(*item));
	struct ipc_port **ports = kalloc(sizeof(*ports));

	if (IP_VALID(notify) && item && ports)
		kmsg = ipc_notify_alloc(notify, sizeof(mach_port_destroyed_notification_t),
		                        MACH_NOTIFY_PORT_DESTROYED);
	if (kmsg == NULL) {
		kfree(item);
		kfree(ports);
		ipc_right_release(port, MACH_MSG_TYPE_PORT_RECEIVE);
		return;
	}
	mach_port_destroyed_notification_t *n = (mach_port_destroyed_notification_t *)&kmsg->msg;

	n->not_header.msgh_bits |= MACH_MSGH_BITS_COMPLEX;
	n->not_type = ipc_notify_name_type;
	n->not_type.msgt_name = MACH_MSG_TYPE_PORT_RECEIVE;
	ports[0] = port;
	*item = (struct ipc_kitem){ .off = offsetof(mach_port_destroyed_notification_t, not_port),
		                    .kind = IK_PORTS,
		                    .type = MACH_MSG_TYPE_PORT_RECEIVE,
		                    .count = 1,
		                    .ports = ports };
	kmsg->items = item;
	kmsg->nitems = 1;
	ipc_notify_send(kmsg);
}

void ipc_notify_send_once(struct ipc_port *port)
{
	struct ipc_kmsg *kmsg =
	    ipc_notify_alloc(port, sizeof(mach_send_once_notification_t), MACH_NOTIFY_SEND_ONCE);

	if (kmsg)
		ipc_notify_send(kmsg);
}
