/*
 * Error codes by name: "KERN_INVALID_ARGUMENT" rather than 4, in kernel
 * messages and test diagnostics (STYLE.md rule 5).  Userland's libmach
 * compiles this same file (userland/Makefrag.am), so the two agree.
 */
#include <mach/kern_return.h>
#include <mach/message.h>
#include <mach/mig_errors.h>
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

#define KR_CASE(x)                                                                                 \
	case x:                                                                                    \
		return #x

/* mach_msg's codes (special bits masked off) and MIG's. */
static const char *kr_ipc_name(kern_return_t kr)
{
	switch (kr & ~MACH_MSG_MASK) {
		KR_CASE(MACH_SEND_INVALID_DATA);
		KR_CASE(MACH_SEND_INVALID_DEST);
		KR_CASE(MACH_SEND_TIMED_OUT);
		KR_CASE(MACH_SEND_INTERRUPTED);
		KR_CASE(MACH_SEND_MSG_TOO_SMALL);
		KR_CASE(MACH_SEND_INVALID_REPLY);
		KR_CASE(MACH_SEND_INVALID_RIGHT);
		KR_CASE(MACH_SEND_INVALID_NOTIFY);
		KR_CASE(MACH_SEND_INVALID_MEMORY);
		KR_CASE(MACH_SEND_NO_BUFFER);
		KR_CASE(MACH_SEND_INVALID_TYPE);
		KR_CASE(MACH_SEND_INVALID_HEADER);
		KR_CASE(MACH_RCV_INVALID_NAME);
		KR_CASE(MACH_RCV_TIMED_OUT);
		KR_CASE(MACH_RCV_TOO_LARGE);
		KR_CASE(MACH_RCV_INTERRUPTED);
		KR_CASE(MACH_RCV_PORT_CHANGED);
		KR_CASE(MACH_RCV_INVALID_NOTIFY);
		KR_CASE(MACH_RCV_INVALID_DATA);
		KR_CASE(MACH_RCV_PORT_DIED);
		KR_CASE(MACH_RCV_IN_SET);
		KR_CASE(MACH_RCV_HEADER_ERROR);
		KR_CASE(MACH_RCV_BODY_ERROR);
	}
	switch (kr) {
		KR_CASE(MIG_TYPE_ERROR);
		KR_CASE(MIG_REPLY_MISMATCH);
		KR_CASE(MIG_REMOTE_ERROR);
		KR_CASE(MIG_BAD_ID);
		KR_CASE(MIG_BAD_ARGUMENTS);
		KR_CASE(MIG_NO_REPLY);
		KR_CASE(MIG_EXCEPTION);
		KR_CASE(MIG_ARRAY_TOO_LARGE);
		KR_CASE(MIG_SERVER_DIED);
		KR_CASE(MIG_DESTROY_REQUEST);
	}
	return NULL;
}

const char *mach_error_name(kern_return_t kr)
{
	const char *ipc = kr_ipc_name(kr);

	if (ipc)
		return ipc;
	if (kr >= 0 && (size_t)kr < sizeof(kr_names) / sizeof(kr_names[0]) && kr_names[kr])
		return kr_names[kr];
	return "KERN_UNKNOWN_ERROR";
}
