/*
 * User mode, machine side: syscall MSRs, the first entry into ring 3,
 * and user faults in words (the design is in syscall.h).
 */
#include <mach/syscall_sw.h>

#include "kern/perf_analysis.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "x86_64/cpu.h"
#include "x86_64/io.h"
#include "x86_64/syscall.h"

/* syscall_entry.S hard-codes these. */
_Static_assert(SEL_UDATA == 0x20 && SEL_UCODE == 0x28, "syscall_entry.S selectors");
_Static_assert(SEL_UCODE == SEL_UDATA + 8 && SEL_UDATA == SEL_UCODE32 + 8,
               "STAR: sysretq takes SS = base + 8, CS = base + 16");
_Static_assert(T_SYSCALL == 0x80, "syscall_entry.S vector");
_Static_assert(__builtin_offsetof(struct trap_frame, rip) == 17 * 8 &&
                   __builtin_offsetof(struct trap_frame, ss) == 21 * 8,
               "syscall_entry.S frame offsets");
_Static_assert(__builtin_offsetof(struct trap_frame, rcx) == 12 * 8 &&
                   __builtin_offsetof(struct trap_frame, rbx) == 13 * 8 &&
                   __builtin_offsetof(struct trap_frame, rax) == 14 * 8 &&
                   __builtin_offsetof(struct trap_frame, error) == 16 * 8 &&
                   __builtin_offsetof(struct trap_frame, rflags) == 19 * 8 &&
                   __builtin_offsetof(struct trap_frame, rsp) == 20 * 8,
               "syscall_entry.S frame offsets");
_Static_assert(__builtin_offsetof(struct cpu, thread) == 160 &&
                   __builtin_offsetof(struct thread, task) == 784 &&
                   __builtin_offsetof(struct thread, user_ret) == 968 &&
                   __builtin_offsetof(struct task, user_ret) == 488,
               "syscall_entry.S: task_user_return's test");
_Static_assert(MACH_TRAP_mach_msg_trap == -25 && PERF_EVENT_SYSCALL == 10,
               "syscall_entry.S: the mach_msg fast path");

#define EFER_SCE (1ul << 0)
#define RFLAGS_TF (1ul << 8)
#define RFLAGS_IF (1ul << 9)
#define RFLAGS_DF (1ul << 10)
#define RFLAGS_NT (1ul << 14)
#define RFLAGS_AC (1ul << 18)

void syscall_entry(void); /* syscall_entry.S */
void user_frame_enter(struct trap_frame *tf) __attribute__((noreturn));

void syscall_init(void)
{
	wrmsr(MSR_STAR, ((uint64_t)SEL_UCODE32 << 48) | ((uint64_t)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

void user_enter(uint64_t rip, uint64_t rsp, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct trap_frame tf;

	memset(&tf, 0, sizeof(tf));
	tf.rip = rip;
	tf.rsp = rsp;
	tf.rdi = a0;
	tf.rsi = a1;
	tf.rdx = a2;
	tf.cs = SEL_UCODE | 3;
	tf.ss = SEL_UDATA | 3;
	tf.rflags = USER_RFLAGS;
	intr_disable(); /* user_entered: no switch may see it before the frame is there */
	cpu_current()->thread->md.user_entered = true;
	user_frame_enter(&tf);
}

void user_fault_describe(const struct trap_frame *tf, char *what, size_t what_len, char *kind,
                         size_t kind_len, uint64_t *addr)
{
	unsigned v = (unsigned)tf->vector;
	const char *name = trap_name(v);

	*addr = 0;
	if (v == T_PAGE_FAULT) {
		uint64_t e = tf->error;

		*addr = read_cr2();
		ksnprintf(what, what_len, "%s (%s, %s)", name,
		          e & PF_PRESENT ? "protection" : "not present",
		          e & PF_INSTR   ? "exec"
		          : e & PF_WRITE ? "write"
		                         : "read");
	} else {
		ksnprintf(what, what_len, "%s", name);
	}
	size_t i;

	for (i = 0; name[i] && i + 1 < kind_len; i++)
		kind[i] = name[i] == ' ' ? '-' : name[i];
	if (kind_len)
		kind[i] = '\0';
}
