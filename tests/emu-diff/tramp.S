/* The way into a native run: loads a struct diff_state's MXCSR, XMM
 * registers, GPRs and RFLAGS
 * and jumps to the case at DIFF_CODE_VA. There is no way back: the case
 * ends at the UD2 after it (or faults earlier), and native.c's signal
 * handler takes the state from the signal frame and siglongjmps out. */
#include "layout.h"

/* Offsets in struct diff_state (diff.h). */
#define ST_R(n)		((n) * 8)
#define ST_RFLAGS	DIFF_ST_RFLAGS
#define ST_XMM(n)	(DIFF_ST_XMM + (n) * 16)

	.text
	.globl	diff_native_enter
	.type	diff_native_enter, @function
/* void diff_native_enter(const struct diff_state *st) -- never returns */
diff_native_enter:
	ldmxcsr	DIFF_ST_MXCSR(%rdi)
	movdqu	ST_XMM(0)(%rdi), %xmm0
	movdqu	ST_XMM(1)(%rdi), %xmm1
	movdqu	ST_XMM(2)(%rdi), %xmm2
	movdqu	ST_XMM(3)(%rdi), %xmm3
	movdqu	ST_XMM(4)(%rdi), %xmm4
	movdqu	ST_XMM(5)(%rdi), %xmm5
	movdqu	ST_XMM(6)(%rdi), %xmm6
	movdqu	ST_XMM(7)(%rdi), %xmm7
	movdqu	ST_XMM(8)(%rdi), %xmm8
	movdqu	ST_XMM(9)(%rdi), %xmm9
	movdqu	ST_XMM(10)(%rdi), %xmm10
	movdqu	ST_XMM(11)(%rdi), %xmm11
	movdqu	ST_XMM(12)(%rdi), %xmm12
	movdqu	ST_XMM(13)(%rdi), %xmm13
	movdqu	ST_XMM(14)(%rdi), %xmm14
	movdqu	ST_XMM(15)(%rdi), %xmm15
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
