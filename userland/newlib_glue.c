/*
 * The system calls newlib expects, on machperf's traps.
 *
 * newlib (built by scripts/build-newlib.sh) calls these names without a
 * leading underscore, except _exit.  The console is the only file: fds
 * 0-2 are a character device (stdin reads EOF; stdout and stderr print
 * through mach_print), every other fd is EBADF.
 *
 * The heap behind sbrk is one region of address space reserved with
 * vm_allocate(mach_task_self(), ...) on first use.  The kernel backs it with demand-zero
 * pages, so the reservation costs nothing until touched; sbrk only moves
 * a break inside it and fails with ENOMEM at its end.
 *
 * newlib is configured with __DYNAMIC_REENT__ and GETREENT_PROVIDED: it
 * finds errno and stdio state through __getreent().  Programs are
 * single-threaded, so that is always _impure_ptr.
 */
#include <errno.h>
#include <reent.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <mach/mach_init.h>
#include <mach/mach_traps.h>
#include <mach/task_special_ports.h>

#include "mach.h" /* mig-gen/: vm_allocate, task_terminate, task_get_special_port */

#define GLUE_HEAP_SIZE (64ul << 20) /* address space, not memory */
#define GLUE_CHUNK 256              /* bytes per mach_print */

/* The trap interface has no pid; every task is "process 1" to itself. */
#define GLUE_PID 1

static uintptr_t glue_heap_base;
static uintptr_t glue_heap_brk;

static int glue_is_console(int fd)
{
	return fd >= 0 && fd <= 2;
}

struct _reent *__getreent(void)
{
	return _impure_ptr;
}

/*
 * mach_print takes a NUL-terminated string: copy the buffer out in
 * chunks.  NUL bytes in the data cannot travel and are dropped.
 */
int write(int fd, const void *buf, size_t count)
{
	const char *p = buf;
	char chunk[GLUE_CHUNK + 1];
	size_t n = 0;

	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		if (p[i] == '\0')
			continue;
		chunk[n++] = p[i];
		if (n == GLUE_CHUNK) {
			chunk[n] = '\0';
			mach_print(chunk);
			n = 0;
		}
	}
	if (n > 0) {
		chunk[n] = '\0';
		mach_print(chunk);
	}
	return (int)count;
}

/* There is no console input yet: stdin is at end of file. */
int read(int fd, void *buf, size_t count)
{
	(void)buf;
	(void)count;
	if (fd != 0) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

int close(int fd)
{
	if (!glue_is_console(fd)) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

off_t lseek(int fd, off_t offset, int whence)
{
	(void)offset;
	(void)whence;
	errno = glue_is_console(fd) ? ESPIPE : EBADF;
	return -1;
}

int fstat(int fd, struct stat *st)
{
	if (!glue_is_console(fd)) {
		errno = EBADF;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0620;
	return 0;
}

int isatty(int fd)
{
	if (!glue_is_console(fd)) {
		errno = EBADF;
		return 0;
	}
	return 1;
}

void *sbrk(ptrdiff_t increment)
{
	uintptr_t old;

	if (glue_heap_base == 0) {
		vm_address_t addr = 0;

		if (vm_allocate(mach_task_self(), &addr, GLUE_HEAP_SIZE, 1) != KERN_SUCCESS ||
		    addr == 0) {
			errno = ENOMEM;
			return (void *)-1;
		}
		glue_heap_base = glue_heap_brk = addr;
	}
	old = glue_heap_brk;
	if (increment > 0 ? (uintptr_t)increment > glue_heap_base + GLUE_HEAP_SIZE - old
	                  : (uintptr_t)-increment > old - glue_heap_base) {
		errno = ENOMEM;
		return (void *)-1;
	}
	glue_heap_brk = old + increment;
	return (void *)old;
}

int getpid(void)
{
	return GLUE_PID;
}

/*
 * Only a task's signal to itself is deliverable (abort, raise): it ends
 * the task with the shell's 128 + signal status.
 */
int kill(int pid, int sig)
{
	if (pid != GLUE_PID) {
		errno = ESRCH;
		return -1;
	}
	if (sig < 0 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	if (sig == 0)
		return 0;
	_exit(128 + sig);
}

/*
 * The status goes to the task's bootstrap port, if it has one, in a
 * one-way message (<mach/task_special_ports.h>); then the task ends
 * itself.  task_terminate's reply may or may not arrive: the thread
 * exits on its way back to user mode either way.
 */
void _exit(int status)
{
	mach_port_t self = mach_task_self(), bootstrap = MACH_PORT_NULL;

	if (self == MACH_PORT_NULL)
		self = __mach_task_self();
	if (task_get_special_port(self, TASK_BOOTSTRAP_PORT, &bootstrap) == KERN_SUCCESS &&
	    MACH_PORT_VALID(bootstrap)) {
		mach_exit_status_msg_t m;

		memset(&m, 0, sizeof(m));
		m.head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, 0);
		m.head.msgh_size = sizeof(m);
		m.head.msgh_remote_port = bootstrap;
		m.head.msgh_id = MACH_EXIT_STATUS_ID;
		m.status_type.msgt_name = MACH_MSG_TYPE_INTEGER_32;
		m.status_type.msgt_size = 32;
		m.status_type.msgt_number = 1;
		m.status_type.msgt_inline = 1;
		m.status = status;
		(void)mach_msg(&m.head, MACH_SEND_MSG | MACH_SEND_TIMEOUT, sizeof(m), 0,
		               MACH_PORT_NULL, 1000, MACH_PORT_NULL);
	}
	(void)task_terminate(self);
	for (;;)
		__builtin_trap(); /* not reached: a task that cannot end itself dies here */
}
