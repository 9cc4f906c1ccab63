/*
 * The ELF64 loader: a statically linked x86_64 executable (ET_EXEC) in
 * kernel memory (a multiboot module) becomes the contents of a task's
 * address space, plus the initial user stack.
 *
 * Everything in the image is validated before anything is mapped, so a
 * bad image costs nothing but a message: the magic, class, byte order,
 * version, type EXEC, machine x86_64; the program header table and every
 * PT_LOAD inside the file (no overflow); p_filesz <= p_memsz; every
 * segment in [VM_MIN_USER, ELF_USER_LIMIT) (the small code model: below
 * 2 GiB); no two segments on a common page (each has one protection);
 * the entry point in an executable segment; no PT_INTERP (no dynamic
 * linking).
 *
 * Each PT_LOAD is mapped at its page-rounded address with vm_allocate,
 * its file bytes written with vm_write (the rest stays demand-zero: .bss),
 * and then given its protection from p_flags (R, W, X) with vm_protect.
 *
 * The user stack: ELF_STACK_SIZE bytes just below ELF_STACK_TOP, the top
 * of user space, far above anything vm_allocate(anywhere) hands out
 * first (it allocates from the bottom).  On entry (SysV ABI):
 *
 *	ELF_STACK_TOP ->  argument strings
 *	                  (padding to 16)
 *	                  auxv: AT_PAGESZ 4096, AT_NULL 0
 *	                  envp: NULL
 *	                  argv[0] .. argv[argc - 1], NULL
 *	rsp ->            argc                          (rsp % 16 == 0)
 *
 * and also rdi = argc, rsi = argv, rdx = 0 (no atexit function).
 */
#ifndef KERN_ELF_H
#define KERN_ELF_H

#include <mach/kern_return.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vm_map.h"

struct task;
struct thread;

#define ELF_USER_LIMIT 0x80000000ul /* segments end at or below 2 GiB */
#define ELF_STACK_TOP VM_MAX_USER
#define ELF_STACK_SIZE (256ul << 10)
#define ELF_MAX_PHDRS 64
#define ELF_ARGS_MAX 2048 /* argument strings, NULs included */
#define ELF_ARGC_MAX 64

/* ELF64 structures (the System V gABI), only what the loader reads. */
struct elf64_ehdr {
	uint8_t e_ident[16];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header");

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");

#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_INTERP 3
#define PF_X 0x1
#define PF_W 0x2
#define PF_R 0x4

/*
 * Checks the image (see above); *entry gets e_entry.  Returns
 * KERN_SUCCESS or KERN_INVALID_ARGUMENT after printing one line
 * "elf: NAME: what is wrong" (name is for the message only).
 */
kern_return_t elf_validate(const char *name, const void *image, size_t size, uintptr_t *entry);

/*
 * Validates the image and maps its segments into map; *entry gets the
 * entry point.  KERN_INVALID_ARGUMENT for a bad image (nothing mapped);
 * a vm_allocate/vm_write/vm_protect error otherwise (the map then holds
 * a part of the program: destroy it).
 */
kern_return_t elf_load(struct vm_map *map, const char *name, const void *image, size_t size,
                       uintptr_t *entry);

/*
 * Maps the user stack into map and lays out argc/argv there (see
 * above); *sp gets the initial rsp, *uargv argv's user address.
 * KERN_INVALID_ARGUMENT when the arguments exceed ELF_ARGC_MAX or
 * ELF_ARGS_MAX.
 */
kern_return_t elf_stack_setup(struct vm_map *map, int argc, const char *const argv[], uintptr_t *sp,
                              uintptr_t *uargv);

/*
 * elf_load + elf_stack_setup into task's map + its first thread, running
 * at once.  *out (if not NULL) gets a reference to the thread.
 */
kern_return_t elf_exec(struct task *task, const void *image, size_t size, int argc,
                       const char *const argv[], struct thread **out);

#endif
