/*
 * String and memory functions.
 *
 * memcpy and memset move the bulk eight bytes per `rep` iteration and
 * only the tail (< 8 bytes) one byte at a time: under icount QEMU counts
 * every iteration of a `rep` string instruction, so a byte-wise `rep
 * stosb` of a page costs 4,096 guest instructions and `rep stosq` 512
 * (docs/benchmarks.md).  Alignment does not matter for correctness on
 * x86; the unaligned case is simply what it is.
 */
#include <stdint.h>

#include "kern/string.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;
	size_t q = n >> 3, t = n & 7;

	__asm__ volatile("rep movsq\n\t"
	                 "movq %3, %%rcx\n\t"
	                 "rep movsb"
	                 : "+D"(dst), "+S"(src), "+c"(q)
	                 : "r"(t)
	                 : "memory");
	return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *ret = dst;
	uint64_t v = (uint8_t)c * 0x0101010101010101ull;
	size_t q = n >> 3, t = n & 7;

	__asm__ volatile("rep stosq\n\t"
	                 "movq %3, %%rcx\n\t"
	                 "rep stosb"
	                 : "+D"(dst), "+c"(q)
	                 : "a"(v), "r"(t)
	                 : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t m = n < size - 1 ? n : size - 1;

		memcpy(dst, src, m);
		dst[m] = '\0';
	}
	return n;
}
