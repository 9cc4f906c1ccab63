/*
 * Thread life cycle and kernel stacks (the design is in thread.h).
 *
 * Stack slots are handed out lowest first, so the page tables of the
 * stack area stay few (pmap frees a table when its last page goes).
 * kstack_owner[] is written under thread_lock and read without it by the
 * fault paths, which only want a name for a report.
 */
#include <stddef.h>

#include "ipc/ipc_kobject.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/perf_analysis.h"
#include "kern/sched.h"
#include "kern/spinlock.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "x86_64/cpu.h"
#include "x86_64/pmap.h"
#include "x86_64/switch.h"

#define KSTACK_PAGES (KSTACK_SIZE / PAGE_SIZE)

_Static_assert(KSTACK_SIZE % PAGE_SIZE == 0, "stack is whole pages");
_Static_assert(KSTACK_GUARD == PAGE_SIZE, "one guard page");
_Static_assert(KSTACK_AREA + (uint64_t)KSTACK_SLOTS * KSTACK_SLOT <= KERNEL_BASE,
               "stack area below the kernel image");

static spinlock_t thread_lock = SPINLOCK_INIT;
static struct thread *thread_all;                          /* [l] */
static unsigned thread_nlive;                              /* [l] */
static uint64_t thread_ncreated, thread_nfreed;            /* [l] */
static uint32_t thread_next_id = 1;                        /* [l] */
static struct thread *volatile kstack_owner[KSTACK_SLOTS]; /* [l] written, read lock-free */

extern char boot_stack_bottom[], boot_stack_top[];

static uintptr_t kstack_slot_base(int slot)
{
	return KSTACK_AREA + (uintptr_t)slot * KSTACK_SLOT + KSTACK_GUARD;
}

static void kstack_unmap(uintptr_t base, unsigned npages)
{
	for (unsigned i = 0; i < npages; i++) {
		uintptr_t va = base + i * PAGE_SIZE;
		paddr_t pa = pmap_kextract(va);

		if (pmap_kremove(va) != 0)
			panic("kstack_unmap: %#lx was not mapped", va);
		vm_page_free(pa);
	}
}

/* Gives t a stack slot with KSTACK_SIZE mapped above its guard; false if out of memory. */
static bool kstack_alloc(struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&thread_lock);
	int slot = -1;

	for (int i = 0; i < KSTACK_SLOTS; i++)
		if (kstack_owner[i] == NULL) {
			slot = i;
			kstack_owner[i] = t;
			break;
		}
	spin_unlock_irqrestore(&thread_lock, flags);
	if (slot < 0)
		return false;

	uintptr_t base = kstack_slot_base(slot);
	unsigned n;

	for (n = 0; n < KSTACK_PAGES; n++) {
		paddr_t pa = vm_page_alloc();

		if (pa == 0)
			break;
		if (pmap_kenter(base + n * PAGE_SIZE, pa, PMAP_READ | PMAP_WRITE) != 0) {
			vm_page_free(pa);
			break;
		}
	}
	if (n < KSTACK_PAGES) {
		kstack_unmap(base, n);
		flags = spin_lock_irqsave(&thread_lock);
		kstack_owner[slot] = NULL;
		spin_unlock_irqrestore(&thread_lock, flags);
		return false;
	}
	t->kstack_slot = slot;
	t->kstack_base = base;
	t->md.kstack_top = base + KSTACK_SIZE;
	return true;
}

static void kstack_free(struct thread *t)
{
	kstack_unmap(t->kstack_base, KSTACK_PAGES);
	unsigned long flags = spin_lock_irqsave(&thread_lock);

	kstack_owner[t->kstack_slot] = NULL;
	spin_unlock_irqrestore(&thread_lock, flags);
}

bool thread_stack_guard_hit(uint64_t addr)
{
	if (addr < KSTACK_AREA || addr >= KSTACK_AREA + (uint64_t)KSTACK_SLOTS * KSTACK_SLOT)
		return false;
	return (addr - KSTACK_AREA) % KSTACK_SLOT < KSTACK_GUARD;
}

const struct thread *thread_stack_owner(uint64_t addr)
{
	if (addr < KSTACK_AREA || addr >= KSTACK_AREA + (uint64_t)KSTACK_SLOTS * KSTACK_SLOT)
		return NULL;
	return kstack_owner[(addr - KSTACK_AREA) / KSTACK_SLOT];
}

/* Numbers t and puts it on the list of all threads. */
static void thread_register(struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&thread_lock);

	t->id = thread_next_id++;
	if (thread_next_id == 0)
		thread_next_id = 1;
	t->all_prev = NULL;
	t->all_next = thread_all;
	if (thread_all)
		thread_all->all_prev = t;
	thread_all = t;
	thread_nlive++;
	thread_ncreated++;
	spin_unlock_irqrestore(&thread_lock, flags);
}

/* The first code a new thread runs (cpu_thread_setup points its stack here). */
static __attribute__((noreturn)) void thread_entry(void)
{
	sched_first_run();
	struct thread *t = thread_current();

	t->fn(t->arg);
	thread_exit();
}

static struct thread *thread_new_once(const char *name, void (*fn)(void *), void *arg, int pri)
{
	struct thread *t = kalloc(sizeof(*t));

	if (t == NULL)
		return NULL;
	memset(t, 0, sizeof(*t));
	if (!kstack_alloc(t)) {
		kfree(t);
		return NULL;
	}
	strlcpy(t->name, name ? name : "thread", sizeof(t->name));
	t->priority = pri;
	t->state = TH_RUNNABLE;
	t->fn = fn;
	t->arg = arg;
	t->refs = 1;
	cpu_thread_setup(t, thread_entry);
	thread_register(t);
	return t;
}

/*
 * A thread ready to start but not yet runnable; NULL when out of memory,
 * even after every map gave back what it keeps for speed (vm_map_reclaim).
 */
static struct thread *thread_new(const char *name, void (*fn)(void *), void *arg, int pri)
{
	struct thread *t = thread_new_once(name, fn, arg, pri);

	if (t == NULL) {
		vm_map_reclaim();
		t = thread_new_once(name, fn, arg, pri);
	}
	return t;
}

struct thread *thread_alloc_boot(void)
{
	struct thread *t = kalloc(sizeof(*t));

	if (t == NULL)
		panic("thread_alloc_boot: out of memory");
	memset(t, 0, sizeof(*t));
	strlcpy(t->name, "boot", sizeof(t->name));
	t->priority = SCHED_PRI_DEFAULT;
	t->state = TH_RUNNING;
	t->on_cpu = true;
	t->kstack_slot = -1; /* the boot stack: in .bss, no guard page */
	t->kstack_base = (uintptr_t)boot_stack_bottom;
	t->md.kstack_top = (uintptr_t)boot_stack_top;
	t->refs = 1;
	thread_register(t);
	return t;
}

struct thread *thread_alloc_idle(void (*fn)(void *))
{
	struct thread *t = thread_new("idle", fn, NULL, SCHED_PRI_MIN);

	if (t == NULL)
		panic("thread_alloc_idle: out of memory");
	t->idle = true;
	return t;
}

kern_return_t thread_create_kernel(const char *name, void (*fn)(void *), void *arg, int pri,
                                   struct thread **out)
{
	return thread_create_in_task(NULL, name, fn, arg, pri, out);
}

kern_return_t thread_create_in_task(struct task *task, const char *name, void (*fn)(void *),
                                    void *arg, int pri, struct thread **out)
{
	if (fn == NULL || pri < SCHED_PRI_MIN || pri > SCHED_PRI_MAX)
		return KERN_INVALID_ARGUMENT;
	struct thread *t = thread_new(name, fn, arg, pri);

	if (t == NULL)
		return KERN_RESOURCE_SHORTAGE;
	if (task) {
		kern_return_t kr = task_thread_attach(task, t);

		if (kr != KERN_SUCCESS) {
			t->state = TH_TERMINATED; /* never ran: free it at once */
			thread_deallocate(t);
			return kr;
		}
		t->task = task;
	}
	if (out) {
		t->refs++;
		*out = t;
	}
	/* The THREAD_CREATE perf event (id 6, data1 = t->id, data2 = task id) goes here. */
	PERF_EVENT_RECORD_CUR(PERF_EVENT_THREAD_CREATE, t->id, perf_thread_task_id(t)); /* perf */
	sched_thread_start(t);
	return KERN_SUCCESS;
}

void thread_exit(void)
{
	/* The THREAD_TERMINATE perf event (id 7, data1 = id, data2 = task id) goes here. */
	PERF_EVENT_RECORD_CUR(PERF_EVENT_THREAD_TERMINATE, perf_cur_thread_id(),
	                      perf_cur_task_id()); /* perf */
	sched_thread_exit();
}

void thread_reference(struct thread *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
}

static void thread_free(struct thread *t)
{
	if (t->state != TH_TERMINATED || t->on_cpu)
		panic("thread_free: thread %u (%s) is still alive", t->id, t->name);
	unsigned long flags = spin_lock_irqsave(&thread_lock);

	if (t->all_prev)
		t->all_prev->all_next = t->all_next;
	else
		thread_all = t->all_next;
	if (t->all_next)
		t->all_next->all_prev = t->all_prev;
	thread_nlive--;
	thread_nfreed++;
	spin_unlock_irqrestore(&thread_lock, flags);
	struct task *task = t->task;

	ipc_thread_free(t); /* ipc: its kernel port */
	kstack_free(t);
	if (task)
		task_thread_detach(task, t);
	kfree(t);
	if (task)
		task_thread_detached(task); /* last: it may wake a waiter that checks for leaks */
}

void thread_deallocate(struct thread *t)
{
	uint32_t left = __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);

	if (left == UINT32_MAX)
		panic("thread_deallocate: thread %u (%s) has no references", t->id, t->name);
	if (left == 0)
		thread_free(t);
}

unsigned thread_reap(void)
{
	unsigned n = 0;

	for (struct thread *t = sched_take_zombies(), *next; t; t = next) {
		next = t->q_next;
		thread_deallocate(t);
		n++;
	}
	return n;
}

kern_return_t thread_join(struct thread *t)
{
	if (t == NULL || t == thread_current())
		return KERN_INVALID_ARGUMENT;
	sched_wait_terminated(t);
	thread_deallocate(t);
	thread_reap();
	return KERN_SUCCESS;
}

unsigned thread_count(void)
{
	return __atomic_load_n(&thread_nlive, __ATOMIC_RELAXED);
}

uint64_t thread_created_total(void)
{
	return __atomic_load_n(&thread_ncreated, __ATOMIC_RELAXED);
}

uint64_t thread_freed_total(void)
{
	return __atomic_load_n(&thread_nfreed, __ATOMIC_RELAXED);
}
