/* kern_return_t codes by name, for diagnostics (STYLE.md rule 5). */
#ifndef MACH_MACH_ERROR_H
#define MACH_MACH_ERROR_H

#include <mach/kern_return.h>

/* "KERN_INVALID_ARGUMENT" for 4; "KERN_UNKNOWN_ERROR" for a code with no name. */
const char *mach_error_name(kern_return_t kr);

#endif
