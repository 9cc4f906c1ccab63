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

kern_return_t copyin(const void *user_src, void *kdst, size_t n);
kern_return_t copyout(const void *ksrc, void *user_dst, size_t n);

/*
 * Copies a NUL-terminated string of at most max bytes, NUL included, and
 * sets *len (if len is not NULL) to its length without the NUL.
 * KERN_INVALID_ARGUMENT if there is no NUL in the first max bytes (kdst
 * then holds the first max - 1 bytes, terminated) or max is 0.
 */
kern_return_t copyinstr(const void *user_src, char *kdst, size_t max, size_t *len);

#endif
