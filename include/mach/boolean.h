/*
 * boolean_t, as in Mach (<mach/boolean.h>): a 4-byte integer in messages
 * (MACH_MSG_TYPE_BOOLEAN, 32 bits).  Shared with userland.
 */
#ifndef MACH_BOOLEAN_H
#define MACH_BOOLEAN_H

typedef int boolean_t;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

_Static_assert(sizeof(boolean_t) == 4, "boolean_t is 4 bytes in the ABI");

#endif
