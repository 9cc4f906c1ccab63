/*
 * The C types of the Mach interfaces (<mach/mach_types.h>): what the
 * types in mig-defs/mach_types.defs name.  Every MIG-generated file
 * includes this header.  Shared with userland.
 *
 * Kernel objects are named by send rights, so task_t, thread_t and the
 * like are mach_port_t to a user.  The kernel has its own task_t and
 * thread_t (pointers), so it does not get these typedefs; its MIG
 * servers only ever see mach_port_t (the .defs give every object type
 * ctype mach_port_t).
 */
#ifndef MACH_MACH_TYPES_H
#define MACH_MACH_TYPES_H

#include <mach/std_types.h>
#include <mach/time_value.h>
#include <mach/vm_inherit.h>
#include <mach/vm_prot.h>
#include <mach/vm_statistics.h>

#ifndef KERNEL
typedef mach_port_t task_t;
typedef mach_port_t thread_t;
typedef mach_port_t vm_task_t;
typedef mach_port_t ipc_space_t;
typedef mach_port_t host_t;
typedef mach_port_t host_priv_t;
typedef mach_port_t memory_object_name_t;
#endif

/* Out-of-line arrays of rights (task_threads); 4-aligned like every OOL address. */
typedef mach_port_t *thread_array_t __attribute__((aligned(4)));

/* Flavoured information and machine state, counted in 32-bit words. */
typedef natural_t *thread_state_t;
typedef integer_t *thread_info_t;
typedef integer_t *task_info_t;
typedef integer_t *host_info_t;

#define THREAD_STATE_MAX 1024
#define THREAD_INFO_MAX 1024
#define TASK_INFO_MAX 1024
#define HOST_INFO_MAX 1024

typedef natural_t thread_state_data_t[THREAD_STATE_MAX];
typedef integer_t thread_info_data_t[THREAD_INFO_MAX];
typedef integer_t task_info_data_t[TASK_INFO_MAX];
typedef integer_t host_info_data_t[HOST_INFO_MAX];

/* host_kernel_version: a NUL-terminated string. */
typedef char kernel_version_t[512];

#endif
