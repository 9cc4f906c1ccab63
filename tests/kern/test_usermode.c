/*
 * User mode without a user land: tiny programs assembled into the kernel
 * image (as data, in .rodata) are copied into a fresh task and run in
 * ring 3.  They check the syscall path (trap numbers, results, preserved
 * registers), the temporary VM traps, exits, kills on faults, and that
 * task termination and cleanup leave nothing behind, but for a map still
 * referenced, which outlives its task (the vm_server routines' case).
 */
#include <mach/syscall_sw.h>

#include "tests/kern/ktest_traps.h"
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc_kobject.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_port.h"
#include "kern/ipc_tt.h"
#include "kern/kalloc.h"
#include "kern/ktest.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "mach_S.h" /* mig-gen/ */
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"
#include <mach/thread_status.h>

#include "x86_64/thread_state.h"

#define UM_CODE 0x400000ul
#define UM_STACK 0x600000ul
#define UM_STACK_SIZE 0x2000ul
#define UM_WAIT_NS (10 * 1000000000ull)
#define UM_CAPTURE 1024

#define UM_PROG(name) extern const char um_##name[], um_##name##_end[]
UM_PROG(hello);
UM_PROG(hlt);
UM_PROG(cli);
UM_PROG(null_read);
UM_PROG(unknown_trap);
UM_PROG(kernel_jump);
UM_PROG(ud2);
UM_PROG(div0);
UM_PROG(vm);
UM_PROG(spin);
UM_PROG(regs);
UM_PROG(sleep);
UM_PROG(exit5);
UM_PROG(msg_wait);

/*
 * Trap numbers: mach_msg -25, mach_reply_port -26, mach_print -30, swtch -60,
 * thread_switch -61, test traps vm_allocate -100, exit -103.
 */
_Static_assert(MACH_TRAP_mach_msg_trap == -25 && MACH_TRAP_mach_reply_port == -26 &&
                   MACH_TRAP_mach_print == -30 && MACH_TRAP_swtch == -60 &&
                   MACH_TRAP_thread_switch == -61 && KTEST_TRAP_vm_allocate == -100 &&
                   KTEST_TRAP_task_exit == -103 && MACH_RCV_MSG == 2 && MACH_RCV_TIMEOUT == 0x100,
               "the programs below hard-code these");

__asm__(".pushsection .rodata\n"
        "	.balign 16\n"
        /* mach_print("hello from ring 3\n"); exit(7) */
        "um_hello:\n"
        "	lea	1f(%rip), %rdi\n"
        "	mov	$-30, %rax\n"
        "	syscall\n"
        "	mov	$7, %edi\n"
        "	mov	$-103, %rax\n"
        "	syscall\n"
        "	ud2\n"
        "1:	.asciz \"hello from ring 3\\n\"\n"
        "um_hello_end:\n"
        "um_hlt:	hlt\n"
        "um_hlt_end:\n"
        "um_cli:	cli\n"
        "um_cli_end:\n"
        "um_null_read:\n"
        "	mov	0, %rax\n"
        "um_null_read_end:\n"
        /* exit(result of trap -1234) */
        "um_unknown_trap:\n"
        "	mov	$-1234, %rax\n"
        "	syscall\n"
        "	mov	%eax, %edi\n"
        "	mov	$-103, %rax\n"
        "	syscall\n"
        "um_unknown_trap_end:\n"
        "um_kernel_jump:\n"
        "	jmp	*%rdi\n" /* the thread's argument: a kernel function */
        "um_kernel_jump_end:\n"
        "um_ud2:	ud2\n"
        "um_ud2_end:\n"
        "um_div0:\n"
        "	xor	%ecx, %ecx\n"
        "	xor	%edx, %edx\n"
        "	mov	$1, %eax\n"
        "	div	%ecx\n"
        "um_div0_end:\n"
        /* tmp_vm_allocate(&a, 4096, anywhere); *a = 42; exit(*a) (or exit(kr)) */
        "um_vm:\n"
        "	sub	$8, %rsp\n"
        "	movq	$0, (%rsp)\n"
        "	mov	%rsp, %rdi\n"
        "	mov	$4096, %esi\n"
        "	mov	$1, %edx\n"
        "	mov	$-100, %rax\n"
        "	syscall\n"
        "	mov	%eax, %edi\n"
        "	test	%eax, %eax\n"
        "	jnz	1f\n"
        "	mov	(%rsp), %rbx\n"
        "	movl	$42, (%rbx)\n"
        "	mov	(%rbx), %edi\n"
        "1:	mov	$-103, %rax\n"
        "	syscall\n"
        "um_vm_end:\n"
        "um_spin:\n"
        "	jmp	um_spin\n"
        "um_spin_end:\n"
        /*
         * Every register but rax, rcx, r11 survives trap rdi (the thread's
         * argument), and rax is not the trap number any more: exit(0),
         * else exit(1) (a register) or exit(2) (rax).
         */
        "um_regs:\n"
        "	mov	%rdi, %rax\n"
        "	movq	%rdi, %xmm1\n"
        "	mov	$0x1111, %rbx\n"
        "	mov	$0x2222, %rbp\n"
        "	mov	$0x3333, %r12\n"
        "	mov	$0x4444, %r13\n"
        "	mov	$0x5555, %r14\n"
        "	mov	$0x6666, %r15\n"
        "	mov	$0x7777, %rdx\n"
        "	mov	$0x8888, %rsi\n"
        "	mov	$0x9999, %rdi\n"
        "	mov	$0xaaaa, %r8\n"
        "	mov	$0xbbbb, %r9\n"
        "	mov	$0xcccc, %r10\n"
        "	mov	%rsp, %rcx\n"
        "	movq	%rcx, %xmm0\n"
        "	syscall\n"
        "	movq	%xmm1, %rcx\n"
        "	cmp	%rcx, %rax\n"
        "	je	4f\n"
        "	cmp	$0x1111, %rbx\n"
        "	jne	2f\n"
        "	cmp	$0x2222, %rbp\n"
        "	jne	2f\n"
        "	cmp	$0x3333, %r12\n"
        "	jne	2f\n"
        "	cmp	$0x4444, %r13\n"
        "	jne	2f\n"
        "	cmp	$0x5555, %r14\n"
        "	jne	2f\n"
        "	cmp	$0x6666, %r15\n"
        "	jne	2f\n"
        "	cmp	$0x7777, %rdx\n"
        "	jne	2f\n"
        "	cmp	$0x8888, %rsi\n"
        "	jne	2f\n"
        "	cmp	$0x9999, %rdi\n"
        "	jne	2f\n"
        "	cmp	$0xaaaa, %r8\n"
        "	jne	2f\n"
        "	cmp	$0xbbbb, %r9\n"
        "	jne	2f\n"
        "	cmp	$0xcccc, %r10\n"
        "	jne	2f\n"
        "	movq	%xmm0, %rcx\n"
        "	cmp	%rsp, %rcx\n"
        "	jne	2f\n"
        "	xor	%edi, %edi\n"
        "	jmp	3f\n"
        "2:	mov	$1, %edi\n"
        "	jmp	3f\n"
        "4:	mov	$2, %edi\n"
        "3:	mov	$-103, %rax\n"
        "	syscall\n"
        "um_regs_end:\n"
        /* thread_switch(0, SWITCH_OPTION_WAIT, 10 ms); exit(kr + 3) */
        "um_sleep:\n"
        "	xor	%edi, %edi\n"
        "	mov	$2, %esi\n"
        "	mov	$10, %edx\n"
        "	mov	$-61, %rax\n"
        "	syscall\n"
        "	lea	3(%rax), %edi\n"
        "	mov	$-103, %rax\n"
        "	syscall\n"
        "um_sleep_end:\n"
        "um_exit5:\n"
        "	mov	$5, %edi\n"
        "	mov	$-103, %rax\n"
        "	syscall\n"
        "um_exit5_end:\n"
        /* mach_msg(buf, RCV_MSG | RCV_TIMEOUT, 0, 64, mach_reply_port(), rdi ms); exit(mr) */
        "um_msg_wait:\n"
        "	mov	%rdi, %rbx\n"
        "	mov	$-26, %rax\n"
        "	syscall\n"
        "	sub	$64, %rsp\n"
        "	mov	%rsp, %rdi\n"
        "	mov	$0x102, %esi\n"
        "	xor	%edx, %edx\n"
        "	mov	$64, %r10d\n"
        "	mov	%eax, %r8d\n"
        "	mov	%rbx, %r9\n"
        "	mov	$-25, %rax\n"
        "	syscall\n"
        "	mov	%eax, %edi\n"
        "	mov	$-103, %rax\n"
        "	syscall\n"
        "um_msg_wait_end:\n"
        ".popsection\n");

struct um_prog {
	const char *code, *end;
};
#define UM(name)                                                                                   \
	(struct um_prog)                                                                           \
	{                                                                                          \
		um_##name, um_##name##_end                                                         \
	}

/*
 * A task with prog's bytes at UM_CODE (read + execute), extra (if any)
 * right after it on its own page, and a small stack; its console lines
 * are captured into out.  No thread yet.
 */
static struct task *um_task(struct ktest_ctx *kt, struct um_prog prog, struct um_prog extra,
                            char *out)
{
	struct task *task;
	uintptr_t code = UM_CODE, stack = UM_STACK;

	if (!KT_EXPECT_EQ(kt, task_create("um", &task), KERN_SUCCESS))
		return NULL;
	strlcpy(task->console_prefix, "    # ", sizeof(task->console_prefix));
	task_console_capture(task, out, UM_CAPTURE);
	struct vm_map *map = task->map;

	if (!KT_EXPECT_EQ(kt, vm_allocate(map, &code, 2 * PAGE_SIZE, false), KERN_SUCCESS) ||
	    !KT_EXPECT_EQ(kt, vm_write(map, code, prog.code, prog.end - prog.code), KERN_SUCCESS) ||
	    (extra.code &&
	     !KT_EXPECT_EQ(kt, vm_write(map, code + PAGE_SIZE, extra.code, extra.end - extra.code),
	                   KERN_SUCCESS)) ||
	    !KT_EXPECT_EQ(
	        kt, vm_protect(map, code, 2 * PAGE_SIZE, false, VM_PROT_READ | VM_PROT_EXECUTE),
	        KERN_SUCCESS) ||
	    !KT_EXPECT_EQ(kt, vm_allocate(map, &stack, UM_STACK_SIZE, false), KERN_SUCCESS)) {
		task_terminate(task);
		task_deallocate(task);
		return NULL;
	}
	return task;
}

/*
 * Runs prog in a new task (rdi = arg) until it ends; the caller checks
 * how and drops the reference.
 */
static struct task *um_run_arg(struct ktest_ctx *kt, struct um_prog prog, uint64_t arg, char *out)
{
	struct task *task = um_task(kt, prog, (struct um_prog){ NULL, NULL }, out);

	if (task == NULL)
		return NULL;
	if (!KT_EXPECT_EQ(kt,
	                  thread_create_user(task, UM_CODE, UM_STACK + UM_STACK_SIZE, arg, NULL),
	                  KERN_SUCCESS))
		task_terminate(task);
	if (!KT_EXPECT(kt, task_wait(task, UM_WAIT_NS))) {
		task_terminate(task);
		task_wait(task, UM_WAIT_NS);
	}
	return task;
}

static struct task *um_run(struct ktest_ctx *kt, struct um_prog prog, char *out)
{
	return um_run_arg(kt, prog, 0, out);
}

/* Runs prog; expects it to exit with status. */
static void um_expect_exit(struct ktest_ctx *kt, struct um_prog prog, int status)
{
	char out[UM_CAPTURE];
	struct task *task = um_run(kt, prog, out);

	if (task == NULL)
		return;
	KT_EXPECT_EQ(kt, task->end, TASK_EXITED);
	KT_EXPECT_EQ(kt, task->exit_status, status);
	task_deallocate(task);
}

/* Runs prog (rdi = arg); expects it killed by kind, with "what" in the kill line. */
static void um_expect_kill_arg(struct ktest_ctx *kt, struct um_prog prog, uint64_t arg,
                               const char *kind, const char *what)
{
	char out[UM_CAPTURE], line[160];
	struct task *task = um_run_arg(kt, prog, arg, out);

	if (task == NULL)
		return;
	KT_EXPECT_EQ(kt, task->end, TASK_KILLED);
	if (!KT_EXPECT(kt, strcmp(task->kill_kind, kind) == 0))
		ktest_diag(kt, "kill kind \"%s\", expected \"%s\"", task->kill_kind, kind);
	ksnprintf(line, sizeof(line), "    # task um (%u) killed: %s\n", task->id, what);
	if (!KT_EXPECT(kt, strncmp(out, line, strlen(line)) == 0))
		ktest_diag(kt, "kill line \"%s\", expected \"%s...\"", out, line);
	task_deallocate(task);
}

static void um_expect_kill(struct ktest_ctx *kt, struct um_prog prog, const char *kind,
                           const char *what)
{
	um_expect_kill_arg(kt, prog, 0, kind, what);
}

KTEST(usermode, print_and_exit)
{
	char out[UM_CAPTURE];
	struct task *task = um_run(kt, UM(hello), out);

	if (task == NULL)
		return;
	KT_EXPECT_EQ(kt, task->end, TASK_EXITED);
	KT_EXPECT_EQ(kt, task->exit_status, 7);
	KT_EXPECT(kt, strcmp(out, "    # hello from ring 3\n") == 0);
	task_deallocate(task);
}

KTEST(usermode, unknown_trap_is_invalid_argument)
{
	um_expect_exit(kt, UM(unknown_trap), KERN_INVALID_ARGUMENT);
}

/* Runs prog (rdi = arg); expects it to exit with status. */
static void um_expect_exit_arg(struct ktest_ctx *kt, struct um_prog prog, uint64_t arg, int status)
{
	char out[UM_CAPTURE];
	struct task *task = um_run_arg(kt, prog, arg, out);

	if (task == NULL)
		return;
	KT_EXPECT_EQ(kt, task->end, TASK_EXITED);
	KT_EXPECT_EQ(kt, task->exit_status, status);
	task_deallocate(task);
}

/* swtch goes through syscall_dispatch. */
KTEST(usermode, registers_survive_syscall)
{
	um_expect_exit_arg(kt, UM(regs), (uint64_t)MACH_TRAP_swtch, 0);
}

/* mach_msg_trap (no send, no receive) takes syscall_entry.S's direct way to mach_msg_sys. */
KTEST(usermode, registers_survive_mach_msg)
{
	um_expect_exit_arg(kt, UM(regs), (uint64_t)MACH_TRAP_mach_msg_trap, 0);
}

/* A receive that times out ends the program with MACH_RCV_TIMED_OUT. */
KTEST(usermode, mach_msg_receive_times_out)
{
	um_expect_exit_arg(kt, UM(msg_wait), 1, MACH_RCV_TIMED_OUT);
}

/* Starts UM(msg_wait) with a timeout of ms; *t (if t) gets a reference to its thread. */
static struct task *um_msg_wait_start(struct ktest_ctx *kt, uint64_t ms, struct thread **t,
                                      char *out)
{
	struct task *task = um_task(kt, UM(msg_wait), (struct um_prog){ NULL, NULL }, out);

	if (task == NULL)
		return NULL;
	if (!KT_EXPECT_EQ(kt, thread_create_user(task, UM_CODE, UM_STACK + UM_STACK_SIZE, ms, t),
	                  KERN_SUCCESS)) {
		task_terminate(task);
		task_wait(task, UM_WAIT_NS);
		task_deallocate(task);
		return NULL;
	}
	return task;
}

/* Waits up to a second for t to stop at the user boundary (task_user_return_slow). */
static bool um_wait_stopped(struct task *task, struct thread *t)
{
	for (int i = 0; i < 1000; i++) {
		if (__atomic_load_n(&t->wait_event, __ATOMIC_ACQUIRE) == &task->suspend_count)
			return true;
		task_wait(task, 1000000ull);
	}
	return false;
}

/*
 * A thread suspended while it waits in mach_msg stops on its way out, on
 * the direct mach_msg way: thread_get_state shows the trap's result, and
 * thread_set_state's registers are the ones it resumes with.
 */
KTEST(usermode, mach_msg_stop_shows_and_takes_state)
{
	char out[UM_CAPTURE];
	struct thread *t;
	struct task *task = um_msg_wait_start(kt, 20, &t, out);
	struct x86_64_thread_state s;
	mach_msg_type_number_t count = x86_64_THREAD_STATE_COUNT;

	if (task == NULL)
		return;
	/* Suspended once it waits in the receive, not in mach_reply_port. */
	for (int i = 0; i < 1000 && __atomic_load_n(&t->wait_event, __ATOMIC_ACQUIRE) == NULL; i++)
		task_wait(task, 100000ull);
	KT_EXPECT_EQ(kt, thread_suspend(t), KERN_SUCCESS);
	if (KT_EXPECT(kt, um_wait_stopped(task, t)) &&
	    KT_EXPECT_EQ(kt,
	                 machine_thread_get_state(t, x86_64_THREAD_STATE, (natural_t *)&s, &count),
	                 KERN_SUCCESS)) {
		KT_EXPECT_EQ(kt, s.rax, MACH_RCV_TIMED_OUT);
		s.rax = 77;
		KT_EXPECT_EQ(
		    kt, machine_thread_set_state(t, x86_64_THREAD_STATE, (natural_t *)&s, count),
		    KERN_SUCCESS);
	}
	KT_EXPECT_EQ(kt, thread_resume(t), KERN_SUCCESS);
	thread_deallocate(t); /* task_wait waits for the thread's struct too */
	KT_EXPECT(kt, task_wait(task, UM_WAIT_NS));
	KT_EXPECT_EQ(kt, task->end, TASK_EXITED);
	KT_EXPECT_EQ(kt, task->exit_status, 77);
	task_deallocate(task);
}

/* A task terminated while its thread waits in mach_msg: the thread exits on its way out. */
KTEST(usermode, terminate_task_in_mach_msg)
{
	char out[UM_CAPTURE];
	struct task *task = um_msg_wait_start(kt, 10000, NULL, out);

	if (task == NULL)
		return;
	KT_EXPECT(kt, !task_wait(task, 5 * 1000000ull)); /* still waiting */
	KT_EXPECT_EQ(kt, task_terminate(task), KERN_SUCCESS);
	KT_EXPECT(kt, task_wait(task, UM_WAIT_NS));
	KT_EXPECT_EQ(kt, task->end, TASK_KILLED);
	KT_EXPECT(kt, strcmp(task->kill_kind, "terminated") == 0);
	task_deallocate(task);
}

KTEST(usermode, tmp_vm_allocate_demand_zero)
{
	um_expect_exit(kt, UM(vm), 42);
}

KTEST(usermode, thread_switch_wait)
{
	um_expect_exit(kt, UM(sleep), KERN_SUCCESS + 3);
}

KTEST(usermode, hlt_is_gp)
{
	um_expect_kill(kt, UM(hlt), "general-protection-fault",
	               "general protection fault at rip 0x400000 addr 0x0");
}

KTEST(usermode, cli_is_gp)
{
	um_expect_kill(kt, UM(cli), "general-protection-fault",
	               "general protection fault at rip 0x400000 addr 0x0");
}

KTEST(usermode, null_read)
{
	um_expect_kill(kt, UM(null_read), "page-fault",
	               "page fault (not present, read) at rip 0x400000 addr 0x0");
}

/* The kernel's code is mapped, but not for ring 3. */
KTEST(usermode, jump_to_kernel)
{
	uint64_t target = (uint64_t)task_create;
	char what[100];

	ksnprintf(what, sizeof(what), "page fault (protection, exec) at rip 0x%lx addr 0x%lx",
	          target, target);
	um_expect_kill_arg(kt, UM(kernel_jump), target, "page-fault", what);
}

KTEST(usermode, invalid_opcode)
{
	um_expect_kill(kt, UM(ud2), "invalid-opcode", "invalid opcode at rip 0x400000 addr 0x0");
}

KTEST(usermode, divide_error)
{
	um_expect_kill(kt, UM(div0), "divide-error", "divide error at rip 0x400009 addr 0x0");
}

/* A task spinning in user mode dies at its next interrupt once terminated. */
KTEST(usermode, terminate_spinning_task)
{
	char out[UM_CAPTURE];
	struct task *task = um_task(kt, UM(spin), (struct um_prog){ NULL, NULL }, out);

	if (task == NULL)
		return;
	KT_ASSERT_EQ(kt, thread_create_user(task, UM_CODE, UM_STACK + UM_STACK_SIZE, 0, NULL),
	             KERN_SUCCESS);
	KT_EXPECT(kt, !task_wait(task, 20 * 1000000ull)); /* still spinning */
	KT_EXPECT(kt, task->cpu_tsc > 0);
	KT_EXPECT_EQ(kt, task_terminate(task), KERN_SUCCESS);
	KT_EXPECT(kt, task_wait(task, UM_WAIT_NS));
	KT_EXPECT_EQ(kt, task->end, TASK_KILLED);
	KT_EXPECT(kt, strcmp(task->kill_kind, "terminated") == 0);
	KT_EXPECT(kt, task->map == NULL);
	KT_EXPECT_EQ(kt, thread_create_user(task, UM_CODE, UM_STACK, 0, NULL), KERN_INVALID_TASK);
	task_deallocate(task);
}

/* Threads of one task: one spins, the other exits; both go. */
KTEST(usermode, exit_ends_every_thread)
{
	char out[UM_CAPTURE];
	unsigned threads0 = thread_count();
	struct task *task = um_task(kt, UM(spin), UM(exit5), out);

	if (task == NULL)
		return;
	KT_EXPECT_EQ(kt, thread_create_user(task, UM_CODE, UM_STACK + PAGE_SIZE, 0, NULL),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(
	    kt, thread_create_user(task, UM_CODE + PAGE_SIZE, UM_STACK + 2 * PAGE_SIZE, 0, NULL),
	    KERN_SUCCESS);
	KT_EXPECT(kt, task_wait(task, UM_WAIT_NS));
	KT_EXPECT_EQ(kt, task->end, TASK_EXITED);
	KT_EXPECT_EQ(kt, task->exit_status, 5);
	KT_EXPECT_EQ(kt, thread_count(), threads0);
	task_deallocate(task);
}

KTEST(usermode, bad_thread_arguments)
{
	char out[UM_CAPTURE];
	struct task *task = um_task(kt, UM(spin), (struct um_prog){ NULL, NULL }, out);

	if (task == NULL)
		return;
	KT_EXPECT_EQ(kt, thread_create_user(NULL, UM_CODE, UM_STACK, 0, NULL),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, thread_create_user(task, 0xffffffff80100000ul, UM_STACK, 0, NULL),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, thread_create_user(task, UM_CODE, 0xffff800000000000ul, 0, NULL),
	             KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(kt, thread_create_user(task, 0, UM_STACK, 0, NULL), KERN_INVALID_ARGUMENT);
	task_terminate(task);
	KT_EXPECT(kt, task_wait(task, UM_WAIT_NS));
	task_deallocate(task);
}

/* Creating and destroying tasks gives back every page and object. */
KTEST(usermode, task_create_terminate_no_leak)
{
	unsigned tasks0 = task_count();
	uint64_t pages0 = vm_page_free_count(), objs0 = kalloc_objects_in_use();

	for (int i = 0; i < 3; i++) {
		char out[UM_CAPTURE];
		struct task *task = um_run(kt, UM(hello), out);

		if (task)
			task_deallocate(task);
		struct task *idle;

		KT_ASSERT_EQ(kt, task_create("empty", &idle), KERN_SUCCESS);
		KT_EXPECT_EQ(kt, task_count(), tasks0 + 1);
		task_deallocate(idle); /* never ran: the last reference destroys the map */
	}
	KT_EXPECT_EQ(kt, task_count(), tasks0);
	KT_EXPECT_EQ(kt, vm_page_free_count(), pages0);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0);
}

/*
 * A map referenced through the task's port (as the vm_server routines
 * do) outlives the task's termination: its memory stays readable until
 * the reference goes, the port no longer yields it, and the last
 * reference gives every page and object back.  With running, the task
 * has a thread spinning in its map when it is terminated, so that thread
 * releases the map with it loaded; without, task_terminate does.
 */
static void um_map_outlives(struct ktest_ctx *kt, bool running)
{
	static const char pat[] = "outlives its task";
	char out[UM_CAPTURE], got[sizeof(pat)];
	unsigned tasks0 = task_count();

	vm_map_reclaim();
	uint64_t pages0 = vm_page_free_count(), objs0 = kalloc_objects_in_use();
	struct task *task = um_task(kt, UM(spin), (struct um_prog){ NULL, NULL }, out);

	if (task == NULL)
		return;
	mach_port_t name = ipc_kobject_send_right(ipc_space_kernel, task->itk_self);
	struct vm_map *map = ipc_tt_task_map(name);
	uintptr_t data = 0;

	KT_ASSERT(kt, MACH_PORT_VALID(name));
	KT_ASSERT(kt, map != NULL && map == task->map);
	KT_EXPECT_EQ(kt, vm_allocate(map, &data, PAGE_SIZE, true), KERN_SUCCESS);
	KT_EXPECT_EQ(kt, vm_write(map, data, pat, sizeof(pat)), KERN_SUCCESS);
	if (running)
		KT_EXPECT_EQ(kt,
		             thread_create_user(task, UM_CODE, UM_STACK + UM_STACK_SIZE, 0, NULL),
		             KERN_SUCCESS);
	KT_EXPECT_EQ(kt, task_terminate(task), KERN_SUCCESS);
	KT_EXPECT(kt, task_wait(task, UM_WAIT_NS));
	KT_EXPECT(kt, task->map == NULL);
	/* The name is dead: no map, and the routines say KERN_INVALID_ARGUMENT (4). */
	KT_EXPECT(kt, ipc_tt_task_map(name) == NULL);
	KT_EXPECT_EQ(kt, S_vm_deallocate(name, data, PAGE_SIZE), KERN_INVALID_ARGUMENT);
	/* The map is whole: its entries and the page written before. */
	KT_EXPECT_EQ(kt, vm_map_entry_count(map), 3); /* code, stack, data */
	KT_EXPECT_EQ(kt, vm_read(map, data, got, sizeof(got)), KERN_SUCCESS);
	KT_EXPECT(kt, memcmp(got, pat, sizeof(pat)) == 0);
	KT_EXPECT(kt, vm_map_resident_pages(map) > 0);
	vm_map_deallocate(map); /* the last reference: the map goes */
	KT_EXPECT_EQ(kt, mach_port_deallocate(ipc_space_kernel, name), KERN_SUCCESS);
	task_deallocate(task);
	KT_EXPECT_EQ(kt, task_count(), tasks0);
	vm_map_reclaim();
	KT_EXPECT_EQ(kt, vm_page_free_count(), pages0);
	KT_EXPECT_EQ(kt, kalloc_objects_in_use(), objs0);
}

KTEST(usermode, map_outlives_terminated_task)
{
	um_map_outlives(kt, false);
}

KTEST(usermode, map_outlives_task_with_thread)
{
	um_map_outlives(kt, true);
}
