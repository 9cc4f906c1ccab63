/*
 * Recoverable kernel faults.  Code that may touch a bad address (copyin,
 * a test that faults on purpose) brackets the access:
 *
 *	struct kfault_catch c;
 *	if (kfault_try(&c) == 0) {
 *		... access that may fault ...
 *		kfault_end(&c);
 *	} else {
 *		... c.vector, c.error, c.cr2, c.fault_rip describe the fault ...
 *	}
 *
 * A kernel-mode exception while a catch is armed by the running thread
 * unwinds to the kfault_try, which then returns the vector + 1.  Catches
 * nest; the innermost wins.  Not caught: NMI, double fault and machine
 * check, and faults in an interrupt handler that interrupted the armed
 * code (the unwind would skip the handler's end of interrupt).  Nothing held across the access (locks, interrupt
 * state) is undone: keep the bracket around the access alone.
 */
#ifndef X86_64_KFAULT_H
#define X86_64_KFAULT_H

#include <stddef.h>
#include <stdint.h>

struct kfault_catch {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip; /* kfault_setjmp's context */
	struct kfault_catch *prev;
	uint32_t irq_depth; /* interrupt nesting when armed */
	uint64_t vector, error, cr2, fault_rip;
};
_Static_assert(__builtin_offsetof(struct kfault_catch, rip) == 56, "kfault_asm.S layout");

int kfault_setjmp(struct kfault_catch *c) __attribute__((returns_twice));
__attribute__((noreturn)) void kfault_longjmp(struct kfault_catch *c, int value);

void kfault_push(struct kfault_catch *c);
void kfault_end(struct kfault_catch *c);

#define kfault_try(c) (kfault_push(c), kfault_setjmp(c))

/*
 * copy_user (copy_user.S): memcpy with its own recovery, for copyin and
 * copyout.  fault is 0, or the vector + 1 of a fault it could not get
 * past (cr2: CR2 of a page fault).
 */
struct copy_user_result {
	uint64_t fault;
	uintptr_t cr2;
};
struct copy_user_result copy_user(void *dst, const void *src, size_t n);
/* Is rip one of copy_user's accesses (whose faults it recovers from)? */
int kfault_in_copy_user(uintptr_t rip);

struct trap_frame;
/* Called by trap_dispatch: redirects the frame to copy_user's fixup or the innermost catch. */
int kfault_recover(struct trap_frame *tf);

#endif
