/*
 * ktest: in-kernel tests, registered declaratively and run at boot.
 *
 *	KTEST(pmm, alloc_all_pages)
 *	{
 *		KT_EXPECT_EQ(kt, vm_page_free_count(), before);
 *	}
 *
 * Each KTEST lands in the .ktest linker section; nothing else needs to
 * know about it.  The command line selects suites: ktest=GLOB[,GLOB...]
 * matched against "suite" and "suite.case" ("ktest=all" runs every
 * suite except the harness self-tests, selftest_*, which run only when a
 * pattern names them).  Results are KTAP version 1 on the console; after
 * the last suite the kernel exits QEMU with success or failure.
 *
 * Every suite is bracketed by a resource check: free pages and allocator
 * objects in use must be back where they started, or the suite gets a
 * failing "no_leaks" case.
 */
#ifndef KERN_KTEST_H
#define KERN_KTEST_H

#include <stdbool.h>
#include <stdint.h>

struct ktest_ctx {
	const char *suite;
	const char *name;
	bool failed;
	const char *skip_reason;
};

struct ktest_case {
	const char *suite;
	const char *name;
	void (*fn)(struct ktest_ctx *kt);
	uint32_t flags;
};

/* The suite does not return what it allocates (it creates caches or zones). */
#define KTEST_NO_LEAK_CHECK 0x1

#define KTEST_FLAGS(suite, name, fl)                                                               \
	static void ktest_fn_##suite##_##name(struct ktest_ctx *kt);                               \
	static const struct ktest_case ktest_case_##suite##_##name                                 \
	    __attribute__((used, section(".ktest"),                                                \
	                   aligned(8))) = { #suite, #name, ktest_fn_##suite##_##name, (fl) };      \
	static void ktest_fn_##suite##_##name(struct ktest_ctx *kt __attribute__((unused)))

#define KTEST(suite, name) KTEST_FLAGS(suite, name, 0)

bool ktest_check(struct ktest_ctx *kt, bool ok, const char *file, int line, const char *what);
bool ktest_check_eq(struct ktest_ctx *kt, uint64_t a, uint64_t b, const char *as, const char *bs,
                    const char *file, int line);
void ktest_diag(struct ktest_ctx *kt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ktest_skip(struct ktest_ctx *kt, const char *reason);

#define KT_EXPECT(kt, cond) ktest_check((kt), !!(cond), __FILE__, __LINE__, #cond)
#define KT_EXPECT_EQ(kt, a, b)                                                                     \
	ktest_check_eq((kt), (uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)
#define KT_ASSERT(kt, cond)                                                                        \
	do {                                                                                       \
		if (!KT_EXPECT(kt, cond))                                                          \
			return;                                                                    \
	} while (0)
#define KT_ASSERT_EQ(kt, a, b)                                                                     \
	do {                                                                                       \
		if (!KT_EXPECT_EQ(kt, a, b))                                                       \
			return;                                                                    \
	} while (0)
#define KT_SKIP(kt, reason)                                                                        \
	do {                                                                                       \
		ktest_skip((kt), (reason));                                                        \
		return;                                                                            \
	} while (0)

/*
 * A suite whose cases are known only at boot (the "user" suite: one case
 * per multiboot module).  ncases says how many cases run will report;
 * run reports each, in order, with ktest_report.  The runner prints the
 * suite's header, brackets it with the same leak check and selects it
 * by its name like any other suite; it runs after the static suites,
 * and not at all when ncases is 0.
 */
struct ktest_run;
struct ktest_dynamic {
	const char *suite;
	unsigned (*ncases)(void);
	void (*run)(struct ktest_run *run);
};
#define KTEST_DYNAMIC_MAX 4

/* Before ktest_main.  Returns false when KTEST_DYNAMIC_MAX are registered. */
bool ktest_register_dynamic(const struct ktest_dynamic *d);
/* One case's result line (the case's own output comes before it). */
void ktest_report(struct ktest_run *run, const char *name, bool ok, const char *skip_reason);

/* Glob match with '*' and '?'. */
bool ktest_glob(const char *pat, const char *s);

/* Runs the suites the command line asks for, then exits QEMU.  Returns if none. */
void ktest_main(void);

#endif
