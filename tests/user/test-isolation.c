/*
 * Address-space isolation between tasks.  Run two or more instances in
 * one group with different patterns:
 *
 *	tests/user/test-isolation.elf a group=iso
 *	tests/user/test-isolation.elf b group=iso
 *
 * Each maps the same fixed address, fills it, its .data and its stack
 * with its own pattern, yields many times (so the others run in between),
 * and checks that it still sees only its own pattern.  A shared or
 * leaked page shows up as another instance's pattern.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/mig_errors.h>

#include "libktap.h"
#include "mach.h"      /* mig-gen/: vm_allocate ... */
#include "mach_port.h" /* mig-gen/: mach_port_deallocate */

#define REGION_ADDR 0x10000000ul /* the same in every instance */
#define REGION_SIZE (16 * 4096ul)
#define ROUNDS 500

static uint64_t data_word[512] = { 1 }; /* .data, same address in every instance */

static uint64_t pattern_of(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h | 1;
}

static uint64_t word(uint64_t pattern, size_t i)
{
	return pattern ^ (i * 0x9e3779b97f4a7c15ull);
}

/* Index of the first word that differs, or n. */
static size_t first_bad(const volatile uint64_t *p, size_t n, uint64_t pattern)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != word(pattern, i))
			return i;
	return n;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "default";
	uint64_t pattern = pattern_of(name);
	volatile uint64_t stack_word[256];
	volatile uint64_t *region;
	uintptr_t addr = REGION_ADDR;
	size_t nregion = REGION_SIZE / 8, ndata = sizeof(data_word) / 8, nstack = 256;
	size_t bad_region = 0, bad_data = 0, bad_stack = 0;
	int rounds_ok = 0, yielded = 0;
	kern_return_t kr;

	ktap_plan(4);
	ktap_diag("pattern %s = %#llx", name, (unsigned long long)pattern);
	kr = vm_allocate(mach_task_self(), &addr, REGION_SIZE, 0);
	if (!ktap_ok(kr == KERN_SUCCESS && addr == REGION_ADDR, "fixed_allocation_private")) {
		ktap_diag("vm_allocate fixed %#lx: %s (%d)", REGION_ADDR, mach_error_name(kr), kr);
		return ktap_done();
	}
	region = (volatile uint64_t *)addr;
	for (size_t i = 0; i < nregion; i++)
		region[i] = word(pattern, i);
	for (size_t i = 0; i < ndata; i++)
		data_word[i] = word(pattern, i);
	for (size_t i = 0; i < nstack; i++)
		stack_word[i] = word(pattern, i);

	for (int r = 0; r < ROUNDS; r++) {
		yielded += swtch() != 0;
		/* Rewrite one word per round, so a stale copy would also show. */
		region[r % nregion] = word(pattern, r % nregion);
		bad_region = first_bad(region, nregion, pattern);
		bad_data = first_bad(data_word, ndata, pattern);
		bad_stack = first_bad(stack_word, nstack, pattern);
		if (bad_region < nregion || bad_data < ndata || bad_stack < nstack)
			break;
		rounds_ok++;
	}
	ktap_diag("%d rounds clean, swtch found others ready %d times", rounds_ok, yielded);
	if (bad_region < nregion)
		ktap_diag("region word %zu: %#llx", bad_region,
		          (unsigned long long)region[bad_region]);
	ktap_ok(bad_region == nregion, "fixed_region_keeps_own_pattern");
	ktap_ok(bad_data == ndata, "data_keeps_own_pattern");
	ktap_ok(bad_stack == nstack, "stack_keeps_own_pattern");
	return ktap_done();
}
