# A stand-in for the machperf kernel, for testing the harness itself.
#
# Multiboot v1, ELF32, 32-bit protected mode as QEMU's -kernel leaves it.
# It looks for one keyword in its command line and prints canned KTAP on
# COM1, then leaves through isa-debug-exit (port 0xf4) the way ktest does:
#   ktest=selftest_pass   all ok, exit 0x10 (QEMU 33)
#   ktest=selftest_fail   exactly one case not ok, exit 0x20 (QEMU 65)
#   ktest=selftest_panic  KERNEL PANIC: mid-suite, exit 0x20
#   ktest=selftest_hang   stops mid-suite forever
#   mini=silent           never prints a byte (boot timeout)
#   mini=triple           prints a line, then triple-faults (QEMU 0 with
#                         -no-reboot)
# Anything else: prints a line and exits 0x20.

        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0
        .set COM1, 0x3f8

        .text
        .code32
        .globl _start
        .align 4
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

_start:
        cli
        mov $stack_top, %esp
        xor %edi, %edi
        testl $4, (%ebx)                # MBI flags: cmdline valid
        jz 1f
        mov 16(%ebx), %edi
1:      mov %edi, cmdline

        mov $kw_silent, %eax
        call has
        test %eax, %eax
        jnz halt

        mov $kw_triple, %eax
        call has
        test %eax, %eax
        jnz do_triple

        mov $kw_pass, %eax
        call has
        test %eax, %eax
        jz 2f
        mov $out_pass, %esi
        call puts
        mov $0x10, %eax
        jmp debug_exit

2:      mov $kw_fail, %eax
        call has
        test %eax, %eax
        jz 3f
        mov $out_fail, %esi
        call puts
        mov $0x20, %eax
        jmp debug_exit

3:      mov $kw_panic, %eax
        call has
        test %eax, %eax
        jz 4f
        mov $out_panic, %esi
        call puts
        mov $0x20, %eax
        jmp debug_exit

4:      mov $kw_hang, %eax
        call has
        test %eax, %eax
        jz 5f
        mov $out_hang, %esi
        call puts
        jmp halt

5:      mov $out_unknown, %esi
        call puts
        mov $0x20, %eax
        jmp debug_exit

do_triple:
        mov $out_triple, %esi
        call puts
        lidt null_idt
        int $3                          # no IDT: #GP, #DF, triple fault

debug_exit:
        mov $0xf4, %dx
        outl %eax, %dx
halt:
        hlt
        jmp halt

# has: %eax = NUL-terminated needle; returns %eax = 1 if it occurs in the
# command line, else 0.
has:
        push %esi
        push %edi
        push %ebx
        mov cmdline, %edi
        test %edi, %edi
        jz 9f
6:      cmpb $0, (%edi)
        je 9f
        mov %edi, %esi
        mov %eax, %ebx
7:      movb (%ebx), %cl
        test %cl, %cl
        jz 8f
        cmpb (%esi), %cl
        jne 10f
        inc %esi
        inc %ebx
        jmp 7b
10:     inc %edi
        jmp 6b
8:      mov $1, %eax
        jmp 11f
9:      xor %eax, %eax
11:     pop %ebx
        pop %edi
        pop %esi
        ret

# puts: %esi = NUL-terminated string, to COM1.
puts:
        lodsb
        test %al, %al
        jz 13f
        mov %al, %cl
        mov $COM1 + 5, %dx
12:     inb %dx, %al
        test $0x20, %al                 # LSR: transmitter holding empty
        jz 12b
        mov $COM1, %dx
        mov %cl, %al
        outb %al, %dx
        jmp puts
13:     ret

        .section .rodata
null_idt:
        .word 0
        .long 0
kw_silent:      .asciz "mini=silent"
kw_triple:      .asciz "mini=triple"
kw_pass:        .asciz "selftest_pass"
kw_fail:        .asciz "selftest_fail"
kw_panic:       .asciz "selftest_panic"
kw_hang:        .asciz "selftest_hang"

out_pass:
        .ascii "machperf: minikernel booting\n"
        .ascii "KTAP version 1\n1..1\n"
        .ascii "    KTAP version 1\n    # Subtest: selftest_pass\n    1..2\n"
        .ascii "    ok 1 first\n    ok 2 second\n"
        .ascii "ok 1 selftest_pass\n"
        .ascii "# ktest totals: pass:2 fail:0 skip:0\n# ktest done\n"
        .byte 0
out_fail:
        .ascii "machperf: minikernel booting\n"
        .ascii "KTAP version 1\n1..1\n"
        .ascii "    KTAP version 1\n    # Subtest: selftest_fail\n    1..2\n"
        .ascii "    ok 1 passes\n"
        .ascii "    # selftest_fail.fails: expected 1, got 2\n"
        .ascii "    not ok 2 fails\n"
        .ascii "not ok 1 selftest_fail\n"
        .ascii "# ktest totals: pass:1 fail:1 skip:0\n# ktest done\n"
        .byte 0
out_panic:
        .ascii "machperf: minikernel booting\n"
        .ascii "KTAP version 1\n1..1\n"
        .ascii "    KTAP version 1\n    # Subtest: selftest_panic\n    1..2\n"
        .ascii "    ok 1 before\n"
        .ascii "KERNEL PANIC: selftest_panic: deliberate panic\n"
        .byte 0
out_hang:
        .ascii "machperf: minikernel booting\n"
        .ascii "KTAP version 1\n1..1\n"
        .ascii "    KTAP version 1\n    # Subtest: selftest_hang\n    1..2\n"
        .ascii "    ok 1 before\n"
        .byte 0
out_triple:
        .ascii "machperf: minikernel booting, about to triple-fault\n"
        .byte 0
out_unknown:
        .ascii "machperf: minikernel: no known keyword on the command line\n"
        .byte 0

        .bss
        .align 16
cmdline:        .long 0
        .space 4096
stack_top:

        .section .note.GNU-stack,"",@progbits
