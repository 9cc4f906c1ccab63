/*
 * task_info flavors (GNU Mach's names and numbers).  Counts are in
 * integer_t words.  The 64-bit fields are aligned(4) types, so the
 * struct has no padding and its layout is the wire layout.
 */
#ifndef MACH_TASK_INFO_H
#define MACH_TASK_INFO_H

#include <mach/time_value.h>
#include <mach/vm_types.h>

#define TASK_BASIC_INFO 1

struct task_basic_info {
	integer_t suspend_count; /* task_suspend count */
	integer_t base_priority;
	vm_size_t virtual_size;   /* bytes mapped */
	vm_size_t resident_size;  /* bytes of resident pages */
	time_value_t user_time;   /* of its threads (user and kernel together) */
	time_value_t system_time; /* 0: not separated yet */
	time_value_t creation_time;
};

typedef struct task_basic_info task_basic_info_data_t;
typedef struct task_basic_info *task_basic_info_t;
#define TASK_BASIC_INFO_COUNT ((natural_t)(sizeof(task_basic_info_data_t) / sizeof(integer_t)))

_Static_assert(sizeof(struct task_basic_info) == 60, "task_basic_info: 15 words");

#endif
