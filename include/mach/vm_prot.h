/*
 * Virtual memory protection bits, as in Mach (<mach/vm_prot.h>).  Shared
 * with userland: vm_protect and vm_region carry them.
 */
#ifndef MACH_VM_PROT_H
#define MACH_VM_PROT_H

typedef int vm_prot_t;

#define VM_PROT_NONE ((vm_prot_t)0x0)
#define VM_PROT_READ ((vm_prot_t)0x1)    /* read permission */
#define VM_PROT_WRITE ((vm_prot_t)0x2)   /* write permission */
#define VM_PROT_EXECUTE ((vm_prot_t)0x4) /* execute permission */

/* What vm_allocate gives: read and write. */
#define VM_PROT_DEFAULT (VM_PROT_READ | VM_PROT_WRITE)
/* Every permission: the maximum protection of new memory. */
#define VM_PROT_ALL (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

_Static_assert(sizeof(vm_prot_t) == 4, "vm_prot_t is 4 bytes in the ABI");

#endif
