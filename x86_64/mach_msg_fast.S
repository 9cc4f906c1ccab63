/*
 * uint64_t mach_msg_trap_fast(const struct trap_frame *tf): the usual
 * kernel RPC (a MIG request to a kernel object, its reply to this very
 * receive) in assembly, for the syscall entry (x86_64/syscall_entry.S).
 *
 * It is ipc/mach_msg.c's fast_kernel_rpc and kobject_rpc_serve_reply
 * with the server's usual answer (ipc/ipc_kobject_rpc.h), step for step,
 * and that C is its specification: mach_msg_sys runs when anything does
 * not qualify before the copy (mach_msg_sys_copied after it, on the copy;
 * mach_msg_sys_general when no fast path can apply), mach_msg_kobject_serve when the
 * reply buffer is taken, and mach_msg_kobject_served when the reply is
 * not the usual one or cannot go straight to this receive.  So it only
 * has to be right about the common case; the offsets and constants it
 * uses are checked against the C in ipc/mach_msg.c.  Not in C because
 * GCC spent ~100 instructions per RPC more on the same steps (register
 * moves and spills around the copies and the server call), which issue
 * 4's vm_allocate + vm_deallocate target needs (docs/benchmarks.md).
 *
 * The IPC_SEND and IPC_RECEIVE perf events are recorded by the C: when
 * either is on, everything goes to mach_msg_sys.  The caller restores
 * every register from the trap frame, so nothing is saved here; rbx,
 * r12-r15 carry the state across calls (the C callees keep them):
 *	r12 tf, r13 the request's size then the sequence number, r14 the
 *	space, rbx dest, r15 the reply port.
 * Frame: the request copy (FAST_MAX bytes) at rsp, then the thread's
 * outer ith_kcall and the demux row cursor.
 */
#define TF_R10 40
#define TF_R8 56
#define TF_RDI 72
#define TF_RSI 80
#define TF_RDX 88
#define CPU_THREAD 160
#define THREAD_TASK 784
#define THREAD_KCALL 816
#define TASK_SPACE 440
#define SPACE_TABLE 8
#define SPACE_SIZE 16
#define ENTRY_SHIFT 5
#define ENTRY_OBJECT 0
#define ENTRY_TYPE 8
#define ENTRY_GEN 16
#define PORT_REFS 0
#define PORT_ACTIVE 4
#define PORT_RECEIVER 8
#define PORT_RNAME 16
#define PORT_PSET 24
#define PORT_QHEAD 40
#define PORT_MSGCOUNT 56
#define PORT_QLIMIT 60
#define PORT_SEQNO 64
#define PORT_SORIGHTS 76
#define PORT_KOTYPE 80
#define DEMUX_ROW_SHIFT 5	/* IPC_KOBJECT_DEMUX_MAX pointers */
#define DEMUX_MAX 4
#define TYPE_SEND 0x10000	/* MACH_PORT_TYPE_SEND */
#define TYPE_RECEIVE 0x20000	/* MACH_PORT_TYPE_RECEIVE */
#define DIRECT_OPTIONS 0xd53
#define REQUEST_BITS 0x1513	/* MACH_MSGH_BITS(COPY_SEND, MAKE_SEND_ONCE) */
#define SERVER_BITS 0x1112	/* MACH_MSGH_BITS(PORT_SEND_ONCE, PORT_SEND) */
#define REPLY_BITS 0x12		/* MACH_MSGH_BITS(MOVE_SEND_ONCE, 0) */
#define RECEIVED_BITS 0x1200	/* MACH_MSGH_BITS(0, PORT_SEND_ONCE) */
#define NAME_TARGET 0xfffffe00	/* IPC_KOBJECT_NAME_TARGET */
#define NAME_REPLY 0xfffffd00	/* IPC_KOBJECT_NAME_REPLY */
#define MIG_NO_REPLY_CODE 0xfffffecf
#define REPLY_MAX 8192		/* IPC_KOBJECT_REPLY_MAX */
#define FAST_MAX 256
#define HDR 32
#define RCV_INVALID_DATA 0x10004008
#define VM_MAX_USER 0x00007ffffffff000
#define IPC_EVENTS 3		/* PERF_EVENT_IPC_SEND, _RECEIVE */
#define F_KCALL FAST_MAX	/* the frame's slots */
#define F_ROW (FAST_MAX + 8)
#define FRAME (FAST_MAX + 16)

/* The ipc lock (spin_lock_irqsave with interrupts known on: a trap). */
.macro IPC_LOCK
	cli
	movl	$1, %eax
1:	xchgl	%eax, ipc_lock_data(%rip)
	testl	%eax, %eax
	jz	3f
2:	pause
	cmpl	$0, ipc_lock_data(%rip)
	jne	2b
	movl	$1, %eax
	jmp	1b
3:
.endm

.macro IPC_UNLOCK
	movl	$0, ipc_lock_data(%rip)
	sti
.endm

/* reg = the port of space r14's entry for the name in %eax holding type, or jump to fail. */
.macro FIND_RIGHT type, reg, fail
	movl	%eax, %ecx
	shrl	$8, %ecx
	leal	-1(%rcx), %edx
	movl	SPACE_SIZE(%r14), %esi
	decl	%esi
	cmpl	%esi, %edx
	jae	\fail
	shlq	$ENTRY_SHIFT, %rcx
	addq	SPACE_TABLE(%r14), %rcx
	testl	$\type, ENTRY_TYPE(%rcx)
	jz	\fail
	movzbl	%al, %eax
	cmpl	%eax, ENTRY_GEN(%rcx)
	jne	\fail
	movq	ENTRY_OBJECT(%rcx), \reg
	testq	\reg, \reg
	jz	\fail
.endm

/* One reference less on the port in reg (ipc_port_release, the lock held). */
.macro PORT_RELEASE reg
	cmpl	$1, PORT_REFS(\reg)
	ja	4f
	movq	\reg, %rdi
	call	ipc_port_release_last
	jmp	5f
4:	decl	PORT_REFS(\reg)
5:
.endm

	.text
	.globl mach_msg_trap_fast
	.type mach_msg_trap_fast, @function
	.align 16
mach_msg_trap_fast:
#ifdef CONFIG_PERF_ANALYSIS
	testb	$IPC_EVENTS, perf_active_mask(%rip)
	jnz	.Lc
#endif
	movq	%gs:CPU_THREAD, %rax
	movq	THREAD_TASK(%rax), %rax
	testq	%rax, %rax
	jz	.Lc
	movq	TASK_SPACE(%rax), %r8
	testq	%r8, %r8
	jz	.Lc
	/* Options: send and receive, nothing beyond the direct hand-offs' own. */
	movl	TF_RSI(%rdi), %eax
	andl	$~(DIRECT_OPTIONS & ~3), %eax
	cmpl	$3, %eax
	jne	.Lc
	/* The request: HDR..FAST_MAX bytes, whole words, in user space. */
	movl	TF_RDX(%rdi), %edx
	leal	-HDR(%rdx), %eax
	cmpl	$(FAST_MAX - HDR), %eax
	ja	.Lc
	testb	$3, %dl
	jnz	.Lc
	movq	TF_RDI(%rdi), %rsi
	movabsq	$VM_MAX_USER, %rax
	subq	%rdx, %rax
	cmpq	%rsi, %rax
	jb	.Lc

	pushq	%rbp
	movq	%rsp, %rbp
	subq	$FRAME, %rsp
	movq	%rdi, %r12
	movq	%r8, %r14
	movl	%edx, %r13d
	movq	%rsp, %rdi
	call	copy_user
	testq	%rax, %rax
	jnz	.Lgeneral_c		/* a bad buffer: the general path says which error */
	/* To a kernel object on a copy-send right, the reply right MAKE_SEND_ONCE of rcv_name. */
	cmpl	$REQUEST_BITS, (%rsp)
	jne	.Lcopied_c
	movl	TF_R8(%r12), %eax
	cmpl	%eax, 16(%rsp)
	jne	.Lcopied_c

	IPC_LOCK
	movl	8(%rsp), %eax
	FIND_RIGHT TYPE_SEND, %rbx, .Lunlock_c
	cmpb	$0, PORT_ACTIVE(%rbx)
	je	.Lunlock_c
	cmpl	$0, PORT_KOTYPE(%rbx)
	je	.Lunlock_c
	movl	16(%rsp), %eax
	FIND_RIGHT TYPE_RECEIVE, %r15, .Lunlock_c
	incl	PORT_REFS(%rbx)
	incl	PORT_REFS(%r15)		/* the reply right: a send-once right made */
	incl	PORT_SORIGHTS(%r15)
	IPC_UNLOCK

	/* The static reply buffer, or the C (kalloc) when a server's own call holds it. */
	movb	$1, %al
	xchgb	%al, ipc_kobject_out_busy(%rip)
	testb	%al, %al
	jnz	.Lserve_c
	/* The request's header as a receive from the kernel space writes it. */
	movl	$SERVER_BITS, (%rsp)
	movl	%r13d, 4(%rsp)
	movl	$NAME_REPLY, %eax
	movq	%rax, 8(%rsp)
	movl	$NAME_TARGET, %eax
	movq	%rax, 16(%rsp)
	movl	$0, 24(%rsp)
	movq	%gs:CPU_THREAD, %rax
	movq	THREAD_KCALL(%rax), %rcx
	movq	%rcx, F_KCALL(%rsp)
	movq	%rbx, THREAD_KCALL(%rax)
	/* The servers of dest's type, in order, until one knows the id. */
	movl	PORT_KOTYPE(%rbx), %eax
	shlq	$DEMUX_ROW_SHIFT, %rax
	leaq	ipc_demux(%rip), %rcx
	addq	%rcx, %rax
	movq	%rax, F_ROW(%rsp)
.Ldemux:
	movq	(%rax), %rax
	testq	%rax, %rax
	jz	.Lbad_id
	leaq	ipc_kobject_out_buf(%rip), %rsi
	movq	$0, (%rsi)		/* the mig_reply_header_t a server fills */
	movq	$0, 8(%rsi)
	movq	$0, 16(%rsi)
	movq	$0, 24(%rsi)
	movq	$0, 32(%rsi)
	movq	%rsp, %rdi
	call	*%rax
	testl	%eax, %eax
	jnz	.Lserved
	movq	F_ROW(%rsp), %rax
	addq	$8, %rax
	movq	%rax, F_ROW(%rsp)
	leaq	ipc_demux(%rip), %rcx
	subq	%rcx, %rax
	testq	$((1 << DEMUX_ROW_SHIFT) - 1), %rax
	movq	F_ROW(%rsp), %rax
	jnz	.Ldemux			/* not past the row's last slot */
.Lbad_id:
	movq	%rsp, %rdi
	leaq	ipc_kobject_out_buf(%rip), %rsi
	call	ipc_kobject_bad_id
.Lserved:
	movq	%gs:CPU_THREAD, %rax
	movq	F_KCALL(%rsp), %rcx
	movq	%rcx, THREAD_KCALL(%rax)

	/* The usual reply (ipc_kobject_reply_usual), and it fits rcv_size. */
	leaq	ipc_kobject_out_buf(%rip), %rsi
	cmpl	$NAME_REPLY, 8(%rsi)
	jne	.Lserved_c
	cmpl	$REPLY_BITS, (%rsi)
	jne	.Lserved_c
	movl	4(%rsi), %ecx
	cmpl	$(HDR + 8), %ecx	/* room for a RetCode: not MIG_NO_REPLY */
	jb	6f
	cmpl	$MIG_NO_REPLY_CODE, HDR + 4(%rsi)
	je	.Lserved_c
6:	leal	-HDR(%rcx), %eax
	cmpl	$(REPLY_MAX - HDR), %eax
	ja	.Lserved_c
	testb	$3, %cl
	jnz	.Lserved_c
	cmpl	TF_R10(%r12), %ecx
	ja	.Lserved_c

	/* ipc_port_direct_ok for the reply port, dest released, the reply right used up. */
	IPC_LOCK
	cmpb	$0, PORT_ACTIVE(%r15)
	je	.Lserved_unlock_c
	cmpl	$0, PORT_KOTYPE(%r15)
	jne	.Lserved_unlock_c
	cmpq	%r14, PORT_RECEIVER(%r15)
	jne	.Lserved_unlock_c
	movl	TF_R8(%r12), %eax
	cmpl	%eax, PORT_RNAME(%r15)
	jne	.Lserved_unlock_c
	cmpq	$0, PORT_PSET(%r15)
	jne	.Lserved_unlock_c
	cmpq	$0, PORT_QHEAD(%r15)
	jne	.Lserved_unlock_c
	movl	PORT_MSGCOUNT(%r15), %eax
	cmpl	PORT_QLIMIT(%r15), %eax
	jae	.Lserved_unlock_c
	PORT_RELEASE %rbx
	movl	PORT_SEQNO(%r15), %r13d
	leal	1(%r13), %eax
	movl	%eax, PORT_SEQNO(%r15)
	decl	PORT_SORIGHTS(%r15)
	PORT_RELEASE %r15
	IPC_UNLOCK

	/* The reply as this receive sees it (mach_msg_fast_copyout). */
	leaq	ipc_kobject_out_buf(%rip), %rsi
	movl	$RECEIVED_BITS, (%rsi)
	movq	$0, 8(%rsi)
	movl	TF_R8(%r12), %eax
	movq	%rax, 16(%rsi)
	movl	%r13d, 24(%rsi)
	movl	4(%rsi), %edx
	movq	TF_RDI(%r12), %rdi
	movabsq	$VM_MAX_USER, %rax
	subq	%rdx, %rax
	cmpq	%rdi, %rax
	jb	.Lcopyout_bad
	call	copy_user
	testq	%rax, %rax
	jnz	.Lcopyout_fault
	xorl	%eax, %eax
.Ldone:
	movb	$0, ipc_kobject_out_busy(%rip)
	leave
	ret

.Lcopyout_fault:
	/* vm_copy_fault(who, result, user, n): panics unless the address was the user's. */
	movq	%rax, %rsi		/* the result (fault, cr2) in rsi, rdx */
	leaq	.Lcopyout_name(%rip), %rdi
	movq	TF_RDI(%r12), %rcx
	leaq	ipc_kobject_out_buf(%rip), %r8
	movl	4(%r8), %r8d
	call	vm_copy_fault
.Lcopyout_bad:
	movl	$RCV_INVALID_DATA, %eax
	jmp	.Ldone

.Lserved_unlock_c:
	IPC_UNLOCK
.Lserved_c:
	movq	%r12, %rdi
	movq	%rbx, %rsi
	movq	%r15, %rdx
	leaq	ipc_kobject_out_buf(%rip), %rcx
	call	mach_msg_kobject_served
	movslq	%eax, %rax
	leave
	ret

.Lserve_c:
	movq	%r12, %rdi
	movq	%rsp, %rsi
	movl	%r13d, %edx
	movq	%rbx, %rcx
	movq	%r15, %r8
	call	mach_msg_kobject_serve
	movslq	%eax, %rax
	leave
	ret

.Lcopied_c:
	/* Another shape (a self round trip, say): the C fast paths on our copy. */
	movq	%r12, %rdi
	movq	%rsp, %rsi
	movl	%r13d, %edx
	call	mach_msg_sys_copied
	leave
	ret

.Lunlock_c:
	/* A kernel request's shape but not to a kernel object (a server task's port): general. */
	IPC_UNLOCK
.Lgeneral_c:
	movq	%r12, %rdi
	leave
	jmp	mach_msg_sys_general
.Lc:
	jmp	mach_msg_sys
	.size mach_msg_trap_fast, . - mach_msg_trap_fast

	.section .rodata
.Lcopyout_name:
	.asciz "copyout"
