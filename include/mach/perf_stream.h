/*
 * The framed binary stream the guest agent (perfctl) sends to the host
 * tools (tools/mp-decode, mp-trace, mp-report).  docs/perf-stream.md is the
 * reader's guide; this header is the reference.
 *
 * A stream is a sequence of frames; every multi-byte integer is
 * little-endian.  A frame is a 24-byte header followed by payload_len bytes:
 *
 *   offset size field
 *        0    4 magic        PERF_STREAM_MAGIC: the bytes "MPF1"
 *        4    2 version      PERF_STREAM_VERSION (2) from writers; readers
 *                            accept PERF_STREAM_VERSION_MIN (1) and up
 *        6    2 type         PERF_STREAM_META ... PERF_STREAM_END
 *        8    4 seq          0 for the first frame, +1 per frame: a gap is
 *                            frames lost, a step back is a reordered frame
 *       12    4 payload_len  at most PERF_STREAM_MAX_PAYLOAD (1 MiB)
 *       16    4 reserved     0
 *       20    4 crc32        CRC-32 (IEEE 802.3, zlib's crc32) of header
 *                            bytes 0..19 followed by the payload
 *
 * Versions.  Version 2 added the dropped fields of RECORDS and END (records
 * refused by a full saturate-mode buffer, which take no sequence number);
 * every other payload is the same in both.  A frame's own version says how
 * its payload is laid out: a version 1 RECORDS or END frame is the first
 * 32 bytes of the version 2 struct, and its dropped is 0.  A writer writes
 * one version throughout.
 *
 * A reader that meets a bad magic, version, reserved field or length, a CRC
 * mismatch or a frame cut short counts it, reports it, and resumes at the
 * next "MPF1" it finds; it never decodes such a frame.  A frame whose CRC is
 * right but whose payload contradicts itself (a count that does not fit the
 * length, an unknown event id) is rejected and counted too.
 *
 * Frames, in the order an agent sends them: META first, then any number of
 * RECORDS, STATS, SYSTEM and TASKS frames, END last.  The payload of each is
 * laid out exactly as the structures below (natural alignment, no padding
 * the asserts do not show), so a little-endian writer may copy them.
 *
 * Apart from struct perf_record and struct perf_event_stats, which travel
 * as the kernel defines them, the payloads are this format's own: the agent
 * fills them from the kernel's answers, and the stream stays readable when
 * the kernel's RPC structures change.
 */
#ifndef MACH_PERF_STREAM_H
#define MACH_PERF_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <mach/perf_event.h>

#define PERF_STREAM_MAGIC 0x3146504dU /* "MPF1" read as a little-endian u32 */
#define PERF_STREAM_VERSION 2         /* written */
#define PERF_STREAM_VERSION_MIN 1     /* oldest still read */
#define PERF_STREAM_HDR_SIZE 24
#define PERF_STREAM_MAX_PAYLOAD (1U << 20)
#define PERF_STREAM_MAX_FRAME (PERF_STREAM_HDR_SIZE + PERF_STREAM_MAX_PAYLOAD)

enum perf_stream_type {
	PERF_STREAM_META = 1,    /* struct perf_stream_meta */
	PERF_STREAM_RECORDS = 2, /* struct perf_stream_records + records */
	PERF_STREAM_STATS = 3,   /* struct perf_stream_stats + events */
	PERF_STREAM_SYSTEM = 4,  /* struct perf_stream_system + cpus */
	PERF_STREAM_TASKS = 5,   /* struct perf_stream_tasks + tasks + threads */
	PERF_STREAM_END = 6,     /* struct perf_stream_end + ranges */
	PERF_STREAM_NTYPES = 7
};

struct perf_stream_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t seq;
	uint32_t payload_len;
	uint32_t reserved;
	uint32_t crc32;
};

/*
 * META: how to read the rest, 128 bytes.
 *   clock        PERF_STREAM_CLOCK_*: under icount every time in the stream
 *                is in guest instructions, not ns
 *   tick_fs      femtoseconds per clock tick: per TSC cycle (wall) or per
 *                guest instruction (icount: 2^shift ns)
 *   rate         raw-record rate limit: records per second per CPU, 0 for
 *                unlimited, else PERF_RATE_MIN..PERF_RATE_MAX (100..5000).
 *                Not "1 in N": under a limit the records are a time-paced
 *                selection, and the statistics stay exact regardless
 *   buffer_records, buffer_mode, event_mask
 *                buffer size per CPU (records), PERF_STREAM_MODE_* (the
 *                engine's values: circular 0, saturate 1), bit n: event n on
 *   start_ns     when the agent started the stream
 *   flags        PERF_STREAM_META_F_*
 *   version      kernel version string, NUL-padded (not always terminated)
 */
struct perf_stream_meta {
	uint32_t clock;
	uint32_t ncpus;
	uint64_t tsc_hz;
	uint64_t tick_fs;
	uint32_t rate;
	uint32_t buffer_records;
	uint32_t buffer_mode;
	uint32_t event_mask;
	uint64_t start_ns;
	uint32_t flags;
	uint32_t reserved;
	char version[64];
	uint64_t reserved2;
};

#define PERF_STREAM_CLOCK_WALL 0
#define PERF_STREAM_CLOCK_ICOUNT 1

/* The engine's buffer modes (PERF_BUFFER_* of <mach/perf_monitor_types.h>). */
#define PERF_STREAM_MODE_CIRCULAR 0 /* full buffer: the oldest record is overwritten (lost) */
#define PERF_STREAM_MODE_SATURATE 1 /* full buffer: the newest record is refused (dropped) */

/* A timed record's ts_ns is the end of its interval (start = ts - duration);
 * without this flag ts_ns is the start. */
#define PERF_STREAM_META_F_TS_END 0x01

/*
 * RECORDS: struct perf_stream_records, then count struct perf_record.
 * The agent read them from CPU cpu's buffer with
 * perf_monitor_read_samples(cursor_before), which answered cursor_after
 * and one loss count.  The kernel loses records two ways:
 *
 *   lost     records that had a sequence number and are gone: overwritten
 *            (circular mode), skipped, discarded by a resize or a reset.
 *            They lie between the cursors: cursor_after - cursor_before
 *            equals count + lost exactly.
 *   dropped  records refused because a saturate-mode buffer was full.  They
 *            never got a sequence number, so the cursors do not show them.
 *
 * The kernel reports both as one number; the agent splits it by the cursor
 * arithmetic, which is exact per read: lost = cursor_after - cursor_before
 * - count, dropped = the kernel's number - lost.  A frame's cursor_before
 * equals the cursor_after of the previous RECORDS frame of the same cpu (a
 * larger one means records lost on the way).  A frame may carry no record
 * at all (only lost or dropped).  payload_len is exactly 40 + 32 * count
 * (version 1: 32 + 32 * count, no dropped field).
 */
struct perf_stream_records {
	uint64_t cursor_before;
	uint64_t cursor_after;
	uint64_t lost; /* with sequence numbers, between the cursors */
	uint32_t count;
	uint32_t cpu;     /* whose buffer: one cursor sequence per cpu, < 65536 */
	uint64_t dropped; /* version 2: without sequence numbers (saturate) */
};

#define PERF_STREAM_RECORDS_V1_SIZE 32 /* a version 1 header: up to cpu */

#define PERF_STREAM_MAX_RECORDS                                                                    \
	((PERF_STREAM_MAX_PAYLOAD - sizeof(struct perf_stream_records)) /                          \
	 sizeof(struct perf_record))

/*
 * STATS: struct perf_stream_stats, then nevents entries, each
 *   struct perf_event_stats   (120 bytes, <mach/perf_event.h>)
 *   struct perf_stream_hist   (16 bytes)
 *   nbuckets struct perf_stream_bucket, increasing and disjoint, whose
 *   counts add up to total (the overflow bin, if any, is the last bucket).
 * An event appears at most once per frame; a later STATS frame replaces the
 * events it carries.
 */
struct perf_stream_stats {
	uint32_t nevents;
	uint32_t reserved;
};

struct perf_stream_hist {
	uint64_t total;
	uint32_t nbuckets;
	uint32_t reserved;
};

struct perf_stream_bucket {
	uint64_t lo; /* values in [lo, hi], inclusive */
	uint64_t hi;
	uint64_t count;
};

/*
 * SYSTEM: struct perf_stream_system, then ncpus struct perf_stream_cpu.
 * Counters of the engine (records written = read + lost + buffered, where
 * lost counts dropped, overwritten, resized and reset records alike), the
 * scheduler and memory, system-wide and per CPU.  A later SYSTEM frame
 * replaces the earlier one.
 */
struct perf_stream_system {
	uint32_t flags; /* PERF_STREAM_SYS_F_* */
	uint32_t ncpus; /* entries that follow */
	uint32_t rate;  /* as in META */
	uint32_t buffer_records;
	uint32_t buffer_mode;
	uint32_t event_mask;
	uint32_t tasks; /* alive now */
	uint32_t threads;
	uint64_t tsc_hz;
	uint64_t uptime_ns;
	uint64_t interval_ns; /* recording time since the last reset */
	uint64_t events;      /* counted in statistics since the last reset */
	uint64_t written;     /* raw records offered to the buffers */
	uint64_t read;        /* ... handed to readers */
	uint64_t lost;        /* ... lost (dropped, overwritten, resized, reset) */
	uint64_t buffered;    /* ... waiting to be read */
	uint64_t sampled_out; /* events the rate limit kept out of the buffers */
	uint64_t free_pages;
	uint64_t total_pages;
	uint64_t cost_record_ns; /* calibrated cost of one recorded event */
};

#define PERF_STREAM_SYS_F_ENABLED 0x01
#define PERF_STREAM_SYS_F_ICOUNT 0x02
#define PERF_STREAM_SYS_F_BASELINE 0x04

struct perf_stream_cpu {
	uint64_t busy_ns; /* since boot */
	uint64_t idle_ns;
	uint64_t interrupts;
	uint64_t context_switches;
	uint64_t events; /* since the last reset */
	uint64_t written;
	uint64_t lost;
	uint64_t buffered;
};

/*
 * TASKS: struct perf_stream_tasks, then ntasks struct perf_stream_task,
 * then nthreads struct perf_stream_thread.  Names tracks in traces; later
 * frames update entries by id.  cpu_ns is the task's CPU time (0: unknown).
 */
struct perf_stream_tasks {
	uint32_t ntasks;
	uint32_t nthreads;
};

#define PERF_STREAM_NAME_MAX 32

struct perf_stream_task {
	uint32_t id;
	uint32_t nthreads;
	uint64_t cpu_ns;
	uint64_t resident_pages;
	char name[PERF_STREAM_NAME_MAX]; /* NUL-padded, not always terminated */
};

struct perf_stream_thread {
	uint32_t id;
	uint32_t task;
};

/*
 * END: the agent's totals for the stream, then ncpus struct
 * perf_stream_range: for each cpu it read, its first and last cursor.
 * read = records sent in RECORDS frames; lost and dropped = the sums of
 * their lost and dropped fields; written = the records the kernel was
 * offered while the stream ran = the sum of (last_cursor - first_cursor)
 * + dropped.  The books balance exactly:
 *
 *	written = read + lost + dropped,  sum of ranges = read + lost.
 *
 * payload_len is 40 + 24 * ncpus (version 1: 32 + 24 * ncpus, no dropped
 * field).  Without an END frame a stream is incomplete.
 */
struct perf_stream_end {
	uint64_t written;
	uint64_t read;
	uint64_t lost;
	uint32_t ncpus;
	uint32_t reserved;
	uint64_t dropped; /* version 2 */
};

#define PERF_STREAM_END_V1_SIZE 32 /* a version 1 END: up to reserved */

struct perf_stream_range {
	uint32_t cpu;
	uint32_t reserved;
	uint64_t first_cursor;
	uint64_t last_cursor;
};

_Static_assert(sizeof(struct perf_stream_header) == PERF_STREAM_HDR_SIZE, "header size");
_Static_assert(offsetof(struct perf_stream_header, type) == 6, "header type");
_Static_assert(offsetof(struct perf_stream_header, seq) == 8, "header seq");
_Static_assert(offsetof(struct perf_stream_header, payload_len) == 12, "header len");
_Static_assert(offsetof(struct perf_stream_header, crc32) == 20, "header crc");
_Static_assert(sizeof(struct perf_stream_meta) == 128, "meta size");
_Static_assert(offsetof(struct perf_stream_meta, tick_fs) == 16, "meta tick_fs");
_Static_assert(offsetof(struct perf_stream_meta, start_ns) == 40, "meta start_ns");
_Static_assert(offsetof(struct perf_stream_meta, version) == 56, "meta version");
_Static_assert(sizeof(struct perf_stream_records) == 40, "records size");
_Static_assert(offsetof(struct perf_stream_records, count) == 24, "records count");
_Static_assert(offsetof(struct perf_stream_records, dropped) == PERF_STREAM_RECORDS_V1_SIZE,
               "records: version 1 is a prefix");
_Static_assert(PERF_STREAM_MAX_RECORDS == 32766, "records per frame");
_Static_assert(sizeof(struct perf_stream_stats) == 8, "stats size");
_Static_assert(sizeof(struct perf_stream_hist) == 16, "hist size");
_Static_assert(sizeof(struct perf_stream_bucket) == 24, "bucket size");
_Static_assert(sizeof(struct perf_stream_tasks) == 8, "tasks size");
_Static_assert(sizeof(struct perf_stream_task) == 56, "task size");
_Static_assert(offsetof(struct perf_stream_task, name) == 24, "task name");
_Static_assert(sizeof(struct perf_stream_thread) == 8, "thread size");
_Static_assert(sizeof(struct perf_stream_system) == 128, "system size");
_Static_assert(offsetof(struct perf_stream_system, tsc_hz) == 32, "system tsc_hz");
_Static_assert(offsetof(struct perf_stream_system, cost_record_ns) == 120, "system cost");
_Static_assert(sizeof(struct perf_stream_cpu) == 64, "cpu size");
_Static_assert(sizeof(struct perf_stream_end) == 40, "end size");
_Static_assert(offsetof(struct perf_stream_end, dropped) == PERF_STREAM_END_V1_SIZE,
               "end: version 1 is a prefix");
_Static_assert(sizeof(struct perf_stream_range) == 24, "range size");

#endif /* MACH_PERF_STREAM_H */
