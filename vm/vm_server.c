/*
 * The VM routines of the mach subsystem (S_vm_*): the vm_* calls of
 * vm/vm_user.h on the map of the task named by target_task, with GNU
 * Mach's codes (vm_user.h lists them).  A name that is not a live task
 * port, or a task whose memory is gone, is KERN_INVALID_ARGUMENT (GNU
 * Mach: VM_MAP_NULL).  Out-of-line data comes and goes as kalloc'd
 * buffers (mig-defs/README.md).
 *
 * vm_read copies at most VM_SERVER_IO_MAX bytes per call (more:
 * KERN_RESOURCE_SHORTAGE): the kernel buffers the data whole.  vm_region
 * reports no memory objects: object_name is MACH_PORT_NULL, offset 0,
 * is_shared FALSE.  vm_statistics reports the page size and the free
 * pages; there is no paging, so the other counters are zero.
 *
 * Each routine holds a reference to the map while it works on it
 * (ipc_tt_task_map, like GNU Mach's convert_port_to_map), so a task that
 * dies meanwhile takes its map away only when the routine is done.
 */
#include <mach/vm_statistics.h>

#include "ipc/ipc_kmsg.h"
#include "kern/ipc_tt.h"
#include "kern/kalloc.h"
#include "kern/string.h"
#include "mach_S.h" /* mig-gen/ */
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"

#define VM_SERVER_IO_MAX (16ul << 20)

/*
 * vm_allocate and vm_deallocate are the hot pair (issue 4's
 * vm_alloc_dealloc): each is a body on a referenced map (vs_*), inlined
 * into the routine for the common case (ipc_tt_task_map_self) and
 * reached through a tail call for every other name, so that the common
 * path keeps only the registers its own call needs.
 */
static inline __attribute__((always_inline)) kern_return_t
vs_allocate(struct vm_map *map, vm_address_t *address, vm_size_t size, boolean_t anywhere)
{
	uintptr_t addr = *address; /* *address may be misaligned (MIG packs to 4) */
	kern_return_t kr = vm_allocate_inline(map, &addr, size, anywhere != 0);

	if (kr == KERN_SUCCESS)
		*address = addr;
	vm_map_deallocate(map);
	return kr;
}

static __attribute__((noinline)) kern_return_t vs_allocate_locked(mach_port_t target_task,
                                                                  vm_address_t *address,
                                                                  vm_size_t size,
                                                                  boolean_t anywhere)
{
	struct vm_map *map = ipc_tt_task_map_locked(target_task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	return vs_allocate(map, address, size, anywhere);
}

kern_return_t S_vm_allocate(mach_port_t target_task, vm_address_t *address, vm_size_t size,
                            boolean_t anywhere)
{
	struct vm_map *map;

	if (!ipc_tt_task_map_self(target_task, &map))
		return vs_allocate_locked(target_task, address, size, anywhere);
	return vs_allocate(map, address, size, anywhere);
}

static inline __attribute__((always_inline)) kern_return_t
vs_deallocate(struct vm_map *map, vm_address_t address, vm_size_t size)
{
	kern_return_t kr = vm_deallocate_inline(map, address, size);

	vm_map_deallocate(map);
	return kr;
}

static __attribute__((noinline)) kern_return_t
vs_deallocate_locked(mach_port_t target_task, vm_address_t address, vm_size_t size)
{
	struct vm_map *map = ipc_tt_task_map_locked(target_task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	return vs_deallocate(map, address, size);
}

kern_return_t S_vm_deallocate(mach_port_t target_task, vm_address_t address, vm_size_t size)
{
	struct vm_map *map;

	if (!ipc_tt_task_map_self(target_task, &map))
		return vs_deallocate_locked(target_task, address, size);
	return vs_deallocate(map, address, size);
}

kern_return_t S_vm_protect(mach_port_t target_task, vm_address_t address, vm_size_t size,
                           boolean_t set_maximum, vm_prot_t new_protection)
{
	struct vm_map *map = ipc_tt_task_map(target_task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = vm_protect(map, address, size, set_maximum != 0, new_protection);

	vm_map_deallocate(map);
	return kr;
}

kern_return_t S_vm_read(mach_port_t target_task, vm_address_t address, vm_size_t size,
                        vm_offset_t *data, mach_msg_type_number_t *dataCnt)
{
	struct vm_map *map = ipc_tt_task_map(target_task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	void *buf = NULL;
	kern_return_t kr = KERN_SUCCESS;

	if (size > VM_SERVER_IO_MAX)
		kr = KERN_RESOURCE_SHORTAGE;
	else if (size && (buf = kalloc(size)) == NULL)
		kr = KERN_RESOURCE_SHORTAGE;
	else
		kr = vm_read(map, address, buf, size);
	vm_map_deallocate(map);
	if (kr != KERN_SUCCESS) {
		kfree(buf);
		return kr;
	}
	*data = (vm_offset_t)(uintptr_t)buf; /* dealloc: the reply frees it */
	*dataCnt = (mach_msg_type_number_t)size;
	return KERN_SUCCESS;
}

kern_return_t S_vm_write(mach_port_t target_task, vm_address_t address, vm_offset_t data,
                         mach_msg_type_number_t dataCnt)
{
	struct vm_map *map = ipc_tt_task_map(target_task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = vm_write(map, address, (const void *)(uintptr_t)data, dataCnt);

	vm_map_deallocate(map);
	if (kr == KERN_SUCCESS)
		kfree((void *)(uintptr_t)data); /* the request's buffer is ours on success */
	return kr;
}

kern_return_t S_vm_region(mach_port_t target_task, vm_address_t *address, vm_size_t *size,
                          vm_prot_t *protection, vm_prot_t *max_protection,
                          vm_inherit_t *inheritance, boolean_t *is_shared, mach_port_t *object_name,
                          vm_offset_t *offset)
{
	struct vm_map *map = ipc_tt_task_map(target_task);
	struct vm_map_entry e;

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = vm_map_region(map, *address, &e);

	vm_map_deallocate(map);
	if (kr != KERN_SUCCESS)
		return kr;
	*address = e.start;
	*size = e.end - e.start;
	*protection = e.prot;
	*max_protection = e.max_prot;
	*inheritance = e.inheritance;
	*is_shared = 0;
	*object_name = MACH_PORT_NULL;
	*offset = 0;
	return KERN_SUCCESS;
}

kern_return_t S_vm_statistics(mach_port_t target_task, vm_statistics_data_t *vm_stats)
{
	struct vm_map *map = ipc_tt_task_map(target_task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	vm_map_deallocate(map);
	memset(vm_stats, 0, sizeof(*vm_stats));
	vm_stats->pagesize = PAGE_SIZE;
	vm_stats->free_count = (integer_t)vm_page_free_count();
	vm_stats->active_count = (integer_t)(vm_page_total_count() - vm_page_free_count());
	return KERN_SUCCESS;
}
