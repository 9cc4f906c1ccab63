/*
 * Kernel link map.  Preprocessed by cpp (see Makefrag.am).
 *
 * .boot runs at its physical address (VMA == LMA) before paging; the rest
 * is linked at KERNEL_BASE + physical.  Code and writable data sit on
 * separate pages (TCG re-translates code on pages that are written).
 * .ksyms comes after every section that holds code, so the second link
 * (which fills it) cannot move a function.
 */
#include "x86_64/boot.h"

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(_start)

SECTIONS
{
	. = KERNEL_PHYS_LOAD;
	_phys_load_start = .;
	.boot : {
		KEEP(*(.multiboot))
		*(.boot.text)
		*(.boot.data)
	}

	. = ALIGN(4096) + KERNEL_BASE;
	_text = .;
	.text : AT(ADDR(.text) - KERNEL_BASE) {
		*(.text .text.*)
	}
	_etext = .;

	. = ALIGN(4096);
	.rodata : AT(ADDR(.rodata) - KERNEL_BASE) {
		*(.rodata .rodata.*)
		. = ALIGN(8);
		__ktest_start = .;
		KEEP(*(.ktest))
		__ktest_end = .;
	}
	.eh_frame : AT(ADDR(.eh_frame) - KERNEL_BASE) { *(.eh_frame) }

	. = ALIGN(4096);
	_data = .;
	.data : AT(ADDR(.data) - KERNEL_BASE) {
		*(.data .data.*)
	}
	.ksyms : AT(ADDR(.ksyms) - KERNEL_BASE) {
		KEEP(*(.ksyms))
	}
	_phys_load_end = . - KERNEL_BASE;

	. = ALIGN(4096);
	.bss : AT(ADDR(.bss) - KERNEL_BASE) {
		__bss_start = .;
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(4096);
	}
	_kernel_end = .;
	_phys_bss_end = . - KERNEL_BASE;

	/DISCARD/ : { *(.note.*) *(.comment) }
}
