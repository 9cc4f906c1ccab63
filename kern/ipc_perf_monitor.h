/*
 * The perf_monitor RPC server (kern/ipc_perf_monitor.c): the engine's
 * user interface on the host ports, and its threshold alerts.
 */
#ifndef KERN_IPC_PERF_MONITOR_H
#define KERN_IPC_PERF_MONITOR_H

#ifdef CONFIG_PERF_ANALYSIS
/*
 * Registers the perf_monitor demux for both host port types and starts
 * the alert sender.  Once, after ipc_init and sched_init; panics only if
 * the demux table is full or the thread cannot be made (boot bugs).
 */
void ipc_perf_monitor_init(void);
#else
/* Configured out: no server; the RPCs get MIG_BAD_ID. */
static inline void ipc_perf_monitor_init(void)
{
}
#endif

#endif /* KERN_IPC_PERF_MONITOR_H */
