/*
 * Inheritance of a region by child tasks, as in Mach (<mach/vm_inherit.h>).
 * Shared with userland: vm_inherit and vm_region carry it.
 */
#ifndef MACH_VM_INHERIT_H
#define MACH_VM_INHERIT_H

typedef int vm_inherit_t;

#define VM_INHERIT_SHARE ((vm_inherit_t)0) /* the child shares the region */
#define VM_INHERIT_COPY ((vm_inherit_t)1)  /* the child gets a copy */
#define VM_INHERIT_NONE ((vm_inherit_t)2)  /* absent from the child */

#define VM_INHERIT_DEFAULT VM_INHERIT_COPY

_Static_assert(sizeof(vm_inherit_t) == 4, "vm_inherit_t is 4 bytes in the ABI");

#endif
