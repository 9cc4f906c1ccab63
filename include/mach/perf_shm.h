/*
 * The bulk channel's ring in QEMU's ivshmem shared memory (issue 6;
 * docs/perf-analysis.md, "The bulk channel").  The guest kernel
 * (kern/ivshmem.c) is the only producer, on behalf of the control agent's
 * hostchan_bulk_write trap; the host (scripts/perf_analysis.py, which
 * mmaps the memory-backend file) is the only consumer.  It carries
 * exactly the bytes the agent would otherwise send over COM2: framed perf
 * streams (<mach/perf_stream.h>).
 *
 * Layout at the start of the shared memory (BAR2 of the ivshmem-plain
 * device, vendor 0x1af4 device 0x1110), little-endian:
 *
 *   offset size field
 *        0    4 magic        PERF_SHM_MAGIC ("MPSR"), written last at boot
 *        4    4 version      PERF_SHM_VERSION
 *        8    8 size         data bytes (the ring's capacity)
 *       16    8 data_offset  where the data starts (PERF_SHM_DATA_OFFSET)
 *       64    8 write        bytes ever written (guest; free-running)
 *      128    8 read         bytes ever consumed (host; free-running)
 *
 * Byte i of the stream lives at data_offset + i % size.  The guest writes
 * data, then publishes write; it never lets write - read exceed size and
 * waits (sleeping a millisecond at a time) while the ring is full.  The
 * host reads write, copies the bytes, then publishes read.  Each index is
 * an aligned 8-byte store by its one writer.  Between streams nobody
 * writes, and the host may discard leftovers by setting read = write.
 */
#ifndef MACH_PERF_SHM_H
#define MACH_PERF_SHM_H

#include <stdint.h>

#define PERF_SHM_MAGIC 0x5253504dU /* "MPSR" read as a little-endian u32 */
#define PERF_SHM_VERSION 1
#define PERF_SHM_DATA_OFFSET 4096
#define PERF_SHM_VENDOR 0x1af4
#define PERF_SHM_DEVICE 0x1110 /* ivshmem(-plain) */
#define PERF_SHM_BAR 2

struct perf_shm_header {
	uint32_t magic;
	uint32_t version;
	uint64_t size;
	uint64_t data_offset;
	uint64_t reserved0[5];
	volatile uint64_t write; /* offset 64 */
	uint64_t reserved1[7];
	volatile uint64_t read; /* offset 128 */
};

_Static_assert(__builtin_offsetof(struct perf_shm_header, write) == 64, "write at 64");
_Static_assert(__builtin_offsetof(struct perf_shm_header, read) == 128, "read at 128");

#endif
