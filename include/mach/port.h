/*
 * Port names and rights, as in Mach (<mach/port.h>), with GNU Mach's
 * values.  Shared with userland.
 *
 * A task names its rights with 32-bit names.  The kernel uses the same
 * mach_port_t: machperf's kernel servers see names, not port pointers
 * (mig-defs/README.md); ipc/ has its own type for a port object.
 */
#ifndef MACH_PORT_H
#define MACH_PORT_H

#include <mach/boolean.h>
#include <mach/vm_types.h>

typedef natural_t mach_port_name_t;
typedef mach_port_name_t mach_port_t;
/* Out-of-line arrays: the address sits 4-aligned in a message (<mach/vm_types.h>). */
typedef mach_port_t *mach_port_array_t __attribute__((aligned(4)));
typedef mach_port_name_t *mach_port_name_array_t __attribute__((aligned(4)));

#define MACH_PORT_NULL ((mach_port_t)0)
#define MACH_PORT_DEAD ((mach_port_t)~0U)
#define MACH_PORT_VALID(name) (((name) != MACH_PORT_NULL) && ((name) != MACH_PORT_DEAD))

/* Kinds of right (mach_port_allocate, mach_port_get_refs, mach_port_mod_refs). */
typedef natural_t mach_port_right_t;

#define MACH_PORT_RIGHT_SEND ((mach_port_right_t)0)
#define MACH_PORT_RIGHT_RECEIVE ((mach_port_right_t)1)
#define MACH_PORT_RIGHT_SEND_ONCE ((mach_port_right_t)2)
#define MACH_PORT_RIGHT_PORT_SET ((mach_port_right_t)3)
#define MACH_PORT_RIGHT_DEAD_NAME ((mach_port_right_t)4)
#define MACH_PORT_RIGHT_NUMBER ((mach_port_right_t)5)

/* What a name denotes (mach_port_type, mach_port_names): a bit per right. */
typedef natural_t mach_port_type_t;
typedef mach_port_type_t *mach_port_type_array_t __attribute__((aligned(4)));

#define MACH_PORT_TYPE(right) ((mach_port_type_t)(1U << ((right) + 16)))
#define MACH_PORT_TYPE_NONE ((mach_port_type_t)0)
#define MACH_PORT_TYPE_SEND MACH_PORT_TYPE(MACH_PORT_RIGHT_SEND)
#define MACH_PORT_TYPE_RECEIVE MACH_PORT_TYPE(MACH_PORT_RIGHT_RECEIVE)
#define MACH_PORT_TYPE_SEND_ONCE MACH_PORT_TYPE(MACH_PORT_RIGHT_SEND_ONCE)
#define MACH_PORT_TYPE_PORT_SET MACH_PORT_TYPE(MACH_PORT_RIGHT_PORT_SET)
#define MACH_PORT_TYPE_DEAD_NAME MACH_PORT_TYPE(MACH_PORT_RIGHT_DEAD_NAME)

#define MACH_PORT_TYPE_SEND_RECEIVE (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE)
#define MACH_PORT_TYPE_SEND_RIGHTS (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE)
#define MACH_PORT_TYPE_PORT_RIGHTS (MACH_PORT_TYPE_SEND_RIGHTS | MACH_PORT_TYPE_RECEIVE)
#define MACH_PORT_TYPE_PORT_OR_DEAD (MACH_PORT_TYPE_PORT_RIGHTS | MACH_PORT_TYPE_DEAD_NAME)
#define MACH_PORT_TYPE_ALL_RIGHTS (MACH_PORT_TYPE_PORT_OR_DEAD | MACH_PORT_TYPE_PORT_SET)

/* Flags in a mach_port_type_t: a dead-name request is registered. */
#define MACH_PORT_TYPE_DNREQUEST 0x80000000U
#define MACH_PORT_TYPE_MAREQUEST 0x40000000U
#define MACH_PORT_TYPE_COMPAT 0x20000000U

/* User references. */
typedef natural_t mach_port_urefs_t;
typedef integer_t mach_port_delta_t;

#define MACH_PORT_UREFS_MAX ((mach_port_urefs_t)((1U << 16) - 1))
#define MACH_PORT_UREFS_OVERFLOW(urefs, delta)                                                     \
	(((delta) > 0) &&                                                                          \
	 ((((urefs) + (delta)) <= (urefs)) || (((urefs) + (delta)) > MACH_PORT_UREFS_MAX)))
#define MACH_PORT_UREFS_UNDERFLOW(urefs, delta) (((delta) < 0) && (-(delta) > (urefs)))

/* Receive-right attributes. */
typedef natural_t mach_port_seqno_t;
typedef natural_t mach_port_mscount_t;
typedef natural_t mach_port_msgcount_t;
typedef natural_t mach_port_rights_t;

#define MACH_PORT_MSCOUNT_MAX ((mach_port_mscount_t)-1)
#define MACH_PORT_QLIMIT_DEFAULT ((mach_port_msgcount_t)5)
#define MACH_PORT_QLIMIT_MAX ((mach_port_msgcount_t)16)

_Static_assert(sizeof(mach_port_t) == 4, "port names are 32 bits in the ABI");
_Static_assert(sizeof(mach_port_name_t) == 4, "port names are 32 bits in the ABI");

#endif
