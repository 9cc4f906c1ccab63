/*
 * Per-thread FPU/SSE state.  Policy: eager.  Every context switch saves
 * the outgoing thread's x87/SSE registers (fxsave) and loads the incoming
 * one's (fxrstor), so no thread ever sees another's registers and no
 * #NM trap is needed.  The kernel itself is built with
 * -mgeneral-regs-only and never touches these registers, so what is saved
 * is always the thread's own state.  (512 bytes each way per switch; a
 * lazy CR0.TS scheme can replace this once profiles say it matters.)
 */
#ifndef X86_64_FPU_H
#define X86_64_FPU_H

#include <stdint.h>

#define FPU_STATE_SIZE 512 /* the fxsave image */
#define FPU_STATE_ALIGN 16

/* Where a thread keeps its registers; fpu_state() finds the aligned image. */
struct fpu_area {
	uint8_t raw[FPU_STATE_SIZE + FPU_STATE_ALIGN];
};

static inline void *fpu_state(struct fpu_area *a)
{
	return (void *)(((uintptr_t)a->raw + FPU_STATE_ALIGN - 1) &
	                ~(uintptr_t)(FPU_STATE_ALIGN - 1));
}

/* Builds the clean state new threads start with.  Once, after SSE is enabled. */
void fpu_init(void);
/* Gives a new thread the clean state: x87 empty, FCW 0x37f, MXCSR 0x1f80, XMMs zero. */
void fpu_area_init(struct fpu_area *a);
/* Saves this CPU's registers into a / loads them from a. */
void fpu_save(struct fpu_area *a);
void fpu_restore(struct fpu_area *a);

#endif
