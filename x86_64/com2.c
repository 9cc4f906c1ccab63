/*
 * COM2 (16550) for the host channel: see com2.h.
 */
#include "x86_64/com2.h"
#include "x86_64/io.h"

#define COM2 0x2f8
#define COM_LSR_DR 0x01   /* a received byte waits */
#define COM_LSR_THRE 0x20 /* the transmit holding register is empty */

bool com2_init(void)
{
	/* No UART answers with its scratch register: reads float to 0xff. */
	outb(COM2 + 7, 0x5a);
	if (inb(COM2 + 7) != 0x5a)
		return false;
	outb(COM2 + 7, 0xa5);
	if (inb(COM2 + 7) != 0xa5)
		return false;
	outb(COM2 + 1, 0x00); /* no interrupts */
	outb(COM2 + 3, 0x80); /* DLAB */
	outb(COM2 + 0, 0x01); /* 115200 baud (QEMU does not pace to it) */
	outb(COM2 + 1, 0x00);
	outb(COM2 + 3, 0x03); /* 8N1 */
	outb(COM2 + 2, 0xc7); /* FIFOs on, cleared, trigger at 14 */
	outb(COM2 + 4, 0x03); /* DTR | RTS; OUT2 off: no interrupt reaches the PIC */
	return true;
}

bool com2_tx_ready(void)
{
	return (inb(COM2 + 5) & COM_LSR_THRE) != 0;
}

void com2_tx(unsigned char c)
{
	outb(COM2, c);
}

int com2_rx(void)
{
	if (!(inb(COM2 + 5) & COM_LSR_DR))
		return -1;
	return inb(COM2);
}
