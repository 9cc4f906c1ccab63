/*
 * Port name spaces: what a task's 32-bit port names denote.
 *
 * A space is a table of entries.  A name is (index << 8) | generation:
 * index 0 is never used (MACH_PORT_NULL), and a slot's generation
 * advances each time it is freed, so a stale name does not silently
 * denote the slot's next right.  Index 0xffffff is never reached
 * (MACH_PORT_DEAD is all ones).
 *
 * Per name: a receive right and/or send rights for one port (the send
 * rights counted in user references), or one send-once right, or a port
 * set, or a dead name (with user references).  A port has at most one
 * name in a space for its receive and send rights together; every
 * send-once right gets a name of its own.  All of it is guarded by the
 * ipc lock (ipc/ipc_port.h); functions marked [i] expect it held.
 */
#ifndef IPC_IPC_SPACE_H
#define IPC_IPC_SPACE_H

#include <mach/message.h>
#include <mach/port.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc_port.h"

#define IPC_SPACE_MAX_ENTRIES 65536u /* names per space */

struct ipc_entry {
	void *object;          /* struct ipc_port * or struct ipc_pset *; NULL: dead name or free */
	mach_port_type_t type; /* MACH_PORT_TYPE_* rights; NONE: free */
	uint32_t urefs;        /* send or dead-name user references; 1 for send-once */
	uint32_t gen;          /* generation, low 8 bits of the name */
	uint32_t next_free;    /* free list (index) */
	bool dnrequest;        /* a dead-name request for this name is registered on the port */
};

struct ipc_space {
	bool active;
	bool kernel; /* the kernel's space (kobject servers) */
	struct ipc_entry *table;
	uint32_t size;      /* slots in table */
	uint32_t free_head; /* first free slot, 0: none */
	uint32_t nused;
	uint32_t hiwater; /* 1 + highest index ever handed out: the slots above are free */
};

/* The kernel's own space: kernel servers receive requests and reply from it. */
extern struct ipc_space *ipc_space_kernel;

/* A new empty space; KERN_RESOURCE_SHORTAGE. */
kern_return_t ipc_space_create(struct ipc_space **out);
/* Releases every right in space (task termination); it stays, empty and inactive. */
void ipc_space_terminate(struct ipc_space *space);
/* Terminates (if not yet) and frees. */
void ipc_space_destroy(struct ipc_space *space);

#define IE_INDEX(name) ((name) >> 8)
#define IE_GEN(name) ((name)&0xffu)

/* [i] ipc_entry_lookup's slow half: a send right whose port died becomes a dead name. */
void ipc_entry_check_dead(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *e);

/*
 * [i] The entry name denotes (after turning a dead port into a dead
 * name), or NULL.  Inline: every right a message carries is looked up.
 */
static inline __attribute__((always_inline)) struct ipc_entry *
ipc_entry_lookup(struct ipc_space *space, mach_port_name_t name)
{
	uint32_t index = IE_INDEX(name);

	if (!space->active || index == 0 || index >= space->size)
		return NULL;
	struct ipc_entry *e = &space->table[index];

	if (e->type == MACH_PORT_TYPE_NONE || e->gen != IE_GEN(name))
		return NULL;
	if ((e->type & MACH_PORT_TYPE_SEND_RIGHTS) && !(e->type & MACH_PORT_TYPE_RECEIVE) &&
	    !((struct ipc_port *)e->object)->active)
		ipc_entry_check_dead(space, name, e);
	return e;
}
/* [i] A new free entry; KERN_NO_SPACE or KERN_RESOURCE_SHORTAGE. */
kern_return_t ipc_entry_alloc(struct ipc_space *space, mach_port_name_t *namep,
                              struct ipc_entry **entryp);
/* [i] The free entry for exactly name; KERN_NAME_EXISTS, KERN_NO_SPACE, KERN_RESOURCE_SHORTAGE. */
kern_return_t ipc_entry_alloc_name(struct ipc_space *space, mach_port_name_t name,
                                   struct ipc_entry **entryp);
/* [i] Frees an entry whose rights are gone. */
void ipc_entry_free(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *entry);
/* [i] The name of port's receive/send entry in space, or MACH_PORT_NULL. */
mach_port_name_t ipc_entry_find_port(struct ipc_space *space, struct ipc_port *port);

/*
 * [i] Takes a right out of space as a message would carry it: disposition
 * is MACH_MSG_TYPE_MOVE_RECEIVE .. MAKE_SEND_ONCE.  *portp gets the port
 * (with a reference and the right counted) or IP_DEAD for a dead name
 * when deadok; *typep the carried type (MACH_MSG_TYPE_PORT_*).
 * KERN_INVALID_NAME: name denotes nothing; KERN_INVALID_RIGHT: not the
 * right the disposition needs; KERN_INVALID_VALUE: bad disposition.
 */
kern_return_t ipc_right_copyin(struct ipc_space *space, mach_port_name_t name,
                               mach_msg_type_name_t disposition, bool deadok,
                               struct ipc_port **portp, mach_msg_type_name_t *typep);
/* [i] ipc_right_copyin with name's entry already looked up (ipc_entry_lookup; may be NULL). */
kern_return_t ipc_right_copyin_entry(struct ipc_space *space, mach_port_name_t name,
                                     struct ipc_entry *entry, mach_msg_type_name_t disposition,
                                     bool deadok, struct ipc_port **portp,
                                     mach_msg_type_name_t *typep);
/* [i] ipc_right_copyin_check on a looked-up entry (may be NULL). */
kern_return_t ipc_right_copyin_check_entry(struct ipc_entry *entry,
                                           mach_msg_type_name_t disposition, bool deadok);
/* [i] Whether ipc_right_copyin would succeed (changes nothing). */
kern_return_t ipc_right_copyin_check(struct ipc_space *space, mach_port_name_t name,
                                     mach_msg_type_name_t disposition, bool deadok);
/*
 * [i] Puts a carried right (type MACH_MSG_TYPE_PORT_*) into space and
 * returns its name; NULL and IP_DEAD give MACH_PORT_NULL/DEAD, a port that
 * died in transit gives MACH_PORT_DEAD (the right is released).  When
 * space has no room the right is released: KERN_NO_SPACE (or
 * KERN_UREFS_OVERFLOW: the surplus send right is dropped) with *namep set
 * to what the receiver should see.
 */
kern_return_t ipc_right_copyout(struct ipc_space *space, struct ipc_port *port,
                                mach_msg_type_name_t type, mach_port_name_t *namep);
/* [i] Destroys every right name denotes (mach_port_destroy) and frees it. */
void ipc_right_destroy(struct ipc_space *space, mach_port_name_t name, struct ipc_entry *entry);
/* [i] Cancels the dead-name request for name; returns its send-once right or NULL. */
struct ipc_port *ipc_right_dncancel(struct ipc_space *space, mach_port_name_t name,
                                    struct ipc_entry *entry);

/* Spaces in existence (leak checks). */
unsigned ipc_space_count(void);

#endif
