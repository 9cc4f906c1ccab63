/*
 * PCI configuration space through the legacy mechanism #1 (ports 0xCF8
 * and 0xCFC), enough to find a device on bus 0 and read its BARs.  Used
 * by kern/ivshmem.c (issue 6); not a PCI subsystem.
 */
#ifndef X86_64_PCI_H
#define X86_64_PCI_H

#include <stdbool.h>
#include <stdint.h>

uint32_t pci_cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void pci_cfg_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v);

/* The first function on bus 0 with this vendor and device id: true and *dev, *fn. */
bool pci_find(uint16_t vendor, uint16_t device, unsigned *dev, unsigned *fn);

/*
 * Memory BAR number bar of bus 0, dev, fn: its physical address and size
 * (sized the standard way: all ones written, the mask read back, the
 * value restored), 64-bit BARs included.  False for an I/O BAR, an
 * unassigned BAR (address 0) or a bad number.  Enables memory decoding.
 */
bool pci_mem_bar(unsigned dev, unsigned fn, unsigned bar, uint64_t *addr, uint64_t *size);

#endif
