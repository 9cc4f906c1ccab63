/*
 * The kernel's own symbol table, linked into the image by a second link
 * pass (scripts/gen-ksyms.sh), for backtraces with names.
 */
#ifndef KERN_KSYMS_H
#define KERN_KSYMS_H

#include <stdint.h>

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
/* Prints "<prefix>addr name+0xoff". */
void ksym_print_addr(const char *prefix, uint64_t addr);
/* Walks the frame-pointer chain from (rip, rbp), printing each frame. */
void ksym_backtrace(uint64_t rip, uint64_t rbp);
/* Backtrace of the caller. */
void ksym_backtrace_here(void);

#endif
