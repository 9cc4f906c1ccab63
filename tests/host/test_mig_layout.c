/*
 * MIG messages, end to end on the host: the generated user stubs talk to
 * the generated servers through a fake mach_msg that does what the
 * kernel's IPC must do, and every message is checked byte by byte at the
 * offsets the kernel will parse.
 *
 * The fake kernel (k_*):
 *   - copies the request in and delivers it swapped, as a receiver sees
 *     it: msgh_local_port is the port received on (MIG's request port),
 *     msgh_remote_port the reply right, dispositions turned into what
 *     the receiver holds (COPY_SEND -> PORT_SEND, MAKE_SEND_ONCE ->
 *     PORT_SEND_ONCE, ...);
 *   - walks the body like the kernel's parser: descriptor, data rounded
 *     up to 4 bytes (8-byte address when out of line), to msgh_size
 *     exactly, converting port descriptors;
 *   - dispatches by msgh_id to the generated demuxes and delivers the
 *     reply the same way.  Names are not translated (one name space) and
 *     out-of-line memory is passed by address.
 *
 * Also linked: userland/libmach/mig_support.c, over fake traps, so its
 * reply-port cache is tested too.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mach/mach_traps.h>
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <mach/notify.h>
#include <mach/perf_monitor_types.h>
#include <mach/syscall_sw.h>

#include "mach.h"
#include "mach_S.h"
#include "mach_host.h"
#include "mach_host_S.h"
#include "mach_port.h"
#include "mach_port_S.h"
#include "perf_monitor.h"
#include "perf_monitor_S.h"

#include "htest.h"

/* The demuxes (mig-gen/<name>Server.c); the kernel declares them likewise. */
boolean_t mach_server(mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t mach_port_server(mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t mach_host_server(mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t perf_monitor_server(mach_msg_header_t *in, mach_msg_header_t *out);

#define TASK 0x103u      /* mach_task_self() */
#define HOST 0x10bu      /* a host port */
#define PORT_A 0x1f3u    /* some right */
#define REPLY_BASE 0x300 /* reply ports from the fake trap: 0x301, 0x302, ... */

/* ---- the fake kernel ---- */

#define K_WORDS 2048 /* 16 KiB messages */

static uint64_t k_req[K_WORDS]; /* the last request, as the client sent it */
static uint64_t k_in[K_WORDS];  /* ... as the server received it */
static uint64_t k_out[K_WORDS]; /* the last reply, as the server sent it */
static mach_msg_size_t k_req_size;
static unsigned k_rpcs;
static unsigned k_reply_ports; /* mach_reply_port traps */

static uint32_t k_word(const void *msg, size_t off)
{
	uint32_t w;

	memcpy(&w, (const uint8_t *)msg + off, 4);
	return w;
}

static uint64_t k_u64(const void *msg, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)msg + off, 8);
	return v;
}

/* What a receiver holds for a right sent with disposition d. */
static unsigned k_received(unsigned d)
{
	switch (d) {
	case MACH_MSG_TYPE_MOVE_RECEIVE:
		return MACH_MSG_TYPE_PORT_RECEIVE;
	case MACH_MSG_TYPE_MOVE_SEND:
	case MACH_MSG_TYPE_COPY_SEND:
	case MACH_MSG_TYPE_MAKE_SEND:
		return MACH_MSG_TYPE_PORT_SEND;
	case MACH_MSG_TYPE_MOVE_SEND_ONCE:
	case MACH_MSG_TYPE_MAKE_SEND_ONCE:
		return MACH_MSG_TYPE_PORT_SEND_ONCE;
	default:
		return d;
	}
}

/*
 * Walks the body of m as the kernel's parser does, converting port
 * dispositions; false if an item overruns msgh_size or the items do not
 * end exactly there.
 */
static bool k_walk(mach_msg_header_t *m)
{
	uint8_t *base = (uint8_t *)m;
	size_t off = sizeof(mach_msg_header_t), end = m->msgh_size;

	while (off < end) {
		mach_msg_type_t *t = (mach_msg_type_t *)(base + off);
		mach_msg_type_long_t *lt = (mach_msg_type_long_t *)t;
		uint64_t name, size, number, len;
		bool is_inline;

		if (off + sizeof(*t) > end)
			return false;
		is_inline = t->msgt_inline;
		if (t->msgt_longform) {
			if (off + sizeof(*lt) > end)
				return false;
			name = lt->msgtl_name;
			size = lt->msgtl_size;
			number = lt->msgtl_number;
			if (MACH_MSG_TYPE_PORT_ANY(name))
				lt->msgtl_name = (unsigned short)k_received((unsigned)name);
			off += sizeof(*lt);
		} else {
			name = t->msgt_name;
			size = t->msgt_size;
			number = t->msgt_number;
			if (MACH_MSG_TYPE_PORT_ANY(name))
				t->msgt_name = k_received((unsigned)name) & 0xff;
			off += sizeof(*t);
		}
		len = is_inline ? (number * size + 31) / 32 * 4 : sizeof(void *);
		if (off + len > end)
			return false;
		off += len;
	}
	return off == end;
}

/* The kernel's kobject dispatch, by subsystem. */
static boolean_t k_dispatch(mach_msg_header_t *in, mach_msg_header_t *out)
{
	mach_msg_id_t id = in->msgh_id;

	if (id >= 2000 && id < 2100)
		return mach_server(in, out);
	if (id >= 2600 && id < 2700)
		return mach_host_server(in, out);
	if (id >= 3200 && id < 3300)
		return mach_port_server(in, out);
	if (id >= 3400 && id < 3500)
		return perf_monitor_server(in, out);
	return mach_server(in, out); /* answers MIG_BAD_ID */
}

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
                           mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                           mach_port_t rcv_name, mach_msg_timeout_t timeout, mach_port_t notify)
{
	mach_msg_header_t *in = (mach_msg_header_t *)k_in;
	mach_msg_header_t *out = (mach_msg_header_t *)k_out;
	mach_msg_bits_t bits = msg->msgh_bits;

	k_rpcs++;
	HT_CHECK(option == (MACH_SEND_MSG | MACH_RCV_MSG));
	HT_CHECK(timeout == MACH_MSG_TIMEOUT_NONE && notify == MACH_PORT_NULL);
	HT_CHECK(send_size == msg->msgh_size && send_size % 4 == 0);
	HT_CHECK(rcv_name == msg->msgh_local_port);
	HT_CHECK(MACH_MSGH_BITS_LOCAL(bits) == MACH_MSG_TYPE_MAKE_SEND_ONCE);
	if (send_size < sizeof(*msg) || send_size > sizeof(k_req))
		return MACH_SEND_MSG_TOO_SMALL;

	memcpy(k_req, msg, send_size);
	k_req_size = send_size;

	/* Deliver the request. */
	memcpy(k_in, msg, send_size);
	in->msgh_remote_port = msg->msgh_local_port;
	in->msgh_local_port = msg->msgh_remote_port;
	in->msgh_bits = (bits & MACH_MSGH_BITS_COMPLEX) |
	                MACH_MSGH_BITS(k_received(MACH_MSGH_BITS_LOCAL(bits)),
	                               k_received(MACH_MSGH_BITS_REMOTE(bits)));
	if (!k_walk(in)) {
		HT_FAIL("request %d: body does not parse", (int)msg->msgh_id);
		return MACH_SEND_INVALID_DATA;
	}

	memset(k_out, 0xa5, sizeof(k_out)); /* no reply byte may be left unset */
	k_dispatch(in, out);

	/* Deliver the reply to the client's reply port. */
	bits = out->msgh_bits;
	HT_CHECK(out->msgh_remote_port == rcv_name);
	HT_CHECK(MACH_MSGH_BITS_REMOTE(bits) == MACH_MSG_TYPE_PORT_SEND_ONCE);
	HT_CHECK(out->msgh_id == msg->msgh_id + 100);
	if (out->msgh_size > rcv_size)
		return MACH_RCV_TOO_LARGE;
	memcpy(msg, k_out, out->msgh_size);
	msg->msgh_remote_port = MACH_PORT_NULL;
	msg->msgh_local_port = rcv_name;
	msg->msgh_bits = (bits & MACH_MSGH_BITS_COMPLEX) |
	                 MACH_MSGH_BITS(0, k_received(MACH_MSGH_BITS_REMOTE(bits)));
	if (!k_walk(msg)) {
		HT_FAIL("reply %d: body does not parse", (int)msg->msgh_id);
		return MACH_RCV_INVALID_DATA;
	}
	return MACH_MSG_SUCCESS;
}

/* The traps and the global mig_support.c uses (libmach's mach_msg.c and traps.S). */
mach_port_t mach_task_self_;

mach_port_t __mach_task_self(void)
{
	return TASK;
}

mach_port_t mach_reply_port(void)
{
	return REPLY_BASE + ++k_reply_ports;
}

/* A descriptor word, built the way MIG's initialisers build it. */
static uint32_t desc(unsigned name, unsigned size, unsigned number, bool is_inline, bool longform,
                     bool dealloc)
{
	union {
		mach_msg_type_t t;
		uint32_t w;
	} u = { .w = 0 };

	u.t.msgt_name = name & 0xff;
	u.t.msgt_size = size & 0xff;
	u.t.msgt_number = number & 0xfff;
	u.t.msgt_inline = is_inline;
	u.t.msgt_longform = longform;
	u.t.msgt_deallocate = dealloc;
	return u.w;
}

#define INT32_DESC desc(MACH_MSG_TYPE_INTEGER_32, 32, 1, true, false, false)
#define INT64_DESC desc(MACH_MSG_TYPE_INTEGER_64, 64, 1, true, false, false)

/* Checks a reply's return code: descriptor at 32, code at 36. */
static void check_retcode(const void *reply, kern_return_t kr)
{
	HT_CHECK_U64(k_word(reply, 32), INT32_DESC);
	HT_CHECK_I64((int32_t)k_word(reply, 36), kr);
}

/* ---- server routines (the rest are MIG's weak MIG_BAD_ID defaults) ---- */

static struct {
	mach_port_t target;
	const void *arg; /* where a by-reference argument pointed */
	uint64_t u64;
	uint32_t u32, u32b;
	kern_return_t kr;
} srv;

kern_return_t S_vm_allocate(mach_port_t target_task, vm_address_t *address, vm_size_t size,
                            boolean_t anywhere)
{
	srv.target = target_task;
	srv.arg = address;
	srv.u64 = size;
	srv.u32 = (uint32_t)anywhere;
	HT_CHECK_U64(*address, 0x40001000);
	if (srv.kr == KERN_SUCCESS)
		*address = 0x7f0000005000;
	return srv.kr;
}

kern_return_t S_mach_port_allocate(mach_port_t task, mach_port_right_t right,
                                   mach_port_name_t *name)
{
	srv.target = task;
	srv.u32 = right;
	*name = PORT_A;
	return KERN_SUCCESS;
}

kern_return_t S_mach_port_mod_refs(mach_port_t task, mach_port_name_t name, mach_port_right_t right,
                                   mach_port_delta_t delta)
{
	srv.target = task;
	srv.u32 = name;
	srv.u32b = right;
	srv.u64 = (uint64_t)(int64_t)delta;
	return KERN_SUCCESS;
}

kern_return_t S_mach_port_insert_right(mach_port_t task, mach_port_name_t name, mach_port_t poly,
                                       mach_msg_type_name_t polyPoly)
{
	srv.target = task;
	srv.u32 = poly;
	srv.u32b = polyPoly;
	HT_CHECK_U64(name, PORT_A);
	return KERN_SUCCESS;
}

static mach_port_t srv_threads[3] = { 0x501, 0x502, 0x503 };

kern_return_t S_task_threads(mach_port_t target_task, thread_array_t *thread_list,
                             mach_msg_type_number_t *thread_listCnt)
{
	srv.target = target_task;
	*thread_list = srv_threads;
	*thread_listCnt = 3;
	return KERN_SUCCESS;
}

static struct perf_record srv_records[150];

kern_return_t S_perf_monitor_read_samples(mach_port_t host_priv, rpc_uint64_t cursor,
                                          perf_record_array_t *samples,
                                          mach_msg_type_number_t *samplesCnt,
                                          rpc_uint64_t *next_cursor, rpc_uint64_t *lost)
{
	srv.target = host_priv;
	srv.u64 = cursor;
	for (unsigned i = 0; i < 150; i++) {
		srv_records[i].ts_ns = 1000 + i;
		srv_records[i].event = PERF_EVENT_IPC_SEND;
		srv_records[i].data1 = i;
	}
	*samples = srv_records;
	*samplesCnt = 150 * PERF_RECORD_WORDS;
	*next_cursor = cursor + 150 + 7;
	*lost = 7;
	return KERN_SUCCESS;
}

kern_return_t S_perf_monitor_get_event_stats(mach_port_t host, natural_t event,
                                             perf_event_stats_data_t *stats)
{
	srv.target = host;
	srv.arg = stats;
	stats->event = event;
	stats->flags = PERF_STATS_F_ICOUNT;
	stats->count = 0x1122334455667788ull;
	stats->p999_ns = 999;
	stats->interval_ns = 0xfedcba9876543210ull;
	return KERN_SUCCESS;
}

kern_return_t S_perf_monitor_register_alert(mach_port_t host_priv, mach_port_t alert_port,
                                            natural_t event, rpc_uint64_t threshold_ns)
{
	srv.target = host_priv;
	srv.u32 = alert_port;
	srv.u32b = event;
	srv.u64 = threshold_ns;
	return KERN_SUCCESS;
}

kern_return_t S_host_kernel_version(mach_port_t host, kernel_version_t kernel_version)
{
	srv.target = host;
	strcpy(kernel_version, "machperf 0.1");
	return KERN_SUCCESS;
}

static void reset(void)
{
	memset(&srv, 0, sizeof(srv));
	k_rpcs = 0;
}

/* ---- cases ---- */

static void header_layout(void)
{
	union {
		mach_msg_type_t t;
		uint32_t w;
	} u = { .w = 0 };

	HT_CHECK_U64(sizeof(mach_msg_header_t), 32);
	HT_CHECK_U64(offsetof(mach_msg_header_t, msgh_remote_port), 8);
	HT_CHECK_U64(offsetof(mach_msg_header_t, msgh_local_port), 16);
	HT_CHECK_U64(offsetof(mach_msg_header_t, msgh_seqno), 24);
	HT_CHECK_U64(offsetof(mach_msg_header_t, msgh_id), 28);
	HT_CHECK_U64(sizeof(mach_msg_type_t), 4);
	HT_CHECK_U64(sizeof(mach_msg_type_long_t), 12);
	HT_CHECK_U64(sizeof(mig_reply_header_t), 40);

	/* Bit-fields from the least significant bit: name:8 size:8 number:12 ... */
	u.t.msgt_name = 0xff;
	HT_CHECK_U64(u.w, 0x000000ffu);
	u.w = 0;
	u.t.msgt_size = 0xff;
	HT_CHECK_U64(u.w, 0x0000ff00u);
	u.w = 0;
	u.t.msgt_number = 0xfff;
	HT_CHECK_U64(u.w, 0x0fff0000u);
	HT_CHECK_U64(desc(0, 0, 0, true, false, false), 1u << 28);
	HT_CHECK_U64(desc(0, 0, 0, false, true, false), 1u << 29);
	HT_CHECK_U64(desc(0, 0, 0, false, false, true), 1u << 30);
	u.w = 0;
	u.t.msgt_unused = 1;
	HT_CHECK_U64(u.w, 1u << 31);

	HT_CHECK_U64(MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE), 0x1513);
	HT_CHECK_U64(MACH_NOTIFY_DEAD_NAME, 72);
}

/* DESIGN.md's ids: every listed id has a routine, every other one is a skip. */
static const int mach_ids[] = { 2007, 2008, 2011, 2012, 2016, 2017, 2018, 2019,
	                        2021, 2023, 2024, 2026, 2027, 2029, 2030, 2056,
	                        2057, 2058, 2059, 2061, 2062, 2063, 2064 };
static const int mach_port_ids[] = { 3200, 3201, 3204, 3205, 3206, 3207,
	                             3208, 3210, 3213, 3214, 3215, 3216 };
static const int mach_host_ids[] = { 2619, 2634, 2635, 2638 };
static const int perf_monitor_ids[] = { 3400, 3401, 3402, 3403, 3404, 3405, 3406, 3407,
	                                3408, 3409, 3410, 3411, 3412, 3413, 3414 };

#define SUBSYSTEM(sub, first)                                                                      \
	{                                                                                          \
		.name = #sub, .table = sub##_server_routines, .base = first, .ids = sub##_ids,     \
		.n = sizeof(sub##_ids) / sizeof(sub##_ids[0])                                      \
	}

static void routine_ids(void)
{
	static const struct {
		const char *name;
		mig_routine_t *table;
		int base;
		const int *ids;
		size_t n;
	} subs[] = {
		SUBSYSTEM(mach, 2000),
		SUBSYSTEM(mach_port, 3200),
		SUBSYSTEM(mach_host, 2600),
		SUBSYSTEM(perf_monitor, 3400),
	};

	for (size_t s = 0; s < sizeof(subs) / sizeof(subs[0]); s++) {
		int last = subs[s].ids[subs[s].n - 1];

		for (int id = subs[s].base; id <= last; id++) {
			bool want = false;

			for (size_t i = 0; i < subs[s].n; i++)
				want |= subs[s].ids[i] == id;
			if ((subs[s].table[id - subs[s].base] != NULL) != want)
				HT_FAIL("%s: id %d %s", subs[s].name, id,
				        want ? "has no routine" : "should be a skip");
		}
	}
}

/* vm_allocate: 64-bit integers at offset 4 mod 8; an inout argument. */
static void vm_allocate_layout(void)
{
	vm_address_t addr = 0x40001000;
	const uint8_t *rq = (const uint8_t *)k_req;
	kern_return_t kr;

	reset();
	kr = vm_allocate(TASK, &addr, 0x3000, FALSE);
	HT_CHECK_I64(kr, KERN_SUCCESS);
	HT_CHECK_U64(addr, 0x7f0000005000);

	/* The request the kernel parses. */
	HT_CHECK_U64(k_req_size, 64);
	HT_CHECK_U64(k_word(rq, 0),
	             MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE));
	HT_CHECK_U64(k_word(rq, 4), 64);
	HT_CHECK_U64(k_word(rq, 8), TASK);
	HT_CHECK_U64(k_word(rq, 16), REPLY_BASE + k_reply_ports);
	HT_CHECK_U64(k_word(rq, 28), 2021);
	HT_CHECK_U64(k_word(rq, 32), INT64_DESC);
	HT_CHECK_U64(k_u64(rq, 36), 0x40001000);
	HT_CHECK_U64(k_word(rq, 44), INT64_DESC);
	HT_CHECK_U64(k_u64(rq, 48), 0x3000);
	HT_CHECK_U64(k_word(rq, 56), desc(MACH_MSG_TYPE_BOOLEAN, 32, 1, true, false, false));
	HT_CHECK_U64(k_word(rq, 60), FALSE);

	/* What the server saw: the request port, and a pointer into the message. */
	HT_CHECK_U64(srv.target, TASK);
	HT_CHECK_U64((uintptr_t)srv.arg - (uintptr_t)k_in, 36);
	HT_CHECK_U64(srv.u64, 0x3000);
	HT_CHECK_U64(srv.u32, FALSE);

	/* The reply: return code, then the address at 44. */
	HT_CHECK_U64(k_word(k_out, 4), 52);
	HT_CHECK_U64(k_word(k_out, 28), 2121);
	check_retcode(k_out, KERN_SUCCESS);
	HT_CHECK_U64(k_word(k_out, 40), INT64_DESC);
	HT_CHECK_U64(k_u64(k_out, 44), 0x7f0000005000);
}

/* A failing routine answers with the 40-byte mig_reply_header_t. */
static void vm_allocate_error(void)
{
	vm_address_t addr = 0x40001000;
	kern_return_t kr;

	reset();
	srv.kr = KERN_NO_SPACE;
	kr = vm_allocate(TASK, &addr, 0x3000, FALSE);
	HT_CHECK_I64(kr, KERN_NO_SPACE);
	HT_CHECK_U64(addr, 0x40001000);
	HT_CHECK_U64(k_word(k_out, 4), sizeof(mig_reply_header_t));
	check_retcode(k_out, KERN_NO_SPACE);
}

/* mach_port_allocate: a name travels as MACH_MSG_TYPE_PORT_NAME (no right). */
static void mach_port_allocate_layout(void)
{
	mach_port_name_t name = 0;
	kern_return_t kr;

	reset();
	kr = mach_port_allocate(TASK, MACH_PORT_RIGHT_RECEIVE, &name);
	HT_CHECK_I64(kr, KERN_SUCCESS);
	HT_CHECK_U64(name, PORT_A);
	HT_CHECK_U64(srv.target, TASK);
	HT_CHECK_U64(srv.u32, MACH_PORT_RIGHT_RECEIVE);

	HT_CHECK_U64(k_req_size, 40);
	HT_CHECK_U64(k_word(k_req, 0) & MACH_MSGH_BITS_COMPLEX, 0);
	HT_CHECK_U64(k_word(k_req, 28), 3204);
	HT_CHECK_U64(k_word(k_req, 32), INT32_DESC);
	HT_CHECK_U64(k_word(k_req, 36), MACH_PORT_RIGHT_RECEIVE);

	HT_CHECK_U64(k_word(k_out, 4), 48);
	check_retcode(k_out, KERN_SUCCESS);
	HT_CHECK_U64(k_word(k_out, 40), desc(MACH_MSG_TYPE_PORT_NAME, 32, 1, true, false, false));
	HT_CHECK_U64(k_word(k_out, 44), PORT_A);
}

/* A right in the body: the message is complex, the disposition is converted. */
static void mach_port_insert_right_poly(void)
{
	kern_return_t kr;

	reset();
	kr = mach_port_insert_right(TASK, PORT_A, PORT_A, MACH_MSG_TYPE_MAKE_SEND);
	HT_CHECK_I64(kr, KERN_SUCCESS);

	HT_CHECK_U64(k_req_size, 48);
	HT_CHECK_U64(k_word(k_req, 0) & MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_COMPLEX);
	HT_CHECK_U64(k_word(k_req, 28), 3215);
	HT_CHECK_U64(k_word(k_req, 32), desc(MACH_MSG_TYPE_PORT_NAME, 32, 1, true, false, false));
	HT_CHECK_U64(k_word(k_req, 36), PORT_A);
	HT_CHECK_U64(k_word(k_req, 40), desc(MACH_MSG_TYPE_MAKE_SEND, 32, 1, true, false, false));
	HT_CHECK_U64(k_word(k_req, 44), PORT_A);

	HT_CHECK_U64(srv.u32, PORT_A);
	HT_CHECK_U64(srv.u32b, MACH_MSG_TYPE_PORT_SEND);
}

/* Out-of-line rights: long form, not inline, 32-bit names, deallocate set. */
static void task_threads_ool_ports(void)
{
	thread_array_t threads = NULL;
	mach_msg_type_number_t n = 0;
	kern_return_t kr;

	reset();
	kr = task_threads(TASK, &threads, &n);
	HT_CHECK_I64(kr, KERN_SUCCESS);
	HT_CHECK_U64(n, 3);
	HT_CHECK(threads == srv_threads);

	HT_CHECK_U64(k_req_size, 32);
	HT_CHECK_U64(k_word(k_out, 0) & MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_COMPLEX);
	HT_CHECK_U64(k_word(k_out, 4), 60);
	check_retcode(k_out, KERN_SUCCESS);
	HT_CHECK_U64(k_word(k_out, 40), desc(0, 0, 0, false, true, true));
	HT_CHECK_U64(k_word(k_out, 44), MACH_MSG_TYPE_COPY_SEND | 32u << 16);
	HT_CHECK_U64(k_word(k_out, 48), 3);
	HT_CHECK_U64(k_u64(k_out, 52), (uintptr_t)srv_threads);
}

/* perf read_samples: 150 records travel as 600 64-bit words, out of line. */
static void perf_read_samples_ool(void)
{
	perf_record_array_t recs = NULL;
	mach_msg_type_number_t n = 0;
	rpc_uint64_t next = 0, lost = 0;
	kern_return_t kr;

	reset();
	kr = perf_monitor_read_samples(HOST, 0x100000000ull, &recs, &n, &next, &lost);
	HT_CHECK_I64(kr, KERN_SUCCESS);
	HT_CHECK_U64(n, 600);
	HT_CHECK_U64(next, 0x100000000ull + 157);
	HT_CHECK_U64(lost, 7);
	HT_CHECK(recs == srv_records);
	HT_CHECK_U64(recs[149].ts_ns, 1149);
	HT_CHECK_U64(srv.target, HOST);
	HT_CHECK_U64(srv.u64, 0x100000000ull);

	HT_CHECK_U64(k_req_size, 44);
	HT_CHECK_U64(k_word(k_req, 28), 3406);
	HT_CHECK_U64(k_word(k_req, 32), INT64_DESC);
	HT_CHECK_U64(k_u64(k_req, 36), 0x100000000ull);

	HT_CHECK_U64(k_word(k_out, 0) & MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_COMPLEX);
	HT_CHECK_U64(k_word(k_out, 4), 84);
	check_retcode(k_out, KERN_SUCCESS);
	HT_CHECK_U64(k_word(k_out, 40), desc(0, 0, 0, false, true, true));
	HT_CHECK_U64(k_word(k_out, 44), MACH_MSG_TYPE_INTEGER_64 | 64u << 16);
	HT_CHECK_U64(k_word(k_out, 48), 600);
	HT_CHECK_U64(k_u64(k_out, 52), (uintptr_t)srv_records);
	HT_CHECK_U64(k_word(k_out, 60), INT64_DESC);
	HT_CHECK_U64(k_u64(k_out, 64), 0x100000000ull + 157);
	HT_CHECK_U64(k_word(k_out, 72), INT64_DESC);
	HT_CHECK_U64(k_u64(k_out, 76), 7);
}

/* perf event stats: struct perf_event_stats inline as 30 natural_t, at 44. */
static void perf_event_stats_inline(void)
{
	perf_event_stats_data_t st;
	kern_return_t kr;

	reset();
	memset(&st, 0, sizeof(st));
	kr = perf_monitor_get_event_stats(HOST, PERF_EVENT_PAGE_FAULT, &st);
	HT_CHECK_I64(kr, KERN_SUCCESS);
	HT_CHECK_U64(st.event, PERF_EVENT_PAGE_FAULT);
	HT_CHECK_U64(st.count, 0x1122334455667788ull);
	HT_CHECK_U64(st.p999_ns, 999);
	HT_CHECK_U64(st.interval_ns, 0xfedcba9876543210ull);
	HT_CHECK_U64((uintptr_t)srv.arg - (uintptr_t)k_out, 44);

	HT_CHECK_U64(k_req_size, 40);
	HT_CHECK_U64(k_word(k_out, 4), 44 + 120);
	HT_CHECK_U64(k_word(k_out, 40), desc(MACH_MSG_TYPE_INTEGER_32, 32, 30, true, false, false));
	HT_CHECK_U64(k_word(k_out, 44), PERF_EVENT_PAGE_FAULT);
	HT_CHECK_U64(k_u64(k_out, 44 + 8), 0x1122334455667788ull);
}

/* register_alert: a made send right, then a 64-bit threshold at 52. */
static void perf_register_alert_port(void)
{
	kern_return_t kr;

	reset();
	kr = perf_monitor_register_alert(HOST, PORT_A, PERF_EVENT_IPC_SEND, 5000000000ull);
	HT_CHECK_I64(kr, KERN_SUCCESS);
	HT_CHECK_U64(k_req_size, 60);
	HT_CHECK_U64(k_word(k_req, 0) & MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_COMPLEX);
	HT_CHECK_U64(k_word(k_req, 32), desc(MACH_MSG_TYPE_MAKE_SEND, 32, 1, true, false, false));
	HT_CHECK_U64(k_word(k_req, 36), PORT_A);
	HT_CHECK_U64(k_word(k_req, 40), INT32_DESC);
	HT_CHECK_U64(k_word(k_req, 48), INT64_DESC);
	HT_CHECK_U64(k_u64(k_req, 52), 5000000000ull);
	HT_CHECK_U64(srv.u32, PORT_A);
	HT_CHECK_U64(srv.u32b, PERF_EVENT_IPC_SEND);
	HT_CHECK_U64(srv.u64, 5000000000ull);
}

/* host_kernel_version: a 512-byte string, long form (4096 bits > 255). */
static void host_kernel_version_string(void)
{
	kernel_version_t v;
	kern_return_t kr;

	reset();
	memset(v, 'x', sizeof(v));
	kr = host_kernel_version(HOST, v);
	HT_CHECK_I64(kr, KERN_SUCCESS);
	HT_CHECK(strcmp(v, "machperf 0.1") == 0);
	HT_CHECK_U64(k_word(k_out, 4), 40 + 12 + 512);
	HT_CHECK_U64(k_word(k_out, 40), desc(0, 0, 0, true, true, false));
	HT_CHECK_U64(k_word(k_out, 44), MACH_MSG_TYPE_STRING | 4096u << 16);
	HT_CHECK_U64(k_word(k_out, 48), 1);
}

/* Unknown and skipped ids: the demux says FALSE and answers MIG_BAD_ID. */
static void bad_id(void)
{
	static const mach_msg_id_t ids[] = { 1999, 2022, 2065, 2099 };
	mach_msg_header_t *in = (mach_msg_header_t *)k_in;
	mig_reply_header_t *out = (mig_reply_header_t *)k_out;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		memset(k_in, 0, sizeof(mach_msg_header_t));
		in->msgh_bits =
		    MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND);
		in->msgh_size = sizeof(*in);
		in->msgh_remote_port = REPLY_BASE;
		in->msgh_local_port = TASK;
		in->msgh_id = ids[i];
		HT_CHECK(!mach_server(in, &out->Head));
		HT_CHECK_U64(out->Head.msgh_id, ids[i] + 100);
		HT_CHECK_U64(out->Head.msgh_size, sizeof(*out));
		HT_CHECK_I64(out->RetCode, MIG_BAD_ID);
	}
}

/* The generated server rejects a request whose size or types lie. */
static void bad_arguments(void)
{
	mach_msg_header_t *in = (mach_msg_header_t *)k_in;
	mig_reply_header_t *out = (mig_reply_header_t *)k_out;
	vm_address_t addr = 0x40001000;

	reset();
	HT_CHECK_I64(vm_allocate(TASK, &addr, 0x3000, TRUE), KERN_SUCCESS);

	/* Replay it with a 32-bit address descriptor. */
	memcpy(k_in, k_req, k_req_size);
	in->msgh_local_port = TASK;
	memcpy((uint8_t *)k_in + 32, &(uint32_t){ INT32_DESC }, 4);
	HT_CHECK(mach_server(in, &out->Head));
	HT_CHECK_I64(out->RetCode, MIG_BAD_ARGUMENTS);

	/* And with a size that is not the routine's. */
	memcpy(k_in, k_req, k_req_size);
	in->msgh_size = 60;
	HT_CHECK(mach_server(in, &out->Head));
	HT_CHECK_I64(out->RetCode, MIG_BAD_ARGUMENTS);
}

/*
 * mig_support.c: one reply port per RPC in flight, reused after; a port
 * with no free cache slot is destroyed by mach_port_mod_refs.
 */
static void reply_port_cache(void)
{
	mach_port_t p[6];
	unsigned before = k_reply_ports;

	for (int i = 0; i < 6; i++)
		p[i] = mig_get_reply_port();
	/* Earlier cases left one port in the cache (none if run alone). */
	HT_CHECK(k_reply_ports - before == 5 || k_reply_ports - before == 6);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < i; j++)
			HT_CHECK(p[i] != p[j]);

	reset();
	for (int i = 0; i < 6; i++)
		mig_put_reply_port(p[i]);
	/* 4 slots: the last two were destroyed, each by one RPC. */
	HT_CHECK_U64(k_rpcs, 2);
	HT_CHECK_U64(srv.target, TASK);
	HT_CHECK_U64(srv.u32, p[5]);
	HT_CHECK_U64(srv.u32b, MACH_PORT_RIGHT_RECEIVE);
	HT_CHECK_I64((int64_t)srv.u64, -1);

	before = k_reply_ports;
	for (int i = 0; i < 4; i++)
		(void)mig_get_reply_port();
	HT_CHECK_U64(k_reply_ports, before);
}

static void mig_strncpy_truncates(void)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	HT_CHECK_U64(mig_strncpy(buf, "machperf kernel", sizeof(buf)), 7);
	HT_CHECK(strcmp(buf, "machper") == 0);
	HT_CHECK_U64(mig_strncpy(buf, "ok", sizeof(buf)), 2);
	HT_CHECK(strcmp(buf, "ok") == 0);
	HT_CHECK_U64(mig_strncpy(buf, "ok", 0), 0);
}

static const struct ht_case cases[] = {
	HT_CASE(header_layout),
	HT_CASE(routine_ids),
	HT_CASE(vm_allocate_layout),
	HT_CASE(vm_allocate_error),
	HT_CASE(mach_port_allocate_layout),
	HT_CASE(mach_port_insert_right_poly),
	HT_CASE(task_threads_ool_ports),
	HT_CASE(perf_read_samples_ool),
	HT_CASE(perf_event_stats_inline),
	HT_CASE(perf_register_alert_port),
	HT_CASE(host_kernel_version_string),
	HT_CASE(bad_id),
	HT_CASE(bad_arguments),
	HT_CASE(reply_port_cache),
	HT_CASE(mig_strncpy_truncates),
};

int main(void)
{
	return ht_main(cases, HT_NCASES(cases));
}
