/*
 * struct copy_user_result copy_user(void *dst, const void *src, size_t n):
 * the access of copyin and copyout (vm/vm_copy.c), with its own fault
 * recovery instead of a kfault_try bracket.
 *
 * A kfault bracket (push, setjmp, end) cost ~60 instructions per copy,
 * more than copying a message header; this costs ~10 plus one per
 * 8 bytes under icount.  A fault at an instruction between copy_user and
 * copy_user_end is first offered to vm_fault (a demand-zero user page is
 * served and the copy goes on); one that stays unresolved makes
 * kfault_recover resume at copy_user_fixup with rax = vector + 1 and
 * rdx = CR2, which copy_user returns (rax:rdx is the two-word struct).
 * No stack is used between the entry and the fixup, so resuming there
 * needs nothing else restored; rsi/rdi/rcx are caller-saved.
 */
	.text
	.globl copy_user, copy_user_end, copy_user_fixup
	.type copy_user, @function
	.align 16
copy_user:
	movq	%rdx, %rcx
	shrq	$3, %rcx
	rep movsq
	movl	%edx, %ecx
	andl	$7, %ecx
	rep movsb
copy_user_end:
	xorl	%eax, %eax
	xorl	%edx, %edx
	ret
copy_user_fixup:
	ret
	.size copy_user, . - copy_user
