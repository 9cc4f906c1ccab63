/*
 * Symbolic addresses.  The table is sorted by address: ksym_addrs[i] is
 * the start of the function whose name starts at ksym_names +
 * ksym_name_off[i].  Before the second link pass fills .ksyms, the weak
 * empty table below is used and lookups fail gracefully.
 */
#include <stddef.h>

#include "kern/ksyms.h"
#include "kern/printf.h"

__attribute__((weak)) const uint64_t ksym_count = 0;
__attribute__((weak)) const uint64_t ksym_addrs[1];
__attribute__((weak)) const uint32_t ksym_name_off[1];
__attribute__((weak)) const char ksym_names[1];

extern char _text[], _etext[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	size_t lo = 0, hi = ksym_count;

	if (addr < (uint64_t)_text || addr >= (uint64_t)_etext || hi == 0)
		return NULL;
	/* The last entry whose address is <= addr. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ksym_addrs[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksym_addrs[lo] > addr)
		return NULL;
	if (offset)
		*offset = addr - ksym_addrs[lo];
	return ksym_names + ksym_name_off[lo];
}

void ksym_print_addr(const char *prefix, uint64_t addr)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		kprintf("%s%016lx %s+%#lx\n", prefix, addr, name, off);
	else
		kprintf("%s%016lx ?\n", prefix, addr);
}

static int ksym_kernel_stack_addr(uint64_t a)
{
	/* Frames live in the kernel image (boot stack) or the direct map. */
	return a >= 0xffff800000000000ull && (a & 7) == 0;
}

void ksym_backtrace(uint64_t rip, uint64_t rbp)
{
	kprintf("  backtrace:\n");
	ksym_print_addr("    ", rip);
	for (int depth = 0; depth < 32 && rbp && ksym_kernel_stack_addr(rbp); depth++) {
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t ret = frame[1];

		if (!ret)
			break;
		/* ret - 1 lies inside the call instruction, hence in the caller. */
		uint64_t off;
		const char *name = ksym_lookup(ret - 1, &off);

		if (name)
			kprintf("    %016lx %s+%#lx\n", ret, name, off + 1);
		else
			kprintf("    %016lx ?\n", ret);
		if (frame[0] <= rbp)
			break; /* frames grow upwards; anything else is corrupt */
		rbp = frame[0];
	}
}

__attribute__((noinline)) void ksym_backtrace_here(void)
{
	const uint64_t *frame = __builtin_frame_address(0);

	ksym_backtrace(frame[1], frame[0]);
}
