/*
 * Address-space constants shared by the boot stub, the linker script and C.
 * Keep this file free of C so that assembly and ld can include it.
 */
#ifndef X86_64_BOOT_H
#define X86_64_BOOT_H

/* The kernel image is linked at -2 GiB (-mcmodel=kernel). */
#define KERNEL_BASE 0xffffffff80000000
/* All of physical memory is mapped here (the "physmap"). */
#define PHYSMAP_BASE 0xffff800000000000
/* Physical load address of the image. */
#define KERNEL_PHYS_LOAD 0x100000

#define KSTACK_SIZE (4 * 4096)

#endif
