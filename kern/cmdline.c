#include <stddef.h>

#include "kern/cmdline.h"
#include "kern/printf.h"
#include "kern/string.h"

static char cmdline_buf[CMDLINE_MAX];   /* the raw line */
static char cmdline_split[CMDLINE_MAX]; /* the same, NUL-separated */
static const char *cmdline_keys[CMDLINE_MAX_WORDS];
static const char *cmdline_vals[CMDLINE_MAX_WORDS];
static int cmdline_nwords;

/* Is w (up to the next blank) free of '='? */
static bool kc_word_is_path(const char *w)
{
	for (; *w && *w != ' ' && *w != '\t'; w++)
		if (*w == '=')
			return false;
	return true;
}

void cmdline_init(const char *line)
{
	cmdline_nwords = 0;
	strlcpy(cmdline_buf, line ? line : "", sizeof(cmdline_buf));
	memcpy(cmdline_split, cmdline_buf, sizeof(cmdline_split));

	char *p = cmdline_split;
	bool first = true;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (cmdline_nwords == CMDLINE_MAX_WORDS) {
			kprintf("cmdline: more than %d words; ignoring the rest\n",
			        CMDLINE_MAX_WORDS);
			break;
		}
		/* Boot loaders put the kernel's file name first: skip it. */
		if (first && kc_word_is_path(p)) {
			first = false;
			while (*p && *p != ' ' && *p != '\t')
				p++;
			continue;
		}
		first = false;
		cmdline_keys[cmdline_nwords] = p;
		cmdline_vals[cmdline_nwords] = "1";
		while (*p && *p != ' ' && *p != '\t' && *p != '=')
			p++;
		if (*p == '=') {
			*p++ = '\0';
			cmdline_vals[cmdline_nwords] = p;
			while (*p && *p != ' ' && *p != '\t')
				p++;
		}
		cmdline_nwords++;
	}
}

const char *cmdline_raw(void)
{
	return cmdline_buf;
}

const char *cmdline_get(const char *key)
{
	/* The last occurrence wins, as with most boot loaders' appended words. */
	for (int i = cmdline_nwords - 1; i >= 0; i--)
		if (strcmp(cmdline_keys[i], key) == 0)
			return cmdline_vals[i];
	return NULL;
}

bool cmdline_has(const char *key)
{
	return cmdline_get(key) != NULL;
}

uint64_t cmdline_get_u64(const char *key, uint64_t def)
{
	const char *s = cmdline_get(key);
	uint64_t v = 0;
	unsigned base = 10;

	if (!s || !*s)
		return def;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return def;
	}
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else {
			kprintf("cmdline: %s=%s is not a number; using %lu\n", key,
			        cmdline_get(key), def);
			return def;
		}
		if (v > (UINT64_MAX - d) / base)
			return def;
		v = v * base + d;
	}
	return v;
}
