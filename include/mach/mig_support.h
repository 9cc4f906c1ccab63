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

/* A receive right for replies: the caller's cached one, or a new one. */
mach_port_t mig_get_reply_port(void);
/* Gives back a port mig_get_reply_port returned, after a successful RPC. */
void mig_put_reply_port(mach_port_t port);
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
