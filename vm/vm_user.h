/*
 * The Mach virtual-memory calls, as kernel functions with GNU Mach's
 * argument lists (the MIG server for the mach subsystem, ids 2021..2027,
 * calls these with the target task's map).
 *
 * Sizes and addresses are rounded to pages the way GNU Mach does:
 * addresses down, ends up.  User space is [VM_MIN_USER, VM_MAX_USER).
 * Return codes (GNU Mach's, and its manual's where the two differ; see
 * vm_user.c):
 *	KERN_SUCCESS
 *	KERN_INVALID_ARGUMENT   map NULL; protection bits outside VM_PROT_ALL
 *	KERN_INVALID_ADDRESS    range outside user space or wrapping around;
 *	                        deallocate/protect/read/write: not all allocated
 *	KERN_NO_SPACE           allocate: the fixed range is in use, or no hole fits
 *	KERN_PROTECTION_FAILURE protect: beyond the maximum protection;
 *	                        read/write: the range does not allow it
 *	KERN_RESOURCE_SHORTAGE  out of kernel memory
 */
#ifndef VM_VM_USER_H
#define VM_VM_USER_H

#include <mach/kern_return.h>
#include <mach/vm_prot.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/perf_analysis.h"
#include "vm/vm_map.h"

struct vm_map;

/*
 * Zero-filled memory, VM_PROT_DEFAULT (max VM_PROT_ALL), at *addr
 * (rounded down) or, if anywhere, at the lowest hole that fits; *addr is
 * set to the start.  Size 0: *addr = 0 and KERN_SUCCESS, nothing mapped.
 */
kern_return_t vm_allocate(struct vm_map *map, uintptr_t *addr, size_t size, bool anywhere);

/* Unmaps and frees [addr, addr + size).  Size 0: KERN_SUCCESS. */
kern_return_t vm_deallocate(struct vm_map *map, uintptr_t addr, size_t size);

/*
 * Their bodies, inline for the MIG routines (vm/vm_server.c), which are
 * the hot callers (each RPC would pay another call level); the probes
 * are out of line and called only when their event records.
 */
void vm_user_record_alloc(uintptr_t start, size_t size);
void vm_user_record_free(uintptr_t start, size_t size);

/* [addr, addr + size) in user space, page-rounded out; KERN_INVALID_ADDRESS if not. */
static inline __attribute__((always_inline)) kern_return_t
vm_user_range(uintptr_t addr, size_t size, uintptr_t *start, uintptr_t *end)
{
	if (size > VM_MAX_USER || addr > VM_MAX_USER - size)
		return KERN_INVALID_ADDRESS;
	*start = trunc_page(addr);
	*end = round_page(addr + size);
	return KERN_SUCCESS;
}

static inline __attribute__((always_inline)) kern_return_t
vm_allocate_inline(struct vm_map *map, uintptr_t *addr, size_t size, bool anywhere)
{
	kern_return_t kr;

	if (!map)
		return KERN_INVALID_ARGUMENT;
	if (size == 0) {
		*addr = 0;
		return KERN_SUCCESS;
	}
	if (size > VM_MAX_USER - VM_MIN_USER)
		return anywhere ? KERN_NO_SPACE : KERN_INVALID_ADDRESS;
	size = round_page(size);
	if (anywhere) {
		/* vm_map_enter ignores *addr and sets it only on success. */
		kr = vm_map_enter(map, addr, size, true, VM_PROT_DEFAULT);
	} else {
		uintptr_t start = trunc_page(*addr);

		kr = vm_map_enter(map, &start, size, false, VM_PROT_DEFAULT);
		if (kr == KERN_SUCCESS)
			*addr = start;
	}
	if (kr == KERN_SUCCESS && PERF_EVENT_ON(PERF_EVENT_VM_ALLOC))
		vm_user_record_alloc(*addr, size);
	return kr;
}

static inline __attribute__((always_inline)) kern_return_t
vm_deallocate_inline(struct vm_map *map, uintptr_t addr, size_t size)
{
	uintptr_t start, end;

	if (!map)
		return KERN_INVALID_ARGUMENT;
	if (size == 0)
		return KERN_SUCCESS;

	kern_return_t kr = vm_user_range(addr, size, &start, &end);

	if (kr == KERN_SUCCESS)
		kr = vm_map_remove(map, start, end);
	if (kr == KERN_SUCCESS && PERF_EVENT_ON(PERF_EVENT_VM_FREE))
		vm_user_record_free(start, end - start);
	return kr;
}

/*
 * Sets the current protection of [addr, addr + size), or with
 * set_maximum the maximum (cutting the current one down to it).  Size 0:
 * KERN_SUCCESS.
 */
kern_return_t vm_protect(struct vm_map *map, uintptr_t addr, size_t size, bool set_maximum,
                         vm_prot_t new_prot);

/*
 * Copies size bytes at addr in map into / out of kernel memory, byte
 * granular, without the map being active.  The range must be allocated
 * and readable (vm_read) or writable (vm_write), checked before anything
 * is copied.  Pages not touched yet read as zeros without being
 * allocated; vm_write allocates them.  (GNU Mach's vm_read returns the
 * data as a new region of the caller's map: that is the RPC's job, on
 * top of this.)
 */
kern_return_t vm_read(struct vm_map *map, uintptr_t addr, void *kdst, size_t size);
kern_return_t vm_write(struct vm_map *map, uintptr_t addr, const void *ksrc, size_t size);

#endif
