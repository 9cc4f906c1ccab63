/*
 * The legacy 8259A PIC pair.  The kernel takes its interrupts through the
 * local APIC, so the PICs are only remapped out of the exception range and
 * masked.
 */
#ifndef X86_64_PIC_H
#define X86_64_PIC_H

#include "x86_64/trap.h"

/* IRQ 0..15 of the PICs, should one ever get through, arrive here. */
#define PIC_VECTOR_BASE 32
_Static_assert(PIC_VECTOR_BASE >= 32 && PIC_VECTOR_BASE + 16 <= T_IRQ_BASE,
               "PIC vectors must miss the exceptions and the APIC vectors");

/* Remaps both PICs to PIC_VECTOR_BASE..+15 and masks every IRQ line. */
void pic_init(void);

#endif
