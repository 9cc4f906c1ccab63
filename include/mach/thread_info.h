/*
 * thread_info flavors (GNU Mach's names and numbers).  Counts are in
 * integer_t words.
 */
#ifndef MACH_THREAD_INFO_H
#define MACH_THREAD_INFO_H

#include <mach/time_value.h>
#include <mach/vm_types.h>

#define THREAD_BASIC_INFO 1

struct thread_basic_info {
	time_value_t user_time;   /* 0: not accounted per thread yet */
	time_value_t system_time; /* 0 */
	integer_t cpu_usage;      /* 0 */
	integer_t base_priority;
	integer_t cur_priority;
	integer_t run_state; /* TH_STATE_* */
	integer_t flags;     /* TH_FLAGS_* */
	integer_t suspend_count;
	integer_t sleep_time; /* 0 */
	time_value_t creation_time;
};

typedef struct thread_basic_info thread_basic_info_data_t;
typedef struct thread_basic_info *thread_basic_info_t;
#define THREAD_BASIC_INFO_COUNT ((natural_t)(sizeof(thread_basic_info_data_t) / sizeof(integer_t)))

#define TH_STATE_RUNNING 1         /* on a CPU or ready to run */
#define TH_STATE_STOPPED 2         /* suspended */
#define TH_STATE_WAITING 3         /* waiting for an event */
#define TH_STATE_UNINTERRUPTIBLE 4 /* not used */
#define TH_STATE_HALTED 5          /* terminated */

#define TH_FLAGS_SWAPPED 0x1
#define TH_FLAGS_IDLE 0x2

_Static_assert(sizeof(struct thread_basic_info) == 64, "thread_basic_info: 16 words");

#endif
