/*
 * Where perfctl's answers go, and how they are written: one JSON line
 * per command, built in a buffer and sent with one write, on the host
 * channel in serve mode or the console in argv mode.  Channel input too.
 * A stream the host asked to receive on the bulk channel (the ivshmem
 * ring, <mach/perf_shm.h>) goes there instead, between pc_out_bulk(true)
 * and pc_out_bulk(false); JSON lines always take COM2.
 */
#include <mach/kern_return.h>
#include <mach/mach_error.h>
#include <mach/syscall_sw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "perfctl.h"

#define PC_JSON_MAX 32768

static bool pc_channel;
static bool pc_bulk; /* streams go to the ivshmem ring */
static char pc_json[PC_JSON_MAX];
static size_t pc_json_len;
static char pc_in_buf[4096];
static size_t pc_in_pos, pc_in_end;

static long pc_trap4(long nr, long a0, long a1, long a2, long a3)
{
	long r;
	register long r10 __asm__("r10") = a3;

	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
	                 : "rcx", "r11", "memory");
	return r;
}

long pc_hostchan_write(const void *buf, size_t len)
{
	return pc_trap4(MACH_TRAP_hostchan_write, pc_host_priv, (long)buf, (long)len, 0);
}

long pc_hostchan_read(void *buf, size_t len, unsigned timeout_ms)
{
	return pc_trap4(MACH_TRAP_hostchan_read, pc_host_priv, (long)buf, (long)len, timeout_ms);
}

long pc_hostchan_bulk_write(const void *buf, size_t len)
{
	return pc_trap4(MACH_TRAP_hostchan_bulk_write, pc_host_priv, (long)buf, (long)len, 0);
}

void pc_out_bulk(bool on)
{
	pc_bulk = on;
}

void pc_out_channel(bool on)
{
	pc_channel = on;
}

bool pc_out_is_channel(void)
{
	return pc_channel;
}

bool pc_out_bytes(const void *buf, size_t len)
{
	if (!pc_channel) {
		fwrite(buf, 1, len, stdout);
		fflush(stdout);
		return true;
	}
	if (pc_bulk)
		return pc_hostchan_bulk_write(buf, len) == (long)len;
	return pc_hostchan_write(buf, len) == (long)len;
}

void pc_json_begin(void)
{
	pc_json_len = 0;
	pc_json[0] = '\0';
}

static void pc_json_vadd(const char *fmt, va_list ap)
{
	if (pc_json_len >= PC_JSON_MAX - 1)
		return;
	int n = vsnprintf(pc_json + pc_json_len, PC_JSON_MAX - pc_json_len, fmt, ap);

	if (n > 0)
		pc_json_len += (size_t)n < PC_JSON_MAX - pc_json_len
		                   ? (size_t)n
		                   : PC_JSON_MAX - 1 - pc_json_len;
}

void pc_json_raw(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_json_vadd(fmt, ap);
	va_end(ap);
}

static void pc_json_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			pc_json_raw("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			pc_json_raw("\\u%04x", c);
		else
			pc_json_raw("%c", c);
	}
}

void pc_json_str(const char *key, const char *val)
{
	pc_json_raw(",\"%s\":\"", key);
	pc_json_escaped(val);
	pc_json_raw("\"");
}

void pc_json_u64(const char *key, uint64_t v)
{
	pc_json_raw(",\"%s\":%llu", key, (unsigned long long)v);
}

void pc_json_i64(const char *key, int64_t v)
{
	pc_json_raw(",\"%s\":%lld", key, (long long)v);
}

void pc_json_bool(const char *key, bool v)
{
	pc_json_raw(",\"%s\":%s", key, v ? "true" : "false");
}

void pc_json_end(void)
{
	if (pc_json_len >= PC_JSON_MAX - 2) {
		/* Never a cut-off line: the host would misread it. */
		pc_json_begin();
		pc_json_raw("{\"ok\":false,\"error\":\"KERN_RESOURCE_SHORTAGE\","
		            "\"message\":\"the answer does not fit in %u bytes\"}",
		            PC_JSON_MAX);
	}
	pc_json[pc_json_len++] = '\n';
	pc_out_bytes(pc_json, pc_json_len);
	pc_json_begin();
}

void pc_json_error(kern_return_t kr, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pc_json_begin();
	pc_json_raw("{\"ok\":false");
	pc_json_str("error", mach_error_name(kr));
	pc_json_i64("code", kr);
	pc_json_str("message", msg);
	pc_json_raw("}");
	pc_json_end();
}

/* Refills the input buffer; false on a channel error. */
static bool pc_in_fill(unsigned timeout_ms)
{
	long n = pc_hostchan_read(pc_in_buf, sizeof(pc_in_buf), timeout_ms);

	if (n < 0)
		return false;
	pc_in_pos = 0;
	pc_in_end = (size_t)n;
	return true;
}

bool pc_in_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		while (pc_in_pos < pc_in_end) {
			char c = pc_in_buf[pc_in_pos++];

			if (c == '\n') {
				buf[n < size ? n : size - 1] = '\0';
				if (n > 0 && buf[n - 1] == '\r')
					buf[n - 1] = '\0';
				return true;
			}
			if (n + 1 < size)
				buf[n++] = c;
		}
		if (!pc_in_fill(60000))
			return false;
	}
}

bool pc_in_bytes(void *buf, size_t len, unsigned timeout_ms)
{
	unsigned char *p = buf;
	size_t n = 0;
	unsigned waited = 0;

	while (n < len) {
		if (pc_in_pos < pc_in_end) {
			size_t k =
			    pc_in_end - pc_in_pos < len - n ? pc_in_end - pc_in_pos : len - n;

			memcpy(p + n, pc_in_buf + pc_in_pos, k);
			pc_in_pos += k;
			n += k;
			continue;
		}
		if (waited >= timeout_ms || !pc_in_fill(100))
			return false;
		if (pc_in_end == 0)
			waited += 100;
	}
	return true;
}
