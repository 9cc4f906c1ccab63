/*
 * Error codes by name: "KERN_INVALID_ARGUMENT" rather than 4, in kernel
 * messages and test diagnostics (STYLE.md rule 5).  Userland's libmach
 * compiles this same file (userland/Makefrag.am), so the two agree.
 */
#include <mach/kern_return.h>
#include <stddef.h>

#include "kern/kern_return.h"

#define KR_NAME(x) [x] = #x

static const char *const kr_names[] = {
	KR_NAME(KERN_SUCCESS),
	KR_NAME(KERN_INVALID_ADDRESS),
	KR_NAME(KERN_PROTECTION_FAILURE),
	KR_NAME(KERN_NO_SPACE),
	KR_NAME(KERN_INVALID_ARGUMENT),
	KR_NAME(KERN_FAILURE),
	KR_NAME(KERN_RESOURCE_SHORTAGE),
	KR_NAME(KERN_NOT_RECEIVER),
	KR_NAME(KERN_NO_ACCESS),
	KR_NAME(KERN_MEMORY_FAILURE),
	KR_NAME(KERN_MEMORY_ERROR),
	KR_NAME(KERN_NOT_IN_SET),
	KR_NAME(KERN_NAME_EXISTS),
	KR_NAME(KERN_ABORTED),
	KR_NAME(KERN_INVALID_NAME),
	KR_NAME(KERN_INVALID_TASK),
	KR_NAME(KERN_INVALID_RIGHT),
	KR_NAME(KERN_INVALID_VALUE),
	KR_NAME(KERN_UREFS_OVERFLOW),
	KR_NAME(KERN_INVALID_CAPABILITY),
	KR_NAME(KERN_RIGHT_EXISTS),
	KR_NAME(KERN_INVALID_HOST),
	KR_NAME(KERN_MEMORY_PRESENT),
};

const char *mach_error_name(kern_return_t kr)
{
	if (kr >= 0 && (size_t)kr < sizeof(kr_names) / sizeof(kr_names[0]) && kr_names[kr])
		return kr_names[kr];
	return "KERN_UNKNOWN_ERROR";
}
