/*
 * Exceptions: kfault_try catches (vector, error code, cr2, fault rip,
 * nesting, interrupt flag), the symbol table and frame-pointer backtraces,
 * also across a trap frame.
 *
 * The suites selftest_fault and selftest_stack_overflow end the run on
 * purpose, to show the unexpected-exception report; they run only when
 * named (ktest=selftest_fault, ktest=selftest_fault.int3_uncaught, ...).
 */
#include <stdbool.h>
#include <stdint.h>

#include "kern/ksyms.h"
#include "kern/ktest.h"
#include "kern/panic.h"
#include "kern/string.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/kfault.h"
#include "x86_64/pmap.h"
#include "x86_64/trap.h"

/*
 * Canonical kernel addresses that no one maps (checked with exc_mapped):
 * PML4 slot 448 lies between the kva windows (which start at
 * 0xffffc00000000000 and hand out their first page first) and the image.
 */
#define EXC_UNMAPPED 0xffffe00000000000ul
#define EXC_UNMAPPED_TOP 0xfffffffffffff000ul
#define EXC_NONCANONICAL 0x8000000000000000ul

#define EXC_BT_MAX 32

extern char _text[], _etext[], _start[];
extern char boot_stack_bottom[], boot_stack_top[];
extern const uint64_t trap_entry_return_pc;
/* The table itself (weak: the first link pass has none). */
extern const uint64_t ksym_count __attribute__((weak));
extern const uint64_t ksym_addrs[] __attribute__((weak));
extern const uint32_t ksym_name_off[] __attribute__((weak));
extern const char ksym_names[] __attribute__((weak));

/*
 * Faulting instructions in assembly, so their addresses are known exactly
 * (and so the symbol table's assembly labels get tested too).
 */
void exc_asm_ud2(void);
void exc_asm_int3(void);
void exc_asm_div0(void);
void exc_asm_bad_selector(void);
extern const uint64_t exc_asm_div0_insn;

/* A selector past the end of the GDT (8 entries): #GP with that selector. */
#define EXC_BAD_SELECTOR 0x40

__asm__(".pushsection .text\n"
        "	.globl exc_asm_ud2\n"
        "exc_asm_ud2:\n"
        "	ud2\n"
        "	ret\n"
        "	.globl exc_asm_int3\n"
        "exc_asm_int3:\n"
        "	int3\n"
        "	ret\n"
        "	.globl exc_asm_div0\n"
        "exc_asm_div0:\n"
        "	xorl	%ecx, %ecx\n"
        "	movl	$1, %eax\n"
        "	xorl	%edx, %edx\n"
        "1:	divl	%ecx\n"
        "	ret\n"
        "	.globl exc_asm_bad_selector\n"
        "exc_asm_bad_selector:\n"
        "	movw	$0x40, %ax\n"
        "	movw	%ax, %fs\n"
        "	ret\n"
        "	.section .rodata\n"
        "	.globl exc_asm_div0_insn\n"
        "	.balign 8\n"
        "exc_asm_div0_insn:\n"
        "	.quad	1b\n"
        ".popsection\n");

/* Is va mapped in the current page tables? (Walks them through the physmap.) */
static bool exc_mapped(uint64_t va)
{
	const uint64_t addr_mask = 0x000ffffffffff000ul;
	uint64_t table = read_cr3() & addr_mask;

	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = ((const uint64_t *)PHYS_TO_VIRT(table))[(va >> shift) & 511];

		if (!(e & 1))
			return false;
		if (shift == 12 || (shift <= 30 && (e & 0x80)))
			return true;
		table = e & addr_mask;
	}
	return true;
}

__attribute__((noipa)) static void exc_read_unmapped(void)
{
	(void)*(volatile uint64_t *)EXC_UNMAPPED;
}

__attribute__((noipa)) static void exc_write_unmapped(void)
{
	*(volatile uint64_t *)EXC_UNMAPPED = 1;
}

__attribute__((noipa)) static void exc_call_unmapped(void)
{
	((void (*)(void))EXC_UNMAPPED)();
}

__attribute__((noipa)) static void exc_write_noncanonical(void)
{
	*(volatile uint64_t *)EXC_NONCANONICAL = 1;
}

__attribute__((noipa)) static void exc_no_fault(void)
{
}

/* Runs fn under a catch: 0 if it returned, else the fault's vector + 1. */
static int exc_catch(struct kfault_catch *c, void (*fn)(void))
{
	int r = kfault_try(c);

	if (r == 0) {
		fn();
		kfault_end(c);
	}
	return r;
}

static bool exc_expect_caught(struct ktest_ctx *kt, int r, const struct kfault_catch *c,
                              unsigned want, int line)
{
	if (r == (int)want + 1 && c->vector == want)
		return true;
	if (r == 0)
		ktest_diag(kt, "line %d: no fault caught, wanted %s (vector %u)", line,
		           trap_name(want), want);
	else
		ktest_diag(kt, "line %d: caught %s (vector %lu, try returned %d), wanted %s (%u)",
		           line, trap_name((unsigned)c->vector), c->vector, r, trap_name(want),
		           want);
	kt->failed = true;
	return false;
}

#define EXPECT_CAUGHT(r, c, v) exc_expect_caught(kt, (r), (c), (v), __LINE__)

static bool exc_names(const char *name, const char *want)
{
	return name && strcmp(name, want) == 0;
}

/* Checks pcs[i] names want, with a readable diagnostic if not. */
static bool exc_expect_frame(struct ktest_ctx *kt, const uint64_t *pcs, int n, int i,
                             const char *want, int line)
{
	uint64_t off = 0;
	const char *name = i < n ? ksym_backtrace_name(pcs, i, &off) : NULL;

	if (exc_names(name, want))
		return true;
	ktest_diag(kt, "line %d: frame %d of %d is %s+0x%lx, wanted %s", line, i, n,
	           name ? name : "?", off, want);
	kt->failed = true;
	return false;
}

#define EXPECT_FRAME(pcs, n, i, want) exc_expect_frame(kt, (pcs), (n), (i), (want), __LINE__)

KTEST(exceptions, unmapped_addresses_are_unmapped)
{
	/* The other cases rely on these; a new mapping here would break them. */
	KT_EXPECT(kt, !exc_mapped(EXC_UNMAPPED));
	KT_EXPECT(kt, !exc_mapped(EXC_UNMAPPED_TOP));
	KT_EXPECT(kt, exc_mapped((uint64_t)_text));
}

KTEST(exceptions, no_fault_returns_zero)
{
	struct kfault_catch c;
	struct kfault_catch *before = cpu_current()->fault_catch;

	KT_EXPECT_EQ(kt, exc_catch(&c, exc_no_fault), 0);
	KT_EXPECT_EQ(kt, c.vector, 0);
	KT_EXPECT_EQ(kt, c.fault_rip, 0);
	KT_EXPECT(kt, cpu_current()->fault_catch == before);
}

KTEST(exceptions, int3_caught_and_continues)
{
	struct kfault_catch c;
	volatile int reached = 0;

	if (EXPECT_CAUGHT(exc_catch(&c, exc_asm_int3), &c, T_BREAKPOINT))
		/* A trap: the saved rip is the instruction after the int3. */
		KT_EXPECT_EQ(kt, c.fault_rip, (uint64_t)exc_asm_int3 + 1);
	reached = 1;
	KT_EXPECT_EQ(kt, reached, 1);
	/* And the kernel goes on catching. */
	EXPECT_CAUGHT(exc_catch(&c, exc_asm_int3), &c, T_BREAKPOINT);
}

KTEST(exceptions, ud2_caught_at_the_instruction)
{
	struct kfault_catch c;
	uint64_t off = 1;

	if (!EXPECT_CAUGHT(exc_catch(&c, exc_asm_ud2), &c, T_INVALID_OPCODE))
		return;
	KT_EXPECT_EQ(kt, c.fault_rip, (uint64_t)exc_asm_ud2);
	KT_EXPECT_EQ(kt, c.error, 0);
	KT_EXPECT(kt, exc_names(ksym_lookup(c.fault_rip, &off), "exc_asm_ud2"));
	KT_EXPECT_EQ(kt, off, 0);
}

KTEST(exceptions, divide_by_zero)
{
	struct kfault_catch c;

	if (EXPECT_CAUGHT(exc_catch(&c, exc_asm_div0), &c, T_DIVIDE))
		KT_EXPECT_EQ(kt, c.fault_rip, exc_asm_div0_insn);
}

KTEST(exceptions, page_fault_read_unmapped)
{
	struct kfault_catch c;

	if (!EXPECT_CAUGHT(exc_catch(&c, exc_read_unmapped), &c, T_PAGE_FAULT))
		return;
	KT_EXPECT_EQ(kt, c.cr2, EXC_UNMAPPED);
	/* not present, read, kernel */
	KT_EXPECT_EQ(kt, c.error & (PF_PRESENT | PF_WRITE | PF_USER | PF_RSVD | PF_INSTR), 0);
	KT_EXPECT(kt, exc_names(ksym_lookup(c.fault_rip, NULL), "exc_read_unmapped"));
}

KTEST(exceptions, page_fault_write_unmapped)
{
	struct kfault_catch c;

	if (!EXPECT_CAUGHT(exc_catch(&c, exc_write_unmapped), &c, T_PAGE_FAULT))
		return;
	KT_EXPECT_EQ(kt, c.cr2, EXC_UNMAPPED);
	KT_EXPECT_EQ(kt, c.error & (PF_PRESENT | PF_WRITE | PF_USER | PF_INSTR), PF_WRITE);
}

KTEST(exceptions, page_fault_fetch_unmapped)
{
	struct kfault_catch c;

	if (!EXPECT_CAUGHT(exc_catch(&c, exc_call_unmapped), &c, T_PAGE_FAULT))
		return;
	KT_EXPECT_EQ(kt, c.cr2, EXC_UNMAPPED);
	KT_EXPECT_EQ(kt, c.fault_rip, EXC_UNMAPPED);
	KT_EXPECT_EQ(kt, c.error & (PF_PRESENT | PF_WRITE | PF_USER | PF_INSTR), PF_INSTR);
}

KTEST(exceptions, noncanonical_write_is_gp)
{
	struct kfault_catch c;

	if (!EXPECT_CAUGHT(exc_catch(&c, exc_write_noncanonical), &c, T_GP))
		return;
	KT_EXPECT_EQ(kt, c.error, 0);
	KT_EXPECT_EQ(kt, c.cr2, 0);
	KT_EXPECT(kt, exc_names(ksym_lookup(c.fault_rip, NULL), "exc_write_noncanonical"));
}

KTEST(exceptions, gp_error_code_is_the_selector)
{
	struct kfault_catch c;

	if (!EXPECT_CAUGHT(exc_catch(&c, exc_asm_bad_selector), &c, T_GP))
		return;
	KT_EXPECT_EQ(kt, c.error, EXC_BAD_SELECTOR);
	KT_EXPECT_EQ(kt, c.fault_rip, (uint64_t)exc_asm_bad_selector + 4);
}

KTEST(exceptions, nested_catches)
{
	struct kfault_catch outer, inner;
	struct kfault_catch *before = cpu_current()->fault_catch;
	volatile int stage = 0;

	if (kfault_try(&outer) == 0) {
		stage = 1;
		/* The inner catch takes the first fault... */
		EXPECT_CAUGHT(exc_catch(&inner, exc_read_unmapped), &inner, T_PAGE_FAULT);
		KT_EXPECT_EQ(kt, inner.cr2, EXC_UNMAPPED);
		/* ...and leaves the outer one armed and untouched. */
		KT_EXPECT(kt, cpu_current()->fault_catch == &outer);
		KT_EXPECT_EQ(kt, outer.vector, 0);
		/* A catch that sees no fault pops only itself. */
		KT_EXPECT_EQ(kt, exc_catch(&inner, exc_no_fault), 0);
		KT_EXPECT(kt, cpu_current()->fault_catch == &outer);
		stage = 2;
		exc_asm_ud2();
		stage = 3;
		kfault_end(&outer);
	}
	KT_EXPECT_EQ(kt, stage, 2);
	KT_EXPECT_EQ(kt, outer.vector, T_INVALID_OPCODE);
	KT_EXPECT_EQ(kt, outer.fault_rip, (uint64_t)exc_asm_ud2);
	KT_EXPECT(kt, cpu_current()->fault_catch == before);
}

/* Three levels; the middle one faults after the innermost has caught. */
KTEST(exceptions, nested_three_levels)
{
	struct kfault_catch a, b, c;
	struct kfault_catch *before = cpu_current()->fault_catch;
	volatile int stage = 0;
	int ra;
	volatile int rb = -1;

	ra = kfault_try(&a);
	if (ra == 0) {
		rb = kfault_try(&b);
		if (rb == 0) {
			EXPECT_CAUGHT(exc_catch(&c, exc_asm_div0), &c, T_DIVIDE);
			KT_EXPECT(kt, cpu_current()->fault_catch == &b);
			stage = 1;
			exc_write_noncanonical();
			stage = 2;
			kfault_end(&b);
		}
		KT_EXPECT(kt, cpu_current()->fault_catch == &a);
		kfault_end(&a);
	}
	KT_EXPECT_EQ(kt, ra, 0);
	EXPECT_CAUGHT(rb, &b, T_GP);
	KT_EXPECT_EQ(kt, stage, 1);
	KT_EXPECT_EQ(kt, a.vector, 0);
	KT_EXPECT(kt, cpu_current()->fault_catch == before);
}

KTEST(exceptions, interrupt_flag_preserved)
{
	struct kfault_catch c;
	int was = intr_enabled();

	EXPECT_CAUGHT(exc_catch(&c, exc_read_unmapped), &c, T_PAGE_FAULT);
	KT_EXPECT_EQ(kt, intr_enabled(), was);

	intr_disable();
	EXPECT_CAUGHT(exc_catch(&c, exc_asm_ud2), &c, T_INVALID_OPCODE);
	int off_after = intr_enabled();

	intr_enable();
	EXPECT_CAUGHT(exc_catch(&c, exc_asm_int3), &c, T_BREAKPOINT);
	int on_after = intr_enabled();

	if (!was)
		intr_disable();
	KT_EXPECT_EQ(kt, off_after, 0);
	KT_EXPECT_EQ(kt, on_after, 1);
}

/* kfault_recover's policy, on hand-made trap frames. */
KTEST(exceptions, recover_policy)
{
	struct kfault_catch c;
	struct trap_frame tf;
	struct kfault_catch *before = cpu_current()->fault_catch;

	if (kfault_try(&c) != 0) {
		KT_EXPECT(kt, !"no fault expected");
		return;
	}
	memset(&tf, 0, sizeof(tf));
	tf.cs = SEL_KCODE;
	tf.rsp = c.rsp - 64;
	tf.rip = 0x1234;
	tf.vector = T_NMI;
	KT_EXPECT(kt, !kfault_recover(&tf));
	tf.vector = T_DOUBLE_FAULT;
	KT_EXPECT(kt, !kfault_recover(&tf));
	tf.vector = T_MACHINE_CHECK;
	KT_EXPECT(kt, !kfault_recover(&tf));
	tf.vector = T_GP;
	tf.cs = SEL_UCODE | 3;
	KT_EXPECT(kt, !kfault_recover(&tf)); /* user faults are not the kernel's catch */
	tf.cs = SEL_KCODE;
	tf.rsp = c.rsp + 64;
	ktest_diag(kt, "a \"stale\" message from kfault_recover is expected next");
	KT_EXPECT(kt, !kfault_recover(&tf)); /* fault above the catch: stale */
	KT_EXPECT(kt, cpu_current()->fault_catch == &c);

	tf.rsp = c.rsp - 64;
	tf.error = 0x18;
	KT_EXPECT(kt, kfault_recover(&tf));
	KT_EXPECT(kt, cpu_current()->fault_catch == before);
	KT_EXPECT_EQ(kt, c.vector, T_GP);
	KT_EXPECT_EQ(kt, c.error, 0x18);
	KT_EXPECT_EQ(kt, c.fault_rip, 0x1234);
	KT_EXPECT_EQ(kt, tf.rip, (uint64_t)kfault_longjmp);
	KT_EXPECT_EQ(kt, tf.rdi, (uint64_t)&c);
	KT_EXPECT_EQ(kt, tf.rsi, T_GP + 1);
	if (cpu_current()->fault_catch == &c)
		kfault_end(&c);
}

__attribute__((noipa)) static int exc_sym_target(int x)
{
	volatile int y = x;

	return y * 3 + 1;
}

KTEST(exceptions, ksym_lookup_functions)
{
	uint64_t off = 99;
	uint64_t f = (uint64_t)exc_sym_target;

	KT_EXPECT_EQ(kt, exc_sym_target(1), 4);
	KT_EXPECT(kt, exc_names(ksym_lookup(f, &off), "exc_sym_target")); /* static */
	KT_EXPECT_EQ(kt, off, 0);
	KT_EXPECT(kt, exc_names(ksym_lookup(f + 5, &off), "exc_sym_target"));
	KT_EXPECT_EQ(kt, off, 5);
	KT_EXPECT(kt, exc_names(ksym_lookup((uint64_t)kfault_push, &off), "kfault_push"));
	KT_EXPECT_EQ(kt, off, 0);
	/* Assembly: a global label and a local one (trap_common). */
	KT_EXPECT(kt, exc_names(ksym_lookup((uint64_t)kfault_setjmp, &off), "kfault_setjmp"));
	KT_EXPECT_EQ(kt, off, 0);
	KT_EXPECT(kt, exc_names(ksym_lookup(trap_entry_return_pc - 1, NULL), "trap_common"));
}

KTEST(exceptions, ksym_lookup_outside_text)
{
	static int some_data;
	uint64_t off = 99;

	KT_EXPECT(kt, ksym_lookup(0, &off) == NULL);
	KT_EXPECT(kt, ksym_lookup((uint64_t)&some_data, &off) == NULL);
	KT_EXPECT(kt, ksym_lookup((uint64_t)&ksym_count, &off) == NULL);
	KT_EXPECT(kt, ksym_lookup((uint64_t)_text - 1, &off) == NULL);
	KT_EXPECT(kt, ksym_lookup((uint64_t)_etext, &off) == NULL);
	KT_EXPECT(kt, ksym_lookup((uint64_t)_start, &off) == NULL); /* 32-bit boot stub */
	KT_EXPECT(kt, ksym_lookup(EXC_UNMAPPED, &off) == NULL);
	KT_EXPECT(kt, ksym_lookup((uint64_t)_etext - 1, &off) != NULL);
}

/* The table scripts/gen-ksyms.sh emits: sorted, unique addresses, inside .text. */
KTEST(exceptions, ksym_table_well_formed)
{
	unsigned bad = 0;

	KT_ASSERT(kt, &ksym_count != NULL);
	KT_ASSERT(kt, ksym_count > 10);
	for (uint64_t i = 0; i < ksym_count; i++) {
		const char *name = ksym_names + ksym_name_off[i];
		bool ok = ksym_addrs[i] >= (uint64_t)_text && ksym_addrs[i] < (uint64_t)_etext &&
		          (i == 0 || ksym_addrs[i] > ksym_addrs[i - 1]) && name[0] != '\0';

		if (!ok && bad++ < 3)
			ktest_diag(kt, "entry %lu: %#lx \"%s\"", i, ksym_addrs[i], name);
		/* Each entry names itself. */
		uint64_t off = 1;

		if (ok && (!exc_names(ksym_lookup(ksym_addrs[i], &off), name) || off != 0) &&
		    bad++ < 3)
			ktest_diag(kt, "lookup of entry %lu (%s) gives something else", i, name);
	}
	KT_EXPECT_EQ(kt, bad, 0);
}

/* Three calls deep, each a real frame (no inlining, cloning or tail calls). */
static uint64_t exc_bt_pcs[EXC_BT_MAX];
static int exc_bt_n;

__attribute__((noipa)) static void exc_bt_level3(void)
{
	uint64_t rip;

	__asm__ volatile("leaq 0(%%rip), %0" : "=r"(rip));
	exc_bt_n = ksym_backtrace_collect(rip, (uint64_t)__builtin_frame_address(0), exc_bt_pcs,
	                                  EXC_BT_MAX);
}

__attribute__((noipa)) static void exc_bt_level2(void)
{
	exc_bt_level3();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) static void exc_bt_level1(void)
{
	exc_bt_level2();
	__asm__ volatile("" ::: "memory");
}

KTEST(exceptions, backtrace_three_deep)
{
	exc_bt_n = 0;
	exc_bt_level1();
	KT_ASSERT(kt, exc_bt_n >= 4);
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, 0, "exc_bt_level3");
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, 1, "exc_bt_level2");
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, 2, "exc_bt_level1");
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, 3, "ktest_fn_exceptions_backtrace_three_deep");
}

/*
 * Across a trap: an int3 handler (which resumes after the int3) walks from
 * its own frame through trap_dispatch and trap_common's fake frame into
 * the three functions that executed the int3.
 */
static volatile uint64_t exc_int3_resume_pc, exc_int3_tf_rip;
static volatile int exc_int3_hits, exc_int3_resumed;

static int exc_int3_handler(struct trap_frame *tf)
{
	uint64_t rip;

	if (trap_from_user(tf))
		return 0;
	exc_int3_hits++;
	exc_int3_tf_rip = tf->rip;
	__asm__ volatile("leaq 0(%%rip), %0" : "=r"(rip));
	exc_bt_n = ksym_backtrace_collect(rip, (uint64_t)__builtin_frame_address(0), exc_bt_pcs,
	                                  EXC_BT_MAX);
	return 1;
}

__attribute__((noipa)) static void exc_trap_level3(void)
{
	__asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
	                 "movq %%rax, %0\n\t"
	                 "int3\n"
	                 "1:"
	                 : "=m"(exc_int3_resume_pc)
	                 :
	                 : "rax", "memory");
	exc_int3_resumed = 1;
}

__attribute__((noipa)) static void exc_trap_level2(void)
{
	exc_trap_level3();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) static void exc_trap_level1(void)
{
	exc_trap_level2();
	__asm__ volatile("" ::: "memory");
}

KTEST(exceptions, backtrace_across_trap_frame)
{
	trap_handler_t old = trap_register(T_BREAKPOINT, exc_int3_handler);
	int i;

	exc_bt_n = 0;
	exc_int3_hits = exc_int3_resumed = 0;
	exc_trap_level1();
	trap_register(T_BREAKPOINT, old);

	KT_EXPECT_EQ(kt, exc_int3_hits, 1);
	KT_EXPECT_EQ(kt, exc_int3_resumed, 1); /* handled: went on after the int3 */
	KT_EXPECT_EQ(kt, exc_int3_tf_rip, exc_int3_resume_pc);
	for (i = 0; i < exc_bt_n; i++)
		if (exc_bt_pcs[i] == trap_entry_return_pc)
			break;
	KT_ASSERT(kt, i < exc_bt_n);
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, 0, "exc_int3_handler");
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, i - 1, "trap_dispatch");
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, i, "trap_common");
	/* The interrupted instruction itself, not a return address. */
	KT_EXPECT_EQ(kt, exc_bt_pcs[i + 1], exc_int3_resume_pc);
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, i + 1, "exc_trap_level3");
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, i + 2, "exc_trap_level2");
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, i + 3, "exc_trap_level1");
	EXPECT_FRAME(exc_bt_pcs, exc_bt_n, i + 4,
	             "ktest_fn_exceptions_backtrace_across_trap_frame");
}

/* A corrupt chain ends the walk where it breaks, without a panic. */
KTEST(exceptions, backtrace_stops_at_bad_frame)
{
	uint64_t pcs[8];
	uint64_t chain[2][2];
	struct kfault_catch *before = cpu_current()->fault_catch;

	KT_EXPECT_EQ(kt, ksym_backtrace_collect(1, 0, pcs, 8), 1);
	KT_EXPECT_EQ(kt, ksym_backtrace_collect(1, (uint64_t)chain + 4, pcs, 8), 1);
	KT_EXPECT_EQ(kt, ksym_backtrace_collect(1, EXC_UNMAPPED, pcs, 8), 1);

	/* Two good frames, then a link to an unmapped (higher) address. */
	chain[0][0] = (uint64_t)chain[1];
	chain[0][1] = 0x111;
	chain[1][0] = EXC_UNMAPPED_TOP;
	chain[1][1] = 0x222;
	KT_ASSERT_EQ(kt, ksym_backtrace_collect(1, (uint64_t)chain[0], pcs, 8), 3);
	KT_EXPECT_EQ(kt, pcs[1], 0x111);
	KT_EXPECT_EQ(kt, pcs[2], 0x222);
	/* A link downwards (a loop) stops too. */
	chain[1][0] = (uint64_t)chain[0];
	KT_EXPECT_EQ(kt, ksym_backtrace_collect(1, (uint64_t)chain[0], pcs, 8), 3);
	/* max is respected. */
	KT_EXPECT_EQ(kt, ksym_backtrace_collect(1, (uint64_t)chain[0], pcs, 2), 2);
	KT_EXPECT(kt, cpu_current()->fault_catch == before);
}

/*
 * selftest_fault: unexpected exceptions end the run with a report.  The
 * first case is what ktest=selftest_fault runs; name the others to see
 * them (ktest=selftest_fault.call_bad_pointer).
 */
__attribute__((noipa)) static void exc_oops_level3(void)
{
	exc_read_unmapped();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) static void exc_oops_level2(void)
{
	exc_oops_level3();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) static void exc_oops_level1(void)
{
	exc_oops_level2();
	__asm__ volatile("" ::: "memory");
}

KTEST(selftest_fault, page_fault)
{
	exc_oops_level1();
	KT_EXPECT(kt, !"survived an unexpected page fault");
}

KTEST(selftest_fault, call_bad_pointer)
{
	exc_call_unmapped();
	KT_EXPECT(kt, !"survived a call to an unmapped address");
}

KTEST(selftest_fault, int3_uncaught)
{
	exc_asm_int3();
	KT_EXPECT(kt, !"survived an int3 outside any catch");
}

KTEST(selftest_fault, gp_noncanonical)
{
	exc_write_noncanonical();
	KT_EXPECT(kt, !"survived a #GP");
}

KTEST(selftest_fault, gp_bad_selector)
{
	exc_asm_bad_selector();
	KT_EXPECT(kt, !"survived a #GP");
}

KTEST(selftest_fault, fault_inside_panic)
{
	/* The panic's own formatting faults: the run must still end. */
	panic("selftest_fault: %s", (const char *)EXC_UNMAPPED);
}

/*
 * selftest_stack_overflow: deep recursion on the boot stack must give a
 * double-fault report (on the IST stack), not a triple fault.
 *
 * The boot stack (.bss, x86_64/boot.S) has no guard page yet and the boot
 * page tables map the image with 2 MiB pages: an overflow would run into
 * boot_pd and then the kernel itself.  So this test makes a guard for
 * itself, splitting the 2 MiB mapping and unmapping the page below the
 * stack (boot_pd's last page; the MMU reaches page tables by physical
 * address, so only this virtual alias goes).  The run ends here anyway.
 * A permanent guard belongs to the memory code (pmap_init).
 */
static uint64_t exc_guard_pt[512] __attribute__((aligned(4096)));

static bool exc_unmap_guard(uint64_t va)
{
	const uint64_t addr_mask = 0x000ffffffffff000ul;
	uint64_t table = read_cr3() & addr_mask;
	uint64_t *e = NULL;

	for (int shift = 39; shift >= 12; shift -= 9) {
		e = &((uint64_t *)PHYS_TO_VIRT(table))[(va >> shift) & 511];
		if (!(*e & 1))
			return true; /* already unmapped */
		if (shift == 12)
			break;
		if (*e & 0x80) {
			if (shift != 21)
				return false; /* a 1 GiB page: not handled */
			/* Split the 2 MiB page: same frames, same bits (PS off, PAT moved). */
			uint64_t base = *e & 0x000fffffffe00000ul;
			uint64_t bits = (*e & 0x800000000000017ful) | (*e & 0x1000 ? 0x80 : 0);

			for (int i = 0; i < 512; i++)
				exc_guard_pt[i] = (base + (uint64_t)i * 4096) | bits;
			*e = KIMG_TO_PHYS(exc_guard_pt) | (*e & 0x7) | 0x20;
			e = &exc_guard_pt[(va >> 12) & 511];
			break;
		}
		table = *e & addr_mask;
	}
	uint64_t pa = *e & addr_mask;

	*e = 0;
	write_cr3(read_cr3());
	invlpg(va);
	invlpg((uintptr_t)PHYS_TO_VIRT(pa));
	return true;
}

static volatile unsigned exc_depth;

__attribute__((noipa)) static unsigned exc_recurse(unsigned n)
{
	volatile char pad[200];

	pad[n % sizeof(pad)] = (char)n;
	exc_depth = n;
	if (n == 0xffffffff)
		return 0;
	return exc_recurse(n + 1) + pad[0];
}

KTEST(selftest_stack_overflow, boot_stack)
{
	uint64_t rsp = (uint64_t)__builtin_frame_address(0);
	uint64_t guard = (uint64_t)boot_stack_bottom - 4096;

	if (rsp < (uint64_t)boot_stack_bottom || rsp >= (uint64_t)boot_stack_top)
		KT_SKIP(kt, "not running on the boot stack");
	KT_ASSERT(kt, exc_unmap_guard(guard));
	KT_ASSERT(kt, !exc_mapped(guard));
	ktest_diag(kt, "guard page at %#lx; recursing from rsp %#lx", guard, rsp);
	exc_recurse(0);
	KT_EXPECT(kt, !"survived a kernel stack overflow");
}
