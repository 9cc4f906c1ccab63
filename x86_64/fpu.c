/*
 * FPU/SSE state save and restore (eager; see fpu.h).
 */
#include "kern/string.h"
#include "x86_64/fpu.h"

/* fxsave image offsets (Intel SDM vol. 1, table 10-2). */
#define FX_FCW 0
#define FX_MXCSR 24

#define FCW_DEFAULT 0x037f    /* all x87 exceptions masked, 64-bit precision */
#define MXCSR_DEFAULT 0x1f80u /* all SSE exceptions masked, round to nearest */

static uint8_t fpu_clean[FPU_STATE_SIZE] __attribute__((aligned(FPU_STATE_ALIGN)));

void fpu_init(void)
{
	uint16_t fcw = FCW_DEFAULT;
	uint32_t mxcsr = MXCSR_DEFAULT;

	memset(fpu_clean, 0, sizeof(fpu_clean));
	memcpy(fpu_clean + FX_FCW, &fcw, sizeof(fcw));
	memcpy(fpu_clean + FX_MXCSR, &mxcsr, sizeof(mxcsr));
	/* The boot thread starts from the same state. */
	__asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[FPU_STATE_SIZE])fpu_clean));
}

void fpu_area_init(struct fpu_area *a)
{
	memcpy(fpu_state(a), fpu_clean, FPU_STATE_SIZE);
}

void fpu_save(struct fpu_area *a)
{
	__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[FPU_STATE_SIZE])fpu_state(a)));
}

void fpu_restore(struct fpu_area *a)
{
	__asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[FPU_STATE_SIZE])fpu_state(a)));
}
