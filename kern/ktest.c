/*
 * The ktest runner.  See ktest.h for the contract; the harness
 * (scripts/ktest-run.py) parses what this prints.
 */
#include <stdarg.h>
#include <stddef.h>

#include "kern/cmdline.h"
#include "kern/ktest.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "x86_64/machine.h"

extern const struct ktest_case __ktest_start[], __ktest_end[];

/* Resource counters; the allocators provide the real ones. */
__attribute__((weak)) uint64_t vm_page_free_count(void)
{
	return 0;
}

__attribute__((weak)) uint64_t kalloc_objects_in_use(void)
{
	return 0;
}

bool ktest_glob(const char *pat, const char *s)
{
	while (*pat) {
		if (*pat == '*') {
			while (*pat == '*')
				pat++;
			if (!*pat)
				return true;
			for (; *s; s++)
				if (ktest_glob(pat, s))
					return true;
			return false;
		}
		if (!*s || (*pat != '?' && *pat != *s))
			return false;
		pat++;
		s++;
	}
	return !*s;
}

bool ktest_check(struct ktest_ctx *kt, bool ok, const char *file, int line, const char *what)
{
	if (!ok) {
		kt->failed = true;
		kprintf("    # %s.%s: %s:%d: expected %s\n", kt->suite, kt->name, file, line, what);
	}
	return ok;
}

bool ktest_check_eq(struct ktest_ctx *kt, uint64_t a, uint64_t b, const char *as, const char *bs,
                    const char *file, int line)
{
	if (a != b) {
		kt->failed = true;
		kprintf("    # %s.%s: %s:%d: expected %s == %s, got %lu (%#lx) != %lu (%#lx)\n",
		        kt->suite, kt->name, file, line, as, bs, a, a, b, b);
	}
	return a == b;
}

void ktest_diag(struct ktest_ctx *kt, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kprintf("    # %s.%s: %s\n", kt->suite, kt->name, buf);
}

void ktest_skip(struct ktest_ctx *kt, const char *reason)
{
	kt->skip_reason = reason;
}

/* Does one comma-separated pattern of the ktest= value match? */
static bool kt_matches(const char *patterns, const char *suite, const char *name)
{
	char pat[64], full[128];
	bool selftest = strncmp(suite, "selftest_", 9) == 0;

	ksnprintf(full, sizeof(full), "%s.%s", suite, name ? name : "");
	while (*patterns) {
		size_t n = 0;

		while (patterns[n] && patterns[n] != ',')
			n++;
		if (n < sizeof(pat)) {
			memcpy(pat, patterns, n);
			pat[n] = '\0';
			bool all = strcmp(pat, "all") == 0;

			/* Self-tests run only when a pattern names them. */
			if (selftest && strncmp(pat, "selftest_", 9) != 0)
				;
			else if (all || ktest_glob(pat, suite) || (name && ktest_glob(pat, full)) ||
			         (!name && strchr(pat, '.') &&
			          strncmp(pat, full, strlen(suite) + 1) == 0))
				return true;
		}
		patterns += n;
		if (*patterns == ',')
			patterns++;
	}
	return false;
}

static bool kt_case_selected(const char *patterns, const struct ktest_case *c)
{
	return kt_matches(patterns, c->suite, c->name);
}

/* Is c the first case of its suite in section order? */
static bool kt_first_of_suite(const struct ktest_case *c, const char *patterns)
{
	for (const struct ktest_case *p = __ktest_start; p < c; p++)
		if (strcmp(p->suite, c->suite) == 0 && kt_case_selected(patterns, p))
			return false;
	return true;
}

struct kt_totals {
	unsigned pass, fail, skip;
};

static bool kt_run_suite(const char *patterns, const char *suite, unsigned index,
                         struct kt_totals *t)
{
	unsigned ncases = 0, n = 0;
	uint32_t flags = 0;
	bool suite_failed = false;

	for (const struct ktest_case *c = __ktest_start; c < __ktest_end; c++)
		if (strcmp(c->suite, suite) == 0 && kt_case_selected(patterns, c)) {
			ncases++;
			flags |= c->flags;
		}
	bool leak_check = !(flags & KTEST_NO_LEAK_CHECK);

	kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%u\n", suite,
	        ncases + (leak_check ? 1 : 0));

	uint64_t pages0 = vm_page_free_count();
	uint64_t objs0 = kalloc_objects_in_use();

	for (const struct ktest_case *c = __ktest_start; c < __ktest_end; c++) {
		if (strcmp(c->suite, suite) != 0 || !kt_case_selected(patterns, c))
			continue;
		struct ktest_ctx kt = { c->suite, c->name, false, NULL };

		c->fn(&kt);
		n++;
		if (kt.failed) {
			kprintf("    not ok %u %s\n", n, c->name);
			t->fail++;
			suite_failed = true;
		} else if (kt.skip_reason) {
			kprintf("    ok %u %s # SKIP %s\n", n, c->name, kt.skip_reason);
			t->skip++;
		} else {
			kprintf("    ok %u %s\n", n, c->name);
			t->pass++;
		}
	}
	if (leak_check) {
		uint64_t pages1 = vm_page_free_count();
		uint64_t objs1 = kalloc_objects_in_use();

		n++;
		if (pages1 != pages0 || objs1 != objs0) {
			kprintf("    # %s: free pages %lu -> %lu, allocator objects %lu -> %lu\n",
			        suite, pages0, pages1, objs0, objs1);
			kprintf("    not ok %u no_leaks\n", n);
			t->fail++;
			suite_failed = true;
		} else {
			kprintf("    ok %u no_leaks\n", n);
			t->pass++;
		}
	}
	kprintf("%sok %u %s\n", suite_failed ? "not " : "", index, suite);
	return !suite_failed;
}

void ktest_main(void)
{
	const char *patterns = cmdline_get("ktest");
	unsigned nsuites = 0, index = 0;
	struct kt_totals t = { 0, 0, 0 };
	bool ok = true;

	if (!patterns)
		return;
	for (const struct ktest_case *c = __ktest_start; c < __ktest_end; c++)
		if (kt_case_selected(patterns, c) && kt_first_of_suite(c, patterns))
			nsuites++;

	kprintf("KTAP version 1\n1..%u\n", nsuites);
	if (nsuites == 0)
		kprintf("# ktest: no suite matches \"%s\"\n", patterns);
	for (const struct ktest_case *c = __ktest_start; c < __ktest_end; c++)
		if (kt_case_selected(patterns, c) && kt_first_of_suite(c, patterns))
			ok &= kt_run_suite(patterns, c->suite, ++index, &t);

	kprintf("# ktest totals: pass:%u fail:%u skip:%u\n", t.pass, t.fail, t.skip);
	kprintf("# ktest done\n");
	machine_exit(ok && nsuites ? MACHINE_EXIT_SUCCESS : MACHINE_EXIT_FAILURE);
}
