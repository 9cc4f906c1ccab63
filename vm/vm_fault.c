/*
 * Page faults on user addresses (see vm_fault.h).
 *
 * Which faults the trap handler takes on:
 *	- user mode, at a user address: the task's own access;
 *	- kernel mode, at a user address, in copy_user (copyin/copyout) in
 *	  thread context, or inside a kfault_try bracket armed at the
 *	  current interrupt depth (copyinstr, tests), and not an instruction
 *	  fetch.  A kernel access to user memory outside such a
 *	  bracket is a kernel bug: it is left to the default report and panic
 *	  instead of being quietly served.
 * A fault it cannot resolve (no entry, wrong protection, no memory) is
 * returned to trap_dispatch unhandled: in kernel mode the copy's kfault
 * catch turns it into KERN_INVALID_ADDRESS; in user mode trap_dispatch's
 * user path decides the thread's fate (task termination, later an
 * exception message).
 *
 * The handler runs with interrupts off (an interrupt gate), so CR2 is the
 * fault's address for its whole run and the map lock's irqsave is cheap.
 */
#include "kern/kern_return.h"
#include "kern/perf_analysis.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "vm/vm_fault.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/kfault.h"
#include "x86_64/trap.h"

kern_return_t vm_fault(struct vm_map *map, uintptr_t addr, unsigned fault_type)
{
	vm_prot_t access = (fault_type & PF_INSTR)   ? VM_PROT_EXECUTE
	                   : (fault_type & PF_WRITE) ? VM_PROT_WRITE
	                                             : VM_PROT_READ;
	uintptr_t va = trunc_page(addr);

	if (addr < map->min || addr >= map->max)
		return KERN_INVALID_ADDRESS;
	for (bool reclaimed = false;; reclaimed = true) {
		unsigned long flags = spin_lock_irqsave(&map->lock);
		struct vm_map_entry *e = vm_map_lookup_locked(map, addr);
		kern_return_t err = KERN_SUCCESS;

		if (!e)
			err = KERN_INVALID_ADDRESS;
		else if (!vm_prot_allows(e->prot, access))
			err = KERN_PROTECTION_FAILURE;
		else {
			paddr_t pa = vm_resident_lookup(&map->resident, va);
			bool fresh = !pa;

			if (fresh && (pa = vm_page_alloc()) != 0) {
				memset(PHYS_TO_VIRT(pa), 0, PAGE_SIZE);
				vm_map_page_insert_locked(map, e, va, pa);
			}
			if (!pa)
				err = KERN_RESOURCE_SHORTAGE;
			else
				err = pmap_enter(&map->pmap, va, pa, vm_prot_to_pmap(e->prot));
			if (err == KERN_SUCCESS) {
				map->faults++;
				map->zero_fills += fresh;
			} else if (fresh && pa) {
				/* No page table for it: give the page back, the map is as before. */
				vm_resident_remove(&map->resident, va);
				vm_page_free(pa);
			}
		}
		spin_unlock_irqrestore(&map->lock, flags);
		if (err != KERN_RESOURCE_SHORTAGE || reclaimed)
			return err;
		/* What maps keep for speed (empty page tables, spare entries) is free memory too. */
		vm_map_reclaim();
	}
}

struct vm_map *vm_fault_current_map(void)
{
	struct thread *t = thread_current();

	if (t && t->task && t->task->map)
		return t->task->map;
	return vm_map_active();
}

/* Is a kfault_try armed for the code that faulted (not for an interrupt on top of it)? */
static bool vf_in_catch(void)
{
	struct cpu *c = cpu_current();

	return c->fault_catch && c->fault_catch->irq_depth == c->irq_depth;
}

static bool vf_ours(const struct trap_frame *tf, uintptr_t addr)
{
	if (addr >= VM_MAX_USER || (tf->error & PF_RSVD))
		return false;
	if (trap_from_user(tf))
		return true;
	/* copy_user from thread context only: an interrupt handler must not take the map lock. */
	return !(tf->error & PF_INSTR) &&
	       ((kfault_in_copy_user(tf->rip) && cpu_current()->irq_depth == 0) || vf_in_catch());
}

/* The page-fault handler: 1 if it resolved the fault, 0 for the default path. */
static int vm_fault_trap(struct trap_frame *tf)
{
	uintptr_t addr = read_cr2();
	int handled = 0;

	/*
	 * PAGE_FAULT perf event: start the timed block here, record it at
	 * the single exit below (addr, tf->error; handled as the outcome).
	 */
	PERF_TIME_BLOCK_CUR(PERF_EVENT_PAGE_FAULT, addr, perf_pf_bits(tf->error, handled), {
		if (vf_ours(tf, addr)) {
			struct vm_map *map = vm_fault_current_map();

			handled = map && vm_fault(map, addr, (unsigned)tf->error) == KERN_SUCCESS;
		}
	}); /* perf */
	return handled;
}

void vm_fault_init(void)
{
	trap_register(T_PAGE_FAULT, vm_fault_trap);
}
