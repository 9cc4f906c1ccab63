/*
 * Virtual memory statistics (vm_statistics), as in GNU Mach: thirteen
 * integer_t, counts in pages.  Shared with userland.
 */
#ifndef MACH_VM_STATISTICS_H
#define MACH_VM_STATISTICS_H

#include <mach/vm_types.h>

struct vm_statistics {
	integer_t pagesize;        /* page size in bytes */
	integer_t free_count;      /* pages free */
	integer_t active_count;    /* pages active */
	integer_t inactive_count;  /* pages inactive */
	integer_t wire_count;      /* pages wired down */
	integer_t zero_fill_count; /* zero-fill pages */
	integer_t reactivations;   /* pages reactivated */
	integer_t pageins;         /* pageins */
	integer_t pageouts;        /* pageouts */
	integer_t faults;          /* faults */
	integer_t cow_faults;      /* copy-on-write faults */
	integer_t lookups;         /* object cache lookups */
	integer_t hits;            /* object cache hits */
};

typedef struct vm_statistics *vm_statistics_t;
typedef struct vm_statistics vm_statistics_data_t;

_Static_assert(sizeof(vm_statistics_data_t) == 13 * 4, "vm_statistics: 13 integer_t");

#endif
