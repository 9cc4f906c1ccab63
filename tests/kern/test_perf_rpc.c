/*
 * The perf_monitor RPC server (suite "perf_rpc"): requests built by hand
 * as MIG lays them out (mig-defs/README.md), sent with mach_msg_kernel
 * from a space of their own holding both host ports, through the
 * kobject dispatch to kern/ipc_perf_monitor.c, and the replies parsed at
 * the offsets the user stubs read.  Privilege checks, argument checks
 * (hostile values and a corrupt baseline), statistics, the raw-record
 * cursor with exact loss counts in both buffer modes, and threshold
 * alerts with their rate limit.
 *
 * Every case restores the engine's defaults (recording off, every event,
 * unlimited rate, 8K records, circular) and destroys its space.
 */
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/perf_monitor_types.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc_kobject.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "ipc/mach_port.h"
#include "kern/clock.h"
#include "kern/kalloc.h"
#include "kern/ktest.h"
#include "kern/perf_alert.h"
#include "kern/perf_analysis.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/task.h"

struct tr {
	struct ipc_space *s;
	mach_port_name_t host, priv, reply;
};

/* A request or reply buffer: header, then the body as bytes. */
struct tr_msg {
	mach_msg_header_t h;
	uint8_t body[1536];
};

static const mach_msg_type_t tr_int32 = {
	.msgt_name = MACH_MSG_TYPE_INTEGER_32, .msgt_size = 32, .msgt_number = 1, .msgt_inline = 1
};
static const mach_msg_type_t tr_int64 = {
	.msgt_name = MACH_MSG_TYPE_INTEGER_64, .msgt_size = 64, .msgt_number = 1, .msgt_inline = 1
};

static void tr_open(struct ktest_ctx *kt, struct tr *t)
{
	memset(t, 0, sizeof(*t));
	KT_ASSERT_EQ(kt, ipc_space_create(&t->s), KERN_SUCCESS);
	t->host = ipc_kobject_send_right(t->s, ipc_host_port());
	t->priv = ipc_kobject_send_right(t->s, ipc_host_priv_port());
	KT_EXPECT(kt, MACH_PORT_VALID(t->host) && MACH_PORT_VALID(t->priv));
	KT_EXPECT_EQ(kt, mach_port_allocate(t->s, MACH_PORT_RIGHT_RECEIVE, &t->reply),
	             KERN_SUCCESS);
}

/* Back to the engine's defaults; the space and every right in it go. */
static void tr_close(struct ktest_ctx *kt, struct tr *t)
{
	KT_EXPECT_EQ(kt, perf_monitor_enable(false), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_set_event_mask(PERF_EVENT_ALL), KERN_SUCCESS);
	KT_EXPECT_EQ(kt,
	             perf_configure(PERF_RATE_UNLIMITED, PERF_BUFFER_DEFAULT, PERF_BUFFER_CIRCULAR),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_reset(), KERN_SUCCESS);
	if (t->s) {
		ipc_space_terminate(t->s);
		ipc_space_destroy(t->s);
	}
}

/* Appends a descriptor and its datum (n bytes) at *off. */
static void tr_put(struct tr_msg *m, uint32_t *off, const void *desc, size_t dlen, const void *v,
                   size_t n)
{
	memcpy(m->body + *off, desc, dlen);
	memcpy(m->body + *off + dlen, v, n);
	*off += (uint32_t)(dlen + n);
}

static void tr_u32(struct tr_msg *m, uint32_t *off, uint32_t v)
{
	tr_put(m, off, &tr_int32, sizeof(tr_int32), &v, 4);
}

static void tr_u64(struct tr_msg *m, uint32_t *off, uint64_t v)
{
	tr_put(m, off, &tr_int64, sizeof(tr_int64), &v, 8);
}

/* A request to dest with id and the body built so far (off bytes). */
static void tr_head(struct tr *t, struct tr_msg *m, mach_port_name_t dest, int id, uint32_t off)
{
	m->h.msgh_bits |= MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m->h.msgh_size = (mach_msg_size_t)(sizeof(m->h) + off);
	m->h.msgh_remote_port = dest;
	m->h.msgh_local_port = t->reply;
	m->h.msgh_id = id;
}

/* Sends m and receives the reply into m; returns its RetCode (or the mach_msg error). */
static kern_return_t tr_call(struct tr *t, struct tr_msg *m)
{
	int id = m->h.msgh_id;
	mach_msg_return_t mr = mach_msg_kernel(t->s, &m->h, MACH_SEND_MSG | MACH_RCV_MSG,
	                                       m->h.msgh_size, sizeof(*m), t->reply, 0);
	int32_t rc;

	if (mr != MACH_MSG_SUCCESS)
		return mr;
	if (m->h.msgh_id != id + 100 || m->h.msgh_size < 40)
		return MIG_REPLY_MISMATCH;
	memcpy(&rc, m->body + 4, 4);
	return rc;
}

/* A request without arguments but the host port. */
static kern_return_t tr_simple(struct tr *t, mach_port_name_t host, int id)
{
	struct tr_msg m;

	memset(&m, 0, sizeof(m));
	tr_head(t, &m, host, id, 0);
	return tr_call(t, &m);
}

static kern_return_t tr_configure(struct tr *t, mach_port_name_t host, uint32_t rate,
                                  uint32_t records, uint32_t mode)
{
	struct tr_msg m;
	uint32_t off = 0;

	memset(&m, 0, sizeof(m));
	tr_u32(&m, &off, rate);
	tr_u32(&m, &off, records);
	tr_u32(&m, &off, mode);
	tr_head(t, &m, host, 3402, off);
	return tr_call(t, &m);
}

static kern_return_t tr_u32_call(struct tr *t, mach_port_name_t host, int id, uint32_t v)
{
	struct tr_msg m;
	uint32_t off = 0;

	memset(&m, 0, sizeof(m));
	tr_u32(&m, &off, v);
	tr_head(t, &m, host, id, off);
	return tr_call(t, &m);
}

static kern_return_t tr_event_stats(struct tr *t, mach_port_name_t host, uint32_t ev,
                                    struct perf_event_stats *st)
{
	struct tr_msg m;
	uint32_t off = 0;
	kern_return_t kr;

	memset(&m, 0, sizeof(m));
	tr_u32(&m, &off, ev);
	tr_head(t, &m, host, 3404, off);
	kr = tr_call(t, &m);
	if (kr == KERN_SUCCESS)
		memcpy(st, m.body + 12, sizeof(*st)); /* RetCode, then a 4-byte descriptor */
	return kr;
}

static kern_return_t tr_sys_stats(struct tr *t, mach_port_name_t host, struct perf_system_stats *y)
{
	struct tr_msg m;
	kern_return_t kr;

	memset(&m, 0, sizeof(m));
	tr_head(t, &m, host, 3405, 0);
	kr = tr_call(t, &m);
	if (kr == KERN_SUCCESS)
		memcpy(y, m.body + 12, sizeof(*y));
	return kr;
}

/* read_samples: *recs is a kalloc'd copy (kfree it), *n records. */
static kern_return_t tr_read(struct tr *t, mach_port_name_t host, uint64_t *cursor,
                             struct perf_record **recs, uint32_t *n, uint64_t *lost)
{
	struct tr_msg m;
	uint32_t off = 0, words;
	uint64_t addr;
	kern_return_t kr;

	memset(&m, 0, sizeof(m));
	tr_u64(&m, &off, *cursor);
	tr_head(t, &m, host, 3406, off);
	kr = tr_call(t, &m);
	if (kr != KERN_SUCCESS)
		return kr;
	/* 8: long descriptor (12 bytes) with the number at 8, address at 20; cursor at 32; lost at 44. */
	memcpy(&words, m.body + 8 + 8, 4);
	memcpy(&addr, m.body + 20, 8);
	memcpy(cursor, m.body + 32, 8);
	memcpy(lost, m.body + 44, 8);
	*recs = (struct perf_record *)addr;
	*n = words / PERF_RECORD_WORDS;
	return KERN_SUCCESS;
}

KTEST(perf_rpc, privilege_and_argument_checks)
{
	struct tr t;
	struct perf_event_stats st;

	tr_open(kt, &t);
	/* Control needs the privileged port: the other one gets KERN_INVALID_HOST. */
	KT_EXPECT_EQ(kt, tr_simple(&t, t.host, 3400), KERN_INVALID_HOST);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.host, 3401), KERN_INVALID_HOST);
	KT_EXPECT_EQ(kt, tr_configure(&t, t.host, 0, 1024, 0), KERN_INVALID_HOST);
	KT_EXPECT_EQ(kt, tr_u32_call(&t, t.host, 3403, 1), KERN_INVALID_HOST);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.host, 3407), KERN_INVALID_HOST);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.host, 3408), KERN_INVALID_HOST);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.host, 3411), KERN_INVALID_HOST);
	KT_EXPECT(kt, !perf_monitor_enabled());
	/* Reading needs only the host port; either works. */
	KT_EXPECT_EQ(kt, tr_event_stats(&t, t.host, PERF_EVENT_VM_ALLOC, &st), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, st.event, PERF_EVENT_VM_ALLOC);
	KT_EXPECT_EQ(kt, tr_event_stats(&t, t.priv, PERF_EVENT_SYSCALL, &st), KERN_SUCCESS);
	/* Hostile values: KERN_INVALID_ARGUMENT, nothing changed. */
	KT_EXPECT_EQ(kt, tr_event_stats(&t, t.host, PERF_EVENT_MAX, &st), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_event_stats(&t, t.host, 0xffffffffu, &st), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_configure(&t, t.priv, 7, 1024, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_configure(&t, t.priv, 5001, 1024, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_configure(&t, t.priv, 0, 1000, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_configure(&t, t.priv, 0, 1u << 30, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_configure(&t, t.priv, 0, 1024, 2), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_u32_call(&t, t.priv, 3403, 1u << PERF_EVENT_MAX),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_get_event_mask(), PERF_EVENT_ALL);
	/* Unknown ids in the range: MIG_BAD_ID, as for any server. */
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3415), MIG_BAD_ID);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3499), MIG_BAD_ID);
	/* A request too short for its id: MIG rejects it before the routine. */
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3402), MIG_BAD_ARGUMENTS);

	{
		struct perf_record *recs = NULL;
		uint32_t n = 0;
		uint64_t lost = 0, cur = PERF_CURSOR(PERF_MAX_CPUS - 1, 0);

		KT_EXPECT_EQ(kt, tr_read(&t, t.host, &cur, &recs, &n, &lost), KERN_INVALID_HOST);
		KT_EXPECT_EQ(kt, tr_read(&t, t.priv, &cur, &recs, &n, &lost),
		             KERN_INVALID_ARGUMENT);
	}
	{
		/* inject_delay: a bad event, more than 1 s. */
		struct tr_msg m;
		uint32_t off = 0;

		memset(&m, 0, sizeof(m));
		tr_u32(&m, &off, PERF_EVENT_MAX);
		tr_u64(&m, &off, 0);
		tr_head(&t, &m, t.priv, 3414, off);
		KT_EXPECT_EQ(kt, tr_call(&t, &m), KERN_INVALID_ARGUMENT);
		off = 0;
		memset(&m, 0, sizeof(m));
		tr_u32(&m, &off, PERF_EVENT_SYSCALL);
		tr_u64(&m, &off, 2000000000ull);
		tr_head(&t, &m, t.priv, 3414, off);
		KT_EXPECT_EQ(kt, tr_call(&t, &m), KERN_INVALID_ARGUMENT);
		off = 0;
		memset(&m, 0, sizeof(m));
		tr_u32(&m, &off, PERF_EVENT_SYSCALL);
		tr_u64(&m, &off, 0);
		tr_head(&t, &m, t.host, 3414, off);
		KT_EXPECT_EQ(kt, tr_call(&t, &m), KERN_INVALID_HOST);
	}
	{
		/* check_regression: a bad event, an absurd threshold. */
		struct tr_msg m;
		uint32_t off = 0;

		memset(&m, 0, sizeof(m));
		tr_u32(&m, &off, 99);
		tr_u32(&m, &off, 5);
		tr_head(&t, &m, t.host, 3410, off);
		KT_EXPECT_EQ(kt, tr_call(&t, &m), KERN_INVALID_ARGUMENT);
		off = 0;
		memset(&m, 0, sizeof(m));
		tr_u32(&m, &off, PERF_EVENT_SYSCALL);
		tr_u32(&m, &off, 100000);
		tr_head(&t, &m, t.host, 3410, off);
		KT_EXPECT_EQ(kt, tr_call(&t, &m), KERN_INVALID_ARGUMENT);
	}
	tr_close(kt, &t);
}

/* import_baseline with out-of-line bytes: garbage and a damaged export are refused. */
static kern_return_t tr_import(struct tr *t, mach_port_name_t host, const void *data, uint32_t len)
{
	struct tr_msg m;
	mach_msg_type_long_t d;
	uint64_t addr = (uintptr_t)data;
	uint32_t off = 0;

	memset(&m, 0, sizeof(m));
	memset(&d, 0, sizeof(d));
	d.msgtl_header.msgt_longform = 1;
	d.msgtl_name = MACH_MSG_TYPE_BYTE;
	d.msgtl_size = 8;
	d.msgtl_number = len;
	tr_put(&m, &off, &d, sizeof(d), &addr, 8);
	m.h.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	tr_head(t, &m, host, 3409, off);
	return tr_call(t, &m);
}

KTEST(perf_rpc, baseline_export_import_and_corruption)
{
	struct tr t;
	struct tr_msg m;
	uint8_t junk[200];
	uint8_t *copy = NULL;
	uint32_t len = 0;
	uint64_t addr = 0;

	tr_open(kt, &t);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3407), KERN_SUCCESS); /* set baseline */
	memset(&m, 0, sizeof(m));
	tr_head(&t, &m, t.priv, 3408, 0);
	KT_ASSERT_EQ(kt, tr_call(&t, &m), KERN_SUCCESS);
	memcpy(&len, m.body + 8 + 8, 4);
	memcpy(&addr, m.body + 20, 8);
	KT_EXPECT(kt, len >= 64 && addr != 0);
	if (len >= 64 && addr != 0) {
		copy = kalloc(len);
		KT_ASSERT(kt, copy != NULL);
		memcpy(copy, (void *)(uintptr_t)addr, len);
		KT_EXPECT_EQ(kt, tr_import(&t, t.priv, copy, len), KERN_SUCCESS);
		KT_EXPECT_EQ(kt, tr_import(&t, t.host, copy, len), KERN_INVALID_HOST);
		copy[len / 2] ^= 0x40; /* the CRC no longer matches */
		KT_EXPECT_EQ(kt, tr_import(&t, t.priv, copy, len), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(kt, tr_import(&t, t.priv, copy, 10), KERN_INVALID_ARGUMENT);
		kfree(copy);
	}
	kfree((void *)(uintptr_t)addr);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	KT_EXPECT_EQ(kt, tr_import(&t, t.priv, junk, sizeof(junk)), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_import(&t, t.priv, junk, 0), KERN_INVALID_ARGUMENT);
	tr_close(kt, &t);
}

KTEST(perf_rpc, system_and_task_stats)
{
	struct tr t;
	struct tr_msg m;
	static struct perf_system_stats y;

	tr_open(kt, &t);
	KT_ASSERT_EQ(kt, tr_sys_stats(&t, t.host, &y), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, y.ncpus, 1);
	KT_EXPECT_EQ(kt, y.buffer_size, PERF_BUFFER_DEFAULT);
	KT_EXPECT_EQ(kt, y.sample_rate, PERF_RATE_UNLIMITED);
	KT_EXPECT_EQ(kt, y.mode, PERF_BUFFER_CIRCULAR);
	KT_EXPECT_EQ(kt, y.event_mask, PERF_EVENT_ALL);
	KT_EXPECT_EQ(kt, y.tasks, task_count());
	KT_EXPECT(kt, y.threads > 0 && y.ports > 0 && y.free_pages > 0);
	KT_EXPECT(kt, y.free_pages <= y.total_pages);
	KT_EXPECT(kt, y.tsc_hz > 0 && y.tsc_khz == y.tsc_hz / 1000);
	KT_EXPECT_EQ(kt, y.cpu[0].capacity, PERF_BUFFER_DEFAULT);
	KT_EXPECT(kt, y.cpu[0].busy_ns + y.cpu[0].idle_ns > 0);
	KT_EXPECT_EQ(kt, y.interrupts, y.cpu[0].interrupts);

	memset(&m, 0, sizeof(m));
	tr_head(&t, &m, t.host, 3413, 0);
	KT_ASSERT_EQ(kt, tr_call(&t, &m), KERN_SUCCESS);
	{
		uint32_t words, total;
		uint64_t addr;

		memcpy(&words, m.body + 8 + 8, 4);
		memcpy(&addr, m.body + 20, 8);
		memcpy(&total, m.body + 32, 4);
		KT_EXPECT_EQ(kt, total, task_count());
		KT_EXPECT_EQ(kt, words, total * PERF_TASK_STATS_WORDS);
		kfree((void *)(uintptr_t)addr);
	}
	tr_close(kt, &t);
}

/* Records n VM_ALLOC events numbered from 0 (data1) with task 77, thread 88. */
static void tr_record(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		PERF_EVENT_RECORD(PERF_EVENT_VM_ALLOC, 77, 88, i, 3 * 4096);
}

/* Reads everything from *cursor; checks the records are consecutive from first. */
static void tr_drain(struct ktest_ctx *kt, struct tr *t, uint64_t *cursor, uint64_t first,
                     uint64_t *nread, uint64_t *lost)
{
	uint64_t expect = first;

	*nread = *lost = 0;
	for (int guard = 0; guard < 64; guard++) {
		struct perf_record *recs = NULL;
		uint32_t n = 0;
		uint64_t l = 0;

		if (tr_read(t, t->priv, cursor, &recs, &n, &l) != KERN_SUCCESS) {
			KT_EXPECT(kt, false);
			return;
		}
		for (uint32_t i = 0; i < n; i++) {
			KT_EXPECT_EQ(kt, recs[i].event, PERF_EVENT_VM_ALLOC);
			KT_EXPECT(kt, recs[i].task == 77 && recs[i].thread == 88);
			KT_EXPECT_EQ(kt, recs[i].data2, 3 * 4096);
			if (recs[i].data1 != expect)
				ktest_diag(kt, "record %lu: data1 %lu", (unsigned long)(*nread + i),
				           (unsigned long)recs[i].data1);
			KT_EXPECT_EQ(kt, recs[i].data1, expect);
			expect++;
		}
		kfree(recs);
		*nread += n;
		*lost += l;
		if (n == 0 && l == 0)
			return;
	}
	KT_EXPECT(kt, false); /* never drained */
}

static void tr_overflow(struct ktest_ctx *kt, uint32_t mode)
{
	struct tr t;
	static struct perf_system_stats y0, y1;
	uint64_t cursor, nread, lost;
	struct perf_event_stats st;

	tr_open(kt, &t);
	KT_EXPECT_EQ(kt, tr_u32_call(&t, t.priv, 3403, 1u << PERF_EVENT_VM_ALLOC), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, tr_configure(&t, t.priv, PERF_RATE_UNLIMITED, PERF_BUFFER_MIN, mode),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3411), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, tr_sys_stats(&t, t.host, &y0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, y0.mode, mode);
	cursor = PERF_CURSOR(0, y0.cpu[0].head);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3400), KERN_SUCCESS);
	tr_record(1500);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3401), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, tr_sys_stats(&t, t.host, &y1), KERN_SUCCESS);
	tr_drain(kt, &t, &cursor, mode == PERF_BUFFER_CIRCULAR ? 1500 - PERF_BUFFER_MIN : 0, &nread,
	         &lost);
	/* Every record is read or reported lost to the reader, exactly. */
	KT_EXPECT_EQ(kt, nread, PERF_BUFFER_MIN);
	KT_EXPECT_EQ(kt, lost, 1500 - PERF_BUFFER_MIN);
	KT_EXPECT_EQ(kt, y1.written - y0.written, 1500);
	/* ... and the buffer says how: the oldest overwritten, or the newest refused. */
	if (mode == PERF_BUFFER_CIRCULAR)
		KT_EXPECT_EQ(kt, y1.cpu[0].overwritten - y0.cpu[0].overwritten, lost);
	else
		KT_EXPECT_EQ(kt, y1.cpu[0].dropped - y0.cpu[0].dropped, lost);
	KT_EXPECT_EQ(kt, y1.lost - y0.lost, lost);
	/* The statistics count every event, whatever the buffer did. */
	KT_EXPECT_EQ(kt, tr_event_stats(&t, t.host, PERF_EVENT_VM_ALLOC, &st), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, st.count, 1500);
	tr_close(kt, &t);
}

KTEST(perf_rpc, read_samples_overflow_circular)
{
	tr_overflow(kt, PERF_BUFFER_CIRCULAR);
}

KTEST(perf_rpc, read_samples_overflow_saturate)
{
	tr_overflow(kt, PERF_BUFFER_SATURATE);
}

KTEST(perf_rpc, reader_keeping_up_loses_nothing)
{
	struct tr t;
	static struct perf_system_stats y;
	uint64_t cursor, nread, lost, total = 0;

	tr_open(kt, &t);
	KT_EXPECT_EQ(kt, tr_u32_call(&t, t.priv, 3403, 1u << PERF_EVENT_VM_ALLOC), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, tr_configure(&t, t.priv, 0, PERF_BUFFER_MIN, PERF_BUFFER_CIRCULAR),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3411), KERN_SUCCESS);
	KT_ASSERT_EQ(kt, tr_sys_stats(&t, t.host, &y), KERN_SUCCESS);
	cursor = PERF_CURSOR(0, y.cpu[0].head);
	KT_EXPECT_EQ(kt, tr_simple(&t, t.priv, 3400), KERN_SUCCESS);
	for (int round = 0; round < 6; round++) {
		tr_record(700); /* less than the buffer between two reads */
		tr_drain(kt, &t, &cursor, 0, &nread, &lost);
		KT_EXPECT_EQ(kt, nread, 700);
		KT_EXPECT_EQ(kt, lost, 0);
		total += nread;
	}
	KT_EXPECT_EQ(kt, total, 4200);
	tr_close(kt, &t);
}

/* register_alert with a made send right for port (or MACH_PORT_NULL). */
static kern_return_t tr_alert(struct tr *t, mach_port_name_t host, mach_port_name_t port,
                              uint32_t ev, uint64_t threshold)
{
	struct tr_msg m;
	mach_msg_type_t pt = { .msgt_name = MACH_MSG_TYPE_MAKE_SEND,
		               .msgt_size = 32,
		               .msgt_number = 1,
		               .msgt_inline = 1 };
	uint32_t off = 0;

	memset(&m, 0, sizeof(m));
	tr_put(&m, &off, &pt, sizeof(pt), &port, 4);
	tr_u32(&m, &off, ev);
	tr_u64(&m, &off, threshold);
	m.h.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	tr_head(t, &m, host, 3412, off);
	return tr_call(t, &m);
}

/* One SYSCALL event that lasts about ns. */
static void tr_slow_syscall(uint64_t ns)
{
	PERF_TIME_BLOCK(PERF_EVENT_SYSCALL, 5, 6, 0, 0, { clock_delay_ns(ns); });
}

KTEST(perf_rpc, alerts_arrive_rate_limited)
{
	struct tr t;
	mach_port_name_t ap;
	perf_alert_msg_t a1, a2;
	uint64_t thr = 200000; /* 200 us */

	if (clock_mode() == CLOCK_MODE_ICOUNT)
		thr = 200000; /* instructions: clock_delay_ns spins far longer */
	tr_open(kt, &t);
	KT_ASSERT_EQ(kt, mach_port_allocate(t.s, MACH_PORT_RIGHT_RECEIVE, &ap), KERN_SUCCESS);
	/* Only the privileged port; only timed events; a real port. */
	KT_EXPECT_EQ(kt, tr_alert(&t, t.host, ap, PERF_EVENT_SYSCALL, thr), KERN_INVALID_HOST);
	KT_EXPECT_EQ(kt, tr_alert(&t, t.priv, ap, PERF_EVENT_VM_ALLOC, thr), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, tr_alert(&t, t.priv, ap, PERF_EVENT_MAX, thr), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, perf_alert_count(), 0);
	KT_EXPECT_EQ(kt, tr_alert(&t, t.priv, ap, PERF_EVENT_SYSCALL, thr), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_alert_count(), 1);

	KT_EXPECT_EQ(kt, perf_set_event_mask(1u << PERF_EVENT_SYSCALL), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_monitor_enable(true), KERN_SUCCESS);
	tr_slow_syscall(10000); /* below the threshold: no alert */
	tr_slow_syscall(2 * thr);
	memset(&a1, 0, sizeof(a1));
	KT_ASSERT_EQ(kt,
	             mach_msg_kernel(t.s, &a1.head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(a1),
	                             ap, 1000),
	             MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, a1.head.msgh_id, PERF_ALERT_MSGH_ID);
	KT_EXPECT_EQ(kt, a1.head.msgh_size, PERF_ALERT_MSG_SIZE);
	KT_EXPECT_EQ(kt, a1.data_type.msgt_number, 16);
	KT_EXPECT_EQ(kt, a1.data.event, PERF_EVENT_SYSCALL);
	KT_EXPECT(kt, a1.data.task == 5 && a1.data.thread == 6);
	KT_EXPECT(kt, a1.data.duration_ns > thr);
	KT_EXPECT_EQ(kt, a1.data.threshold_ns, thr);
	KT_EXPECT_EQ(kt, a1.data.count, 1);
	KT_EXPECT_EQ(kt, a1.data.suppressed, 0);
	KT_EXPECT_EQ(kt, a1.data.seqno, 1);

	/* Five more at once: one alert after the interval, standing for all five. */
	for (int i = 0; i < 5; i++)
		tr_slow_syscall(2 * thr);
	memset(&a2, 0, sizeof(a2));
	KT_ASSERT_EQ(kt,
	             mach_msg_kernel(t.s, &a2.head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(a2),
	                             ap, 1000),
	             MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(kt, a2.data.count, 5);
	KT_EXPECT_EQ(kt, a2.data.suppressed, 4);
	KT_EXPECT_EQ(kt, a2.data.seqno, 2);
	KT_EXPECT(kt, a2.data.timestamp_ns - a1.data.timestamp_ns >= PERF_ALERT_INTERVAL_NS);
	KT_EXPECT_EQ(kt, perf_monitor_enable(false), KERN_SUCCESS);

	/* Cancelled: threshold 0; the registration and its right go. */
	KT_EXPECT_EQ(kt, tr_alert(&t, t.priv, ap, PERF_EVENT_SYSCALL, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_alert_count(), 0);
	KT_EXPECT_EQ(kt, perf_alert_threshold[PERF_EVENT_SYSCALL], UINT64_MAX);
	tr_close(kt, &t);
}

KTEST(perf_rpc, alert_port_death_ends_registration)
{
	struct tr t;
	mach_port_name_t ap;

	tr_open(kt, &t);
	KT_ASSERT_EQ(kt, mach_port_allocate(t.s, MACH_PORT_RIGHT_RECEIVE, &ap), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, tr_alert(&t, t.priv, ap, PERF_EVENT_SYSCALL, 1000), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_alert_count(), 1);
	KT_EXPECT_EQ(kt, mach_port_destroy(t.s, ap), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_set_event_mask(1u << PERF_EVENT_SYSCALL), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, perf_monitor_enable(true), KERN_SUCCESS);
	tr_slow_syscall(100000);
	for (int i = 0; i < 100 && perf_alert_count() != 0; i++)
		thread_sleep(NULL, 5000000); /* the sender finds the port dead */
	KT_EXPECT_EQ(kt, perf_alert_count(), 0);
	tr_close(kt, &t);
}
