/*
 * The standard Mach interface types (<mach/std_types.h>): everything a
 * .defs file's basic types map to.  Shared with userland.
 */
#ifndef MACH_STD_TYPES_H
#define MACH_STD_TYPES_H

#include <mach/boolean.h>
#include <mach/kern_return.h>
#include <mach/port.h>
#include <mach/vm_types.h>

#endif
