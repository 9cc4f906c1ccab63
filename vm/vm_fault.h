/*
 * Page faults on user addresses.
 *
 * vm_fault resolves a fault against a map: anonymous memory is
 * demand-zero, so the first touch of a page allocates and zeroes it.  The
 * page-fault trap handler (vm_fault_init) calls it for faults at user
 * addresses taken in user mode, or in kernel mode inside a kfault_try
 * bracket (copyin/copyout); anything else it leaves to trap_dispatch's
 * default path.
 */
#ifndef VM_VM_FAULT_H
#define VM_VM_FAULT_H

#include <mach/kern_return.h>
#include <stdint.h>

struct vm_map;

/* Installs the page-fault handler.  After vm_map_init. */
void vm_fault_init(void);

/*
 * Makes the page holding addr accessible for the access the fault type
 * describes (PF_WRITE: write, PF_INSTR: execute, otherwise read).
 * Takes map->lock; out of pages, it drops it, has every map give back
 * what it keeps for speed (vm_map_reclaim) and tries once more.  Returns:
 *	KERN_SUCCESS            mapped (allocated and zeroed if it was not resident)
 *	KERN_INVALID_ADDRESS    no entry holds addr
 *	KERN_PROTECTION_FAILURE the entry does not allow that access
 *	KERN_RESOURCE_SHORTAGE  no page for the data or for a page table, even then
 */
kern_return_t vm_fault(struct vm_map *map, uintptr_t addr, unsigned fault_type);

/*
 * The map a fault at a user address on this CPU is about: the current
 * thread's task's map, or for a kernel thread the map it activated with
 * vm_map_activate; NULL if neither.
 */
struct vm_map *vm_fault_current_map(void);

#endif
