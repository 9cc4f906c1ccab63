/*
 * Tasks and threads as kernel objects: the task and thread routines of
 * the mach subsystem (S_task_*, S_thread_*, MIG's serverprefix), the
 * exit-status server and the registration of the kernel's servers.
 *
 * How a routine sees its arguments (mig-defs/README.md): port arguments
 * are names in the kernel's IPC space, each holding the right the
 * request carried (the request port of a fast-path call is the reserved
 * IPC_KOBJECT_NAME_TARGET; ipc_kobject_port resolves both kinds).  The request port (the task or thread addressed) is
 * released by the dispatch; every other right and out-of-line buffer is
 * the routine's on success (it must consume it) and is destroyed by the
 * dispatch when the routine fails.  Rights a routine returns are names
 * it made in the kernel space; the reply moves them to the caller.
 *
 * Objects are found from names under the ipc lock and referenced before
 * it is dropped, with a reference taken only from a live count (a task
 * or thread whose count reached zero is being freed and is not found).
 * A task's map is referenced on its own (ipc_tt_task_map, kern/ipc_tt.h).
 *
 * Codes (GNU Mach's): KERN_INVALID_ARGUMENT for a name that is not a
 * task (thread) port, a bad flavor, a count too small or a special port
 * number out of range; KERN_FAILURE for resuming what is not suspended;
 * KERN_RESOURCE_SHORTAGE when memory runs out.
 *
 * Not like GNU Mach: task_create makes an empty task whatever
 * inherit_memory says (no memory is copied), with no special ports but
 * its kernel port; the state of a thread that is not suspended is read
 * and written all the same (on a uniprocessor it is always stopped in
 * the kernel when another thread asks).
 */
#include <mach/mig_errors.h>
#include <mach/task_info.h>
#include <mach/task_special_ports.h>
#include <mach/thread_info.h>
#include <stddef.h>

#include "ipc/ipc_kobject.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "kern/ipc_tt.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/sched.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "mach_S.h" /* mig-gen/ */
#include "vm/vm_map.h"
#include "x86_64/cpu.h"
#include "x86_64/thread_state.h"
#include "x86_64/tsc.h"

boolean_t mach_server(mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t mach_port_server(mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t mach_host_server(mach_msg_header_t *in, mach_msg_header_t *out);

/* One more reference, unless the count already reached zero (being freed). */
static bool tt_ref_live(uint32_t *refs)
{
	uint32_t r = __atomic_load_n(refs, __ATOMIC_RELAXED);

	do {
		if (r == 0)
			return false;
	} while (!__atomic_compare_exchange_n(refs, &r, r + 1, false, __ATOMIC_ACQ_REL,
	                                      __ATOMIC_RELAXED));
	return true;
}

struct task *ipc_tt_task(mach_port_t name)
{
	unsigned long f = ipc_lock();
	struct task *task = ipc_tt_object(name, IKOT_TASK);

	if (task && !tt_ref_live(&task->refs))
		task = NULL;
	ipc_unlock(f);
	return task;
}

struct vm_map *ipc_tt_task_map_locked(mach_port_t name)
{
	unsigned long f = ipc_lock();
	struct task *task = ipc_tt_object(name, IKOT_TASK);
	struct vm_map *map = task ? task->map : NULL;

	if (map)
		vm_map_reference(map);
	ipc_unlock(f);
	return map;
}

struct thread *ipc_tt_thread(mach_port_t name)
{
	unsigned long f = ipc_lock();
	struct thread *t = ipc_tt_object(name, IKOT_THREAD);

	if (t && !tt_ref_live(&t->refs))
		t = NULL;
	ipc_unlock(f);
	return t;
}

/* A user thread that has not terminated, with a reference, or NULL. */
static struct thread *tt_user_thread(mach_port_t name)
{
	struct thread *t = ipc_tt_thread(name);

	if (t && (t->task == NULL || t->state == TH_TERMINATED)) {
		thread_deallocate(t);
		t = NULL;
	}
	return t;
}

/* A send right to port, named in the kernel space for the reply; NULL/DEAD as they are. */
static mach_port_t tt_reply_right(struct ipc_port *port, bool make)
{
	mach_port_name_t name = MACH_PORT_NULL;

	if (port == NULL)
		return MACH_PORT_NULL;
	unsigned long f = ipc_lock();

	if (port == IP_DEAD || !port->active) {
		name = MACH_PORT_DEAD;
	} else {
		if (make)
			ipc_port_make_send(port);
		else
			ipc_port_copy_send(port);
		if (ipc_right_copyout(ipc_space_kernel, port, MACH_MSG_TYPE_PORT_SEND, &name) !=
		    KERN_SUCCESS)
			name = MACH_PORT_NULL;
	}
	ipc_unlock(f);
	return name;
}

static time_value_t tt_time(uint64_t ns)
{
	return (time_value_t){ .seconds = (int64_t)(ns / 1000000000ull),
		               .microseconds = (integer_t)(ns % 1000000000ull / 1000) };
}

/* Applies op to the task named by a task port: the shape of several routines. */
static kern_return_t tt_on_task(mach_port_t name, kern_return_t (*op)(struct task *))
{
	struct task *task = ipc_tt_task(name);

	if (task == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = op(task);

	task_deallocate(task);
	return kr;
}

/* The same for a user thread named by a thread port. */
static kern_return_t tt_on_thread(mach_port_t name, kern_return_t (*op)(struct thread *))
{
	struct thread *t = tt_user_thread(name);

	if (t == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = op(t);

	thread_deallocate(t);
	return kr;
}

kern_return_t S_task_create(mach_port_t target_task, boolean_t inherit_memory,
                            mach_port_t *child_task)
{
	struct task *parent = ipc_tt_task(target_task), *child;

	(void)inherit_memory; /* an empty task either way (see the top) */
	if (parent == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = task_create(parent->name, &child);

	if (kr == KERN_SUCCESS)
		strlcpy(child->console_prefix, parent->console_prefix,
		        sizeof(child->console_prefix));
	task_deallocate(parent);
	if (kr != KERN_SUCCESS)
		return kr;
	/* The creation reference now keeps it alive until it dies (kern/task.c). */
	task_reference(child);
	child->rpc_ref = true;
	*child_task = tt_reply_right(child->itk_self, true);
	if (!MACH_PORT_VALID(*child_task)) {
		task_terminate(child);
		kr = KERN_RESOURCE_SHORTAGE;
	}
	task_deallocate(child);
	return kr;
}

kern_return_t S_task_terminate(mach_port_t target_task)
{
	return tt_on_task(target_task, task_terminate);
}

/* task's threads that have not terminated, referenced, into a kalloc'd array (*n). */
static struct thread **tt_task_threads(struct task *task, unsigned *n)
{
	for (;;) {
		unsigned long flags = spin_lock_irqsave(&task->lock);
		unsigned want = task->nthreads;

		spin_unlock_irqrestore(&task->lock, flags);
		struct thread **v = kalloc((want ? want : 1) * sizeof(*v));

		if (v == NULL)
			return NULL;
		unsigned got = 0;
		bool fits = true;

		flags = spin_lock_irqsave(&task->lock);
		for (struct thread *t = task->threads; t; t = t->task_next) {
			if (t->state == TH_TERMINATED || t->terminate_requested)
				continue;
			if (got == want) {
				fits = false;
				break;
			}
			if (tt_ref_live(&t->refs))
				v[got++] = t;
		}
		spin_unlock_irqrestore(&task->lock, flags);
		if (fits) {
			*n = got;
			return v;
		}
		while (got)
			thread_deallocate(v[--got]);
		kfree(v);
	}
}

kern_return_t S_task_threads(mach_port_t target_task, thread_array_t *thread_list,
                             mach_msg_type_number_t *thread_listCnt)
{
	struct task *task = ipc_tt_task(target_task);
	unsigned n = 0;

	if (task == NULL)
		return KERN_INVALID_ARGUMENT;
	struct thread **v = tt_task_threads(task, &n);

	task_deallocate(task);
	if (v == NULL)
		return KERN_RESOURCE_SHORTAGE;
	mach_port_t *names = n ? kalloc(n * sizeof(*names)) : NULL;
	kern_return_t kr = n && names == NULL ? KERN_RESOURCE_SHORTAGE : KERN_SUCCESS;

	for (unsigned i = 0; i < n; i++) {
		if (kr == KERN_SUCCESS) {
			struct ipc_port *port = ipc_thread_port(v[i]);

			names[i] = port ? tt_reply_right(port, true) : MACH_PORT_NULL;
		}
		thread_deallocate(v[i]);
	}
	kfree(v);
	if (kr != KERN_SUCCESS)
		return kr;
	*thread_list = names;
	*thread_listCnt = n;
	return KERN_SUCCESS;
}

kern_return_t S_task_info(mach_port_t target_task, int flavor, task_info_t task_info_out,
                          mach_msg_type_number_t *task_info_outCnt)
{
	struct task_basic_info bi;

	if (flavor != TASK_BASIC_INFO || *task_info_outCnt < TASK_BASIC_INFO_COUNT)
		return KERN_INVALID_ARGUMENT;
	struct task *task = ipc_tt_task(target_task);

	if (task == NULL)
		return KERN_INVALID_ARGUMENT;
	memset(&bi, 0, sizeof(bi));
	unsigned long flags = spin_lock_irqsave(&task->lock);

	bi.suspend_count = task->suspend_count;
	bi.base_priority = SCHED_PRI_DEFAULT;
	if (task->map) {
		/* Read without the map lock: a snapshot, as info is. */
		bi.virtual_size = task->map->size;
		bi.resident_size = task->map->resident.count * PAGE_SIZE;
	}
	spin_unlock_irqrestore(&task->lock, flags);
	bi.user_time = tt_time(tsc_to_ns(__atomic_load_n(&task->cpu_tsc, __ATOMIC_RELAXED)));
	task_deallocate(task);
	memcpy(task_info_out, &bi, sizeof(bi));
	*task_info_outCnt = TASK_BASIC_INFO_COUNT;
	return KERN_SUCCESS;
}

kern_return_t S_task_suspend(mach_port_t target_task)
{
	return tt_on_task(target_task, task_suspend);
}

kern_return_t S_task_resume(mach_port_t target_task)
{
	return tt_on_task(target_task, task_resume);
}

kern_return_t S_task_get_special_port(mach_port_t task_name, int which_port,
                                      mach_port_t *special_port)
{
	struct task *task = ipc_tt_task(task_name);
	kern_return_t kr = KERN_SUCCESS;

	if (task == NULL)
		return KERN_INVALID_ARGUMENT;
	struct ipc_port *port = NULL;
	unsigned long f = ipc_lock();

	switch (which_port) {
	case TASK_KERNEL_PORT:
		port = task->itk_self;
		break;
	case TASK_BOOTSTRAP_PORT:
		port = task->itk_bootstrap;
		break;
	case TASK_EXCEPTION_PORT:
		port = task->itk_exception;
		break;
	case TASK_HOST_PRIV_PORT:
		port = task->itk_host_priv;
		break;
	case TASK_CONSOLE_PORT: /* boot=mach */
		port = task->itk_console;
		break;
	default:
		kr = KERN_INVALID_ARGUMENT;
	}
	if (IP_VALID(port))
		ipc_port_reference(port); /* kept alive until tt_reply_right takes its right */
	ipc_unlock(f);
	if (kr == KERN_SUCCESS)
		*special_port = tt_reply_right(port, which_port == TASK_KERNEL_PORT);
	if (IP_VALID(port)) {
		f = ipc_lock();
		ipc_port_release(port);
		ipc_unlock(f);
	}
	task_deallocate(task);
	return kr;
}

kern_return_t S_task_set_special_port(mach_port_t task_name, int which_port,
                                      mach_port_t special_port)
{
	if (which_port != TASK_BOOTSTRAP_PORT && which_port != TASK_EXCEPTION_PORT &&
	    which_port != TASK_HOST_PRIV_PORT && which_port != TASK_CONSOLE_PORT)
		return KERN_INVALID_ARGUMENT; /* TASK_KERNEL_PORT included: it is the task's */
	struct task *task = ipc_tt_task(task_name);

	if (task == NULL)
		return KERN_INVALID_ARGUMENT;
	struct ipc_port *right = NULL;
	mach_msg_type_name_t type;
	kern_return_t kr = KERN_SUCCESS;
	unsigned long f = ipc_lock();

	if (special_port == MACH_PORT_DEAD)
		right = IP_DEAD;
	else if (MACH_PORT_VALID(special_port))
		kr = ipc_right_copyin(ipc_space_kernel, special_port, MACH_MSG_TYPE_MOVE_SEND, true,
		                      &right, &type);
	if (kr == KERN_SUCCESS)
		kr = ipc_task_set_special_right(task, which_port, right);
	ipc_unlock(f);
	task_deallocate(task);
	return kr == KERN_SUCCESS ? KERN_SUCCESS : KERN_INVALID_ARGUMENT;
}

kern_return_t S_thread_terminate(mach_port_t target_thread)
{
	return tt_on_thread(target_thread, thread_terminate_request);
}

kern_return_t S_thread_get_state(mach_port_t target_thread, int flavor, thread_state_t old_state,
                                 mach_msg_type_number_t *old_stateCnt)
{
	struct thread *t = tt_user_thread(target_thread);

	if (t == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = machine_thread_get_state(t, flavor, old_state, old_stateCnt);

	thread_deallocate(t);
	return kr;
}

kern_return_t S_thread_set_state(mach_port_t target_thread, int flavor,
                                 const thread_state_t new_state,
                                 mach_msg_type_number_t new_stateCnt)
{
	struct thread *t = tt_user_thread(target_thread);

	if (t == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = machine_thread_set_state(t, flavor, new_state, new_stateCnt);

	thread_deallocate(t);
	return kr;
}

kern_return_t S_thread_info(mach_port_t target_thread, int flavor, thread_info_t thread_info_out,
                            mach_msg_type_number_t *thread_info_outCnt)
{
	struct thread_basic_info bi;

	if (flavor != THREAD_BASIC_INFO || *thread_info_outCnt < THREAD_BASIC_INFO_COUNT)
		return KERN_INVALID_ARGUMENT;
	struct thread *t = tt_user_thread(target_thread);

	if (t == NULL)
		return KERN_INVALID_ARGUMENT;
	memset(&bi, 0, sizeof(bi));
	unsigned long flags = spin_lock_irqsave(&t->task->lock);
	bool stopped = t->suspend_count > 0 || t->task->suspend_count > 0;

	bi.suspend_count = t->suspend_count;
	spin_unlock_irqrestore(&t->task->lock, flags);
	bi.base_priority = bi.cur_priority = t->priority;
	switch (t->state) {
	case TH_RUNNING:
	case TH_RUNNABLE:
		bi.run_state = TH_STATE_RUNNING;
		break;
	case TH_WAITING:
		bi.run_state = stopped ? TH_STATE_STOPPED : TH_STATE_WAITING;
		break;
	default:
		bi.run_state = TH_STATE_HALTED;
	}
	thread_deallocate(t);
	memcpy(thread_info_out, &bi, sizeof(bi));
	*thread_info_outCnt = THREAD_BASIC_INFO_COUNT;
	return KERN_SUCCESS;
}

/* A thread made by thread_create: waits at the user boundary until resumed. */
static void tt_thread_start(void *arg)
{
	(void)arg;
	task_user_return();
	machine_thread_user_start();
}

kern_return_t S_thread_create(mach_port_t parent_task, mach_port_t *child_thread)
{
	struct task *task = ipc_tt_task(parent_task);
	struct thread *t;

	if (task == NULL)
		return KERN_INVALID_ARGUMENT;
	/*
	 * It must not run before it is suspended: it is made with interrupts
	 * off and at the caller's priority, so it cannot preempt it.
	 */
	unsigned long flags = intr_save();
	kern_return_t kr =
	    thread_create_in_task(task, task->name, tt_thread_start, NULL, SCHED_PRI_DEFAULT, &t);

	if (kr == KERN_SUCCESS) {
		t->suspend_count = 1;
		machine_thread_user_init(t);
	}
	intr_restore(flags);
	task_deallocate(task);
	if (kr != KERN_SUCCESS)
		return kr;
	struct ipc_port *port = ipc_thread_port(t);

	*child_thread = port ? tt_reply_right(port, true) : MACH_PORT_NULL;
	if (!MACH_PORT_VALID(*child_thread)) {
		thread_terminate_request(t);
		kr = KERN_RESOURCE_SHORTAGE;
	}
	thread_deallocate(t);
	return kr;
}

kern_return_t S_thread_suspend(mach_port_t target_thread)
{
	return tt_on_thread(target_thread, thread_suspend);
}

kern_return_t S_thread_resume(mach_port_t target_thread)
{
	return tt_on_thread(target_thread, thread_resume);
}

/* Ends the thread's wait in the kernel: mach_msg returns MACH_*_INTERRUPTED. */
kern_return_t S_thread_abort(mach_port_t target_thread)
{
	struct thread *t = tt_user_thread(target_thread);

	if (t == NULL)
		return KERN_INVALID_ARGUMENT;
	if (t != thread_current())
		thread_clear_wait(t, THREAD_INTERRUPTED);
	thread_deallocate(t);
	return KERN_SUCCESS;
}

/*
 * The exit-status server (<mach/task_special_ports.h>): a one-way
 * message to a module runner's bootstrap port records the status of the
 * task the port is bound to.  Anything else is MIG_BAD_ID.
 */
static boolean_t tt_exit_status_server(mach_msg_header_t *in, mach_msg_header_t *out)
{
	const mach_exit_status_msg_t *m = (const mach_exit_status_msg_t *)in;
	mig_reply_header_t *r = (mig_reply_header_t *)out;

	if (in->msgh_id != MACH_EXIT_STATUS_ID)
		return FALSE;
	r->Head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->msgh_bits), 0);
	r->Head.msgh_size = sizeof(*r);
	r->Head.msgh_remote_port = in->msgh_remote_port;
	r->Head.msgh_id = in->msgh_id + 100;
	r->RetCodeType = (mach_msg_type_t){ .msgt_name = MACH_MSG_TYPE_INTEGER_32,
		                            .msgt_size = 32,
		                            .msgt_number = 1,
		                            .msgt_inline = 1 };
	/* One-way as a rule; a sender that gave a reply port gets a reply. */
	r->RetCode = MACH_PORT_VALID(in->msgh_remote_port) ? KERN_SUCCESS : MIG_NO_REPLY;
	if (in->msgh_size != sizeof(*m) || (in->msgh_bits & MACH_MSGH_BITS_COMPLEX) ||
	    m->status_type.msgt_name != MACH_MSG_TYPE_INTEGER_32 ||
	    m->status_type.msgt_size != 32 || m->status_type.msgt_number != 1 ||
	    !m->status_type.msgt_inline || m->status_type.msgt_longform) {
		r->RetCode = MIG_BAD_ARGUMENTS;
		return TRUE;
	}
	unsigned long f = ipc_lock();
	struct task *task = ipc_tt_object(in->msgh_local_port, IKOT_BOOTSTRAP);

	if (task && !tt_ref_live(&task->refs))
		task = NULL;
	ipc_unlock(f);
	if (task) {
		task_set_exit_status(task, m->status);
		task_deallocate(task);
	}
	return TRUE;
}

void ipc_servers_init(void)
{
	bool ok = ipc_kobject_register(IKOT_TASK, mach_server) &&
	          ipc_kobject_register(IKOT_TASK, mach_port_server) &&
	          ipc_kobject_register(IKOT_THREAD, mach_server) &&
	          ipc_kobject_register(IKOT_HOST, mach_host_server) &&
	          ipc_kobject_register(IKOT_HOST_PRIV, mach_host_server) &&
	          ipc_kobject_register(IKOT_BOOTSTRAP, tt_exit_status_server);

	if (!ok)
		panic("ipc_servers_init: demux table full");
}
