/*
 * Local APIC bring-up and timer.  The registers are 32-bit, 16-byte
 * aligned, and must be accessed with 32-bit loads and stores, hence the
 * volatile uint32_t accessors.  The timer's input clock is the APIC bus
 * clock, whose rate the architecture does not tell us (QEMU uses 1 GHz);
 * lapic_timer_calibrate measures it against the calibrated TSC.  Each
 * read of the current-count register is bracketed by two rdtscs and the
 * narrowest of a few brackets kept, so that a host preemption or a wait
 * for QEMU's lock in the middle of a read (plain TCG on a busy host)
 * does not skew the figure.
 */
#include <stddef.h>

#include "kern/panic.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/lapic.h"
#include "x86_64/pmap.h"
#include "x86_64/trap.h"
#include "x86_64/tsc.h"

#define LAPIC_ID 0x020
#define LAPIC_VER 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ESR 0x280
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_PENDING (1u << 12)
#define ICR_DEST_SELF (1u << 18)
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define DCR_DIV1 0xb

#define APIC_BASE_ENABLE (1ul << 11)
#define APIC_BASE_X2APIC (1ul << 10)
#define APIC_BASE_ADDR 0xffffff000ul

static void (*lapic_tick)(void); /* [I] set before the timer starts */

static volatile uint32_t *lapic_reg(uint32_t off)
{
	return (volatile uint32_t *)((uintptr_t)PHYS_TO_VIRT(LAPIC_PHYS) + off);
}

static uint32_t lapic_read(uint32_t off)
{
	return *lapic_reg(off);
}

static void lapic_write(uint32_t off, uint32_t v)
{
	*lapic_reg(off) = v;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void lapic_self_ipi(uint8_t vector)
{
	/* ICR low: fixed delivery, edge, the "self" destination shorthand. */
	lapic_write(LAPIC_ICR_HIGH, 0);
	lapic_write(LAPIC_ICR_LOW, ICR_DEST_SELF | vector);
	while (lapic_read(LAPIC_ICR_LOW) & ICR_PENDING)
		;
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	/* xAPIC mode at the architectural address: what LAPIC_PHYS assumes. */
	base = (base & ~(APIC_BASE_ADDR | APIC_BASE_X2APIC)) | LAPIC_PHYS | APIC_BASE_ENABLE;
	wrmsr(MSR_APIC_BASE, base);

	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | T_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, 0);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, SVR_ENABLE | T_SPURIOUS);
	/* An interrupt left in service by firmware would block ours. */
	lapic_eoi();
	trap_eoi = lapic_eoi;
}

/*
 * The current count read between two rdtscs, best (narrowest) of a few:
 * *tsc gets the bracket's midpoint.
 */
static uint32_t lapic_read_ccr_at(uint64_t *tsc)
{
	uint64_t width = UINT64_MAX;
	uint32_t count = 0;

	for (int i = 0; i < 5; i++) {
		uint64_t a = tsc_read();
		uint32_t c = lapic_read(LAPIC_TIMER_CCR);
		uint64_t b = tsc_read();

		if (b - a < width) {
			width = b - a;
			count = c;
			*tsc = a + width / 2;
		}
	}
	return count;
}

/* One calibration sample: input clocks per second over about ms ms. */
static uint64_t lapic_sample(unsigned ms)
{
	uint64_t span = tsc_from_ns(ms * 1000000ull), t0 = 0, t1 = 0;
	unsigned long flags = intr_save();

	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | T_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, 0xffffffffu);
	uint32_t c0 = lapic_read_ccr_at(&t0);

	while (tsc_read() - t0 < span)
		;
	uint32_t c1 = lapic_read_ccr_at(&t1);

	lapic_write(LAPIC_TIMER_ICR, 0);
	intr_restore(flags);

	uint64_t ns = tsc_to_ns(t1 - t0);

	if (c1 == 0 || ns == 0)
		panic("lapic_sample: timer ran out or stood still (%u -> %u in %lu ns)", c0, c1,
		      ns);
	/* c0 - c1 < 2^32 and 10^9 < 2^30: the product fits in 64 bits. */
	return (uint64_t)(c0 - c1) * 1000000000ull / ns;
}

uint64_t lapic_timer_calibrate(unsigned samples, unsigned ms)
{
	uint64_t hz[9];

	if (samples < 1 || samples > 9 || ms == 0 || tsc_hz() == 0)
		panic("lapic_timer_calibrate: %u samples of %u ms, tsc %lu Hz", samples, ms,
		      tsc_hz());
	for (unsigned i = 0; i < samples; i++) {
		uint64_t h = lapic_sample(ms);
		unsigned j = i;

		for (; j > 0 && hz[j - 1] > h; j--)
			hz[j] = hz[j - 1];
		hz[j] = h;
	}
	return hz[samples / 2];
}

static int lapic_timer_intr(struct trap_frame *tf)
{
	lapic_tick();
	return 1;
}

uint32_t lapic_timer_start(uint64_t bus_hz, uint32_t hz, void (*tick)(void))
{
	uint64_t count = hz ? (bus_hz + hz / 2) / hz : 0;

	if (tick == NULL || count == 0 || count > 0xffffffffu)
		panic("lapic_timer_start: %u Hz from a %lu Hz clock", hz, bus_hz);
	lapic_tick = tick;
	trap_register(T_LAPIC_TIMER, lapic_timer_intr);
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | T_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, (uint32_t)count);
	return (uint32_t)count;
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | T_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, 0);
}
