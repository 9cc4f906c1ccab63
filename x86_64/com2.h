/*
 * COM2 (a 16550 at 0x2f8): the host channel's wire (kern/hostchan.c).
 * Polled both ways; no interrupt line is used (the 8259s stay masked).
 * QEMU flow-controls its end: it accepts a byte only when the receive
 * FIFO has room and holds THRE clear while its socket is full, so
 * polling loses nothing in either direction.
 */
#ifndef X86_64_COM2_H
#define X86_64_COM2_H

#include <stdbool.h>

/* Programs the UART (115200 8N1, FIFOs on, no interrupts); false when there is none. */
bool com2_init(void);
/* True when the transmitter takes another byte. */
bool com2_tx_ready(void);
/* Sends c; the caller has seen com2_tx_ready(). */
void com2_tx(unsigned char c);
/* The next received byte, or -1 when none is waiting. */
int com2_rx(void);

#endif
