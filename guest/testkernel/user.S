/* user.S - CPL3 code of the paging test, the SYSCALL entry, and the switches
 * between CPL0 and CPL3 (test-user.c drives them).
 *
 * user_enter(rip, rsp, a0, a1, a2) saves the kernel's callee-saved registers
 * and stack pointer, then IRETQs to CPL3 at @rip with %rdi/%rsi/%rdx = a0..a2.
 * syscall_entry runs syscall_dispatch(struct user_syscall_frame *) on its own
 * stack: a zero return SYSRETs to the caller, non-zero leaves user mode and
 * returns from user_enter() with that value.
 *
 * The user code lives in .text.user, which link.ld gathers into page-aligned
 * pages of their own (user_text_start..user_text_end) and test-user.c maps at
 * a user address: it is position-independent and touches no memory but its
 * stack and the addresses it is given. */
#include "layout.h"
#include "user.h"

#define USER_STACK_SIZE 8192

	.text
	.code64
	.globl user_enter
user_enter:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, user_kernel_rsp(%rip)
	pushq $(USER_DS | USER_RPL)	/* SS */
	pushq %rsi			/* RSP */
	pushq $0x2			/* RFLAGS: IF=0, reserved bit 1 */
	pushq $(USER_CS | USER_RPL)	/* CS */
	pushq %rdi			/* RIP */
	movq %rdx, %rdi
	movq %rcx, %rsi
	movq %r8, %rdx
	movl $(USER_DS | USER_RPL), %eax
	movl %eax, %ds
	movl %eax, %es
	/* Nothing of the kernel's leaks into user mode but what we chose. */
	xorl %eax, %eax
	xorl %ecx, %ecx
	xorl %ebx, %ebx
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	iretq

/* SYSCALL: %rcx = user RIP, %r11 = user RFLAGS, RFLAGS &= ~SFMASK, CS/SS from
 * STAR, %rsp still the user's. The frame is struct user_syscall_frame. */
	.globl syscall_entry
syscall_entry:
	movq %rsp, user_rsp(%rip)
	leaq syscall_stack_top(%rip), %rsp
	pushfq			/* RFLAGS as SFMASK left them */
	pushq %r11
	pushq %rcx
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rax
	movq %rsp, %rdi
	cld
	call syscall_dispatch
	testq %rax, %rax
	jnz user_exit
	popq %rax
	popq %rdi
	popq %rsi
	popq %rdx
	popq %r8
	popq %r9
	popq %r10
	popq %rcx
	popq %r11
	addq $8, %rsp
	movq user_rsp(%rip), %rsp
	sysretq

/* Back to the caller of user_enter(), at CPL0 on SYSCALL's CS/SS (or on
 * whatever a fault handler's IRETQ left, see test-user.c user_escape); the
 * caller restores its segments. */
	.globl user_exit
user_exit:
	movq user_kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* ---- CPL3 code ---- */

/* The failure path: report @code and the iteration, leave user mode. */
.macro user_fail code
	movl $\code, %edi
	movq %r13, %rsi
	movl $SYS_FAIL, %eax
	syscall
.endm

	.section .text.user, "ax"

/* user_main(count, kernel_only_va, unmapped_va): @count SYSCALL round trips,
 * then INT 0x80, then the faults test-user.c expects (each resumes at the
 * label after it), then SYS_EXIT. */
	.globl user_main
user_main:
	movq %rdi, %r12
	movq %rsi, %r14
	movq %rdx, %r15
	xorl %r13d, %r13d
	testq %r12, %r12
	jz 2f
1:	movq %r13, %rdi
	movabsq $0x0123456789abcdef, %rsi
	movq %r13, %rdx
	notq %rdx
	movabsq $0x1111222233334444, %r8
	movabsq $0x5555666677778888, %r10
	movl $SYS_MIX, %eax
	stc
	std
	syscall
	.globl user_sys_ret
user_sys_ret:
	pushfq
	popq %rbx
	cld
	leaq user_sys_ret(%rip), %rbp
	cmpq %rbp, %rcx
	jne fail_rcx
	movq %rbx, %rbp
	andl $(USER_FLAGS_CF | USER_FLAGS_DF), %ebp
	cmpl $(USER_FLAGS_CF | USER_FLAGS_DF), %ebp
	jne fail_flags
	xorq %r11, %rbx
	andl $0xCD5, %ebx	/* CF PF AF ZF SF DF OF */
	jnz fail_r11
	movabsq $SYS_MIX_MUL, %rbx
	imulq %rdi, %rbx
	addq %rsi, %rbx
	cmpq %rbx, %rax
	jne fail_value
	cmpq %r13, %rdi
	jne fail_clobber
	movabsq $0x0123456789abcdef, %rbx
	cmpq %rbx, %rsi
	jne fail_clobber
	movq %r13, %rbx
	notq %rbx
	cmpq %rbx, %rdx
	jne fail_clobber
	movabsq $0x1111222233334444, %rbx
	cmpq %rbx, %r8
	jne fail_clobber
	movabsq $0x5555666677778888, %rbx
	cmpq %rbx, %r10
	jne fail_clobber
	incq %r13
	cmpq %r12, %r13
	jb 1b

2:	movl $0x1234, %edi
	.globl user_int, user_int_done
user_int:
	int $USER_INT_VEC
	cmpq $(0x1234 + USER_INT_ADD), %rax
	jne fail_int
user_int_done:

	/* #GP: HLT is privileged; INT through a DPL 0 gate. */
	.globl user_hlt, user_hlt_resume
user_hlt:
	hlt
user_hlt_resume:
	.globl user_int_dpl0, user_int_dpl0_resume
user_int_dpl0:
	int $USER_INT_DPL0_VEC
user_int_dpl0_resume:

	/* #PF: read a supervisor page, write a not-present one. */
	.globl user_pf_read, user_pf_read_resume
user_pf_read:
	movq (%r14), %rax
user_pf_read_resume:
	.globl user_pf_write, user_pf_write_resume
user_pf_write:
	movq %rax, 8(%r15)
user_pf_write_resume:

	movq %r13, %rdi
	movl $SYS_EXIT, %eax
	syscall
	ud2

fail_rcx:
	user_fail USER_FAIL_RCX
fail_flags:
	user_fail USER_FAIL_FLAGS
fail_r11:
	user_fail USER_FAIL_R11
fail_value:
	user_fail USER_FAIL_VALUE
fail_clobber:
	user_fail USER_FAIL_CLOBBER
fail_int:
	user_fail USER_FAIL_INT

	.data
	.balign 8
user_rsp:
	.quad 0
user_kernel_rsp:
	.quad 0

	.section .noinit, "aw", @nobits
	.balign 16
	.globl user_intr_stack_top
syscall_stack:
	.skip USER_STACK_SIZE
syscall_stack_top:
user_intr_stack:
	.skip USER_STACK_SIZE
user_intr_stack_top:
