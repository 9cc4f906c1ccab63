/*
 * Symbolic addresses and frame-pointer backtraces.
 *
 * The table is sorted by address: ksym_addrs[i] is the start of the
 * function whose name starts at ksym_names + ksym_name_off[i]; addresses
 * strictly increase (scripts/gen-ksyms.sh merges aliases).  The first
 * link pass has no table (the weak references below resolve to 0) and
 * lookups fail gracefully; that image is only used to generate the table.
 *
 * The walk follows the chain every function builds (-fno-omit-frame-pointer):
 *
 *	rbp -> [ caller's rbp ][ return address ]
 *
 * The trap entry pushes one fake frame [ interrupted rbp ][ interrupted rip ]
 * before calling into C, so a walk from a handler continues into the
 * interrupted code; the frame whose return address is the trap entry's
 * marks that crossing.  A corrupt chain must not turn a report into a
 * second fault, so once traps are live each walk runs under kfault_try.
 */
#include <stddef.h>

#include "kern/ksyms.h"
#include "kern/printf.h"
#include "x86_64/kfault.h"

/*
 * Undefined weak references, not weak definitions: GCC folds a weak
 * const definition's initializer (and with a one-element array it
 * decided every lookup fails), so the first link sees address 0 instead.
 */
extern const uint64_t ksym_count __attribute__((weak));
extern const uint64_t ksym_addrs[] __attribute__((weak));
extern const uint32_t ksym_name_off[] __attribute__((weak));
extern const char ksym_names[] __attribute__((weak));

extern char _text[], _etext[];

#define KSYM_MAX_FRAMES 48

/* Return address of the trap entry's call into C; 0 until traps work. */
static uint64_t ksym_trap_return;
static int (*ksym_frameless_caller)(uint64_t fake_frame, uint64_t *ret);

void ksym_trap_init(uint64_t trap_return_pc,
                    int (*frameless_caller)(uint64_t fake_frame, uint64_t *ret))
{
	ksym_frameless_caller = frameless_caller;
	ksym_trap_return = trap_return_pc;
}

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	size_t lo = 0, hi;

	if (&ksym_count == NULL)
		return NULL;
	hi = ksym_count;
	if (addr < (uint64_t)_text || addr >= (uint64_t)_etext || hi == 0)
		return NULL;
	/* The last entry whose address is <= addr. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ksym_addrs[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksym_addrs[lo] > addr)
		return NULL;
	if (offset)
		*offset = addr - ksym_addrs[lo];
	return ksym_names + ksym_name_off[lo];
}

void ksym_print_addr(const char *prefix, uint64_t addr)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		kprintf("%s%016lx %s+0x%lx\n", prefix, addr, name, off);
	else
		kprintf("%s%016lx ?\n", prefix, addr);
}

static int ksym_frame_ok(uint64_t rbp)
{
	/* Frames live in the kernel half: the image (boot stack) or the direct map. */
	return rbp >= 0xffff800000000000ull && (rbp & 7) == 0;
}

struct ksym_walk {
	uint64_t *pcs;
	int max;
	int n;
};

static void ksym_walk_push(struct ksym_walk *w, uint64_t pc)
{
	if (w->n < w->max)
		w->pcs[w->n++] = pc;
}

/* Not inlined: w must live in memory across the kfault_try in the caller. */
__attribute__((noinline)) static void ksym_walk_frames(struct ksym_walk *w, uint64_t rbp)
{
	while (w->n < w->max && ksym_frame_ok(rbp)) {
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t next = frame[0], ret = frame[1], caller;

		if (!ret)
			break;
		ksym_walk_push(w, ret);
		if (ret == ksym_trap_return) {
			/*
			 * Into the interrupted code, which may be on another
			 * stack (a double fault runs on its own).
			 */
			if (!ksym_frame_ok(next))
				break;
			frame = (const uint64_t *)next;
			ksym_walk_push(w, frame[1]);
			if (ksym_frameless_caller && ksym_frameless_caller(next, &caller))
				ksym_walk_push(w, caller);
			rbp = frame[0];
			continue;
		}
		if (next <= rbp)
			break; /* callers' frames sit above their callees': corrupt */
		rbp = next;
	}
}

int ksym_backtrace_collect(uint64_t rip, uint64_t rbp, uint64_t *pcs, int max)
{
	struct ksym_walk w = { pcs, max, 0 };
	struct kfault_catch c;

	if (max <= 0)
		return 0;
	pcs[w.n++] = rip;
	if (!ksym_trap_return) {
		ksym_walk_frames(&w, rbp);
		return w.n;
	}
	if (kfault_try(&c) == 0) {
		ksym_walk_frames(&w, rbp);
		kfault_end(&c);
	}
	/* On a fault, w.n counts the frames read before it. */
	return w.n;
}

const char *ksym_backtrace_name(const uint64_t *pcs, int i, uint64_t *offset)
{
	int exact = i == 0 || (ksym_trap_return && pcs[i - 1] == ksym_trap_return);
	uint64_t off = 0;
	const char *name = ksym_lookup(exact ? pcs[i] : pcs[i] - 1, &off);

	if (name && offset)
		*offset = exact ? off : off + 1;
	return name;
}

/* Prints pcs[first..n): names come from the whole array (see ksym_backtrace_name). */
static void ksym_print_frames(const uint64_t *pcs, int first, int n, int max)
{
	kprintf("  backtrace:\n");
	for (int i = first; i < n; i++) {
		uint64_t off;
		const char *name = ksym_backtrace_name(pcs, i, &off);
		int same = 0;

		/* Deep recursion: one line per run of identical return addresses. */
		while (i > 0 && pcs[i] != ksym_trap_return && i + same + 1 < n &&
		       pcs[i + same + 1] == pcs[i])
			same++;
		if (name)
			kprintf("    %016lx %s+0x%lx\n", pcs[i], name, off);
		else
			kprintf("    %016lx ?\n", pcs[i]);
		if (same) {
			kprintf("    ... the same frame %d more time%s\n", same,
			        same > 1 ? "s" : "");
			i += same;
		}
		if (ksym_trap_return && pcs[i] == ksym_trap_return && i + 1 < n)
			kprintf("    --- trap: interrupted at ---\n");
	}
	if (n == max)
		kprintf("    ... (stopped after %d frames)\n", n - first);
}

void ksym_backtrace_print(const uint64_t *pcs, int n)
{
	ksym_print_frames(pcs, 0, n, -1);
}

void ksym_backtrace(uint64_t rip, uint64_t rbp)
{
	uint64_t pcs[KSYM_MAX_FRAMES];
	int n = ksym_backtrace_collect(rip, rbp, pcs, KSYM_MAX_FRAMES);

	ksym_print_frames(pcs, 0, n, KSYM_MAX_FRAMES);
}

__attribute__((noinline)) void ksym_backtrace_here(void)
{
	uint64_t pcs[KSYM_MAX_FRAMES + 1];
	int n = ksym_backtrace_collect(0, (uint64_t)__builtin_frame_address(0), pcs,
	                               KSYM_MAX_FRAMES + 1);

	/* pcs[0] would be this function; pcs[1] is the return into the caller. */
	ksym_print_frames(pcs, 1, n, KSYM_MAX_FRAMES + 1);
}
