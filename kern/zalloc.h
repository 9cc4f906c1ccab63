/*
 * Zones: Mach-style allocators of fixed-size objects.
 *
 *	static struct zone port_zone;
 *	zone_init(&port_zone, "ipc.port", sizeof(struct ipc_port));
 *	struct ipc_port *p = zalloc(&port_zone);	(NULL: out of memory)
 *	zfree(&port_zone, p);
 *
 * Objects are 16-byte aligned and come from whole physical pages reached
 * through the physmap.  A page whose last object is freed goes straight
 * back to vm_page (no cache), so free pages and objects in use return to
 * their starting values together.  zfree panics on a pointer that is not
 * an object of that zone and on a double free.
 */
#ifndef KERN_ZALLOC_H
#define KERN_ZALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "kern/spinlock.h"

struct vm_page;

/* Lock legend: [I] immutable after zone_init, [z] zone lock, [L] zone list lock. */
struct zone {
	const char *name;        /* [I] */
	size_t size;             /* [I] object size, rounded up to ZONE_ALIGN */
	unsigned per_page;       /* [I] objects per page */
	unsigned dynamic;        /* [I] created by zone_create */
	spinlock_t lock;         /* [z] */
	struct vm_page *partial; /* [z] pages with free objects (vm_page.next/prev) */
	uint64_t in_use;         /* [z] objects handed out */
	uint64_t pages;          /* [z] pages held */
	uint64_t allocs, frees;  /* [z] totals since zone_init */
	uint64_t failures;       /* [z] zalloc calls that found no page */
	uint64_t max_in_use;     /* [z] high-water mark */
	struct zone *next;       /* [L] all zones */
};

#define ZONE_ALIGN 16

/* Sets up the zone of zones (for zone_create).  After vm_page_init. */
void zalloc_init(void);
/* Sets up a zone in caller-provided storage and lists it.  size <= PAGE_SIZE. */
void zone_init(struct zone *z, const char *name, size_t size);
/* The same with the struct allocated from the zone of zones; NULL if out of memory. */
struct zone *zone_create(const char *name, size_t size);
/* Unlists a zone (and frees it if zone_create made it).  Panics if objects remain. */
void zone_destroy(struct zone *z);

void *zalloc(struct zone *z);
void zfree(struct zone *z, void *obj);

/* Objects in use summed over every zone (ktest's leak check). */
uint64_t zone_objects_in_use(void);
/* One line per zone: size, objects in use, pages, totals. */
void zone_print_stats(void);

#endif
