/*
 * Kernel notifications (<mach/notify.h>): each consumes the send-once
 * right it is sent on.  All [i]: the ipc lock is held.  A notification to
 * a dead port or a kernel object's port is dropped.
 */
#ifndef IPC_IPC_NOTIFY_H
#define IPC_IPC_NOTIFY_H

#include <mach/port.h>

struct ipc_port;

void ipc_notify_port_deleted(struct ipc_port *notify, mach_port_name_t name);
void ipc_notify_dead_name(struct ipc_port *notify, mach_port_name_t name);
void ipc_notify_no_senders(struct ipc_port *notify, mach_port_mscount_t mscount);
/* port: a receive right (with a reference), sent in the notification. */
void ipc_notify_port_destroyed(struct ipc_port *notify, struct ipc_port *port);
/* The unused send-once right to port itself is the notification's destination. */
void ipc_notify_send_once(struct ipc_port *port);

#endif
