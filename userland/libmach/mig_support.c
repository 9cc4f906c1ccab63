/*
 * What MIG user stubs need besides mach_msg (<mach/mig_support.h>).
 *
 * Reply ports.  Every RPC needs a receive right for its reply.  Making
 * one per call (mach_reply_port, trap -26) and destroying it afterwards
 * would double the cost of a small RPC, so finished ports go back to a
 * small cache, whose first slot <mach/mig_support.h> tries inline.  The
 * cache is per task, not per thread (userland has no thread-local
 * storage yet), and safe for threads all the same: a
 * thread takes a port out of a slot with an atomic exchange, so no two
 * threads ever wait for replies on one port; when every slot is taken
 * it makes a new port, and a port that finds no free slot on its way
 * back is destroyed.  A stub whose mach_msg failed hands its port to
 * mig_dealloc_reply_port instead: a late reply could still arrive on it.
 *
 * Memory for unbounded arrays comes from vm_allocate on the task's own
 * port, an RPC itself (its reply carries no array, so no recursion).
 */
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/mig_support.h>
#include <mach/port.h>
#include <mach/syscall_sw.h>

#include "mach.h"      /* mig-gen/: vm_allocate, vm_deallocate */
#include "mach_port.h" /* mig-gen/: mach_port_mod_refs */

#define MIG_REPLY_SLOTS 4

mach_port_t __mig_reply_cache[MIG_REPLY_SLOTS]; /* [a] MACH_PORT_NULL: empty */

/* mach_task_self(), also before mach_init has run. */
static mach_port_t mig_self(void)
{
	mach_port_t self = __atomic_load_n(&mach_task_self_, __ATOMIC_RELAXED);

	if (self == MACH_PORT_NULL) {
		/* Racing threads get the same name (more user references at worst). */
		self = __mach_task_self();
		__atomic_store_n(&mach_task_self_, self, __ATOMIC_RELAXED);
	}
	return self;
}

/* Slot 0 was empty (mig_get_reply_port tried it): the others, else a new port. */
mach_port_t __mig_get_reply_port_slow(void)
{
	for (int i = 1; i < MIG_REPLY_SLOTS; i++) {
		mach_port_t port;

		if (__atomic_load_n(&__mig_reply_cache[i], __ATOMIC_RELAXED) == MACH_PORT_NULL)
			continue;
		port = __atomic_exchange_n(&__mig_reply_cache[i], MACH_PORT_NULL, __ATOMIC_ACQUIRE);
		if (port != MACH_PORT_NULL)
			return port;
	}
	return mach_reply_port();
}

/* Slot 0 was taken, or port is not a name (mig_put_reply_port tried it). */
void __mig_put_reply_port_slow(mach_port_t port)
{
	if (!MACH_PORT_VALID(port))
		return;
	for (int i = 1; i < MIG_REPLY_SLOTS; i++) {
		mach_port_t empty = MACH_PORT_NULL;

		if (__atomic_compare_exchange_n(&__mig_reply_cache[i], &empty, port, 0,
		                                __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return;
	}
	mig_dealloc_reply_port(port);
}

/*
 * Destroys the receive right (and with it any reply still queued).
 * This is itself an RPC; its reply port comes from the cache or the
 * trap, never this port, which is in no slot.
 */
void mig_dealloc_reply_port(mach_port_t port)
{
	if (!MACH_PORT_VALID(port))
		return;
	(void)mach_port_mod_refs(mig_self(), port, MACH_PORT_RIGHT_RECEIVE, -1);
}

void mig_allocate(vm_address_t *addr, vm_size_t size)
{
	vm_address_t a = 0;

	if (vm_allocate(mig_self(), &a, size, 1) != KERN_SUCCESS)
		a = 0;
	*addr = a;
}

void mig_deallocate(vm_address_t addr, vm_size_t size)
{
	if (addr != 0 && size != 0)
		(void)vm_deallocate(mig_self(), addr, size);
}

vm_size_t mig_strncpy(char *dst, const char *src, vm_size_t len)
{
	vm_size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i + 1 < len && src[i] != '\0'; i++)
		dst[i] = src[i];
	dst[i] = '\0';
	return i;
}
