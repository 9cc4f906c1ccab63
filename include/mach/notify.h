/*
 * Kernel notifications (<mach/notify.h>): the messages the kernel sends
 * to a port registered with mach_port_request_notification (or, for
 * send-once, to an unused send-once right's port).  Ids and layouts are
 * GNU Mach's.  Shared with userland.
 *
 * Every notification is a simple message from the kernel: msgh_remote_port
 * is the notify port, msgh_local_port MACH_PORT_NULL, msgh_id below.
 * The port-destroyed notification carries a receive right and is
 * complex; the others carry names or a count and are not.
 */
#ifndef MACH_NOTIFY_H
#define MACH_NOTIFY_H

#include <stddef.h>

#include <mach/message.h>
#include <mach/port.h>

#define MACH_NOTIFY_FIRST 0100
#define MACH_NOTIFY_PORT_DELETED (MACH_NOTIFY_FIRST + 001)   /* 0101: a send(-once) right died */
#define MACH_NOTIFY_MSG_ACCEPTED (MACH_NOTIFY_FIRST + 002)   /* 0102: not sent by machperf */
#define MACH_NOTIFY_PORT_DESTROYED (MACH_NOTIFY_FIRST + 005) /* 0105: receive right sent back */
#define MACH_NOTIFY_NO_SENDERS (MACH_NOTIFY_FIRST + 006)     /* 0106: last send right gone */
#define MACH_NOTIFY_SEND_ONCE (MACH_NOTIFY_FIRST + 007)      /* 0107: send-once right unused */
#define MACH_NOTIFY_DEAD_NAME (MACH_NOTIFY_FIRST + 010)      /* 0110: a send right became dead */
#define MACH_NOTIFY_LAST (MACH_NOTIFY_FIRST + 015)

/* MACH_NOTIFY_PORT_DELETED: not_port (MACH_MSG_TYPE_PORT_NAME) was deleted. */
typedef struct {
	mach_msg_header_t not_header;
	mach_msg_type_t not_type;
	mach_port_t not_port;
} mach_port_deleted_notification_t;

/* MACH_NOTIFY_MSG_ACCEPTED: kept for source compatibility. */
typedef struct {
	mach_msg_header_t not_header;
	mach_msg_type_t not_type;
	mach_port_t not_port;
} mach_msg_accepted_notification_t;

/* MACH_NOTIFY_PORT_DESTROYED: carries the receive right (MACH_MSG_TYPE_PORT_RECEIVE). */
typedef struct {
	mach_msg_header_t not_header;
	mach_msg_type_t not_type;
	mach_port_t not_port;
} mach_port_destroyed_notification_t;

/* MACH_NOTIFY_NO_SENDERS: not_count (MACH_MSG_TYPE_INTEGER_32) is the make-send count. */
typedef struct {
	mach_msg_header_t not_header;
	mach_msg_type_t not_type;
	unsigned int not_count;
} mach_no_senders_notification_t;

/* MACH_NOTIFY_SEND_ONCE: a header only. */
typedef struct {
	mach_msg_header_t not_header;
} mach_send_once_notification_t;

/* MACH_NOTIFY_DEAD_NAME: not_port (MACH_MSG_TYPE_PORT_NAME) is now a dead name. */
typedef struct {
	mach_msg_header_t not_header;
	mach_msg_type_t not_type;
	mach_port_t not_port;
} mach_dead_name_notification_t;

_Static_assert(MACH_NOTIFY_PORT_DELETED == 0101 && MACH_NOTIFY_PORT_DESTROYED == 0105 &&
                   MACH_NOTIFY_NO_SENDERS == 0106 && MACH_NOTIFY_SEND_ONCE == 0107 &&
                   MACH_NOTIFY_DEAD_NAME == 0110,
               "notification ids are GNU Mach's");
_Static_assert(sizeof(mach_port_deleted_notification_t) == 40, "port-deleted: 40 bytes");
_Static_assert(sizeof(mach_port_destroyed_notification_t) == 40, "port-destroyed: 40 bytes");
_Static_assert(sizeof(mach_no_senders_notification_t) == 40, "no-senders: 40 bytes");
_Static_assert(sizeof(mach_send_once_notification_t) == 32, "send-once: 32 bytes");
_Static_assert(sizeof(mach_dead_name_notification_t) == 40, "dead-name: 40 bytes");
_Static_assert(offsetof(mach_dead_name_notification_t, not_port) == 36, "not_port");
_Static_assert(offsetof(mach_no_senders_notification_t, not_count) == 36, "not_count");

#endif
