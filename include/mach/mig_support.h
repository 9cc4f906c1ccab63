/*
 * What MIG-generated code calls besides mach_msg (<mach/mig_support.h>).
 * User side: userland/libmach/mig_support.c.  The kernel's servers are
 * generated the same way; of these they need only memcpy (kern/string.c).
 */
#ifndef MACH_MIG_SUPPORT_H
#define MACH_MIG_SUPPORT_H

#include <stddef.h>

#include <mach/message.h>
#include <mach/port.h>
#include <mach/vm_types.h>

#ifdef KERNEL
void *memcpy(void *dst, const void *src, size_t n);
#else
#include <string.h>
#endif

#ifndef KERNEL
/*
 * The reply-port cache's slots (userland/libmach/mig_support.c) and its
 * slow halves.  Every stub takes a port and gives it back, so the first
 * slot is tried inline: one exchange each way on the common path.
 */
extern mach_port_t __mig_reply_cache[];
mach_port_t __mig_get_reply_port_slow(void);
void __mig_put_reply_port_slow(mach_port_t port);

/* A receive right for replies: the caller's cached one, or a new one. */
static inline mach_port_t mig_get_reply_port(void)
{
	mach_port_t port =
	    __atomic_exchange_n(&__mig_reply_cache[0], MACH_PORT_NULL, __ATOMIC_ACQUIRE);

	return port != MACH_PORT_NULL ? port : __mig_get_reply_port_slow();
}

/* Gives back a port mig_get_reply_port returned, after a successful RPC. */
static inline void mig_put_reply_port(mach_port_t port)
{
	mach_port_t empty = MACH_PORT_NULL;

	if (!MACH_PORT_VALID(port) ||
	    !__atomic_compare_exchange_n(&__mig_reply_cache[0], &empty, port, 0, __ATOMIC_RELEASE,
	                                 __ATOMIC_RELAXED))
		__mig_put_reply_port_slow(port);
}
#else
/* Declared for the generated user stubs the kernel build compiles (and never links). */
mach_port_t mig_get_reply_port(void);
void mig_put_reply_port(mach_port_t port);
#endif
/* Destroys a reply port whose state is unknown (the RPC failed). */
void mig_dealloc_reply_port(mach_port_t port);

/* Memory for unbounded arrays: anywhere in the caller's address space. */
void mig_allocate(vm_address_t *addr, vm_size_t size);
void mig_deallocate(vm_address_t addr, vm_size_t size);

/*
 * Copies src into the len-byte buffer dst, truncated to len - 1
 * characters and always NUL-terminated (if len > 0); returns strlen(dst).
 */
vm_size_t mig_strncpy(char *dst, const char *src, vm_size_t len);

#endif
