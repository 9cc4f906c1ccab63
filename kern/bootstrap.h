/*
 * The boot modules become tasks.  Each multiboot module is a static ELF
 * executable; its string is
 *
 *	PATH [ARG...] [expect=exit:N | expect=killed[:KIND]] [group=G] [timeout=SECS] [priv=1]
 *
 * Words of the form key=value with a key listed here are options for the
 * runner and are taken out of argv; every other word is an argument:
 * argv[0] = PATH, argv[1..] = the ARGs.
 *	expect	how the task must end for its test case to pass: exit:N
 *		(task_exit status N; the default is exit:0), killed (any
 *		kill) or killed:KIND (the kind in kern/task.h, e.g.
 *		page-fault, general-protection-fault, invalid-opcode)
 *	group	modules with the same group, next to each other, start
 *		together and are waited for together
 *	timeout	seconds a test may run before it is terminated (default 30)
 *	priv	1: the task gets the privileged host port as its
 *		TASK_HOST_PRIV_PORT special port (default 0; the bootstrap
 *		task always gets it)
 *
 * Every task started here has the runner as its bootstrap port
 * (TASK_BOOTSTRAP_PORT): libmach's _exit sends its exit status there
 * (<mach/task_special_ports.h>) before task_terminate(mach_task_self()),
 * and the runner records it (TASK_EXITED).  A task that ends by
 * task_terminate without that message counts as killed ("terminated").
 *
 * With ktest=user (or any ktest= pattern selecting "user", such as all)
 * the modules run in order as the KTAP suite "user", one case per module
 * named after PATH's basename and the ARGs.  A task's output is printed
 * 8 spaces in, so a test program's own KTAP nests under its case; the
 * case's result line follows it.  The output of tasks that run together
 * is held back until the group ends and then printed task by task, so
 * their KTAP does not interleave.  Without ktest=, bootstrap_main starts
 * every module at once (issue 6: perfctl next to the workloads): the
 * first is the bootstrap task and holds the privileged host port, the
 * others hold it only with priv=1.
 *
 * With boot=mach only the first module runs, as the bootstrap task (the
 * privileged host port; its exit status ends the machine if it does
 * not call host_reboot itself); the others are mapped read-only into
 * it, with a table at BOOT_MODULES_ADDR (<mach/boot_modules.h>).
 * userland/bootstrap/ is the bootstrap that runs them as the KTAP suite
 * "user" (docs/userland.md).
 */
#ifndef KERN_BOOTSTRAP_H
#define KERN_BOOTSTRAP_H

/* Registers the "user" ktest suite.  Before ktest_main. */
void bootstrap_init(void);

/* Starts every module, the first as the bootstrap task, and waits for them all. */
void bootstrap_main(void);

#endif
