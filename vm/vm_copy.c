/*
 * copyin, copyout, copyinstr (see vm_copy.h).
 *
 * The range check comes first: the whole user range must lie below
 * VM_MAX_USER, so a kernel address never gets as far as an access.  The
 * access itself is copy_user (x86_64/copy_user.S), which recovers from
 * its own faults; copyinstr runs inside a kfault_try bracket.  A page
 * fault at a user address in either goes to vm_fault_trap first, which
 * resolves demand-zero pages against the current map; what it cannot
 * resolve becomes KERN_INVALID_ADDRESS.  A fault anywhere else (the
 * kernel buffer) is not the user's doing: panic.  Nothing is held across
 * the access.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kern/panic.h"
#include "kern/string.h"
#include "vm/vm_copy.h"
#include "vm/vm_map.h"
#include "x86_64/kfault.h"
#include "x86_64/trap.h"

/* After a fault: the user range's fault is the caller's error, anything else a bug. */
static kern_return_t vc_fault(const char *who, uint64_t vector, uintptr_t cr2, uintptr_t rip,
                              uintptr_t user, size_t n)
{
	if (vector != T_PAGE_FAULT || cr2 < trunc_page(user) || cr2 >= round_page(user + n))
		panic("%s: %s at %#lx (rip %#lx) outside the user range [%#lx, +%#lx)", who,
		      trap_name((unsigned)vector), cr2, rip, user, n);
	return KERN_INVALID_ADDRESS;
}

kern_return_t vm_copy_fault(const char *who, struct copy_user_result r, uintptr_t user, size_t n)
{
	return vc_fault(who, r.fault - 1, r.cr2, (uintptr_t)copy_user, user, n);
}

/* Copies up to limit bytes, stopping after a NUL; *copied: bytes before the NUL, or limit. */
static __attribute__((noinline)) kern_return_t vc_copystr(char *dst, const char *src, size_t limit,
                                                          size_t *copied)
{
	struct kfault_catch c;
	size_t i;

	if (kfault_try(&c) != 0)
		return vc_fault("copyinstr", c.vector, c.cr2, c.fault_rip, (uintptr_t)src, limit);
	for (i = 0; i < limit; i++)
		if ((dst[i] = src[i]) == '\0')
			break;
	kfault_end(&c);
	*copied = i;
	return KERN_SUCCESS;
}

kern_return_t copyinstr(const void *user_src, char *kdst, size_t max, size_t *len)
{
	uintptr_t u = (uintptr_t)user_src;
	size_t limit = max, n = 0;

	if (u >= VM_MAX_USER)
		return KERN_INVALID_ADDRESS;
	if (max == 0)
		return KERN_INVALID_ARGUMENT;
	if (limit > VM_MAX_USER - u)
		limit = VM_MAX_USER - u; /* the string may not run into the kernel half */

	kern_return_t kr = vc_copystr(kdst, user_src, limit, &n);

	if (kr != KERN_SUCCESS)
		return kr;
	if (n == limit) {
		kdst[limit - 1] = '\0';
		/* No NUL: ran out of user space, or the string is longer than max. */
		return limit < max ? KERN_INVALID_ADDRESS : KERN_INVALID_ARGUMENT;
	}
	if (len)
		*len = n;
	return KERN_SUCCESS;
}
