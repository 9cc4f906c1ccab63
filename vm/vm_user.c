/*
 * vm_allocate and co. (see vm_user.h).
 *
 * Edge cases, and where they follow GNU Mach or its manual:
 *	- size 0: vm_allocate sets *addr = 0 and succeeds; vm_deallocate and
 *	  vm_protect succeed and change nothing (GNU Mach).
 *	- rounding: the address is truncated to a page, the end rounded up
 *	  (GNU Mach); a range whose end wraps around or passes VM_MAX_USER is
 *	  KERN_INVALID_ADDRESS, and so is a fixed allocation starting below
 *	  VM_MIN_USER (GNU Mach's vm_map_enter).  An anywhere allocation
 *	  larger than user space is KERN_NO_SPACE.
 *	- holes: vm_deallocate and vm_protect of a range that is not entirely
 *	  allocated return KERN_INVALID_ADDRESS and change nothing, as the
 *	  manual documents ("an invalid or non-allocated address").  GNU Mach
 *	  itself skips the holes and succeeds; we do the documented thing.
 *	- vm_protect with set_maximum cannot raise the maximum: asking for
 *	  more than an entry's maximum is KERN_PROTECTION_FAILURE either way
 *	  (GNU Mach and the manual agree).  VM_PROT_NOTIFY (external pagers)
 *	  is not supported: KERN_INVALID_ARGUMENT.
 *	- x86 cannot make a present page unreadable: write or execute
 *	  permission implies read (the manual allows this).
 */
#include "kern/kern_return.h"
#include "kern/perf_analysis.h"
#include "kern/string.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"

/* [*start, *end): the pages of [addr, addr + size), or KERN_INVALID_ADDRESS. */
/*
 * The VM_ALLOC and VM_FREE probes (data1 = start, data2 = size), out of
 * line and called only when their event records: the calls for the task
 * and thread ids would otherwise make every vm_allocate and vm_deallocate
 * save more registers.
 */
__attribute__((cold)) void vm_user_record_alloc(uintptr_t start, size_t size)
{
	PERF_EVENT_RECORD_CUR(PERF_EVENT_VM_ALLOC, start, size);
}

__attribute__((cold)) void vm_user_record_free(uintptr_t start, size_t size)
{
	PERF_EVENT_RECORD_CUR(PERF_EVENT_VM_FREE, start, size);
}

kern_return_t vm_allocate(struct vm_map *map, uintptr_t *addr, size_t size, bool anywhere)
{
	return vm_allocate_inline(map, addr, size, anywhere);
}

kern_return_t vm_deallocate(struct vm_map *map, uintptr_t addr, size_t size)
{
	return vm_deallocate_inline(map, addr, size);
}

kern_return_t vm_protect(struct vm_map *map, uintptr_t addr, size_t size, bool set_maximum,
                         vm_prot_t new_prot)
{
	uintptr_t start, end;

	if (!map || (new_prot & ~VM_PROT_ALL))
		return KERN_INVALID_ARGUMENT;
	if (size == 0)
		return KERN_SUCCESS;

	kern_return_t kr = vm_user_range(addr, size, &start, &end);

	if (kr == KERN_SUCCESS)
		kr = vm_map_protect(map, start, end, new_prot, set_maximum);
	return kr;
}

/*
 * Is [start, end) allocated and does it allow `access' throughout?  The
 * entry containing start in *first.  map->lock held.
 */
static kern_return_t vu_check_locked(struct vm_map *map, uintptr_t start, uintptr_t end,
                                     vm_prot_t access, struct vm_map_entry **first)
{
	struct vm_map_entry *e = vm_map_lookup_locked(map, start);

	*first = e;
	for (;;) {
		if (!e)
			return KERN_INVALID_ADDRESS;
		if (!vm_prot_allows(e->prot, access))
			return KERN_PROTECTION_FAILURE;
		if (e->end >= end)
			return KERN_SUCCESS;
		if (e->next == &map->head || e->next->start != e->end)
			return KERN_INVALID_ADDRESS;
		e = e->next;
	}
}

/*
 * One page's part of a transfer: [addr, addr + n) lies in one page.  The
 * lock is taken per page so a long copy does not keep interrupts off.
 */
static kern_return_t vu_copy_page(struct vm_map *map, uintptr_t addr, uint8_t *kbuf, size_t n,
                                  bool write)
{
	uintptr_t va = trunc_page(addr);
	unsigned long flags = spin_lock_irqsave(&map->lock);
	struct vm_map_entry *e;
	kern_return_t kr =
	    vu_check_locked(map, va, va + PAGE_SIZE, write ? VM_PROT_WRITE : VM_PROT_READ, &e);
	paddr_t pa = 0;

	if (kr == KERN_SUCCESS) {
		pa = vm_resident_lookup(&map->resident, va);
		if (!pa && write) {
			pa = vm_page_alloc();
			if (pa) {
				memset(PHYS_TO_VIRT(pa), 0, PAGE_SIZE);
				/* Resident but unmapped: the task's first touch maps it. */
				vm_map_page_insert_locked(map, e, va, pa);
			} else {
				kr = KERN_RESOURCE_SHORTAGE;
			}
		}
	}
	if (kr == KERN_SUCCESS) {
		uint8_t *p = (uint8_t *)PHYS_TO_VIRT(pa) + (addr & PAGE_MASK);

		if (write)
			memcpy(p, kbuf, n);
		else if (pa)
			memcpy(kbuf, p, n);
		else
			memset(kbuf, 0, n);
	}
	spin_unlock_irqrestore(&map->lock, flags);
	return kr;
}

static kern_return_t vu_transfer(struct vm_map *map, uintptr_t addr, uint8_t *kbuf, size_t size,
                                 bool write)
{
	uintptr_t start, end;

	if (!map)
		return KERN_INVALID_ARGUMENT;
	if (size == 0)
		return KERN_SUCCESS;

	kern_return_t kr = vm_user_range(addr, size, &start, &end);

	if (kr == KERN_SUCCESS) {
		unsigned long flags = spin_lock_irqsave(&map->lock);
		struct vm_map_entry *first;

		kr = vu_check_locked(map, start, end, write ? VM_PROT_WRITE : VM_PROT_READ, &first);
		spin_unlock_irqrestore(&map->lock, flags);
	}
	/* Checked as a whole first; a concurrent vm_deallocate can still cut it short. */
	while (kr == KERN_SUCCESS && size > 0) {
		size_t n = PAGE_SIZE - (addr & PAGE_MASK);

		if (n > size)
			n = size;
		kr = vu_copy_page(map, addr, kbuf, n, write);
		if (kr == KERN_RESOURCE_SHORTAGE) {
			/* What maps keep for speed (empty page tables, spare entries) is free too. */
			vm_map_reclaim();
			kr = vu_copy_page(map, addr, kbuf, n, write);
		}
		addr += n;
		kbuf += n;
		size -= n;
	}
	return kr;
}

kern_return_t vm_read(struct vm_map *map, uintptr_t addr, void *kdst, size_t size)
{
	return vu_transfer(map, addr, kdst, size, false);
}

kern_return_t vm_write(struct vm_map *map, uintptr_t addr, const void *ksrc, size_t size)
{
	return vu_transfer(map, addr, (uint8_t *)ksrc, size, true);
}
