/* The way into a native run: loads a struct diff_state's GPRs and RFLAGS
 * and jumps to the case at DIFF_CODE_VA. There is no way back: the case
 * ends at the UD2 after it (or faults earlier), and native.c's signal
 * handler takes the state from the signal frame and siglongjmps out. */
#include "layout.h"

/* Offsets in struct diff_state (diff.h). */
#define ST_R(n)		((n) * 8)
#define ST_RFLAGS	136

	.text
	.globl	diff_native_enter
	.type	diff_native_enter, @function
/* void diff_native_enter(const struct diff_state *st) -- never returns */
diff_native_enter:
	pushq	ST_RFLAGS(%rdi)
	popfq
	mov	ST_R(0)(%rdi), %rax
	mov	ST_R(1)(%rdi), %rcx
	mov	ST_R(2)(%rdi), %rdx
	mov	ST_R(3)(%rdi), %rbx
	mov	ST_R(5)(%rdi), %rbp
	mov	ST_R(6)(%rdi), %rsi
	mov	ST_R(8)(%rdi), %r8
	mov	ST_R(9)(%rdi), %r9
	mov	ST_R(10)(%rdi), %r10
	mov	ST_R(11)(%rdi), %r11
	mov	ST_R(12)(%rdi), %r12
	mov	ST_R(13)(%rdi), %r13
	mov	ST_R(14)(%rdi), %r14
	mov	ST_R(15)(%rdi), %r15
	mov	ST_R(4)(%rdi), %rsp
	mov	ST_R(7)(%rdi), %rdi
	jmp	*.Lentry(%rip)
	.size	diff_native_enter, . - diff_native_enter

	.section .rodata
	.balign	8
.Lentry:
	.quad	DIFF_CODE_VA

	.section .note.GNU-stack, "", @progbits
