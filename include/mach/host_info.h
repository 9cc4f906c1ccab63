/*
 * host_info flavors (GNU Mach's names and numbers) and host_reboot
 * options.  Counts are in integer_t words.
 */
#ifndef MACH_HOST_INFO_H
#define MACH_HOST_INFO_H

#include <mach/vm_types.h>

#define HOST_BASIC_INFO 1

struct host_basic_info {
	integer_t max_cpus;
	integer_t avail_cpus;
	vm_size_t memory_size; /* bytes of physical memory the kernel manages */
	integer_t cpu_type;    /* CPU_TYPE_X86_64 */
	integer_t cpu_subtype; /* 0 */
};

typedef struct host_basic_info host_basic_info_data_t;
typedef struct host_basic_info *host_basic_info_t;
#define HOST_BASIC_INFO_COUNT ((natural_t)(sizeof(host_basic_info_data_t) / sizeof(integer_t)))

#define CPU_TYPE_X86_64 ((integer_t)(7 | 0x01000000)) /* CPU_TYPE_I386 | CPU_ARCH_ABI64 */

/* host_reboot options (GNU Mach's RB_* bits); see docs/ipc.md for what each does here. */
#define RB_AUTOBOOT 0 /* reboot: machperf halts QEMU with a failure status */
#define RB_HALT 0x8   /* halt: machperf exits QEMU with the success status */
#define RB_DEBUGGER 0x1000

_Static_assert(sizeof(struct host_basic_info) == 24, "host_basic_info: 6 words");

#endif
