/*
 * kern_return_t: the result of every Mach operation a caller can fail.
 * The numbers are GNU Mach's (include/mach/kern_return.h), so a Mach
 * programmer's knowledge and test programs carry over.  Shared with
 * userland: no kernel types here.
 */
#ifndef MACH_KERN_RETURN_H
#define MACH_KERN_RETURN_H

typedef int kern_return_t;

#define KERN_SUCCESS 0
#define KERN_INVALID_ADDRESS 1     /* address not valid or not allocated */
#define KERN_PROTECTION_FAILURE 2  /* address not accessible with that protection */
#define KERN_NO_SPACE 3            /* no room in the address space */
#define KERN_INVALID_ARGUMENT 4    /* an argument is out of range or malformed */
#define KERN_FAILURE 5             /* the operation failed for another reason */
#define KERN_RESOURCE_SHORTAGE 6   /* out of memory or another kernel resource */
#define KERN_NOT_RECEIVER 7        /* the task does not hold the receive right */
#define KERN_NO_ACCESS 8           /* access denied */
#define KERN_MEMORY_FAILURE 9      /* the memory object could not supply data */
#define KERN_MEMORY_ERROR 10       /* an error while accessing the memory */
#define KERN_NOT_IN_SET 12         /* the receive right is not in a port set */
#define KERN_NAME_EXISTS 13        /* the name already denotes a right */
#define KERN_ABORTED 14            /* the operation was aborted */
#define KERN_INVALID_NAME 15       /* the name does not denote a right */
#define KERN_INVALID_TASK 16       /* the target task is not active */
#define KERN_INVALID_RIGHT 17      /* the right is not of the required kind */
#define KERN_INVALID_VALUE 18      /* a blatant range error */
#define KERN_UREFS_OVERFLOW 19     /* user references would overflow */
#define KERN_INVALID_CAPABILITY 20 /* the port is not a valid capability */
#define KERN_RIGHT_EXISTS 21       /* the task already holds a different right */
#define KERN_INVALID_HOST 22       /* not the host port */
#define KERN_MEMORY_PRESENT 23     /* the memory is already present */

_Static_assert(sizeof(kern_return_t) == 4, "kern_return_t is 4 bytes in the ABI");

#endif
