/*
 * Machine thread state (thread_get_state / thread_set_state), counted in
 * natural_t words as the RPCs carry it.
 *
 * x86_64_THREAD_STATE (machperf's flavor 1, in the place of GNU Mach's
 * i386_THREAD_STATE, whose layout carries segment selectors machperf
 * does not let a user set): the general registers, rip, rflags and the
 * FS base.  thread_set_state checks it: rip and rsp must be canonical
 * user addresses (below 0x800000000000) and fs_base too, else
 * KERN_INVALID_ARGUMENT; rflags keeps only the arithmetic flags, DF and
 * TF's neighbours a user may set (the kernel forces IF on and IOPL 0).
 * The struct is naturally aligned in a program; in a message the words
 * are packed to 4 bytes, and the kernel copies them, never casts.
 */
#ifndef MACH_THREAD_STATUS_H
#define MACH_THREAD_STATUS_H

#include <stdint.h>

#include <mach/vm_types.h>

#define x86_64_THREAD_STATE 1

struct x86_64_thread_state {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags, fs_base;
};

#define x86_64_THREAD_STATE_COUNT                                                                  \
	((natural_t)(sizeof(struct x86_64_thread_state) / sizeof(natural_t)))

/* RFLAGS bits thread_set_state takes from the user: CF PF AF ZF SF DF OF. */
#define X86_64_RFLAGS_USER 0x0cd5ul

_Static_assert(sizeof(struct x86_64_thread_state) == 19 * 8, "x86_64_thread_state: 19 words");

#endif
