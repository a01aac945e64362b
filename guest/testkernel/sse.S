/* sse.S - the SSE routines of the `sse` test (test-sse.c): the test guest
 * is built without SSE, so everything that touches XMM registers is here.
 * System V calling convention; XMM registers are scratch. */
	.text

/* void sse_compute(uint64_t out[SSE_OUT], const struct sse_in *in)
 * in: +0 four singles a, +16 four singles b, +32 a 16-byte-aligned
 * string, +64 bytes 0..15, +80 MXCSR scratch. One result per out slot. */
	.globl	sse_compute
sse_compute:
	movups	0(%rsi), %xmm0
	movups	16(%rsi), %xmm1
	addps	%xmm1, %xmm0
	movups	%xmm0, 0(%rdi)			/* out[0..1]: a + b */
	mov	$0x4000000000000000, %rax	/* 2.0 */
	movq	%rax, %xmm2
	sqrtsd	%xmm2, %xmm3
	movq	%xmm3, 16(%rdi)			/* out[2]: sqrt(2) */
	mov	$0x3ff0000000000000, %rax	/* 1.0 */
	movq	%rax, %xmm4
	mov	$0x4008000000000000, %rax	/* 3.0 */
	movq	%rax, %xmm5
	movapd	%xmm4, %xmm6
	divsd	%xmm5, %xmm6
	movq	%xmm6, 24(%rdi)			/* out[3]: 1/3 to nearest */
	movl	$0x5f80, 80(%rsi)		/* round up */
	ldmxcsr	80(%rsi)
	movapd	%xmm4, %xmm6
	divsd	%xmm5, %xmm6
	movq	%xmm6, 32(%rdi)			/* out[4]: 1/3 rounded up */
	movl	$0x1f80, 80(%rsi)
	ldmxcsr	80(%rsi)
	mov	$0x4004000000000000, %rax	/* 2.5 */
	movq	%rax, %xmm7
	cvtsd2si %xmm7, %rax
	mov	%rax, 40(%rdi)			/* out[5]: 2 (ties to even) */
	mov	$0xc00599999999999a, %rax	/* -2.7 */
	movq	%rax, %xmm7
	cvttsd2si %xmm7, %rax
	mov	%rax, 48(%rdi)			/* out[6]: -2 */
	/* strlen of the string at +32: PCMPEQB/PMOVMSKB/BSF as glibc does */
	lea	32(%rsi), %rdx
	pxor	%xmm8, %xmm8
	mov	%rdx, %rcx
1:	movdqa	(%rcx), %xmm9
	pcmpeqb	%xmm8, %xmm9
	pmovmskb %xmm9, %eax
	add	$16, %rcx
	test	%eax, %eax
	jz	1b
	bsf	%eax, %eax
	lea	-16(%rcx,%rax), %rax
	sub	%rdx, %rax
	mov	%rax, 56(%rdi)			/* out[7]: strlen */
	movdqu	64(%rsi), %xmm10
	pxor	%xmm11, %xmm11
	psadbw	%xmm11, %xmm10
	movdqu	%xmm10, 64(%rdi)		/* out[8..9]: 28, 92 */
	movdqu	64(%rsi), %xmm12
	pshufd	$0x1b, %xmm12, %xmm12
	movq	%xmm12, %rax
	mov	%rax, 80(%rdi)			/* out[10]: dwords reversed, low half */
	mov	$0x7ff8000000000000, %rax	/* NaN */
	movq	%rax, %xmm13
	ucomisd	%xmm13, %xmm4
	setp	%al
	comisd	%xmm5, %xmm4
	setb	%ah
	movzwl	%ax, %eax
	mov	%rax, 88(%rdi)			/* out[11]: 0x0101 */
	movl	$0x9f80, 80(%rsi)		/* FTZ */
	ldmxcsr	80(%rsi)
	mov	$0x00800000, %eax		/* smallest normal single */
	movd	%eax, %xmm14
	mov	$0x3f000000, %eax		/* 0.5 */
	movd	%eax, %xmm15
	movaps	%xmm14, %xmm0
	mulss	%xmm15, %xmm0
	movd	%xmm0, %eax			/* FTZ: 0 */
	stmxcsr	84(%rsi)
	movl	$0x1f80, 80(%rsi)
	ldmxcsr	80(%rsi)
	mulss	%xmm15, %xmm14
	movd	%xmm14, %ecx			/* denormal 0x00400000 */
	shl	$32, %rcx
	or	%rcx, %rax
	mov	%rax, 96(%rdi)			/* out[12] */
	mov	84(%rsi), %eax
	mov	%rax, 104(%rdi)			/* out[13]: MXCSR after FTZ: UE|PE */
	ret

/* SSSE3/SSE4.2: void sse_compute42(uint64_t out[3], const struct sse_in *in) */
	.globl	sse_compute42
sse_compute42:
	movdqu	64(%rsi), %xmm0
	movdqu	64(%rsi), %xmm1
	pshufd	$0x1b, %xmm1, %xmm1
	pshufb	%xmm1, %xmm0			/* bytes 0..15 indexed by reversed dwords */
	movq	%xmm0, %rax
	mov	%rax, 0(%rdi)
	mov	$0xffffffff, %eax		/* CRC-32C of "123456789" */
	lea	96(%rsi), %rcx
	crc32q	(%rcx), %rax
	crc32b	8(%rcx), %eax
	not	%eax
	mov	%rax, 8(%rdi)
	movdqu	112(%rsi), %xmm2		/* "aeiou" */
	movdqa	32(%rsi), %xmm3			/* the string */
	pcmpistri $0x00, %xmm3, %xmm2		/* first byte of any of the set */
	mov	%rcx, 16(%rdi)
	ret

/* void sse_touch(void *p): an SSE instruction first (for #NM) */
	.globl	sse_touch
sse_touch:
	movups	(%rdi), %xmm0
	addps	%xmm0, %xmm0
	movups	%xmm0, (%rdi)
	ret

/* void sse_div_zero(uint64_t *out, const uint32_t *mxcsr): 1.0 / 0.0 under
 * *mxcsr (#XM or #UD when ZM is clear) */
	.globl	sse_div_zero
sse_div_zero:
	ldmxcsr	(%rsi)
	mov	$0x3ff0000000000000, %rax
	movq	%rax, %xmm0
	pxor	%xmm1, %xmm1
	.globl	sse_div_zero_insn
sse_div_zero_insn:
	divsd	%xmm1, %xmm0
	movq	%xmm0, (%rdi)
	ret

/* void sse_movaps(void *out, const void *p): MOVAPS from p (#GP if misaligned) */
	.globl	sse_movaps
sse_movaps:
	.globl	sse_movaps_insn
sse_movaps_insn:
	movaps	(%rsi), %xmm0
	movups	%xmm0, (%rdi)
	ret

/* void sse_set_mxcsr(uint32_t v) and uint32_t sse_get_mxcsr(void) */
	.globl	sse_set_mxcsr
sse_set_mxcsr:
	push	%rdi
	ldmxcsr	(%rsp)
	pop	%rdi
	ret
	.globl	sse_get_mxcsr
sse_get_mxcsr:
	push	%rax
	stmxcsr	(%rsp)
	pop	%rax
	mov	%eax, %eax
	ret

	.section .note.GNU-stack, "", @progbits
