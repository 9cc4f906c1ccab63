/*
 * The host channel: a byte stream between the guest's control agent
 * (userland/perfctl.c) and the host (scripts/perf-analysis.sh, through
 * tools/mp-chan), carried by COM2, which QEMU connects to a unix socket
 * on the host.  docs/perf-analysis.md describes it end to end.
 *
 * User tasks reach it through two machperf traps
 * (<mach/syscall_sw.h>): hostchan_write and hostchan_read.  Both take
 * the caller's name for the privileged host port first: the channel is
 * the agent's, and the agent is whoever holds host_priv (the bootstrap
 * task and modules started with priv=1 get it from the kernel).
 */
#ifndef KERN_HOSTCHAN_H
#define KERN_HOSTCHAN_H

#include <mach/kern_return.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Finds and programs COM2 and starts draining it on every tick; finds the
 * bulk channel's ivshmem device (kern/ivshmem.h).  After clock_init.
 */
void hostchan_init(void);

/*
 * The traps (their numbers and user prototypes are <mach/syscall_sw.h>).
 * Each returns a byte count >= 0, or a negative kern_return_t:
 * -KERN_INVALID_HOST when host_priv is not a send right to the
 * privileged host port, -KERN_INVALID_ADDRESS for a bad buffer,
 * -KERN_FAILURE when the machine has no COM2.
 */
int64_t hostchan_trap_write(uint32_t host_priv, uintptr_t ubuf, size_t len);
int64_t hostchan_trap_read(uint32_t host_priv, uintptr_t ubuf, size_t len, uint32_t timeout_ms);
/*
 * The bulk channel (kern/ivshmem.h): len bytes into the ivshmem ring;
 * len 0 returns the ring's capacity.  -KERN_FAILURE without the device.
 */
int64_t hostchan_trap_bulk_write(uint32_t host_priv, uintptr_t ubuf, size_t len);

#endif
