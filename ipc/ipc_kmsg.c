/*
 * Messages in the kernel.
 *
 * A kmsg keeps the message exactly as the sender laid it out (header and
 * body bytes, msgh_size set to send_size as GNU Mach does) plus what the
 * bytes cannot hold: the header rights as port pointers, and one item per
 * body descriptor that carries rights or out-of-line memory, remembering
 * where in the body its names or address go.  Copyout writes the
 * receiver's names and addresses into those slots and copies the bytes
 * out in one piece, so a message has the same size and layout on both
 * sides (mig-defs/README.md: no KernelServer re-layout).
 *
 * Copyin runs in three steps so that nothing that may fault runs under
 * the ipc lock and errors come in GNU Mach's order:
 *   1. [locked] the header: bits, destination, reply (checked first,
 *      then taken, the copy before the move when both name one right);
 *   2. [unlocked] the body walk: every descriptor is bounds-checked
 *      against send_size; out-of-line data and arrays of names are
 *      copied into kernel pages;
 *   3. [locked] the body rights are taken from the space.
 * A failure anywhere releases everything taken so far (GNU Mach: the
 * message is destroyed) and frees the kmsg.  The sender's out-of-line
 * regions marked deallocate are removed only once all of it succeeded.
 *
 * Out-of-line data lives in the kernel as PAGE_SIZE pieces (no large
 * contiguous allocations) and is written into the receiver's map with
 * vm_allocate + vm_write.  A kernel-buffer receiver (the kernel's servers,
 * ktest) gets one kalloc'd buffer instead.
 *
 * Small kmsgs come from a few static slots (kmsg_cache) before kalloc:
 * a null message or a kernel RPC then touches no zone at all, where a
 * zone page taken and given back per message cost ~600 instructions
 * (docs/benchmarks.md).  The slots are not kalloc objects, so the leak
 * checks do not see them; ipc_kmsg_count counts them like any kmsg.
 */
#include <stddef.h>

#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/string.h"
#include "vm/vm_copy.h"
#include "vm/vm_user.h"
#include "x86_64/pmap.h"

#define KMSG_HDR sizeof(mach_msg_header_t)

static unsigned ipc_nkmsgs; /* [a] */

#define KMSG_CACHE_SLOTS 4
#define KMSG_CACHE_SIZE 256 /* message bytes a slot holds */

struct kmsg_slot {
	struct ipc_kmsg kmsg;
	uint8_t body[KMSG_CACHE_SIZE - sizeof(mach_msg_header_t)];
};

static struct kmsg_slot kmsg_cache[KMSG_CACHE_SLOTS];
static unsigned kmsg_cache_busy; /* [a] bit i: slot i is handed out */
_Static_assert(KMSG_CACHE_SLOTS <= 32, "kmsg_cache_busy bits");

/* A free static slot for size message bytes, or NULL. */
static struct ipc_kmsg *kmsg_cache_get(mach_msg_size_t size)
{
	if (size > KMSG_CACHE_SIZE)
		return NULL;
	for (unsigned i = 0; i < KMSG_CACHE_SLOTS; i++) {
		unsigned bit = 1u << i;

		if (!(__atomic_fetch_or(&kmsg_cache_busy, bit, __ATOMIC_ACQUIRE) & bit))
			return &kmsg_cache[i].kmsg;
	}
	return NULL;
}

struct ipc_kmsg *ipc_kmsg_alloc(mach_msg_size_t size)
{
	struct ipc_kmsg *kmsg = kmsg_cache_get(size);

	if (kmsg == NULL)
		kmsg = kalloc(offsetof(struct ipc_kmsg, msg) + size);

	if (kmsg == NULL)
		return NULL;
	memset(kmsg, 0, offsetof(struct ipc_kmsg, msg));
	kmsg->size = size;
	__atomic_add_fetch(&ipc_nkmsgs, 1, __ATOMIC_RELAXED);
	return kmsg;
}

static void ipc_kitem_free_memory(struct ipc_kitem *it)
{
	if (it->pages) {
		size_t n = (it->size + PAGE_SIZE - 1) / PAGE_SIZE;

		for (size_t i = 0; i < n; i++)
			kfree(it->pages[i]);
		kfree(it->pages);
		it->pages = NULL;
	}
	kfree(it->names);
	it->names = NULL;
}

void ipc_kmsg_free(struct ipc_kmsg *kmsg)
{
	for (uint32_t i = 0; i < kmsg->nitems; i++) {
		ipc_kitem_free_memory(&kmsg->items[i]);
		kfree(kmsg->items[i].ports);
	}
	kfree(kmsg->items);
	__atomic_sub_fetch(&ipc_nkmsgs, 1, __ATOMIC_RELAXED);

	uintptr_t a = (uintptr_t)kmsg, c = (uintptr_t)kmsg_cache;

	if (a >= c && a < c + sizeof(kmsg_cache))
		__atomic_and_fetch(&kmsg_cache_busy, ~(1u << ((a - c) / sizeof(kmsg_cache[0]))),
		                   __ATOMIC_RELEASE);
	else
		kfree(kmsg);
}

void ipc_kmsg_destroy(struct ipc_kmsg *kmsg)
{
	ipc_right_release(kmsg->remote, kmsg->remote_type);
	kmsg->remote = NULL;
	ipc_right_release(kmsg->local, kmsg->local_type);
	kmsg->local = NULL;
	for (uint32_t i = 0; i < kmsg->nitems; i++) {
		struct ipc_kitem *it = &kmsg->items[i];

		if (it->kind == IK_OOL || it->ports == NULL)
			continue;
		for (uint32_t j = 0; j < it->count; j++) {
			struct ipc_port *p = it->ports[j];

			it->ports[j] = NULL;
			if (IP_VALID(p) && it->type == MACH_MSG_TYPE_PORT_RECEIVE)
				p->transit_dest = NULL;
			ipc_right_release(p, it->type);
		}
	}
	ipc_kmsg_free(kmsg);
}

void ipc_kmsg_destroy_unlocked(struct ipc_kmsg *kmsg)
{
	unsigned long f = ipc_lock();

	ipc_kmsg_destroy(kmsg);
	ipc_unlock(f);
}

static kern_return_t io_read(const struct ipc_io *io, uintptr_t src, void *dst, size_t n)
{
	if (io->kern) {
		memcpy(dst, (const void *)src, n);
		return KERN_SUCCESS;
	}
	return copyin((const void *)src, dst, n);
}

kern_return_t ipc_io_write(const struct ipc_io *io, const void *src, uintptr_t dst, size_t n)
{
	if (io->kern) {
		memcpy((void *)dst, src, n);
		return KERN_SUCCESS;
	}
	return copyout(src, (void *)dst, n);
}

mach_msg_return_t ipc_kmsg_get(const struct ipc_io *io, uintptr_t msg, mach_msg_size_t size,
                               struct ipc_kmsg **out)
{
	if (size < KMSG_HDR || (size & 3))
		return MACH_SEND_MSG_TOO_SMALL;
	if (size > IPC_KMSG_MAX_SIZE)
		return MACH_SEND_NO_BUFFER;
	struct ipc_kmsg *kmsg = ipc_kmsg_alloc(size);

	if (kmsg == NULL)
		return MACH_SEND_NO_BUFFER;
	if (io_read(io, msg, &kmsg->msg, size) != KERN_SUCCESS) {
		ipc_kmsg_free(kmsg);
		return MACH_SEND_INVALID_DATA;
	}
	kmsg->msg.msgh_size = size;
	*out = kmsg;
	return MACH_MSG_SUCCESS;
}

/* [i] Step 1: the header rights.  Nothing is taken unless all of it can be. */
static mach_msg_return_t kmsg_copyin_header(const struct ipc_io *io, struct ipc_kmsg *kmsg)
{
	mach_msg_header_t *h = &kmsg->msg;
	mach_msg_bits_t bits = h->msgh_bits;
	mach_msg_type_name_t dtype = MACH_MSGH_BITS_REMOTE(bits),
	                     rtype = MACH_MSGH_BITS_LOCAL(bits);
	mach_port_name_t dname = h->msgh_remote_port, rname = h->msgh_local_port;
	struct ipc_space *space = io->space;

	if ((bits & MACH_MSGH_BITS_UNUSED) || !MACH_MSG_TYPE_PORT_ANY_SEND(dtype) ||
	    (rtype == 0 ? rname != MACH_PORT_NULL : !MACH_MSG_TYPE_PORT_ANY_SEND(rtype)))
		return MACH_SEND_INVALID_HEADER;
	/* One lookup per name (the second copyin looks again only if the names are one). */
	struct ipc_entry *de = MACH_PORT_VALID(dname) ? ipc_entry_lookup(space, dname) : NULL;

	if (ipc_right_copyin_check_entry(de, dtype, false) != KERN_SUCCESS)
		return MACH_SEND_INVALID_DEST;
	bool reply = MACH_PORT_VALID(rname);
	struct ipc_entry *re = !reply ? NULL : rname == dname ? de : ipc_entry_lookup(space, rname);

	if (reply && ipc_right_copyin_check_entry(re, rtype, true) != KERN_SUCCESS)
		return MACH_SEND_INVALID_REPLY;
	bool dmove = dtype == MACH_MSG_TYPE_MOVE_SEND || dtype == MACH_MSG_TYPE_MOVE_SEND_ONCE;
	bool rmove = rtype == MACH_MSG_TYPE_MOVE_SEND || rtype == MACH_MSG_TYPE_MOVE_SEND_ONCE;

	if (reply && rname == dname && dmove && rmove) {
		/* Two moves of one right: two send references, and never of a send-once. */
		struct ipc_entry *e = de;

		if (dtype != MACH_MSG_TYPE_MOVE_SEND || rtype != MACH_MSG_TYPE_MOVE_SEND ||
		    !(e->type & MACH_PORT_TYPE_SEND) || e->urefs < 2)
			return MACH_SEND_INVALID_REPLY;
	}
	if (reply && rname == dname && (dmove != rmove) &&
	    (dtype == MACH_MSG_TYPE_MOVE_SEND_ONCE || rtype == MACH_MSG_TYPE_MOVE_SEND_ONCE))
		return MACH_SEND_INVALID_REPLY; /* a send-once right cannot also be copied */
	kern_return_t kr1, kr2 = KERN_SUCCESS;

	if (reply && dmove && !rmove) {
		kr2 = ipc_right_copyin_entry(space, rname, re, rtype, true, &kmsg->local,
		                             &kmsg->local_type);
		if (rname == dname)
			de = ipc_entry_lookup(space, dname);
		kr1 = ipc_right_copyin_entry(space, dname, de, dtype, false, &kmsg->remote,
		                             &kmsg->remote_type);
	} else {
		kr1 = ipc_right_copyin_entry(space, dname, de, dtype, false, &kmsg->remote,
		                             &kmsg->remote_type);
		if (reply && rname == dname)
			re = ipc_entry_lookup(space, rname);
		if (reply && kr1 == KERN_SUCCESS)
			kr2 = ipc_right_copyin_entry(space, rname, re, rtype, true, &kmsg->local,
			                             &kmsg->local_type);
	}
	if (kr1 != KERN_SUCCESS || kr2 != KERN_SUCCESS)
		panic("kmsg_copyin_header: checked rights failed (%d, %d)", kr1, kr2);
	if (!reply) {
		kmsg->local = rname == MACH_PORT_DEAD ? IP_DEAD : NULL;
		kmsg->local_type = rname == MACH_PORT_DEAD ? MACH_MSG_TYPE_PORT_SEND : 0;
		if (rname == MACH_PORT_DEAD && rtype == MACH_MSG_TYPE_MOVE_SEND_ONCE)
			kmsg->local_type = MACH_MSG_TYPE_PORT_SEND_ONCE;
	}
	return MACH_MSG_SUCCESS;
}

/* Appends an item; NULL without memory. */
static struct ipc_kitem *kmsg_add_item(struct ipc_kmsg *kmsg, uint32_t *cap)
{
	if (kmsg->nitems == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 4;
		struct ipc_kitem *items = kalloc(ncap * sizeof(*items));

		if (items == NULL)
			return NULL;
		if (kmsg->nitems)
			memcpy(items, kmsg->items, kmsg->nitems * sizeof(*items));
		kfree(kmsg->items);
		kmsg->items = items;
		*cap = ncap;
	}
	struct ipc_kitem *it = &kmsg->items[kmsg->nitems++];

	memset(it, 0, sizeof(*it));
	return it;
}

/* Copies size bytes at src (io's memory) into kernel pages. */
static mach_msg_return_t kmsg_ool_copyin(const struct ipc_io *io, struct ipc_kitem *it)
{
	size_t n = (it->size + PAGE_SIZE - 1) / PAGE_SIZE;

	if (n == 0)
		return MACH_MSG_SUCCESS;
	it->pages = kalloc(n * sizeof(void *));
	if (it->pages == NULL)
		return MACH_SEND_NO_BUFFER;
	memset(it->pages, 0, n * sizeof(void *));
	for (size_t i = 0; i < n; i++) {
		size_t len = i == n - 1 ? it->size - i * PAGE_SIZE : PAGE_SIZE;

		it->pages[i] = kalloc(PAGE_SIZE);
		if (it->pages[i] == NULL)
			return MACH_SEND_NO_BUFFER;
		if (io_read(io, it->src + i * PAGE_SIZE, it->pages[i], len) != KERN_SUCCESS)
			return MACH_SEND_INVALID_MEMORY;
	}
	return MACH_MSG_SUCCESS;
}

/* Step 2: walks and bounds-checks the body, copying out-of-line memory in. */
static mach_msg_return_t kmsg_copyin_body(const struct ipc_io *io, struct ipc_kmsg *kmsg)
{
	uint8_t *base = (uint8_t *)&kmsg->msg;
	uint32_t size = kmsg->size, off = KMSG_HDR, cap = 0;

	while (off < size) {
		mach_msg_type_t t;
		uint32_t name, bits, number, hlen = sizeof(mach_msg_type_t);

		if (size - off < sizeof(t))
			return MACH_SEND_MSG_TOO_SMALL;
		memcpy(&t, base + off, sizeof(t));
		name = t.msgt_name;
		bits = t.msgt_size;
		number = t.msgt_number;
		if (t.msgt_longform) {
			mach_msg_type_long_t lt;

			if (size - off < sizeof(lt))
				return MACH_SEND_MSG_TOO_SMALL;
			memcpy(&lt, base + off, sizeof(lt));
			name = lt.msgtl_name;
			bits = lt.msgtl_size;
			number = lt.msgtl_number;
			hlen = sizeof(lt);
		}
		uint32_t dpos = off + hlen;
		bool is_port = MACH_MSG_TYPE_PORT_ANY(name);
		uint64_t length = ((uint64_t)number * bits + 7) / 8;

		if (is_port && bits != 32)
			return MACH_SEND_INVALID_TYPE;
		if (t.msgt_inline) {
			uint64_t padded = (length + 3) & ~3ull;

			if (padded > size - dpos)
				return MACH_SEND_MSG_TOO_SMALL;
			if (is_port && number) {
				struct ipc_kitem *it = kmsg_add_item(kmsg, &cap);

				if (it == NULL)
					return MACH_SEND_NO_BUFFER;
				*it = (struct ipc_kitem){ .off = dpos,
					                  .doff = off,
					                  .kind = IK_PORTS,
					                  .type = name,
					                  .longform = t.msgt_longform,
					                  .count = number };
			}
			off = dpos + (uint32_t)padded;
			continue;
		}
		uint64_t addr;

		if (size - dpos < sizeof(addr))
			return MACH_SEND_MSG_TOO_SMALL;
		memcpy(&addr, base + dpos, sizeof(addr));
		off = dpos + sizeof(addr);
		if (length > IPC_OOL_MAX_SIZE)
			return MACH_SEND_NO_BUFFER;
		struct ipc_kitem *it = kmsg_add_item(kmsg, &cap);

		if (it == NULL)
			return MACH_SEND_NO_BUFFER;
		*it = (struct ipc_kitem){ .off = dpos,
			                  .doff = dpos - hlen,
			                  .kind = is_port ? IK_OOL_PORTS : IK_OOL,
			                  .type = name,
			                  .longform = t.msgt_longform,
			                  .dealloc = t.msgt_deallocate,
			                  .count = is_port ? number : 0,
			                  .size = length,
			                  .src = addr };
		if (is_port) {
			if (number == 0)
				continue;
			it->names = kalloc(length);
			if (it->names == NULL)
				return MACH_SEND_NO_BUFFER;
			if (io_read(io, addr, it->names, length) != KERN_SUCCESS)
				return MACH_SEND_INVALID_MEMORY;
			it->size = 0; /* the names are all that matters */
			continue;
		}
		mach_msg_return_t mr = kmsg_ool_copyin(io, it);

		if (mr != MACH_MSG_SUCCESS)
			return mr;
	}
	return MACH_MSG_SUCCESS;
}

/* Rewrites an item's descriptor name (disposition -> carried type). */
static void kmsg_set_desc_name(struct ipc_kmsg *kmsg, struct ipc_kitem *it,
                               mach_msg_type_name_t type)
{
	uint8_t *d = (uint8_t *)&kmsg->msg + it->doff;

	if (it->longform) {
		unsigned short n = (unsigned short)type;

		memcpy(d + offsetof(mach_msg_type_long_t, msgtl_name), &n, sizeof(n));
	} else {
		mach_msg_type_t t;

		memcpy(&t, d, sizeof(t));
		t.msgt_name = type;
		memcpy(d, &t, sizeof(t));
	}
}

/* Does the receive right of port lead back to dest (dest is in port's queue, or inside...)? */
static bool kmsg_circular(struct ipc_port *port, struct ipc_port *dest)
{
	for (struct ipc_port *d = dest; IP_VALID(d); d = d->transit_dest) {
		if (d == port)
			return true;
		if (d->receiver != NULL || !d->active)
			return false;
	}
	return false;
}

/* [i] Step 3: the body rights.  On failure the item counts what was taken. */
static mach_msg_return_t kmsg_copyin_rights(const struct ipc_io *io, struct ipc_kmsg *kmsg)
{
	uint8_t *base = (uint8_t *)&kmsg->msg;

	for (uint32_t i = 0; i < kmsg->nitems; i++) {
		struct ipc_kitem *it = &kmsg->items[i];

		if (it->kind == IK_OOL || it->count == 0)
			continue;
		mach_msg_type_name_t disp = it->type, type = 0;

		it->ports = kalloc(it->count * sizeof(struct ipc_port *));
		if (it->ports == NULL)
			return MACH_SEND_NO_BUFFER;
		memset(it->ports, 0, it->count * sizeof(struct ipc_port *));
		/* Until the first right is in, nothing is to be released. */
		it->type =
		    disp == MACH_MSG_TYPE_MOVE_SEND_ONCE || disp == MACH_MSG_TYPE_MAKE_SEND_ONCE
		        ? MACH_MSG_TYPE_PORT_SEND_ONCE
		    : disp == MACH_MSG_TYPE_MOVE_RECEIVE ? MACH_MSG_TYPE_PORT_RECEIVE
		                                         : MACH_MSG_TYPE_PORT_SEND;
		for (uint32_t j = 0; j < it->count; j++) {
			mach_port_name_t name;

			if (it->kind == IK_PORTS)
				memcpy(&name, base + it->off + 4 * j, sizeof(name));
			else
				name = it->names[j];
			if (name == MACH_PORT_NULL)
				continue;
			if (name == MACH_PORT_DEAD) {
				if (disp == MACH_MSG_TYPE_MOVE_RECEIVE)
					return MACH_SEND_INVALID_RIGHT;
				it->ports[j] = IP_DEAD;
				continue;
			}
			if (ipc_right_copyin(io->space, name, disp, true, &it->ports[j], &type) !=
			    KERN_SUCCESS)
				return MACH_SEND_INVALID_RIGHT;
			if (type == MACH_MSG_TYPE_PORT_RECEIVE &&
			    kmsg_circular(it->ports[j], kmsg->remote))
				kmsg->circular = true;
		}
		kmsg_set_desc_name(kmsg, it, it->type);
	}
	return MACH_MSG_SUCCESS;
}

mach_msg_return_t ipc_kmsg_copyin(const struct ipc_io *io, struct ipc_kmsg *kmsg)
{
	unsigned long f = ipc_lock();
	mach_msg_return_t mr = kmsg_copyin_header(io, kmsg);

	ipc_unlock(f);
	if (mr != MACH_MSG_SUCCESS) {
		ipc_kmsg_free(kmsg);
		return mr;
	}
	if (kmsg->msg.msgh_bits & MACH_MSGH_BITS_COMPLEX) {
		mr = kmsg_copyin_body(io, kmsg);
		if (mr == MACH_MSG_SUCCESS) {
			f = ipc_lock();
			mr = kmsg_copyin_rights(io, kmsg);
			ipc_unlock(f);
		}
		if (mr != MACH_MSG_SUCCESS) {
			ipc_kmsg_destroy_unlocked(kmsg);
			return mr;
		}
	}
	/* All in: the sender's regions marked deallocate go now. */
	for (uint32_t i = 0; i < kmsg->nitems; i++) {
		struct ipc_kitem *it = &kmsg->items[i];
		size_t len = it->kind == IK_OOL_PORTS ? (size_t)it->count * 4 : it->size;

		kfree(it->names);
		it->names = NULL;
		if (it->kind == IK_PORTS || !it->dealloc || len == 0)
			continue;
		if (io->kern)
			kfree((void *)it->src);
		else
			vm_deallocate(io->map, it->src, len);
	}
	return MACH_MSG_SUCCESS;
}

/* Step 2 of copyout: out-of-line memory into the receiver; returns its address or 0. */
static uintptr_t kmsg_ool_copyout(const struct ipc_io *io, struct ipc_kitem *it, const void *names,
                                  size_t size)
{
	uintptr_t addr = 0;
	size_t n = (size + PAGE_SIZE - 1) / PAGE_SIZE;

	if (size == 0)
		return 0;
	if (io->kern) {
		uint8_t *buf = kalloc(size);

		if (buf == NULL)
			return 0;
		for (size_t i = 0; i < n; i++) {
			size_t len = i == n - 1 ? size - i * PAGE_SIZE : PAGE_SIZE;

			memcpy(buf + i * PAGE_SIZE,
			       names ? (const uint8_t *)names + i * PAGE_SIZE : it->pages[i], len);
		}
		return (uintptr_t)buf;
	}
	if (vm_allocate(io->map, &addr, size, true) != KERN_SUCCESS)
		return 0;
	kern_return_t kr = names ? vm_write(io->map, addr, names, size) : KERN_SUCCESS;

	for (size_t i = 0; names == NULL && i < n && kr == KERN_SUCCESS; i++) {
		size_t len = i == n - 1 ? size - i * PAGE_SIZE : PAGE_SIZE;

		kr = vm_write(io->map, addr + i * PAGE_SIZE, it->pages[i], len);
	}
	if (kr != KERN_SUCCESS) {
		vm_deallocate(io->map, addr, size);
		return 0;
	}
	return addr;
}

/* [i] The destination right: the receiver's own name for it, or a right in space. */
static mach_port_name_t kmsg_copyout_dest(struct ipc_space *space, struct ipc_port *port,
                                          mach_msg_type_name_t type)
{
	if (IP_VALID(port) && port->receiver == space && port->active) {
		mach_port_name_t name = port->receiver_name;

		if (type == MACH_MSG_TYPE_PORT_SEND_ONCE) {
			port->sorights--; /* used up: no send-once notification */
			ipc_port_release(port);
		} else {
			ipc_right_release(port, type);
		}
		return name;
	}
	mach_port_name_t name;

	ipc_right_copyout(space, port, type, &name);
	return name;
}

mach_msg_return_t ipc_kmsg_copyout(const struct ipc_io *io, struct ipc_kmsg *kmsg, uintptr_t msg,
                                   mach_port_seqno_t seqno, bool pseudo)
{
	mach_msg_header_t *h = &kmsg->msg;
	uint8_t *base = (uint8_t *)h;
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	mach_port_name_t dname, rname;
	unsigned long f = ipc_lock();

	if (pseudo) {
		ipc_right_copyout(io->space, kmsg->remote, kmsg->remote_type, &dname);
		ipc_right_copyout(io->space, kmsg->local, kmsg->local_type, &rname);
		h->msgh_remote_port = dname;
		h->msgh_local_port = rname;
		h->msgh_bits = MACH_MSGH_BITS_OTHER(h->msgh_bits) |
		               MACH_MSGH_BITS(kmsg->remote_type, kmsg->local_type);
	} else {
		ipc_right_copyout(io->space, kmsg->local, kmsg->local_type, &rname);
		dname = kmsg_copyout_dest(io->space, kmsg->remote, kmsg->remote_type);
		h->msgh_remote_port = rname;
		h->msgh_local_port = dname;
		h->msgh_bits =
		    (h->msgh_bits & MACH_MSGH_BITS_COMPLEX) |
		    MACH_MSGH_BITS(kmsg->local ? kmsg->local_type : 0, kmsg->remote_type);
	}
	/* The upper halves of the 8-byte port slots. */
	h->msgh_remote_port_do_not_use = (uint32_t)h->msgh_remote_port;
	h->msgh_protected_payload = (uint32_t)h->msgh_local_port;
	kmsg->remote = kmsg->local = NULL;
	h->msgh_seqno = seqno;
	for (uint32_t i = 0; i < kmsg->nitems; i++) {
		struct ipc_kitem *it = &kmsg->items[i];

		if (it->kind == IK_OOL || it->count == 0)
			continue;
		if (it->kind == IK_OOL_PORTS) {
			it->names = kalloc(it->count * sizeof(mach_port_name_t));
			if (it->names == NULL)
				mr = MACH_RCV_BODY_ERROR | MACH_MSG_IPC_KERNEL;
		}
		for (uint32_t j = 0; j < it->count; j++) {
			mach_port_name_t name;

			if (it->type == MACH_MSG_TYPE_PORT_RECEIVE && IP_VALID(it->ports[j]))
				it->ports[j]->transit_dest = NULL;
			if (ipc_right_copyout(io->space, it->ports[j], it->type, &name) ==
			    KERN_NO_SPACE)
				mr = MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE;
			it->ports[j] = NULL;
			if (it->kind == IK_PORTS)
				memcpy(base + it->off + 4 * j, &name, sizeof(name));
			else if (it->names)
				it->names[j] = name;
		}
	}
	ipc_unlock(f);
	for (uint32_t i = 0; i < kmsg->nitems; i++) {
		struct ipc_kitem *it = &kmsg->items[i];
		uint64_t addr;

		if (it->kind == IK_PORTS)
			continue;
		if (it->kind == IK_OOL_PORTS)
			addr = it->names ? kmsg_ool_copyout(io, it, it->names,
			                                    it->count * sizeof(mach_port_name_t))
			                 : 0;
		else
			addr = kmsg_ool_copyout(io, it, NULL, it->size);
		if (addr == 0 && (it->size || (it->kind == IK_OOL_PORTS && it->count)))
			mr = MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE;
		memcpy(base + it->off, &addr, sizeof(addr));
	}
	if (ipc_io_write(io, h, msg, kmsg->size) != KERN_SUCCESS)
		mr = MACH_RCV_INVALID_DATA;
	ipc_kmsg_free(kmsg);
	return mr;
}

unsigned ipc_kmsg_count(void)
{
	return __atomic_load_n(&ipc_nkmsgs, __ATOMIC_RELAXED);
}
