/*
 * Demand-zero faults, the vm_* calls' edge cases, vm_read/vm_write, and
 * copyin/copyout/copyinstr against a map activated on this CPU.
 *
 * The tests run in a kernel thread (no task), so the fault handler
 * resolves against the map activated with vm_map_activate.  Each case
 * that activates a map switches back to the kernel's tables before it
 * returns; interrupts stay on (a preempting kernel thread keeps the
 * loaded tables, which share the kernel half).
 */
#include <stdbool.h>

#include "kern/kern_return.h"
#include "kern/ktest.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/thread.h"
#include "vm/vm_copy.h"
#include "vm/vm_fault.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"
#include "x86_64/cpu.h"
#include "x86_64/kfault.h"
#include "x86_64/trap.h"

#define P PAGE_SIZE
#define RW (VM_PROT_READ | VM_PROT_WRITE)

static struct vm_map *vft_map(struct ktest_ctx *kt)
{
	struct vm_map *map = NULL;

	KT_EXPECT_EQ(kt, vm_map_create(&map), KERN_SUCCESS);
	return map;
}

/* Allocates size bytes anywhere; 0 on failure (reported). */
static uintptr_t vft_alloc(struct ktest_ctx *kt, struct vm_map *map, size_t size)
{
	uintptr_t a = 0;

	if (!KT_EXPECT_EQ(kt, vm_allocate(map, &a, size, true), KERN_SUCCESS))
		return 0;
	return a;
}

static bool vft_all_zero(paddr_t pa)
{
	const uint64_t *p = PHYS_TO_VIRT(pa);

	for (unsigned i = 0; i < P / 8; i++)
		if (p[i])
			return false;
	return true;
}

KTEST(vm_fault, demand_zero_on_touch)
{
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, 2 * P);

	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, a), 0);
	/* The first page also brings the page tables; the second only itself. */
	KT_EXPECT_EQ(kt, vm_fault(map, a + 17, 0), KERN_SUCCESS);

	uint64_t before = vm_page_free_count();

	KT_EXPECT_EQ(kt, vm_fault(map, a + P + 100, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, before - vm_page_free_count(), 1);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 2);

	paddr_t pa = pmap_extract(&map->pmap, a + P);

	KT_ASSERT(kt, pa != 0);
	KT_EXPECT(kt, vft_all_zero(pa));
	/* Faulting a resident page again allocates nothing. */
	before = vm_page_free_count();
	KT_EXPECT_EQ(kt, vm_fault(map, a + P, PF_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_page_free_count(), before);
	KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, a + P), pa);
	KT_EXPECT_EQ(kt, map->zero_fills, 2);
	vm_map_destroy(map);
}

KTEST(vm_fault, protection_failures)
{
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, P);

	KT_EXPECT_EQ(kt, vm_protect(map, a, P, false, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_WRITE), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_INSTR), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 0);
	KT_EXPECT_EQ(kt, vm_fault(map, a, 0), KERN_SUCCESS);
	/* Now present and read-only: a write is still refused (a protection fault). */
	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_PRESENT | PF_WRITE), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(kt, vm_protect(map, a, P, false, VM_PROT_ALL), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_PRESENT | PF_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_INSTR), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_protect(map, a, P, false, VM_PROT_NONE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_fault(map, a, 0), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, a), 0); /* unmapped ... */
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 1);  /* ... but kept */
	vm_map_destroy(map);
}

KTEST(vm_fault, outside_entries)
{
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, P);

	KT_EXPECT_EQ(kt, vm_fault(map, a + P, 0), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_fault(map, a - 1, 0), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_fault(map, 0, 0), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_fault(map, VM_MAX_USER, 0), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_fault(map, (uintptr_t)&map, PF_WRITE), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 0);
	vm_map_destroy(map);
}

KTEST(vm_fault, deallocate_frees_the_page)
{
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, 2 * P);

	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_fault(map, a + P, PF_WRITE), KERN_SUCCESS);

	uint64_t before = vm_page_free_count();

	KT_EXPECT_EQ(kt, vm_deallocate(map, a + P + 5, 1), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_page_free_count() - before, 1); /* the page table still maps a */
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 1);
	KT_EXPECT_EQ(kt, pmap_extract(&map->pmap, a + P), 0);
	KT_EXPECT_EQ(kt, vm_fault(map, a + P, 0), KERN_INVALID_ADDRESS);
	KT_EXPECT(kt, pmap_extract(&map->pmap, a) != 0);
	KT_EXPECT_EQ(kt, vm_deallocate(map, a + P, P), KERN_INVALID_ADDRESS); /* already gone */
	KT_EXPECT_EQ(kt, vm_deallocate(map, a, 2 * P), KERN_INVALID_ADDRESS); /* partly gone */
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 1);
	KT_EXPECT_EQ(kt, vm_deallocate(map, a, P), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 0);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 0);
	vm_map_destroy(map);
}

/*
 * Takes free pages until `leave' are left (or none can be had), chained
 * through their first word; vft_unhog gives them back.  With interrupts
 * masked around both, nothing else takes or frees pages in between.
 */
static paddr_t vft_hog(uint64_t leave)
{
	paddr_t head = 0, pa;

	while (vm_page_free_count() > leave && (pa = vm_page_alloc()) != 0) {
		*(paddr_t *)PHYS_TO_VIRT(pa) = head;
		head = pa;
	}
	return head;
}

static void vft_unhog(paddr_t head)
{
	while (head) {
		paddr_t next = *(paddr_t *)PHYS_TO_VIRT(head);

		vm_page_free(head);
		head = next;
	}
}

KTEST(vm_fault, out_of_memory)
{
	vm_map_reclaim(); /* what maps keep for speed is free memory here */
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, 2 * P);

	/* Take every free page but one: the data page then has no page table. */
	unsigned long flags = intr_save();
	paddr_t head = vft_hog(1), pa;
	kern_return_t one_left = vm_fault(map, a, PF_WRITE);
	uint64_t left = vm_page_free_count();

	pa = vm_page_alloc();
	kern_return_t none_left = vm_fault(map, a, PF_WRITE);
	uint64_t resident = vm_map_resident_pages(map);

	if (pa)
		vm_page_free(pa);
	vft_unhog(head);
	intr_restore(flags);

	KT_EXPECT_EQ(kt, one_left, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT_EQ(kt, left, 1);
	KT_EXPECT_EQ(kt, none_left, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT_EQ(kt, resident, 0);
	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_WRITE), KERN_SUCCESS);
	vm_map_destroy(map);
}

KTEST(vm_fault, vm_user_arguments)
{
	struct vm_map *map = vft_map(kt);
	uintptr_t a;

	KT_ASSERT(kt, map);
	a = 0x5000;
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, 0, false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, a, 0);
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 0);
	KT_EXPECT_EQ(kt, vm_allocate(NULL, &a, P, true), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, vm_deallocate(NULL, a, P), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, vm_protect(NULL, a, P, false, 0), KERN_INVALID_ARGUMENT);

	/* Rounding: address down, end up. */
	a = 0x40000123;
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, 1, false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, a, 0x40000000);
	a = 0x40001fff;
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, 2, false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, a, 0x40001000);
	KT_EXPECT_EQ(kt, map->size, 2 * P);
	a = 0x40001000;
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, P, false), KERN_NO_SPACE);

	/* Outside user space, wrapping, too large. */
	a = 0;
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, P, false), KERN_INVALID_ADDRESS);
	a = VM_MAX_USER;
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, P, false), KERN_INVALID_ADDRESS);
	a = 0xffff800000000000ul;
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, P, false), KERN_INVALID_ADDRESS);
	a = 0x40000000;
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, ~0ul - 10, false), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, ~0ul, true), KERN_NO_SPACE);
	KT_EXPECT_EQ(kt, vm_allocate(map, &a, VM_MAX_USER, true), KERN_NO_SPACE);
	KT_EXPECT_EQ(kt, vm_deallocate(map, ~0ul - 10, 100), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_deallocate(map, 0x40000000, ~0ul), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_deallocate(map, 0xffffffff80000000ul, P), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_protect(map, ~0ul - 10, 100, false, 0), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_protect(map, 0x40000000, P, false, 0x10), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, vm_protect(map, 0x50000000, P, false, 0), KERN_INVALID_ADDRESS);

	/* Size 0 changes nothing and succeeds. */
	KT_EXPECT_EQ(kt, vm_deallocate(map, 0x40000000, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_protect(map, 0x40000000, 0, false, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, map->size, 2 * P);

	KT_EXPECT_EQ(kt, vm_protect(map, 0x40000fff, 2, true, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_protect(map, 0x40000000, 1, false, RW), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(kt, vm_deallocate(map, 0x40000001, 2 * P - 2), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, map->size, 0);
	vm_map_destroy(map);
}

KTEST(vm_fault, vm_read_write)
{
	static uint8_t buf[3 * 4096], back[3 * 4096];
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, 4 * P);

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	KT_EXPECT_EQ(kt, vm_write(map, a + 100, buf, 2 * P + 50), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 3);
	memset(back, 0xee, sizeof(back));
	KT_EXPECT_EQ(kt, vm_read(map, a + 100, back, 2 * P + 50), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, memcmp(back, buf, 2 * P + 50), 0);
	/* Around the data: zeros, and the untouched last page is not allocated by a read. */
	KT_EXPECT_EQ(kt, vm_read(map, a, back, 100), KERN_SUCCESS);
	KT_EXPECT(kt, back[0] == 0 && back[99] == 0);
	KT_EXPECT_EQ(kt, vm_read(map, a + 3 * P, back, P), KERN_SUCCESS);
	KT_EXPECT(kt, back[0] == 0 && back[P - 1] == 0);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 3);

	/* Beyond the allocation, read-only, unallocated, kernel addresses. */
	KT_EXPECT_EQ(kt, vm_read(map, a + 3 * P, back, P + 1), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_write(map, a + 4 * P - 1, buf, 2), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_write(map, (uintptr_t)buf, buf, 1), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_protect(map, a + 3 * P, P, false, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_write(map, a + 3 * P - 1, buf, 2), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(kt, vm_read(map, a + 3 * P - 1, back, 2), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_protect(map, a + 3 * P, P, false, VM_PROT_NONE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_read(map, a + 3 * P, back, 1), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(kt, vm_read(map, a, back, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_read(NULL, a, back, 1), KERN_INVALID_ARGUMENT);

	/* What vm_write put there is what the task sees through its page tables. */
	vm_map_activate(map);
	memset(back, 0, sizeof(back));
	kern_return_t kr = copyin((const void *)(a + 100), back, 2 * P + 50);

	vm_map_activate(NULL);
	KT_EXPECT_EQ(kt, kr, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, memcmp(back, buf, 2 * P + 50), 0);
	vm_map_destroy(map);
}

KTEST(vm_fault, copyin_copyout)
{
	static uint8_t buf[5000], back[5000];
	uint8_t scratch[32];
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, 3 * P);
	kern_return_t out, in, crosses_end, unmapped, kaddr_in, kaddr_out, wrap, wrap2, null, empty,
	    edge;

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	memset(back, 0, sizeof(back));

	vm_map_activate(map);
	out = copyout(buf, (void *)(a + 100), sizeof(buf)); /* demand-zero pages fault in */
	in = copyin((const void *)(a + 100), back, sizeof(back));
	crosses_end = copyin((const void *)(a + 3 * P - 8), scratch, 16);
	unmapped = copyout(buf, (void *)(a + 3 * P), 1);
	kaddr_in = copyin(buf, scratch, 1);
	kaddr_out = copyout(buf, scratch, 1);
	wrap = copyin((const void *)~0ul, scratch, 2);
	wrap2 = copyout(buf, (void *)(VM_MAX_USER - 8), 16);
	null = copyin(NULL, scratch, 1);
	empty = copyin((const void *)(a + 3 * P), scratch, 0);
	edge = copyin((const void *)(VM_MAX_USER - 1), scratch, 1);
	vm_map_activate(NULL);

	KT_EXPECT_EQ(kt, out, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, in, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, memcmp(buf, back, sizeof(buf)), 0);
	KT_EXPECT_EQ(kt, crosses_end, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, unmapped, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, kaddr_in, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, kaddr_out, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, wrap, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, wrap2, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, null, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, empty, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, edge, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 3); /* crosses_end faulted the last page in */
	vm_map_destroy(map);
}

KTEST(vm_fault, copy_respects_protection)
{
	static const char msg[] = "protected";
	char back[16];
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, P);
	kern_return_t wr, ro_out, ro_in, none_in, none_out, rw_in;
	char ro_back[16] = { 0 }, rw_back[16] = { 0 };

	vm_map_activate(map);
	wr = copyout(msg, (void *)a, sizeof(msg));
	vm_protect(map, a, P, false, VM_PROT_READ);
	ro_out = copyout("x", (void *)a, 1); /* CR0.WP: the kernel's write faults too */
	ro_in = copyin((const void *)a, ro_back, sizeof(msg));
	vm_protect(map, a, P, false, VM_PROT_NONE);
	none_in = copyin((const void *)a, back, 1);
	none_out = copyout("x", (void *)a, 1);
	vm_protect(map, a, P, false, RW);
	rw_in = copyin((const void *)a, rw_back, sizeof(msg)); /* the data survived NONE */
	vm_map_activate(NULL);

	KT_EXPECT_EQ(kt, wr, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ro_out, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, ro_in, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, strcmp(ro_back, msg), 0);
	KT_EXPECT_EQ(kt, none_in, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, none_out, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, rw_in, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, strcmp(rw_back, msg), 0);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 1);
	vm_map_destroy(map);
}

KTEST(vm_fault, copyinstr)
{
	static const char s[] = "hello, user";
	char k[32];
	size_t len = 99, len2 = 99;
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, P);
	/* The string ends exactly at the end of the allocation, then one without a NUL. */
	uintptr_t at = a + P - sizeof(s);
	kern_return_t w1, w2, ok, toolong, zero, runs_off, kaddr;

	vm_map_activate(map);
	w1 = copyout(s, (void *)at, sizeof(s));
	ok = copyinstr((const void *)at, k, sizeof(k), &len);
	toolong = copyinstr((const void *)at, k, 5, &len2);
	zero = copyinstr((const void *)at, k, 0, NULL);
	w2 = copyout("abc", (void *)(a + P - 3), 3);
	runs_off = copyinstr((const void *)(a + P - 3), k, sizeof(k), NULL);
	kaddr = copyinstr(s, k, sizeof(k), NULL);
	vm_map_activate(NULL);

	KT_EXPECT_EQ(kt, w1, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, ok, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, len, sizeof(s) - 1);
	KT_EXPECT_EQ(kt, toolong, KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, len2, 99);
	KT_EXPECT_EQ(kt, zero, KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, w2, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, runs_off, KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, kaddr, KERN_INVALID_ADDRESS);
	vm_map_destroy(map);
}

/* A kernel-mode fault at a user address outside any copy is not served: it reaches the catch. */
static __attribute__((noinline)) int vft_touch(struct kfault_catch *c, uintptr_t va)
{
	int r = kfault_try(c);

	if (r == 0) {
		(void)*(volatile uint8_t *)va;
		kfault_end(c);
	}
	return r;
}

KTEST(vm_fault, handler_inside_kfault_catch)
{
	struct vm_map *map = vft_map(kt);
	struct kfault_catch c;

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, P);
	int hit, miss;

	vm_map_activate(map);
	hit = vft_touch(&c, a + 8);      /* demand-zero: resolved, no fault reaches the catch */
	miss = vft_touch(&c, a + P + 8); /* no entry: the catch gets it */
	vm_map_activate(NULL);

	KT_EXPECT_EQ(kt, hit, 0);
	KT_EXPECT_EQ(kt, miss, T_PAGE_FAULT + 1);
	KT_EXPECT_EQ(kt, c.cr2, a + P + 8);
	KT_EXPECT_EQ(kt, vm_map_resident_pages(map), 1);
	KT_EXPECT_EQ(kt, vm_fault_current_map(), NULL);
	vm_map_destroy(map);
}

/*
 * A user page table emptied by vm_deallocate stays for the next fault in
 * its range; vm_map_reclaim frees it, and a fault after that builds the
 * tables again.
 */
KTEST(vm_fault, empty_page_table_kept_until_reclaim)
{
	struct vm_map *map = vft_map(kt);

	KT_ASSERT(kt, map);
	uintptr_t a = vft_alloc(kt, map, P);

	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_WRITE), KERN_SUCCESS);

	uint64_t tables = map->pmap.ptpages, before = vm_page_free_count();

	KT_EXPECT(kt, tables > 1); /* the PML4 and the path down to a */
	KT_EXPECT_EQ(kt, vm_deallocate(map, a, P), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_page_free_count() - before, 1); /* the page, not its table */
	KT_EXPECT_EQ(kt, map->pmap.ptpages, tables);

	/* The same place again: the fault takes one page, for the data. */
	KT_EXPECT_EQ(kt, vft_alloc(kt, map, P), a);
	before = vm_page_free_count();
	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, before - vm_page_free_count(), 1);
	KT_EXPECT_EQ(kt, vm_deallocate(map, a, P), KERN_SUCCESS);

	before = vm_page_free_count();
	vm_map_reclaim();
	KT_EXPECT_EQ(kt, map->pmap.ptpages, 1);
	/* The tables below the PML4, and the zone page of a spare entry if it was alone there. */
	KT_EXPECT(kt, vm_page_free_count() - before >= tables - 1);
	KT_EXPECT_EQ(kt, vft_alloc(kt, map, P), a);
	KT_EXPECT_EQ(kt, vm_fault(map, a, PF_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, map->pmap.ptpages, tables);
	KT_EXPECT(kt, pmap_extract(&map->pmap, a) != 0);
	vm_map_destroy(map);
}

/*
 * Out of free pages, a fault still succeeds when what maps keep for speed
 * (another map's emptied page tables) covers it: vm_fault reclaims and
 * tries again before it gives up.
 */
KTEST(vm_fault, out_of_memory_reclaims_kept_tables)
{
	vm_map_reclaim();
	struct vm_map *keeper = vft_map(kt), *map = vft_map(kt);

	KT_ASSERT(kt, keeper && map);
	uintptr_t k = vft_alloc(kt, keeper, P), a = vft_alloc(kt, map, P);

	KT_EXPECT_EQ(kt, vm_fault(keeper, k, PF_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_deallocate(keeper, k, P), KERN_SUCCESS);

	uint64_t kept = keeper->pmap.ptpages - 1; /* the tables below its PML4 */

	/* One free page: map's fault needs its tables and the data page, more than that. */
	unsigned long flags = intr_save();
	paddr_t head = vft_hog(1);
	kern_return_t kr = vm_fault(map, a, PF_WRITE);
	uint64_t keeper_tables = keeper->pmap.ptpages;

	vft_unhog(head);
	intr_restore(flags);

	KT_EXPECT(kt, kept + 1 >= 4); /* enough for map's PDPT, PD, PT and the page */
	KT_EXPECT_EQ(kt, kr, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, keeper_tables, 1);
	KT_EXPECT(kt, pmap_extract(&map->pmap, a) != 0);
	vm_map_destroy(map);
	vm_map_destroy(keeper);
}

/* The same for vm_write, whose page for a hole in the target is allocated by the write. */
KTEST(vm_fault, vm_write_reclaims_kept_tables)
{
	vm_map_reclaim();
	struct vm_map *keeper = vft_map(kt), *map = vft_map(kt);

	KT_ASSERT(kt, keeper && map);
	uintptr_t k = vft_alloc(kt, keeper, 2 * P), a = vft_alloc(kt, map, P);
	static const char data[] = "written";

	/* Two kept tables' worth of pages at least: the keeper's PDPT, PD and PT. */
	KT_EXPECT_EQ(kt, vm_fault(keeper, k, PF_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_deallocate(keeper, k, 2 * P), KERN_SUCCESS);

	unsigned long flags = intr_save();
	paddr_t head = vft_hog(0);
	kern_return_t kr = vm_write(map, a, data, sizeof(data));
	uint64_t keeper_tables = keeper->pmap.ptpages;

	vft_unhog(head);
	intr_restore(flags);

	char back[sizeof(data)];

	KT_EXPECT_EQ(kt, kr, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, keeper_tables, 1);
	KT_EXPECT_EQ(kt, vm_read(map, a, back, sizeof(back)), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, memcmp(back, data, sizeof(data)), 0);
	vm_map_destroy(map);
	vm_map_destroy(keeper);
}

static volatile int vft_thread_ran;

static void vft_thread(void *arg)
{
	vft_thread_ran = 1;
}

/*
 * And for a new thread's stack (and its struct): out of free pages, a
 * thread is still made from what another map kept, here the page tables
 * of three regions 512 GiB apart (three tables each).
 */
KTEST(vm_fault, thread_create_reclaims_kept_tables)
{
	vm_map_reclaim();
	struct vm_map *keeper = vft_map(kt);

	KT_ASSERT(kt, keeper);
	for (uintptr_t r = 1; r <= 3; r++) {
		uintptr_t k = r << 39;

		KT_EXPECT_EQ(kt, vm_allocate(keeper, &k, P, false), KERN_SUCCESS);
		KT_EXPECT_EQ(kt, vm_fault(keeper, k, PF_WRITE), KERN_SUCCESS);
		KT_EXPECT_EQ(kt, vm_deallocate(keeper, k, P), KERN_SUCCESS);
	}
	KT_EXPECT_EQ(kt, keeper->pmap.ptpages, 10);

	struct thread *t = NULL;
	unsigned long flags = intr_save();
	paddr_t head = vft_hog(0);
	kern_return_t kr =
	    thread_create_kernel("reclaimed", vft_thread, NULL, SCHED_PRI_DEFAULT, &t);
	uint64_t keeper_tables = keeper->pmap.ptpages;

	vft_unhog(head);
	intr_restore(flags);

	KT_EXPECT_EQ(kt, kr, KERN_SUCCESS);
	KT_EXPECT_EQ(kt, keeper_tables, 1);
	if (kr == KERN_SUCCESS)
		thread_join(t);
	KT_EXPECT_EQ(kt, vft_thread_ran, 1);
	vm_map_destroy(keeper);
}
