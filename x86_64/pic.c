/*
 * 8259A initialisation.  At power-on the master PIC delivers IRQ 0..7 on
 * vectors 8..15, the same vectors as the double fault and the page fault,
 * so a stray timer IRQ would look like an exception.  Reprogramming both
 * chips (ICW1..ICW4) moves them to 32..47, then every line is masked; the
 * LAPIC code also masks LINT0, where the PIC's output (ExtINT) arrives.
 */
#include "x86_64/io.h"
#include "x86_64/pic.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

#define ICW1_INIT 0x10
#define ICW1_ICW4 0x01
#define ICW4_8086 0x01

/* The 8259A wants a moment between initialisation words on old chipsets. */
static void pic_io_wait(void)
{
	outb(0x80, 0);
}

void pic_init(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);

	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	pic_io_wait();
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	pic_io_wait();
	outb(PIC1_DATA, PIC_VECTOR_BASE); /* ICW2: vector base */
	pic_io_wait();
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	pic_io_wait();
	outb(PIC1_DATA, 1u << 2); /* ICW3: slave on IRQ 2 */
	pic_io_wait();
	outb(PIC2_DATA, 2); /* ICW3: slave identity */
	pic_io_wait();
	outb(PIC1_DATA, ICW4_8086);
	pic_io_wait();
	outb(PIC2_DATA, ICW4_8086);
	pic_io_wait();

	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}
