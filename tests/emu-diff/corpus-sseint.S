/* Corpus: SSE moves, packed integer, shuffles, the SSE4.2 string compares
 * and CRC32, against the host; the idioms glibc's string functions are
 * made of; mandatory-prefix decoding (66 with F2/F3, REX.W where it is
 * ignored and where it widens); alignment (#GP(0) on a misaligned 16-byte
 * operand where the SDM requires it, nothing where it does not), page
 * crossings (#PF, nothing written), LOCK (#UD). */
#include "corpus.h"

#define MEM   DIFF_DATA_VA
#define SCR   (DIFF_DATA_VA+0x1800)	/* scratch: the upper page */
#define HOLE  DIFF_HOLE_VA

	/* the bytes of a string at SCR+off (movb each) */
	.macro	STR off, b:vararg
	.set	stri, 0
	.irp	c, \b
	movb	$\c, SCR+\off+stri
	.set	stri, stri + 1
	.endr
	.endm

	CORPUS_BEGIN sseint

CASE strlen_sse2_idiom
	STR	0x100, 'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', 'x', 'y', 'z', 'w', 'a', 'b', 0
	mov	$SCR+0x100, %rdi
	pxor	%xmm0, %xmm0
	mov	%rdi, %rax
1:	movdqa	(%rax), %xmm1
	pcmpeqb	%xmm0, %xmm1
	pmovmskb %xmm1, %ecx
	add	$16, %rax
	test	%ecx, %ecx
	jz	1b
	bsf	%ecx, %ecx
	lea	-16(%rax,%rcx), %rax
	sub	%rdi, %rax
END

CASE memcpy_unaligned
	mov	$MEM+0x103, %rsi
	mov	$SCR+0x205, %rdi
	movdqu	(%rsi), %xmm0
	movdqu	16(%rsi), %xmm1
	movups	32(%rsi), %xmm2
	movupd	48(%rsi), %xmm3
	movdqu	%xmm0, (%rdi)
	movdqu	%xmm1, 16(%rdi)
	movups	%xmm2, 32(%rdi)
	movupd	%xmm3, 48(%rdi)
	lddqu	64(%rsi), %xmm4
	movntdq	%xmm4, SCR+0x300
	movntps	%xmm3, SCR+0x310
	movntpd	%xmm2, SCR+0x320
	movnti	%rax, SCR+0x330
	sfence
	movntdqa SCR+0x300, %xmm5
	mfence
	lfence
END

CASE movaps_misaligned_gp
	mov	$0x55, %ebx
	movaps	MEM+0x108, %xmm1
END

CASE movdqa_store_misaligned_gp
	movdqa	%xmm1, SCR+0x8
END

CASE paddb_mem_misaligned_gp
	paddb	MEM+0x101, %xmm2
END

CASE movntdqa_misaligned_gp
	movntdqa MEM+0x104, %xmm2
END

CASE unaligned_ok_forms
	movups	MEM+0x101, %xmm1
	movss	MEM+0x203, %xmm2
	movsd	MEM+0x305, %xmm3
	addss	MEM+0x407, %xmm4
	mulsd	MEM+0x409, %xmm5
	movlps	MEM+0x501, %xmm6
	movhpd	MEM+0x503, %xmm7
	pmovzxbw MEM+0x605, %xmm8
	pmovsxdq MEM+0x607, %xmm9
	pcmpistri $0x0c, MEM+0x701, %xmm10
	cvtps2pd MEM+0x709, %xmm11
	cvtdq2pd MEM+0x711, %xmm12
	movddup	MEM+0x713, %xmm13
	insertps $0x30, MEM+0x715, %xmm14
	movhps	%xmm1, SCR+0x3
	movlpd	%xmm2, SCR+0x13
	movq	%xmm3, SCR+0x25
END

CASE movdqu_load_crossing_pf
	movdqu	MEM+DIFF_DATA_SIZE-8, %xmm1
END

CASE movdqu_store_crossing_pf
	pcmpeqb	%xmm1, %xmm1
	movdqu	%xmm1, MEM+DIFF_DATA_SIZE-12
END

CASE movd_movq_gpr
	mov	$0x8877665544332211, %rax
	movd	%eax, %xmm1
	movq	%rax, %xmm2
	movd	%xmm2, %ebx
	movq	%xmm2, %rcx
	mov	$-1, %rdx
	movd	%xmm1, %edx
	movd	MEM+0x10, %xmm3
	movq	MEM+0x18, %xmm4
	movd	%xmm4, SCR+0x40
	movq	%xmm4, SCR+0x48
	movq	%xmm2, %xmm5
	movq	%xmm5, %r9
	movq	%xmm14, %r15
	movq	%r15, %xmm15
	movd	%r10d, %xmm8
END

CASE pinsr_pextr
	mov	$0x1234567890abcdef, %rax
	.irp	i, 0, 3, 7, 11, 15
	pinsrb	$\i, %eax, %xmm1
	pextrb	$\i, %xmm2, %ebx
	pextrb	$\i, %xmm3, SCR+0x50+\i
	.endr
	.irp	i, 0, 5, 7
	pinsrw	$\i, %eax, %xmm4
	pinsrw	$\i, MEM+0x20, %xmm5
	pextrw	$\i, %xmm6, %ecx
	pextrw	$\i, %xmm6, %r11
	pextrw	$\i, %xmm7, SCR+0x70
	.endr
	pinsrd	$2, %eax, %xmm8
	pinsrq	$1, %rax, %xmm9
	pinsrd	$3, MEM+0x30, %xmm10
	pextrd	$1, %xmm11, %edx
	pextrq	$1, %xmm12, %rsi
	pextrq	$0, %xmm12, SCR+0x80
	extractps $2, %xmm13, %edi
	extractps $3, %xmm13, SCR+0x90
	mov	$-1, %r8
	pextrb	$9, %xmm14, %r8d
END

CASE scalar_moves_merge
	movss	%xmm1, %xmm2
	movsd	%xmm3, %xmm4
	movss	MEM+0x40, %xmm5
	movsd	MEM+0x48, %xmm6
	movss	%xmm7, SCR+0xa0
	movsd	%xmm8, SCR+0xa8
	movhlps	%xmm9, %xmm10
	movlhps	%xmm11, %xmm12
	movlps	MEM+0x50, %xmm13
	movhps	MEM+0x58, %xmm14
	movlpd	MEM+0x60, %xmm15
	movhpd	MEM+0x68, %xmm0
	movlps	%xmm1, SCR+0xb0
	movhps	%xmm1, SCR+0xb8
	movsldup %xmm2, %xmm3
	movshdup %xmm4, %xmm5
	movddup	%xmm6, %xmm7
	movaps	%xmm8, %xmm9
	movapd	%xmm10, %xmm11
	movdqa	%xmm12, %xmm13
	movdqu	%xmm14, %xmm15
	movq	%xmm1, %xmm0
END

CASE movmsk
	movmskps %xmm1, %eax
	movmskpd %xmm2, %ebx
	pmovmskb %xmm3, %ecx
	movmskps %xmm4, %r9
	pmovmskb %xmm15, %r15d
END

CASE shuffles
	.irp	i, 0x00, 0x1b, 0x4e, 0xe4, 0xff
	pshufd	$\i, %xmm1, %xmm2
	pshufhw	$\i, %xmm3, %xmm4
	pshuflw	$\i, %xmm5, %xmm6
	shufps	$\i, %xmm7, %xmm8
	shufpd	$\i, %xmm9, %xmm10
	movdqu	%xmm2, SCR+0x100+\i
	.endr
	pshufd	$0x39, MEM+0x100, %xmm11
	shufps	$0x88, MEM+0x110, %xmm12
END

CASE palignr_pshufb
	.irp	i, 0, 1, 5, 15, 16, 20, 31, 32, 255
	movdqa	%xmm1, %xmm2
	palignr	$\i, %xmm3, %xmm2
	movdqu	%xmm2, SCR+0x100+\i
	.endr
	pshufb	%xmm4, %xmm5
	pshufb	MEM+0x120, %xmm6
END

CASE byte_shifts
	.irp	i, 0, 1, 3, 8, 15, 16, 200
	movdqa	%xmm1, %xmm2
	psrldq	$\i, %xmm2
	movdqa	%xmm1, %xmm3
	pslldq	$\i, %xmm3
	movdqu	%xmm2, SCR+0x100+\i
	movdqu	%xmm3, SCR+0x200+\i
	.endr
END

CASE bit_shifts
	.irp	i, 0, 1, 7, 15, 16, 31, 32, 63, 64, 200
	movdqa	%xmm1, %xmm2
	psllw	$\i, %xmm2
	psrad	$\i, %xmm3
	psrlq	$\i, %xmm4
	psraw	$\i, %xmm5
	pslld	$\i, %xmm6
	psllq	$\i, %xmm7
	psrlw	$\i, %xmm8
	psrld	$\i, %xmm9
	.endr
	mov	$5, %eax
	movd	%eax, %xmm10
	psllw	%xmm10, %xmm11
	psrad	%xmm10, %xmm12
	psrlq	%xmm13, %xmm14
	psraw	MEM+0x130, %xmm15
END

CASE arith_int
	paddb	%xmm1, %xmm2
	paddw	%xmm3, %xmm4
	paddd	%xmm5, %xmm6
	paddq	%xmm7, %xmm8
	psubb	%xmm9, %xmm10
	psubq	%xmm11, %xmm12
	paddsb	%xmm13, %xmm14
	paddusw	%xmm15, %xmm0
	psubsw	%xmm1, %xmm3
	psubusb	%xmm5, %xmm7
	pmullw	%xmm9, %xmm11
	pmulhw	%xmm13, %xmm15
	pmulhuw	%xmm2, %xmm4
	pmuludq	%xmm6, %xmm8
	pmaddwd	%xmm10, %xmm12
	psadbw	%xmm14, %xmm0
	pavgb	%xmm1, %xmm5
	pavgw	%xmm9, %xmm13
	pminub	%xmm2, %xmm6
	pmaxsw	%xmm10, %xmm14
	pminsw	%xmm3, %xmm7
	pmaxub	%xmm11, %xmm15
	paddd	MEM+0x140, %xmm1
END

CASE pack_unpack_cmp
	packsswb %xmm1, %xmm2
	packssdw %xmm3, %xmm4
	packuswb %xmm5, %xmm6
	packusdw %xmm7, %xmm8
	punpcklbw %xmm9, %xmm10
	punpckhwd %xmm11, %xmm12
	punpckldq %xmm13, %xmm14
	punpckhqdq %xmm15, %xmm0
	punpcklqdq %xmm1, %xmm3
	unpcklps %xmm5, %xmm7
	unpckhpd %xmm9, %xmm11
	pcmpeqb	%xmm13, %xmm15
	pcmpgtw	%xmm2, %xmm4
	pcmpgtd	%xmm6, %xmm8
	pcmpeqq	%xmm10, %xmm12
	pcmpgtq	%xmm14, %xmm0
	pand	%xmm1, %xmm2
	pandn	%xmm3, %xmm4
	por	%xmm5, %xmm6
	pxor	%xmm7, %xmm8
END

CASE ssse3_sse41_int
	pabsb	%xmm1, %xmm2
	pabsw	%xmm3, %xmm4
	pabsd	%xmm5, %xmm6
	psignb	%xmm7, %xmm8
	psignw	%xmm9, %xmm10
	psignd	%xmm11, %xmm12
	phaddw	%xmm13, %xmm14
	phaddd	%xmm15, %xmm0
	phaddsw	%xmm1, %xmm3
	phsubw	%xmm5, %xmm7
	phsubd	%xmm9, %xmm11
	phsubsw	%xmm13, %xmm15
	pmaddubsw %xmm2, %xmm4
	pmulhrsw %xmm6, %xmm8
	pmulld	%xmm10, %xmm12
	pmuldq	%xmm14, %xmm0
	pminsb	%xmm1, %xmm5
	pminsd	%xmm9, %xmm13
	pminuw	%xmm2, %xmm6
	pminud	%xmm10, %xmm14
	pmaxsb	%xmm3, %xmm7
	pmaxsd	%xmm11, %xmm15
	pmaxuw	%xmm4, %xmm8
	pmaxud	%xmm12, %xmm0
	phminposuw %xmm1, %xmm2
	mpsadbw	$0, %xmm3, %xmm4
	mpsadbw	$7, %xmm5, %xmm6
	pblendw	$0xa5, %xmm7, %xmm8
	blendps	$0x6, %xmm9, %xmm10
	blendpd	$0x1, %xmm11, %xmm12
	pblendvb %xmm0, %xmm13, %xmm14
	blendvps %xmm0, %xmm15, %xmm1
	blendvpd %xmm0, MEM+0x150, %xmm2
	insertps $0x9d, %xmm3, %xmm4
	insertps $0xc2, %xmm5, %xmm6
END

CASE pmovx
	pmovsxbw %xmm1, %xmm2
	pmovsxbd %xmm3, %xmm4
	pmovsxbq %xmm5, %xmm6
	pmovsxwd %xmm7, %xmm8
	pmovsxwq %xmm9, %xmm10
	pmovsxdq %xmm11, %xmm12
	pmovzxbw MEM+0x160, %xmm13
	pmovzxbd MEM+0x161, %xmm14
	pmovzxbq MEM+0x163, %xmm15
	pmovzxwd MEM+0x165, %xmm0
	pmovzxwq MEM+0x167, %xmm1
	pmovzxdq MEM+0x169, %xmm2
END

CASE ptest_flags
	ptest	%xmm1, %xmm2
	FLAGS
	pxor	%xmm3, %xmm3
	ptest	%xmm3, %xmm4
	FLAGS
	pcmpeqb	%xmm5, %xmm5
	ptest	%xmm5, %xmm5
	FLAGS
	ptest	MEM+0x170, %xmm6
	FLAGS
END

/* strchr/strcspn/strcmp as glibc's SSE4.2 versions build them */
CASE pcmpistri_idioms
	STR	0x100, 'a', 'e', 'i', 'o', 'u', 0
	STR	0x120, 't', 'h', 'e', ' ', 'q', 'u', 'i', 'c', 'k', ' ', 'b', 'r', 'o', 'w', 'n', ' ', 'f', 'o', 'x', 0
	STR	0x140, 't', 'h', 'e', ' ', 'q', 'u', 'i', 'x', 0
	movdqu	SCR+0x100, %xmm1
	movdqu	SCR+0x120, %xmm2
	movdqu	SCR+0x140, %xmm3
	.irp	i, 0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1a, 0x30, 0x3a, 0x40, 0x44, 0x4c, 0x01, 0x09, 0x0d
	pcmpistri $\i, %xmm2, %xmm1
	FLAGS
	mov	%ecx, SCR+0x200+\i*4
	pcmpistri $\i, SCR+0x121, %xmm3
	FLAGS
	pcmpistrm $\i, %xmm2, %xmm3
	movdqu	%xmm0, SCR+0x300+\i*4
	.endr
END

CASE pcmpestri_lengths
	.irp	la, 0, 3, 16, 17, -5, -20, 0x7fffffff
	mov	$\la, %rax
	mov	$9, %edx
	pcmpestri $0x0c, %xmm2, %xmm1
	FLAGS
	mov	%ecx, SCR+0x400+(\la&0xff)
	pcmpestrm $0x44, %xmm4, %xmm3
	movdqu	%xmm0, SCR+0x500+(\la&0xff)
	.endr
	mov	$0xffffffff00000003, %rax
	mov	$0x8000000000000000, %rdx
	pcmpestri $0x01, %xmm2, %xmm1
	FLAGS
	mov	%ecx, SCR+0x600
	.byte	0x66, 0x48, 0x0f, 0x3a, 0x61, 0xca, 0x01	/* pcmpestri with REX.W */
	FLAGS
	.byte	0x66, 0x48, 0x0f, 0x3a, 0x60, 0x2c, 0x25	/* pcmpestrm $9, MEM+0x181, %xmm5 */
	.long	MEM+0x181
	.byte	0x09
END

CASE crc32_forms
	mov	$0xffffffff, %eax
	mov	$0x123456789abcdef0, %rbx
	crc32b	%bl, %eax
	crc32b	%bh, %eax
	crc32w	%bx, %eax
	crc32l	%ebx, %eax
	crc32q	%rbx, %rax
	crc32b	MEM+0x190, %ecx
	crc32q	MEM+0x198, %rdx
	crc32w	MEM+0x1a0, %esi
	mov	$-1, %r9
	crc32b	%r10b, %r9d
	crc32b	%sil, %r8
END

CASE maskmovdqu_bytes
	mov	$SCR+0x700, %rdi
	maskmovdqu %xmm2, %xmm1
	mov	$SCR+0x713, %edi
	addr32 maskmovdqu %xmm4, %xmm3
END

/* Into the unmapped page: nothing written, #PF. Which address CR2 names
 * when a selected byte is not the first one in the page is model-specific
 * (this host reports the second quadword's start), so every byte is
 * selected here and the page boundary falls between the quadwords. */
CASE maskmovdqu_crossing_pf
	mov	$MEM+DIFF_DATA_SIZE-8, %rdi
	pcmpeqb	%xmm3, %xmm3
	maskmovdqu %xmm3, %xmm2
END

CASE riprel_and_addr32
	movdqu	.Lconst16(%rip), %xmm1
	paddw	.Lconst16(%rip), %xmm2
	mov	$0xffffffff00000000+MEM+0x1c0, %rax
	addr32 movups (%eax), %xmm3
	addr32 movdqu %xmm3, 0x100(%eax)
	jmp	1f
.Lconst16:
	.quad	0x0102030405060708, 0x8090a0b0c0d0e0f0
1:
END

CASE prefix_precedence
	.byte	0x66, 0xf3, 0x0f, 0x10, 0xca	/* movss: F3 wins over 66 */
	.byte	0xf3, 0x66, 0x0f, 0x10, 0xdc	/* in either order */
	.byte	0x66, 0xf2, 0x0f, 0x58, 0xee	/* addsd */
	.byte	0x66, 0x48, 0x0f, 0xfe, 0xc1	/* paddd, REX.W ignored */
	.byte	0x48, 0x0f, 0x28, 0xd3		/* movaps, REX.W ignored */
	.byte	0x66, 0x2e, 0x0f, 0xef, 0xe5	/* pxor with a segment prefix */
	.byte	0xf2, 0x48, 0x0f, 0x10, 0xf7	/* movsd with REX.W */
END

CASE lock_sse_ud
	.byte	0xf0, 0x0f, 0x58, 0x04, 0x25
	.long	MEM
END

CASE movlpd_register_form_ud
	.byte	0x66, 0x0f, 0x12, 0xc1
END

CASE pmovmskb_memory_form_ud
	.byte	0x66, 0x0f, 0xd7, 0x04, 0x25
	.long	MEM
END

	CORPUS_END
