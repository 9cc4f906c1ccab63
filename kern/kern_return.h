/* Kernel-side helpers for kern_return_t (the codes are in <mach/kern_return.h>). */
#ifndef KERN_KERN_RETURN_H
#define KERN_KERN_RETURN_H

#include <mach/kern_return.h>

/* "KERN_INVALID_ARGUMENT" for 4; "KERN_UNKNOWN_ERROR" for a code with no name. */
const char *mach_error_name(kern_return_t kr);

#endif
