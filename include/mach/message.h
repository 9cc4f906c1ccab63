/*
 * Mach IPC messages (<mach/message.h>): the header, the type descriptors
 * that precede every datum in a body, the mach_msg options and return
 * codes.  Names and values are GNU Mach's; the layout is the one GNU MIG
 * 1.8 generates stubs for on x86_64, fixed by the _Static_asserts below
 * and checked against MIG by configure and tests/host/test_mig_layout.c.
 * Shared with userland.
 *
 * A message, as the kernel parses it:
 *
 *   offset size
 *        0    4 msgh_bits         MACH_MSGH_BITS(remote, local) | COMPLEX
 *        4    4 msgh_size         bytes, header included; a multiple of 4
 *        8    8 msgh_remote_port  destination name (low 4 bytes; 4 bytes pad)
 *       16    8 msgh_local_port   reply name (low 4 bytes), or on receive
 *                                 the 8-byte protected payload
 *       24    4 msgh_seqno
 *       28    4 msgh_id
 *       32      body: (descriptor, data) pairs, each 4-byte aligned
 *
 * Body items:
 *   mach_msg_type_t       4 bytes: name:8 size:8 number:12 inline:1
 *                         longform:1 deallocate:1 unused:1 (LSB first)
 *   mach_msg_type_long_t 12 bytes: that word with longform set (its name,
 *                         size and number zero), u16 name, u16 size
 *                         (bits), u32 number
 *   then, if inline, number * size bits of data rounded up to 4 bytes
 *   (a port right is a 32-bit name); if out of line, an 8-byte address
 *   (at offset 4 mod 8 when the descriptor is short: bodies are packed
 *   to 4 bytes).  MIG uses the long form for out-of-line and unbounded
 *   arrays and from 4096 elements on.
 */
#ifndef MACH_MESSAGE_H
#define MACH_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include <mach/kern_return.h>
#include <mach/port.h>

/* Timeouts, in milliseconds (MACH_SEND_TIMEOUT, MACH_RCV_TIMEOUT). */
typedef natural_t mach_msg_timeout_t;

#define MACH_MSG_TIMEOUT_NONE ((mach_msg_timeout_t)0)

/* msgh_bits: the dispositions of the two header ports, and flags. */
typedef unsigned int mach_msg_bits_t;
typedef unsigned int mach_msg_size_t;
typedef natural_t mach_msg_seqno_t;
typedef integer_t mach_msg_id_t;

#define MACH_MSGH_BITS_ZERO 0x00000000U
#define MACH_MSGH_BITS_REMOTE_MASK 0x000000ffU
#define MACH_MSGH_BITS_LOCAL_MASK 0x0000ff00U
#define MACH_MSGH_BITS_COMPLEX 0x80000000U       /* the body holds rights or OOL data */
#define MACH_MSGH_BITS_CIRCULAR 0x40000000U      /* internal use only */
#define MACH_MSGH_BITS_COMPLEX_PORTS 0x20000000U /* internal use only */
#define MACH_MSGH_BITS_COMPLEX_DATA 0x10000000U  /* internal use only */
#define MACH_MSGH_BITS_MIGRATED 0x08000000U      /* internal use only */
#define MACH_MSGH_BITS_UNUSED 0x07ff0000U

#define MACH_MSGH_BITS_PORTS_MASK (MACH_MSGH_BITS_REMOTE_MASK | MACH_MSGH_BITS_LOCAL_MASK)

#define MACH_MSGH_BITS(remote, local) ((remote) | ((local) << 8))
#define MACH_MSGH_BITS_REMOTE(bits) ((bits)&MACH_MSGH_BITS_REMOTE_MASK)
#define MACH_MSGH_BITS_LOCAL(bits) (((bits)&MACH_MSGH_BITS_LOCAL_MASK) >> 8)
#define MACH_MSGH_BITS_PORTS(bits) ((bits)&MACH_MSGH_BITS_PORTS_MASK)
#define MACH_MSGH_BITS_OTHER(bits) ((bits) & ~MACH_MSGH_BITS_PORTS_MASK)

/*
 * The header.  Each port field is 8 bytes wide: the name is the low
 * half, and on receive the local field may instead carry the receive
 * right's 8-byte protected payload (MACH_MSG_TYPE_PROTECTED_PAYLOAD).
 */
typedef struct mach_msg_header {
	mach_msg_bits_t msgh_bits;
	mach_msg_size_t msgh_size;
	union {
		mach_port_t msgh_remote_port;
		uint64_t msgh_remote_port_do_not_use; /* width only */
	};
	union {
		mach_port_t msgh_local_port;
		uint64_t msgh_protected_payload;
	};
	mach_msg_seqno_t msgh_seqno;
	mach_msg_id_t msgh_id;
} mach_msg_header_t;

#define MACH_MSG_SIZE_MAX ((mach_msg_size_t)~0U)

/* Type descriptors. */
typedef unsigned int mach_msg_type_name_t;
typedef unsigned int mach_msg_type_size_t;
typedef natural_t mach_msg_type_number_t;

typedef struct {
	unsigned int msgt_name : 8, /* MACH_MSG_TYPE_* */
	    msgt_size : 8,          /* bits per element */
	    msgt_number : 12,       /* elements */
	    msgt_inline : 1,        /* data follows, else an address */
	    msgt_longform : 1,      /* this is a mach_msg_type_long_t */
	    msgt_deallocate : 1,    /* OOL: the sender's copy is removed */
	    msgt_unused : 1;        /* must be zero */
} mach_msg_type_t;

typedef struct {
	mach_msg_type_t msgtl_header;
	unsigned short msgtl_name;
	unsigned short msgtl_size;
	natural_t msgtl_number;
} mach_msg_type_long_t;

/* msgt_name values: data. */
#define MACH_MSG_TYPE_UNSTRUCTURED 0
#define MACH_MSG_TYPE_BIT 0
#define MACH_MSG_TYPE_BOOLEAN 0
#define MACH_MSG_TYPE_INTEGER_16 1
#define MACH_MSG_TYPE_INTEGER_32 2
#define MACH_MSG_TYPE_CHAR 8
#define MACH_MSG_TYPE_BYTE 9
#define MACH_MSG_TYPE_INTEGER_8 9
#define MACH_MSG_TYPE_REAL 10
#define MACH_MSG_TYPE_INTEGER_64 11
#define MACH_MSG_TYPE_STRING 12
#define MACH_MSG_TYPE_STRING_C 12

/* msgt_name values: what a sender does with a right (dispositions). */
#define MACH_MSG_TYPE_MOVE_RECEIVE 16   /* must hold the receive right */
#define MACH_MSG_TYPE_MOVE_SEND 17      /* must hold a send right */
#define MACH_MSG_TYPE_MOVE_SEND_ONCE 18 /* must hold a send-once right */
#define MACH_MSG_TYPE_COPY_SEND 19      /* must hold a send right */
#define MACH_MSG_TYPE_MAKE_SEND 20      /* must hold the receive right */
#define MACH_MSG_TYPE_MAKE_SEND_ONCE 21 /* must hold the receive right */

/* msgt_name values: what a receiver gets. */
#define MACH_MSG_TYPE_PORT_NAME 15 /* a name, uninterpreted: no right moves */
#define MACH_MSG_TYPE_PORT_RECEIVE MACH_MSG_TYPE_MOVE_RECEIVE
#define MACH_MSG_TYPE_PORT_SEND MACH_MSG_TYPE_MOVE_SEND
#define MACH_MSG_TYPE_PORT_SEND_ONCE MACH_MSG_TYPE_MOVE_SEND_ONCE

#define MACH_MSG_TYPE_PROTECTED_PAYLOAD 23
#define MACH_MSG_TYPE_LAST 23

/* Filled in at run time (MIG's polymorphic arguments). */
#define MACH_MSG_TYPE_POLYMORPHIC ((mach_msg_type_name_t)-1)

#define MACH_MSG_TYPE_PORT_ANY(x)                                                                  \
	(((x) >= MACH_MSG_TYPE_MOVE_RECEIVE) && ((x) <= MACH_MSG_TYPE_MAKE_SEND_ONCE))
#define MACH_MSG_TYPE_PORT_ANY_SEND(x)                                                             \
	(((x) >= MACH_MSG_TYPE_MOVE_SEND) && ((x) <= MACH_MSG_TYPE_MAKE_SEND_ONCE))
#define MACH_MSG_TYPE_PORT_ANY_RIGHT(x)                                                            \
	(((x) >= MACH_MSG_TYPE_MOVE_RECEIVE) && ((x) <= MACH_MSG_TYPE_MOVE_SEND_ONCE))

/* mach_msg options. */
typedef integer_t mach_msg_option_t;

#define MACH_MSG_OPTION_NONE 0x00000000

#define MACH_SEND_MSG 0x00000001
#define MACH_RCV_MSG 0x00000002

#define MACH_SEND_TIMEOUT 0x00000010
#define MACH_SEND_NOTIFY 0x00000020
#define MACH_SEND_INTERRUPT 0x00000040 /* libmach implements */
#define MACH_SEND_CANCEL 0x00000080
#define MACH_RCV_TIMEOUT 0x00000100
#define MACH_RCV_NOTIFY 0x00000200
#define MACH_RCV_INTERRUPT 0x00000400 /* libmach implements */
#define MACH_RCV_LARGE 0x00000800

#define MACH_SEND_ALWAYS 0x00010000 /* internal use only */

/*
 * mach_msg return codes (a kern_return_t): IPC errors are system 4, send
 * errors subsystem 0, receive errors subsystem 1.  Header and body
 * errors carry the MACH_MSG_* special bits in MACH_MSG_MASK.
 */
typedef kern_return_t mach_msg_return_t;

#define MACH_MSG_SUCCESS 0x00000000

#define MACH_MSG_MASK 0x00003c00
#define MACH_MSG_IPC_SPACE 0x00002000  /* no room in the IPC name space for a name */
#define MACH_MSG_VM_SPACE 0x00001000   /* no room in the address space for OOL memory */
#define MACH_MSG_IPC_KERNEL 0x00000800 /* kernel resource shortage handling a right */
#define MACH_MSG_VM_KERNEL 0x00000400  /* kernel resource shortage handling OOL memory */

#define MACH_SEND_IN_PROGRESS 0x10000001        /* internal use only */
#define MACH_SEND_INVALID_DATA 0x10000002       /* bogus in-line data */
#define MACH_SEND_INVALID_DEST 0x10000003       /* bogus destination port */
#define MACH_SEND_TIMED_OUT 0x10000004          /* not sent before the timeout */
#define MACH_SEND_WILL_NOTIFY 0x10000005        /* msg-accepted notification will come */
#define MACH_SEND_NOTIFY_IN_PROGRESS 0x10000006 /* msg-accepted notification pending */
#define MACH_SEND_INTERRUPTED 0x10000007        /* software interrupt */
#define MACH_SEND_MSG_TOO_SMALL 0x10000008      /* not even a complete header */
#define MACH_SEND_INVALID_REPLY 0x10000009      /* bogus reply port */
#define MACH_SEND_INVALID_RIGHT 0x1000000a      /* bogus port right in the body */
#define MACH_SEND_INVALID_NOTIFY 0x1000000b     /* bogus notify port */
#define MACH_SEND_INVALID_MEMORY 0x1000000c     /* invalid out-of-line memory pointer */
#define MACH_SEND_NO_BUFFER 0x1000000d          /* no message buffer available */
#define MACH_SEND_NO_NOTIFY 0x1000000e          /* cannot request msg-accepted notification */
#define MACH_SEND_INVALID_TYPE 0x1000000f       /* invalid type descriptor */
#define MACH_SEND_INVALID_HEADER 0x10000010     /* a header field had a bad value */

#define MACH_RCV_IN_PROGRESS 0x10004001    /* internal use only */
#define MACH_RCV_INVALID_NAME 0x10004002   /* bogus name for the receive port or set */
#define MACH_RCV_TIMED_OUT 0x10004003      /* no message before the timeout */
#define MACH_RCV_TOO_LARGE 0x10004004      /* the buffer is too small for the message */
#define MACH_RCV_INTERRUPTED 0x10004005    /* software interrupt */
#define MACH_RCV_PORT_CHANGED 0x10004006   /* the port moved into a set meanwhile */
#define MACH_RCV_INVALID_NOTIFY 0x10004007 /* bogus notify port */
#define MACH_RCV_INVALID_DATA 0x10004008   /* bogus buffer for in-line data */
#define MACH_RCV_PORT_DIED 0x10004009      /* the port or set died meanwhile */
#define MACH_RCV_IN_SET 0x1000400a         /* the port is in a port set */
#define MACH_RCV_HEADER_ERROR 0x1000400b   /* error receiving the header (special bits) */
#define MACH_RCV_BODY_ERROR 0x1000400c     /* error receiving the body (special bits) */

/*
 * mach_msg: send and/or receive (option), as libmach's wrapper around
 * the trap, which retries interrupted calls.  The same prototype in the
 * kernel is for RPCs the kernel itself would make through MIG user stubs.
 */
mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
                           mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                           mach_port_t rcv_name, mach_msg_timeout_t timeout, mach_port_t notify);

#ifndef KERNEL
/* The trap itself, -25 (<mach/syscall_sw.h>). */
mach_msg_return_t mach_msg_trap(mach_msg_header_t *msg, mach_msg_option_t option,
                                mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                                mach_port_t rcv_name, mach_msg_timeout_t timeout,
                                mach_port_t notify);
#endif

_Static_assert(sizeof(mach_msg_header_t) == 32, "mach_msg_header_t: 32 bytes, as MIG assumes");
_Static_assert(_Alignof(mach_msg_header_t) == 8, "mach_msg_header_t: 8-aligned");
_Static_assert(offsetof(mach_msg_header_t, msgh_bits) == 0, "msgh_bits");
_Static_assert(offsetof(mach_msg_header_t, msgh_size) == 4, "msgh_size");
_Static_assert(offsetof(mach_msg_header_t, msgh_remote_port) == 8, "msgh_remote_port");
_Static_assert(offsetof(mach_msg_header_t, msgh_local_port) == 16, "msgh_local_port");
_Static_assert(offsetof(mach_msg_header_t, msgh_protected_payload) == 16, "payload");
_Static_assert(offsetof(mach_msg_header_t, msgh_seqno) == 24, "msgh_seqno");
_Static_assert(offsetof(mach_msg_header_t, msgh_id) == 28, "msgh_id");
_Static_assert(sizeof(mach_msg_type_t) == 4 && _Alignof(mach_msg_type_t) == 4,
               "mach_msg_type_t: one 4-byte word");
_Static_assert(sizeof(mach_msg_type_long_t) == 12 && _Alignof(mach_msg_type_long_t) == 4,
               "mach_msg_type_long_t: 12 bytes");
_Static_assert(offsetof(mach_msg_type_long_t, msgtl_name) == 4, "msgtl_name");
_Static_assert(offsetof(mach_msg_type_long_t, msgtl_size) == 6, "msgtl_size");
_Static_assert(offsetof(mach_msg_type_long_t, msgtl_number) == 8, "msgtl_number");
_Static_assert(sizeof(mach_msg_return_t) == 4, "mach_msg_return_t");

#endif
