/*
 * Physical page allocator.  The boot data and RAM checks re-read the
 * multiboot information themselves rather than trusting what vm_page
 * recorded, so a parsing mistake in vm_page shows up here.
 */
#include <stdbool.h>

#include "kern/ktest.h"
#include "kern/string.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "x86_64/cpu.h"
#include "x86_64/multiboot.h"
#include "x86_64/pmap.h"

extern char _phys_bss_end[];

#define PMM_TAG 0x504d4d5441470000ul

static bool pmm_overlaps(paddr_t pa, paddr_t start, paddr_t end)
{
	return start < pa + PAGE_SIZE && end > pa;
}

static bool pmm_overlaps_string(paddr_t pa, uint32_t s)
{
	return s && pmm_overlaps(pa, s, s + strlen(PHYS_TO_VIRT(s)) + 1);
}

/* Which boot data, if any, does the page at pa touch? */
static const char *pmm_boot_data(const struct multiboot_info *mbi, paddr_t pa)
{
	paddr_t mbi_pa = VIRT_TO_PHYS(mbi);

	if (pa < 0x100000)
		return "low memory";
	if (pmm_overlaps(pa, KERNEL_PHYS_LOAD, (paddr_t)_phys_bss_end))
		return "kernel image";
	if (pmm_overlaps(pa, mbi_pa, mbi_pa + sizeof(*mbi)))
		return "multiboot info";
	if ((mbi->flags & MB_INFO_CMDLINE) && pmm_overlaps_string(pa, mbi->cmdline))
		return "command line";
	if ((mbi->flags & MB_INFO_MEM_MAP) &&
	    pmm_overlaps(pa, mbi->mmap_addr, (paddr_t)mbi->mmap_addr + mbi->mmap_length))
		return "memory map";
	if (!(mbi->flags & MB_INFO_MODS) || !mbi->mods_count)
		return NULL;

	const struct multiboot_module *m = PHYS_TO_VIRT(mbi->mods_addr);

	if (pmm_overlaps(pa, mbi->mods_addr, mbi->mods_addr + mbi->mods_count * sizeof(*m)))
		return "module list";
	for (uint32_t i = 0; i < mbi->mods_count; i++) {
		if (pmm_overlaps(pa, m[i].mod_start, m[i].mod_end))
			return "module";
		if (pmm_overlaps_string(pa, m[i].string))
			return "module string";
	}
	return NULL;
}

/* Is the page wholly in a RAM entry of the memory map and in no other entry? */
static bool pmm_in_ram(const struct multiboot_info *mbi, paddr_t pa)
{
	bool ram = false;

	if (!(mbi->flags & MB_INFO_MEM_MAP))
		return pa >= 0x100000 &&
		       pa + PAGE_SIZE <= 0x100000 + ((paddr_t)mbi->mem_upper << 10);
	for (uintptr_t p = (uintptr_t)PHYS_TO_VIRT(mbi->mmap_addr), end = p + mbi->mmap_length;
	     p + sizeof(struct multiboot_mmap_entry) <= end;) {
		const struct multiboot_mmap_entry *e = (const void *)p;

		if (e->type == MB_MMAP_AVAILABLE && e->addr <= pa &&
		    pa + PAGE_SIZE <= e->addr + e->len)
			ram = true;
		else if (e->type != MB_MMAP_AVAILABLE &&
		         pmm_overlaps(pa, e->addr, e->addr + e->len))
			return false;
		p += e->size + 4;
	}
	return ram;
}

KTEST(pmm, counts)
{
	uint64_t total = vm_page_total_count(), free = vm_page_free_count();

	KT_EXPECT(kt, total > 0);
	KT_EXPECT(kt, free > 0 && free <= total);
	KT_EXPECT(kt, total * PAGE_SIZE <= vm_page_ram_end());
	/* -m 128M: nearly all of it is ours. */
	KT_EXPECT(kt, total * PAGE_SIZE >= vm_page_ram_end() / 2);
}

KTEST(pmm, boot_data_reserved)
{
	const struct multiboot_info *mbi = vm_page_boot_info();
	uint64_t checked = 0, bad = 0;

	for (paddr_t pa = 0; pa < vm_page_ram_end(); pa += PAGE_SIZE) {
		struct vm_page *pg = vm_page_lookup(pa);

		if (!pmm_boot_data(mbi, pa) && pmm_in_ram(mbi, pa))
			continue;
		checked++;
		if (pg->state != VM_PAGE_RESERVED && bad++ == 0)
			ktest_diag(kt, "page %#lx (%s) is not reserved", pa,
			           pmm_boot_data(mbi, pa) ? pmm_boot_data(mbi, pa) : "not RAM");
	}
	KT_EXPECT_EQ(kt, bad, 0);
	KT_EXPECT(kt, checked >= 256); /* at least the first MiB */
	KT_EXPECT(kt, vm_page_lookup(vm_page_ram_end()) == NULL);
}

KTEST(pmm, alloc_every_page)
{
	vm_map_reclaim(); /* what maps keep for speed is free memory here */
	const struct multiboot_info *mbi = vm_page_boot_info();
	uint64_t free0 = vm_page_free_count();
	paddr_t ram_end = vm_page_ram_end();
	size_t map_pages = round_page(((ram_end >> PAGE_SHIFT) + 7) / 8) >> PAGE_SHIFT;
	paddr_t map_pa = vm_page_alloc_contig(map_pages);

	KT_ASSERT(kt, map_pa != 0);
	uint8_t *seen = PHYS_TO_VIRT(map_pa);
	memset(seen, 0, map_pages * PAGE_SIZE);

	/* Nothing else may take a page while the pool is empty. */
	unsigned long flags = intr_save();
	paddr_t head = 0, pa;
	uint64_t n = 0, dup = 0, misplaced = 0, bad_tag = 0;

	while ((pa = vm_page_alloc()) != 0) {
		const char *what = pmm_boot_data(mbi, pa);
		uint64_t f = pa >> PAGE_SHIFT;

		if ((pa & PAGE_MASK) || pa >= ram_end || what || !pmm_in_ram(mbi, pa)) {
			if (misplaced++ == 0)
				ktest_diag(kt, "page %#lx: %s", pa, what ? what : "not usable RAM");
			continue; /* leaked on purpose: never write to it */
		}
		if (seen[f / 8] & (1u << (f % 8))) {
			if (dup++ == 0)
				ktest_diag(kt, "page %#lx handed out twice", pa);
			continue;
		}
		seen[f / 8] |= 1u << (f % 8);
		uint64_t *p = PHYS_TO_VIRT(pa);

		p[0] = head;
		p[1] = PMM_TAG ^ pa;
		head = pa;
		n++;
	}
	uint64_t empty = vm_page_free_count();
	paddr_t contig = vm_page_alloc_contig(2);

	while (head) {
		uint64_t *p = PHYS_TO_VIRT(head);
		paddr_t next = p[0];

		if (p[1] != (PMM_TAG ^ head))
			bad_tag++;
		vm_page_free(head);
		head = next;
	}
	intr_restore(flags);
	vm_page_free_contig(map_pa, map_pages);

	KT_EXPECT_EQ(kt, misplaced, 0);
	KT_EXPECT_EQ(kt, dup, 0);
	KT_EXPECT_EQ(kt, bad_tag, 0);
	KT_EXPECT_EQ(kt, n, free0 - map_pages);
	KT_EXPECT_EQ(kt, empty, 0);
	KT_EXPECT_EQ(kt, contig, 0);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

KTEST(pmm, contiguous)
{
	uint64_t free0 = vm_page_free_count();
	paddr_t pa = vm_page_alloc_contig(16);

	KT_ASSERT(kt, pa != 0);
	KT_EXPECT_EQ(kt, pa & PAGE_MASK, 0);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0 - 16);
	for (unsigned i = 0; i < 16; i++)
		KT_EXPECT_EQ(kt, vm_page_lookup(pa + i * PAGE_SIZE)->state, VM_PAGE_ALLOCATED);
	memset(PHYS_TO_VIRT(pa), 0xa5, 16 * PAGE_SIZE);
	vm_page_free_contig(pa, 16);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
	KT_EXPECT_EQ(kt, vm_page_lookup(pa)->state, VM_PAGE_FREE);

	KT_EXPECT_EQ(kt, vm_page_alloc_contig(0), 0);
	KT_EXPECT_EQ(kt, vm_page_alloc_contig(vm_page_total_count() + 1), 0);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}

KTEST(pmm, free_then_alloc)
{
	uint64_t free0 = vm_page_free_count();
	paddr_t a = vm_page_alloc(), b = vm_page_alloc();

	KT_ASSERT(kt, a && b);
	KT_EXPECT(kt, a != b);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0 - 2);
	vm_page_free(a);
	KT_EXPECT_EQ(kt, vm_page_lookup(a)->state, VM_PAGE_FREE);
	KT_EXPECT_EQ(kt, vm_page_lookup(b)->state, VM_PAGE_ALLOCATED);
	vm_page_free(b);
	KT_EXPECT_EQ(kt, vm_page_free_count(), free0);
}
