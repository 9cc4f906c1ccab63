/*
 * The boot modules become tasks.  Each multiboot module is a static ELF
 * executable; its string is
 *
 *	PATH [ARG...] [expect=exit:N | expect=killed[:KIND]] [group=G] [timeout=SECS]
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
 *
 * With ktest=user (or any ktest= pattern selecting "user", such as all)
 * the modules run in order as the KTAP suite "user", one case per module
 * named after PATH's basename and the ARGs.  A task's output is printed
 * 8 spaces in, so a test program's own KTAP nests under its case; the
 * case's result line follows it.  The output of tasks that run together
 * is held back until the group ends and then printed task by task, so
 * their KTAP does not interleave.  Without ktest=, bootstrap_main starts
 * the first module as the bootstrap task.
 */
#ifndef KERN_BOOTSTRAP_H
#define KERN_BOOTSTRAP_H

/* Registers the "user" ktest suite.  Before ktest_main. */
void bootstrap_init(void);

/* Starts the first module, if any, as the bootstrap task and waits for it. */
void bootstrap_main(void);

#endif
