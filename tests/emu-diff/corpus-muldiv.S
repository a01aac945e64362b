/* Corpus: MUL, IMUL (one, two and three operands), DIV and IDIV in every
 * size, with #DE for a zero divisor and for a quotient that overflows.
 * SDM: after MUL/IMUL only CF and OF are defined; after DIV/IDIV none. */
#include "corpus.h"

#define MEM DIFF_DATA_VA
#define SZAP DIFF_SF|DIFF_ZF|DIFF_AF|DIFF_PF

	CORPUS_BEGIN muldiv

CASE mul_all_sizes, undef=SZAP
	mov	$0x80, %al
	mov	$0x02, %bl
	mul	%bl
	FLAGS	SZAP
	mov	$0x10, %al
	mulb	MEM+1
	FLAGS	SZAP
	mov	$0xffff, %ax
	mov	$0xffff, %cx
	mul	%cx
	FLAGS	SZAP
	mov	$0x10000, %eax
	mov	$0x10000, %esi
	mul	%esi
	FLAGS	SZAP
	mov	$3, %eax
	mul	%eax
	FLAGS	SZAP
	mov	$-1, %rax
	mov	$-1, %r9
	mul	%r9
	FLAGS	SZAP
	mulq	MEM+8
	FLAGS	SZAP
	mul	%ah
	FLAGS	SZAP
END

CASE imul_one_operand, undef=SZAP
	mov	$-1, %al
	mov	$-128, %bl
	imul	%bl
	FLAGS	SZAP
	mov	$0x40, %al
	mov	$2, %cl
	imul	%cl
	FLAGS	SZAP
	mov	$-0x8000, %ax
	mov	$-1, %dx
	imul	%dx
	FLAGS	SZAP
	mov	$0x7fffffff, %eax
	mov	$2, %esi
	imul	%esi
	FLAGS	SZAP
	mov	$0x8000000000000000, %rax
	mov	$-1, %rdi
	imul	%rdi
	FLAGS	SZAP
	imul	%r10
	FLAGS	SZAP
	imulq	MEM+16
	FLAGS	SZAP
END

CASE imul_two_three_operands, undef=SZAP
	imul	%rbx, %rax
	FLAGS	SZAP
	imul	%cx, %dx
	FLAGS	SZAP
	imul	%r8d, %r9d
	FLAGS	SZAP
	imul	MEM+24, %r10
	FLAGS	SZAP
	imul	$-3, %r11, %r12
	FLAGS	SZAP
	imul	$0x12345, %r13d, %r14d
	FLAGS	SZAP
	imul	$100, %si, %di
	FLAGS	SZAP
	imul	$0x7fffffff, MEM+32, %r15
	FLAGS	SZAP
	mov	$0x40000000, %eax
	imul	$4, %eax, %ecx
	FLAGS	SZAP
	mov	$0x4000, %ax
	imul	$-2, %ax, %bx
	FLAGS	SZAP
END

CASE div_all_sizes, undef=DIFF_ARITH
	mov	$1000, %ax
	mov	$7, %bl
	div	%bl
	mov	$0x12345, %eax
	mov	$1, %dx
	mov	$0x1234, %cx
	div	%cx
	mov	$3, %edx
	mov	$0x9abcdef0, %eax
	mov	$0x10000, %esi
	div	%esi
	mov	$0x123456789, %rdx
	mov	$-1, %rax
	mov	$0x123456789a, %rdi
	div	%rdi
	xor	%edx, %edx
	movq	$0x1000, MEM+40
	divq	MEM+40
	mov	$100, %ax
	mov	$10, %bh
	div	%bh
END

CASE idiv_all_sizes, undef=DIFF_ARITH
	mov	$-700, %ax
	mov	$7, %bl
	idiv	%bl
	mov	$-700, %ax
	mov	$-7, %bl
	idiv	%bl
	mov	$-12345, %ax
	cwd
	mov	$77, %cx
	idiv	%cx
	mov	$-0x7654321, %eax
	cltd
	mov	$-3, %esi
	idiv	%esi
	mov	$0x8000000000000001, %rax
	cqto
	mov	$0x100, %rdi
	idiv	%rdi
	movq	$-9, MEM+48
	mov	$1000000, %rax
	cqto
	idivq	MEM+48
END

CASE div_by_zero_8, undef=DIFF_ARITH
	mov	$5, %ax
	xor	%bl, %bl
	div	%bl
END

CASE div_by_zero_64, undef=DIFF_ARITH
	mov	$5, %eax
	xor	%edx, %edx
	xor	%ecx, %ecx
	div	%rcx
END

CASE div_by_zero_memory, undef=DIFF_ARITH
	movl	$0, MEM+56
	mov	$1, %edx
	divl	MEM+56
END

CASE div_quotient_overflow_8, undef=DIFF_ARITH
	mov	$0x100, %ax
	mov	$1, %cl
	div	%cl
END

CASE div_quotient_overflow_32, undef=DIFF_ARITH
	mov	$2, %edx
	mov	$0, %eax
	mov	$2, %ecx
	div	%ecx
END

CASE div_quotient_overflow_64, undef=DIFF_ARITH
	mov	$-1, %rdx
	mov	$-1, %rax
	mov	$-1, %rcx
	div	%rcx
END

CASE idiv_min_by_minus_one_16, undef=DIFF_ARITH
	mov	$-0x8000, %ax
	cwd
	mov	$-1, %bx
	idiv	%bx
END

CASE idiv_min_by_minus_one_64, undef=DIFF_ARITH
	mov	$0x8000000000000000, %rax
	cqto
	mov	$-1, %rsi
	idiv	%rsi
END

CASE idiv_quotient_overflow_8, undef=DIFF_ARITH
	mov	$-200, %ax
	mov	$1, %dl
	idiv	%dl
END

CASE idiv_by_zero_32, undef=DIFF_ARITH
	mov	$-5, %eax
	cltd
	xor	%r8d, %r8d
	idiv	%r8d
END

	CORPUS_END
