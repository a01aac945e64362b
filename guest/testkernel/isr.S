/* isr.S - the 256 interrupt/exception entry stubs and the common path.
 *
 * Stub N is at isr_stubs + 16 * N (idt.c relies on that). Each pushes a zero
 * error code when the CPU does not push one, then the vector, and joins
 * isr_common, which saves the caller-saved registers, calls
 * isr_dispatch(struct isr_frame *) (idt.h) and returns with IRETQ. */

	.text
	.code64
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set tk_vec, 0
	.rept 256
	.balign 16
	/* the CPU pushes an error code for #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX */
	.if !(tk_vec == 8 || (tk_vec >= 10 && tk_vec <= 14) || tk_vec == 17 || \
	      tk_vec == 21 || tk_vec == 29 || tk_vec == 30)
	pushq $0
	.endif
	pushq $tk_vec
	jmp isr_common
	.set tk_vec, tk_vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq %rsp, %rdi
	cld
	call isr_dispatch
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp
	iretq
