/* Corpus: ALU (ADD/ADC/SUB/SBB/AND/OR/XOR/CMP/TEST, INC/DEC, NEG/NOT) in
 * every operand size, 8-bit high registers, memory operands and LOCK.
 * PUSHFQ after an operation puts its flags into the compared data area. */
#include "corpus.h"

#define MEM DIFF_DATA_VA

	CORPUS_BEGIN alu

CASE add_8bit
	mov	$0x7f, %eax
	add	$1, %al
	pushfq
	mov	$0xff, %bl
	add	$1, %bl
	pushfq
	mov	$0x7f80, %ecx
	add	%ch, %cl
	pushfq
	add	%ah, %bh
	pushfq
	mov	$0x0f, %dl
	add	$0x01, %dl
	pushfq
END

CASE add_8bit_rex
	mov	$0x1234, %esi
	mov	$0x80, %edi
	add	%sil, %dil
	pushfq
	add	%dil, %r8b
	pushfq
	add	$0x90, %bpl
	pushfq
	add	%r15b, %r9b
	pushfq
END

CASE add_16bit
	mov	$0xffffffffffff7fff, %rax
	add	$1, %ax
	pushfq
	mov	$0xffff, %ecx
	add	%cx, %cx
	pushfq
	add	$-2, %r10w
	pushfq
	add	%r10w, %r11w
	pushfq
END

CASE add_32bit_zero_extends
	mov	$-1, %rax
	add	$0, %eax
	pushfq
	mov	$0x80000000, %ecx
	add	%ecx, %ecx
	pushfq
	add	%r12d, %r13d
	pushfq
	add	$0x7fffffff, %r14d
	pushfq
END

CASE add_64bit
	mov	$0x7fffffffffffffff, %rax
	add	$1, %rax
	pushfq
	add	%rax, %rax
	pushfq
	add	$-1, %rbx
	pushfq
	add	%rcx, %r15
	pushfq
	add	$0x12345678, %rdx
	pushfq
END

CASE adc_chain_128
	mov	$-1, %rax
	mov	$-1, %rdx
	mov	$1, %rcx
	xor	%ebx, %ebx
	add	%rcx, %rax
	adc	%rbx, %rdx
	pushfq
	stc
	adc	$0, %rax
	pushfq
	stc
	mov	$0xff, %r8b
	adc	$0, %r8b
	pushfq
	stc
	mov	$0x7fff, %r9w
	adc	$0, %r9w
	pushfq
	stc
	adc	$0x7fffffff, %r10d
	pushfq
END

CASE adc_all_sizes
	stc
	adc	%al, %bl
	pushfq
	adc	%cx, %dx
	pushfq
	adc	%esi, %edi
	pushfq
	adc	%r8, %r9
	pushfq
	adc	%ah, %ch
	pushfq
	adc	$0x55, %r11
	pushfq
END

CASE sub_borrow
	xor	%eax, %eax
	sub	$1, %eax
	pushfq
	mov	$0x80, %cl
	sub	$1, %cl
	pushfq
	mov	$0x8000000000000000, %rdx
	sub	$1, %rdx
	pushfq
	sub	%rsi, %rdi
	pushfq
	sub	%r12w, %r13w
	pushfq
	sub	%bh, %dh
	pushfq
END

CASE sbb_chain
	clc
	mov	$0, %rax
	mov	$0, %rdx
	sub	$1, %rax
	sbb	$0, %rdx
	pushfq
	stc
	mov	$0x80, %bl
	sbb	$0, %bl
	pushfq
	stc
	mov	$0, %cx
	sbb	$0xffff, %cx
	pushfq
	stc
	sbb	%r8d, %r9d
	pushfq
	stc
	sbb	%r14, %r15
	pushfq
END

CASE cmp_test_forms
	cmp	$-1, %rax
	pushfq
	cmp	%rbx, %rcx
	pushfq
	cmpb	$0x80, %dl
	pushfq
	cmp	%r8w, %r9w
	pushfq
	cmp	$0x12345678, %eax
	pushfq
	cmpq	$0, MEM+8
	pushfq
	cmp	MEM+16, %esi
	pushfq
	test	%rax, %rax
	pushfq
	andq	$~DIFF_AF, (%rsp)
	testb	$0x81, %bh
	pushfq
	andq	$~DIFF_AF, (%rsp)
END

CASE logic_ops
	and	%rbx, %rax
	pushfq
	or	$0x80, %cl
	pushfq
	xor	%edx, %edx
	pushfq
	xor	%r8w, %r9w
	pushfq
	and	$-0x0f0f0f10, %r10
	pushfq
	or	%ah, %dh
	pushfq
	orq	MEM+24, %r11
	pushfq
	mov	$0x40, %eax
2:	andq	$~DIFF_AF, (%rsp,%rax)
	sub	$8, %eax
	jns	2b
END

CASE inc_dec_keep_cf
	stc
	mov	$0x7f, %al
	inc	%al
	pushfq
	clc
	mov	$0x80, %bx
	dec	%bx
	pushfq
	stc
	mov	$-1, %rcx
	inc	%rcx
	pushfq
	clc
	mov	$0x80000000, %edx
	dec	%edx
	pushfq
	stc
	dec	%r8
	pushfq
	incb	MEM+40
	pushfq
	decw	MEM+42
	pushfq
	inc	%ah
	pushfq
END

CASE neg_not
	xor	%eax, %eax
	neg	%eax
	pushfq
	mov	$0x80, %bl
	neg	%bl
	pushfq
	mov	$0x8000000000000000, %rcx
	neg	%rcx
	pushfq
	neg	%r9w
	pushfq
	not	%rdx
	not	%r10d
	not	%r11w
	notb	MEM+50
	negq	MEM+56
	pushfq
	not	%bh
END

CASE alu_memory_dest
	addq	%rax, MEM+0x100
	pushfq
	subl	$7, MEM+0x108
	pushfq
	adcw	%bx, MEM+0x10c
	pushfq
	sbbb	$3, MEM+0x10f
	pushfq
	andq	$-16, MEM+0x110
	pushfq
	orl	%ecx, MEM+0x11c
	pushfq
	xorb	%dh, MEM+0x120
	pushfq
	andq	$~DIFF_AF, (%rsp)
	andq	$~DIFF_AF, 8(%rsp)
	andq	$~DIFF_AF, 16(%rsp)
END

CASE alu_memory_source
	add	MEM+0x200, %rax
	pushfq
	sub	MEM+0x208, %cx
	pushfq
	adc	MEM+0x20a, %dl
	pushfq
	sbb	MEM+0x210, %r8d
	pushfq
	cmp	MEM+0x218, %r9
	pushfq
	add	MEM+0x220, %bh
	pushfq
END

CASE alu_lock_memory
	lock addq	%rax, MEM+0x300
	pushfq
	lock subl	$1, MEM+0x308
	pushfq
	lock orw	%bx, MEM+0x30c
	lock andb	$0x3c, MEM+0x30e
	lock xorq	%rcx, MEM+0x310
	stc
	lock adcl	%edx, MEM+0x318
	pushfq
	stc
	lock sbbq	$5, MEM+0x320
	pushfq
	lock incl	MEM+0x328
	lock decw	MEM+0x32c
	lock negq	MEM+0x330
	pushfq
	lock notb	MEM+0x338
END

CASE alu_rip_relative
	lea	1f(%rip), %rax
	add	1f(%rip), %rbx
	pushfq
	cmpl	$0x90909090, 1f(%rip)
	pushfq
	jmp	2f
1:	.quad	0x9090909012345678
2:	mov	1b+4(%rip), %ecx
END

CASE alu_short_forms
	add	$0x12, %al
	pushfq
	adc	$0x1234, %ax
	pushfq
	sub	$0x12345678, %eax
	pushfq
	sbb	$-0x1000, %rax
	pushfq
	and	$0x7f, %al
	or	$0x8000, %ax
	xor	$0x55aa55aa, %eax
	cmp	$0x10, %rax
	pushfq
	test	$0x80, %al
	pushfq
	andq	$~DIFF_AF, (%rsp)
END

	CORPUS_END
