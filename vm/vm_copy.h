/*
 * Copying between the kernel and user memory.
 *
 * The user side is an address in the address space loaded on this CPU:
 * the current task's, or the map a kernel thread activated with
 * vm_map_activate.  Demand-zero pages fault in during the copy (the fault
 * handler resolves kernel-mode faults at user addresses inside these
 * calls).  The kernel side must be valid kernel memory: a fault there is
 * a kernel bug and panics.
 *
 * Each returns KERN_SUCCESS, or KERN_INVALID_ADDRESS when any byte of
 * the user range is outside [0, VM_MAX_USER) (kernel addresses, ranges
 * that wrap around or cross VM_MAX_USER), unallocated, or lacks the
 * permission (copyout to a read-only page: the kernel runs with CR0.WP,
 * so it faults like a user write would).  A failed copy may have copied
 * a prefix.
 */
#ifndef VM_VM_COPY_H
#define VM_VM_COPY_H

#include <mach/kern_return.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vm_map.h"
#include "x86_64/kfault.h"

/* After copy_user stopped at a fault (r): KERN_INVALID_ADDRESS, or panic if not the user's. */
kern_return_t vm_copy_fault(const char *who, struct copy_user_result r, uintptr_t user, size_t n);

/* copyin and copyout: user is the user side of dst/src.  Inline: on every message's path. */
static inline __attribute__((always_inline)) kern_return_t
vm_copy_user(const char *who, void *dst, const void *src, size_t n, uintptr_t user)
{
	if (n > VM_MAX_USER || user > VM_MAX_USER - n)
		return KERN_INVALID_ADDRESS;
	struct copy_user_result r = copy_user(dst, src, n);

	return __builtin_expect(r.fault == 0, 1) ? KERN_SUCCESS : vm_copy_fault(who, r, user, n);
}

static inline __attribute__((always_inline)) kern_return_t copyin(const void *user_src, void *kdst,
                                                                  size_t n)
{
	return vm_copy_user("copyin", kdst, user_src, n, (uintptr_t)user_src);
}

static inline __attribute__((always_inline)) kern_return_t copyout(const void *ksrc, void *user_dst,
                                                                   size_t n)
{
	return vm_copy_user("copyout", user_dst, ksrc, n, (uintptr_t)user_dst);
}

/*
 * Copies a NUL-terminated string of at most max bytes, NUL included, and
 * sets *len (if len is not NULL) to its length without the NUL.
 * KERN_INVALID_ARGUMENT if there is no NUL in the first max bytes (kdst
 * then holds the first max - 1 bytes, terminated) or max is 0.
 */
kern_return_t copyinstr(const void *user_src, char *kdst, size_t max, size_t *len);

#endif
