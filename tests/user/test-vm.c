/*
 * The vm_* RPCs on mach_task_self(): demand-zero memory, anywhere and
 * fixed allocation, deallocation, protection, and hostile arguments.  Nothing
 * here faults on purpose (test-faults does that): a deallocated range is
 * checked by allocating it again and finding fresh zeroes.
 */
#include <stdint.h>
#include <string.h>

#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/mig_errors.h>
#include <mach/syscall_sw.h>

#include "libktap.h"
#include "mach.h"      /* mig-gen/: vm_allocate ... */
#include "mach_port.h" /* mig-gen/: mach_port_deallocate */

#define PAGE 4096ul
#define FIXED_ADDR 0x20000000ul /* far above the program, far below the stack */
#define KERNEL_ADDR 0xffffffff80100000ul

/* Checks kr == want; says what came back if not. */
static int kr_is(const char *what, kern_return_t kr, kern_return_t want)
{
	if (kr != want)
		ktap_diag("%s: %s (%d), want %s", what, mach_error_name(kr), kr,
		          mach_error_name(want));
	return kr == want;
}

static int kr_fails(const char *what, kern_return_t kr)
{
	if (kr == KERN_SUCCESS)
		ktap_diag("%s: KERN_SUCCESS, want an error", what);
	else
		ktap_diag("%s: %s (%d)", what, mach_error_name(kr), kr);
	return kr != KERN_SUCCESS;
}

/* Every word of every page is zero. */
static int all_zero(uintptr_t addr, size_t size)
{
	for (const volatile uint64_t *p = (const uint64_t *)addr; (uintptr_t)p < addr + size; p++)
		if (*p != 0)
			return 0;
	return 1;
}

static void test_anywhere(void)
{
	size_t size = 16 * PAGE;
	uintptr_t addr = 0;
	int ok =
	    kr_is("allocate anywhere", vm_allocate(mach_task_self(), &addr, size, 1), KERN_SUCCESS);

	ok = ok && addr != 0 && addr % PAGE == 0 && addr + size <= 0x800000000000ul;
	ok = ok && all_zero(addr, size);
	if (ok) {
		memset((void *)addr, 0xa5, size);
		for (size_t i = 0; i < size; i += 1021)
			ok = ok && ((volatile uint8_t *)addr)[i] == 0xa5;
		ok = ok &&
		     kr_is("deallocate", vm_deallocate(mach_task_self(), addr, size), KERN_SUCCESS);
	}
	ktap_ok(ok, "allocate_anywhere_demand_zero");
}

static void test_two_anywhere_disjoint(void)
{
	uintptr_t a = 0, b = 0;
	int ok = kr_is("first", vm_allocate(mach_task_self(), &a, 4 * PAGE, 1), KERN_SUCCESS) &&
	         kr_is("second", vm_allocate(mach_task_self(), &b, 4 * PAGE, 1), KERN_SUCCESS);

	ok = ok && (a + 4 * PAGE <= b || b + 4 * PAGE <= a);
	if (ok) {
		*(volatile uint64_t *)a = 1;
		*(volatile uint64_t *)b = 2;
		ok = *(volatile uint64_t *)a == 1;
	}
	vm_deallocate(mach_task_self(), a, 4 * PAGE);
	vm_deallocate(mach_task_self(), b, 4 * PAGE);
	ktap_ok(ok, "allocate_anywhere_twice_disjoint");
}

static void test_fixed(void)
{
	uintptr_t addr = FIXED_ADDR, again = FIXED_ADDR + PAGE;
	int ok = kr_is("allocate fixed", vm_allocate(mach_task_self(), &addr, 8 * PAGE, 0),
	               KERN_SUCCESS);

	ok = ok && addr == FIXED_ADDR && all_zero(addr, 8 * PAGE);
	if (ok) {
		*(volatile uint64_t *)(addr + 3 * PAGE) = 0x1234;
		ok = kr_is("overlapping fixed", vm_allocate(mach_task_self(), &again, PAGE, 0),
		           KERN_NO_SPACE);
		ok = ok && *(volatile uint64_t *)(addr + 3 * PAGE) == 0x1234;
	}
	ktap_ok(ok, "allocate_fixed_and_overlap_refused");

	/* Deallocated memory comes back as fresh zeroes, not the old contents. */
	ok = ok && kr_is("deallocate", vm_deallocate(mach_task_self(), FIXED_ADDR, 8 * PAGE),
	                 KERN_SUCCESS);
	addr = FIXED_ADDR;
	ok = ok &&
	     kr_is("reallocate", vm_allocate(mach_task_self(), &addr, 8 * PAGE, 0), KERN_SUCCESS);
	ok = ok && addr == FIXED_ADDR && all_zero(addr, 8 * PAGE);
	ok = ok && kr_is("deallocate again", vm_deallocate(mach_task_self(), FIXED_ADDR, 8 * PAGE),
	                 KERN_SUCCESS);
	ktap_ok(ok, "deallocate_then_reallocate_is_zero");
}

static void test_partial_deallocate(void)
{
	uintptr_t addr = FIXED_ADDR, mid = FIXED_ADDR + PAGE;
	int ok = kr_is("allocate", vm_allocate(mach_task_self(), &addr, 3 * PAGE, 0), KERN_SUCCESS);

	if (ok) {
		memset((void *)addr, 0x5a, 3 * PAGE);
		ok = kr_is("deallocate middle",
		           vm_deallocate(mach_task_self(), FIXED_ADDR + PAGE, PAGE), KERN_SUCCESS);
		ok = ok && ((volatile uint8_t *)addr)[0] == 0x5a &&
		     ((volatile uint8_t *)addr)[2 * PAGE] == 0x5a;
		ok = ok && kr_is("refill hole", vm_allocate(mach_task_self(), &mid, PAGE, 0),
		                 KERN_SUCCESS);
		ok = ok && all_zero(mid, PAGE) && ((volatile uint8_t *)addr)[PAGE - 1] == 0x5a;
		vm_deallocate(mach_task_self(), FIXED_ADDR, 3 * PAGE);
	}
	ktap_ok(ok, "deallocate_part_of_a_range");
}

static void test_large_sparse(void)
{
	size_t size = 32ul << 20;
	uintptr_t addr = 0;
	int ok =
	    kr_is("allocate 32 MiB", vm_allocate(mach_task_self(), &addr, size, 1), KERN_SUCCESS);

	for (size_t off = 0; ok && off < size; off += 64 * PAGE) {
		volatile uint64_t *p = (volatile uint64_t *)(addr + off);

		ok = *p == 0;
		*p = off;
	}
	for (size_t off = 0; ok && off < size; off += 64 * PAGE)
		ok = *(volatile uint64_t *)(addr + off) == off;
	ok = ok && kr_is("deallocate", vm_deallocate(mach_task_self(), addr, size), KERN_SUCCESS);
	ktap_ok(ok, "large_sparse_region");
}

static void test_protect(void)
{
	uintptr_t addr = 0;
	int ok = kr_is("allocate", vm_allocate(mach_task_self(), &addr, 2 * PAGE, 1), KERN_SUCCESS);

	if (ok) {
		((volatile uint32_t *)addr)[7] = 0xfeedface;
		ok = kr_is("protect read-only",
		           vm_protect(mach_task_self(), addr, 2 * PAGE, 0, VM_PROT_READ),
		           KERN_SUCCESS);
		ok = ok && ((volatile uint32_t *)addr)[7] == 0xfeedface;
		ok = ok && ((volatile uint32_t *)(addr + PAGE))[0] == 0; /* never touched */
		ok = ok && kr_is("protect read-write",
		                 vm_protect(mach_task_self(), addr, 2 * PAGE, 0,
		                            VM_PROT_READ | VM_PROT_WRITE),
		                 KERN_SUCCESS);
		if (ok) {
			((volatile uint32_t *)addr)[7] = 1;
			ok = ((volatile uint32_t *)addr)[7] == 1;
		}
	}
	ktap_ok(ok, "protect_read_only_then_writable");

	/* Lowering the maximum is permanent: current protection cannot exceed it. */
	ok = ok && kr_is("set max read", vm_protect(mach_task_self(), addr, PAGE, 1, VM_PROT_READ),
	                 KERN_SUCCESS);
	ok = ok && kr_is("raise above max",
	                 vm_protect(mach_task_self(), addr, PAGE, 0, VM_PROT_READ | VM_PROT_WRITE),
	                 KERN_PROTECTION_FAILURE);
	ok = ok && ((volatile uint32_t *)addr)[7] == 1;
	ktap_ok(ok, "protect_respects_maximum");
	vm_deallocate(mach_task_self(), addr, 2 * PAGE);
}

/* The kernel must check user pointers and ranges, not trust them. */
static void test_hostile(void)
{
	uintptr_t addr = KERNEL_ADDR;
	mach_port_t thread = mach_thread_self(), host = mach_host_self();
	int ok = 1;

	ok &= kr_is("allocate on MACH_PORT_NULL", vm_allocate(MACH_PORT_NULL, &addr, PAGE, 1),
	            MACH_SEND_INVALID_DEST);
	ok &= kr_is("allocate on a dead-looking name", vm_allocate(0x7fff0f00, &addr, PAGE, 1),
	            MACH_SEND_INVALID_DEST);
	ok &= kr_is("allocate on a thread port", vm_allocate(thread, &addr, PAGE, 1),
	            KERN_INVALID_ARGUMENT);
	ok &= kr_is("allocate on the host port", vm_allocate(host, &addr, PAGE, 1), MIG_BAD_ID);
	addr = KERNEL_ADDR;
	ok &=
	    kr_fails("allocate fixed in the kernel", vm_allocate(mach_task_self(), &addr, PAGE, 0));
	addr = 0x7ffffffff000ul;
	ok &= kr_fails("allocate fixed across the canonical hole",
	               vm_allocate(mach_task_self(), &addr, 2 * PAGE, 0));
	addr = 0;
	ok &= kr_fails("allocate 2^47 bytes", vm_allocate(mach_task_self(), &addr, 1ul << 47, 1));
	addr = 0;
	ok &= kr_fails("allocate size wrapping around",
	               vm_allocate(mach_task_self(), &addr, (size_t)-PAGE, 1));
	ok &= kr_fails("protect a kernel range",
	               vm_protect(mach_task_self(), KERNEL_ADDR, PAGE, 0, VM_PROT_ALL));
	ktap_ok(ok, "hostile_arguments_rejected");

	/*
	 * A kernel range is never the caller's to free.  GNU Mach clips the
	 * range and returns KERN_SUCCESS; refusing is fine too.  Either way
	 * the kernel half of the address space must survive: the next trap
	 * and a fresh allocation still work.
	 */
	kern_return_t kr = vm_deallocate(mach_task_self(), KERNEL_ADDR, PAGE);
	ktap_diag("deallocate a kernel range: %s (%d)", mach_error_name(kr), kr);
	addr = 0;
	ok = kr_is("allocate after", vm_allocate(mach_task_self(), &addr, PAGE, 1), KERN_SUCCESS);
	if (ok) {
		*(volatile uint64_t *)addr = 7;
		ok = *(volatile uint64_t *)addr == 7;
		vm_deallocate(mach_task_self(), addr, PAGE);
	}
	ktap_ok(ok, "deallocate_kernel_range_harmless");
	mach_port_deallocate(mach_task_self(), thread);
	mach_port_deallocate(mach_task_self(), host);
}

static void test_unknown_trap(void)
{
	long r = mach_trap_raw(-999, 1, 2, 3, 4, 5, 6);

	ktap_ok(kr_is("trap -999", (kern_return_t)r, KERN_INVALID_ARGUMENT),
	        "unknown_trap_invalid_argument");
}

int main(void)
{
	ktap_plan(11);
	test_anywhere();
	test_two_anywhere_disjoint();
	test_fixed();
	test_partial_deallocate();
	test_large_sparse();
	test_protect();
	test_hostile();
	test_unknown_trap();
	return ktap_done();
}
