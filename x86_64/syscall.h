/*
 * User mode, machine side: the `syscall' entry, the first entry of a
 * thread into ring 3, and the description of a user fault.
 *
 * Every way into the kernel from ring 3 leaves one struct trap_frame at
 * the top of the thread's kernel stack: interrupts and exceptions through
 * trap_entry.S, the `syscall' instruction through syscall_entry.S, which marks
 * its frames with the pseudo vector T_SYSCALL.  The trap number and the
 * arguments are in the frame's registers (include/mach/syscall_sw.h):
 * rax = number, rdi rsi rdx r10 r8 r9 = arguments; rax is the result.
 *
 * The return to user mode is sysretq when the frame allows it (a
 * canonical user rip, the user selectors) and iretq otherwise: sysretq
 * with a non-canonical rcx faults in ring 0 with the user's rsp on Intel
 * CPUs, so it is never tried.
 */
#ifndef X86_64_SYSCALL_H
#define X86_64_SYSCALL_H

#include <stddef.h>
#include <stdint.h>

#include "x86_64/trap.h"

/* trap_frame.vector of a frame built by the syscall entry (no IDT vector). */
#define T_SYSCALL 0x80

/* RFLAGS a user thread starts with: IF and the always-one bit 1. */
#define USER_RFLAGS 0x202ul

static inline int trap_is_syscall(const struct trap_frame *tf)
{
	return tf->vector == T_SYSCALL;
}

/* The trap number and arguments of a syscall frame, and its result. */
static inline long syscall_number(const struct trap_frame *tf)
{
	return (long)tf->rax;
}

static inline uint64_t syscall_arg(const struct trap_frame *tf, unsigned i)
{
	switch (i) {
	case 0:
		return tf->rdi;
	case 1:
		return tf->rsi;
	case 2:
		return tf->rdx;
	case 3:
		return tf->r10;
	case 4:
		return tf->r8;
	default:
		return tf->r9;
	}
}

/* Programs STAR, LSTAR, FMASK and sets EFER.SCE on this CPU.  After trap_init. */
void syscall_init(void);

/*
 * Called by syscall_entry.S with interrupts on for every trap but
 * mach_msg_trap with the SYSCALL perf event off; the result goes in
 * tf->rax.  kern/syscall.c.
 */
void syscall_dispatch(struct trap_frame *tf);

/*
 * Leaves the kernel for ring 3 at rip with stack rsp and rdi, rsi, rdx =
 * a0, a1, a2 (other registers zero, RFLAGS = USER_RFLAGS).  The FPU state
 * is the thread's own (a new thread's is the clean one).  Called by a
 * thread on its own kernel stack; never returns.
 */
__attribute__((noreturn)) void user_enter(uint64_t rip, uint64_t rsp, uint64_t a0, uint64_t a1,
                                          uint64_t a2);

/*
 * The fault in words, e.g. "page fault (not present, read)",
 * "general protection fault", and a short kind for matching,
 * "page-fault", "general-protection-fault".  *addr gets cr2 for a page
 * fault, else 0.
 */
void user_fault_describe(const struct trap_frame *tf, char *what, size_t what_len, char *kind,
                         size_t kind_len, uint64_t *addr);

#endif
