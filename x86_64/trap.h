/*
 * Interrupt and exception dispatch.  Every vector enters through one
 * assembly path (trap_entry.S) that builds a struct trap_frame and calls
 * trap_dispatch().
 */
#ifndef X86_64_TRAP_H
#define X86_64_TRAP_H

#include <stdint.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error;
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap frame layout (trap_entry.S)");

#define T_DIVIDE 0
#define T_DEBUG 1
#define T_NMI 2
#define T_BREAKPOINT 3
#define T_OVERFLOW 4
#define T_BOUND 5
#define T_INVALID_OPCODE 6
#define T_NO_FPU 7
#define T_DOUBLE_FAULT 8
#define T_INVALID_TSS 10
#define T_SEGMENT_NP 11
#define T_STACK 12
#define T_GP 13
#define T_PAGE_FAULT 14
#define T_FPU 16
#define T_ALIGNMENT 17
#define T_MACHINE_CHECK 18
#define T_SIMD 19

/* Vectors 32..47 are the (masked) legacy PIC; devices start at 48. */
#define T_IRQ_BASE 48
#define T_LAPIC_TIMER 48
#define T_TEST_IPI 240 /* ktest: a self-IPI (lapic_self_ipi) */
#define T_SPURIOUS 255

/* Page-fault error code bits. */
#define PF_PRESENT (1u << 0)
#define PF_WRITE (1u << 1)
#define PF_USER (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_INSTR (1u << 4)

/* Returns nonzero when it handled the trap (ignored for interrupts). */
typedef int (*trap_handler_t)(struct trap_frame *tf);

/* Builds the IDT and loads it on the boot CPU. */
void trap_init(void);

/*
 * Installs a handler for a vector.  Handlers for exception vectors
 * (0..31) run before the default report-and-panic and must return only if
 * they resolved the exception.  Returns the previous handler.
 */
trap_handler_t trap_register(int vector, trap_handler_t h);

/* Acknowledges the current interrupt (installed by the LAPIC code). */
extern void (*trap_eoi)(void);

static inline int trap_from_user(const struct trap_frame *tf)
{
	return (tf->cs & 3) != 0;
}

/* Name of an exception vector ("page fault"), or "interrupt". */
const char *trap_name(unsigned vector);

/* Prints registers and a symbolic backtrace for a frame. */
void trap_report(const struct trap_frame *tf);

void trap_dispatch(struct trap_frame *tf);

#endif
