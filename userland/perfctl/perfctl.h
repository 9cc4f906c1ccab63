/*
 * perfctl, the guest's perf control agent (docs/perf-analysis.md): the
 * parts shared by its files.
 *
 *	perfctl.c	commands, argv and serve loop
 *	pc_out.c	where answers go (the host channel or the console), JSON
 *	pc_stream.c	framed binary streams (<mach/perf_stream.h>)
 */
#ifndef USERLAND_PERFCTL_H
#define USERLAND_PERFCTL_H

#include <mach/kern_return.h>
#include <mach/perf_monitor_types.h>
#include <mach/port.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The agent's ports: host_priv for control, host for statistics (may be the same). */
extern mach_port_t pc_host_priv, pc_host;

/* ---- pc_out.c ---- */

/* Answers go to the host channel (true) or the console (false, argv mode). */
void pc_out_channel(bool on);
bool pc_out_is_channel(void);
/* Raw bytes (streams) go to the ivshmem ring while on (the channel must be on). */
void pc_out_bulk(bool on);
/* Raw bytes to the answer's destination; false when the channel failed. */
bool pc_out_bytes(const void *buf, size_t len);
/* A JSON answer is built in one buffer and sent as one line by pc_json_end. */
void pc_json_begin(void);
void pc_json_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pc_json_str(const char *key, const char *val); /* ,"key":"val" (escaped) */
void pc_json_u64(const char *key, uint64_t v);
void pc_json_i64(const char *key, int64_t v);
void pc_json_bool(const char *key, bool v);
void pc_json_end(void);
/* {"ok":false,"error":"KERN_...","message":"..."} */
void pc_json_error(kern_return_t kr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Channel input (serve mode): reads a line (without '\n'), false at a channel error. */
bool pc_in_line(char *buf, size_t size);
/* Exactly len bytes within timeout_ms in all; false otherwise. */
bool pc_in_bytes(void *buf, size_t len, unsigned timeout_ms);
/* The traps (<mach/syscall_sw.h>). */
long pc_hostchan_write(const void *buf, size_t len);
long pc_hostchan_read(void *buf, size_t len, unsigned timeout_ms);
/* The ring's capacity with len 0, -KERN_FAILURE without the device. */
long pc_hostchan_bulk_write(const void *buf, size_t len);

/* ---- pc_stream.c ---- */

/* Records read per cursor since the agent started, for every CPU. */
struct pc_cursor {
	uint64_t cursor[PERF_SYS_MAX_CPUS];
};
extern struct pc_cursor pc_cursors;

/*
 * Sends one complete stream on the answer's destination: META, then
 * RECORDS drained from every CPU's buffer for secs seconds (0: until
 * caught up), and with full also TASKS, STATS and SYSTEM, then END.
 * Fills *records / *lost.  KERN_SUCCESS or the first RPC error (the
 * stream still ends with END, marked by its totals).
 */
kern_return_t pc_stream_send(unsigned secs, bool full, uint64_t *records, uint64_t *lost,
                             uint64_t *bytes);

/* Frees out-of-line data an RPC returned. */
void pc_vm_free(const void *addr, size_t size);

#endif
