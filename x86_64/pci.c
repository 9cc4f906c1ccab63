/*
 * PCI configuration space, mechanism #1: see pci.h.
 */
#include "x86_64/pci.h"
#include "x86_64/io.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_BAR0 0x10

static inline uint32_t pci_inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint32_t pci_addr(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return 0x80000000u | (bus & 0xff) << 16 | (dev & 0x1f) << 11 | (fn & 7) << 8 | (off & 0xfc);
}

uint32_t pci_cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	outl(PCI_ADDR, pci_addr(bus, dev, fn, off));
	return pci_inl(PCI_DATA);
}

void pci_cfg_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	outl(PCI_ADDR, pci_addr(bus, dev, fn, off));
	outl(PCI_DATA, v);
}

bool pci_find(uint16_t vendor, uint16_t device, unsigned *dev, unsigned *fn)
{
	uint32_t want = (uint32_t)device << 16 | vendor;

	for (unsigned d = 0; d < 32; d++)
		for (unsigned f = 0; f < 8; f++) {
			uint32_t id = pci_cfg_read32(0, d, f, 0);

			if ((id & 0xffff) == 0xffff) {
				if (f == 0)
					break; /* no device here */
				continue;
			}
			if (id == want) {
				*dev = d;
				*fn = f;
				return true;
			}
			/* Header type bit 7: multi-function; otherwise only function 0. */
			if (f == 0 && !(pci_cfg_read32(0, d, 0, 0x0c) & 0x00800000))
				break;
		}
	return false;
}

bool pci_mem_bar(unsigned dev, unsigned fn, unsigned bar, uint64_t *addr, uint64_t *size)
{
	unsigned off = PCI_BAR0 + 4 * bar;

	if (bar > 5)
		return false;
	uint32_t lo = pci_cfg_read32(0, dev, fn, off);

	if (lo & 1)
		return false; /* I/O space */
	bool is64 = ((lo >> 1) & 3) == 2;

	if (is64 && bar == 5)
		return false;
	uint32_t hi = is64 ? pci_cfg_read32(0, dev, fn, off + 4) : 0;
	uint32_t cmd = pci_cfg_read32(0, dev, fn, PCI_COMMAND);

	/* Size it with decoding off, so that the all-ones address decodes nothing. */
	pci_cfg_write32(0, dev, fn, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY & 0xffff);
	pci_cfg_write32(0, dev, fn, off, 0xffffffffu);
	uint64_t mask = pci_cfg_read32(0, dev, fn, off) & ~0xfu;

	pci_cfg_write32(0, dev, fn, off, lo);
	if (is64) {
		pci_cfg_write32(0, dev, fn, off + 4, 0xffffffffu);
		mask |= (uint64_t)pci_cfg_read32(0, dev, fn, off + 4) << 32;
		pci_cfg_write32(0, dev, fn, off + 4, hi);
	} else {
		mask |= 0xffffffff00000000ull;
	}
	pci_cfg_write32(0, dev, fn, PCI_COMMAND, (cmd | PCI_COMMAND_MEMORY) & 0xffff);
	*addr = ((uint64_t)hi << 32 | lo) & ~0xfull;
	*size = mask ? ~mask + 1 : 0;
	return *addr != 0 && *size != 0;
}
