/*
 * perf_ring.c - per-CPU ring buffer of 32-byte perf records.
 *
 * Ownership rule
 * --------------
 * Each CPU owns one ring and is its only writer.  "Only writer" includes
 * interrupts taken on that CPU: an interrupt handler may record an event in
 * the middle of the interrupted code recording one, and that handler may be
 * interrupted in turn.  Writers therefore nest like a stack but never run in
 * parallel.  Readers run on any CPU, in parallel with the writer; one of them
 * is the ring's consumer, whose position ("consumed") the writer honours in
 * saturate mode.  Callers serialize consumers (the engine's reader lock).
 *
 * Nothing takes a lock and nothing waits: the writer cannot wait for the
 * code it interrupted, and a reader must not stall the traced CPU.
 *
 * Sequence numbers and slots
 * --------------------------
 * Every reservation takes the next 64-bit sequence number s from head; the
 * record lives in slot s & mask.  Beside each slot sits a commit word
 *
 *	word = s << 2 | state		state: EMPTY 0, BUSY 1, DONE 2
 *
 * naming which record the slot holds and whether it is complete.  A reader
 * with cursor c that finds DONE(c) copies the record; BUSY(c) means "being
 * written, stop here"; any other sequence number means record c is gone
 * (overwritten by a later lap, or skipped) and is counted as lost.
 *
 *	        consumed                        head (next reserve)
 *	            |                           |
 *	  +------+------+------+------+------+------+------+------+
 *	  | D 8  | D 9  | D 10 | B 11 | D 12 | D 5  | D 6  | D 7  |   capacity 8
 *	  +------+------+------+------+------+------+------+------+
 *	                          ^ outer writer interrupted here;
 *	                            12 was reserved and committed by the
 *	                            nested interrupt.  A reader stops at 11
 *	                            and returns 12 only after 11 commits.
 *
 * The reserve/commit trick
 * ------------------------
 * reserve:  1. read head h and the word w of slot h;
 *           2. if w is BUSY(h), an interrupted reserve below us has claimed
 *              the slot but not yet advanced head: advance head for it
 *              (CAS h -> h+1) and start again; if w names h or later in
 *              any other state, an interrupt took h between our two loads:
 *              start again (without this check the CAS in step 5 would
 *              succeed on a word that is already "new" and claim h twice);
 *           3. saturate: if h - consumed >= capacity, refuse (dropped);
 *           4. if w is BUSY of an older lap, the record it belongs to is
 *              still being written by code we interrupted: never tear it,
 *              skip sequence h (CAS head h -> h+1, counted dropped);
 *           5. claim the slot: CAS word w -> BUSY(h); on failure a nested
 *              writer got there first, start again;
 *           6. CAS head h -> h+1 (fails harmlessly if step 2 helped us);
 *           7. release fence, so the BUSY mark is visible before any byte
 *              of the new record.
 * commit:   store DONE(s) with release ordering.  The commit word is the
 *           last thing written, so a reader that acquires DONE(s) sees the
 *           whole record.
 *
 * The slot is claimed (step 5) before head moves (step 6), so for every
 * sequence c < head the slot's word names c or something later, unless c
 * was skipped in step 4 (the word still names an older lap).  Readers use
 * that to tell "lost" from "not yet written".
 *
 * A reader copies a DONE(c) record and then re-reads the word (seqlock
 * style, acquire fence between): if it changed, the writer lapped the reader
 * during the copy and the record is counted as lost, never returned torn.
 *
 * Modes
 * -----
 * CIRCULAR:  the writer always advances; a record the consumer has not read
 *            is overwritten (counter "overwritten").  Readers see the gap.
 * SATURATE:  the writer refuses a record when the ring is full relative to
 *            "consumed" (counter "dropped").  Refused records take no
 *            sequence number; the count is carried in "pending" and handed
 *            to the consumer with the next record written (the slot's drop
 *            note) or, if the consumer has caught up, by the read itself.
 *
 * Nothing is lost silently: for the consumer, over any run,
 *
 *	written == read + lost,	written = head + refused,
 *
 * where "refused" counts the drops that took no sequence number (saturate
 * mode; circular drops skip a sequence number and are inside head).
 *
 * Resizing
 * --------
 * perf_ring_resize() moves a quiescent ring (no writer, no reader running:
 * the engine disables recording on the CPU and holds the reader lock) to new
 * memory.  Sequence numbers are kept, so a reader's cursor stays valid.  The
 * newest unread records that fit are copied; unread records that do not fit
 * are counted in "resize_lost" and the reader learns them as lost through the
 * gap, exactly like a circular overwrite.  Drop notes of discarded records go
 * back to "pending", so no drop vanishes either.
 *
 * Mode changes and discarding
 * ---------------------------
 * perf_ring_set_mode() switches a quiescent ring between the modes in
 * place: sequence numbers, records and cursors stay valid, and because
 * written = head + refused holds in both modes the books stay exact.  A
 * saturate ring's pending drops stay pending after a switch to circular
 * until a read reaches head (reads hand them over in either mode).
 * perf_ring_discard() empties a quiescent ring without renumbering: every
 * unread record is counted in "discarded" and a reader behind head learns
 * them as lost through the gap; drop notes go back to "pending".
 */
#include "kern/perf_ring.h"

#include "kern/perf_libc.h"

static bool rb_valid_size(uint32_t nrecords)
{
	return nrecords >= PERF_RING_MIN_RECORDS && nrecords <= PERF_RING_MAX_RECORDS &&
	       (nrecords & (nrecords - 1)) == 0;
}

/* Carve recs, words and drops out of mem; false if it is too small or unaligned. */
static bool rb_carve(void *mem, size_t memsize, uint32_t nrecords, struct perf_record **recs,
                     uint64_t **words, uint64_t **drops)
{
	char *p = mem;

	if (!rb_valid_size(nrecords) || mem == NULL || ((uintptr_t)mem & 7) != 0 ||
	    memsize < perf_ring_mem_size(nrecords))
		return false;
	*recs = (struct perf_record *)p;
	*words = (uint64_t *)(p + (size_t)nrecords * sizeof(struct perf_record));
	*drops = *words + nrecords;
	memset(*words, 0, 2 * (size_t)nrecords * sizeof(uint64_t));
	return true;
}

/*
 * perf_ring_mem_size - bytes of memory a ring of nrecords needs
 * (0 if nrecords is not a power of two in [1024, 32768]).
 */
size_t perf_ring_mem_size(uint32_t nrecords)
{
	if (!rb_valid_size(nrecords))
		return 0;
	return (size_t)nrecords * PERF_RING_BYTES_PER_RECORD;
}

/*
 * perf_ring_init - set up ring over caller memory (8-byte aligned, at least
 * perf_ring_mem_size(nrecords) bytes).  Returns false, leaving the ring
 * untouched, for a bad size, mode or memory block.
 */
bool perf_ring_init(struct perf_ring *ring, void *mem, size_t memsize, uint32_t nrecords,
                    enum perf_ring_mode mode)
{
	struct perf_record *recs;
	uint64_t *words, *drops;

	if (mode != PERF_RING_CIRCULAR && mode != PERF_RING_SATURATE)
		return false;
	if (!rb_carve(mem, memsize, nrecords, &recs, &words, &drops))
		return false;
	memset(ring, 0, sizeof(*ring));
	ring->recs = recs;
	ring->words = words;
	ring->drops = drops;
	ring->mask = nrecords - 1;
	ring->mode = mode;
	ring->cons_lim = rb_word(0, RB_BUSY);
	return true;
}

/* perf_ring_write - reserve, copy rec, commit.  False if dropped (counted). */
bool perf_ring_write(struct perf_ring *ring, const struct perf_record *rec)
{
	struct perf_record *r;
	uint64_t seq;

	r = perf_ring_reserve(ring, &seq);
	if (r == NULL)
		return false;
	memcpy(r, rec, sizeof(*r));
	perf_ring_commit(ring, seq);
	return true;
}

/*
 * perf_ring_read - copy up to max records from *cursor on into out and
 * advance *cursor past them.  Any CPU; one consumer at a time.
 *
 * *lost (if not NULL) is set to the number of records the reader lost
 * since *cursor: overwritten, skipped, dropped or discarded by a resize.
 * Over successive calls, records returned + lost == records written.
 * The read stops early at a record still being written.  A cursor from the
 * future (beyond head) is clamped to head.  Returns the records copied.
 */
size_t perf_ring_read(struct perf_ring *ring, uint64_t *cursor, struct perf_record *out, size_t max,
                      uint64_t *lost)
{
	uint64_t c = *cursor, l = 0, h, w, slot, drop;
	size_t n = 0;

	h = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
	if (c > h)
		c = h;
	if (h - c > rb_cap(ring)) {
		l += h - rb_cap(ring) - c;
		c = h - rb_cap(ring);
	}
	while (c < h && n < max) {
		slot = c & ring->mask;
		w = __atomic_load_n(&ring->words[slot], __ATOMIC_ACQUIRE);
		if (w == rb_word(c, RB_BUSY))
			break;
		if (w != rb_word(c, RB_DONE)) {
			/* overwritten by a later lap, or skipped */
			l++;
			c++;
			continue;
		}
		memcpy(&out[n], &ring->recs[slot], sizeof(out[n]));
		drop = ring->drops[slot];
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&ring->words[slot], __ATOMIC_RELAXED) == w) {
			l += drop;
			n++;
		} else {
			l++;
		}
		c++;
	}
	if (c == h) /* pending is 0 unless the ring is, or was, in saturate mode */
		l += __atomic_exchange_n(&ring->pending, 0, __ATOMIC_RELAXED);
	if (c > __atomic_load_n(&ring->consumed, __ATOMIC_RELAXED)) {
		/* consumed first: cons_lim never runs ahead of it */
		__atomic_store_n(&ring->consumed, c, __ATOMIC_RELEASE);
		__atomic_store_n(&ring->cons_lim, rb_word(c, RB_BUSY), __ATOMIC_RELEASE);
	}
	*cursor = c;
	if (lost)
		*lost = l;
	return n;
}

/* perf_ring_counters - snapshot of the ring's counters.  Any CPU. */
void perf_ring_counters(const struct perf_ring *ring, struct perf_ring_counters *c)
{
	uint64_t refused = __atomic_load_n(&ring->refused, __ATOMIC_RELAXED);
	uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);

	c->written = head + refused;
	c->committed = __atomic_load_n(&ring->committed, __ATOMIC_RELAXED);
	c->dropped = __atomic_load_n(&ring->dropped, __ATOMIC_RELAXED);
	c->overwritten = __atomic_load_n(&ring->overwritten, __ATOMIC_RELAXED);
	c->resize_lost = ring->resize_lost;
	c->discarded = ring->discarded;
	c->consumed = __atomic_load_n(&ring->consumed, __ATOMIC_RELAXED);
	c->capacity = rb_cap(ring);
}

uint32_t perf_ring_capacity(const struct perf_ring *ring)
{
	return ring->mask + 1;
}

/*
 * perf_ring_resize - move a quiescent ring to new memory of nrecords slots
 * (see "Resizing" above).  The caller guarantees no writer or reader runs.
 * On success *oldmem is the block given to the previous init/resize, now
 * free for the caller to release.  False, ring unchanged, on bad arguments.
 */
bool perf_ring_resize(struct perf_ring *ring, void *mem, size_t memsize, uint32_t nrecords,
                      void **oldmem)
{
	struct perf_record *recs;
	uint64_t *words, *drops;
	uint64_t h = ring->head, cons = ring->consumed, oldcap = rb_cap(ring);
	uint64_t from_old, from_new, s;

	if (!rb_carve(mem, memsize, nrecords, &recs, &words, &drops))
		return false;

	/* Unread records still in the old ring: [from_old, h). */
	from_old = h > oldcap ? h - oldcap : 0;
	if (from_old < cons)
		from_old = cons;
	/* The newest of them that fit: [from_new, h). */
	from_new = h > nrecords ? h - nrecords : 0;
	if (from_new < from_old)
		from_new = from_old;

	for (s = from_old; s < h; s++) {
		uint64_t os = s & ring->mask, ns = s & (nrecords - 1);
		bool done = ring->words[os] == rb_word(s, RB_DONE);

		if (s < from_new) {
			ring->resize_lost++;
			if (done)
				ring->pending += ring->drops[os];
			continue;
		}
		if (!done)
			continue; /* skipped or torn: the reader counts it lost */
		recs[ns] = ring->recs[os];
		drops[ns] = ring->drops[os];
		words[ns] = rb_word(s, RB_DONE);
	}
	if (oldmem)
		*oldmem = ring->recs;
	ring->recs = recs;
	ring->words = words;
	ring->drops = drops;
	ring->mask = nrecords - 1;
	return true;
}

/*
 * rb_notes_to_pending - hand the drop notes of a quiescent ring's unread
 * records back to "pending" (the reader gets them when it reaches head)
 * and clear every note: circular mode keeps all notes 0, so that its
 * exclusive writer need not write them.
 */
static void rb_notes_to_pending(struct perf_ring *ring)
{
	uint64_t h = ring->head, cap = rb_cap(ring);
	uint64_t s = h > cap ? h - cap : 0;

	if (s < ring->consumed)
		s = ring->consumed;
	for (; s < h; s++) {
		uint64_t slot = s & ring->mask;

		if (ring->words[slot] == rb_word(s, RB_DONE))
			ring->pending += ring->drops[slot];
	}
	memset(ring->drops, 0, cap * sizeof(uint64_t));
}

/*
 * perf_ring_set_mode - switch a quiescent ring (no writer, no reader
 * running) to mode, keeping its records, sequence numbers and counters.
 * Going to circular, drop notes move to "pending" (see rb_notes_to_pending).
 * False, ring unchanged, for a bad mode.
 */
bool perf_ring_set_mode(struct perf_ring *ring, enum perf_ring_mode mode)
{
	if (mode != PERF_RING_CIRCULAR && mode != PERF_RING_SATURATE)
		return false;
	if (mode == PERF_RING_CIRCULAR && ring->mode != PERF_RING_CIRCULAR)
		rb_notes_to_pending(ring);
	ring->mode = mode;
	return true;
}

/*
 * perf_ring_discard - empty a quiescent ring: unread records are counted
 * in "discarded" and reported to a reader behind head as lost; the
 * consumer's position moves to head (a saturate ring has room again).
 */
void perf_ring_discard(struct perf_ring *ring)
{
	uint64_t h = ring->head, cap = rb_cap(ring);
	uint64_t s = h > cap ? h - cap : 0;

	if (s < ring->consumed)
		s = ring->consumed;
	for (; s < h; s++) {
		uint64_t slot = s & ring->mask;

		if (ring->words[slot] == rb_word(s, RB_DONE)) {
			ring->discarded++;
			ring->pending += ring->drops[slot];
		}
	}
	memset(ring->words, 0, cap * sizeof(uint64_t));
	memset(ring->drops, 0, cap * sizeof(uint64_t));
	ring->consumed = h;
	ring->cons_lim = rb_word(h, RB_BUSY);
}
