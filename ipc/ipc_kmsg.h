/*
 * Messages in the kernel (kmsgs): copyin from a sender, copyout to a
 * receiver, destruction.  The design note is at the top of ipc_kmsg.c.
 */
#ifndef IPC_IPC_KMSG_H
#define IPC_IPC_KMSG_H

#include <mach/message.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipc_port;
struct ipc_space;
struct vm_map;

/* Largest message (send_size); bigger: MACH_SEND_NO_BUFFER, as when kalloc fails. */
#define IPC_KMSG_MAX_SIZE (1024u * 1024u)
/* Largest out-of-line region per descriptor; bigger: MACH_SEND_NO_BUFFER. */
#define IPC_OOL_MAX_SIZE (64ul * 1024 * 1024)

enum ipc_kitem_kind {
	IK_PORTS,     /* inline rights: their slots in the body hold names */
	IK_OOL,       /* out-of-line data: the 8-byte slot holds an address */
	IK_OOL_PORTS, /* out-of-line array of rights */
};

/* One body item that needs translation: rights and out-of-line memory. */
struct ipc_kitem {
	uint32_t off;            /* of the datum (names or address) in the message */
	uint32_t doff;           /* of its descriptor */
	uint8_t kind;            /* enum ipc_kitem_kind */
	uint8_t type;            /* rights: the disposition, then the carried type */
	bool longform;           /* the descriptor is a mach_msg_type_long_t */
	bool dealloc;            /* the sender's region goes once the message is in */
	uint32_t count;          /* rights */
	size_t size;             /* out-of-line bytes */
	uintptr_t src;           /* the sender's out-of-line address */
	struct ipc_port **ports; /* count rights (kalloc'd) */
	mach_port_name_t *names; /* out-of-line rights: their names, while translated */
	void **pages;            /* out-of-line data: PAGE_SIZE pieces (kalloc'd) */
};

struct ipc_kmsg {
	struct ipc_kmsg *next;   /* [i] queue */
	mach_msg_size_t size;    /* bytes of msg */
	struct ipc_port *remote; /* destination right */
	mach_msg_type_name_t remote_type;
	struct ipc_port *local; /* reply right, or NULL */
	mach_msg_type_name_t local_type;
	uint32_t nitems;
	struct ipc_kitem *items;
	bool circular;         /* carries the receive right of its own destination chain */
	mach_msg_header_t msg; /* then the body: size bytes in all */
};

/*
 * Where a message comes from or goes to: a space, and either the user
 * address space loaded on this CPU (map: out-of-line memory is allocated
 * in it) or kernel buffers (map NULL: out-of-line regions are kalloc'd
 * buffers, given up with kfree when a descriptor says deallocate).
 */
struct ipc_io {
	struct ipc_space *space;
	struct vm_map *map;
	bool kern;
};

/* Writes n bytes to dst in io's memory (user: copyout; KERN_INVALID_ADDRESS). */
kern_return_t ipc_io_write(const struct ipc_io *io, const void *src, uintptr_t dst, size_t n);

/* A kmsg for size bytes (header included), uninitialised; NULL when out of memory. */
struct ipc_kmsg *ipc_kmsg_alloc(mach_msg_size_t size);
/* Frees the memory only (the rights must be gone). */
void ipc_kmsg_free(struct ipc_kmsg *kmsg);
/* [i] Releases every right and page the message holds, then frees it. */
void ipc_kmsg_destroy(struct ipc_kmsg *kmsg);
/* The same without the lock held. */
void ipc_kmsg_destroy_unlocked(struct ipc_kmsg *kmsg);

/*
 * Reads a message of size bytes from msg (user or kernel memory as io
 * says): MACH_SEND_MSG_TOO_SMALL (smaller than a header, or not a
 * multiple of 4), MACH_SEND_NO_BUFFER (too big, no memory),
 * MACH_SEND_INVALID_DATA (unreadable).
 */
mach_msg_return_t ipc_kmsg_get(const struct ipc_io *io, uintptr_t msg, mach_msg_size_t size,
                               struct ipc_kmsg **out);
/*
 * Translates the header and body rights and copies out-of-line memory
 * in.  On failure everything taken so far is released and the kmsg is
 * freed.  Codes: MACH_SEND_INVALID_HEADER, _DEST, _REPLY, _RIGHT, _TYPE,
 * MACH_SEND_MSG_TOO_SMALL (a descriptor overruns), MACH_SEND_INVALID_MEMORY,
 * MACH_SEND_NO_BUFFER.
 */
mach_msg_return_t ipc_kmsg_copyin(const struct ipc_io *io, struct ipc_kmsg *kmsg);
/*
 * Gives the message's rights and memory to io's space and writes it to
 * msg; frees the kmsg.  seqno goes to msgh_seqno.  pseudo: a message
 * that could not be sent goes back to its sender (header not swapped).
 * MACH_RCV_INVALID_DATA if msg cannot be written (the rights stay in the
 * space; the message is lost), MACH_RCV_BODY_ERROR with MACH_MSG_* bits.
 */
mach_msg_return_t ipc_kmsg_copyout(const struct ipc_io *io, struct ipc_kmsg *kmsg, uintptr_t msg,
                                   mach_port_seqno_t seqno, bool pseudo);

/* Messages (kmsgs) in existence. */
unsigned ipc_kmsg_count(void);

#endif
