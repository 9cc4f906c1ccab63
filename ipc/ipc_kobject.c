/*
 * Kernel objects, their ports and the dispatch to kernel servers (the
 * design is in ipc_kobject.h); IPC start-up; the self traps.
 */
#include <mach/mig_errors.h>
#include <mach/task_special_ports.h>
#include <stddef.h>

#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_kobject.h"
#include "ipc/ipc_kobject_rpc.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/perf_analysis.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"

void ipc_port_zones_init(void);
void ipc_space_kernel_init(void);

/* [i] for writers; read without the lock (ipc_kobject_demux, ipc_kobject_rpc.h) */
ipc_kobject_demux_t ipc_demux[IKOT_MAX][IPC_KOBJECT_DEMUX_MAX];
static struct ipc_port *ipc_host, *ipc_host_priv; /* [I] after ipc_init */

void ipc_init(void)
{
	ipc_port_zones_init();
	ipc_space_kernel_init();
	ipc_host = ipc_kobject_alloc(IKOT_HOST, NULL);
	ipc_host_priv = ipc_kobject_alloc(IKOT_HOST_PRIV, NULL);
	if (ipc_host == NULL || ipc_host_priv == NULL)
		panic("ipc_init: no memory for the host ports");
}

struct ipc_port *ipc_host_port(void)
{
	return ipc_host;
}

struct ipc_port *ipc_host_priv_port(void)
{
	return ipc_host_priv;
}

bool ipc_kobject_register(enum ipc_kotype type, ipc_kobject_demux_t demux)
{
	bool ok = false;

	if (type <= IKOT_NONE || type >= IKOT_MAX || demux == NULL)
		return false;
	unsigned long f = ipc_lock();

	for (int i = 0; i < IPC_KOBJECT_DEMUX_MAX && !ok; i++)
		if (ipc_demux[type][i] == NULL) {
			__atomic_store_n(&ipc_demux[type][i], demux, __ATOMIC_RELEASE);
			ok = true;
		}
	ipc_unlock(f);
	return ok;
}

void ipc_kobject_unregister(enum ipc_kotype type, ipc_kobject_demux_t demux)
{
	if (type <= IKOT_NONE || type >= IKOT_MAX)
		return;
	unsigned long f = ipc_lock();

	for (int i = 0; i < IPC_KOBJECT_DEMUX_MAX; i++)
		if (ipc_demux[type][i] == demux) {
			for (int j = i; j + 1 < IPC_KOBJECT_DEMUX_MAX; j++)
				__atomic_store_n(&ipc_demux[type][j], ipc_demux[type][j + 1],
				                 __ATOMIC_RELEASE);
			__atomic_store_n(&ipc_demux[type][IPC_KOBJECT_DEMUX_MAX - 1], NULL,
			                 __ATOMIC_RELEASE);
			break;
		}
	ipc_unlock(f);
}

struct ipc_port *ipc_kobject_alloc(enum ipc_kotype type, void *obj)
{
	unsigned long f = ipc_lock();
	struct ipc_port *port = ipc_port_alloc();

	if (port) {
		port->kotype = type;
		port->kobject = obj;
	}
	ipc_unlock(f);
	return port;
}

void ipc_kobject_destroy(struct ipc_port *port)
{
	if (port == NULL)
		return;
	unsigned long f = ipc_lock();

	ipc_port_destroy(port);
	ipc_port_release(port);
	ipc_unlock(f);
}

void *ipc_kobject_lookup(struct ipc_space *space, mach_port_name_t name, enum ipc_kotype type)
{
	void *obj = NULL;
	unsigned long f = ipc_lock();
	struct ipc_entry *e = ipc_entry_lookup(space, name);

	if (e && (e->type & MACH_PORT_TYPE_SEND_RIGHTS)) {
		struct ipc_port *port = e->object;

		if (port->active && port->kotype == type)
			obj = port->kobject;
	}
	ipc_unlock(f);
	return obj;
}

mach_port_name_t ipc_kobject_send_right(struct ipc_space *space, struct ipc_port *port)
{
	mach_port_name_t name = MACH_PORT_NULL;

	if (space == NULL || port == NULL)
		return MACH_PORT_NULL;
	unsigned long f = ipc_lock();

	if (port->active) {
		ipc_port_make_send(port);
		if (ipc_right_copyout(space, port, MACH_MSG_TYPE_PORT_SEND, &name) != KERN_SUCCESS)
			name = MACH_PORT_NULL;
	}
	ipc_unlock(f);
	return name;
}

/* [i] Gives up the right name holds of type in the kernel space (one send reference). */
static void kobject_release_name(mach_port_name_t name, mach_msg_type_name_t type)
{
	struct ipc_entry *e;

	if (!MACH_PORT_VALID(name) || (e = ipc_entry_lookup(ipc_space_kernel, name)) == NULL)
		return;
	if (type == MACH_MSG_TYPE_PORT_SEND && (e->type & MACH_PORT_TYPE_SEND) && e->urefs > 1) {
		e->urefs--;
		return;
	}
	if (type == MACH_MSG_TYPE_PORT_SEND && (e->type & MACH_PORT_TYPE_RECEIVE)) {
		struct ipc_port *port = e->object;

		/* The entry keeps its reference for the receive right. */
		e->type &= ~MACH_PORT_TYPE_SEND;
		e->urefs = 0;
		ipc_port_reference(port);
		ipc_right_release(port, MACH_MSG_TYPE_PORT_SEND);
		return;
	}
	ipc_right_destroy(ipc_space_kernel, name, e);
}

/*
 * Destroys what a request received into the kernel space carried: body
 * rights (names there) and out-of-line buffers.  The layout was checked
 * when the request was copied in.  For a reply (reply: true) that could
 * not be sent, the same for the rights the routine named, and only the
 * buffers it handed over (the deallocate bit).
 */
static void kobject_destroy_msg_body(mach_msg_header_t *in, bool reply)
{
	uint8_t *base = (uint8_t *)in;
	uint32_t off = sizeof(*in), size = in->msgh_size;

	if (!(in->msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return;
	while (off + sizeof(mach_msg_type_t) <= size) {
		mach_msg_type_t t;
		uint32_t name, bits, number, hlen = sizeof(t);

		memcpy(&t, base + off, sizeof(t));
		name = t.msgt_name;
		bits = t.msgt_size;
		number = t.msgt_number;
		if (t.msgt_longform) {
			mach_msg_type_long_t lt;

			memcpy(&lt, base + off, sizeof(lt));
			name = lt.msgtl_name;
			bits = lt.msgtl_size;
			number = lt.msgtl_number;
			hlen = sizeof(lt);
		}
		uint32_t dpos = off + hlen;
		uint64_t length = ((uint64_t)number * bits + 7) / 8;
		bool is_port = MACH_MSG_TYPE_PORT_ANY(name);
		mach_port_name_t *names;

		if (t.msgt_inline) {
			names = (mach_port_name_t *)(base + dpos);
			off = dpos + (uint32_t)((length + 3) & ~3ull);
		} else {
			uint64_t addr;

			memcpy(&addr, base + dpos, sizeof(addr));
			names = (mach_port_name_t *)addr;
			off = dpos + sizeof(addr);
		}
		if (is_port && names) {
			unsigned long f = ipc_lock();

			for (uint32_t j = 0; j < number; j++) {
				mach_port_name_t n;

				memcpy(&n, &names[j], sizeof(n));
				kobject_release_name(n, name);
			}
			ipc_unlock(f);
		}
		if (!t.msgt_inline && (!reply || t.msgt_deallocate))
			kfree(names);
	}
}

static void kobject_destroy_body(mach_msg_header_t *in)
{
	kobject_destroy_msg_body(in, false);
}

/*
 * Every right a kernel routine puts in a reply was made for it (a new
 * send right or a name taken out of some space) and has a name in the
 * kernel space only for the trip.  MIG's COPY_SEND (mach_port_t, task_t
 * ...) would leave the kernel a copy nobody releases: it becomes
 * MOVE_SEND, which the receiver sees the same (PORT_SEND).
 */
static void kobject_reply_moves(mach_msg_header_t *out)
{
	uint8_t *base = (uint8_t *)out;
	uint32_t off = sizeof(*out), size = out->msgh_size;

	if (!(out->msgh_bits & MACH_MSGH_BITS_COMPLEX) || size > IPC_KOBJECT_REPLY_MAX)
		return;
	while (off + sizeof(mach_msg_type_t) <= size) {
		mach_msg_type_t t;
		uint32_t number, bits, hlen = sizeof(t);

		memcpy(&t, base + off, sizeof(t));
		number = t.msgt_number;
		bits = t.msgt_size;
		if (t.msgt_longform) {
			mach_msg_type_long_t lt;

			if (off + sizeof(lt) > size)
				return;
			memcpy(&lt, base + off, sizeof(lt));
			if (lt.msgtl_name == MACH_MSG_TYPE_COPY_SEND) {
				lt.msgtl_name = MACH_MSG_TYPE_MOVE_SEND;
				memcpy(base + off, &lt, sizeof(lt));
			}
			number = lt.msgtl_number;
			bits = lt.msgtl_size;
			hlen = sizeof(lt);
		} else if (t.msgt_name == MACH_MSG_TYPE_COPY_SEND) {
			t.msgt_name = MACH_MSG_TYPE_MOVE_SEND;
			memcpy(base + off, &t, sizeof(t));
		}
		if (t.msgt_inline)
			off += hlen + (uint32_t)((((uint64_t)number * bits + 7) / 8 + 3) & ~3ull);
		else
			off += hlen + sizeof(uint64_t);
	}
}

/* A MIG reply to in that carries only the error code. */
static void kobject_error_reply(const mach_msg_header_t *in, mach_msg_header_t *out,
                                kern_return_t code)
{
	mig_reply_header_t *r = (mig_reply_header_t *)out;

	memset(r, 0, sizeof(*r));
	r->Head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->msgh_bits), 0);
	r->Head.msgh_size = sizeof(*r);
	r->Head.msgh_remote_port = in->msgh_remote_port;
	r->Head.msgh_local_port = MACH_PORT_NULL;
	r->Head.msgh_id = in->msgh_id + 100;
	r->RetCodeType = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_INTEGER_32,
		                            .msgt_size = 32,
		                            .msgt_number = 1,
		                            .msgt_inline = 1 };
	r->RetCode = code;
}

/* The reply a MIG server writes for an id it does not know. */
void ipc_kobject_bad_id(const mach_msg_header_t *in, mach_msg_header_t *out)
{
	kobject_error_reply(in, out, MIG_BAD_ID);
}

/*
 * One static request and one static reply buffer, for the call that
 * finds them free (a nested or concurrent call, or a bigger request,
 * uses kalloc): a multi-page reply buffer taken and given back per RPC
 * cost ~2,900 instructions (docs/benchmarks.md).
 */
#define KOBJECT_IN_MAX 2048

static union {
	mach_msg_header_t h;
	uint8_t b[KOBJECT_IN_MAX];
} kobject_in_buf;
union ipc_kobject_out_buf ipc_kobject_out_buf;
bool ipc_kobject_out_busy;

static bool kobject_in_busy; /* [a] the static buffer is handed out */

static mach_msg_header_t *kobject_in_get(mach_msg_size_t size)
{
	return ipc_kobject_buf_get(&kobject_in_buf.h, KOBJECT_IN_MAX, &kobject_in_busy, size);
}

static void kobject_in_put(mach_msg_header_t *in)
{
	ipc_kobject_buf_put(&kobject_in_buf.h, &kobject_in_busy, in);
}

/* The reply in out (its rights named in the kernel space) copied in as a kmsg, or NULL. */
static struct ipc_kmsg *kobject_reply_kmsg(mach_msg_header_t *out)
{
	struct ipc_io io = { .space = ipc_space_kernel, .map = NULL, .kern = true };
	struct ipc_kmsg *reply = NULL;
	unsigned long f;

	kobject_reply_moves(out);
	mach_msg_return_t mr = ipc_kmsg_get(&io, (uintptr_t)out, out->msgh_size, &reply);
	/* Whether a failure left the header's reply right in the kernel space. */
	bool header_left = mr != MACH_MSG_SUCCESS;

	if (mr == MACH_MSG_SUCCESS) {
		mr = ipc_kmsg_copyin(&io, reply);
		header_left = mr == MACH_SEND_INVALID_HEADER || mr == MACH_SEND_INVALID_DEST ||
		              mr == MACH_SEND_INVALID_REPLY;
	}
	if (mr == MACH_MSG_SUCCESS)
		return reply;
	/*
	 * Not sent.  The reply right goes (its send-once notification tells
	 * the caller, MIG_SERVER_DIED) unless the copyin took and destroyed
	 * it already; the body's rights and handed-over buffers, named and
	 * held in the kernel space for the trip, go too (ipc_kmsg_copyin
	 * takes none of them when it fails).
	 */
	if (header_left) {
		f = ipc_lock();
		kobject_release_name(out->msgh_remote_port, MACH_MSG_TYPE_PORT_SEND_ONCE);
		ipc_unlock(f);
	}
	kobject_destroy_msg_body(out, true);
	return NULL;
}

void ipc_kobject_dispatch(struct ipc_kmsg *kmsg)
{
	struct ipc_kmsg *reply = ipc_kobject_serve(kmsg);

	if (reply && ipc_mqueue_send(reply, MACH_SEND_ALWAYS, 0) != MACH_MSG_SUCCESS)
		ipc_kmsg_destroy_unlocked(reply);
}

struct ipc_kmsg *ipc_kobject_serve(struct ipc_kmsg *kmsg)
{
	struct ipc_kmsg *reply = NULL;
	struct ipc_io io = { .space = ipc_space_kernel, .map = NULL, .kern = true };
	mach_msg_header_t *in = kobject_in_get(kmsg->size), *out = ipc_kobject_out_get();
	struct ipc_port *port = kmsg->remote;

	if (in == NULL || out == NULL) {
		if (in)
			kobject_in_put(in);
		if (out)
			ipc_kobject_out_put(out);
		ipc_kmsg_destroy_unlocked(kmsg); /* the reply right's notification says it failed */
		return NULL;
	}
	unsigned long f = ipc_lock();

	ipc_port_reference(port); /* the kmsg's right goes to the kernel space */
	ipc_unlock(f);
	/*
	 * A request the kernel space could not take whole (out of memory for
	 * its out-of-line data or its rights' names) is not served: the
	 * routine would see a null buffer or name.  Its reply says
	 * KERN_RESOURCE_SHORTAGE, and what did arrive is destroyed below as
	 * for any failed routine.
	 */
	if (ipc_kmsg_copyout(&io, kmsg, (uintptr_t)in, 0, false) == MACH_MSG_SUCCESS)
		ipc_kobject_demux(port, in, out);
	else
		kobject_error_reply(in, out, KERN_RESOURCE_SHORTAGE);
	f = ipc_lock();
	ipc_port_release(port);
	kobject_release_name(in->msgh_local_port, MACH_MSGH_BITS_LOCAL(in->msgh_bits));
	ipc_unlock(f);

	kern_return_t rc = ipc_kobject_retcode(out);

	if (rc != KERN_SUCCESS && rc != MIG_NO_REPLY)
		kobject_destroy_body(in);
	if (rc != MIG_NO_REPLY && MACH_PORT_VALID(out->msgh_remote_port))
		reply = kobject_reply_kmsg(out);
	kobject_in_put(in);
	ipc_kobject_out_put(out);
	return reply;
}

struct ipc_port *ipc_kobject_port(mach_port_name_t name)
{
	if (name == IPC_KOBJECT_NAME_TARGET)
		return thread_current()->ith_kcall;
	struct ipc_entry *e = ipc_entry_lookup(ipc_space_kernel, name);

	return e && (e->type & MACH_PORT_TYPE_SEND_RIGHTS) ? e->object : NULL;
}

/*
 * ipc_kobject_rpc_serve's reply as a kmsg carrying the reply right (now named
 * in the kernel space for the trip); NULL if that failed.
 */
static struct ipc_kmsg *kobject_rpc_kmsg(mach_msg_header_t *out, struct ipc_port *reply_port)
{
	mach_port_name_t name;
	unsigned long f = ipc_lock();

	if (ipc_right_copyout(ipc_space_kernel, reply_port, MACH_MSG_TYPE_PORT_SEND_ONCE, &name) !=
	    KERN_SUCCESS)
		name = MACH_PORT_NULL; /* the right was destroyed: the caller hears of it */
	ipc_unlock(f);
	if (!MACH_PORT_VALID(name)) {
		kobject_destroy_body(out);
		return NULL;
	}
	out->msgh_remote_port_do_not_use = name;
	return kobject_reply_kmsg(out);
}

mach_msg_header_t *ipc_kobject_rpc_other(struct ipc_port *reply_port, mach_msg_header_t *out,
                                         struct ipc_kmsg **kmsg)
{
	kern_return_t rc;

	*kmsg = NULL;
	if (out == NULL) {
		unsigned long f = ipc_lock();

		ipc_right_release(reply_port, MACH_MSG_TYPE_PORT_SEND_ONCE); /* no reply */
		ipc_unlock(f);
		return NULL;
	}
	rc = ipc_kobject_retcode(out);
	if (rc != MIG_NO_REPLY && out->msgh_remote_port == IPC_KOBJECT_NAME_REPLY) {
		if (ipc_kobject_reply_simple(out))
			return out;
		*kmsg = kobject_rpc_kmsg(out, reply_port);
	} else {
		/* No reply to the reply right: it is destroyed, and its notification says so. */
		unsigned long f = ipc_lock();

		ipc_right_release(reply_port, MACH_MSG_TYPE_PORT_SEND_ONCE);
		ipc_unlock(f);
		if (rc != MIG_NO_REPLY && MACH_PORT_VALID(out->msgh_remote_port))
			*kmsg = kobject_reply_kmsg(out); /* to some other right the server made */
	}
	ipc_kobject_out_put(out);
	return NULL;
}

mach_msg_return_t ipc_kobject_rpc_finish(const struct ipc_io *io, mach_msg_header_t *simple,
                                         struct ipc_kmsg *reply, struct ipc_port *reply_port,
                                         uintptr_t msg, mach_msg_option_t option,
                                         mach_msg_size_t rcv_size, mach_port_name_t rcv_name,
                                         mach_msg_timeout_t timeout)
{
	if (simple) {
		reply = kobject_rpc_kmsg(simple, reply_port);
		ipc_kobject_out_put(simple);
	}
	return mach_msg_fast_reply(io, reply, reply_port, msg, option, rcv_size, rcv_name, timeout);
}

kern_return_t ipc_task_init(struct task *task)
{
	kern_return_t kr = ipc_space_create(&task->itk_space);

	if (kr != KERN_SUCCESS)
		return kr;
	task->itk_self = ipc_kobject_alloc(IKOT_TASK, task);
	if (task->itk_self == NULL) {
		ipc_space_destroy(task->itk_space);
		task->itk_space = NULL;
		return KERN_RESOURCE_SHORTAGE;
	}
	return KERN_SUCCESS;
}

struct ipc_port *ipc_thread_port(struct thread *thread)
{
	unsigned long f = ipc_lock();

	if (thread->ith_self == NULL) {
		struct ipc_port *port = ipc_port_alloc();

		if (port) {
			port->kotype = IKOT_THREAD;
			port->kobject = thread;
		}
		thread->ith_self = port;
	}
	struct ipc_port *port = thread->ith_self;

	ipc_unlock(f);
	return port;
}

static struct ipc_port **ipc_task_special_slot(struct task *task, int which)
{
	switch (which) {
	case TASK_BOOTSTRAP_PORT:
		return &task->itk_bootstrap;
	case TASK_EXCEPTION_PORT:
		return &task->itk_exception;
	case TASK_HOST_PRIV_PORT:
		return &task->itk_host_priv;
	case TASK_CONSOLE_PORT: /* boot=mach */
		return &task->itk_console;
	default:
		return NULL;
	}
}

kern_return_t ipc_task_set_special_right(struct task *task, int which, struct ipc_port *right)
{
	struct ipc_port **slot = ipc_task_special_slot(task, which);

	if (slot == NULL)
		return KERN_INVALID_ARGUMENT;
	struct ipc_port *old = *slot;

	/* A dying task keeps nothing: its rights were released already. */
	*slot = task->itk_self ? right : NULL;
	if (task->itk_self == NULL)
		ipc_right_release(right, MACH_MSG_TYPE_PORT_SEND);
	ipc_right_release(old, MACH_MSG_TYPE_PORT_SEND);
	return KERN_SUCCESS;
}

kern_return_t ipc_task_set_special(struct task *task, int which, struct ipc_port *port)
{
	if (ipc_task_special_slot(task, which) == NULL)
		return KERN_INVALID_ARGUMENT;
	unsigned long f = ipc_lock();
	struct ipc_port *right = port && port->active ? ipc_port_make_send(port) : NULL;
	kern_return_t kr = ipc_task_set_special_right(task, which, right);

	ipc_unlock(f);
	return kr;
}

/*
 * boot=mach: sends what task printed to its console port as one
 * MACH_CONSOLE_OUTPUT_ID message, waiting while the queue is full (an
 * interrupted or refused send drops it).  False if the task has no
 * console port: the caller prints.  No locks held (it may block).
 */
bool ipc_task_console_send(struct task *task, const char *s, size_t len)
{
	unsigned long f = ipc_lock();
	struct ipc_port *port = task->itk_console;

	if (!IP_VALID(port)) {
		ipc_unlock(f);
		return false;
	}
	port = ipc_port_copy_send(port);
	ipc_unlock(f);
	if (len > MACH_CONSOLE_OUTPUT_MAX)
		len = MACH_CONSOLE_OUTPUT_MAX;
	mach_msg_size_t size =
	    (mach_msg_size_t)(offsetof(mach_console_output_msg_t, data) + ((len + 3) & ~(size_t)3));
	struct ipc_kmsg *kmsg = ipc_kmsg_alloc(size);

	if (kmsg == NULL) {
		f = ipc_lock();
		ipc_right_release(port, MACH_MSG_TYPE_PORT_SEND);
		ipc_unlock(f);
		return true;
	}
	mach_console_output_msg_t *m = (mach_console_output_msg_t *)&kmsg->msg;

	memset(m, 0, size);
	kmsg->remote = port;
	kmsg->remote_type = MACH_MSG_TYPE_PORT_SEND;
	kmsg->local = NULL;
	kmsg->nitems = 0;
	kmsg->items = NULL;
	kmsg->circular = false;
	m->head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, 0);
	m->head.msgh_size = size;
	m->head.msgh_id = MACH_CONSOLE_OUTPUT_ID;
	m->data_type = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_CHAR,
		                          .msgt_size = 8,
		                          .msgt_number = (unsigned)len,
		                          .msgt_inline = 1 };
	memcpy(m->data, s, len);
	if (ipc_mqueue_send(kmsg, MACH_MSG_OPTION_NONE, 0) != MACH_MSG_SUCCESS)
		ipc_kmsg_destroy_unlocked(kmsg); /* releases the message's right */
	return true;
}

void ipc_task_terminate(struct task *task)
{
	struct ipc_port *port = task->itk_self;
	unsigned long f = ipc_lock();

	task->itk_self = NULL;
	for (int which = TASK_EXCEPTION_PORT; which <= TASK_CONSOLE_PORT; which++) {
		struct ipc_port **slot = ipc_task_special_slot(task, which);

		if (slot && *slot) {
			ipc_right_release(*slot, MACH_MSG_TYPE_PORT_SEND);
			*slot = NULL;
		}
	}
	ipc_unlock(f);
	ipc_kobject_destroy(port);
	if (task->itk_space)
		ipc_space_terminate(task->itk_space);
}

void ipc_task_free(struct task *task)
{
	ipc_task_terminate(task);
	ipc_space_destroy(task->itk_space);
	task->itk_space = NULL;
}

void ipc_thread_free(struct thread *thread)
{
	struct ipc_port *port = thread->ith_self;

	thread->ith_self = NULL;
	ipc_kobject_destroy(port);
}

mach_port_name_t ipc_trap_task_self(void)
{
	struct task *task = task_current();
	struct ipc_port *port;

	if (task == NULL || (port = task->itk_self) == NULL)
		return MACH_PORT_NULL;
	return ipc_kobject_send_right(task->itk_space, port);
}

mach_port_name_t ipc_trap_thread_self(void)
{
	struct thread *self = thread_current();
	struct task *task = self->task;

	if (task == NULL)
		return MACH_PORT_NULL;
	struct ipc_port *port = ipc_thread_port(self);

	return port ? ipc_kobject_send_right(task->itk_space, port) : MACH_PORT_NULL;
}

mach_port_name_t ipc_trap_host_self(void)
{
	struct task *task = task_current();

	return task ? ipc_kobject_send_right(task->itk_space, ipc_host) : MACH_PORT_NULL;
}

mach_port_name_t ipc_trap_reply_port(void)
{
	struct task *task = task_current();
	mach_port_name_t name = MACH_PORT_NULL;

	if (task == NULL || task->itk_space == NULL)
		return MACH_PORT_NULL;
	unsigned long f = ipc_lock();
	struct ipc_port *port = ipc_port_alloc();

	if (port && ipc_right_copyout(task->itk_space, port, MACH_MSG_TYPE_PORT_RECEIVE, &name) !=
	                KERN_SUCCESS)
		name = MACH_PORT_NULL;
	ipc_unlock(f);
	return name;
}
