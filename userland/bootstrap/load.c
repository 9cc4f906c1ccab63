/*
 * The bootstrap's ELF loader: a static x86_64 executable, mapped
 * read-only in the bootstrap's own space (a boot module), becomes the
 * program of another task, through RPCs on that task's port only:
 * vm_allocate, vm_write, vm_protect for the segments and the stack.
 *
 * The rules are the kernel loader's (kern/elf.h), checked before
 * anything is mapped, so a bad image costs a message and nothing else:
 * ELF64, little-endian, version 1, ET_EXEC, x86_64; program headers and
 * every PT_LOAD inside the file without overflow; p_filesz <= p_memsz;
 * segments in [LOAD_USER_MIN, LOAD_USER_LIMIT) on pages of their own;
 * the entry point in an executable segment; no PT_INTERP.  The initial
 * stack is kern/elf.c's SysV layout: argc, argv[], NULL, envp NULL,
 * auxv AT_PAGESZ 4096, AT_NULL; the strings above; rsp 16-aligned.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/mach_error.h>
#include <mach/mach_init.h>

#include "bootstrap.h"
#include "mach.h" /* mig-gen/ */

#define PAGE 4096ul
#define TRUNC(a) ((a) & ~(PAGE - 1))
#define ROUND(a) (((a) + PAGE - 1) & ~(PAGE - 1))

#define LOAD_USER_MIN 0x1000ul
#define LOAD_USER_LIMIT 0x80000000ul    /* the small code model: below 2 GiB */
#define LOAD_STACK_TOP 0x7ffffffff000ul /* the top of user space (VM_MAX_USER) */
#define LOAD_STACK_SIZE (256ul << 10)
#define LOAD_MAX_PHDRS 64
#define LOAD_ARGS_MAX 2048

#define AT_NULL 0
#define AT_PAGESZ 6

struct ehdr {
	uint8_t e_ident[16];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};
_Static_assert(sizeof(struct ehdr) == 64, "ELF64 header");

struct phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};
_Static_assert(sizeof(struct phdr) == 56, "ELF64 program header");

#define PT_LOAD 1
#define PT_INTERP 3
#define PF_X 1
#define PF_W 2
#define PF_R 4

static int __attribute__((format(printf, 3, 4))) ld_bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

static int ld_within(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static void ld_phdr(const void *image, const struct ehdr *eh, unsigned i, struct phdr *ph)
{
	memcpy(ph, (const char *)image + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

static int ld_loadable(const struct phdr *ph)
{
	return ph->p_type == PT_LOAD && ph->p_memsz != 0;
}

/* Checks the image; *entry gets e_entry.  0, or -1 with why. */
static int ld_validate(const void *image, size_t size, uint64_t *entry, char *why, size_t len)
{
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
	struct ehdr eh;

	if (image == NULL || size < sizeof(eh))
		return ld_bad(why, len, "truncated: %zu bytes, an ELF64 header is 64", size);
	memcpy(&eh, image, sizeof(eh));
	if (memcmp(eh.e_ident, magic, 4) != 0)
		return ld_bad(why, len, "not an ELF file (bad magic)");
	if (eh.e_ident[4] != 2 || eh.e_ident[5] != 1 || eh.e_ident[6] != 1 || eh.e_version != 1)
		return ld_bad(why, len, "not ELF64 little-endian version 1");
	if (eh.e_machine != 62)
		return ld_bad(why, len, "machine %u, not x86_64 (62)", eh.e_machine);
	if (eh.e_type != 2)
		return ld_bad(why, len, "type %u, not a static executable (ET_EXEC)", eh.e_type);
	if (eh.e_phentsize != sizeof(struct phdr) || eh.e_phnum == 0 || eh.e_phnum > LOAD_MAX_PHDRS)
		return ld_bad(why, len, "%u program headers of %u bytes", eh.e_phnum,
		              eh.e_phentsize);
	if (!ld_within(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(struct phdr), size))
		return ld_bad(why, len, "program headers beyond the file");

	unsigned nload = 0;
	int entry_ok = 0;

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct phdr ph;

		ld_phdr(image, &eh, i, &ph);
		if (ph.p_type == PT_INTERP)
			return ld_bad(why, len, "dynamically linked (PT_INTERP)");
		if (!ld_loadable(&ph))
			continue;
		if (!ld_within(ph.p_offset, ph.p_filesz, size))
			return ld_bad(why, len, "segment %u: file bytes beyond the file", i);
		if (ph.p_filesz > ph.p_memsz)
			return ld_bad(why, len, "segment %u: p_filesz > p_memsz", i);
		if (ph.p_vaddr < LOAD_USER_MIN ||
		    !ld_within(ph.p_vaddr, ph.p_memsz, LOAD_USER_LIMIT))
			return ld_bad(why, len, "segment %u: %#lx+%#lx outside [%#lx, %#lx)", i,
			              (unsigned long)ph.p_vaddr, (unsigned long)ph.p_memsz,
			              LOAD_USER_MIN, LOAD_USER_LIMIT);
		if (ph.p_flags & ~(uint32_t)(PF_R | PF_W | PF_X))
			return ld_bad(why, len, "segment %u: unknown flags %#x", i, ph.p_flags);
		for (unsigned j = 0; j < i; j++) {
			struct phdr q;

			ld_phdr(image, &eh, j, &q);
			if (ld_loadable(&q) && TRUNC(ph.p_vaddr) < ROUND(q.p_vaddr + q.p_memsz) &&
			    TRUNC(q.p_vaddr) < ROUND(ph.p_vaddr + ph.p_memsz))
				return ld_bad(why, len, "segments %u and %u share pages", j, i);
		}
		if ((ph.p_flags & PF_X) && eh.e_entry >= ph.p_vaddr &&
		    eh.e_entry - ph.p_vaddr < ph.p_memsz)
			entry_ok = 1;
		nload++;
	}
	if (nload == 0)
		return ld_bad(why, len, "no loadable segment");
	if (!entry_ok)
		return ld_bad(why, len, "entry point %#lx not in an executable segment",
		              (unsigned long)eh.e_entry);
	*entry = eh.e_entry;
	return 0;
}

static vm_prot_t ld_prot(uint32_t flags)
{
	return ((flags & PF_R) ? VM_PROT_READ : 0) | ((flags & PF_W) ? VM_PROT_WRITE : 0) |
	       ((flags & PF_X) ? VM_PROT_EXECUTE : 0);
}

static int ld_kr(kern_return_t kr, const char *what, char *why, size_t len)
{
	if (kr == KERN_SUCCESS)
		return 0;
	return ld_bad(why, len, "%s: %s (%d)", what, mach_error_name(kr), kr);
}

/* The segments into task. */
static int ld_segments(mach_port_t task, const void *image, char *why, size_t len)
{
	struct ehdr eh;

	memcpy(&eh, image, sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct phdr ph;

		ld_phdr(image, &eh, i, &ph);
		if (!ld_loadable(&ph))
			continue;
		vm_address_t s = TRUNC(ph.p_vaddr);
		vm_size_t n = ROUND(ph.p_vaddr + ph.p_memsz) - s;

		if (ld_kr(vm_allocate(task, &s, n, FALSE), "vm_allocate segment", why, len))
			return -1;
		if (ph.p_filesz &&
		    ld_kr(vm_write(task, ph.p_vaddr, (vm_offset_t)image + ph.p_offset,
		                   (mach_msg_type_number_t)ph.p_filesz),
		          "vm_write segment", why, len))
			return -1;
		if (ld_kr(vm_protect(task, s, n, FALSE, ld_prot(ph.p_flags)), "vm_protect segment",
		          why, len))
			return -1;
	}
	return 0;
}

/* The stack and its argc/argv/envp/auxv frame; *sp, *uargv: where. */
static int ld_stack(mach_port_t task, int argc, const char *const argv[], uint64_t *sp,
                    uint64_t *uargv, char *why, size_t len)
{
	size_t strsz = 0;

	for (int i = 0; i < argc; i++)
		strsz += strlen(argv[i]) + 1;
	if (argc > BS_ARGC_MAX || strsz > LOAD_ARGS_MAX)
		return ld_bad(why, len, "too many arguments (%d, %zu bytes)", argc, strsz);

	size_t nwords = 1 + ((size_t)argc + 1) + 1 + 4;
	uint64_t strings = (LOAD_STACK_TOP - strsz) & ~15ul;
	uint64_t rsp = (strings - nwords * 8) & ~15ul;
	size_t fsize = LOAD_STACK_TOP - rsp;
	uint64_t *frame = calloc(1, fsize);

	if (frame == NULL)
		return ld_bad(why, len, "out of memory");
	char *str = (char *)frame + (strings - rsp);
	uint64_t ustr = strings;
	size_t w = 0;

	frame[w++] = (uint64_t)argc;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		memcpy(str, argv[i], n);
		frame[w++] = ustr;
		str += n;
		ustr += n;
	}
	frame[w++] = 0; /* argv's NULL */
	frame[w++] = 0; /* envp: empty */
	frame[w++] = AT_PAGESZ;
	frame[w++] = PAGE;
	frame[w++] = AT_NULL;
	frame[w++] = 0;

	vm_address_t base = LOAD_STACK_TOP - LOAD_STACK_SIZE;
	int r =
	    ld_kr(vm_allocate(task, &base, LOAD_STACK_SIZE, FALSE), "vm_allocate stack", why, len);

	if (r == 0)
		r = ld_kr(vm_write(task, rsp, (vm_offset_t)frame, (mach_msg_type_number_t)fsize),
		          "vm_write stack", why, len);
	free(frame);
	*sp = rsp;
	*uargv = rsp + 8;
	return r;
}

int bs_load(mach_port_t task, const void *image, size_t size, int argc, const char *const argv[],
            struct bs_start *out, char *why, size_t len)
{
	if (ld_validate(image, size, &out->entry, why, len))
		return -1;
	if (ld_segments(task, image, why, len))
		return -1;
	return ld_stack(task, argc, argv, &out->rsp, &out->argv, why, len);
}
