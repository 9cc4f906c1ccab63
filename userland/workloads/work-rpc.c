/*
 * work-rpc ITER: ITER RPCs from a client to a server task (IPC_SEND,
 * IPC_RECEIVE).  The server is a child task running a copy of this
 * program (peer.c) that holds the receive right of the service port;
 * it serves like mach_msg_server: one mach_msg sends the last reply and
 * receives the next request.  The client is what MIG generates: a
 * request carrying a send-once right to a reply port from
 * mig_get_reply_port, one mach_msg to send it and receive the reply, a
 * reply id of request id + 100 and a return code.  The call adds two
 * numbers.  The server task is terminated at the end.
 */
#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <string.h>

#include "work.h"

#define WORK_RPC_ID 4300

static const mach_msg_type_t work_int2 = {
	.msgt_name = MACH_MSG_TYPE_INTEGER_32, .msgt_size = 32, .msgt_number = 2, .msgt_inline = 1
};
static const mach_msg_type_t work_int1 = {
	.msgt_name = MACH_MSG_TYPE_INTEGER_32, .msgt_size = 32, .msgt_number = 1, .msgt_inline = 1
};

struct work_request {
	mach_msg_header_t head;
	mach_msg_type_t type; /* work_int2 */
	int32_t a, b;
};

struct work_reply {
	mig_reply_header_t head;
	mach_msg_type_t type; /* work_int1 */
	int32_t sum;
};

union work_buf {
	struct work_request rq;
	struct work_reply rp;
	char room[sizeof(struct work_request) + 64];
};

static int work_type_is(mach_msg_type_t t, mach_msg_type_t want)
{
	return t.msgt_name == want.msgt_name && t.msgt_size == want.msgt_size &&
	       t.msgt_number == want.msgt_number && t.msgt_inline == want.msgt_inline;
}

/* The server's reply to the request in b, built in place (the request is read first). */
static void work_serve(union work_buf *b)
{
	struct work_request rq = b->rq;
	struct work_reply *rp = &b->rp;

	rp->head.Head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(rq.head.msgh_bits), 0);
	rp->head.Head.msgh_size = sizeof(*rp);
	rp->head.Head.msgh_remote_port = rq.head.msgh_remote_port;
	rp->head.Head.msgh_local_port = MACH_PORT_NULL;
	rp->head.Head.msgh_seqno = 0;
	rp->head.Head.msgh_id = rq.head.msgh_id + 100;
	rp->head.RetCodeType = work_int1;
	rp->type = work_int1;
	rp->sum = 0;
	if (rq.head.msgh_id != WORK_RPC_ID) {
		rp->head.RetCode = MIG_BAD_ID;
	} else if (rq.head.msgh_size != sizeof(rq) || !work_type_is(rq.type, work_int2)) {
		rp->head.RetCode = MIG_BAD_ARGUMENTS;
	} else {
		rp->head.RetCode = KERN_SUCCESS;
		rp->sum = rq.a + rq.b;
	}
}

/* The server task (raw, libmach only): answers requests on port until terminated. */
static void __attribute__((noreturn)) rpc_server(mach_port_t port, mach_port_t unused)
{
	union work_buf b;
	mach_msg_option_t opt = MACH_RCV_MSG;

	(void)unused;
	for (;;) {
		mach_msg_return_t mr =
		    mach_msg(&b.rq.head, opt, sizeof(b.rp), sizeof(b), port, 0, MACH_PORT_NULL);

		opt = MACH_RCV_MSG;
		if (mr != MACH_MSG_SUCCESS || !MACH_PORT_VALID(b.rq.head.msgh_remote_port))
			continue; /* nobody to answer */
		work_serve(&b);
		opt = MACH_SEND_MSG | MACH_RCV_MSG;
	}
}

/* The client stub: *sum = a + b, computed by the server behind port. */
static kern_return_t work_rpc_add(mach_port_t port, int32_t a, int32_t b, int32_t *sum)
{
	union work_buf m;
	mach_port_t reply = mig_get_reply_port();
	mach_msg_return_t mr;

	m.rq.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m.rq.head.msgh_size = sizeof(m.rq);
	m.rq.head.msgh_remote_port = port;
	m.rq.head.msgh_local_port = reply;
	m.rq.head.msgh_seqno = 0;
	m.rq.head.msgh_id = WORK_RPC_ID;
	m.rq.type = work_int2;
	m.rq.a = a;
	m.rq.b = b;
	mr = mach_msg(&m.rq.head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m.rq), sizeof(m), reply, 0,
	              MACH_PORT_NULL);
	if (mr != MACH_MSG_SUCCESS) {
		mig_dealloc_reply_port(reply);
		return mr;
	}
	mig_put_reply_port(reply);
	if (m.rp.head.Head.msgh_id != WORK_RPC_ID + 100)
		return MIG_REPLY_MISMATCH;
	if (m.rp.head.RetCode != KERN_SUCCESS)
		return m.rp.head.RetCode;
	if (m.rp.head.Head.msgh_size != sizeof(m.rp) || !work_type_is(m.rp.type, work_int1))
		return MIG_TYPE_ERROR;
	*sum = m.rp.sum;
	return KERN_SUCCESS;
}

int main(int argc, char **argv)
{
	unsigned long n = work_iterations(argc, argv);
	mach_port_t port = work_port(), server, th;
	vm_address_t stack;

	work_check(work_peer_task(&server, &stack), "work_peer_task");
	work_check(work_peer_give(mach_task_self(), port, MACH_MSG_TYPE_MAKE_SEND), "make send");
	work_check(work_peer_give(server, port, MACH_MSG_TYPE_MOVE_RECEIVE), "give port");
	work_check(work_peer_start(server, rpc_server, port, MACH_PORT_NULL, stack, &th),
	           "work_peer_start");
	WORK_FOREACH(i, n)
	{
		int32_t sum = 0;

		work_check(work_rpc_add(port, (int32_t)i, 7, &sum), "work_rpc_add");
		if (sum != (int32_t)i + 7)
			work_check(KERN_FAILURE, "work_rpc_add result");
	}
	work_peer_task_end(server);
	printf("work-rpc: %lu RPCs to a server task\n", n);
	return 0;
}
