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
 * The map is used without a reference: it lives as long as the task is
 * alive, and a task dies in the kernel only when its last thread exits
 * or task_terminate runs; a routine racing a third thread that kills the
 * target on another CPU is not handled (the kernel runs on one CPU).
 */
#include <mach/vm_statistics.h>

#include "ipc/ipc_kmsg.h"
#include "kern/ipc_tt.h"
#include "kern/kalloc.h"
#include "kern/string.h"
#include "kern/task.h"
#include "mach_S.h" /* mig-gen/ */
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"

#define VM_SERVER_IO_MAX (16ul << 20)

kern_return_t S_vm_allocate(mach_port_t target_task, vm_address_t *address, vm_size_t size,
                            boolean_t anywhere)
{
	struct task *task;
	struct vm_map *map = ipc_tt_task_map(target_task, &task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	uintptr_t addr = *address;
	kern_return_t kr = vm_allocate(map, &addr, size, anywhere != 0);

	if (kr == KERN_SUCCESS)
		*address = addr;
	task_deallocate(task);
	return kr;
}

kern_return_t S_vm_deallocate(mach_port_t target_task, vm_address_t address, vm_size_t size)
{
	struct task *task;
	struct vm_map *map = ipc_tt_task_map(target_task, &task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = vm_deallocate(map, address, size);

	task_deallocate(task);
	return kr;
}

kern_return_t S_vm_protect(mach_port_t target_task, vm_address_t address, vm_size_t size,
                           boolean_t set_maximum, vm_prot_t new_protection)
{
	struct task *task;
	struct vm_map *map = ipc_tt_task_map(target_task, &task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = vm_protect(map, address, size, set_maximum != 0, new_protection);

	task_deallocate(task);
	return kr;
}

kern_return_t S_vm_read(mach_port_t target_task, vm_address_t address, vm_size_t size,
                        vm_offset_t *data, mach_msg_type_number_t *dataCnt)
{
	struct task *task;
	struct vm_map *map = ipc_tt_task_map(target_task, &task);

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
	task_deallocate(task);
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
	struct task *task;
	struct vm_map *map = ipc_tt_task_map(target_task, &task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = vm_write(map, address, (const void *)(uintptr_t)data, dataCnt);

	task_deallocate(task);
	if (kr == KERN_SUCCESS)
		kfree((void *)(uintptr_t)data); /* the request's buffer is ours on success */
	return kr;
}

kern_return_t S_vm_region(mach_port_t target_task, vm_address_t *address, vm_size_t *size,
                          vm_prot_t *protection, vm_prot_t *max_protection,
                          vm_inherit_t *inheritance, boolean_t *is_shared, mach_port_t *object_name,
                          vm_offset_t *offset)
{
	struct task *task;
	struct vm_map *map = ipc_tt_task_map(target_task, &task);
	struct vm_map_entry e;

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = vm_map_region(map, *address, &e);

	task_deallocate(task);
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
	struct task *task;
	struct vm_map *map = ipc_tt_task_map(target_task, &task);

	if (map == NULL)
		return KERN_INVALID_ARGUMENT;
	task_deallocate(task);
	memset(vm_stats, 0, sizeof(*vm_stats));
	vm_stats->pagesize = PAGE_SIZE;
	vm_stats->free_count = (integer_t)vm_page_free_count();
	vm_stats->active_count = (integer_t)(vm_page_total_count() - vm_page_free_count());
	return KERN_SUCCESS;
}
