/*
 * Threshold alerts (perf_monitor_register_alert).
 *
 * The probe never sends.  perf_time_end runs with interrupts masked,
 * possibly inside an interrupt handler or with the ipc lock held, so it
 * only compares the duration with perf_alert_threshold[ev] (the lowest
 * threshold registered for the event; UINT64_MAX when none: one load and
 * a branch not taken) and, above it, perf_alert_note adds the event to
 * per-CPU counters of every registration it exceeds and sets pal_pending.
 *
 *	probe (irqs masked)     clock tick (irq)          "perf-alert" thread
 *	  count, max, pending -->  pending? wakeup  -->  collect the per-CPU counts,
 *	                                                 send what the rate allows
 *	                                                 (ipc_mqueue_send, no wait)
 *
 * The sender folds the per-CPU counts into each registration and sends at
 * most one alert per registration per PERF_ALERT_INTERVAL_NS; events in
 * between wait in the registration (count, longest) and go out with the
 * next alert, which says how many it stands for and how many got no alert
 * of their own (suppressed).  When a registration has such events held
 * back, the thread sleeps until its interval ends, so they are never left
 * unreported.  A send that finds the queue full is not retried: its
 * events go back into the registration.  A dead port ends the
 * registration.
 *
 * Locking: pal_lock (interrupts masked) guards the registrations and the
 * per-CPU counters; the probe takes it only above a threshold.  Order:
 * pal_lock, then the ipc lock.  Nothing is allocated or sent under it.
 */
#include <mach/perf_monitor_types.h>
#include <stddef.h>

#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_port.h"
#include "ipc/mach_msg.h"
#include "kern/clock.h"
#include "kern/panic.h"
#include "kern/perf_alert.h"
#include "kern/perf_analysis.h"
#include "kern/sched.h"
#include "kern/spinlock.h"
#include "kern/string.h"
#include "kern/thread.h"
#include "x86_64/cpu.h"

uint64_t perf_alert_threshold[PERF_EVENT_MAX] = { [0 ... PERF_EVENT_MAX - 1] = UINT64_MAX };

struct pal_reg {
	struct ipc_port *port; /* a send right; NULL: the slot is free */
	uint32_t event;
	uint32_t gen; /* bumped when the slot is (re)used */
	uint64_t threshold;
	uint64_t last_sent_ns; /* clock_ns of its last alert; 0: none yet */
	uint64_t seqno;        /* alerts sent */
	uint64_t count;        /* events over the threshold not yet reported */
	uint64_t longest;      /* the longest of them, and whose */
	uint32_t task, thread;
};

struct pal_cpu {
	uint64_t count[PERF_ALERT_MAX];
	uint64_t longest[PERF_ALERT_MAX];
	uint32_t task[PERF_ALERT_MAX], thread[PERF_ALERT_MAX];
};

static spinlock_t pal_lock = SPINLOCK_INIT;
static struct pal_reg pal_regs[PERF_ALERT_MAX]; /* [l] */
static struct pal_cpu pal_cpus[PERF_MAX_CPUS];  /* [l] */
static uint32_t pal_pending;                    /* [l] written, [a] read by the tick */

/* [l] perf_alert_threshold from the registrations. */
static void pal_update_thresholds(void)
{
	uint64_t t[PERF_EVENT_MAX];

	for (uint32_t e = 0; e < PERF_EVENT_MAX; e++)
		t[e] = UINT64_MAX;
	for (int i = 0; i < PERF_ALERT_MAX; i++)
		if (pal_regs[i].port && pal_regs[i].threshold < t[pal_regs[i].event])
			t[pal_regs[i].event] = pal_regs[i].threshold;
	for (uint32_t e = 0; e < PERF_EVENT_MAX; e++)
		__atomic_store_n(&perf_alert_threshold[e], t[e], __ATOMIC_RELAXED);
}

void perf_alert_note(uint32_t ev, uint32_t task, uint32_t thread, uint64_t dur)
{
	uint32_t cpu = (uint32_t)cpu_id();

	if (cpu >= PERF_MAX_CPUS)
		return;
	struct pal_cpu *pc = &pal_cpus[cpu];

	spin_lock(&pal_lock);
	for (int i = 0; i < PERF_ALERT_MAX; i++) {
		const struct pal_reg *r = &pal_regs[i];

		if (r->port == NULL || r->event != ev || dur <= r->threshold)
			continue;
		pc->count[i]++;
		if (dur > pc->longest[i]) {
			pc->longest[i] = dur;
			pc->task[i] = task;
			pc->thread[i] = thread;
		}
		pal_pending = 1;
	}
	spin_unlock(&pal_lock);
}

/* Interrupt context: hands the work to the sender thread. */
static void pal_tick(void)
{
	if (__atomic_load_n(&pal_pending, __ATOMIC_RELAXED))
		thread_wakeup(&pal_pending);
}

/* [l] Clears slot i's per-CPU counters. */
static void pal_clear_slot(int i)
{
	for (int c = 0; c < PERF_MAX_CPUS; c++) {
		pal_cpus[c].count[i] = 0;
		pal_cpus[c].longest[i] = 0;
	}
}

/* Releases a send right the alerts held (any lock but the ipc lock). */
static void pal_release(struct ipc_port *port)
{
	if (port == NULL)
		return;
	unsigned long f = ipc_lock();

	ipc_right_release(port, MACH_MSG_TYPE_PORT_SEND);
	ipc_unlock(f);
}

/* One alert the sender is about to send, taken from a registration. */
struct pal_out {
	int slot;
	uint32_t gen;
	struct ipc_port *port; /* a send right for the message */
	struct perf_alert_data data;
};

/* [l] The registration in slot i still is the one out describes. */
static struct pal_reg *pal_same(const struct pal_out *out)
{
	struct pal_reg *r = &pal_regs[out->slot];

	return r->port != NULL && r->gen == out->gen ? r : NULL;
}

/*
 * Folds the per-CPU counts into the registrations and picks the alerts
 * due; *wait_ns gets how long until a held-back one is due (0: none).
 */
static int pal_collect(struct pal_out *outs, uint64_t *wait_ns)
{
	int n = 0;
	uint64_t now = clock_ns(), wait = 0;
	bool icount = clock_mode() == CLOCK_MODE_ICOUNT;
	unsigned long f = spin_lock_irqsave(&pal_lock);

	pal_pending = 0;
	for (int i = 0; i < PERF_ALERT_MAX; i++) {
		struct pal_reg *r = &pal_regs[i];

		for (int c = 0; c < PERF_MAX_CPUS; c++) {
			struct pal_cpu *pc = &pal_cpus[c];

			if (pc->count[i] == 0)
				continue;
			r->count += pc->count[i];
			if (pc->longest[i] > r->longest) {
				r->longest = pc->longest[i];
				r->task = pc->task[i];
				r->thread = pc->thread[i];
			}
		}
		pal_clear_slot(i);
		if (r->port == NULL || r->count == 0)
			continue;
		if (r->last_sent_ns != 0 && now - r->last_sent_ns < PERF_ALERT_INTERVAL_NS) {
			uint64_t left = r->last_sent_ns + PERF_ALERT_INTERVAL_NS - now;

			if (wait == 0 || left < wait)
				wait = left;
			continue;
		}
		struct pal_out *o = &outs[n++];
		unsigned long g = ipc_lock();

		o->port = ipc_port_copy_send(r->port);
		ipc_unlock(g);
		o->slot = i;
		o->gen = r->gen;
		o->data = (struct perf_alert_data){
			.event = r->event,
			.flags = icount ? PERF_ALERT_F_ICOUNT : 0,
			.task = r->task,
			.thread = r->thread,
			.duration_ns = r->longest,
			.threshold_ns = r->threshold,
			.count = r->count,
			.suppressed = r->count - 1,
			.seqno = r->seqno + 1,
			.timestamp_ns = now,
		};
		r->seqno++;
		r->last_sent_ns = now;
		r->count = 0;
		r->longest = 0;
	}
	spin_unlock_irqrestore(&pal_lock, f);
	*wait_ns = wait;
	return n;
}

/* Sends one alert without waiting; what the queue refuses goes back. */
static void pal_send(struct pal_out *o)
{
	struct ipc_kmsg *kmsg = ipc_kmsg_alloc(PERF_ALERT_MSG_SIZE);
	mach_msg_return_t mr = MACH_SEND_NO_BUFFER;

	if (kmsg != NULL) {
		perf_alert_msg_t *m = (perf_alert_msg_t *)&kmsg->msg;

		memset(m, 0, PERF_ALERT_MSG_SIZE);
		kmsg->remote = o->port;
		kmsg->remote_type = MACH_MSG_TYPE_PORT_SEND;
		kmsg->local = NULL;
		kmsg->nitems = 0;
		kmsg->items = NULL;
		kmsg->circular = false;
		m->head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, 0);
		m->head.msgh_size = PERF_ALERT_MSG_SIZE;
		m->head.msgh_id = PERF_ALERT_MSGH_ID;
		m->data_type = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_INTEGER_32,
			                          .msgt_size = 32,
			                          .msgt_number = sizeof(m->data) / 4,
			                          .msgt_inline = 1 };
		memcpy(&m->data, &o->data, sizeof(m->data));
		mr = ipc_mqueue_send(kmsg, MACH_SEND_TIMEOUT, 0);
		if (mr == MACH_MSG_SUCCESS)
			return;
		ipc_kmsg_destroy_unlocked(kmsg); /* releases the message's right */
	} else {
		pal_release(o->port);
	}

	struct ipc_port *dead = NULL;
	unsigned long f = spin_lock_irqsave(&pal_lock);
	struct pal_reg *r = pal_same(o);

	if (r && mr == MACH_SEND_INVALID_DEST) {
		dead = r->port; /* the port died: so does the registration */
		r->port = NULL;
		pal_update_thresholds();
	} else if (r) {
		/* Not delivered: its events go with the next alert. */
		r->count += o->data.count;
		if (o->data.duration_ns > r->longest) {
			r->longest = o->data.duration_ns;
			r->task = o->data.task;
			r->thread = o->data.thread;
		}
		r->seqno--;
	}
	spin_unlock_irqrestore(&pal_lock, f);
	pal_release(dead);
}

static void pal_thread(void *arg)
{
	struct pal_out outs[PERF_ALERT_MAX];

	for (;;) {
		uint64_t wait;
		int n = pal_collect(outs, &wait);

		for (int i = 0; i < n; i++)
			pal_send(&outs[i]);

		unsigned long f = spin_lock_irqsave(&pal_lock);

		if (pal_pending) {
			spin_unlock_irqrestore(&pal_lock, f);
			continue;
		}
		thread_assert_wait(&pal_pending);
		if (wait != 0)
			thread_set_timeout(wait);
		spin_unlock_irqrestore(&pal_lock, f);
		thread_block();
	}
}

void perf_alert_init(void)
{
	if (thread_create_kernel("perf-alert", pal_thread, NULL, SCHED_PRI_DEFAULT + 1, NULL) !=
	    KERN_SUCCESS)
		panic("perf_alert_init: cannot create the alert thread");
	clock_register_tick_hook(pal_tick);
}

kern_return_t perf_alert_register(struct ipc_port *port, uint32_t ev, uint64_t threshold)
{
	struct ipc_port *drop[PERF_ALERT_MAX + 1];
	int ndrop = 0;
	kern_return_t kr = KERN_RESOURCE_SHORTAGE;

	if (ev >= PERF_EVENT_MAX || !(PERF_ALERT_EVENTS & (1u << ev)) || threshold == 0 ||
	    !IP_VALID(port)) {
		pal_release(IP_VALID(port) ? port : NULL);
		return KERN_INVALID_ARGUMENT;
	}

	unsigned long f = spin_lock_irqsave(&pal_lock);
	unsigned long g = ipc_lock();
	bool ok = port->active && port->kotype == IKOT_NONE;

	ipc_unlock(g);
	if (!ok) {
		spin_unlock_irqrestore(&pal_lock, f);
		pal_release(port);
		return KERN_INVALID_ARGUMENT;
	}
	/* Registrations whose port died end here too. */
	for (int i = 0; i < PERF_ALERT_MAX; i++) {
		struct pal_reg *r = &pal_regs[i];

		if (r->port && !r->port->active) {
			drop[ndrop++] = r->port;
			r->port = NULL;
		}
	}
	for (int i = 0; i < PERF_ALERT_MAX && kr != KERN_SUCCESS; i++)
		if (pal_regs[i].port == port && pal_regs[i].event == ev) {
			pal_regs[i].threshold = threshold; /* the new right is one too many */
			drop[ndrop++] = port;
			kr = KERN_SUCCESS;
		}
	for (int i = 0; i < PERF_ALERT_MAX && kr != KERN_SUCCESS; i++) {
		struct pal_reg *r = &pal_regs[i];

		if (r->port != NULL)
			continue;
		uint32_t gen = r->gen + 1;

		*r = (struct pal_reg){
			.port = port, .event = ev, .gen = gen, .threshold = threshold
		};
		pal_clear_slot(i);
		kr = KERN_SUCCESS;
	}
	if (kr != KERN_SUCCESS)
		drop[ndrop++] = port;
	pal_update_thresholds();
	spin_unlock_irqrestore(&pal_lock, f);
	for (int i = 0; i < ndrop; i++)
		pal_release(drop[i]);
	return kr;
}

kern_return_t perf_alert_cancel(struct ipc_port *port, uint32_t ev)
{
	struct ipc_port *drop[PERF_ALERT_MAX];
	int ndrop = 0;

	if (ev >= PERF_EVENT_MAX || !IP_VALID(port)) {
		pal_release(IP_VALID(port) ? port : NULL);
		return KERN_INVALID_ARGUMENT;
	}
	unsigned long f = spin_lock_irqsave(&pal_lock);

	for (int i = 0; i < PERF_ALERT_MAX; i++) {
		struct pal_reg *r = &pal_regs[i];

		if (r->port == port && r->event == ev) {
			drop[ndrop++] = r->port;
			r->port = NULL;
		}
	}
	pal_update_thresholds();
	spin_unlock_irqrestore(&pal_lock, f);
	for (int i = 0; i < ndrop; i++)
		pal_release(drop[i]);
	pal_release(port);
	return KERN_SUCCESS;
}

unsigned perf_alert_count(void)
{
	unsigned n = 0;
	unsigned long f = spin_lock_irqsave(&pal_lock);

	for (int i = 0; i < PERF_ALERT_MAX; i++)
		n += pal_regs[i].port != NULL;
	spin_unlock_irqrestore(&pal_lock, f);
	return n;
}
