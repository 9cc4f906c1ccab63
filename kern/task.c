/*
 * Tasks: creation, user threads, termination, the per-task console (the
 * design is in task.h).
 *
 * Who destroys the map.  The task holds one reference to its map (see
 * vm_map.h), and so may a kernel routine working on the map for another
 * task (vm_server.c); the last one destroys it.  The map may only be
 * destroyed where it is not active, and the context switch activates
 * task->map for every thread of the task (task_switch).  So when the
 * task dies its last thread clears task->map and loads the kernel's page
 * tables with interrupts off (no switch can come between and load the
 * dying map again), then drops the task's reference on its own kernel
 * stack, which lives in the kernel half.  If that was the last, the map
 * goes at once; otherwise in the thread that drops the last, where the
 * map is not loaded (no thread of the task runs any more).
 *
 * Why a port lookup may take a map reference with a plain increment
 * (kern/ipc_tt.h): it reads task->map under the ipc lock, and the
 * task's reference is dropped only after task->map was cleared and the
 * ipc lock taken and released (ipc_task_terminate, ipc_task_free), so a
 * map read there still has the task's reference.
 */
#include <stddef.h>

#include "ipc/ipc_kobject.h"
#include "kern/clock.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/perf_analysis.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/task.h"
#include "vm/vm_map.h"
#include "x86_64/cpu.h"
#include "x86_64/syscall.h"

/* The user_ret words cover their flags exactly (kalloc'd structs are zeroed). */
#define TASK_URET_COVERS(type, f)                                                                  \
	(__builtin_offsetof(type, user_ret_pad) + 3 == __builtin_offsetof(type, user_ret) + 8 &&   \
	 __builtin_offsetof(type, f) == __builtin_offsetof(type, user_ret))
_Static_assert(TASK_URET_COVERS(struct task, suspend_count), "task->user_ret");
_Static_assert(TASK_URET_COVERS(struct thread, suspend_count), "thread->user_ret");

static spinlock_t task_list_lock = SPINLOCK_INIT;
static struct task *task_all;             /* [L] */
static unsigned task_nlive;               /* [L] */
static uint64_t task_ncreated;            /* [L] */
static uint32_t task_next_id = 1;         /* [L] */
static uint64_t task_run_since[MAX_CPUS]; /* [c] TSC of each CPU's last switch */

static void task_set_end(struct task *task, enum task_end end, int status, const char *kind);

/* Where a new user thread enters ring 3 (kalloc'd, freed by the thread). */
struct task_ustart {
	uintptr_t entry, stack;
	uint64_t arg0, arg1;
};

kern_return_t task_create(const char *name, struct task **out)
{
	struct task *task = kalloc(sizeof(*task));

	if (task == NULL)
		return KERN_RESOURCE_SHORTAGE;
	memset(task, 0, sizeof(*task));
	kern_return_t kr = vm_map_create(&task->map);

	if (kr != KERN_SUCCESS) {
		kfree(task);
		return kr;
	}
	strlcpy(task->name, name ? name : "task", sizeof(task->name));
	task->lock = (spinlock_t)SPINLOCK_INIT;
	task->refs = 1;
	kr = ipc_task_init(task); /* ipc: its space and task port */
	if (kr != KERN_SUCCESS) {
		vm_map_deallocate(task->map);
		kfree(task);
		return kr;
	}

	unsigned long flags = spin_lock_irqsave(&task_list_lock);

	task->id = task_next_id++;
	task->all_next = task_all;
	if (task_all)
		task_all->all_prev = task;
	task_all = task;
	task_nlive++;
	task_ncreated++;
	spin_unlock_irqrestore(&task_list_lock, flags);
	/* The TASK_CREATE perf event (id 4, data1 = task->id) goes here. */
	PERF_EVENT_RECORD_CUR(PERF_EVENT_TASK_CREATE, task->id, perf_cur_task_id()); /* perf */
	*out = task;
	return KERN_SUCCESS;
}

void task_reference(struct task *task)
{
	__atomic_add_fetch(&task->refs, 1, __ATOMIC_RELAXED);
}

static void task_free(struct task *task)
{
	if (task->threads != NULL || task->nthreads != 0)
		panic("task_free: task %u (%s) still has threads", task->id, task->name);
	/* The TASK_TERMINATE perf event (id 5, data1 = task->id) goes here. */
	PERF_EVENT_RECORD_CUR(PERF_EVENT_TASK_TERMINATE, task->id,
	                      (uint32_t)task->exit_status); /* perf */
	struct vm_map *map = task->map; /* still there if it never ran a thread */

	task->map = NULL;
	ipc_task_free(task); /* ipc: the space and the task port (see the note at the top) */
	if (map)
		vm_map_deallocate(map);

	unsigned long flags = spin_lock_irqsave(&task_list_lock);

	if (task->all_prev)
		task->all_prev->all_next = task->all_next;
	else
		task_all = task->all_next;
	if (task->all_next)
		task->all_next->all_prev = task->all_prev;
	task_nlive--;
	spin_unlock_irqrestore(&task_list_lock, flags);
	kfree(task);
}

void task_deallocate(struct task *task)
{
	uint32_t left = __atomic_sub_fetch(&task->refs, 1, __ATOMIC_ACQ_REL);

	if (left == UINT32_MAX)
		panic("task_deallocate: task %u (%s) has no references", task->id, task->name);
	if (left == 0)
		task_free(task);
}

/* Releases the map of a task no thread will run in again (see the note at the top). */
static void task_map_release(struct task *task)
{
	unsigned long flags = spin_lock_irqsave(&task->lock); /* S_task_info reads it */
	struct vm_map *map = task->map;

	task->map = NULL;
	if (vm_map_active() == map)
		vm_map_activate(NULL);
	spin_unlock_irqrestore(&task->lock, flags);
	ipc_task_terminate(task); /* ipc: every right released, the task port dead */
	if (map)
		vm_map_deallocate(map); /* the task's reference */
	/* A task made by the task_create RPC lived on its own reference until now. */
	flags = spin_lock_irqsave(&task->lock);
	bool drop = task->rpc_ref;

	task->rpc_ref = false;
	spin_unlock_irqrestore(&task->lock, flags);
	if (drop)
		task_deallocate(task); /* never the last: the caller holds one */
}

/* The current thread of a task leaves for good; the last one destroys the map. */
static __attribute__((noreturn)) void task_thread_exit_self(void)
{
	struct task *task = thread_current()->task;
	unsigned long flags = spin_lock_irqsave(&task->lock);
	bool last = --task->nthreads == 0 && !task->dead;

	task->terminating = true;
	if (last)
		task->dead = true;
	spin_unlock_irqrestore(&task->lock, flags);
	if (last) {
		task_console_flush(task);
		task_map_release(task);
	}
	thread_exit();
}

/* The current thread alone leaves (thread_terminate); the last one ends the task. */
static __attribute__((noreturn)) void task_thread_exit_one(void)
{
	struct task *task = thread_current()->task;
	unsigned long flags = spin_lock_irqsave(&task->lock);
	bool last = --task->nthreads == 0 && !task->dead;

	if (last) {
		task->terminating = true;
		task->dead = true;
	}
	spin_unlock_irqrestore(&task->lock, flags);
	if (last) {
		task_set_end(task, TASK_KILLED, 0, "terminated");
		task_console_flush(task);
		task_map_release(task);
	}
	thread_exit();
}

kern_return_t task_thread_attach(struct task *task, struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&task->lock);

	if (task->terminating || task->dead) {
		spin_unlock_irqrestore(&task->lock, flags);
		return KERN_INVALID_TASK;
	}
	t->task_next = task->threads;
	task->threads = t;
	task->nthreads++;
	spin_unlock_irqrestore(&task->lock, flags);
	task_reference(task);
	return KERN_SUCCESS;
}

void task_thread_detach(struct task *task, struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&task->lock);
	struct thread **pp = &task->threads;

	while (*pp && *pp != t)
		pp = &(*pp)->task_next;
	if (*pp == NULL)
		panic("task_thread_detach: thread %u is not in task %u", t->id, task->id);
	*pp = t->task_next;
	spin_unlock_irqrestore(&task->lock, flags);
}

void task_thread_detached(struct task *task)
{
	unsigned long flags = spin_lock_irqsave(&task->lock);
	bool gone = task->dead && task->threads == NULL;

	spin_unlock_irqrestore(&task->lock, flags);
	/* A waiter holds its own reference: this one is never the last then. */
	task_deallocate(task);
	if (gone)
		thread_wakeup(task);
}

static void task_user_start(void *arg)
{
	struct task_ustart s = *(struct task_ustart *)arg;

	kfree(arg);
	task_user_return(); /* terminated before it ever ran */
	user_enter(s.entry, s.stack, s.arg0, s.arg1, 0);
}

kern_return_t task_thread_create(struct task *task, uintptr_t entry, uintptr_t user_stack,
                                 uint64_t arg0, uint64_t arg1, struct thread **out)
{
	if (task == NULL || entry < VM_MIN_USER || entry >= VM_MAX_USER ||
	    user_stack < VM_MIN_USER || user_stack > VM_MAX_USER)
		return KERN_INVALID_ARGUMENT;
	struct task_ustart *s = kalloc(sizeof(*s));

	if (s == NULL)
		return KERN_RESOURCE_SHORTAGE;
	*s = (struct task_ustart){ entry, user_stack, arg0, arg1 };
	kern_return_t kr =
	    thread_create_in_task(task, task->name, task_user_start, s, SCHED_PRI_DEFAULT, out);

	if (kr != KERN_SUCCESS)
		kfree(s);
	return kr;
}

kern_return_t thread_create_user(struct task *task, uintptr_t entry, uintptr_t user_stack,
                                 uint64_t arg, struct thread **out)
{
	return task_thread_create(task, entry, user_stack, arg, 0, out);
}

/* Records how task ended, unless something else ended it first. */
static void task_set_end(struct task *task, enum task_end end, int status, const char *kind)
{
	unsigned long flags = spin_lock_irqsave(&task->lock);

	if (task->end == TASK_RUNNING) {
		task->end = end;
		task->exit_status = status;
		strlcpy(task->kill_kind, kind ? kind : "", sizeof(task->kill_kind));
	}
	spin_unlock_irqrestore(&task->lock, flags);
}

kern_return_t task_terminate(struct task *task)
{
	if (task == NULL)
		return KERN_INVALID_ARGUMENT;
	task_set_end(task, TASK_KILLED, 0, "terminated");

	struct thread *self = thread_current();
	unsigned long flags = spin_lock_irqsave(&task->lock);

	task->terminating = true;
	/* Threads blocked in a trap wake up and exit on their way out. */
	for (struct thread *t = task->threads; t; t = t->task_next)
		if (t != self)
			thread_clear_wait(t, THREAD_INTERRUPTED);
	bool cleanup = task->nthreads == 0 && !task->dead;

	if (cleanup)
		task->dead = true;
	bool gone = task->dead && task->threads == NULL;

	spin_unlock_irqrestore(&task->lock, flags);
	if (cleanup) {
		task_console_flush(task);
		task_map_release(task);
	}
	if (gone)
		thread_wakeup(task);
	return KERN_SUCCESS;
}

void task_exit(int status)
{
	struct task *task = task_current();

	if (task == NULL)
		panic("task_exit: called by kernel thread %s", thread_current()->name);
	task_set_end(task, TASK_EXITED, status, NULL);
	task_terminate(task);
	task_thread_exit_self();
}

void task_fault_kill(struct trap_frame *tf)
{
	struct task *task = task_current();
	char what[64], kind[TASK_KIND_MAX], line[160];
	uint64_t addr;

	if (task == NULL)
		panic("task_fault_kill: user fault in kernel thread %s", thread_current()->name);
	user_fault_describe(tf, what, sizeof(what), kind, sizeof(kind), &addr);
	int n = ksnprintf(line, sizeof(line), "task %s (%u) killed: %s at rip 0x%lx addr 0x%lx\n",
	                  task->name, task->id, what, tf->rip, addr);

	task_console_flush(task);
	task_console_write(task, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	task_set_end(task, TASK_KILLED, 0, kind);
	task_terminate(task);
	task_thread_exit_self();
}

void task_set_exit_status(struct task *task, int status)
{
	task_set_end(task, TASK_EXITED, status, NULL);
}

/*
 * The user boundary: exits for task_terminate or thread_terminate, and
 * waits while the thread or its task is suspended.  One event,
 * &task->suspend_count, for every resume of the task and its threads;
 * termination ends the wait with thread_clear_wait.
 */
void task_user_return_slow(struct task *task, struct thread *self)
{
	unsigned long flags = spin_lock_irqsave(&task->lock);

	for (;;) {
		if (task->terminating) {
			spin_unlock_irqrestore(&task->lock, flags);
			task_thread_exit_self();
		}
		if (self->terminate_requested) {
			spin_unlock_irqrestore(&task->lock, flags);
			task_thread_exit_one();
		}
		if (self->suspend_count == 0 && task->suspend_count == 0)
			break;
		thread_assert_wait(&task->suspend_count);
		spin_unlock_irqrestore(&task->lock, flags);
		thread_block();
		flags = spin_lock_irqsave(&task->lock);
	}
	spin_unlock_irqrestore(&task->lock, flags);
}

/* Adds delta to *count under task's lock; resuming below zero fails; 0 wakes the stopped. */
static kern_return_t task_count_suspend(struct task *task, int *count, int delta)
{
	unsigned long flags = spin_lock_irqsave(&task->lock);
	kern_return_t kr = KERN_SUCCESS;

	if (delta < 0 && *count == 0)
		kr = KERN_FAILURE;
	else if (delta > 0 && *count == INT32_MAX)
		kr = KERN_RESOURCE_SHORTAGE;
	else
		*count += delta;
	bool wake = kr == KERN_SUCCESS && *count == 0;

	spin_unlock_irqrestore(&task->lock, flags);
	if (wake)
		thread_wakeup(&task->suspend_count);
	return kr;
}

kern_return_t task_suspend(struct task *task)
{
	return task ? task_count_suspend(task, &task->suspend_count, 1) : KERN_INVALID_ARGUMENT;
}

kern_return_t task_resume(struct task *task)
{
	return task ? task_count_suspend(task, &task->suspend_count, -1) : KERN_INVALID_ARGUMENT;
}

kern_return_t thread_suspend(struct thread *t)
{
	if (t == NULL || t->task == NULL)
		return KERN_INVALID_ARGUMENT;
	return task_count_suspend(t->task, &t->suspend_count, 1);
}

kern_return_t thread_resume(struct thread *t)
{
	if (t == NULL || t->task == NULL)
		return KERN_INVALID_ARGUMENT;
	return task_count_suspend(t->task, &t->suspend_count, -1);
}

kern_return_t thread_terminate_request(struct thread *t)
{
	if (t == NULL || t->task == NULL)
		return KERN_INVALID_ARGUMENT;
	unsigned long flags = spin_lock_irqsave(&t->task->lock);

	t->terminate_requested = true;
	if (t != thread_current())
		thread_clear_wait(t, THREAD_INTERRUPTED);
	spin_unlock_irqrestore(&t->task->lock, flags);
	return KERN_SUCCESS;
}

void task_sleep(uint64_t ns)
{
	struct task *task = task_current();

	if (ns == 0) {
		thread_yield();
		return;
	}
	thread_assert_wait(NULL);
	thread_set_timeout(ns);
	/* task_terminate ends waits it sees; this one it may have missed. */
	if (task && __atomic_load_n(&task->terminating, __ATOMIC_ACQUIRE))
		thread_clear_wait(thread_current(), THREAD_INTERRUPTED);
	thread_block();
}

bool task_wait(struct task *task, uint64_t timeout_ns)
{
	uint64_t deadline = timeout_ns ? clock_ns() + timeout_ns : 0;
	unsigned long flags = spin_lock_irqsave(&task->lock);

	while (!(task->dead && task->threads == NULL)) {
		uint64_t now = clock_ns();

		if (deadline && now >= deadline) {
			spin_unlock_irqrestore(&task->lock, flags);
			return false;
		}
		thread_assert_wait(task);
		if (deadline)
			thread_set_timeout(deadline - now);
		spin_unlock_irqrestore(&task->lock, flags);
		thread_block();
		flags = spin_lock_irqsave(&task->lock);
	}
	spin_unlock_irqrestore(&task->lock, flags);
	return true;
}

/* One whole line (without its newline) to the capture buffer or the console.  Task lock held. */
static void task_emit_line(struct task *task, const char *s, size_t len)
{
	size_t plen = strlen(task->console_prefix);

	if (task->capture) {
		size_t need = plen + len + 1;

		if (task->capture_len + need < task->capture_size) {
			char *p = task->capture + task->capture_len;

			memcpy(p, task->console_prefix, plen);
			memcpy(p + plen, s, len);
			p[plen + len] = '\n';
			task->capture_len += need;
			task->capture[task->capture_len] = '\0';
			return;
		}
		task->capture_overflow = true; /* too much to keep: print it now instead */
	}
	kprintf("%s%.*s\n", task->console_prefix, (int)len, s);
}

void task_console_write(struct task *task, const char *s, size_t len)
{
	if (ipc_task_console_send(task, s, len))
		return; /* boot=mach: its console port has it (<mach/task_special_ports.h>) */

	unsigned long flags = spin_lock_irqsave(&task->lock);

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\n') {
			task_emit_line(task, task->line, task->line_len);
			task->line_len = 0;
			continue;
		}
		if (c == '\r')
			continue;
		if ((c < ' ' && c != '\t') || c == 0x7f)
			c = '?'; /* no escape sequences on the console */
		if (task->line_len == sizeof(task->line)) {
			task_emit_line(task, task->line, task->line_len);
			task->line_len = 0;
		}
		task->line[task->line_len++] = c;
	}
	spin_unlock_irqrestore(&task->lock, flags);
}

void task_console_flush(struct task *task)
{
	unsigned long flags = spin_lock_irqsave(&task->lock);

	if (task->line_len) {
		task_emit_line(task, task->line, task->line_len);
		task->line_len = 0;
	}
	spin_unlock_irqrestore(&task->lock, flags);
}

void task_console_capture(struct task *task, char *buf, size_t size)
{
	unsigned long flags = spin_lock_irqsave(&task->lock);

	task->capture = buf;
	task->capture_size = size;
	task->capture_len = 0;
	task->capture_overflow = false;
	if (buf && size)
		buf[0] = '\0';
	spin_unlock_irqrestore(&task->lock, flags);
}

bool task_capture_overflowed(struct task *task)
{
	return task->capture_overflow;
}

void task_switch(struct thread *from, struct thread *to, uint64_t now)
{
	uint64_t *since = &task_run_since[cpu_id()];

	if (from->task)
		__atomic_add_fetch(&from->task->cpu_tsc, now - *since, __ATOMIC_RELAXED);
	*since = now;
	if (from->task == NULL)
		from->kernel_map = vm_map_active();
	vm_map_activate(to->task ? to->task->map : to->kernel_map);
}

struct task *task_current(void)
{
	if (!sched_ready())
		return NULL;
	return thread_current()->task;
}

unsigned task_count(void)
{
	return __atomic_load_n(&task_nlive, __ATOMIC_RELAXED);
}

uint64_t task_created_total(void)
{
	return __atomic_load_n(&task_ncreated, __ATOMIC_RELAXED);
}

/*
 * perf: the figures of up to max tasks, for perf_monitor_get_task_stats
 * (kern/ipc_perf_monitor.c); returns how many tasks exist.  Under the
 * list lock with interrupts masked: on one CPU no map can be destroyed
 * meanwhile (task_map_release clears task->map first, with interrupts
 * masked, then destroys it).
 */
unsigned task_figures(struct task_figures *out, unsigned max)
{
	unsigned n = 0;
	unsigned long flags = spin_lock_irqsave(&task_list_lock);

	for (struct task *t = task_all; t; t = t->all_next, n++) {
		if (n >= max)
			continue;
		struct vm_map *map = __atomic_load_n(&t->map, __ATOMIC_RELAXED);

		out[n].id = t->id;
		out[n].threads = __atomic_load_n(&t->nthreads, __ATOMIC_RELAXED);
		out[n].cpu_tsc = __atomic_load_n(&t->cpu_tsc, __ATOMIC_RELAXED);
		out[n].resident_pages = map ? vm_map_resident_pages(map) : 0;
		strlcpy(out[n].name, t->name, sizeof(out[n].name));
	}
	spin_unlock_irqrestore(&task_list_lock, flags);
	return n;
}
