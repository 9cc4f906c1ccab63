/*
 * machperf's boot=mach: the module table the kernel gives the bootstrap
 * task (docs/userland.md, "The user-space bootstrap").
 *
 * With boot=mach on the kernel command line the kernel starts only the
 * first multiboot module, as the bootstrap task (with the privileged host
 * port as its TASK_HOST_PRIV_PORT), and maps every other module into its
 * address space read-only (vm_allocate anywhere, vm_write, vm_protect
 * VM_PROT_READ).  Where they are it says in this table, one read-only
 * page (or more) at BOOT_MODULES_ADDR, written before the bootstrap's
 * first thread runs.  Module i of the table is multiboot module i + 1;
 * the bootstrap's own module string is its argv, as for any module.
 */
#ifndef MACH_BOOT_MODULES_H
#define MACH_BOOT_MODULES_H

#include <stdint.h>

#define BOOT_MODULES_ADDR 0x60000000ul /* 1.5 GiB: above the bootstrap's image */
#define BOOT_MODULES_MAGIC 0x4d424f54u /* "TOBM" in memory */
#define BOOT_MODULES_MAX 128
#define BOOT_MODULE_STRING_MAX 240 /* the module string, NUL-terminated (truncated) */

struct boot_module {
	uint64_t addr; /* where the image is mapped, read-only (0 if size is 0) */
	uint64_t size; /* its size in bytes */
	char string[BOOT_MODULE_STRING_MAX];
};

struct boot_modules {
	uint32_t magic; /* BOOT_MODULES_MAGIC */
	uint32_t count; /* modules that follow (the multiboot count minus one) */
	uint64_t reserved;
	struct boot_module mod[];
};

_Static_assert(sizeof(struct boot_module) == 256, "boot module: 256 bytes");
_Static_assert(sizeof(struct boot_modules) == 16, "boot module table header: 16 bytes");

#endif
