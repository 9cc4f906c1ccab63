/*
 * Kernel page tables.  All physical memory is mapped at PHYSMAP_BASE, so
 * any physical page can be reached with PHYS_TO_VIRT.
 */
#ifndef X86_64_PMAP_H
#define X86_64_PMAP_H

#include <stdint.h>

#include "x86_64/boot.h"

typedef uint64_t paddr_t;

#define PAGE_SIZE 4096ul
#define PAGE_SHIFT 12
#define PAGE_MASK (PAGE_SIZE - 1)
#define round_page(x) (((x) + PAGE_MASK) & ~PAGE_MASK)
#define trunc_page(x) ((x) & ~PAGE_MASK)

#define PHYS_TO_VIRT(pa) ((void *)((uintptr_t)(pa) + PHYSMAP_BASE))
#define VIRT_TO_PHYS(va) ((paddr_t)((uintptr_t)(va)-PHYSMAP_BASE))
/* Physical address of a symbol in the kernel image. */
#define KIMG_TO_PHYS(va) ((paddr_t)((uintptr_t)(va)-KERNEL_BASE))

#endif
