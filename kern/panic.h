#ifndef KERN_PANIC_H
#define KERN_PANIC_H

/*
 * Broken kernel invariant: prints "KERNEL PANIC: <message>" (the marker the
 * test harness looks for), a backtrace, and ends the run with the failure
 * exit code.  Never for anything a user or caller can cause.
 */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#define KASSERT(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			panic("%s: assertion \"%s\" failed at %s:%d", __func__, #cond, __FILE__,   \
			      __LINE__);                                                           \
	} while (0)

#endif
