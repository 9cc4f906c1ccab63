/*
 * Host unit tests of kern/perf_ring.c: both modes, wrap-around, exact loss
 * accounting (written == read + lost), nesting, concurrency and resizing.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "kern/perf_ring.h"
#include "tests/host/htest.h"

#define CAP 1024u

/* A record whose every field derives from x, so a torn copy is detectable. */
static void mk_rec(struct perf_record *r, uint64_t x)
{
	r->ts_ns = x;
	r->event = (uint8_t)(x % PERF_EVENT_MAX);
	r->flags = PERF_REC_F_TIMED;
	r->cpu = (uint16_t)(x >> 3);
	r->task = (uint16_t)(x * 3);
	r->thread = (uint16_t)(x * 5);
	r->data1 = x * 0x9e3779b97f4a7c15ULL;
	r->duration_ns = (uint32_t)(x ^ 0xa5a5a5a5u);
	r->data2 = (uint32_t)~x;
}

static bool rec_ok(const struct perf_record *r)
{
	struct perf_record e;

	mk_rec(&e, r->ts_ns);
	return memcmp(&e, r, sizeof(e)) == 0;
}

/* Writers use perf_ring_write_excl instead (excl_variants). */
static bool excl_writes;

static void put(struct perf_ring *ring, uint64_t x)
{
	struct perf_record r;

	mk_rec(&r, x);
	if (excl_writes)
		perf_ring_write_excl(ring, &r);
	else
		perf_ring_write(ring, &r);
}

struct fixture {
	struct perf_ring ring;
	void *mem;
};

static void fx_init(struct fixture *f, uint32_t cap, enum perf_ring_mode mode)
{
	size_t sz = perf_ring_mem_size(cap);

	f->mem = aligned_alloc(64, sz);
	if (!perf_ring_init(&f->ring, f->mem, sz, cap, mode))
		HT_FAIL("perf_ring_init(%u) failed", cap);
}

static void fx_fini(struct fixture *f)
{
	free(f->mem);
}

/* A reader's view: cursor, totals, and the last x seen (order check). */
struct reader {
	uint64_t cursor;
	uint64_t read;
	uint64_t lost;
	uint64_t last_x;
	bool any;
	bool torn;
	bool disorder;
};

/* Read everything available in chunks of max; returns records read. */
static uint64_t drain(struct perf_ring *ring, struct reader *rd, size_t max)
{
	struct perf_record buf[64];
	uint64_t total = 0, lost;
	size_t n;

	if (max > 64)
		max = 64;
	do {
		n = perf_ring_read(ring, &rd->cursor, buf, max, &lost);
		rd->lost += lost;
		for (size_t i = 0; i < n; i++) {
			if (!rec_ok(&buf[i]))
				rd->torn = true;
			if (rd->any && buf[i].ts_ns <= rd->last_x)
				rd->disorder = true;
			rd->last_x = buf[i].ts_ns;
			rd->any = true;
		}
		rd->read += n;
		total += n;
	} while (n != 0 || lost != 0);
	return total;
}

static void check_books(struct perf_ring *ring, struct reader *rd)
{
	struct perf_ring_counters c;

	perf_ring_counters(ring, &c);
	HT_CHECK(!rd->torn);
	HT_CHECK(!rd->disorder);
	HT_CHECK_U64(c.written, rd->read + rd->lost);
	HT_CHECK_U64(c.written, c.committed + c.dropped);
}

static void init_rejects_bad_sizes(void)
{
	struct perf_ring ring;
	static uint64_t mem[(32768 * PERF_RING_BYTES_PER_RECORD) / 8 + 1];

	HT_CHECK_U64(perf_ring_mem_size(1000), 0);
	HT_CHECK_U64(perf_ring_mem_size(512), 0);
	HT_CHECK_U64(perf_ring_mem_size(65536), 0);
	HT_CHECK_U64(perf_ring_mem_size(1024), 1024 * 48);
	HT_CHECK(!perf_ring_init(&ring, mem, sizeof(mem), 1000, PERF_RING_CIRCULAR));
	HT_CHECK(!perf_ring_init(&ring, mem, sizeof(mem), 65536, PERF_RING_CIRCULAR));
	HT_CHECK(!perf_ring_init(&ring, mem, 1024 * 48 - 1, 1024, PERF_RING_CIRCULAR));
	HT_CHECK(
	    !perf_ring_init(&ring, (char *)mem + 4, sizeof(mem) - 8, 1024, PERF_RING_CIRCULAR));
	HT_CHECK(!perf_ring_init(&ring, mem, sizeof(mem), 1024, (enum perf_ring_mode)7));
	HT_CHECK(perf_ring_init(&ring, mem, sizeof(mem), 32768, PERF_RING_SATURATE));
	HT_CHECK_U64(perf_ring_capacity(&ring), 32768);
}

static void reader_keeps_up_loses_nothing(void)
{
	for (int mode = 0; mode < 2; mode++) {
		struct fixture f;
		struct reader rd = { 0 };

		fx_init(&f, CAP, (enum perf_ring_mode)mode);
		for (uint64_t x = 1; x <= 20 * CAP; x++) {
			put(&f.ring, x);
			if (x % 100 == 0)
				drain(&f.ring, &rd, 37);
		}
		drain(&f.ring, &rd, 64);
		HT_CHECK_U64(rd.read, 20 * CAP);
		HT_CHECK_U64(rd.lost, 0);
		HT_CHECK_U64(rd.last_x, 20 * CAP);
		check_books(&f.ring, &rd);
		fx_fini(&f);
	}
}

static void circular_wraparound_counts_lost(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	struct perf_ring_counters c;

	fx_init(&f, CAP, PERF_RING_CIRCULAR);
	for (uint64_t x = 1; x <= 3 * CAP + 17; x++)
		put(&f.ring, x);
	drain(&f.ring, &rd, 64);
	HT_CHECK_U64(rd.read, CAP);
	HT_CHECK_U64(rd.lost, 2 * CAP + 17);
	HT_CHECK_U64(rd.last_x, 3 * CAP + 17);
	perf_ring_counters(&f.ring, &c);
	HT_CHECK_U64(c.overwritten, 2 * CAP + 17);
	HT_CHECK_U64(c.dropped, 0);
	check_books(&f.ring, &rd);
	fx_fini(&f);
}

/* The reader learns exactly what it lost between each pair of reads. */
static void circular_lost_between_reads(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	struct perf_record buf[10];
	uint64_t lost;
	size_t n;

	fx_init(&f, CAP, PERF_RING_CIRCULAR);
	for (uint64_t x = 1; x <= 100; x++)
		put(&f.ring, x);
	n = perf_ring_read(&f.ring, &rd.cursor, buf, 10, &lost);
	HT_CHECK_U64(n, 10);
	HT_CHECK_U64(lost, 0);
	HT_CHECK_U64(buf[9].ts_ns, 10);
	/* 10 read, 90 unread; 2 * CAP more overwrite everything unread and then some */
	for (uint64_t x = 101; x <= 100 + 2 * CAP; x++)
		put(&f.ring, x);
	n = perf_ring_read(&f.ring, &rd.cursor, buf, 10, &lost);
	HT_CHECK_U64(n, 10);
	HT_CHECK_U64(lost, 90 + CAP);
	HT_CHECK_U64(buf[0].ts_ns, 101 + CAP);
	HT_CHECK(rec_ok(&buf[0]) && rec_ok(&buf[9]));
	n = perf_ring_read(&f.ring, &rd.cursor, buf, 10, &lost);
	HT_CHECK_U64(lost, 0);
	HT_CHECK_U64(buf[0].ts_ns, 111 + CAP);
	fx_fini(&f);
}

static void saturate_drops_newest(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	struct perf_ring_counters c;
	struct perf_record r;

	fx_init(&f, CAP, PERF_RING_SATURATE);
	for (uint64_t x = 1; x <= CAP + 50; x++)
		put(&f.ring, x);
	perf_ring_counters(&f.ring, &c);
	HT_CHECK_U64(c.dropped, 50);
	HT_CHECK_U64(c.written, CAP + 50);
	drain(&f.ring, &rd, 64);
	HT_CHECK_U64(rd.read, CAP);
	HT_CHECK_U64(rd.lost, 50);
	HT_CHECK_U64(rd.last_x, CAP); /* the oldest were kept */
	mk_rec(&r, CAP + 51);
	HT_CHECK(perf_ring_write(&f.ring, &r)); /* room again */
	drain(&f.ring, &rd, 64);
	HT_CHECK_U64(rd.last_x, CAP + 51);
	check_books(&f.ring, &rd);
	fx_fini(&f);
}

/* Drops are reported with the next record when the reader is behind. */
static void saturate_drop_reported_with_next(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	struct perf_record buf[64];
	uint64_t lost, total_lost = 0;
	size_t n;

	fx_init(&f, CAP, PERF_RING_SATURATE);
	for (uint64_t x = 1; x <= CAP + 10; x++)
		put(&f.ring, x);
	n = perf_ring_read(&f.ring, &rd.cursor, buf, 64, &lost);
	HT_CHECK_U64(n, 64);
	HT_CHECK_U64(lost, 0); /* the drops come after records not yet read */
	for (uint64_t x = CAP + 11; x <= CAP + 15; x++)
		put(&f.ring, x);
	while ((n = perf_ring_read(&f.ring, &rd.cursor, buf, 64, &lost)) != 0) {
		total_lost += lost;
		if (buf[n - 1].ts_ns == CAP + 15)
			HT_CHECK_U64(total_lost, 10);
	}
	total_lost += lost;
	HT_CHECK_U64(total_lost, 10);
	fx_fini(&f);
}

static void saturate_small_reads_interleaved(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	uint64_t seed = 42, x = 1;

	fx_init(&f, CAP, PERF_RING_SATURATE);
	for (int round = 0; round < 2000; round++) {
		uint64_t burst = ht_rand_below(&seed, 3 * CAP / 2);

		while (burst--)
			put(&f.ring, x++);
		for (uint64_t k = ht_rand_below(&seed, 40); k > 0; k--) {
			struct perf_record buf[7];
			uint64_t lost;
			size_t n = perf_ring_read(&f.ring, &rd.cursor, buf, 7, &lost);

			rd.read += n;
			rd.lost += lost;
			for (size_t i = 0; i < n; i++) {
				if (!rec_ok(&buf[i]) || (rd.any && buf[i].ts_ns <= rd.last_x))
					rd.disorder = true;
				rd.last_x = buf[i].ts_ns;
				rd.any = true;
			}
		}
	}
	drain(&f.ring, &rd, 64);
	check_books(&f.ring, &rd);
	fx_fini(&f);
}

/*
 * An interrupt records while the interrupted code is half-way through its
 * record: the reader sees neither the half record nor anything after it
 * until the outer commit, and then both, whole and in order.
 */
static void nested_reserve_commit_never_torn(void)
{
	for (int mode = 0; mode < 2; mode++) {
		struct fixture f;
		struct perf_record *outer, *inner, buf[8], want;
		uint64_t so, si, lost, cursor = 0;
		size_t n;

		fx_init(&f, CAP, (enum perf_ring_mode)mode);
		put(&f.ring, 1);
		outer = perf_ring_reserve(&f.ring, &so);
		HT_CHECK(outer != NULL);
		mk_rec(&want, 2);
		memcpy(outer, &want, 16); /* half of the record */

		inner = perf_ring_reserve(&f.ring, &si); /* the "interrupt" */
		HT_CHECK(inner != NULL && si == so + 1);
		mk_rec(inner, 3);
		perf_ring_commit(&f.ring, si);

		n = perf_ring_read(&f.ring, &cursor, buf, 8, &lost);
		HT_CHECK_U64(n, 1);
		HT_CHECK_U64(buf[0].ts_ns, 1);
		HT_CHECK_U64(lost, 0);
		HT_CHECK_U64(cursor, so); /* stopped at the busy record */

		memcpy((char *)outer + 16, (char *)&want + 16, 16);
		perf_ring_commit(&f.ring, so);
		n = perf_ring_read(&f.ring, &cursor, buf, 8, &lost);
		HT_CHECK_U64(n, 2);
		HT_CHECK_U64(lost, 0);
		HT_CHECK(rec_ok(&buf[0]) && buf[0].ts_ns == 2);
		HT_CHECK(rec_ok(&buf[1]) && buf[1].ts_ns == 3);
		fx_fini(&f);
	}
}

/*
 * An interrupt arriving between "claim the slot" and "advance head" finds
 * its own slot claimed: it advances head for the interrupted code and takes
 * the next slot.  (White box: builds the intermediate state by hand.)
 */
static void nested_reserve_helps_interrupted_claim(void)
{
	struct fixture f;
	struct perf_record *inner, buf[4];
	uint64_t si, lost, cursor = 0;
	size_t n;

	fx_init(&f, CAP, PERF_RING_CIRCULAR);
	put(&f.ring, 1);
	/* outer claimed seq 1 (word = 1 << 2 | BUSY) but head is still 1 */
	f.ring.words[1] = 1 << 2 | 1;
	inner = perf_ring_reserve(&f.ring, &si);
	HT_CHECK(inner != NULL);
	HT_CHECK_U64(si, 2);
	HT_CHECK_U64(f.ring.head, 3);
	mk_rec(inner, 3);
	perf_ring_commit(&f.ring, si);
	/* the outer resumes: its head CAS fails harmlessly; it fills and commits */
	mk_rec(&f.ring.recs[1], 2);
	perf_ring_commit(&f.ring, 1);
	n = perf_ring_read(&f.ring, &cursor, buf, 4, &lost);
	HT_CHECK_U64(n, 3);
	HT_CHECK_U64(lost, 0);
	HT_CHECK(buf[1].ts_ns == 2 && buf[2].ts_ns == 3);
	fx_fini(&f);
}

/*
 * A nested writer that laps the ring while the outer record is still being
 * written must skip (and count) the outer's slot instead of tearing it.
 */
static void nested_lap_skips_busy_slot(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	struct perf_record *outer, want;
	struct perf_ring_counters c;
	uint64_t so;

	fx_init(&f, CAP, PERF_RING_CIRCULAR);
	outer = perf_ring_reserve(&f.ring, &so);
	mk_rec(&want, 1);
	memcpy(outer, &want, 8);
	for (uint64_t x = 2; x <= 2 * CAP + 10; x++)
		put(&f.ring, x);
	perf_ring_counters(&f.ring, &c);
	HT_CHECK_U64(c.dropped, 2); /* one skip per lap */
	HT_CHECK_U64(outer->ts_ns, 1);
	memcpy(outer, &want, sizeof(want));
	perf_ring_commit(&f.ring, so);
	HT_CHECK(rec_ok(outer));
	drain(&f.ring, &rd, 64);
	check_books(&f.ring, &rd);
	fx_fini(&f);
}

static void resize_keeps_cursor_and_counts(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	struct perf_record buf[100];
	struct perf_ring_counters c;
	void *mem2, *mem3, *old;
	uint64_t lost;

	fx_init(&f, CAP, PERF_RING_CIRCULAR);
	for (uint64_t x = 1; x <= 500; x++)
		put(&f.ring, x);
	rd.read += perf_ring_read(&f.ring, &rd.cursor, buf, 100, &lost);
	rd.last_x = 100;
	rd.any = true;

	/* grow: nothing unread is lost, the cursor stays valid */
	mem2 = aligned_alloc(64, perf_ring_mem_size(2 * CAP));
	HT_CHECK(!perf_ring_resize(&f.ring, mem2, 100, 2 * CAP, &old));
	HT_CHECK(perf_ring_resize(&f.ring, mem2, perf_ring_mem_size(2 * CAP), 2 * CAP, &old));
	HT_CHECK(old == f.mem);
	free(old);
	HT_CHECK_U64(drain(&f.ring, &rd, 64), 400);
	HT_CHECK_U64(rd.lost, 0);

	/* shrink with 2 * CAP unread: CAP of them are discarded, and counted */
	for (uint64_t x = 501; x <= 500 + 3 * CAP; x++)
		put(&f.ring, x);
	mem3 = aligned_alloc(64, perf_ring_mem_size(CAP));
	HT_CHECK(perf_ring_resize(&f.ring, mem3, perf_ring_mem_size(CAP), CAP, &old));
	HT_CHECK(old == mem2);
	free(old);
	f.mem = mem3;
	perf_ring_counters(&f.ring, &c);
	HT_CHECK_U64(c.resize_lost, CAP);
	HT_CHECK_U64(drain(&f.ring, &rd, 64), CAP);
	HT_CHECK_U64(rd.lost, 2 * CAP);
	HT_CHECK_U64(rd.last_x, 500 + 3 * CAP);
	check_books(&f.ring, &rd);
	fx_fini(&f);
}

/* Read exactly k records (they must be there); returns the loss reported. */
static uint64_t read_k(struct perf_ring *ring, struct reader *rd, uint64_t k)
{
	struct perf_record buf[64];
	uint64_t lost, total = 0;

	while (k > 0) {
		size_t n = perf_ring_read(ring, &rd->cursor, buf, k < 64 ? k : 64, &lost);

		total += lost;
		rd->lost += lost;
		rd->read += n;
		k -= n;
		if (n == 0)
			break;
	}
	HT_CHECK_U64(k, 0);
	return total;
}

static void resize_saturate_keeps_drop_notes(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	uint64_t x = 1;
	void *mem2, *old;

	fx_init(&f, 2 * CAP, PERF_RING_SATURATE);
	while (x <= 2 * CAP + 5) /* 5 dropped; the caught-up reader takes them */
		put(&f.ring, x++);
	drain(&f.ring, &rd, 64);
	HT_CHECK_U64(rd.lost, 5);
	while (x <= 4 * CAP + 12) /* 7 dropped, pending */
		put(&f.ring, x++);
	read_k(&f.ring, &rd, 2 * CAP - 1);
	put(&f.ring, x++); /* carries the note "7 dropped before me" */
	for (uint64_t i = 0; i < 2 * CAP - 2; i++)
		put(&f.ring, x++);
	/* shrinking discards the oldest CAP unread records, the noted one among them */
	mem2 = aligned_alloc(64, perf_ring_mem_size(CAP));
	HT_CHECK(perf_ring_resize(&f.ring, mem2, perf_ring_mem_size(CAP), CAP, &old));
	free(old);
	f.mem = mem2;
	drain(&f.ring, &rd, 64);
	HT_CHECK_U64(rd.read, 2 * CAP + (2 * CAP - 1) + CAP);
	HT_CHECK_U64(rd.lost, 5 + 7 + CAP);
	check_books(&f.ring, &rd);
	fx_fini(&f);
}

/* Mode switches keep records, cursors and the books exact, both ways. */
static void set_mode_keeps_books(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	uint64_t x = 1;

	fx_init(&f, CAP, PERF_RING_SATURATE);
	HT_CHECK(!perf_ring_set_mode(&f.ring, (enum perf_ring_mode)7));
	while (x <= CAP + 9) /* 9 refused, pending */
		put(&f.ring, x++);
	HT_CHECK(perf_ring_set_mode(&f.ring, PERF_RING_CIRCULAR));
	while (x <= 3 * CAP) /* overwrites what the reader has not read */
		put(&f.ring, x++);
	drain(&f.ring, &rd, 64);
	HT_CHECK_U64(rd.last_x, 3 * CAP - 1 + 1);
	check_books(&f.ring, &rd);
	HT_CHECK(perf_ring_set_mode(&f.ring, PERF_RING_SATURATE));
	while (x <= 4 * CAP + 3) /* the reader caught up: 3 refused */
		put(&f.ring, x++);
	drain(&f.ring, &rd, 64);
	HT_CHECK_U64(rd.last_x, 4 * CAP);
	check_books(&f.ring, &rd);
	fx_fini(&f);
}

/* Discarding counts every unread record; the reader learns them as lost. */
static void discard_counts_unread(void)
{
	struct fixture f;
	struct reader rd = { 0 };
	struct perf_ring_counters c;
	uint64_t x = 1;

	for (int mode = 0; mode < 2; mode++) {
		memset(&rd, 0, sizeof(rd));
		x = 1;
		fx_init(&f, CAP, (enum perf_ring_mode)mode);
		while (x <= 100)
			put(&f.ring, x++);
		read_k(&f.ring, &rd, 40);
		while (x <= CAP + 50) /* saturate: 10 refused and pending */
			put(&f.ring, x++);
		perf_ring_discard(&f.ring);
		perf_ring_counters(&f.ring, &c);
		HT_CHECK_U64(c.discarded, CAP); /* circular: 10 were overwritten before */
		while (x <= CAP + 60)           /* room again in both modes */
			put(&f.ring, x++);
		drain(&f.ring, &rd, 64);
		HT_CHECK_U64(rd.read, 40 + 10);
		HT_CHECK_U64(rd.last_x, CAP + 60);
		check_books(&f.ring, &rd);
		fx_fini(&f);
	}
}

/*
 * The real thing: a writer thread (the owning CPU) records continuously, a
 * signal handler (its "interrupt") records in the middle of its records, and
 * a reader thread (another CPU) reads concurrently.  No record may be torn
 * or out of order, and at the end written == read + lost.
 */
#define HAMMER_N 200000
#define NESTED_BIT (1ULL << 62)

static struct fixture hammer_fx;
static volatile int hammer_done;
static uint64_t nested_x;

static void hammer_sig(int sig)
{
	(void)sig;
	put(&hammer_fx.ring, NESTED_BIT | ++nested_x);
}

static void *hammer_writer(void *arg)
{
	(void)arg;
	for (uint64_t x = 1; x <= HAMMER_N; x++)
		put(&hammer_fx.ring, x);
	__atomic_store_n(&hammer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void hammer_mode(enum perf_ring_mode mode, bool interrupts)
{
	struct reader rd = { 0 };
	struct perf_record buf[16];
	uint64_t last_outer = 0, last_nested = 0, lost, kills = 0;
	struct sigaction sa;
	pthread_t w;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hammer_sig;
	sigaction(SIGUSR1, &sa, NULL);
	nested_x = 0;
	hammer_done = 0;
	fx_init(&hammer_fx, CAP, mode);
	pthread_create(&w, NULL, hammer_writer, NULL);
	/* the reader (this thread) must not run the handler itself */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		bool done = __atomic_load_n(&hammer_done, __ATOMIC_ACQUIRE);
		size_t n = perf_ring_read(&hammer_fx.ring, &rd.cursor, buf, 16, &lost);

		rd.read += n;
		rd.lost += lost;
		for (size_t i = 0; i < n; i++) {
			uint64_t x = buf[i].ts_ns;
			uint64_t *last = (x & NESTED_BIT) ? &last_nested : &last_outer;

			if (!rec_ok(&buf[i]))
				rd.torn = true;
			if ((x & ~NESTED_BIT) <= *last)
				rd.disorder = true;
			*last = x & ~NESTED_BIT;
		}
		if (interrupts && !done && (rd.read + kills) % 64 == 0) {
			pthread_kill(w, SIGUSR1);
			kills++;
		}
		if (done && n == 0 && lost == 0)
			break;
	}
	pthread_join(w, NULL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	drain(&hammer_fx.ring, &rd, 16);
	printf("# mode %d: read %" PRIu64 " lost %" PRIu64 " nested %" PRIu64 "\n", (int)mode,
	       rd.read, rd.lost, nested_x);
	check_books(&hammer_fx.ring, &rd);
	HT_CHECK(rd.read > 0);
	fx_fini(&hammer_fx);
}

static void concurrent_reader_and_interrupts(void)
{
	hammer_mode(PERF_RING_CIRCULAR, true);
	hammer_mode(PERF_RING_SATURATE, true);
}

/*
 * The exclusive writer: the single-threaded cases again, and a concurrent
 * reader (no "interrupts": the exclusive writer is never nested).
 */
static void excl_variants(void)
{
	excl_writes = true;
	reader_keeps_up_loses_nothing();
	circular_wraparound_counts_lost();
	circular_lost_between_reads();
	saturate_drops_newest();
	saturate_drop_reported_with_next();
	saturate_small_reads_interleaved();
	resize_keeps_cursor_and_counts();
	resize_saturate_keeps_drop_notes();
	set_mode_keeps_books();
	discard_counts_unread();
	hammer_mode(PERF_RING_CIRCULAR, false);
	hammer_mode(PERF_RING_SATURATE, false);
	excl_writes = false;
}

static const struct ht_case cases[] = {
	HT_CASE(init_rejects_bad_sizes),
	HT_CASE(reader_keeps_up_loses_nothing),
	HT_CASE(circular_wraparound_counts_lost),
	HT_CASE(circular_lost_between_reads),
	HT_CASE(saturate_drops_newest),
	HT_CASE(saturate_drop_reported_with_next),
	HT_CASE(saturate_small_reads_interleaved),
	HT_CASE(nested_reserve_commit_never_torn),
	HT_CASE(nested_reserve_helps_interrupted_claim),
	HT_CASE(nested_lap_skips_busy_slot),
	HT_CASE(resize_keeps_cursor_and_counts),
	HT_CASE(resize_saturate_keeps_drop_notes),
	HT_CASE(set_mode_keeps_books),
	HT_CASE(discard_counts_unread),
	HT_CASE(concurrent_reader_and_interrupts),
	HT_CASE(excl_variants),
};

int main(void)
{
	return ht_main(cases, HT_NCASES(cases));
}
