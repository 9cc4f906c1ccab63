/*
 * Time of day as Mach reports it (host_get_time).  Shared with userland.
 *
 * Seconds are 64 bits.  The struct is 12 bytes and 4-aligned, exactly
 * as it travels in a message (MIG packs bodies to 4 bytes).
 */
#ifndef MACH_TIME_VALUE_H
#define MACH_TIME_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include <mach/vm_types.h>

typedef struct time_value {
	int64_t seconds;
	integer_t microseconds;
} __attribute__((packed, aligned(4))) time_value_t;

#define TIME_MICROS_MAX 1000000

_Static_assert(sizeof(time_value_t) == 12 && _Alignof(time_value_t) == 4, "time_value_t");
_Static_assert(offsetof(time_value_t, microseconds) == 8, "time_value_t.microseconds");

#endif
