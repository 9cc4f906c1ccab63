/*
 * MIG return codes and the reply every MIG server can send
 * (<mach/mig_errors.h>), with GNU Mach's values.  Shared with userland.
 */
#ifndef MACH_MIG_ERRORS_H
#define MACH_MIG_ERRORS_H

#include <mach/kern_return.h>
#include <mach/message.h>

#define MIG_TYPE_ERROR -300      /* a type descriptor did not match */
#define MIG_REPLY_MISMATCH -301  /* the reply's id was not request id + 100 */
#define MIG_REMOTE_ERROR -302    /* the server detected an error */
#define MIG_BAD_ID -303          /* no routine has this request id */
#define MIG_BAD_ARGUMENTS -304   /* the request's size or types were wrong */
#define MIG_NO_REPLY -305        /* the server sends no reply now */
#define MIG_EXCEPTION -306       /* the server raised an exception */
#define MIG_ARRAY_TOO_LARGE -307 /* an array did not fit the caller's buffer */
#define MIG_SERVER_DIED -308     /* the server died: send-once notification instead */
#define MIG_DESTROY_REQUEST -309 /* the server destroyed the request */

/*
 * A reply that carries only a return code (errors, and routines without
 * out arguments): 40 bytes.
 */
typedef struct {
	mach_msg_header_t Head;
	mach_msg_type_t RetCodeType;
	kern_return_t RetCode;
} mig_reply_header_t;

/* One server routine: decodes the request, calls the implementation, encodes the reply. */
typedef void (*mig_routine_t)(mach_msg_header_t *in, mach_msg_header_t *out);

/* The -s symbol table of a server. */
typedef struct mig_symtab {
	const char *ms_routine_name;
	int ms_routine_number;
	void (*ms_routine)(void);
} mig_symtab_t;

_Static_assert(sizeof(mig_reply_header_t) == 40, "mig_reply_header_t: 40 bytes");
_Static_assert(offsetof(mig_reply_header_t, RetCodeType) == 32, "RetCodeType");
_Static_assert(offsetof(mig_reply_header_t, RetCode) == 36, "RetCode");

#endif
