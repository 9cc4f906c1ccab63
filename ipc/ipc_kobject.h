/*
 * Kernel objects behind ports (Mach's "kobject"): tasks, threads, the
 * host; their ports; the dispatch of a message sent to one to the MIG
 * server demux registered for its type; the self traps.
 *
 * Dispatch (mig-defs/README.md, "the kernel's servers are ordinary MIG
 * servers"): the request is received into the kernel's space
 * (ipc_space_kernel) in a kernel buffer, so msgh_local_port is the name of
 * the object's port there, msgh_remote_port the reply right, body rights
 * are names there and out-of-line data kalloc'd buffers.  Each demux
 * registered for the port's type is tried in turn; one that returns TRUE
 * has written the reply.  None: a MIG_BAD_ID reply.  Then the request's
 * destination right is released; if RetCode is an error (not
 * MIG_NO_REPLY) the rights and buffers the request carried are destroyed
 * (a Mach server's duty); on success they belong to the routine, which
 * frees out-of-line buffers with kfree.  The reply is sent from the
 * kernel space (its out-of-line data: kalloc'd buffers, freed when the
 * descriptor says deallocate) and never blocks.
 */
#ifndef IPC_IPC_KOBJECT_H
#define IPC_IPC_KOBJECT_H

#include <mach/boolean.h>
#include <mach/message.h>
#include <stdbool.h>
#include <stddef.h>

#include "ipc/ipc_port.h"

struct ipc_io;
struct ipc_kmsg;
struct ipc_space;
struct task;
struct thread;

typedef boolean_t (*ipc_kobject_demux_t)(mach_msg_header_t *in, mach_msg_header_t *out);

/* Bytes of the reply buffer a demux writes into. */
#define IPC_KOBJECT_REPLY_MAX 8192
/* Demuxes per kernel object type. */
#define IPC_KOBJECT_DEMUX_MAX 4

/* Adds demux for type; false when the table is full or type is out of range. */
bool ipc_kobject_register(enum ipc_kotype type, ipc_kobject_demux_t demux);
/* Removes it again (tests). */
void ipc_kobject_unregister(enum ipc_kotype type, ipc_kobject_demux_t demux);

/* A new port bound to obj with one reference (the binding's); NULL without memory. */
struct ipc_port *ipc_kobject_alloc(enum ipc_kotype type, void *obj);
/* The object dies: its port is destroyed (send rights become dead names) and released. */
void ipc_kobject_destroy(struct ipc_port *port);
/*
 * The object of type behind name (a send right) in space, or NULL: for
 * the server routines.
 */
void *ipc_kobject_lookup(struct ipc_space *space, mach_port_name_t name, enum ipc_kotype type);
/* Gives space a new send right to port; its name, MACH_PORT_NULL on failure. */
mach_port_name_t ipc_kobject_send_right(struct ipc_space *space, struct ipc_port *port);

/*
 * Names in the kernel space that no entry ever has (their indices are
 * past IPC_SPACE_MAX_ENTRIES): in a request served by
 * ipc_kobject_rpc_serve, the request's own port (msgh_local_port as the
 * server sees it) and the reply right (msgh_remote_port).
 */
#define IPC_KOBJECT_NAME_TARGET ((mach_port_name_t)0xfffffe00u)
#define IPC_KOBJECT_NAME_REPLY ((mach_port_name_t)0xfffffd00u)

/*
 * [i] The port behind name, a send right in the kernel space as a server
 * routine sees it (IPC_KOBJECT_NAME_TARGET included), or NULL.  The
 * caller checks active and kotype.
 */
struct ipc_port *ipc_kobject_port(mach_port_name_t name);

/* From ipc_mqueue_send: handles a message to a kernel object's port. */
void ipc_kobject_dispatch(struct ipc_kmsg *kmsg);
/*
 * The same, but the reply (copied in, not yet sent) is returned instead
 * of sent: NULL when there is none (MIG_NO_REPLY, no reply port, or it
 * could not be built).  The caller sends it (ipc_mqueue_send with
 * MACH_SEND_ALWAYS) or hands it to its receiver directly (mach_msg.c).
 */
struct ipc_kmsg *ipc_kobject_serve(struct ipc_kmsg *kmsg);

/* The host's ports: unprivileged (mach_host_self) and privileged. */
struct ipc_port *ipc_host_port(void);
struct ipc_port *ipc_host_priv_port(void);

/* thread's kernel port, made on first use; NULL without memory. */
struct ipc_port *ipc_thread_port(struct thread *thread);

/*
 * Sets task's special port which (TASK_BOOTSTRAP_PORT, _EXCEPTION_PORT,
 * _HOST_PRIV_PORT, _CONSOLE_PORT) to a new send right for port (NULL: none), releasing
 * the previous one.  KERN_INVALID_ARGUMENT for another which.
 */
kern_return_t ipc_task_set_special(struct task *task, int which, struct ipc_port *port);
/* The same, consuming a carried send right ([i]: the ipc lock held). */
kern_return_t ipc_task_set_special_right(struct task *task, int which, struct ipc_port *right);

/*
 * Registers the kernel's MIG servers (mach, mach_port, mach_host) and
 * the exit-status server for the kobject types.  Once, after ipc_init.
 */
void ipc_servers_init(void);

/*
 * boot=mach: task's output to its TASK_CONSOLE_PORT (one message, may
 * block); false if it has none.  No locks held.
 */
bool ipc_task_console_send(struct task *task, const char *s, size_t len);

/* Task and thread hooks (kern/task.c, kern/thread.c). */
kern_return_t ipc_task_init(struct task *task); /* space and task port */
void ipc_task_terminate(struct task *task);     /* every right released, port dead */
void ipc_task_free(struct task *task);          /* the rest, when the struct goes */
void ipc_thread_free(struct thread *thread);    /* its port, if it has one */

/* The traps: a name in the current task's space, or MACH_PORT_NULL. */
mach_port_name_t ipc_trap_task_self(void);
mach_port_name_t ipc_trap_thread_self(void);
mach_port_name_t ipc_trap_host_self(void);
mach_port_name_t ipc_trap_reply_port(void);

#endif
