/*
 * The bulk host channel over ivshmem (see ivshmem.h and <mach/perf_shm.h>).
 *
 * The device's shared memory (BAR2, 64-bit prefetchable) is mapped
 * uncached into a kva window, page by page.  Under TCG the attribute
 * changes nothing (QEMU backs the BAR with ordinary host memory, the same
 * pages the host mmaps); on hardware-assisted virtualisation it keeps the
 * guest's view coherent with the host's without relying on the PAT.
 */
#include <mach/kern_return.h>
#include <mach/perf_shm.h>
#include <stdbool.h>

#include "kern/clock.h"
#include "kern/ivshmem.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "vm/vm_copy.h"
#include "x86_64/pci.h"
#include "x86_64/pmap.h"

#define IVSHMEM_MAX (64ul << 20) /* mapped at most (KVA_SIZE is 256 MiB) */
#define IVSHMEM_CHUNK 65536      /* bytes copied before the write index moves */
#define IVSHMEM_STALL_MS 10000   /* a full ring for this long: give up */

static struct perf_shm_header *ivs_hdr; /* [I] */
static unsigned char *ivs_data;         /* [I] */
static uint64_t ivs_size;               /* [I] ring capacity, 0: no device */

void ivshmem_init(void)
{
	unsigned dev, fn;
	uint64_t pa, size;

	if (!pci_find(PERF_SHM_VENDOR, PERF_SHM_DEVICE, &dev, &fn))
		return;
	if (!pci_mem_bar(dev, fn, PERF_SHM_BAR, &pa, &size) || (pa & PAGE_MASK) ||
	    size < 2 * PERF_SHM_DATA_OFFSET) {
		kprintf("ivshmem: 00:%02x.%x has no usable BAR2; no bulk channel\n", dev, fn);
		return;
	}
	if (size > IVSHMEM_MAX)
		size = IVSHMEM_MAX;
	size_t npages = size >> PAGE_SHIFT;
	uintptr_t va = kva_alloc(npages);

	if (va == 0) {
		kprintf("ivshmem: no kernel window for %zu pages; no bulk channel\n", npages);
		return;
	}
	for (size_t i = 0; i < npages; i++)
		if (pmap_kenter(va + i * PAGE_SIZE, pa + i * PAGE_SIZE,
		                PMAP_READ | PMAP_WRITE | PMAP_NOCACHE) != KERN_SUCCESS) {
			while (i-- > 0)
				(void)pmap_kremove(va + i * PAGE_SIZE);
			kva_free(va, npages);
			kprintf("ivshmem: cannot map BAR2; no bulk channel\n");
			return;
		}
	ivs_hdr = (struct perf_shm_header *)va;
	ivs_data = (unsigned char *)va + PERF_SHM_DATA_OFFSET;
	ivs_hdr->magic = 0;
	ivs_hdr->version = PERF_SHM_VERSION;
	ivs_hdr->size = size - PERF_SHM_DATA_OFFSET;
	ivs_hdr->data_offset = PERF_SHM_DATA_OFFSET;
	ivs_hdr->write = 0;
	ivs_hdr->read = 0;
	__atomic_store_n(&ivs_hdr->magic, PERF_SHM_MAGIC, __ATOMIC_RELEASE);
	ivs_size = size - PERF_SHM_DATA_OFFSET;
	kprintf("ivshmem: 00:%02x.%x BAR2 at %#llx, %llu KiB: the bulk host channel\n", dev, fn,
	        (unsigned long long)pa, (unsigned long long)(size >> 10));
}

size_t ivshmem_ring_size(void)
{
	return ivs_size;
}

int64_t ivshmem_ring_write(uintptr_t ubuf, size_t len)
{
	size_t done = 0;
	uint64_t w = ivs_hdr ? ivs_hdr->write : 0;
	uint64_t stalled_since = 0;

	if (ivs_size == 0)
		return -(int64_t)KERN_FAILURE;
	while (done < len) {
		uint64_t r = __atomic_load_n(&ivs_hdr->read, __ATOMIC_ACQUIRE);
		uint64_t used = w - r;

		/* More than size would be a host store seen torn: wait as if full. */
		if (used >= ivs_size) {
			uint64_t now = clock_ns();

			if (stalled_since == 0)
				stalled_since = now;
			if (task_current()->terminating ||
			    now - stalled_since >= IVSHMEM_STALL_MS * 1000000ull)
				break;
			task_sleep(1000000ull);
			continue;
		}
		stalled_since = 0;
		uint64_t at = w % ivs_size;
		size_t n = len - done;

		if (n > ivs_size - used)
			n = ivs_size - used;
		if (n > ivs_size - at)
			n = ivs_size - at;
		if (n > IVSHMEM_CHUNK)
			n = IVSHMEM_CHUNK;
		if (copyin((const void *)(ubuf + done), ivs_data + at, n) != KERN_SUCCESS)
			return -(int64_t)KERN_INVALID_ADDRESS;
		w += n;
		done += n;
		__atomic_store_n(&ivs_hdr->write, w, __ATOMIC_RELEASE);
	}
	return (int64_t)done;
}
