/*
 * Multiboot v1 entry: QEMU's -kernel loads us in 32-bit protected mode.
 *
 * The image is a flat binary (objcopy -O binary of machperf.elf) whose
 * multiboot header uses the "a.out kludge" (flag bit 16): QEMU refuses
 * ELF64 multiboot images, but it loads a flat image to the physical
 * addresses named in the header, so we keep one ELF64 for gdb and give
 * QEMU the flat copy.
 *
 * The 32-bit stub builds just enough paging to enter long mode:
 *   0 .. 4 GiB identity        (dropped by pmap_init once we run high)
 *   0 .. 4 GiB at PHYSMAP_BASE (0xffff800000000000, the direct map)
 *   0 .. 1 GiB at KERNEL_BASE  (0xffffffff80000000, -mcmodel=kernel)
 * all with 2 MiB pages, then jumps to kmain(magic, info_pa) on the
 * high-half boot stack.
 */
#include "x86_64/boot.h"

#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	((1 << 0) | (1 << 1) | (1 << 16))

#define PHYS(x)		((x) - KERNEL_BASE)

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header			/* header_addr: .boot runs at VMA == LMA */
	.long _phys_load_start
	.long _phys_load_end
	.long _phys_bss_end
	.long _start

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	movl	%eax, %edi		/* multiboot magic, kept for kmain */
	movl	%ebx, %esi		/* multiboot info (physical) */
	movl	$boot_stack32_top, %esp

	/* COM1 shows a sign of life before anything else can go wrong. */
	movw	$0x3f8, %dx
	movb	$'*', %al
	outb	%al, %dx

	/* Long mode present? */
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_long_mode
	movl	$0x80000001, %eax
	cpuid
	btl	$29, %edx
	jnc	no_long_mode

	/* Zero the kernel's .bss (the loader may not). */
	pushl	%edi
	movl	$PHYS(__bss_start), %edi
	movl	$_phys_bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	cld
	rep stosb
	popl	%edi

	/* Four page directories of 2 MiB pages cover 0..4 GiB. */
	movl	$PHYS(boot_pd), %ebx
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$0x83, %eax		/* present | writable | 2 MiB */
	movl	%eax, (%ebx, %ecx, 8)
	movl	%ecx, %eax
	shrl	$11, %eax		/* high bits of (ecx << 21) */
	movl	%eax, 4(%ebx, %ecx, 8)
	incl	%ecx
	cmpl	$2048, %ecx
	jne	1b

	/* Low PDPT: entries 0..3 -> the four PDs. */
	movl	$PHYS(boot_pdpt_low), %ebx
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$12, %eax
	addl	$PHYS(boot_pd) + 3, %eax
	movl	%eax, (%ebx, %ecx, 8)
	incl	%ecx
	cmpl	$4, %ecx
	jne	2b

	/* High PDPT: entry 510 -> first PD (0 .. 1 GiB at -2 GiB). */
	movl	$PHYS(boot_pdpt_high), %ebx
	movl	$PHYS(boot_pd) + 3, %eax
	movl	%eax, 510*8(%ebx)

	movl	$PHYS(boot_pml4), %ebx
	movl	$PHYS(boot_pdpt_low) + 3, %eax
	movl	%eax, (%ebx)			/* identity */
	movl	%eax, 256*8(%ebx)		/* physmap */
	movl	$PHYS(boot_pdpt_high) + 3, %eax
	movl	%eax, 511*8(%ebx)		/* kernel image */

	movl	%cr4, %eax
	orl	$(1 << 5), %eax			/* PAE */
	movl	%eax, %cr4
	movl	%ebx, %cr3

	movl	$0xC0000080, %ecx		/* EFER */
	rdmsr
	orl	$((1 << 8) | (1 << 11)), %eax	/* LME | NXE */
	wrmsr

	movl	%cr0, %eax
	orl	$((1 << 31) | (1 << 16)), %eax	/* PG | WP */
	movl	%eax, %cr0

	lgdt	boot_gdt_desc
	ljmp	$0x08, $long_entry

no_long_mode:
	movl	$no_lm_msg, %esi
	movw	$0x3f8, %dx
3:	lodsb
	testb	%al, %al
	jz	4f
	outb	%al, %dx
	jmp	3b
4:	movw	$0xf4, %dx			/* isa-debug-exit: failure */
	movl	$0x20, %eax
	outl	%eax, %dx
5:	hlt
	jmp	5b

	.code64
long_entry:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorw	%ax, %ax
	movw	%ax, %fs
	movw	%ax, %gs
	movabsq	$high_entry, %rax
	jmp	*%rax

	.section .boot.data, "aw"
	.align 8
boot_gdt:
	.quad	0
	.quad	0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: data */
boot_gdt_desc:
	.word	boot_gdt_desc - boot_gdt - 1
	.long	boot_gdt
no_lm_msg:
	.asciz	"\r\nmachperf: this CPU has no long mode; use qemu-system-x86_64\r\n"
	.align 16
	.space	256
boot_stack32_top:

	.text
high_entry:
	movabsq	$boot_stack_top, %rsp
	xorl	%ebp, %ebp			/* terminates backtraces */
	/* rdi = magic, rsi = info (zero-extended by the 32-bit moves) */
	call	kmain
6:	cli
	hlt
	jmp	6b

	.bss
	.align 4096
	.globl boot_pml4
boot_pml4:	.space 4096
boot_pdpt_low:	.space 4096
boot_pdpt_high:	.space 4096
boot_pd:	.space 4096 * 4
	/* Unmapped by kmain once the kernel's own page tables are live. */
	.globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
	.space	4096
boot_stack_bottom:
	.space	KSTACK_SIZE
boot_stack_top:
