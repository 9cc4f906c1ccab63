/*
 * memcpy and memset (kern/string.c): every length 0..40 at every
 * alignment 0..7 of source and destination, against a byte loop, with
 * guard bytes on both sides; and whole pages, as the fault path zeroes
 * and copies them.
 */
#include <stdint.h>

#include "kern/ktest.h"
#include "kern/string.h"

#define STR_MAXLEN 40
#define STR_BUF (STR_MAXLEN + 32)

static uint8_t str_src[STR_BUF], str_dst[STR_BUF], str_ref[STR_BUF];

static void str_fill(uint8_t *b, uint8_t seed)
{
	for (unsigned i = 0; i < STR_BUF; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

KTEST(string, memcpy_lengths_and_alignments)
{
	unsigned bad = 0;

	for (unsigned so = 0; so < 8; so++)
		for (unsigned d = 0; d < 8; d++)
			for (unsigned n = 0; n <= STR_MAXLEN; n++) {
				str_fill(str_src, 1);
				str_fill(str_dst, 100);
				str_fill(str_ref, 100);
				for (unsigned i = 0; i < n; i++)
					str_ref[8 + d + i] = str_src[8 + so + i];
				void *r = memcpy(str_dst + 8 + d, str_src + 8 + so, n);

				if (r != str_dst + 8 + d ||
				    memcmp(str_dst, str_ref, STR_BUF) != 0) {
					if (bad++ == 0)
						ktest_diag(kt, "memcpy(dst+%u, src+%u, %u) wrong",
						           d, so, n);
				}
			}
	KT_EXPECT_EQ(kt, bad, 0);
}

KTEST(string, memset_lengths_and_alignments)
{
	unsigned bad = 0;

	for (unsigned d = 0; d < 8; d++)
		for (unsigned n = 0; n <= STR_MAXLEN; n++) {
			int c = n & 1 ? 0xa5 : 0x100 + 0x3c; /* only the low byte counts */

			str_fill(str_dst, 100);
			str_fill(str_ref, 100);
			for (unsigned i = 0; i < n; i++)
				str_ref[8 + d + i] = (uint8_t)c;
			void *r = memset(str_dst + 8 + d, c, n);

			if (r != str_dst + 8 + d || memcmp(str_dst, str_ref, STR_BUF) != 0) {
				if (bad++ == 0)
					ktest_diag(kt, "memset(dst+%u, %#x, %u) wrong", d, c, n);
			}
		}
	KT_EXPECT_EQ(kt, bad, 0);
}

static uint8_t str_page[2][4096 + 16];

KTEST(string, whole_pages)
{
	uint8_t *a = str_page[0] + 8, *b = str_page[1] + 8;

	memset(str_page, 0x77, sizeof(str_page));
	memset(a, 0, 4096);
	KT_EXPECT_EQ(kt, a[-1], 0x77);
	KT_EXPECT_EQ(kt, a[0], 0);
	KT_EXPECT_EQ(kt, a[4095], 0);
	KT_EXPECT_EQ(kt, a[4096], 0x77);
	for (unsigned i = 0; i < 4096; i++)
		a[i] = (uint8_t)(i * 13 + 5);
	memcpy(b, a, 4096);
	KT_EXPECT_EQ(kt, memcmp(a, b, 4096), 0);
	KT_EXPECT_EQ(kt, b[-1], 0x77);
	KT_EXPECT_EQ(kt, b[4096], 0x77);
}
