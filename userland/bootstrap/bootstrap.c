/*
 * The bootstrap task of boot=mach: the module runner of kern/bootstrap.c
 * rewritten as a Mach program, so the test runner is itself a user of
 * the API under test (docs/userland.md, "The user-space bootstrap").
 *
 * The kernel started only this program and mapped the other modules
 * into it (<mach/boot_modules.h>).  Each module string has the kernel
 * runner's syntax (kern/bootstrap.h):
 *
 *	PATH [ARG...] [expect=exit:N|expect=killed[:KIND]] [group=G] [timeout=SECS] [priv=1]
 *
 * Per module: task_create; the ELF and its stack by vm_allocate,
 * vm_write, vm_protect (load.c); one port P whose receive right is ours,
 * given as the child's TASK_BOOTSTRAP_PORT (its exit status, id 3600)
 * and TASK_CONSOLE_PORT (what it prints, id 3601), and asked for the
 * dead-name notification of the child's task port; priv=1: our
 * TASK_HOST_PRIV_PORT as its; thread_create, thread_set_state (rip,
 * rsp, rdi = argc, rsi = argv), thread_resume.  Every P of a group sits
 * in one port set; we receive from it until every child's dead-name
 * notification came (the exit status and the output come before it on
 * the same port), or the group's timeout passed: then task_terminate.
 *
 * The output is KTAP, like a kernel ktest=user run, so that
 * scripts/ktest-run.py judges both alike: one suite "user", one case per
 * module with the module's own output 8 spaces in, the totals and
 * "# ktest done"; then host_reboot on the privileged host port, RB_HALT
 * (QEMU exit 33) if every case passed, RB_AUTOBOOT (exit 65) if not.  A
 * lone module's output is printed as it comes; a group's is held until
 * the group ends and then printed module by module.
 *
 * A killed child sends no exit status; how it died is in the kernel's
 * line "task NAME (ID) killed: WHAT at rip ..." that reaches us as its
 * output: KIND is WHAT up to " (" with dashes for spaces ("page-fault"),
 * or "terminated" when there is no such line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/boot_modules.h>
#include <mach/host_info.h>
#include <mach/mach_error.h>
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/notify.h>
#include <mach/syscall_sw.h>
#include <mach/task_special_ports.h>
#include <mach/thread_status.h>

#include "bootstrap.h"
#include "kern/modspec.h" /* shared with the kernel's runner */
#include "mach.h"         /* mig-gen/ */
#include "mach_host.h"    /* mig-gen/ */
#include "mach_port.h"    /* mig-gen/ */

#define BS_KILL_WAIT_MS 5000
#define BS_PREFIX "        " /* a program's KTAP nests under its case */
#define BS_LINE_MAX 900      /* bytes of output per printed line (mach_print: 1024) */

struct bs_mod {
	const struct boot_module *bm;
	struct modspec spec; /* its module string */
	/* While it runs. */
	mach_port_t task, thread, port;
	int started, done, exited, status, timed_out;
	char why[160]; /* why it could not start */
	char *out;     /* its output */
	size_t out_len, out_cap, printed;
};

static mach_port_t bs_self, bs_host, bs_host_priv, bs_pset;

/* One line to the console, in one mach_print. */
static void __attribute__((format(printf, 1, 2))) bs_print(const char *fmt, ...)
{
	char buf[MACH_PRINT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mach_print(buf);
}

static uint64_t bs_now_ms(void)
{
	time_value_t t;

	if (host_get_time(bs_host, &t) != KERN_SUCCESS)
		return 0;
	return (uint64_t)t.seconds * 1000 + (uint64_t)t.microseconds / 1000;
}

static void bs_parse(const struct boot_module *bm, struct bs_mod *m)
{
	char string[sizeof(bm->string) + 1];

	memset(m, 0, sizeof(*m));
	m->bm = bm;
	memcpy(string, bm->string, sizeof(bm->string));
	string[sizeof(bm->string)] = '\0';
	modspec_parse(&m->spec, string);
}

static int bs_kr(struct bs_mod *m, kern_return_t kr, const char *what)
{
	if (kr != KERN_SUCCESS)
		snprintf(m->why, sizeof(m->why), "%s: %s (%d)", what, mach_error_name(kr), kr);
	return kr == KERN_SUCCESS;
}

/* Creates m's task, loads its program, gives it its ports and starts it. */
static void bs_start(struct bs_mod *m)
{
	mach_port_t prev = MACH_PORT_NULL;
	struct bs_start st;
	struct x86_64_thread_state ts;

	if (m->spec.error) {
		snprintf(m->why, sizeof(m->why), "bad module string: %s", m->spec.error);
		return;
	}
	if (!bs_kr(m, task_create(bs_self, FALSE, &m->task), "task_create"))
		return;
	m->started = 1; /* from here on it ends with a dead-name notification */
	int ok =
	    bs_kr(m, mach_port_allocate(bs_self, MACH_PORT_RIGHT_RECEIVE, &m->port),
	          "mach_port_allocate") &&
	    bs_kr(m, mach_port_insert_right(bs_self, m->port, m->port, MACH_MSG_TYPE_MAKE_SEND),
	          "mach_port_insert_right") &&
	    bs_kr(m, mach_port_move_member(bs_self, m->port, bs_pset), "mach_port_move_member") &&
	    bs_kr(m,
	          mach_port_request_notification(bs_self, m->task, MACH_NOTIFY_DEAD_NAME, 0,
	                                         m->port, MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev),
	          "mach_port_request_notification") &&
	    bs_kr(m, task_set_special_port(m->task, TASK_BOOTSTRAP_PORT, m->port),
	          "task_set_special_port bootstrap") &&
	    bs_kr(m, task_set_special_port(m->task, TASK_CONSOLE_PORT, m->port),
	          "task_set_special_port console");
	if (ok && m->spec.priv)
		ok = bs_kr(m, task_set_special_port(m->task, TASK_HOST_PRIV_PORT, bs_host_priv),
		           "task_set_special_port host_priv");
	if (ok && bs_load(m->task, (const void *)m->bm->addr, m->bm->size, m->spec.argc,
	                  m->spec.argv, &st, m->why, sizeof(m->why)) != 0)
		ok = 0;
	ok = ok && bs_kr(m, thread_create(m->task, &m->thread), "thread_create");
	memset(&ts, 0, sizeof(ts));
	ts.rip = st.entry;
	ts.rsp = st.rsp;
	ts.rdi = (uint64_t)m->spec.argc;
	ts.rsi = st.argv;
	ok = ok && bs_kr(m,
	                 thread_set_state(m->thread, x86_64_THREAD_STATE, (thread_state_t)&ts,
	                                  x86_64_THREAD_STATE_COUNT),
	                 "thread_set_state");
	ok = ok && bs_kr(m, thread_resume(m->thread), "thread_resume");
	if (!ok) {
		task_terminate(m->task);
		if (!MACH_PORT_VALID(m->port) || prev != MACH_PORT_NULL)
			m->done = 1; /* nobody will tell us it died */
	}
}

static void bs_append(struct bs_mod *m, const char *s, size_t n)
{
	if (m->out_len + n + 1 > m->out_cap) {
		size_t cap = m->out_cap ? m->out_cap : 4096;

		while (m->out_len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(m->out, cap);

		if (p == NULL)
			return; /* out of memory: the output is lost, the verdict is not */
		m->out = p;
		m->out_cap = cap;
	}
	memcpy(m->out + m->out_len, s, n);
	m->out_len += n;
	m->out[m->out_len] = '\0';
}

/* Prints m's whole lines not printed yet (and the partial last one if all). */
static void bs_flush(struct bs_mod *m, int all)
{
	while (m->printed < m->out_len) {
		const char *p = m->out + m->printed;
		const char *nl = memchr(p, '\n', m->out_len - m->printed);
		size_t n = nl ? (size_t)(nl - p) : m->out_len - m->printed;

		if (!nl && !all && n < BS_LINE_MAX)
			break;
		if (n > BS_LINE_MAX)
			n = BS_LINE_MAX, nl = NULL;
		bs_print(BS_PREFIX "%.*s\n", (int)n, p);
		m->printed += n + (nl != NULL);
	}
}

/* The kind of kill in the kernel's line about it, or "terminated". */
static void bs_kill_kind(const struct bs_mod *m, char *kind, size_t len)
{
	const char *last = NULL;

	for (const char *p = m->out; p && (p = strstr(p, ") killed: ")) != NULL; p++)
		last = p + 10;
	snprintf(kind, len, "terminated");
	if (last == NULL)
		return;
	size_t i = 0;

	for (; last[i] && last[i] != '\n' && last[i] != '(' &&
	       strncmp(last + i, " at rip", 7) != 0 && i + 1 < len;
	     i++)
		kind[i] = last[i] == ' ' ? '-' : last[i];
	while (i > 0 && kind[i - 1] == '-')
		i--;
	kind[i] = '\0';
}

/* Did m end as expected?  If not, why in words. */
static int bs_verdict(const struct bs_mod *m, char *why, size_t len)
{
	char kind[40];

	if (!m->started || m->why[0]) {
		snprintf(why, len, "cannot start: %s", m->why);
		return 0;
	}
	if (m->timed_out) {
		snprintf(why, len, "timed out after %u s", m->spec.timeout_s);
		return 0;
	}
	bs_kill_kind(m, kind, sizeof(kind));
	if (m->exited && m->spec.expect_killed) {
		snprintf(why, len, "exited with status %d, expected killed%s%s", m->status,
		         m->spec.expect_kind ? ":" : "",
		         m->spec.expect_kind ? m->spec.expect_kind : "");
		return 0;
	}
	if (m->exited && m->status != m->spec.expect_status) {
		snprintf(why, len, "exited with status %d, expected %d", m->status,
		         m->spec.expect_status);
		return 0;
	}
	if (!m->exited && !m->spec.expect_killed) {
		snprintf(why, len, "killed (%s), expected exit status %d", kind,
		         m->spec.expect_status);
		return 0;
	}
	if (!m->exited && m->spec.expect_kind && strcmp(kind, m->spec.expect_kind) != 0) {
		snprintf(why, len, "killed (%s), expected killed:%s", kind, m->spec.expect_kind);
		return 0;
	}
	return 1;
}

static struct bs_mod *bs_find(struct bs_mod *m, unsigned n, mach_port_t port)
{
	for (unsigned i = 0; i < n; i++)
		if (m[i].port == port && MACH_PORT_VALID(port))
			return &m[i];
	return NULL;
}

/* One message from a child's port: output, exit status or its death. */
static void bs_handle(struct bs_mod *m, unsigned n, mach_msg_header_t *h, int stream)
{
	struct bs_mod *c = bs_find(m, n, h->msgh_local_port);

	if (c == NULL)
		return;
	if (h->msgh_id == MACH_CONSOLE_OUTPUT_ID && h->msgh_size >= 36) {
		mach_console_output_msg_t *o = (mach_console_output_msg_t *)h;
		size_t len = o->data_type.msgt_number;

		if (len > h->msgh_size - 36)
			len = h->msgh_size - 36;
		bs_append(c, o->data, len);
		if (stream)
			bs_flush(c, 0);
	} else if (h->msgh_id == MACH_EXIT_STATUS_ID &&
	           h->msgh_size >= sizeof(mach_exit_status_msg_t)) {
		c->exited = 1;
		c->status = ((mach_exit_status_msg_t *)h)->status;
	} else if (h->msgh_id == MACH_NOTIFY_DEAD_NAME) {
		c->done = 1;
	}
}

/* Receives for the children m[0..n) until each is done or the deadline passed. */
static void bs_wait(struct bs_mod *m, unsigned n, uint64_t deadline, int stream)
{
	union {
		mach_msg_header_t head;
		char buf[4096];
	} msg;
	int killed = 0, since_clock = 0;
	uint64_t now = bs_now_ms();

	for (;;) {
		unsigned left = 0;

		for (unsigned i = 0; i < n; i++)
			left += !m[i].done;
		if (left == 0)
			return;
		/*
		 * The clock is an RPC: read it every 32 messages, not after each,
		 * so a child's output costs us a receive and no send (test-perf
		 * takes the first IPC send it sees during its window for its own).
		 */
		if (++since_clock >= 32) {
			now = bs_now_ms();
			since_clock = 0;
		}

		if (now >= deadline) {
			if (killed) {
				bs_print("# bootstrap: %u task(s) do not die\n", left);
				return;
			}
			for (unsigned i = 0; i < n; i++)
				if (!m[i].done) {
					m[i].timed_out = 1;
					task_terminate(m[i].task);
				}
			killed = 1;
			deadline = now + BS_KILL_WAIT_MS;
			since_clock = 32;
			continue;
		}
		mach_msg_return_t mr =
		    mach_msg(&msg.head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(msg), bs_pset,
		             (mach_msg_timeout_t)(deadline - now), MACH_PORT_NULL);

		if (mr == MACH_MSG_SUCCESS)
			bs_handle(m, n, &msg.head, stream);
		else if (mr == MACH_RCV_TIMED_OUT)
			since_clock = 32; /* the deadline may have come */
		else
			bs_print("# bootstrap: mach_msg: %s (%#x)\n", mach_error_name(mr), mr);
	}
}

/* Prints m's output and result; gives back what it ran with. */
static int bs_finish(struct bs_mod *m, unsigned index)
{
	char why[200];
	int ok = bs_verdict(m, why, sizeof(why));
	mach_port_urefs_t refs = 0;

	bs_flush(m, 1);
	if (!ok)
		bs_print("    # user: %s: %s\n", m->spec.name, why);
	bs_print("    %sok %u %s\n", ok ? "" : "not ", index, m->spec.name);
	if (MACH_PORT_VALID(m->port))
		mach_port_destroy(bs_self, m->port);
	if (MACH_PORT_VALID(m->thread))
		mach_port_deallocate(bs_self, m->thread);
	if (MACH_PORT_VALID(m->task)) {
		/* A dead name by now: ours and the notification's references. */
		if (mach_port_get_refs(bs_self, m->task, MACH_PORT_RIGHT_DEAD_NAME, &refs) ==
		        KERN_SUCCESS &&
		    refs > 0)
			mach_port_mod_refs(bs_self, m->task, MACH_PORT_RIGHT_DEAD_NAME,
			                   -(mach_port_delta_t)refs);
		else
			mach_port_deallocate(bs_self, m->task);
	}
	free(m->out);
	m->out = NULL;
	return ok;
}

static int bs_same_group(const struct bs_mod *a, const struct bs_mod *b)
{
	return a->spec.group && b->spec.group && strcmp(a->spec.group, b->spec.group) == 0;
}

/* The modules' table, if the kernel gave us one (boot=mach). */
static const struct boot_modules *bs_table(void)
{
	vm_address_t addr = BOOT_MODULES_ADDR;
	vm_size_t size;
	vm_prot_t prot, maxp;
	vm_inherit_t inh;
	boolean_t shared;
	mach_port_t obj;
	vm_offset_t off;

	if (vm_region(bs_self, &addr, &size, &prot, &maxp, &inh, &shared, &obj, &off) !=
	        KERN_SUCCESS ||
	    addr != BOOT_MODULES_ADDR)
		return NULL;
	const struct boot_modules *t = (const void *)BOOT_MODULES_ADDR;

	if (t->magic != BOOT_MODULES_MAGIC || t->count > BOOT_MODULES_MAX ||
	    sizeof(*t) + t->count * sizeof(t->mod[0]) > size)
		return NULL;
	return t;
}

static void bs_end(mach_port_t host_priv, int ok)
{
	kern_return_t kr = host_reboot(host_priv, ok ? RB_HALT : RB_AUTOBOOT);

	bs_print("# bootstrap: host_reboot: %s (%d)\n", mach_error_name(kr), kr);
	exit(2);
}

int main(void)
{
	bs_self = mach_task_self();
	bs_host = mach_host_self();
	if (task_get_special_port(bs_self, TASK_HOST_PRIV_PORT, &bs_host_priv) != KERN_SUCCESS ||
	    !MACH_PORT_VALID(bs_host_priv)) {
		bs_print("# bootstrap: no privileged host port: not the bootstrap task\n");
		return 2;
	}
	const struct boot_modules *t = bs_table();

	if (t == NULL) {
		bs_print("# bootstrap: no module table at %#lx (boot with boot=mach)\n",
		         BOOT_MODULES_ADDR);
		bs_end(bs_host_priv, 0);
	}
	unsigned n = t->count, pass = 0, fail = 0;
	struct bs_mod *m = calloc(n ? n : 1, sizeof(*m));

	if (m == NULL ||
	    mach_port_allocate(bs_self, MACH_PORT_RIGHT_PORT_SET, &bs_pset) != KERN_SUCCESS) {
		bs_print("# bootstrap: out of resources\n");
		bs_end(bs_host_priv, 0);
	}
	for (unsigned i = 0; i < n; i++)
		bs_parse(&t->mod[i], &m[i]);

	bs_print("KTAP version 1\n");
	bs_print("1..1\n");
	bs_print("    KTAP version 1\n");
	bs_print("    # Subtest: user\n");
	bs_print("    1..%u\n", n);
	for (unsigned i = 0, j; i < n; i = j) {
		unsigned timeout = m[i].spec.timeout_s;

		for (j = i + 1; j < n && bs_same_group(&m[i], &m[j]); j++)
			if (m[j].spec.timeout_s > timeout)
				timeout = m[j].spec.timeout_s;
		for (unsigned k = i; k < j; k++)
			bs_start(&m[k]);
		bs_wait(&m[i], j - i, bs_now_ms() + (uint64_t)timeout * 1000, j - i == 1);
		/*
		 * The dead children's threads are freed by the idle thread: let it
		 * run, so the next module starts on a quiet system, as under the
		 * kernel runner (test-perf looks for its own task's events).
		 */
		thread_switch(MACH_PORT_NULL, SWITCH_OPTION_WAIT, 1);
		for (unsigned k = i; k < j; k++) {
			if (bs_finish(&m[k], k + 1))
				pass++;
			else
				fail++;
		}
	}
	mach_port_destroy(bs_self, bs_pset);
	int ok = fail == 0 && n > 0;

	if (n == 0)
		bs_print("    # user: no modules to run\n");
	bs_print("%sok 1 user\n", ok ? "" : "not ");
	bs_print("# ktest totals: pass:%u fail:%u skip:0\n", pass, fail);
	bs_print("# ktest done\n");
	bs_end(bs_host_priv, ok);
	return 2;
}
