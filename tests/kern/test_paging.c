/*
 * Kernel page tables: mappings, protections, faults caught with
 * kfault_try, page-table pages freed again, user address spaces.
 */
#include <stdbool.h>

#include "kern/kern_return.h"
#include "kern/ktest.h"
#include "kern/string.h"
#include "vm/vm_page.h"
#include "x86_64/cpu.h"
#include "x86_64/kfault.h"
#include "x86_64/pmap.h"
#include "x86_64/trap.h"

extern char _text[], _etext[], _data[], _kernel_end[];

#define LARGE_SIZE (2ul << 20)

static uint64_t pg_data_word = 0x1234;
static const uint64_t pg_rodata_word = 0x5678;
static uint8_t pg_ret_insn[16] = { 0xc3 }; /* ret, in a data page */

/* Reads or writes one byte at va; returns kfault_try's result (0 = no fault). */
static __attribute__((noinline)) int pg_touch(struct kfault_catch *c, uintptr_t va, bool write)
{
	int r = kfault_try(c);

	if (r == 0) {
		if (write)
			*(volatile uint8_t *)va = *(volatile uint8_t *)va;
		else
			(void)*(volatile uint8_t *)va;
		kfault_end(c);
	}
	return r;
}

/* Expects the access to fault with a page fault at va, error bits `err' set. */
static void pg_expect_fault(struct ktest_ctx *kt, uintptr_t va, bool write, uint64_t err)
{
	struct kfault_catch c;
	int r = pg_touch(&c, va, write);

	if (!KT_EXPECT_EQ(kt, r, T_PAGE_FAULT + 1)) {
		ktest_diag(kt, "%s %#lx did not fault", write ? "write to" : "read of", va);
		return;
	}
	KT_EXPECT_EQ(kt, c.cr2, va);
	KT_EXPECT_EQ(kt, c.error & err, err);
	KT_EXPECT_EQ(kt, c.error & PF_USER, 0);
}

KTEST(paging, map_write_unmap)
{
	uintptr_t va = kva_alloc(1);
	paddr_t pa = vm_page_alloc();

	KT_ASSERT(kt, va && pa);
	KT_ASSERT_EQ(kt, pmap_kenter(va, pa, PMAP_READ | PMAP_WRITE), 0);
	KT_EXPECT_EQ(kt, pmap_kextract(va), pa);
	KT_EXPECT_EQ(kt, pmap_kextract(va + 123), pa + 123);
	KT_EXPECT_EQ(kt, pmap_kprot(va), PMAP_READ | PMAP_WRITE);

	volatile uint64_t *p = (volatile uint64_t *)va;
	uint64_t *alias = PHYS_TO_VIRT(pa);

	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		p[i] = 0xfeedface00000000ul | i;
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		if (alias[i] != (0xfeedface00000000ul | i)) {
			KT_EXPECT_EQ(kt, alias[i], 0xfeedface00000000ul | i);
			break;
		}

	KT_EXPECT_EQ(kt, pmap_kremove(va), 0);
	KT_EXPECT_EQ(kt, pmap_kextract(va), 0);
	pg_expect_fault(kt, va + 8, false, 0);
	KT_EXPECT_EQ(kt, pmap_kremove(va), KERN_INVALID_ADDRESS);
	vm_page_free(pa);
	kva_free(va, 1);
}

KTEST(paging, protect_read_only)
{
	uintptr_t va = kva_alloc(1);
	paddr_t pa = vm_page_alloc();
	struct kfault_catch c;

	KT_ASSERT(kt, va && pa);
	KT_ASSERT_EQ(kt, pmap_kenter(va, pa, PMAP_READ | PMAP_WRITE), 0);
	KT_EXPECT_EQ(kt, pg_touch(&c, va, true), 0);
	KT_EXPECT_EQ(kt, pmap_kprotect(va, PMAP_READ), 0);
	KT_EXPECT_EQ(kt, pmap_kprot(va), PMAP_READ);
	KT_EXPECT_EQ(kt, pg_touch(&c, va, false), 0);
	pg_expect_fault(kt, va, true, PF_PRESENT | PF_WRITE);
	KT_EXPECT_EQ(kt, pmap_kprotect(va, PMAP_READ | PMAP_WRITE), 0);
	KT_EXPECT_EQ(kt, pg_touch(&c, va, true), 0);

	KT_EXPECT_EQ(kt, pmap_kremove(va), 0);
	KT_EXPECT_EQ(kt, pmap_kprotect(va, PMAP_READ), KERN_INVALID_ADDRESS);
	vm_page_free(pa);
	kva_free(va, 1);
}

KTEST(paging, no_identity_map)
{
	uintptr_t low[] = {
		0x1000,  0x7000, KERNEL_PHYS_LOAD, KIMG_TO_PHYS(_text), KIMG_TO_PHYS(&pg_data_word),
		0x400000
	};

	for (unsigned i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		KT_EXPECT_EQ(kt, pmap_kextract(low[i]), 0);
		pg_expect_fault(kt, low[i], false, 0);
	}
}

KTEST(paging, kernel_image_protected)
{
	uintptr_t text = (uintptr_t)&pg_touch, ro = (uintptr_t)&pg_rodata_word;
	uintptr_t data = (uintptr_t)&pg_data_word;

	KT_EXPECT_EQ(kt, pmap_kprot(text), PMAP_READ | PMAP_EXEC);
	KT_EXPECT_EQ(kt, pmap_kprot(ro), PMAP_READ);
	KT_EXPECT_EQ(kt, pmap_kprot(data), PMAP_READ | PMAP_WRITE);
	KT_EXPECT_EQ(kt, pmap_kextract(text), KIMG_TO_PHYS(text));
	pg_expect_fault(kt, text, true, PF_PRESENT | PF_WRITE);
	pg_expect_fault(kt, ro, true, PF_PRESENT | PF_WRITE);
	/* Nothing past the image is mapped at KERNEL_BASE any more. */
	KT_EXPECT_EQ(kt, pmap_kextract(round_page((uintptr_t)_kernel_end) + 0x200000), 0);
}

KTEST(paging, data_not_executable)
{
	struct kfault_catch c;
	void (*fn)(void) = (void (*)(void))(uintptr_t)pg_ret_insn;
	int r = kfault_try(&c);

	if (r == 0) {
		fn();
		kfault_end(&c);
	}
	KT_EXPECT_EQ(kt, r, T_PAGE_FAULT + 1);
	KT_EXPECT_EQ(kt, c.cr2, (uintptr_t)pg_ret_insn);
	KT_EXPECT_EQ(kt, c.error & (PF_PRESENT | PF_INSTR), PF_PRESENT | PF_INSTR);
}

KTEST(paging, physmap)
{
	paddr_t last = vm_page_ram_end() - PAGE_SIZE;
	uintptr_t lapic = (uintptr_t)PHYS_TO_VIRT(0xfee00000ul);

	KT_EXPECT_EQ(kt, pmap_kextract((uintptr_t)PHYS_TO_VIRT(last)), last);
	KT_EXPECT_EQ(kt, pmap_kprot((uintptr_t)PHYS_TO_VIRT(last)), PMAP_READ | PMAP_WRITE);
	KT_EXPECT_EQ(kt, pmap_kextract((uintptr_t)PHYS_TO_VIRT(0x100000)), 0x100000);
	KT_EXPECT_EQ(kt, pmap_kextract((uintptr_t)vm_page_boot_info()),
	             VIRT_TO_PHYS(vm_page_boot_info()));
	KT_EXPECT_EQ(kt, pmap_kextract(lapic), 0xfee00000ul);
	KT_EXPECT_EQ(kt, pmap_kprot(lapic), PMAP_READ | PMAP_WRITE | PMAP_NOCACHE);
	KT_EXPECT_EQ(kt, pmap_kprot((uintptr_t)PHYS_TO_VIRT(0xfec00000ul)),
	             PMAP_READ | PMAP_WRITE | PMAP_NOCACHE);
	/* Nothing between the end of RAM and the MMIO window. */
	KT_EXPECT_EQ(kt, pmap_kextract((uintptr_t)PHYS_TO_VIRT(0xc0000000ul)), 0);
}

KTEST(paging, bad_arguments)
{
	uintptr_t va = kva_alloc(1);
	paddr_t pa = vm_page_alloc();

	KT_ASSERT(kt, va && pa);
	KT_EXPECT_EQ(kt, pmap_kenter(0x400000, pa, PMAP_READ), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, pmap_kenter(va + 8, pa, PMAP_READ), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, pmap_kenter(va, pa + 8, PMAP_READ), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, pmap_kenter(va, pa, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, pmap_kenter(va, pa, PMAP_NOCACHE), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, pmap_kenter(0x0000900000000000ul, pa, PMAP_READ),
	             KERN_INVALID_ARGUMENT); /* non-canonical */
	KT_EXPECT_EQ(kt, pmap_kremove(va), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, pmap_kprotect(va, PMAP_READ), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(kt, pmap_kextract(va), 0);
	vm_page_free(pa);
	kva_free(va, 1);
}

KTEST(paging, table_pages_freed)
{
	/* A window at the far end of the KVA area needs a PT (at least) of its own. */
	uintptr_t first = kva_alloc(1);
	KT_ASSERT(kt, first);
	uint64_t free0 = vm_page_free_count();
	paddr_t pa = vm_page_alloc();
	uintptr_t va = KVA_BASE + KVA_SIZE - LARGE_SIZE;

	KT_ASSERT(kt, pa);
	KT_ASSERT_EQ(kt, pmap_kenter(va, pa, PMAP_READ | PMAP_WRITE), 0);
	KT_EXPECT(kt, vm_page_free_count() < free0 - 1); /* tables came from vm_page */
	KT_ASSERT_EQ(kt, pmap_kenter(va + PAGE_SIZE, pa, PMAP_READ), 0);
	*(volatile uint64_t *)va = 42;
	KT_EXPECT_EQ(kt, *(volatile uint64_t *)(va + PAGE_SIZE), 42);
	KT_EXPECT_EQ(kt, pmap_kremove(va), 0);
	KT_EXPECT_EQ(kt, pmap_kremove(va + PAGE_SIZE), 0);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0 - 1);
	vm_page_free(pa);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
	kva_free(first, 1);
}

KTEST(paging, split_and_promote)
{
	paddr_t pa = vm_page_alloc();

	KT_ASSERT(kt, pa);
	uintptr_t va = (uintptr_t)PHYS_TO_VIRT(pa);
	uintptr_t other = (va & (LARGE_SIZE - 1)) ? va - PAGE_SIZE : va + PAGE_SIZE;
	uint64_t free0 = vm_page_free_count();
	/* The physmap uses 2 MiB pages where a whole one is RAM (all of it at -m 128M). */
	bool large = pa + LARGE_SIZE < (vm_page_ram_end() & ~(LARGE_SIZE - 1));

	KT_EXPECT_EQ(kt, pmap_kprotect(va, PMAP_READ), 0);
	if (large)
		KT_EXPECT_EQ(kt, vm_page_free_count(), free0 - 1); /* the new PT */
	pg_expect_fault(kt, va, true, PF_PRESENT | PF_WRITE);
	KT_EXPECT_EQ(kt, pmap_kprot(other), PMAP_READ | PMAP_WRITE);
	KT_EXPECT_EQ(kt, pmap_kextract(other), VIRT_TO_PHYS(other));

	/* A guard hole in the physmap, then the page back. */
	KT_EXPECT_EQ(kt, pmap_kremove(va), 0);
	pg_expect_fault(kt, va, false, 0);
	KT_EXPECT_EQ(kt, pmap_kenter(va, pa, PMAP_READ | PMAP_WRITE), 0);
	*(volatile uint64_t *)va = 7;
	KT_EXPECT_EQ(kt, pmap_kprot(va), PMAP_READ | PMAP_WRITE);
	/* The PT was promoted back to a 2 MiB page and freed. */
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
	vm_page_free(pa);
}

KTEST(paging, user_pmap)
{
	uint64_t free0 = vm_page_free_count();
	struct pmap pm;
	paddr_t pa = vm_page_alloc();
	uintptr_t uva = 0x400000, high = USER_VA_END - PAGE_SIZE;

	KT_ASSERT(kt, pa);
	*(uint64_t *)PHYS_TO_VIRT(pa) = 0xabcdef;
	KT_ASSERT_EQ(kt, pmap_create(&pm), 0);
	KT_EXPECT_EQ(kt, pmap_enter(&pm, uva, pa, PMAP_READ | PMAP_WRITE), 0);
	KT_EXPECT_EQ(kt, pmap_enter(&pm, high, pa, PMAP_READ), 0);
	KT_EXPECT_EQ(kt, pmap_enter(&pm, (uintptr_t)PHYS_TO_VIRT(pa), pa, PMAP_READ),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, pmap_extract(&pm, uva + 8), pa + 8);
	KT_EXPECT_EQ(kt, pmap_extract(&pm, high), pa);
	KT_EXPECT_EQ(kt, pmap_kextract(uva), 0);
	/* The kernel half is shared. */
	KT_EXPECT_EQ(kt, pmap_extract(&pm, (uintptr_t)&pg_data_word), KIMG_TO_PHYS(&pg_data_word));

	unsigned long flags = intr_save();

	pmap_activate(&pm);
	uint64_t seen = *(volatile uint64_t *)uva;
	uint64_t kdata = *(volatile uint64_t *)&pg_data_word;
	pmap_activate(&kernel_pmap);
	intr_restore(flags);
	KT_EXPECT_EQ(kt, seen, 0xabcdef);
	KT_EXPECT_EQ(kt, kdata, 0x1234);

	KT_EXPECT_EQ(kt, pmap_remove(&pm, uva), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&pm, uva), 0);
	KT_EXPECT_EQ(kt, pmap_remove(&pm, uva), KERN_INVALID_ADDRESS);
	/* high stays mapped: pmap_destroy must free its tables. */
	pmap_destroy(&pm);
	vm_page_free(pa);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

/* A user pmap keeps the tables pmap_remove empties; pmap_collect frees exactly those. */
KTEST(paging, user_tables_collected)
{
	uint64_t free0 = vm_page_free_count();
	struct pmap pm;
	paddr_t pa = vm_page_alloc();
	uintptr_t uva = 0x400000;

	KT_ASSERT(kt, pa);
	KT_ASSERT_EQ(kt, pmap_create(&pm), 0);
	KT_EXPECT_EQ(kt, pmap_enter(&pm, uva, pa, PMAP_READ), 0);
	KT_EXPECT_EQ(kt, pmap_enter(&pm, uva + PAGE_SIZE, pa, PMAP_READ), 0);
	KT_EXPECT_EQ(kt, pm.ptpages, 4); /* PML4, PDPT, PD, PT */
	KT_EXPECT_EQ(kt, pmap_remove(&pm, uva), 0);
	KT_EXPECT_EQ(kt, pmap_collect(&pm), 0); /* the PT still maps uva + PAGE_SIZE */
	KT_EXPECT_EQ(kt, pmap_remove(&pm, uva + PAGE_SIZE), 0);
	KT_EXPECT_EQ(kt, pm.ptpages, 4); /* empty, but kept */
	KT_EXPECT_EQ(kt, pmap_extract(&pm, uva + PAGE_SIZE), 0);
	KT_EXPECT_EQ(kt, pmap_enter(&pm, uva, pa, PMAP_READ), 0); /* no new table */
	KT_EXPECT_EQ(kt, pm.ptpages, 4);
	KT_EXPECT_EQ(kt, pmap_remove(&pm, uva), 0);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0 - 1 - 4);
	KT_EXPECT_EQ(kt, pmap_collect(&pm), 3);
	KT_EXPECT_EQ(kt, pm.ptpages, 1);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0 - 1 - 1);
	KT_EXPECT_EQ(kt, pmap_enter(&pm, uva, pa, PMAP_READ), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&pm, uva), pa);
	pmap_destroy(&pm);
	vm_page_free(pa);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

KTEST(paging, new_kernel_slot_is_shared)
{
	/* PML4 slot 320: nothing else lives there. */
	uintptr_t va = 0xffffa00000000000ul;
	uint64_t free0 = vm_page_free_count();
	paddr_t pa = vm_page_alloc();
	struct pmap pm;

	KT_ASSERT(kt, pa);
	KT_ASSERT_EQ(kt, pmap_create(&pm), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&pm, va), 0);
	KT_ASSERT_EQ(kt, pmap_kenter(va, pa, PMAP_READ), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&pm, va), pa); /* made after pmap_create */
	KT_EXPECT_EQ(kt, pmap_kremove(va), 0);
	KT_EXPECT_EQ(kt, pmap_extract(&pm, va), 0); /* unhooked everywhere */
	pmap_destroy(&pm);
	vm_page_free(pa);
	/* PT, PD and PDPT all went back. */
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

KTEST(paging, kva)
{
	uintptr_t a = kva_alloc(4), b = kva_alloc(1);

	KT_ASSERT(kt, a && b);
	KT_EXPECT(kt, a >= KVA_BASE && a + 4 * PAGE_SIZE <= KVA_BASE + KVA_SIZE);
	KT_EXPECT(kt, b >= a + 4 * PAGE_SIZE || b + PAGE_SIZE <= a);
	KT_EXPECT_EQ(kt, a & PAGE_MASK, 0);
	KT_EXPECT_EQ(kt, kva_alloc(0), 0);
	KT_EXPECT_EQ(kt, kva_alloc(KVA_SIZE / PAGE_SIZE), 0);
	kva_free(a, 4);
	KT_EXPECT_EQ(kt, kva_alloc(4), a); /* first fit */
	kva_free(a, 4);
	kva_free(b, 1);
}

KTEST(paging, kenter_out_of_memory)
{
	uint64_t free0 = vm_page_free_count();
	uintptr_t va = KVA_BASE + KVA_SIZE - LARGE_SIZE;
	paddr_t head = 0, pa, spare = vm_page_alloc();

	KT_ASSERT(kt, spare);
	unsigned long flags = intr_save(); /* nobody else may need a page meanwhile */

	while ((pa = vm_page_alloc()) != 0) {
		*(paddr_t *)PHYS_TO_VIRT(pa) = head;
		head = pa;
	}
	kern_return_t kr = pmap_kenter(va, spare, PMAP_READ);

	while (head) {
		paddr_t next = *(paddr_t *)PHYS_TO_VIRT(head);

		vm_page_free(head);
		head = next;
	}
	intr_restore(flags);
	KT_EXPECT_EQ(kt, kr, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT_EQ(kt, pmap_kextract(va), 0);
	vm_page_free(spare);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}
