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
	uint64_t refused;     /* [a] those of them that took no sequence number */
	uint64_t committed;   /* [a] records committed */
	uint64_t overwritten; /* [a] circular: unconsumed records overwritten */
	uint64_t pending;     /* [a] saturate: drops not yet handed to a reader */
	uint64_t resize_lost; /* [I*] unread records discarded by a resize */
	uint64_t discarded;   /* [I*] unread records discarded by perf_ring_discard */

	/* The consumer's position, on its own cache line: readers write it. */
	uint64_t consumed __attribute__((aligned(64))); /* [r] */
	/* [r] rb_word(consumed, RB_BUSY): a slot word above it is DONE(consumed)
	 * or later, a record the consumer has not read (the exclusive writer) */
	uint64_t cons_lim;
};

/* Counters, a consistent-enough snapshot for reports (each field is exact). */
struct perf_ring_counters {
	uint64_t written;     /* reserve calls: committed + dropped + in flight */
	uint64_t committed;   /* records committed */
	uint64_t dropped;     /* records refused (saturate full, or nested lap) */
	uint64_t overwritten; /* circular: records replaced before consumed */
	uint64_t resize_lost; /* unread records discarded by perf_ring_resize */
	uint64_t discarded;   /* unread records discarded by perf_ring_discard */
	uint64_t consumed;    /* the consumer's cursor */
	uint64_t capacity;
};

size_t perf_ring_mem_size(uint32_t nrecords);
bool perf_ring_init(struct perf_ring *ring, void *mem, size_t memsize, uint32_t nrecords,
                    enum perf_ring_mode mode);

/*
 * The writer's side is inline: the engine's record path runs it on every
 * recorded event.  The protocol is described at the top of perf_ring.c.
 */
#define RB_EMPTY 0u
#define RB_BUSY 1u
#define RB_DONE 2u

static inline uint64_t rb_word(uint64_t seq, unsigned state)
{
	return seq << 2 | state;
}

static inline uint64_t rb_seq(uint64_t word)
{
	return word >> 2;
}

static inline unsigned rb_state(uint64_t word)
{
	return (unsigned)(word & 3);
}

static inline uint64_t rb_cap(const struct perf_ring *ring)
{
	return (uint64_t)ring->mask + 1;
}

/* A drop in saturate mode takes no sequence number: counted as refused. */
static inline void rb_count_drop(struct perf_ring *ring)
{
	__atomic_fetch_add(&ring->dropped, 1, __ATOMIC_RELAXED);
	if (ring->mode == PERF_RING_SATURATE) {
		__atomic_fetch_add(&ring->refused, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&ring->pending, 1, __ATOMIC_RELAXED);
	}
}

/*
 * perf_ring_reserve - claim the next slot.  Owning CPU only (any nesting
 * depth).  Returns the record to fill and its sequence number in *seq, or
 * NULL if the record was dropped (counted).  Every non-NULL reserve must be
 * followed by perf_ring_commit(ring, *seq) at the same nesting level.
 */
static inline __attribute__((always_inline)) struct perf_record *
perf_ring_reserve(struct perf_ring *ring, uint64_t *seq)
{
	uint64_t h, w, slot;

	for (;;) {
		h = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		slot = h & ring->mask;
		w = __atomic_load_n(&ring->words[slot], __ATOMIC_ACQUIRE);
		if (w == rb_word(h, RB_BUSY)) {
			/* Step 2: finish an interrupted reserve's head update. */
			__atomic_compare_exchange_n(&ring->head, &h, h + 1, false, __ATOMIC_RELEASE,
			                            __ATOMIC_RELAXED);
			continue;
		}
		if (rb_state(w) != RB_EMPTY && rb_seq(w) >= h)
			continue; /* h is stale: a nested writer took it meanwhile */
		if (ring->mode == PERF_RING_SATURATE &&
		    h - __atomic_load_n(&ring->consumed, __ATOMIC_ACQUIRE) >= rb_cap(ring)) {
			rb_count_drop(ring);
			return NULL;
		}
		if (rb_state(w) == RB_BUSY) {
			/* Step 4: the slot's previous record is still being written. */
			if (ring->mode == PERF_RING_SATURATE) {
				rb_count_drop(ring);
				return NULL;
			}
			if (!__atomic_compare_exchange_n(&ring->head, &h, h + 1, false,
			                                 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
				continue;
			rb_count_drop(ring);
			return NULL;
		}
		if (__atomic_compare_exchange_n(&ring->words[slot], &w, rb_word(h, RB_BUSY), false,
		                                __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	{
		uint64_t expect = h; /* a failed CAS overwrites it; h must survive */

		__atomic_compare_exchange_n(&ring->head, &expect, h + 1, false, __ATOMIC_RELEASE,
		                            __ATOMIC_RELAXED);
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);

	if (ring->mode == PERF_RING_CIRCULAR) {
		if (rb_state(w) == RB_DONE &&
		    rb_seq(w) >= __atomic_load_n(&ring->consumed, __ATOMIC_RELAXED))
			__atomic_fetch_add(&ring->overwritten, 1, __ATOMIC_RELAXED);
		ring->drops[slot] = 0;
	} else {
		ring->drops[slot] = __atomic_exchange_n(&ring->pending, 0, __ATOMIC_RELAXED);
	}
	*seq = h;
	return &ring->recs[slot];
}

/* perf_ring_commit - publish the record reserved as seq.  Owning CPU only. */
static inline __attribute__((always_inline)) void perf_ring_commit(struct perf_ring *ring,
                                                                   uint64_t seq)
{
	__atomic_store_n(&ring->words[seq & ring->mask], rb_word(seq, RB_DONE), __ATOMIC_RELEASE);
	__atomic_fetch_add(&ring->committed, 1, __ATOMIC_RELAXED);
}

/*
 * The exclusive writer: perf_ring_reserve/commit for a writer that nothing
 * can interrupt with another write to this ring (the engine masks
 * interrupts around a whole record).  Readers see the same slot protocol
 * (BUSY before head moves and before any byte of the record, DONE last);
 * the writer needs no compare-and-swap, and since it never leaves a slot
 * BUSY or skips a sequence number, the slot it is about to reuse holds
 * DONE(h - capacity) or is empty, so one compare of that word with
 * cons_lim = BUSY(consumed) tells whether it holds a record the consumer
 * has not read: in circular mode that record is overwritten (counted), in
 * saturate mode the ring is full and the new record is dropped.  In
 * circular mode every drop note is 0 (perf_ring_set_mode moves them to
 * pending), so the common path writes none.  A ring is written either
 * always this way or always the nesting-safe way, never both; readers and
 * the books are the same for both.
 *
 * perf_ring_reserve_excl returns the record to fill (the caller stores its
 * fields directly) and its sequence number, or NULL if it was dropped
 * (counted); perf_ring_commit_excl publishes it.
 */
static inline __attribute__((always_inline)) struct perf_record *
perf_ring_reserve_excl(struct perf_ring *ring, uint64_t *seq)
{
	uint64_t h = ring->head, slot = h & ring->mask;
	uint64_t *words = ring->words;
	uint64_t w = words[slot];
	bool unread = __atomic_load_n(&ring->cons_lim, __ATOMIC_ACQUIRE) < w;

	if (__builtin_expect(ring->mode != PERF_RING_CIRCULAR, 0)) {
		if (unread) {
			rb_count_drop(ring);
			return NULL;
		}
		ring->drops[slot] = __atomic_exchange_n(&ring->pending, 0, __ATOMIC_RELAXED);
	} else {
		/* Single writer: a plain add; readers only load the counter. */
		ring->overwritten += unread;
	}
	/* Claim the slot before head moves, and before any byte of the record. */
	__atomic_store_n(&words[slot], rb_word(h, RB_BUSY), __ATOMIC_RELAXED);
	__atomic_store_n(&ring->head, h + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*seq = h;
	return &ring->recs[slot];
}

static inline __attribute__((always_inline)) void perf_ring_commit_excl(struct perf_ring *ring,
                                                                        uint64_t seq)
{
	__atomic_store_n(&ring->words[seq & ring->mask], rb_word(seq, RB_DONE), __ATOMIC_RELEASE);
	ring->committed++; /* single writer: readers only load it */
}

/* reserve_excl, copy rec, commit_excl.  False if the record was dropped (counted). */
static inline bool perf_ring_write_excl(struct perf_ring *ring, const struct perf_record *rec)
{
	uint64_t seq;
	struct perf_record *r = perf_ring_reserve_excl(ring, &seq);

	if (r == NULL)
		return false;
	*r = *rec;
	perf_ring_commit_excl(ring, seq);
	return true;
}

bool perf_ring_write(struct perf_ring *ring, const struct perf_record *rec);

size_t perf_ring_read(struct perf_ring *ring, uint64_t *cursor, struct perf_record *out, size_t max,
                      uint64_t *lost);

void perf_ring_counters(const struct perf_ring *ring, struct perf_ring_counters *c);
uint32_t perf_ring_capacity(const struct perf_ring *ring);

bool perf_ring_resize(struct perf_ring *ring, void *mem, size_t memsize, uint32_t nrecords,
                      void **oldmem);
bool perf_ring_set_mode(struct perf_ring *ring, enum perf_ring_mode mode);
void perf_ring_discard(struct perf_ring *ring);

#endif /* KERN_PERF_RING_H */
