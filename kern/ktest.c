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

/* tests/kern/ktest_traps.c, in kernels built with the suites. */
__attribute__((weak)) void ktest_traps_init(void)
{
}

__attribute__((weak)) unsigned ipc_port_count(void)
{
	return 0;
}

/* What maps keep for speed (spare entries, empty page tables): vm/vm_map.c. */
__attribute__((weak)) void vm_map_reclaim(void)
{
}

struct kt_counts {
	uint64_t pages, objs;
	unsigned ports;
};

/*
 * The leak check's counters.  Caches that would hand their memory back on
 * demand are emptied first, at both ends of the suite, so that what is
 * compared is what the suite really holds.
 */
static struct kt_counts kt_count(void)
{
	vm_map_reclaim();
	return (struct kt_counts){ vm_page_free_count(), kalloc_objects_in_use(),
		                   ipc_port_count() };
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

/* A dynamic suite's run: the case counter and where results go. */
struct ktest_run {
	unsigned n;
	bool failed;
	struct kt_totals *t;
};

static const struct ktest_dynamic *kt_dynamic[KTEST_DYNAMIC_MAX];
static unsigned kt_ndynamic;

bool ktest_register_dynamic(const struct ktest_dynamic *d)
{
	if (kt_ndynamic == KTEST_DYNAMIC_MAX)
		return false;
	kt_dynamic[kt_ndynamic++] = d;
	return true;
}

void ktest_report(struct ktest_run *r, const char *name, bool ok, const char *skip_reason)
{
	r->n++;
	if (!ok) {
		kprintf("    not ok %u %s\n", r->n, name);
		r->t->fail++;
		r->failed = true;
	} else if (skip_reason) {
		kprintf("    ok %u %s # SKIP %s\n", r->n, name, skip_reason);
		r->t->skip++;
	} else {
		kprintf("    ok %u %s\n", r->n, name);
		r->t->pass++;
	}
}

static void kt_suite_begin(const char *suite, unsigned ncases, bool leak_check)
{
	kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%u\n", suite,
	        ncases + (leak_check ? 1 : 0));
}

/* The leak check (c0: the counters before the suite) and the suite's line. */
static bool kt_suite_end(const char *suite, unsigned index, struct ktest_run *r, bool leak_check,
                         struct kt_counts c0)
{
	if (leak_check) {
		struct kt_counts c1 = kt_count();
		bool ok = c1.pages == c0.pages && c1.objs == c0.objs && c1.ports == c0.ports;

		if (!ok)
			kprintf("    # %s: free pages %lu -> %lu, allocator objects %lu -> %lu, "
			        "ports %u -> %u\n",
			        suite, c0.pages, c1.pages, c0.objs, c1.objs, c0.ports, c1.ports);
		ktest_report(r, "no_leaks", ok, NULL);
	}
	kprintf("%sok %u %s\n", r->failed ? "not " : "", index, suite);
	return !r->failed;
}

static bool kt_run_dynamic(const struct ktest_dynamic *d, unsigned index, struct kt_totals *t)
{
	struct ktest_run r = { 0, false, t };

	kt_suite_begin(d->suite, d->ncases(), true);
	struct kt_counts c0 = kt_count();

	d->run(&r);
	return kt_suite_end(d->suite, index, &r, true, c0);
}

static bool kt_run_suite(const char *patterns, const char *suite, unsigned index,
                         struct kt_totals *t)
{
	unsigned ncases = 0;
	uint32_t flags = 0;
	struct ktest_run r = { 0, false, t };

	for (const struct ktest_case *c = __ktest_start; c < __ktest_end; c++)
		if (strcmp(c->suite, suite) == 0 && kt_case_selected(patterns, c)) {
			ncases++;
			flags |= c->flags;
		}
	bool leak_check = !(flags & KTEST_NO_LEAK_CHECK);

	kt_suite_begin(suite, ncases, leak_check);
	struct kt_counts c0 = kt_count();

	for (const struct ktest_case *c = __ktest_start; c < __ktest_end; c++) {
		if (strcmp(c->suite, suite) != 0 || !kt_case_selected(patterns, c))
			continue;
		struct ktest_ctx kt = { c->suite, c->name, false, NULL };

		c->fn(&kt);
		ktest_report(&r, c->name, !kt.failed, kt.skip_reason);
	}
	return kt_suite_end(suite, index, &r, leak_check, c0);
}

static bool kt_dynamic_selected(const char *patterns, const struct ktest_dynamic *d)
{
	return kt_matches(patterns, d->suite, NULL) && d->ncases() > 0;
}

void ktest_main(void)
{
	const char *patterns = cmdline_get("ktest");
	unsigned nsuites = 0, index = 0;
	struct kt_totals t = { 0, 0, 0 };
	bool ok = true;

	if (!patterns)
		return;
	ktest_traps_init(); /* the test programs' traps: only in test runs */
	for (const struct ktest_case *c = __ktest_start; c < __ktest_end; c++)
		if (kt_case_selected(patterns, c) && kt_first_of_suite(c, patterns))
			nsuites++;
	for (unsigned i = 0; i < kt_ndynamic; i++)
		if (kt_dynamic_selected(patterns, kt_dynamic[i]))
			nsuites++;

	kprintf("KTAP version 1\n1..%u\n", nsuites);
	if (nsuites == 0)
		kprintf("# ktest: no suite matches \"%s\"\n", patterns);
	for (const struct ktest_case *c = __ktest_start; c < __ktest_end; c++)
		if (kt_case_selected(patterns, c) && kt_first_of_suite(c, patterns))
			ok &= kt_run_suite(patterns, c->suite, ++index, &t);
	for (unsigned i = 0; i < kt_ndynamic; i++)
		if (kt_dynamic_selected(patterns, kt_dynamic[i]))
			ok &= kt_run_dynamic(kt_dynamic[i], ++index, &t);

	kprintf("# ktest totals: pass:%u fail:%u skip:%u\n", t.pass, t.fail, t.skip);
	kprintf("# ktest done\n");
	machine_exit(ok && nsuites ? MACHINE_EXIT_SUCCESS : MACHINE_EXIT_FAILURE);
}
