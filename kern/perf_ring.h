/*
 * Per-CPU ring buffer of struct perf_record.  See the essay at the top of
 * perf_ring.c for the ownership rule and the commit protocol.
 *
 * Lock legend: [I] immutable after init, [w] written only by the owning CPU
 * (possibly nested from its interrupts), [r] written only by the consumer,
 * [a] atomic, any context.
 */
#ifndef KERN_PERF_RING_H
#define KERN_PERF_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mach/perf_event.h>

#define PERF_RING_MIN_RECORDS 1024u
#define PERF_RING_MAX_RECORDS 32768u

/* Bytes of memory per record: the record plus its commit word and drop note. */
#define PERF_RING_BYTES_PER_RECORD (sizeof(struct perf_record) + 2 * sizeof(uint64_t))

enum perf_ring_mode {
	/* Full: the oldest record is overwritten; a reader who had not read it
	 * learns it as lost through the gap in sequence numbers. */
	PERF_RING_CIRCULAR = 0,
	/* Full (relative to the consumer's position): the newest record is
	 * dropped and the drop is reported to the consumer with the next record
	 * it reads, or at the end of its read. */
	PERF_RING_SATURATE = 1,
};

struct perf_ring {
	struct perf_record *recs; /* [I] capacity records */
	uint64_t *words;          /* [a] commit word per slot, see perf_ring.c */
	uint64_t *drops;          /* [w] drops reported with the slot's record */
	uint32_t mask;            /* [I] capacity - 1 */
	uint32_t mode;            /* [I] enum perf_ring_mode */

	uint64_t head;        /* [a] next sequence number to reserve */
	uint64_t dropped;     /* [a] records refused by reserve */
	uint64_t committed;   /* [a] records committed */
	uint64_t overwritten; /* [a] circular: unconsumed records overwritten */
	uint64_t pending;     /* [a] saturate: drops not yet handed to a reader */
	uint64_t resize_lost; /* [I*] unread records discarded by a resize */

	/* The consumer's position, on its own cache line: readers write it. */
	uint64_t consumed __attribute__((aligned(64))); /* [r] */
};

/* Counters, a consistent-enough snapshot for reports (each field is exact). */
struct perf_ring_counters {
	uint64_t written;     /* reserve calls: committed + dropped + in flight */
	uint64_t committed;   /* records committed */
	uint64_t dropped;     /* records refused (saturate full, or nested lap) */
	uint64_t overwritten; /* circular: records replaced before consumed */
	uint64_t resize_lost; /* unread records discarded by perf_ring_resize */
	uint64_t consumed;    /* the consumer's cursor */
	uint64_t capacity;
};

size_t perf_ring_mem_size(uint32_t nrecords);
bool perf_ring_init(struct perf_ring *ring, void *mem, size_t memsize, uint32_t nrecords,
                    enum perf_ring_mode mode);

struct perf_record *perf_ring_reserve(struct perf_ring *ring, uint64_t *seq);
void perf_ring_commit(struct perf_ring *ring, uint64_t seq);
bool perf_ring_write(struct perf_ring *ring, const struct perf_record *rec);

size_t perf_ring_read(struct perf_ring *ring, uint64_t *cursor, struct perf_record *out, size_t max,
                      uint64_t *lost);

void perf_ring_counters(const struct perf_ring *ring, struct perf_ring_counters *c);
uint32_t perf_ring_capacity(const struct perf_ring *ring);

bool perf_ring_resize(struct perf_ring *ring, void *mem, size_t memsize, uint32_t nrecords,
                      void **oldmem);

#endif /* KERN_PERF_RING_H */
