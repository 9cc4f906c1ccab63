/*
 * Mach trap numbers and the trap calling convention.
 *
 * A trap is the `syscall` instruction with the (negative) trap number in
 * rax and up to six arguments in rdi, rsi, rdx, r10, r8, r9 (r10 stands in
 * for rcx, which `syscall` overwrites); the result comes back in rax.
 * rcx and r11 are clobbered, every other register is preserved.  An
 * unknown trap number returns KERN_INVALID_ARGUMENT (as GNU Mach's
 * kern_invalid does).
 */
#ifndef MACH_SYSCALL_SW_H
#define MACH_SYSCALL_SW_H

/* GNU Mach's numbers. */
#define MACH_TRAP_mach_msg_trap -25
#define MACH_TRAP_mach_reply_port -26
#define MACH_TRAP_mach_thread_self -27
#define MACH_TRAP_mach_task_self -28
#define MACH_TRAP_mach_host_self -29
#define MACH_TRAP_mach_print -30
#define MACH_TRAP_swtch_pri -59
#define MACH_TRAP_swtch -60
#define MACH_TRAP_thread_switch -61

/* mach_print(s): at most this many bytes, NUL included (else KERN_INVALID_ARGUMENT). */
#define MACH_PRINT_MAX 1024

/*
 * machperf's host channel (kern/hostchan.h, docs/perf-analysis.md): a
 * byte stream to the host over COM2, for the control agent.  host_priv
 * is the caller's name for the privileged host port (anything else:
 * KERN_INVALID_HOST).  Each returns a byte count >= 0 or a negative
 * kern_return_t.
 *	hostchan_write(host_priv, const void *buf, size_t len)
 *		all len bytes, waiting while the host is slow
 *	hostchan_read(host_priv, void *buf, size_t len, unsigned timeout_ms)
 *		what arrived, at least 1 byte unless timeout_ms passed first
 *		(0: do not wait); 0 on timeout
 *	hostchan_bulk_write(host_priv, const void *buf, size_t len)
 *		all len bytes into the ivshmem ring (<mach/perf_shm.h>),
 *		waiting while it is full (fewer if the host stalls for 10 s);
 *		len 0: the ring's capacity; -KERN_FAILURE without the device
 */
#define MACH_TRAP_hostchan_write -110
#define MACH_TRAP_hostchan_read -111
#define MACH_TRAP_hostchan_bulk_write -112

#endif
