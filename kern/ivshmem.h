/*
 * The bulk host channel: QEMU's ivshmem-plain device, a ring in its
 * shared memory (<mach/perf_shm.h>) that the host reads from the
 * memory-backend file.  docs/perf-analysis.md describes it; the trap that
 * writes it is hostchan_bulk_write (kern/hostchan.c).
 */
#ifndef KERN_IVSHMEM_H
#define KERN_IVSHMEM_H

#include <stddef.h>
#include <stdint.h>

/* Finds the device on PCI bus 0, maps BAR2 and formats the ring.  After pmap_init. */
void ivshmem_init(void);

/* The ring's capacity in bytes, 0 when there is no device. */
size_t ivshmem_ring_size(void);

/*
 * Copies len bytes of the current task's memory at ubuf into the ring,
 * waiting while it is full.  Returns len, fewer when the host consumed
 * nothing for IVSHMEM_STALL_MS (or the task is terminating), or a negative
 * kern_return_t (-KERN_INVALID_ADDRESS, -KERN_FAILURE: no device).
 * One caller at a time (the caller serialises).
 */
int64_t ivshmem_ring_write(uintptr_t ubuf, size_t len);

#endif
