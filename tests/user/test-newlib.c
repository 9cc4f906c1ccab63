/*
 * newlib on machperf: formatted output, malloc/free/realloc on the
 * sbrk heap, qsort, setjmp/longjmp, number parsing, libm, errno, and
 * the console glue.  Built with -fno-builtin so gcc cannot fold the
 * calls under test.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mach/mach_traps.h>

#include "libktap.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---- formatted output ---- */

static int fmt_bad;

static void fmt_expect(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		ktap_diag("%s: got \"%s\", want \"%s\"", what, got, want);
		fmt_bad++;
	}
}

#define FMT(want, ...)                                                                             \
	do {                                                                                       \
		char buf_[128];                                                                    \
		snprintf(buf_, sizeof(buf_), __VA_ARGS__);                                         \
		fmt_expect(#__VA_ARGS__, buf_, want);                                              \
	} while (0)

static void test_snprintf_integers(void)
{
	volatile unsigned long long big = 0xdeadbeefcafebabeull;
	volatile size_t sz = 123456789012ul;
	volatile long long neg = -9223372036854775807ll - 1;
	volatile int i = 42;

	fmt_bad = 0;
	FMT("deadbeefcafebabe", "%llx", big);
	FMT("DEADBEEFCAFEBABE", "%llX", big);
	FMT("123456789012", "%zu", sz);
	FMT("-9223372036854775808", "%lld", neg);
	FMT("18446744073709551615", "%llu", (unsigned long long)-1);
	FMT("[   42|42   |00042|+42]", "[%5d|%-5d|%05d|%+d]", i, i, i, i);
	FMT("0x2a 052 2a", "%#x %#o %x", i, i, i);
	FMT("-128 255", "%hhd %hhu", (signed char)-128, (unsigned char)255);
	FMT("9223372036854775807", "%jd", (intmax_t)INT64_MAX);
	FMT("-5", "%td", (ptrdiff_t)-5);
	FMT("a|  xyz|xy|%", "%c|%5s|%.2s|%%", 'a', "xyz", "xyz");
	ktap_ok(fmt_bad == 0, "snprintf_integers");
}

static void test_snprintf_floats(void)
{
	volatile double pi = 3.14159265358979;
	volatile double big = 12345.678;
	volatile double tiny = 1e-5;

	fmt_bad = 0;
	FMT("3.141593", "%f", pi);
	FMT("3.14", "%.2f", pi);
	FMT("-003.500", "%08.3f", -3.5);
	FMT("1.235e+04", "%.3e", big);
	FMT("1.234568E+04", "%E", big);
	FMT("0.0001", "%g", 0.0001);
	FMT("1e-05", "%g", tiny);
	FMT("1.23457e+08", "%g", 123456789.0);
	FMT("100000", "%g", 100000.0);
	FMT("1e+06", "%g", 1000000.0);
	FMT("0.5 0.25 0.125", "%g %g %g", 0.5, 0.25, 0.125);
	FMT("inf -inf nan", "%f %f %f", HUGE_VAL, -HUGE_VAL, NAN);
	FMT("2.5", "%.1f", 2.5);
	FMT("1.797693e+308", "%e", 1.7976931348623157e308);
	ktap_ok(fmt_bad == 0, "snprintf_floats");
}

static void test_snprintf_truncation(void)
{
	char buf[8];
	int n;

	memset(buf, 'x', sizeof(buf));
	n = snprintf(buf, 4, "hello");
	ktap_ok(n == 5 && strcmp(buf, "hel") == 0 && buf[4] == 'x', "snprintf_truncation");
}

/* ---- the heap ---- */

#define SLOTS 256

static uint8_t slot_tag(int slot, size_t i)
{
	return (uint8_t)(slot * 31 + i * 7 + 1);
}

static void slot_fill(uint8_t *p, size_t n, int slot)
{
	for (size_t i = 0; i < n; i++)
		p[i] = slot_tag(slot, i);
}

static int slot_check(const uint8_t *p, size_t n, int slot)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != slot_tag(slot, i))
			return 0;
	return 1;
}

static void test_malloc_stress(void)
{
	static uint8_t *ptr[SLOTS];
	static size_t len[SLOTS];
	int bad = 0, misaligned = 0, nulls = 0;

	for (int iter = 0; iter < 20000; iter++) {
		int s = rng() % SLOTS;

		if (ptr[s]) {
			if (!slot_check(ptr[s], len[s], s))
				bad++;
			free(ptr[s]);
			ptr[s] = NULL;
			continue;
		}
		len[s] = (rng() % 16 == 0) ? 16384 + rng() % 200000 : 1 + rng() % 2048;
		ptr[s] = malloc(len[s]);
		if (!ptr[s]) {
			nulls++;
			continue;
		}
		if ((uintptr_t)ptr[s] % 16 != 0)
			misaligned++;
		slot_fill(ptr[s], len[s], s);
	}
	for (int s = 0; s < SLOTS; s++) {
		if (ptr[s] && !slot_check(ptr[s], len[s], s))
			bad++;
		free(ptr[s]);
		ptr[s] = NULL;
	}
	if (bad || misaligned || nulls)
		ktap_diag("corrupted %d, misaligned %d, failed %d", bad, misaligned, nulls);
	ktap_ok(!bad && !misaligned && !nulls, "malloc_free_stress");
}

static void test_realloc(void)
{
	uint8_t *p = malloc(100), *q;
	int ok = p != NULL;

	if (ok) {
		slot_fill(p, 100, 3);
		q = realloc(p, 300000); /* grows: moves or extends */
		ok = q && slot_check(q, 100, 3);
		if (q) {
			slot_fill(q, 300000, 4);
			p = realloc(q, 50); /* shrinks in place or moves */
			ok = ok && p && slot_check(p, 50, 4);
			q = p ? p : q;
		}
		free(q);
	}
	ktap_ok(ok, "realloc_keeps_contents");
}

static void test_calloc_zero(void)
{
	size_t n = 1 << 20;
	uint8_t *p = calloc(n, 1);
	int ok = p != NULL;

	for (size_t i = 0; ok && i < n; i += 509)
		ok = p[i] == 0;
	free(p);
	ktap_ok(ok, "calloc_returns_zeroes");
}

static void test_heap_limit(void)
{
	void *p;

	errno = 0;
	p = malloc((size_t)1 << 30); /* beyond the 64 MiB heap */
	ktap_ok(p == NULL && errno == ENOMEM, "malloc_beyond_heap_fails_enomem");
	free(p);
	p = malloc(32u << 20);
	if (p) {
		/* Touch one byte per page: demand-zero pages come in as needed. */
		for (size_t i = 0; i < (32u << 20); i += 4096)
			((volatile char *)p)[i] = 1;
	}
	ktap_ok(p != NULL, "malloc_32MiB");
	free(p);
}

/* ---- qsort ---- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static void test_qsort(void)
{
	enum { N = 10000 };
	int *v = malloc(N * sizeof(*v));
	uint64_t sum = 0, xr = 0, sum2 = 0, xr2 = 0;
	int ok = v != NULL;

	for (int i = 0; ok && i < N; i++) {
		v[i] = (int)(rng() % 100000) - 50000;
		sum += (uint32_t)v[i];
		xr ^= (uint64_t)(uint32_t)v[i] * 0x9e3779b1u;
	}
	if (ok) {
		qsort(v, N, sizeof(*v), cmp_int);
		for (int i = 0; i < N; i++) {
			sum2 += (uint32_t)v[i];
			xr2 ^= (uint64_t)(uint32_t)v[i] * 0x9e3779b1u;
			if (i > 0 && v[i - 1] > v[i])
				ok = 0;
		}
	}
	ktap_ok(ok && sum == sum2 && xr == xr2, "qsort_sorts_random_data");
	free(v);
}

/* ---- setjmp/longjmp ---- */

static jmp_buf jb;
static int jb_depth;

static void __attribute__((noinline)) jump_from(int depth, int val)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	jb_depth = pad[0];
	if (depth < 0)
		return;
	if (depth == 0)
		longjmp(jb, val);
	jump_from(depth - 1, val);
}

static void test_setjmp(void)
{
	volatile int counter = 0;
	int r;

	r = setjmp(jb);
	counter++;
	if (r == 0)
		jump_from(20, 7);
	volatile int ok = r == 7 && counter == 2 && jb_depth == 0;

	r = setjmp(jb);
	if (r == 0)
		longjmp(jb, 0); /* 0 comes back as 1 */
	ok = ok && r == 1;
	ktap_ok(ok, "setjmp_longjmp");
}

/* ---- number parsing ---- */

static void test_strtol(void)
{
	char *end;
	int ok = 1;

	ok &= strtol("  -12345xyz", &end, 10) == -12345 && strcmp(end, "xyz") == 0;
	ok &= strtol("0x7fffffff", NULL, 0) == 0x7fffffff;
	ok &= strtol("0777", NULL, 0) == 0777;
	ok &= strtol("zz", NULL, 36) == 35 * 36 + 35;
	ok &= strtoul("18446744073709551615", NULL, 10) == ULONG_MAX;
	errno = 0;
	ok &= strtol("99999999999999999999", NULL, 10) == LONG_MAX && errno == ERANGE;
	errno = 0;
	ok &= strtoll("-9223372036854775808", NULL, 10) == LLONG_MIN && errno == 0;
	ok &= strtol("abc", &end, 10) == 0 && strcmp(end, "abc") == 0;
	ok &= atoi("  314") == 314;
	ktap_ok(ok, "strtol_family");
}

static void test_strtod(void)
{
	char *end;
	int ok = 1;

	ok &= strtod("3.25e2", &end) == 325.0 && *end == '\0';
	ok &= strtod("-0.125", NULL) == -0.125;
	ok &= strtod("0.1", NULL) == 0.1;
	ok &= strtod("1e-310", NULL) == 1e-310; /* subnormal */
	errno = 0;
	ok &= strtod("1e400", NULL) == HUGE_VAL && errno == ERANGE;
	ok &= isnan(strtod("nan", NULL));
	ok &= strtod("  12.5abc", &end) == 12.5 && strcmp(end, "abc") == 0;
	ok &= atof("2.5") == 2.5;
	ktap_ok(ok, "strtod");
}

/* ---- libm ---- */

static void test_libm(void)
{
	volatile double two = 2.0, nine = 9.0, x = 0.5;
	int ok = 1;

	ok &= sqrt(nine) == 3.0;
	ok &= pow(two, 10) == 1024.0;
	ok &= ldexp(1.0, -3) == 0.125;
	ok &= floor(-2.5) == -3.0 && ceil(-2.5) == -2.0 && trunc(2.7) == 2.0;
	ok &= fabs(sin(x) * sin(x) + cos(x) * cos(x) - 1.0) < 1e-15;
	ok &= fabs(exp(log(nine)) - 9.0) < 1e-14;
	ok &= fabs(atan(1.0) * 4 - 3.14159265358979323846) < 1e-15;
	ktap_ok(ok, "libm");
}

/* ---- crt0: constructors, atexit ---- */

static int ctor_ran;

__attribute__((constructor)) static void ctor(void)
{
	ctor_ran = 1;
}

/* Not checkable from inside; its line shows that exit() ran the handlers. */
static void at_exit(void)
{
	mach_print("# atexit handler ran\n");
}

/* ---- the glue itself ---- */

static void test_glue(void)
{
	int ok = 1;

	errno = 0;
	ok &= write(5, "x", 1) == -1 && errno == EBADF;
	errno = 0;
	ok &= isatty(1) == 1 && isatty(7) == 0 && errno == EBADF;
	errno = 0;
	ok &= lseek(1, 0, SEEK_SET) == -1 && errno == ESPIPE;
	ok &= write(1, "", 0) == 0;
	ok &= printf("# printf through newlib stdio: %d %s\n", 42, "ok") ==
	      (int)strlen("# printf through newlib stdio: 42 ok\n");
	ok &= fflush(stdout) == 0;
	ok &= fprintf(stderr, "# fprintf to stderr\n") == 20;
	ok &= getpid() > 0;
	ktap_ok(ok, "console_glue_and_errno");
}

extern char **environ;

int main(int argc, char **argv)
{
	ktap_plan(16);
	ktap_ok(argc >= 1 && argv[0] != NULL && argv[argc] == NULL && environ == argv + argc + 1,
	        "argv_from_initial_stack");
	ktap_ok(ctor_ran && atexit(at_exit) == 0, "constructors_ran");
	test_snprintf_integers();
	test_snprintf_floats();
	test_snprintf_truncation();
	test_malloc_stress();
	test_realloc();
	test_calloc_zero();
	test_heap_limit();
	test_qsort();
	test_setjmp();
	test_strtol();
	test_strtod();
	test_libm();
	test_glue();
	return ktap_done();
}
