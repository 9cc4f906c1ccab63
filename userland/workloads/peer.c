/*
 * The other party of the two-party workloads (work.h): a second thread
 * of this task, or a second task running a copy of this program.
 *
 * A peer runs a raw function: thread_set_state enters it, not crt0, so
 * it may use libmach (mach_msg, the traps) but nothing of newlib that
 * keeps state (errno, stdio, malloc), and it never returns (there is no
 * return address).  Its two arguments arrive in rdi and rsi.
 *
 * A new task is empty (task_create ignores inherit_memory, see
 * kern/ipc_tt.c), so work_peer_task copies this program's image, from
 * the link address to _end, to the same addresses in the child
 * (vm_allocate at a fixed address, vm_write, vm_protect): the program is
 * linked without PIE, and its absolute addresses, the raw function's
 * among them, mean the same in both tasks.  The child's copy of the data
 * is a snapshot nobody initialises (mach_task_self_ still names the
 * parent's task port), which is why its raw function gets every port it
 * needs as an argument and calls no MIG stub.
 */
#include <stdint.h>
#include <string.h>

#include <mach/mach_init.h>
#include <mach/thread_status.h>

#include "mach.h"      /* mig-gen/ */
#include "mach_port.h" /* mig-gen/ */
#include "work.h"

#define PEER_IMAGE_BASE 0x400000ul /* userland/user.ld */
#define PEER_PAGE 4096ul
#define PEER_STACK (16 * PEER_PAGE)

extern char etext[], _end[]; /* userland/user.ld: the end of the code; of the data, page aligned */

mach_port_t work_port(void)
{
	mach_port_t p = MACH_PORT_NULL;

	work_check(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &p),
	           "mach_port_allocate");
	return p;
}

kern_return_t work_peer_stack(mach_port_t task, vm_address_t *top)
{
	vm_address_t a = 0;
	kern_return_t kr = vm_allocate(task, &a, PEER_STACK, TRUE);

	*top = kr == KERN_SUCCESS ? a + PEER_STACK : 0;
	return kr;
}

kern_return_t work_peer_start(mach_port_t task, work_peer_fn fn, mach_port_t a0, mach_port_t a1,
                              vm_address_t stack_top, mach_port_t *thread)
{
	struct x86_64_thread_state ts;
	mach_port_t th = MACH_PORT_NULL;
	kern_return_t kr = thread_create(task, &th);

	if (kr != KERN_SUCCESS)
		return kr;
	memset(&ts, 0, sizeof(ts));
	ts.rip = (uintptr_t)fn;
	ts.rsp = stack_top - 8; /* as just after a call: the ABI's alignment */
	ts.rdi = a0;
	ts.rsi = a1;
	kr = thread_set_state(th, x86_64_THREAD_STATE, (thread_state_t)&ts,
	                      x86_64_THREAD_STATE_COUNT);
	if (kr == KERN_SUCCESS)
		kr = thread_resume(th);
	if (kr != KERN_SUCCESS) {
		(void)thread_terminate(th);
		(void)mach_port_deallocate(mach_task_self(), th);
		return kr;
	}
	*thread = th;
	return KERN_SUCCESS;
}

kern_return_t work_peer_task(mach_port_t *task, vm_address_t *stack_top)
{
	vm_address_t base = PEER_IMAGE_BASE, end = (vm_address_t)_end;
	vm_address_t text_end = ((vm_address_t)etext + PEER_PAGE - 1) & ~(PEER_PAGE - 1);
	mach_port_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(mach_task_self(), FALSE, &child);

	if (kr != KERN_SUCCESS)
		return kr;
	kr = vm_allocate(child, &base, end - base, FALSE);
	if (kr == KERN_SUCCESS)
		kr = vm_write(child, base, base, (mach_msg_type_number_t)(end - base));
	if (kr == KERN_SUCCESS)
		kr =
		    vm_protect(child, base, text_end - base, FALSE, VM_PROT_READ | VM_PROT_EXECUTE);
	if (kr == KERN_SUCCESS)
		kr = work_peer_stack(child, stack_top);
	if (kr != KERN_SUCCESS) {
		work_peer_task_end(child);
		return kr;
	}
	*task = child;
	return KERN_SUCCESS;
}

kern_return_t work_peer_give(mach_port_t task, mach_port_t name, mach_msg_type_name_t how)
{
	return mach_port_insert_right(task, name, name, how);
}

void work_peer_task_end(mach_port_t task)
{
	(void)task_terminate(task);
	(void)mach_port_deallocate(mach_task_self(), task); /* a send right or a dead name */
}
