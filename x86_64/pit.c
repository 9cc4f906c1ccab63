/*
 * PIT channel 2 as a gated one-shot.  Mode 0 ("interrupt on terminal
 * count") drives OUT2 low when the count is written and high when it has
 * counted down; OUT2 is readable as bit 5 of port 0x61.  The gate (bit 0)
 * is raised before the count is written, so counting starts with the
 * write on real 8254s and on QEMU alike (QEMU ignores the gate in mode 0
 * and always counts from the write).  The speaker data bit (bit 1) stays
 * off: nothing is heard.
 */
#include "x86_64/io.h"
#include "x86_64/pit.h"

#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_PORT_B 0x61

#define PIT_SEL_CH2 (2u << 6)
#define PIT_ACCESS_LOHI (3u << 4)
#define PIT_MODE0 (0u << 1)
#define PIT_LATCH 0x00

#define PORT_B_GATE2 0x01
#define PORT_B_SPKR 0x02
#define PORT_B_OUT2 0x20

void pit_oneshot_start(uint16_t count)
{
	uint8_t b = inb(PIT_PORT_B);

	outb(PIT_PORT_B, (uint8_t)((b & ~PORT_B_SPKR) | PORT_B_GATE2));
	outb(PIT_CMD, PIT_SEL_CH2 | PIT_ACCESS_LOHI | PIT_MODE0);
	outb(PIT_CH2, (uint8_t)count);
	outb(PIT_CH2, (uint8_t)(count >> 8));
}

bool pit_oneshot_expired(void)
{
	return (inb(PIT_PORT_B) & PORT_B_OUT2) != 0;
}

uint16_t pit_read_count(void)
{
	outb(PIT_CMD, PIT_SEL_CH2 | PIT_LATCH);
	uint8_t lo = inb(PIT_CH2);
	uint8_t hi = inb(PIT_CH2);

	return (uint16_t)(lo | hi << 8);
}

void pit_wait(uint16_t count)
{
	pit_oneshot_start(count);
	while (!pit_oneshot_expired())
		;
}
