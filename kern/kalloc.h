/*
 * kalloc: general-purpose kernel memory.
 *
 * Sizes up to KALLOC_MAX_SMALL come from power-of-two zones (16 .. 2048
 * bytes, 16-byte aligned); larger ones are runs of physically contiguous
 * pages reached through the physmap (page aligned).  kfree needs no size:
 * the page's struct vm_page says which zone, or how many pages.
 *
 * kalloc(0) returns a unique 16-byte object (free it like any other), so
 * NULL always and only means "out of memory".  kfree(NULL) does nothing;
 * kfree of anything kalloc did not return, or of a freed pointer, panics.
 */
#ifndef KERN_KALLOC_H
#define KERN_KALLOC_H

#include <stddef.h>
#include <stdint.h>

#define KALLOC_MIN_SMALL 16
#define KALLOC_MAX_SMALL 2048

/* Creates the kalloc zones (and the zone of zones).  After pmap_init. */
void kalloc_init(void);

void *kalloc(size_t size);
void kfree(void *p);

/* Every zone object in use (all zones, not only kalloc's) + large allocations. */
uint64_t kalloc_objects_in_use(void);
/* Bytes held by kalloc's own allocations, rounded to their size class / pages. */
uint64_t kalloc_bytes_in_use(void);

#endif
