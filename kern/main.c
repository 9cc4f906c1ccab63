/*
 * kmain: the first C function.  Brings the machine up in dependency order,
 * then runs what the command line asks for.
 */
#include <stdint.h>

#include "ipc/ipc_kobject.h"
#include "ipc/ipc_port.h"
#include "kern/bootstrap.h"
#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/hostchan.h"
#include "kern/ipc_perf_monitor.h"
#include "kern/kalloc.h"
#include "kern/ktest.h"
#include "kern/panic.h"
#include "kern/perf_analysis.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "vm/vm_fault.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"
#include "x86_64/cpu.h"
#include "x86_64/multiboot.h"
#include "x86_64/pmap.h"
#include "x86_64/syscall.h"
#include "x86_64/trap.h"

void kmain(uint32_t magic, uint64_t mbi_pa);
extern char boot_stack_guard[];

void kmain(uint32_t magic, uint64_t mbi_pa)
{
	console_init();
	kprintf("\nmachperf: booting\n");
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("kmain: not started by a multiboot loader (magic %#x)", magic);

	const struct multiboot_info *mbi = PHYS_TO_VIRT(mbi_pa);

	cmdline_init(mbi->flags & MB_INFO_CMDLINE ? (const char *)PHYS_TO_VIRT(mbi->cmdline) : "");
	kprintf("machperf: command line \"%s\"\n", cmdline_raw());

	cpu_init_boot();
	trap_init();
	vm_page_init(mbi);
	pmap_init();
	/* An overflow of the boot stack now faults instead of eating .bss. */
	if (pmap_kremove((uintptr_t)boot_stack_guard) != KERN_SUCCESS)
		panic("kmain: cannot unmap the boot stack guard page");
	kalloc_init();
	vm_map_init();
	vm_fault_init();
	clock_init();
	sched_init();
	perf_analysis_init();    /* perf: the engine's buffers, before anything records */
	ipc_init();              /* ipc: zones, the kernel space, the host ports */
	ipc_servers_init();      /* ipc: the kernel's MIG servers (kern/ipc_tt.c) */
	ipc_perf_monitor_init(); /* perf: the perf_monitor RPC server and alert sender */
	syscall_init();
	hostchan_init(); /* issue 6: the host channel on COM2 */

	intr_enable();
	bootstrap_init();
	ktest_main();
	perf_bench_main(); /* perf: "bench=perf" runs the probe benchmark and exits */
	bootstrap_main();

	kprintf("machperf: nothing to run; idle\n");
	for (;;)
		__asm__ volatile("hlt");
}
