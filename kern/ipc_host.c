/*
 * The host as a kernel object: the mach_host routines (S_host_*).
 *
 * Two ports name the host: the unprivileged one (mach_host_self) and the
 * privileged one, which only the bootstrap task gets (kern/bootstrap.c:
 * its TASK_HOST_PRIV_PORT special port) and may hand on.  Both are
 * bound to the same demux; every routine here takes either, but
 * host_reboot needs the privileged one: on the unprivileged port, or any
 * other name, it is KERN_INVALID_HOST, as for every routine given
 * something that is not a host port.
 *
 * host_reboot on the privileged port ends the machine: with RB_HALT
 * QEMU exits with the success status (a clean shutdown), with any other
 * option with the failure status (QEMU runs with -no-reboot: a reboot
 * ends the run, and a test run must not read it as a pass).
 * host_get_time is the time since boot (there is no clock of the day).
 */
#include <mach/host_info.h>
#include <mach/mig_errors.h>

#include "ipc/ipc_kobject.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "kern/clock.h"
#include "kern/printf.h"
#include "kern/string.h"
#include "mach_host_S.h" /* mig-gen/ */
#include "vm/vm_page.h"
#include "x86_64/cpu.h"
#include "x86_64/machine.h"
#include "x86_64/pmap.h"

#define HOST_KERNEL_VERSION "machperf 0.1 (x86_64, Mach IPC, GNU Mach-compatible RPCs)"

/* Which host port name denotes in the kernel space: IKOT_HOST, IKOT_HOST_PRIV or IKOT_NONE. */
static enum ipc_kotype host_kind(mach_port_t name)
{
	enum ipc_kotype kind = IKOT_NONE;
	unsigned long f = ipc_lock();
	struct ipc_port *port = ipc_kobject_port(name);

	if (port && port->active && (port->kotype == IKOT_HOST || port->kotype == IKOT_HOST_PRIV))
		kind = port->kotype;
	ipc_unlock(f);
	return kind;
}

kern_return_t S_host_kernel_version(mach_port_t host, kernel_version_t kernel_version)
{
	if (host_kind(host) == IKOT_NONE)
		return KERN_INVALID_HOST;
	memset(kernel_version, 0, sizeof(kernel_version_t));
	strlcpy(kernel_version, HOST_KERNEL_VERSION, sizeof(kernel_version_t));
	return KERN_SUCCESS;
}

kern_return_t S_host_get_time(mach_port_t host, time_value_t *current_time)
{
	if (host_kind(host) == IKOT_NONE)
		return KERN_INVALID_HOST;
	uint64_t ns = clock_ns();

	current_time->seconds = (int64_t)(ns / 1000000000ull);
	current_time->microseconds = (integer_t)(ns % 1000000000ull / 1000);
	return KERN_SUCCESS;
}

kern_return_t S_host_reboot(mach_port_t host_priv, int options)
{
	if (host_kind(host_priv) != IKOT_HOST_PRIV)
		return KERN_INVALID_HOST;
	kprintf("host_reboot: options %#x: %s\n", options,
	        options & RB_HALT ? "halting" : "rebooting (ends the run)");
	machine_exit(options & RB_HALT ? MACHINE_EXIT_SUCCESS : MACHINE_EXIT_FAILURE);
}

kern_return_t S_host_info(mach_port_t host, int flavor, host_info_t host_info_out,
                          mach_msg_type_number_t *host_info_outCnt)
{
	struct host_basic_info bi;

	if (host_kind(host) == IKOT_NONE)
		return KERN_INVALID_HOST;
	if (flavor != HOST_BASIC_INFO || *host_info_outCnt < HOST_BASIC_INFO_COUNT)
		return KERN_INVALID_ARGUMENT;
	memset(&bi, 0, sizeof(bi));
	bi.max_cpus = MAX_CPUS;
	bi.avail_cpus = 1;
	bi.memory_size = vm_page_total_count() * PAGE_SIZE;
	bi.cpu_type = CPU_TYPE_X86_64;
	memcpy(host_info_out, &bi, sizeof(bi));
	*host_info_outCnt = HOST_BASIC_INFO_COUNT;
	return KERN_SUCCESS;
}
