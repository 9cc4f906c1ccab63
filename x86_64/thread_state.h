/*
 * A user thread's machine state, for thread_get_state / thread_set_state
 * (<mach/thread_status.h>) and for threads made by the thread_create RPC.
 *
 * Where the state lives.  Every way into the kernel from ring 3 leaves
 * the user registers in one trap frame at the top of the thread's
 * kernel stack (x86_64/syscall.h), so for a thread that has entered user
 * mode and is not running user code now (on a uniprocessor: any thread
 * but the caller, and the caller itself inside its trap) that frame is
 * its state.  A thread that has not entered user mode yet keeps it in
 * md.ustart, which it copies into its first frame when it starts
 * (md.user_entered is set then, with interrupts off).  Changes to a
 * frame take effect when the thread next returns to user mode; a thread
 * inside mach_msg gets the trap's result in rax over whatever was set.
 */
#ifndef X86_64_THREAD_STATE_H
#define X86_64_THREAD_STATE_H

#include <mach/kern_return.h>
#include <mach/message.h>
#include <mach/vm_types.h>

struct thread;

/* A new user thread's state before it runs: zero registers, user selectors, IF. */
void machine_thread_user_init(struct thread *t);

/*
 * Copies out the flavor's state (*count words of room in, words used out).
 * KERN_INVALID_ARGUMENT: unknown flavor, too little room.
 */
kern_return_t machine_thread_get_state(struct thread *t, int flavor, natural_t *state,
                                       mach_msg_type_number_t *count);
/*
 * Sets it.  KERN_INVALID_ARGUMENT: unknown flavor, count too small,
 * rip, rsp or fs_base not a canonical user address.
 */
kern_return_t machine_thread_set_state(struct thread *t, int flavor, const natural_t *state,
                                       mach_msg_type_number_t count);

/* The current thread enters user mode with its md.ustart state.  Never returns. */
__attribute__((noreturn)) void machine_thread_user_start(void);

#endif
