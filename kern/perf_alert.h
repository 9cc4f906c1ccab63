/*
 * Threshold alerts of the performance analysis engine: a registration
 * (a port, an event, a threshold) gets a message when an event of that
 * type lasts longer than the threshold.  The message layout is
 * <mach/perf_monitor_types.h>'s perf_alert_msg_t; the design is at the
 * top of kern/perf_alert.c.
 */
#ifndef KERN_PERF_ALERT_H
#define KERN_PERF_ALERT_H

#include <mach/kern_return.h>
#include <mach/perf_event.h>
#include <stdint.h>

struct ipc_port;

/*
 * Per event, the lowest threshold registered (UINT64_MAX: none).  Read
 * by perf_time_end with interrupts masked: one load and a compare.  [a]
 */
extern uint64_t perf_alert_threshold[PERF_EVENT_MAX];

/*
 * From perf_time_end only, interrupts masked, when an event of type ev
 * lasted dur (ns or instructions) > perf_alert_threshold[ev]: counts it
 * for every registration it exceeds and marks the CPU pending.  Sends
 * nothing: the clock tick wakes the sender thread.
 */
void perf_alert_note(uint32_t ev, uint32_t task, uint32_t thread, uint64_t dur);

/* Starts the sender thread and the tick hook.  Once, after ipc_init. */
void perf_alert_init(void);

/*
 * Registers port (a send right the call takes over, whatever it
 * returns) for event ev over threshold (> 0).  KERN_INVALID_ARGUMENT for
 * an event without a duration or a port that is dead or a kernel
 * object's; KERN_RESOURCE_SHORTAGE when PERF_ALERT_MAX registrations
 * exist.  The same port and event again: the threshold is replaced.
 */
kern_return_t perf_alert_register(struct ipc_port *port, uint32_t ev, uint64_t threshold);

/* Ends port's registrations for ev (and drops the send right given); KERN_SUCCESS. */
kern_return_t perf_alert_cancel(struct ipc_port *port, uint32_t ev);

/* Registrations that exist (tests). */
unsigned perf_alert_count(void);

#endif /* KERN_PERF_ALERT_H */
