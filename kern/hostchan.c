/*
 * The host channel over COM2 (the user's view is in hostchan.h and
 * docs/perf-analysis.md).
 *
 * Receive.  QEMU holds bytes back while the 16-byte receive FIFO is
 * full, so nothing is lost however late the guest reads; the FIFO only
 * limits how fast bytes come in.  Two pollers move them into hc_rx, a
 * 4 KiB ring: the clock tick (so a burst keeps flowing while the agent
 * computes) and the reader itself, which polls in a loop while bytes
 * keep arriving.  A reader with nothing to read sleeps one millisecond
 * at a time until its timeout: no interrupt line is needed, and under
 * icount with sleep=off an idle guest's millisecond costs no host time.
 *
 * Transmit.  Polled: a byte goes out when THRE says the UART has room;
 * QEMU keeps THRE clear while the host socket is full, so a slow host
 * slows the agent down instead of losing bytes.  With no host connected
 * QEMU discards what is sent.
 *
 * Locking.  hc_rx and its indices: [r] hc_rx_lock, taken with
 * interrupts masked (the tick hook fills the ring).  One thread at a
 * time owns each direction ([o] hc_rd_busy, hc_wr_busy): a second
 * caller yields until the first one is done, so a message is never
 * interleaved with another.
 */
#include <mach/port.h>
#include <stdbool.h>

#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "kern/clock.h"
#include "kern/hostchan.h"
#include "kern/ivshmem.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/spinlock.h"
#include "kern/task.h"
#include "vm/vm_copy.h"
#include "x86_64/com2.h"
#include "x86_64/io.h"

#define HC_RX_SIZE 4096  /* a power of two */
#define HC_CHUNK 512     /* bytes copied in or out at a time */
#define HC_TX_SPIN 4096  /* THRE polls before yielding the CPU */
#define HC_IDLE_POLLS 64 /* empty polls before a reader returns what it has */

static bool hc_present; /* [I] */
static spinlock_t hc_rx_lock = SPINLOCK_INIT;
static unsigned char hc_rx[HC_RX_SIZE];                        /* [r] */
static uint32_t hc_rx_head, hc_rx_tail;                        /* [r] free-running */
static volatile uint32_t hc_rd_busy, hc_wr_busy, hc_bulk_busy; /* [o] */

/* Moves what COM2 holds into the ring, as long as it has room.  [r] held. */
static void hc_rx_poll_locked(void)
{
	while (hc_rx_head - hc_rx_tail < HC_RX_SIZE) {
		int c = com2_rx();

		if (c < 0)
			break;
		hc_rx[hc_rx_head++ & (HC_RX_SIZE - 1)] = (unsigned char)c;
	}
}

static void hc_tick(void)
{
	spin_lock(&hc_rx_lock); /* interrupt context: interrupts are off */
	hc_rx_poll_locked();
	spin_unlock(&hc_rx_lock);
}

void hostchan_init(void)
{
	ivshmem_init(); /* the bulk half, when QEMU has an ivshmem device */
	hc_present = com2_init();
	if (!hc_present)
		return;
	clock_register_tick_hook(hc_tick);
	kprintf("hostchan: COM2 at 0x2f8 is the host channel\n");
}

/* Is name, in the current task's space, a send right to the privileged host port? */
static bool hc_privileged(uint32_t name)
{
	struct task *t = task_current();
	bool ok = false;

	if (t == NULL || t->itk_space == NULL)
		return false;
	unsigned long f = ipc_lock();
	struct ipc_entry *e = ipc_entry_lookup(t->itk_space, name);

	if (e && (e->type & MACH_PORT_TYPE_SEND_RIGHTS) && e->object) {
		const struct ipc_port *port = e->object;

		ok = port->active && port->kotype == IKOT_HOST_PRIV;
	}
	ipc_unlock(f);
	return ok;
}

static int64_t hc_check(uint32_t host_priv)
{
	if (!hc_privileged(host_priv))
		return -(int64_t)KERN_INVALID_HOST;
	if (!hc_present)
		return -(int64_t)KERN_FAILURE;
	return 0;
}

static void hc_own(volatile uint32_t *busy)
{
	while (__atomic_exchange_n(busy, 1, __ATOMIC_ACQUIRE))
		thread_yield();
}

static void hc_release(volatile uint32_t *busy)
{
	__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
}

int64_t hostchan_trap_write(uint32_t host_priv, uintptr_t ubuf, size_t len)
{
	unsigned char buf[HC_CHUNK];
	int64_t r = hc_check(host_priv);
	size_t done = 0;

	if (r < 0)
		return r;
	hc_own(&hc_wr_busy);
	while (done < len) {
		size_t n = len - done < HC_CHUNK ? len - done : HC_CHUNK;

		if (copyin((const void *)(ubuf + done), buf, n) != KERN_SUCCESS) {
			r = -(int64_t)KERN_INVALID_ADDRESS;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			for (int spin = 0; !com2_tx_ready(); spin++)
				if (spin >= HC_TX_SPIN) {
					thread_yield();
					spin = 0;
				}
			com2_tx(buf[i]);
		}
		done += n;
	}
	hc_release(&hc_wr_busy);
	return r < 0 ? r : (int64_t)done;
}

/* Copies what the ring holds (up to max bytes) into kbuf; the count. */
static size_t hc_rx_take(unsigned char *kbuf, size_t max)
{
	size_t n = 0;
	unsigned long f = spin_lock_irqsave(&hc_rx_lock);

	hc_rx_poll_locked();
	while (n < max && hc_rx_tail != hc_rx_head) {
		kbuf[n++] = hc_rx[hc_rx_tail++ & (HC_RX_SIZE - 1)];
		if (hc_rx_head - hc_rx_tail < 16)
			hc_rx_poll_locked(); /* keep the FIFO draining while we copy */
	}
	spin_unlock_irqrestore(&hc_rx_lock, f);
	return n;
}

int64_t hostchan_trap_read(uint32_t host_priv, uintptr_t ubuf, size_t len, uint32_t timeout_ms)
{
	unsigned char buf[HC_CHUNK];
	int64_t r = hc_check(host_priv);
	size_t done = 0;
	uint64_t deadline = clock_ns() + (uint64_t)timeout_ms * 1000000ull;
	int idle = 0;

	if (r < 0)
		return r;
	hc_own(&hc_rd_busy);
	while (done < len) {
		size_t want = len - done < HC_CHUNK ? len - done : HC_CHUNK;
		size_t n = hc_rx_take(buf, want);

		if (n > 0) {
			if (copyout(buf, (void *)(ubuf + done), n) != KERN_SUCCESS) {
				r = -(int64_t)KERN_INVALID_ADDRESS;
				break;
			}
			done += n;
			idle = 0;
			continue;
		}
		if (done > 0) {
			/* Bytes came: keep polling while more follow, briefly. */
			if (++idle >= HC_IDLE_POLLS)
				break;
			cpu_pause();
			continue;
		}
		if (task_current()->terminating || timeout_ms == 0 || clock_ns() >= deadline)
			break;
		task_sleep(1000000ull);
	}
	hc_release(&hc_rd_busy);
	return r < 0 ? r : (int64_t)done;
}

/* The bulk channel (kern/ivshmem.c): len 0 asks for the ring's capacity. */
int64_t hostchan_trap_bulk_write(uint32_t host_priv, uintptr_t ubuf, size_t len)
{
	if (!hc_privileged(host_priv))
		return -(int64_t)KERN_INVALID_HOST;
	if (ivshmem_ring_size() == 0)
		return -(int64_t)KERN_FAILURE;
	if (len == 0)
		return (int64_t)ivshmem_ring_size();
	hc_own(&hc_bulk_busy);
	int64_t r = ivshmem_ring_write(ubuf, len);

	hc_release(&hc_bulk_busy);
	return r;
}
