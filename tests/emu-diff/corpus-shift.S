/* Corpus: shifts and rotates (SHL/SHR/SAR/ROL/ROR/RCL/RCR) by 1, by an
 * immediate and by CL with counts 0, 1, n, the operand size and more;
 * SHLD/SHRD. SDM: AF is undefined after a shift by a nonzero count, OF
 * after any count but 1, CF after SHL/SHR by >= the operand size. A count
 * of 0 (after masking) leaves every flag alone; RCL/RCR by a multiple of
 * 9 or 17 rotate nothing but OF is still undefined. */
#include "corpus.h"

#define MEM DIFF_DATA_VA
#define AO DIFF_AF|DIFF_OF

	CORPUS_BEGIN shift

CASE shl_counts, undef=AO
	mov	$0x81, %al
	shl	$0, %al
	FLAGS
	shl	$1, %al
	FLAGS	DIFF_AF
	mov	$0x81, %bl
	shl	$3, %bl
	FLAGS	AO
	mov	$0xc001, %cx
	shl	$15, %cx
	FLAGS	AO
	mov	$0x80000001, %edx
	shl	$31, %edx
	FLAGS	AO
	mov	$-1, %rsi
	shl	$63, %rsi
	FLAGS	AO
	shl	$32, %edi
	FLAGS	AO
	shl	$64, %r8
	FLAGS	AO
END

CASE shl_beyond_size, undef=AO|DIFF_CF
	mov	$0xff, %al
	shl	$8, %al
	FLAGS	AO|DIFF_CF
	mov	$0xffff, %bx
	shl	$17, %bx
	FLAGS	AO|DIFF_CF
	mov	$0x5a, %cl
	shr	$9, %cl
	FLAGS	AO|DIFF_CF
	mov	$0x8000, %dx
	shr	$31, %dx
	FLAGS	AO|DIFF_CF
END

CASE shr_sar, undef=AO
	mov	$0x81, %al
	shr	$1, %al
	FLAGS	DIFF_AF
	mov	$0x81, %bl
	sar	$1, %bl
	FLAGS	DIFF_AF
	mov	$0x8000, %cx
	sar	$15, %cx
	FLAGS	AO
	mov	$0x80, %dl
	sar	$9, %dl
	FLAGS	AO
	mov	$0x8000, %si
	sar	$20, %si
	FLAGS	AO
	mov	$-2, %rdi
	sar	$63, %rdi
	FLAGS	AO
	shr	$7, %r9d
	FLAGS	AO
	sar	$33, %r10
	FLAGS	AO
	shr	%r11
	FLAGS	DIFF_AF
END

CASE shift_by_cl, undef=AO|DIFF_CF
	mov	$0, %cl
	shl	%cl, %rax
	FLAGS
	mov	$1, %cl
	shl	%cl, %ebx
	FLAGS	DIFF_AF
	mov	$5, %cl
	sar	%cl, %dx
	FLAGS	AO
	mov	$12, %cl
	shr	%cl, %sil
	FLAGS	AO|DIFF_CF
	mov	$0x40, %cl
	shl	%cl, %r8
	FLAGS	AO|DIFF_CF
	mov	$0xff, %cl
	sar	%cl, %r9
	FLAGS	AO|DIFF_CF
	shr	%cl, %r10d
	FLAGS	AO|DIFF_CF
	sar	%cl, %ah
	FLAGS	AO|DIFF_CF
END

CASE shift_memory, undef=AO
	shlq	$3, MEM+8
	FLAGS	AO
	shrw	MEM+16
	FLAGS	DIFF_AF
	mov	$6, %cl
	sarb	%cl, MEM+24
	FLAGS	AO
	roll	$9, MEM+32
	FLAGS	AO
	stc
	rcrq	MEM+40
	FLAGS	DIFF_AF
END

CASE rol_ror, undef=AO
	mov	$0x81, %al
	rol	$1, %al
	FLAGS
	ror	$1, %al
	FLAGS
	mov	$0x81, %bl
	rol	$8, %bl
	FLAGS	DIFF_OF
	mov	$0x81, %cl
	ror	$8, %cl
	FLAGS	DIFF_OF
	rol	$0, %dx
	FLAGS	DIFF_OF
	ror	$17, %si
	FLAGS	DIFF_OF
	rol	$13, %edi
	FLAGS	DIFF_OF
	ror	$63, %r8
	FLAGS	DIFF_OF
	rol	$32, %r9d
	FLAGS	DIFF_OF
	mov	$9, %cl
	ror	%cl, %r10b
	FLAGS	DIFF_OF
END

CASE rcl_rcr, undef=AO
	stc
	mov	$0x80, %al
	rcl	$1, %al
	FLAGS
	rcl	$1, %al
	FLAGS
	stc
	mov	$0x01, %bl
	rcr	$1, %bl
	FLAGS
	stc
	mov	$0x55, %cl
	rcl	$9, %cl
	FLAGS	DIFF_OF
	clc
	rcl	$10, %cl
	FLAGS	DIFF_OF
	stc
	mov	$0x1234, %dx
	rcr	$17, %dx
	FLAGS	DIFF_OF
	rcr	$18, %dx
	FLAGS	DIFF_OF
	stc
	rcl	$31, %esi
	FLAGS	DIFF_OF
	stc
	rcr	$63, %rdi
	FLAGS	DIFF_OF
	clc
	rcl	$0, %r8
	FLAGS	DIFF_OF
	stc
	rcr	$5, %ah
	FLAGS	DIFF_OF
END

CASE rcl_rcr_by_cl, undef=AO
	mov	$0, %cl
	stc
	rcl	%cl, %rax
	FLAGS
	mov	$1, %cl
	rcr	%cl, %bx
	FLAGS
	mov	$8, %cl
	stc
	rcl	%cl, %dl
	FLAGS	DIFF_OF
	mov	$16, %cl
	rcr	%cl, %si
	FLAGS	DIFF_OF
	mov	$33, %cl
	rcl	%cl, %edi
	FLAGS	DIFF_OF
	mov	$64, %cl
	rcr	%cl, %r8
	FLAGS	DIFF_OF
END

CASE shld_shrd, undef=AO
	mov	$0x12345678, %eax
	mov	$0x9abcdef0, %ebx
	shld	$4, %ebx, %eax
	FLAGS	AO
	shrd	$4, %ebx, %eax
	FLAGS	AO
	shld	$1, %rbx, %rcx
	FLAGS	DIFF_AF
	shrd	$1, %rdx, %rsi
	FLAGS	DIFF_AF
	shld	$63, %r8, %r9
	FLAGS	AO
	shrd	$31, %r10d, %r11d
	FLAGS	AO
	shld	$8, %r12w, %r13w
	FLAGS	AO
	shrd	$15, %r14w, %r15w
	FLAGS	AO
	shld	$0, %rax, %rbx
	FLAGS	AO
	shrd	$32, %eax, %ebx
	FLAGS	AO
END

CASE shld_shrd_cl, undef=AO
	mov	$0, %cl
	shld	%cl, %rax, %rbx
	FLAGS
	mov	$1, %cl
	shrd	%cl, %rdx, %rsi
	FLAGS	DIFF_AF
	mov	$40, %cl
	shld	%cl, %r8, %r9
	FLAGS	AO
	mov	$0x7f, %cl
	shrd	%cl, %r10, %r11
	FLAGS	AO
	mov	$13, %cl
	shld	%cl, %r12d, %r13d
	FLAGS	AO
	mov	$0x25, %cl
	shrd	%cl, %r14d, %r15d
	FLAGS	AO
	mov	$7, %cl
	shldw	%cl, %ax, MEM+64
	FLAGS	AO
	shrdq	$9, %rdx, MEM+72
	FLAGS	AO
END

	CORPUS_END
