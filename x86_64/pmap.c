/*
 * x86_64 4-level page tables (layout in pmap.h).
 *
 * Every operation works on a struct pmap; the pmap_k* calls are the
 * kernel_pmap case.  Page-table pages come from vm_page_alloc and are
 * reached through the physmap.  Each one's struct vm_page counts its valid
 * entries, so pmap_kremove frees a kernel PT, PD or PDPT the moment it
 * becomes empty.  A user pmap keeps its empty tables instead: a task that
 * allocates, touches and frees memory in the same place would otherwise
 * pay for a zeroed table page, and its hooking and unhooking, on every
 * round.  pmap_collect frees them (vm_map_reclaim calls it), pmap_destroy
 * walks whatever is left.
 *
 * The physmap uses 2 MiB pages wherever a whole aligned 2 MiB lies in one
 * mapped range.  Changing one 4 KiB page inside such a page splits it into
 * a PT (flagged PM_PT_SPLIT); when that PT again maps 512 contiguous pages
 * with identical attributes it is promoted back and freed, so a protect /
 * unprotect pair leaves no page behind.
 *
 * The kernel half is shared: pmap_create copies kernel_pmap's PML4
 * entries 256..511, and every later change to one of them (a kernel PDPT
 * made or freed) is copied into each user pmap on pm_list by pm_set.  So
 * kernel mappings may go anywhere in the upper half, at any time.
 *
 * Locking: pm->lock (interrupt-safe) covers a pmap's tables; pm_list_lock
 * and vm_page's lock nest inside kernel_pmap.lock.  The kernel half of a
 * user PML4 is written only under kernel_pmap.lock.  kva_lock is separate.
 * TLB invalidation is local (invlpg); shootdowns come with a second CPU.
 */
#include <stdbool.h>

#include "kern/kern_return.h"
#include "kern/panic.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "vm/vm_page.h"
#include "x86_64/io.h"
#include "x86_64/pmap.h"

#define PTE_P (1ul << 0)
#define PTE_W (1ul << 1)
#define PTE_U (1ul << 2)
#define PTE_PWT (1ul << 3)
#define PTE_PCD (1ul << 4)
#define PTE_A (1ul << 5)
#define PTE_D (1ul << 6)
#define PTE_PS (1ul << 7)
#define PTE_G (1ul << 8)
#define PTE_NX (1ul << 63)
#define PTE_ADDR 0x000ffffffffff000ul
#define PTE_LARGE_ADDR 0x000fffffffe00000ul
#define PTE_ATTR (0xffful | PTE_NX) /* what a split/promotion carries over */

#define LARGE_SIZE (1ul << 21)
#define PM_IDX(va, level) (((va) >> (12 + 9 * ((level)-1))) & 511)
#define PM_KERNEL_HALF 0xffff800000000000ul
#define PM_PHYSMAP_MAX (KVA_BASE - PHYSMAP_BASE)
#define PM_BOOTMAP_LIMIT 0x100000000ul
#define PM_MMIO_START 0xfec00000ul /* IOAPIC .. LAPIC, uncached */
#define PM_MMIO_END 0xff000000ul
#define CR4_PGE (1ul << 7)

#define PM_PT_SPLIT 0x1 /* vm_page.flags: PT made from a 2 MiB page */

struct pmap kernel_pmap = { .lock = SPINLOCK_INIT };
static bool pm_booted;                          /* our tables are loaded */
static spinlock_t pm_list_lock = SPINLOCK_INIT; /* after kernel_pmap.lock */
static struct pmap *pm_list;                    /* [L] user pmaps */

extern char _text[], _etext[], _data[], _kernel_end[];

static uint64_t *pm_table(paddr_t pa)
{
	return PHYS_TO_VIRT(pa);
}

static struct vm_page *pm_tpage(const uint64_t *table)
{
	return vm_page_lookup(VIRT_TO_PHYS(table));
}

/* A zeroed page-table page, or 0. */
static paddr_t pm_table_alloc(struct pmap *pm)
{
	paddr_t pa = vm_page_alloc();

	if (!pa)
		return 0;
	if (!pm_booted && pa >= PM_BOOTMAP_LIMIT)
		panic("pm_table_alloc: %#lx is beyond the boot physmap", pa);
	memset(PHYS_TO_VIRT(pa), 0, PAGE_SIZE);
	vm_page_lookup(pa)->use = VM_PAGE_USE_PTABLE;
	pm->ptpages++;
	return pa;
}

static void pm_table_free(struct pmap *pm, paddr_t pa)
{
	pm->ptpages--;
	vm_page_free(pa);
}

/*
 * Sets the entry *e and keeps its table's count of valid entries.  A
 * kernel PML4 entry is copied into every user pmap as well, so a kernel
 * slot made or freed after their creation shows up in all of them.
 */
static void pm_set(uint64_t *e, uint64_t v)
{
	uint64_t *table = (uint64_t *)trunc_page((uintptr_t)e);
	struct vm_page *pg = pm_tpage(table);
	bool was = *e & PTE_P, now = v & PTE_P;

	*e = v;
	if (now && !was)
		pg->count++;
	else if (was && !now)
		pg->count--;
	if (VIRT_TO_PHYS(table) == kernel_pmap.pml4) {
		unsigned long flags = spin_lock_irqsave(&pm_list_lock);

		for (struct pmap *pm = pm_list; pm; pm = pm->next)
			pm_table(pm->pml4)[e - table] = v;
		spin_unlock_irqrestore(&pm_list_lock, flags);
	}
}

static bool pm_is_user(uintptr_t va)
{
	return va < USER_VA_END;
}

static void pm_flush(struct pmap *pm, uintptr_t va)
{
	if (pm == &kernel_pmap || (read_cr3() & PTE_ADDR) == pm->pml4)
		invlpg(va);
}

static uint64_t pm_bits(uintptr_t va, unsigned prot)
{
	uint64_t b = PTE_P;

	if (prot & PMAP_WRITE)
		b |= PTE_W;
	if (!(prot & PMAP_EXEC))
		b |= PTE_NX;
	if (prot & PMAP_NOCACHE)
		b |= PTE_PCD | PTE_PWT;
	return b | (pm_is_user(va) ? PTE_U : PTE_G);
}

static unsigned pm_prot(uint64_t e)
{
	unsigned prot = PMAP_READ;

	if (e & PTE_W)
		prot |= PMAP_WRITE;
	if (!(e & PTE_NX))
		prot |= PMAP_EXEC;
	if (e & PTE_PCD)
		prot |= PMAP_NOCACHE;
	return prot;
}

/* Is va a page of pm's half, and prot (if asked) meaningful? */
static kern_return_t pm_check(struct pmap *pm, uintptr_t va, unsigned prot, bool check_prot)
{
	if (va & PAGE_MASK)
		return KERN_INVALID_ARGUMENT;
	if (pm_is_user(va) == (pm == &kernel_pmap))
		return KERN_INVALID_ARGUMENT;
	if (!pm_is_user(va) && va < PM_KERNEL_HALF)
		return KERN_INVALID_ARGUMENT; /* non-canonical */
	if (check_prot && (!(prot & (PMAP_READ | PMAP_WRITE | PMAP_EXEC)) ||
	                   (prot & ~(PMAP_READ | PMAP_WRITE | PMAP_EXEC | PMAP_NOCACHE))))
		return KERN_INVALID_ARGUMENT;
	return 0;
}

/* Replaces the 2 MiB mapping at pd[i] by a PT of 512 equivalent entries. */
static kern_return_t pm_split(struct pmap *pm, uint64_t *pd, unsigned i, uintptr_t va)
{
	paddr_t pt_pa = pm_table_alloc(pm);

	if (!pt_pa)
		return KERN_RESOURCE_SHORTAGE;

	uint64_t *pt = pm_table(pt_pa);
	uint64_t base = pd[i] & PTE_LARGE_ADDR, attr = pd[i] & PTE_ATTR & ~PTE_PS;
	struct vm_page *pg = vm_page_lookup(pt_pa);

	for (unsigned j = 0; j < 512; j++)
		pt[j] = (base + j * PAGE_SIZE) | attr;
	pg->count = 512;
	pg->flags |= PM_PT_SPLIT;
	pd[i] = pt_pa | PTE_P | PTE_W | (pm_is_user(va) ? PTE_U : 0);
	pm_flush(pm, va & ~(LARGE_SIZE - 1));
	return 0;
}

/*
 * The entry for va at `level' (1 = PT, 2 = PD), creating the tables above
 * it and splitting a 2 MiB page in the way.  NULL with *err on failure.
 * pm->lock held (or boot).
 */
static uint64_t *pm_walk(struct pmap *pm, uintptr_t va, int level, kern_return_t *err)
{
	uint64_t *t = pm_table(pm->pml4), *made[3];
	unsigned nmade = 0;

	for (int l = 4; l > level; l--) {
		unsigned i = PM_IDX(va, l);

		*err = 0;
		if (!(t[i] & PTE_P)) {
			paddr_t pa = 0;

			if (!(pa = pm_table_alloc(pm)))
				*err = KERN_RESOURCE_SHORTAGE;
			else
				pm_set(&t[i], pa | PTE_P | PTE_W | (pm_is_user(va) ? PTE_U : 0));
			made[nmade++] = &t[i];
		} else if (t[i] & PTE_PS) {
			if (l != 2)
				panic("pm_walk: 1 GiB page at %#lx", va);
			*err = pm_split(pm, t, i, va);
		}
		if (*err) {
			/* Undo the tables made on the way down: nothing uses them. */
			while (nmade--) {
				uint64_t *e = made[nmade];

				if (*e & PTE_P) {
					paddr_t pa = *e & PTE_ADDR;

					pm_set(e, 0);
					pm_table_free(pm, pa);
				}
			}
			return NULL;
		}
		t = pm_table(t[i] & PTE_ADDR);
	}
	return &t[PM_IDX(va, level)];
}

/* The table entry e points to, or NULL if it is absent or maps a large page. */
static uint64_t *pm_down(uint64_t e)
{
	return (e & (PTE_P | PTE_PS)) == PTE_P ? pm_table(e & PTE_ADDR) : NULL;
}

/*
 * va's PT entry (present or not) when the tables above it exist, else
 * NULL: the common case of pm_enter and pm_remove, without pm_walk's and
 * pm_lookup's general loops.
 */
static uint64_t *pm_pte(struct pmap *pm, uintptr_t va)
{
	uint64_t *pdpt, *pd, *pt;

	if (!(pdpt = pm_down(pm_table(pm->pml4)[PM_IDX(va, 4)])) ||
	    !(pd = pm_down(pdpt[PM_IDX(va, 3)])) || !(pt = pm_down(pd[PM_IDX(va, 2)])))
		return NULL;
	return &pt[PM_IDX(va, 1)];
}

/* The leaf entry mapping va (PT entry, or PD entry of a 2 MiB page), or NULL. */
static uint64_t *pm_lookup(struct pmap *pm, uintptr_t va, int *level)
{
	uint64_t *t = pm_table(pm->pml4);

	for (int l = 4;; l--) {
		uint64_t *e = &t[PM_IDX(va, l)];

		if (!(*e & PTE_P))
			return NULL;
		if (l == 1 || (*e & PTE_PS)) {
			*level = l;
			return e;
		}
		t = pm_table(*e & PTE_ADDR);
	}
}

/*
 * Turns a split PT back into a 2 MiB page once it maps one again; pte is
 * va's entry in it, just changed.
 */
static void pm_promote(struct pmap *pm, uintptr_t va, uint64_t *pte)
{
	if (pm != &kernel_pmap)
		return; /* only the physmap has 2 MiB pages to split */

	uint64_t *pt = (uint64_t *)trunc_page((uintptr_t)pte);
	struct vm_page *pg = pm_tpage(pt);

	if (!(pg->flags & PM_PT_SPLIT) || pg->count != 512)
		return; /* the common case: nothing to look at */

	kern_return_t err;
	uint64_t *pde = pm_walk(pm, va, 2, &err);
	uint64_t base = pt[0] & PTE_ADDR, attr = pt[0] & PTE_ATTR & ~(PTE_A | PTE_D);

	if (base & (LARGE_SIZE - 1))
		return;
	for (unsigned j = 0; j < 512; j++)
		if ((pt[j] & PTE_ADDR) != base + j * PAGE_SIZE ||
		    (pt[j] & PTE_ATTR & ~(PTE_A | PTE_D)) != attr)
			return;
	*pde = base | attr | PTE_PS;
	for (unsigned j = 0; j < 512; j++)
		pm_flush(pm, (va & ~(LARGE_SIZE - 1)) + j * PAGE_SIZE);
	pm_table_free(pm, VIRT_TO_PHYS(pt));
}

static kern_return_t pm_enter(struct pmap *pm, uintptr_t va, paddr_t pa, unsigned prot)
{
	kern_return_t err = pm_check(pm, va, prot, true);

	if (err || (pa & PAGE_MASK) || (pa & ~PTE_ADDR))
		return err ? err : KERN_INVALID_ARGUMENT;

	unsigned long flags = spin_lock_irqsave(&pm->lock);
	uint64_t *e = pm_pte(pm, va);

	if (!e)
		e = pm_walk(pm, va, 1, &err);
	if (e) {
		pm_set(e, pa | pm_bits(va, prot));
		pm_flush(pm, va);
		pm_promote(pm, va, e);
	}
	spin_unlock_irqrestore(&pm->lock, flags);
	return err;
}

/*
 * Unhooks the kernel tables above va that are empty now (pm_set unhooks a
 * kernel PDPT from every pmap) and puts them in dead[]; returns how many.
 */
static unsigned pm_unhook_empty(struct pmap *pm, uintptr_t va, uint64_t **dead)
{
	uint64_t *tables[5];
	unsigned ndead = 0;

	tables[4] = pm_table(pm->pml4);
	for (int l = 4; l > 1; l--)
		tables[l - 1] = pm_table(tables[l][PM_IDX(va, l)] & PTE_ADDR);
	for (int l = 1; l < 4 && pm_tpage(tables[l])->count == 0; l++) {
		pm_set(&tables[l + 1][PM_IDX(va, l + 1)], 0);
		dead[ndead++] = tables[l];
	}
	return ndead;
}

static kern_return_t pm_remove(struct pmap *pm, uintptr_t va)
{
	kern_return_t err = pm_check(pm, va, 0, false);
	int level = 1;

	if (err)
		return err;

	unsigned long flags = spin_lock_irqsave(&pm->lock);
	uint64_t *e = pm_pte(pm, va), *dead[3];
	unsigned ndead = 0;

	if (!e)
		e = pm_lookup(pm, va, &level); /* no PT: absent, or inside a 2 MiB page */
	if (!e || !(*e & PTE_P))
		err = KERN_INVALID_ADDRESS;
	else if (level == 2 && !(e = pm_walk(pm, va, 1, &err)))
		; /* could not split the 2 MiB page */
	else {
		pm_set(e, 0);
		if (pm == &kernel_pmap)
			ndead = pm_unhook_empty(pm, va, dead);
		pm_flush(pm, va);
		while (ndead)
			pm_table_free(pm, VIRT_TO_PHYS(dead[--ndead]));
	}
	spin_unlock_irqrestore(&pm->lock, flags);
	return err;
}

static kern_return_t pm_protect(struct pmap *pm, uintptr_t va, unsigned prot)
{
	kern_return_t err = pm_check(pm, va, prot, true);
	int level;

	if (err)
		return err;

	unsigned long flags = spin_lock_irqsave(&pm->lock);
	uint64_t *e = pm_lookup(pm, va, &level);

	if (!e)
		err = KERN_INVALID_ADDRESS;
	else if (level == 2 && (*e & PTE_ATTR & ~(PTE_A | PTE_D | PTE_PS)) == pm_bits(va, prot))
		; /* the 2 MiB page already has it */
	else if (level == 2 && !(e = pm_walk(pm, va, 1, &err)))
		; /* could not split */
	else {
		*e = (*e & PTE_ADDR) | pm_bits(va, prot);
		pm_flush(pm, va);
		pm_promote(pm, va, e);
	}
	spin_unlock_irqrestore(&pm->lock, flags);
	return err;
}

/* Physical address and protection of va; 0 if unmapped. */
static paddr_t pm_extract(struct pmap *pm, uintptr_t va, unsigned *prot)
{
	unsigned long flags = spin_lock_irqsave(&pm->lock);
	int level;
	uint64_t *e = pm_lookup(pm, va, &level);
	paddr_t pa = 0;

	*prot = 0;
	if (e) {
		pa = level == 2 ? (*e & PTE_LARGE_ADDR) | (va & (LARGE_SIZE - 1))
		                : (*e & PTE_ADDR) | (va & PAGE_MASK);
		*prot = pm_prot(*e);
	}
	spin_unlock_irqrestore(&pm->lock, flags);
	return pa;
}

kern_return_t pmap_kenter(uintptr_t va, paddr_t pa, unsigned prot)
{
	return pm_enter(&kernel_pmap, va, pa, prot);
}

kern_return_t pmap_kremove(uintptr_t va)
{
	return pm_remove(&kernel_pmap, va);
}

kern_return_t pmap_kprotect(uintptr_t va, unsigned prot)
{
	return pm_protect(&kernel_pmap, va, prot);
}

paddr_t pmap_kextract(uintptr_t va)
{
	unsigned prot;

	return pm_extract(&kernel_pmap, va, &prot);
}

unsigned pmap_kprot(uintptr_t va)
{
	unsigned prot;

	pm_extract(&kernel_pmap, va, &prot);
	return prot;
}

kern_return_t pmap_enter(struct pmap *pm, uintptr_t va, paddr_t pa, unsigned prot)
{
	return pm_enter(pm, va, pa, prot);
}

kern_return_t pmap_remove(struct pmap *pm, uintptr_t va)
{
	return pm_remove(pm, va);
}

kern_return_t pmap_protect(struct pmap *pm, uintptr_t va, unsigned prot)
{
	return pm_protect(pm, va, prot);
}

paddr_t pmap_extract(struct pmap *pm, uintptr_t va)
{
	unsigned prot;

	return pm_extract(pm, va, &prot);
}

kern_return_t pmap_create(struct pmap *pm)
{
	*pm = (struct pmap){ .lock = SPINLOCK_INIT };
	pm->pml4 = pm_table_alloc(pm);
	if (!pm->pml4)
		return KERN_RESOURCE_SHORTAGE;

	/* The kernel half: the same PDPTs as every other address space. */
	unsigned long flags = spin_lock_irqsave(&kernel_pmap.lock);

	memcpy(pm_table(pm->pml4) + 256, pm_table(kernel_pmap.pml4) + 256, 256 * sizeof(uint64_t));
	spin_lock(&pm_list_lock);
	pm->next = pm_list;
	pm_list = pm;
	spin_unlock(&pm_list_lock);
	spin_unlock_irqrestore(&kernel_pmap.lock, flags);
	return 0;
}

void pmap_destroy(struct pmap *pm)
{
	if (pm == &kernel_pmap || (read_cr3() & PTE_ADDR) == pm->pml4)
		panic("pmap_destroy: %p is the kernel's or the active pmap", pm);

	unsigned long flags = spin_lock_irqsave(&pm_list_lock);
	struct pmap **pp = &pm_list;

	while (*pp && *pp != pm)
		pp = &(*pp)->next;
	if (!*pp) {
		spin_unlock_irqrestore(&pm_list_lock, flags);
		panic("pmap_destroy: %p is not a live pmap", pm);
	}
	*pp = pm->next;
	spin_unlock_irqrestore(&pm_list_lock, flags);

	uint64_t *pml4 = pm_table(pm->pml4);

	for (unsigned i = 0; i < 256; i++) {
		if (!(pml4[i] & PTE_P))
			continue;
		uint64_t *pdpt = pm_table(pml4[i] & PTE_ADDR);

		for (unsigned j = 0; j < 512; j++) {
			if (!(pdpt[j] & PTE_P))
				continue;
			uint64_t *pd = pm_table(pdpt[j] & PTE_ADDR);

			for (unsigned k = 0; k < 512; k++)
				if ((pd[k] & PTE_P) && !(pd[k] & PTE_PS))
					pm_table_free(pm, pd[k] & PTE_ADDR);
			pm_table_free(pm, pdpt[j] & PTE_ADDR);
		}
		pm_table_free(pm, pml4[i] & PTE_ADDR);
	}
	pm_table_free(pm, pm->pml4);
	if (pm->ptpages != 0)
		panic("pmap_destroy: %lu page-table pages unaccounted for", pm->ptpages);
	pm->pml4 = 0;
}

/*
 * Unhooks the empty tables below t, a table at `level' (4: the PML4, of
 * which only the first n entries, the user half, are looked at), and
 * chains them on *dead through their vm_page's next.  Children first, so
 * a PD whose PTs were all empty goes too.
 */
static void pm_collect_level(struct pmap *pm, uint64_t *t, int level, unsigned n,
                             struct vm_page **dead)
{
	for (unsigned i = 0; i < n; i++) {
		if (!(t[i] & PTE_P) || (t[i] & PTE_PS))
			continue;

		uint64_t *sub = pm_table(t[i] & PTE_ADDR);
		struct vm_page *pg = pm_tpage(sub);

		if (level > 2)
			pm_collect_level(pm, sub, level - 1, 512, dead);
		if (pg->count == 0) {
			pm_set(&t[i], 0);
			pg->next = *dead;
			*dead = pg;
		}
	}
}

uint64_t pmap_collect(struct pmap *pm)
{
	if (pm == &kernel_pmap)
		panic("pmap_collect: the kernel pmap frees its empty tables itself");

	unsigned long flags = spin_lock_irqsave(&pm->lock);
	struct vm_page *dead = NULL;
	uint64_t n = 0;

	pm_collect_level(pm, pm_table(pm->pml4), 4, 256, &dead);
	if (dead && (read_cr3() & PTE_ADDR) == pm->pml4)
		write_cr3(pm->pml4); /* no cached walk may lead through a freed table */
	while (dead) {
		struct vm_page *pg = dead;

		dead = pg->next;
		pm_table_free(pm, vm_page_to_phys(pg));
		n++;
	}
	spin_unlock_irqrestore(&pm->lock, flags);
	return n;
}

void pmap_activate(struct pmap *pm)
{
	if ((read_cr3() & PTE_ADDR) != pm->pml4)
		write_cr3(pm->pml4);
}

/* Boot: maps [pa, end) at PHYSMAP_BASE + pa, 2 MiB pages where possible. */
static void pm_map_phys(paddr_t pa, paddr_t end, unsigned prot)
{
	kern_return_t err = 0;

	while (pa < end) {
		uintptr_t va = (uintptr_t)PHYS_TO_VIRT(pa);
		bool large = !(pa & (LARGE_SIZE - 1)) && end - pa >= LARGE_SIZE;
		uint64_t *e = pm_walk(&kernel_pmap, va, large ? 2 : 1, &err);

		if (!e)
			panic("pm_map_phys: %s mapping %#lx", mach_error_name(err), pa);
		if (*e)
			panic("pm_map_phys: %#lx mapped twice", pa);
		pm_set(e, pa | pm_bits(va, prot) | (large ? PTE_PS : 0));
		pa += large ? LARGE_SIZE : PAGE_SIZE;
	}
}

struct pm_range {
	paddr_t start, end;
};

static struct pm_range pm_ranges[160]; /* boot only */

static unsigned pm_add_range(unsigned n, paddr_t start, paddr_t end)
{
	start = trunc_page(start);
	end = round_page(end);
	if (end > PM_PHYSMAP_MAX)
		end = PM_PHYSMAP_MAX;
	if (start >= end)
		return n;
	if (n == sizeof(pm_ranges) / sizeof(pm_ranges[0]))
		panic("pm_add_range: too many physmap ranges");
	pm_ranges[n] = (struct pm_range){ start, end };
	return n + 1;
}

/*
 * Boot: the physmap.  RAM, ACPI tables, the first MiB (BIOS data, RSDP,
 * MP tables) and the boot data, sorted, merged, with the LAPIC/IOAPIC
 * window cut out; then the window itself uncached.
 */
static uint64_t pm_map_physmap(void)
{
	const struct vm_phys_range *r;
	unsigned n = 0, nmap = vm_page_phys_ranges(&r);
	uint64_t bytes = 0;

	for (unsigned i = 0; i < nmap; i++)
		if (r[i].type == 1 || r[i].type == 3 || r[i].type == 4)
			n = pm_add_range(n, r[i].start, r[i].end);
	n = pm_add_range(n, 0, 0x100000);
	nmap = vm_page_boot_ranges(&r);
	for (unsigned i = 0; i < nmap; i++)
		n = pm_add_range(n, r[i].start, r[i].end);

	for (unsigned i = 1; i < n; i++) /* insertion sort: a few dozen entries */
		for (unsigned j = i; j > 0 && pm_ranges[j].start < pm_ranges[j - 1].start; j--) {
			struct pm_range t = pm_ranges[j];

			pm_ranges[j] = pm_ranges[j - 1];
			pm_ranges[j - 1] = t;
		}

	paddr_t start = 0, end = 0;

	for (unsigned i = 0; i <= n; i++) {
		if (i < n && pm_ranges[i].start <= end) {
			if (pm_ranges[i].end > end)
				end = pm_ranges[i].end;
			continue;
		}
		/* [start, end) is a merged range: map it around the MMIO window. */
		if (start < PM_MMIO_START && end > start)
			pm_map_phys(start, end < PM_MMIO_START ? end : PM_MMIO_START,
			            PMAP_READ | PMAP_WRITE);
		if (end > PM_MMIO_END)
			pm_map_phys(start > PM_MMIO_END ? start : PM_MMIO_END, end,
			            PMAP_READ | PMAP_WRITE);
		bytes += end - start;
		if (i < n) {
			start = pm_ranges[i].start;
			end = pm_ranges[i].end;
		}
	}
	pm_map_phys(PM_MMIO_START, PM_MMIO_END, PMAP_READ | PMAP_WRITE | PMAP_NOCACHE);
	return bytes;
}

/* Boot: the kernel image, 4 KiB pages, each section with its own rights. */
static void pm_map_image(uintptr_t start, uintptr_t end, unsigned prot)
{
	kern_return_t err = 0;

	for (uintptr_t va = trunc_page(start); va < round_page(end); va += PAGE_SIZE) {
		uint64_t *e = pm_walk(&kernel_pmap, va, 1, &err);

		if (!e)
			panic("pm_map_image: %s mapping %#lx", mach_error_name(err), va);
		pm_set(e, KIMG_TO_PHYS(va) | pm_bits(va, prot));
	}
}

void pmap_init(void)
{
	struct pmap *pm = &kernel_pmap;

	pm->pml4 = pm_table_alloc(pm);
	if (!pm->pml4)
		panic("pmap_init: no page for the kernel PML4");

	uint64_t physmap_bytes = pm_map_physmap();

	pm_map_image((uintptr_t)_text, (uintptr_t)_etext, PMAP_READ | PMAP_EXEC);
	pm_map_image(round_page((uintptr_t)_etext), (uintptr_t)_data, PMAP_READ);
	pm_map_image((uintptr_t)_data, (uintptr_t)_kernel_end, PMAP_READ | PMAP_WRITE);

	write_cr3(pm->pml4);
	write_cr4(read_cr4() | CR4_PGE);
	pm_booted = true;
	kprintf("pmap: kernel tables at %#lx (%lu pages), physmap %lu MiB, no identity map\n",
	        pm->pml4, pm->ptpages, physmap_bytes >> 20);
}

/* KVA: one bit per page of [KVA_BASE, KVA_BASE + KVA_SIZE). */
#define KVA_PAGES (KVA_SIZE >> PAGE_SHIFT)

static spinlock_t kva_lock = SPINLOCK_INIT;
static uint64_t kva_bitmap[KVA_PAGES / 64]; /* [k] kva_lock */
static size_t kva_hint;                     /* [k] every page below is in use */

static bool kva_test(size_t i)
{
	return kva_bitmap[i / 64] & (1ul << (i % 64));
}

uintptr_t kva_alloc(size_t npages)
{
	if (npages == 0 || npages > KVA_PAGES)
		return 0;

	unsigned long flags = spin_lock_irqsave(&kva_lock);
	uintptr_t va = 0;
	size_t run = 0;

	for (size_t i = kva_hint; i < KVA_PAGES; i++) {
		run = kva_test(i) ? 0 : run + 1;
		if (run < npages)
			continue;
		size_t first = i + 1 - npages;

		for (size_t j = first; j <= i; j++)
			kva_bitmap[j / 64] |= 1ul << (j % 64);
		if (first == kva_hint)
			kva_hint = i + 1;
		va = KVA_BASE + first * PAGE_SIZE;
		break;
	}
	spin_unlock_irqrestore(&kva_lock, flags);
	return va;
}

void kva_free(uintptr_t va, size_t npages)
{
	if ((va & PAGE_MASK) || va < KVA_BASE || npages > KVA_PAGES ||
	    (va - KVA_BASE) / PAGE_SIZE > KVA_PAGES - npages)
		panic("kva_free: %#lx + %lu pages is not a KVA range", va, npages);
	for (size_t j = 0; j < npages; j++)
		if (pmap_kextract(va + j * PAGE_SIZE))
			panic("kva_free: %#lx is still mapped", va + j * PAGE_SIZE);

	size_t first = (va - KVA_BASE) / PAGE_SIZE;
	unsigned long flags = spin_lock_irqsave(&kva_lock);

	for (size_t j = first; j < first + npages; j++) {
		if (!kva_test(j)) {
			spin_unlock_irqrestore(&kva_lock, flags);
			panic("kva_free: %#lx was not allocated", KVA_BASE + j * PAGE_SIZE);
		}
		kva_bitmap[j / 64] &= ~(1ul << (j % 64));
	}
	if (first < kva_hint)
		kva_hint = first;
	spin_unlock_irqrestore(&kva_lock, flags);
}
