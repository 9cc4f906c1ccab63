/*
 * The ELF loader: a hand-made executable runs and sees its arguments,
 * data and bss; corrupted headers are refused with KERN_INVALID_ARGUMENT
 * before anything is mapped.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kern/elf.h"
#include "kern/ktest.h"
#include "kern/string.h"
#include "kern/task.h"
#include "vm/vm_map.h"

#define EL_TEXT 0x401000ul
#define EL_DATA 0x403000ul
#define EL_BSS 0x404000ul
#define EL_TEXT_OFF 0x1000ul
#define EL_DATA_OFF 0x1800ul
#define EL_SIZE 0x2000ul
#define EL_WAIT_NS (10 * 1000000000ull)

extern const char el_prog[], el_prog_end[];

/*
 * exit(argv[1][0] * 256 + argc + rsp % 16 + *(char *)EL_DATA), after
 * checking rdi = argc, rsi = argv and writing the bss: 'a' * 256 + 3 + 0
 * + 0x11 for "prog a b".
 */
__asm__(".pushsection .rodata\n"
        "el_prog:\n"
        "	mov	(%rsp), %rax\n"
        "	cmp	%rax, %rdi\n"
        "	jne	1f\n"
        "	lea	8(%rsp), %rax\n"
        "	cmp	%rax, %rsi\n"
        "	jne	1f\n"
        "	mov	16(%rsp), %rax\n"
        "	movzbl	(%rax), %edi\n"
        "	shl	$8, %edi\n"
        "	add	(%rsp), %edi\n"
        "	mov	%rsp, %rax\n"
        "	and	$15, %eax\n"
        "	add	%eax, %edi\n"
        "	movzbl	0x403000, %ecx\n"
        "	add	%ecx, %edi\n"
        "	movl	$1, 0x404000\n"
        "	jmp	2f\n"
        "1:	mov	$1, %edi\n"
        "2:	mov	$-103, %rax\n"
        "	syscall\n"
        "el_prog_end:\n"
        ".popsection\n");

static uint8_t el_buf[EL_SIZE] __attribute__((aligned(16)));

/* A valid image in el_buf: text R X, data R W with 16 bytes of file data and a bss page. */
static void el_build(void)
{
	struct elf64_ehdr eh = {
		.e_ident = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = EL_TEXT,
		.e_phoff = sizeof(struct elf64_ehdr),
		.e_ehsize = sizeof(struct elf64_ehdr),
		.e_phentsize = sizeof(struct elf64_phdr),
		.e_phnum = 2,
	};
	struct elf64_phdr ph[2] = {
		{ PT_LOAD, PF_R | PF_X, EL_TEXT_OFF, EL_TEXT, EL_TEXT,
		  (uint64_t)(el_prog_end - el_prog), (uint64_t)(el_prog_end - el_prog), 0x1000 },
		{ PT_LOAD, PF_R | PF_W, EL_DATA_OFF, EL_DATA, EL_DATA, 16, 0x2000, 0x1000 },
	};

	memset(el_buf, 0, sizeof(el_buf));
	memcpy(el_buf, &eh, sizeof(eh));
	memcpy(el_buf + eh.e_phoff, ph, sizeof(ph));
	memcpy(el_buf + EL_TEXT_OFF, el_prog, el_prog_end - el_prog);
	memset(el_buf + EL_DATA_OFF, 0x11, 16);
}

static struct elf64_ehdr *el_eh(void)
{
	return (struct elf64_ehdr *)el_buf;
}

static struct elf64_phdr *el_ph(int i)
{
	return (struct elf64_phdr *)(el_buf + sizeof(struct elf64_ehdr)) + i;
}

KTEST(elf, runs_with_arguments)
{
	static const char *const argv[] = { "prog", "a", "b" };
	struct task *task;

	el_build();
	KT_ASSERT_EQ(kt, task_create("elf", &task), KERN_SUCCESS);
	if (!KT_EXPECT_EQ(kt, elf_exec(task, el_buf, sizeof(el_buf), 3, argv, NULL), KERN_SUCCESS))
		task_terminate(task);
	KT_EXPECT(kt, task_wait(task, EL_WAIT_NS));
	KT_EXPECT_EQ(kt, task->end, TASK_EXITED);
	KT_EXPECT_EQ(kt, task->exit_status, 'a' * 256 + 3 + 0 + 0x11);
	task_deallocate(task);
}

/* Loads the corrupted el_buf (size bytes of it) into a fresh map: refused, nothing mapped. */
static void el_refused(struct ktest_ctx *kt, size_t size)
{
	struct task *task;
	uintptr_t entry = 0;

	KT_ASSERT_EQ(kt, task_create("elf", &task), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, elf_load(task->map, "corrupt", el_buf, size, &entry),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, vm_map_entry_count(task->map), 0);
	task_deallocate(task);
}

KTEST(elf, truncated)
{
	el_build();
	el_refused(kt, 40);
	el_refused(kt, sizeof(struct elf64_ehdr) + sizeof(struct elf64_phdr)); /* one phdr short */
	el_refused(kt, 0);
}

KTEST(elf, wrong_magic)
{
	el_build();
	el_eh()->e_ident[1] = 'X';
	el_refused(kt, EL_SIZE);
}

KTEST(elf, wrong_class_and_version)
{
	el_build();
	el_eh()->e_ident[4] = 1; /* ELFCLASS32 */
	el_refused(kt, EL_SIZE);
	el_build();
	el_eh()->e_version = 2;
	el_refused(kt, EL_SIZE);
}

KTEST(elf, wrong_machine)
{
	el_build();
	el_eh()->e_machine = 3; /* i386 */
	el_refused(kt, EL_SIZE);
}

KTEST(elf, not_executable_type)
{
	el_build();
	el_eh()->e_type = 3; /* ET_DYN */
	el_refused(kt, EL_SIZE);
}

KTEST(elf, phdrs_outside_file)
{
	el_build();
	el_eh()->e_phoff = EL_SIZE - 8;
	el_refused(kt, EL_SIZE);
	el_build();
	el_eh()->e_phoff = ~0ul - 8; /* wraps */
	el_refused(kt, EL_SIZE);
	el_build();
	el_eh()->e_phentsize = 32;
	el_refused(kt, EL_SIZE);
	el_build();
	el_eh()->e_phnum = 0;
	el_refused(kt, EL_SIZE);
}

KTEST(elf, segment_outside_file)
{
	el_build();
	el_ph(1)->p_offset = EL_SIZE - 8; /* 16 bytes from 8 before the end */
	el_refused(kt, EL_SIZE);
	el_build();
	el_ph(0)->p_offset = ~0ul - 0x10; /* offset + filesz wraps */
	el_refused(kt, EL_SIZE);
}

KTEST(elf, filesz_above_memsz)
{
	el_build();
	el_ph(1)->p_memsz = 8;
	el_refused(kt, EL_SIZE);
}

KTEST(elf, kernel_address_segment)
{
	el_build();
	el_ph(1)->p_vaddr = 0xffffffff80000000ul;
	el_refused(kt, EL_SIZE);
	el_build();
	el_ph(1)->p_vaddr = 0x7ffff000; /* crosses 2 GiB */
	el_refused(kt, EL_SIZE);
	el_build();
	el_ph(1)->p_vaddr = 0; /* page 0 stays unmapped */
	el_refused(kt, EL_SIZE);
	el_build();
	el_ph(1)->p_memsz = ~0ul - 0x1000; /* vaddr + memsz wraps */
	el_ph(1)->p_filesz = 16;
	el_refused(kt, EL_SIZE);
}

KTEST(elf, overlapping_segments)
{
	el_build();
	el_ph(1)->p_vaddr = EL_TEXT + 0x800; /* on the text page */
	el_refused(kt, EL_SIZE);
	el_build();
	el_ph(1)->p_vaddr = EL_TEXT - 0x1000; /* its bss runs into the text */
	el_refused(kt, EL_SIZE);
}

KTEST(elf, entry_not_executable)
{
	el_build();
	el_eh()->e_entry = EL_DATA;
	el_refused(kt, EL_SIZE);
}

KTEST(elf, dynamic_refused)
{
	el_build();
	el_ph(1)->p_type = PT_INTERP;
	el_refused(kt, EL_SIZE);
}

KTEST(elf, too_many_arguments)
{
	static const char *argv[ELF_ARGC_MAX + 1];
	struct task *task;
	uintptr_t sp, uargv;

	for (int i = 0; i <= ELF_ARGC_MAX; i++)
		argv[i] = "x";
	KT_ASSERT_EQ(kt, task_create("elf", &task), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, elf_stack_setup(task->map, ELF_ARGC_MAX + 1, argv, &sp, &uargv),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, vm_map_entry_count(task->map), 0);
	task_deallocate(task);
}
