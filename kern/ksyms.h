/*
 * The kernel's own symbol table, linked into the image by a second link
 * pass (scripts/gen-ksyms.sh), for backtraces with names.
 */
#ifndef KERN_KSYMS_H
#define KERN_KSYMS_H

#include <stdint.h>

/*
 * Name of the function containing addr and the offset into it, or NULL
 * for an address outside the kernel's .text.
 */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
/* Prints "<prefix>addr name+0xoff" (or "?" for an unknown address). */
void ksym_print_addr(const char *prefix, uint64_t addr);

/*
 * Walks the frame-pointer chain from (rip, rbp) into pcs[0..max), returns
 * the number of entries.  pcs[0] is rip; the others are return addresses,
 * except the entry right after the trap-entry return address (see
 * ksym_trap_init): that one is the interrupted instruction.  The walk
 * stops at a null or implausible frame and, once traps work, at a frame
 * it cannot read.  Never faults.
 */
int ksym_backtrace_collect(uint64_t rip, uint64_t rbp, uint64_t *pcs, int max);
/*
 * Name and offset for pcs[i] of a collected backtrace.  Return addresses
 * are looked up at pc - 1, so that a call that ends a function names that
 * function and not the next one; the offset is still that of pc.
 */
const char *ksym_backtrace_name(const uint64_t *pcs, int i, uint64_t *offset);
/* Prints a collected backtrace, one frame per line. */
void ksym_backtrace_print(const uint64_t *pcs, int n);

/* Walks and prints from (rip, rbp). */
void ksym_backtrace(uint64_t rip, uint64_t rbp);
/* Backtrace of the caller. */
void ksym_backtrace_here(void);

/*
 * Called by the trap code once faults can be caught (kfault_try), which
 * makes every walk safe against a corrupt chain.  trap_return_pc is the
 * return address of the trap entry's call into C: the frame above it is
 * the fake frame [ interrupted rbp ][ interrupted rip ] (trap_entry.S).
 * frameless_caller(fake_frame, &ret) finds the return address that an
 * interrupted function without a frame of its own (a leaf, or one caught
 * in its prologue) left on the stack; it returns 0 if there is none.
 */
void ksym_trap_init(uint64_t trap_return_pc,
                    int (*frameless_caller)(uint64_t fake_frame, uint64_t *ret));

#endif
