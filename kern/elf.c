/*
 * The ELF64 loader (the rules and the stack layout are in elf.h).
 *
 * The image may sit anywhere in kernel memory with any alignment (a
 * multiboot module is byte-granular), so headers are copied out with
 * memcpy before they are read.  Every sum of two file- or user-supplied
 * numbers is checked for overflow before it is compared.
 */
#include <stdarg.h>
#include <stdbool.h>

#include "kern/elf.h"
#include "kern/kalloc.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "kern/task.h"
#include "vm/vm_user.h"

#define AT_NULL 0
#define AT_PAGESZ 6

/* One line saying why the image is refused; KERN_INVALID_ARGUMENT. */
static kern_return_t __attribute__((format(printf, 2, 3)))
elf_bad(const char *name, const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kprintf("elf: %s: %s\n", name ? name : "image", buf);
	return KERN_INVALID_ARGUMENT;
}

/* Does [off, off + len) lie within size bytes, without wrapping? */
static bool elf_within(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static void elf_phdr(const void *image, const struct elf64_ehdr *eh, unsigned i,
                     struct elf64_phdr *ph)
{
	memcpy(ph, (const char *)image + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* The page-rounded user range of a PT_LOAD already checked by elf_validate. */
static void elf_seg_range(const struct elf64_phdr *ph, uintptr_t *start, uintptr_t *end)
{
	*start = trunc_page(ph->p_vaddr);
	*end = round_page(ph->p_vaddr + ph->p_memsz);
}

kern_return_t elf_validate(const char *name, const void *image, size_t size, uintptr_t *entry)
{
	struct elf64_ehdr eh;
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };

	if (image == NULL || size < sizeof(eh))
		return elf_bad(name, "truncated: %zu bytes, an ELF64 header is %zu", size,
		               sizeof(eh));
	memcpy(&eh, image, sizeof(eh));
	if (memcmp(eh.e_ident, magic, sizeof(magic)) != 0)
		return elf_bad(name, "not an ELF file (bad magic)");
	if (eh.e_ident[4] != ELFCLASS64 || eh.e_ident[5] != ELFDATA2LSB ||
	    eh.e_ident[6] != EV_CURRENT || eh.e_version != EV_CURRENT)
		return elf_bad(name, "not ELF64 little-endian version 1 (class %u, data %u)",
		               eh.e_ident[4], eh.e_ident[5]);
	if (eh.e_machine != EM_X86_64)
		return elf_bad(name, "machine %u, not x86_64 (%u)", eh.e_machine, EM_X86_64);
	if (eh.e_type != ET_EXEC)
		return elf_bad(name, "type %u, not a static executable (ET_EXEC)", eh.e_type);
	if (eh.e_phentsize != sizeof(struct elf64_phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > ELF_MAX_PHDRS)
		return elf_bad(name, "%u program headers of %u bytes (1..%u of %zu expected)",
		               eh.e_phnum, eh.e_phentsize, ELF_MAX_PHDRS,
		               sizeof(struct elf64_phdr));
	if (!elf_within(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(struct elf64_phdr), size))
		return elf_bad(name, "program headers at %#lx beyond the file (%zu bytes)",
		               eh.e_phoff, size);

	unsigned nload = 0;
	bool entry_ok = false;

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;

		elf_phdr(image, &eh, i, &ph);
		if (ph.p_type == PT_INTERP)
			return elf_bad(name, "dynamically linked (PT_INTERP)");
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (!elf_within(ph.p_offset, ph.p_filesz, size))
			return elf_bad(name,
			               "segment %u: file bytes %#lx+%#lx beyond the file (%zu)", i,
			               ph.p_offset, ph.p_filesz, size);
		if (ph.p_filesz > ph.p_memsz)
			return elf_bad(name, "segment %u: p_filesz %#lx > p_memsz %#lx", i,
			               ph.p_filesz, ph.p_memsz);
		if (ph.p_vaddr < VM_MIN_USER || !elf_within(ph.p_vaddr, ph.p_memsz, ELF_USER_LIMIT))
			return elf_bad(name,
			               "segment %u: %#lx+%#lx outside user space [%#lx, %#lx)", i,
			               ph.p_vaddr, ph.p_memsz, VM_MIN_USER, ELF_USER_LIMIT);
		if (ph.p_flags & ~(uint32_t)(PF_R | PF_W | PF_X))
			return elf_bad(name, "segment %u: unknown flags %#x", i, ph.p_flags);

		uintptr_t s, e;

		elf_seg_range(&ph, &s, &e);
		for (unsigned j = 0; j < i; j++) {
			struct elf64_phdr q;
			uintptr_t qs, qe;

			elf_phdr(image, &eh, j, &q);
			if (q.p_type != PT_LOAD || q.p_memsz == 0)
				continue;
			elf_seg_range(&q, &qs, &qe);
			if (s < qe && qs < e)
				return elf_bad(name, "segments %u and %u share pages (%#lx..%#lx)",
				               j, i, s > qs ? s : qs, e < qe ? e : qe);
		}
		if ((ph.p_flags & PF_X) && eh.e_entry >= ph.p_vaddr &&
		    eh.e_entry - ph.p_vaddr < ph.p_memsz)
			entry_ok = true;
		nload++;
	}
	if (nload == 0)
		return elf_bad(name, "no loadable segment");
	if (!entry_ok)
		return elf_bad(name, "entry point %#lx not in an executable segment", eh.e_entry);
	*entry = eh.e_entry;
	return KERN_SUCCESS;
}

static vm_prot_t elf_prot(uint32_t flags)
{
	vm_prot_t p = VM_PROT_NONE;

	if (flags & PF_R)
		p |= VM_PROT_READ;
	if (flags & PF_W)
		p |= VM_PROT_WRITE;
	if (flags & PF_X)
		p |= VM_PROT_EXECUTE;
	return p;
}

kern_return_t elf_load(struct vm_map *map, const char *name, const void *image, size_t size,
                       uintptr_t *entry)
{
	kern_return_t kr = elf_validate(name, image, size, entry);

	if (kr != KERN_SUCCESS)
		return kr;

	struct elf64_ehdr eh;

	memcpy(&eh, image, sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum && kr == KERN_SUCCESS; i++) {
		struct elf64_phdr ph;
		uintptr_t s, e;

		elf_phdr(image, &eh, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		elf_seg_range(&ph, &s, &e);
		kr = vm_allocate(map, &s, e - s, false);
		if (kr == KERN_SUCCESS)
			kr = vm_write(map, ph.p_vaddr, (const char *)image + ph.p_offset,
			              ph.p_filesz);
		if (kr == KERN_SUCCESS)
			kr = vm_protect(map, s, e - s, false, elf_prot(ph.p_flags));
	}
	return kr;
}

kern_return_t elf_stack_setup(struct vm_map *map, int argc, const char *const argv[], uintptr_t *sp,
                              uintptr_t *uargv)
{
	size_t strsz = 0;

	if (argc < 0 || argc > ELF_ARGC_MAX)
		return KERN_INVALID_ARGUMENT;
	for (int i = 0; i < argc; i++) {
		strsz += strnlen(argv[i], ELF_ARGS_MAX) + 1;
		if (strsz > ELF_ARGS_MAX)
			return KERN_INVALID_ARGUMENT;
	}

	/* argc, argv[] + NULL, envp NULL, auxv: two pairs. */
	size_t nwords = 1 + ((size_t)argc + 1) + 1 + 4;
	uintptr_t top = ELF_STACK_TOP;
	uintptr_t strings = (top - strsz) & ~(uintptr_t)15;
	uintptr_t rsp = (strings - nwords * 8) & ~(uintptr_t)15;
	size_t len = top - rsp;
	uint64_t *frame = kalloc(len);

	if (frame == NULL)
		return KERN_RESOURCE_SHORTAGE;
	memset(frame, 0, len);

	char *kstr = (char *)frame + (strings - rsp);
	uintptr_t ustr = strings;
	size_t w = 0;

	frame[w++] = (uint64_t)argc;
	for (int i = 0; i < argc; i++) {
		size_t n = strnlen(argv[i], ELF_ARGS_MAX) + 1;

		memcpy(kstr, argv[i], n - 1);
		kstr[n - 1] = '\0';
		frame[w++] = ustr;
		kstr += n;
		ustr += n;
	}
	frame[w++] = 0; /* argv's NULL */
	frame[w++] = 0; /* envp: empty */
	frame[w++] = AT_PAGESZ;
	frame[w++] = PAGE_SIZE;
	frame[w++] = AT_NULL;
	frame[w++] = 0;

	uintptr_t base = ELF_STACK_TOP - ELF_STACK_SIZE;
	kern_return_t kr = vm_allocate(map, &base, ELF_STACK_SIZE, false);

	if (kr == KERN_SUCCESS)
		kr = vm_write(map, rsp, frame, len);
	kfree(frame);
	if (kr == KERN_SUCCESS) {
		*sp = rsp;
		*uargv = rsp + 8;
	}
	return kr;
}

kern_return_t elf_exec(struct task *task, const void *image, size_t size, int argc,
                       const char *const argv[], struct thread **out)
{
	uintptr_t entry, sp, uargv;
	kern_return_t kr = elf_load(task->map, task->name, image, size, &entry);

	if (kr == KERN_SUCCESS)
		kr = elf_stack_setup(task->map, argc, argv, &sp, &uargv);
	if (kr == KERN_SUCCESS)
		kr = task_thread_create(task, entry, sp, (uint64_t)argc, uargv, out);
	return kr;
}
