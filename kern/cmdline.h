/*
 * The kernel command line: space-separated key=value words (a bare key
 * means "1"), e.g. "ktest=vm.* hz=250".
 */
#ifndef KERN_CMDLINE_H
#define KERN_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

/* Copies the line (truncated to CMDLINE_MAX - 1 bytes) and splits it. */
void cmdline_init(const char *line);
const char *cmdline_raw(void);
/* The value of key, or NULL when the key is absent. */
const char *cmdline_get(const char *key);
/* The value as an unsigned number (decimal or 0x hex); def when absent or malformed. */
uint64_t cmdline_get_u64(const char *key, uint64_t def);
bool cmdline_has(const char *key);

#define CMDLINE_MAX 512
#define CMDLINE_MAX_WORDS 32

#endif
