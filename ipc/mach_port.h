/*
 * The mach_port_* calls as kernel functions on a space, with GNU Mach's
 * semantics and return codes (the MIG server routines S_mach_port_*
 * translate the task name and call these).  Common codes:
 *	KERN_INVALID_TASK    space is NULL or dead
 *	KERN_INVALID_NAME    name denotes no right
 *	KERN_INVALID_RIGHT   name denotes a right, but not the one needed
 *	KERN_INVALID_VALUE   an argument is out of range (right, delta, id, qlimit)
 *	KERN_UREFS_OVERFLOW  user references would pass MACH_PORT_UREFS_MAX
 *	KERN_NO_SPACE        no free name
 */
#ifndef IPC_MACH_PORT_H
#define IPC_MACH_PORT_H

#include <mach/message.h>
#include <mach/port.h>

struct ipc_space;
struct ipc_port;

/* Every name and its type, in two kalloc'd arrays (*count each; NULL when empty). */
kern_return_t mach_port_names(struct ipc_space *space, mach_port_name_t **names,
                              mach_port_type_t **types, mach_msg_type_number_t *count);
kern_return_t mach_port_type(struct ipc_space *space, mach_port_name_t name,
                             mach_port_type_t *type);
/* right: RECEIVE, PORT_SET or DEAD_NAME. */
kern_return_t mach_port_allocate(struct ipc_space *space, mach_port_right_t right,
                                 mach_port_name_t *name);
kern_return_t mach_port_destroy(struct ipc_space *space, mach_port_name_t name);
/* One send or dead-name reference, or the send-once right (KERN_INVALID_RIGHT otherwise). */
kern_return_t mach_port_deallocate(struct ipc_space *space, mach_port_name_t name);
kern_return_t mach_port_get_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_urefs_t *refs);
kern_return_t mach_port_mod_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_delta_t delta);
kern_return_t mach_port_set_qlimit(struct ipc_space *space, mach_port_name_t name,
                                   mach_port_msgcount_t qlimit);
/* after: a port set, or MACH_PORT_NULL to leave the set (KERN_NOT_IN_SET). */
kern_return_t mach_port_move_member(struct ipc_space *space, mach_port_name_t member,
                                    mach_port_name_t after);
/*
 * id: MACH_NOTIFY_PORT_DESTROYED, _NO_SENDERS or _DEAD_NAME; notify a
 * send-once right (consumed on success) or NULL to cancel; *previous the
 * request it replaces (a send-once right for the caller) or NULL.
 * KERN_INVALID_ARGUMENT: a dead-name request for a dead name without sync.
 */
kern_return_t mach_port_request_notification(struct ipc_space *space, mach_port_name_t name,
                                             mach_msg_id_t id, mach_port_mscount_t sync,
                                             struct ipc_port *notify, struct ipc_port **previous);
/*
 * Puts a right (type MACH_MSG_TYPE_PORT_*, consumed on success) into space
 * under name.  KERN_INVALID_CAPABILITY: no live port; KERN_NAME_EXISTS:
 * name denotes another right; KERN_RIGHT_EXISTS: the port has another name.
 */
kern_return_t mach_port_insert_right(struct ipc_space *space, mach_port_name_t name,
                                     struct ipc_port *port, mach_msg_type_name_t type);
/* Takes a right out of space with disposition msgt_name (MOVE_RECEIVE .. MAKE_SEND_ONCE). */
kern_return_t mach_port_extract_right(struct ipc_space *space, mach_port_name_t name,
                                      mach_msg_type_name_t msgt_name, struct ipc_port **port,
                                      mach_msg_type_name_t *type);

#endif
