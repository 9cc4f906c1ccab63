/*
 * The module runner: multiboot modules become tasks, as the ktest suite
 * "user" or as the bootstrap task (the module string syntax and the
 * output format are in bootstrap.h).
 */
#include <mach/boot_modules.h>
#include <mach/task_special_ports.h>
#include <stdbool.h>
#include <stddef.h>

#include "ipc/ipc_kobject.h"
#include "kern/bootstrap.h"
#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/elf.h"
#include "kern/kalloc.h"
#include "kern/kern_return.h"
#include "kern/ktest.h"
#include "kern/modspec.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "kern/task.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"
#include "x86_64/machine.h"
#include "x86_64/multiboot.h"

#define BS_CAPTURE_SIZE (32 * 1024)
#define BS_KILL_WAIT_NS (5 * 1000000000ull)
#define BS_PREFIX "        " /* nests a program's KTAP under its case */

struct bs_module {
	const void *image;
	size_t size;
	struct modspec spec; /* the module string */
	/* While it runs. */
	struct task *task;
	struct ipc_port *bootstrap; /* its bootstrap port: receives its exit status */
	char *capture;
	kern_return_t start_kr;
	bool timed_out;
};

static const struct multiboot_module *bs_modules(unsigned *n)
{
	const struct multiboot_info *mbi = vm_page_boot_info();

	*n = 0;
	if (mbi == NULL || !(mbi->flags & MB_INFO_MODS) || mbi->mods_count == 0)
		return NULL;
	*n = mbi->mods_count;
	return PHYS_TO_VIRT(mbi->mods_addr);
}

static void bs_parse(const struct multiboot_module *mm, struct bs_module *m)
{
	memset(m, 0, sizeof(*m));
	m->image = PHYS_TO_VIRT(mm->mod_start);
	m->size = mm->mod_end > mm->mod_start ? mm->mod_end - mm->mod_start : 0;
	modspec_parse(&m->spec, mm->string ? (const char *)PHYS_TO_VIRT(mm->string) : NULL);
}

/* Creates m's task and starts its program; its output goes to the console or a capture. */
static void bs_start(struct bs_module *m, const char *prefix, bool capture)
{
	if (m->spec.error) {
		m->start_kr = KERN_INVALID_ARGUMENT;
		return;
	}
	m->start_kr = task_create(modspec_basename(m->spec.argv[0]), &m->task);
	if (m->start_kr != KERN_SUCCESS)
		return;
	strlcpy(m->task->console_prefix, prefix, sizeof(m->task->console_prefix));
	/* ipc: the runner is its bootstrap port (exit status); the host_priv port if asked. */
	m->bootstrap = ipc_kobject_alloc(IKOT_BOOTSTRAP, m->task);
	if (m->bootstrap)
		ipc_task_set_special(m->task, TASK_BOOTSTRAP_PORT, m->bootstrap);
	if (m->spec.priv)
		ipc_task_set_special(m->task, TASK_HOST_PRIV_PORT, ipc_host_priv_port());
	if (capture) {
		m->capture = kalloc(BS_CAPTURE_SIZE);
		if (m->capture)
			task_console_capture(m->task, m->capture, BS_CAPTURE_SIZE);
	}
	m->start_kr = elf_exec(m->task, m->image, m->size, m->spec.argc, m->spec.argv, NULL);
	if (m->start_kr != KERN_SUCCESS)
		task_terminate(m->task); /* no thread: the map goes at once */
}

/* Waits for m's task until deadline (clock_ns); terminates it after that. */
static void bs_wait(struct bs_module *m, uint64_t deadline)
{
	if (m->task == NULL)
		return;
	uint64_t now = clock_ns();

	if (task_wait(m->task, deadline > now ? deadline - now : 1))
		return;
	m->timed_out = true;
	task_terminate(m->task);
	if (!task_wait(m->task, BS_KILL_WAIT_NS))
		kprintf("bootstrap: task %s (%u) does not die\n", m->task->name, m->task->id);
}

/* Did m end as expected?  If not, why in words. */
static bool bs_verdict(const struct bs_module *m, char *why, size_t len)
{
	const struct task *t = m->task;

	if (m->spec.error) {
		ksnprintf(why, len, "bad module string: %s", m->spec.error);
		return false;
	}
	if (m->start_kr != KERN_SUCCESS) {
		ksnprintf(why, len, "cannot start: %s (%d)", mach_error_name(m->start_kr),
		          m->start_kr);
		return false;
	}
	if (m->timed_out) {
		ksnprintf(why, len, "timed out after %lu s", (unsigned long)m->spec.timeout_s);
		return false;
	}
	if (t->end == TASK_EXITED && m->spec.expect_killed) {
		ksnprintf(why, len, "exited with status %d, expected killed%s%s", t->exit_status,
		          m->spec.expect_kind ? ":" : "",
		          m->spec.expect_kind ? m->spec.expect_kind : "");
		return false;
	}
	if (t->end == TASK_EXITED && t->exit_status != m->spec.expect_status) {
		ksnprintf(why, len, "exited with status %d, expected %d", t->exit_status,
		          m->spec.expect_status);
		return false;
	}
	if (t->end == TASK_KILLED && !m->spec.expect_killed) {
		ksnprintf(why, len, "killed (%s), expected exit status %d", t->kill_kind,
		          m->spec.expect_status);
		return false;
	}
	if (t->end == TASK_KILLED && m->spec.expect_kind &&
	    strcmp(t->kill_kind, m->spec.expect_kind) != 0) {
		ksnprintf(why, len, "killed (%s), expected killed:%s", t->kill_kind,
		          m->spec.expect_kind);
		return false;
	}
	return true;
}

/* Prints m's held-back output and its result; frees what it ran with. */
static void bs_finish(struct bs_module *m, struct ktest_run *run)
{
	char why[160];
	bool ok = bs_verdict(m, why, sizeof(why));

	if (m->capture) {
		kprintf("%s", m->capture);
		if (task_capture_overflowed(m->task))
			kprintf("    # user: %s: output beyond %u bytes was printed as it came\n",
			        m->spec.name, BS_CAPTURE_SIZE);
		task_console_capture(m->task, NULL, 0);
		kfree(m->capture);
		m->capture = NULL;
	}
	if (!ok)
		kprintf("    # user: %s: %s\n", m->spec.name, why);
	ktest_report(run, m->spec.name, ok, NULL);
	ipc_kobject_destroy(m->bootstrap); /* before the task can go: it names it */
	m->bootstrap = NULL;
	if (m->task)
		task_deallocate(m->task);
	m->task = NULL;
}

static unsigned bs_ncases(void)
{
	unsigned n;

	bs_modules(&n);
	return n;
}

static bool bs_same_group(const struct bs_module *a, const struct bs_module *b)
{
	return a->spec.group && b->spec.group && strcmp(a->spec.group, b->spec.group) == 0;
}

static void bs_run_user_suite(struct ktest_run *run)
{
	unsigned n;
	const struct multiboot_module *mods = bs_modules(&n);
	struct bs_module *m = kalloc(n * sizeof(*m));

	if (m == NULL) {
		for (unsigned i = 0; i < n; i++)
			ktest_report(run, "module", false, NULL);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		bs_parse(&mods[i], &m[i]);

	for (unsigned i = 0, j; i < n; i = j) {
		uint64_t timeout = (uint64_t)m[i].spec.timeout_s * 1000000000ull;

		for (j = i + 1; j < n && bs_same_group(&m[i], &m[j]); j++)
			if ((uint64_t)m[j].spec.timeout_s * 1000000000ull > timeout)
				timeout = (uint64_t)m[j].spec.timeout_s * 1000000000ull;
		bool together = j - i > 1;

		for (unsigned k = i; k < j; k++)
			bs_start(&m[k], BS_PREFIX, together);
		uint64_t deadline = clock_ns() + timeout;

		for (unsigned k = i; k < j; k++)
			bs_wait(&m[k], deadline);
		for (unsigned k = i; k < j; k++)
			bs_finish(&m[k], run);
	}
	kfree(m);
}

static const struct ktest_dynamic bs_user_suite = {
	.suite = "user",
	.ncases = bs_ncases,
	.run = bs_run_user_suite,
};

void bootstrap_init(void)
{
	ktest_register_dynamic(&bs_user_suite);
}

/*
 * issue 6: every module starts, all at once: the first is the bootstrap
 * task (it holds the privileged host port), the others (the workloads
 * next to perfctl) only with priv=1.  Waits for them all, in order.
 */
static void bs_report(struct bs_module *m)
{
	if (m->start_kr != KERN_SUCCESS) {
		kprintf("bootstrap: cannot start %s: %s\n", m->spec.name,
		        m->spec.error ? m->spec.error : mach_error_name(m->start_kr));
		return;
	}
	task_wait(m->task, 0);
	if (m->task->end == TASK_EXITED)
		kprintf("bootstrap: task %s exited with status %d\n", m->spec.name,
		        m->task->exit_status);
	else
		kprintf("bootstrap: task %s was killed (%s)\n", m->spec.name, m->task->kill_kind);
}

/*
 * boot=mach: the modules after the first, read-only in map, and the
 * table of where (<mach/boot_modules.h>).
 */
static kern_return_t bs_mach_map_modules(struct vm_map *map, const struct multiboot_module *mods,
                                         unsigned n)
{
	size_t tsize =
	    round_page(sizeof(struct boot_modules) + (n - 1) * sizeof(struct boot_module));
	struct boot_modules *t = kalloc(tsize);
	uintptr_t taddr = BOOT_MODULES_ADDR;
	kern_return_t kr = KERN_SUCCESS;

	if (t == NULL)
		return KERN_RESOURCE_SHORTAGE;
	memset(t, 0, tsize);
	t->magic = BOOT_MODULES_MAGIC;
	t->count = n - 1;
	for (unsigned i = 1; i < n && kr == KERN_SUCCESS; i++) {
		const struct multiboot_module *mm = &mods[i];
		struct boot_module *bm = &t->mod[i - 1];
		size_t size = mm->mod_end > mm->mod_start ? mm->mod_end - mm->mod_start : 0;
		uintptr_t addr = 0;

		strlcpy(bm->string, mm->string ? (const char *)PHYS_TO_VIRT(mm->string) : "",
		        sizeof(bm->string));
		bm->size = size;
		if (size == 0)
			continue;
		kr = vm_allocate(map, &addr, round_page(size), true);
		if (kr == KERN_SUCCESS)
			kr = vm_write(map, addr, PHYS_TO_VIRT(mm->mod_start), size);
		if (kr == KERN_SUCCESS)
			kr = vm_protect(map, addr, round_page(size), false, VM_PROT_READ);
		bm->addr = addr;
	}
	if (kr == KERN_SUCCESS)
		kr = vm_allocate(map, &taddr, tsize, false);
	if (kr == KERN_SUCCESS)
		kr = vm_write(map, taddr, t, tsize);
	if (kr == KERN_SUCCESS)
		kr = vm_protect(map, taddr, tsize, false, VM_PROT_READ);
	kfree(t);
	return kr;
}

/*
 * boot=mach: only the first module runs, as the bootstrap task (the
 * privileged host port, the other modules mapped into it); it is meant
 * to end the run itself with host_reboot.  If it ends instead, so does
 * the machine: success for exit status 0, failure otherwise.
 */
static void bs_mach_main(const struct multiboot_module *mods, unsigned n)
{
	struct bs_module *m = kalloc(sizeof(*m));
	uintptr_t entry, sp, uargv;

	if (n > BOOT_MODULES_MAX + 1 || m == NULL) {
		kprintf("bootstrap: boot=mach: %s\n", m ? "too many modules" : "out of memory");
		machine_exit(MACHINE_EXIT_FAILURE);
	}
	bs_parse(&mods[0], m);
	m->start_kr = m->spec.error ? KERN_INVALID_ARGUMENT
	                            : task_create(modspec_basename(m->spec.argv[0]), &m->task);
	if (m->start_kr == KERN_SUCCESS) {
		ipc_task_set_special(m->task, TASK_HOST_PRIV_PORT, ipc_host_priv_port());
		m->bootstrap = ipc_kobject_alloc(IKOT_BOOTSTRAP, m->task); /* its exit status */
		if (m->bootstrap)
			ipc_task_set_special(m->task, TASK_BOOTSTRAP_PORT, m->bootstrap);
		m->start_kr = elf_load(m->task->map, m->task->name, m->image, m->size, &entry);
	}
	if (m->start_kr == KERN_SUCCESS)
		m->start_kr = bs_mach_map_modules(m->task->map, mods, n);
	if (m->start_kr == KERN_SUCCESS)
		m->start_kr =
		    elf_stack_setup(m->task->map, m->spec.argc, m->spec.argv, &sp, &uargv);
	if (m->start_kr == KERN_SUCCESS)
		m->start_kr =
		    task_thread_create(m->task, entry, sp, (uint64_t)m->spec.argc, uargv, NULL);
	if (m->start_kr != KERN_SUCCESS) {
		kprintf("bootstrap: boot=mach: cannot start %s: %s\n", m->spec.name,
		        m->spec.error ? m->spec.error : mach_error_name(m->start_kr));
		machine_exit(MACHINE_EXIT_FAILURE);
	}
	task_wait(m->task, 0);
	bool ok = m->task->end == TASK_EXITED && m->task->exit_status == 0;

	kprintf("bootstrap: boot=mach: %s ended (%s %d) without host_reboot\n", m->spec.name,
	        m->task->end == TASK_EXITED ? "exit status" : m->task->kill_kind,
	        m->task->exit_status);
	machine_exit(ok ? MACHINE_EXIT_SUCCESS : MACHINE_EXIT_FAILURE);
}

void bootstrap_main(void)
{
	unsigned n;
	const struct multiboot_module *mods = bs_modules(&n);

	if (n == 0)
		return;
	const char *boot = cmdline_get("boot");

	if (boot && strcmp(boot, "mach") == 0) {
		bs_mach_main(mods, n);
		return;
	}
	struct bs_module *m = kalloc(n * sizeof(*m));

	if (m == NULL) {
		kprintf("bootstrap: out of memory\n");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		bs_parse(&mods[i], &m[i]);
		if (i == 0)
			m[i].spec.priv =
			    true; /* the bootstrap task holds the privileged host port */
		bs_start(&m[i], "", false);
		if (m[i].start_kr == KERN_SUCCESS)
			kprintf("bootstrap: started %s as task %u\n", m[i].spec.name,
			        m[i].task->id);
	}
	for (unsigned i = 0; i < n; i++) {
		bs_report(&m[i]);
		ipc_kobject_destroy(m[i].bootstrap);
		if (m[i].task)
			task_deallocate(m[i].task);
	}
	kfree(m);
}
