/* Corpus: MMX. Every 0F-map form on mm registers (MOVD/MOVQ, packed
 * arithmetic with and without saturation, compares, logic, packs and
 * unpacks, shifts by mm, m64 and imm, multiplies), the SSE-era extensions
 * (PSHUFW, PINSRW/PEXTRW, PMOVMSKB, PMIN/PMAX, PAVG, PSADBW, PMULHUW,
 * MASKMOVQ, MOVNTQ), SSE2's PADDQ/PSUBQ/PMULUDQ, the SSSE3 forms, the
 * moves and conversions between mm and xmm (MXCSR modes, #XM, #GP on a
 * misaligned m128), and the x87 aliasing: after an MMX instruction TOP is
 * 0 and every tag valid, a written register's sign/exponent are all ones,
 * EMMS empties the tags, CVTPI2PS/PD from memory make no transition, a
 * pending x87 exception is #MF first; seen through FXSAVE (X87_DUMP),
 * FNSTENV and FNSAVE images and x87 loads of the aliased registers.
 *
 * Operands come from the data area's random bytes (the case's seed) and
 * from edge values; results are stored to OUT. Every case ends with EMMS
 * and FNINIT (the host process's x87 state is left clean). */
#include "corpus.h"

#define MEM DIFF_DATA_VA
#define OUT (DIFF_DATA_VA + 0x1000)
#define IMG (DIFF_DATA_VA + 0x1800)
#define HOLE DIFF_HOLE_VA

	/* mm0-7 from MEM+off+8*i */
	.macro	MMLOAD off=0
	movq	MEM+\off, %mm0
	movq	MEM+\off+8, %mm1
	movq	MEM+\off+16, %mm2
	movq	MEM+\off+24, %mm3
	movq	MEM+\off+32, %mm4
	movq	MEM+\off+40, %mm5
	movq	MEM+\off+48, %mm6
	movq	MEM+\off+56, %mm7
	.endm

	/* mm0-7 to OUT+off+8*i */
	.macro	MMSTORE off
	movq	%mm0, OUT+\off
	movq	%mm1, OUT+\off+8
	movq	%mm2, OUT+\off+16
	movq	%mm3, OUT+\off+24
	movq	%mm4, OUT+\off+32
	movq	%mm5, OUT+\off+40
	movq	%mm6, OUT+\off+48
	movq	%mm7, OUT+\off+56
	.endm

	/* edge values in MEM+0x200..: saturation and sign boundaries */
	.macro	EDGES
	movabs	$0x7fff8000ffff0001, %rax
	mov	%rax, MEM+0x200
	movabs	$0x807f7f80ff0001fe, %rax
	mov	%rax, MEM+0x208
	movabs	$0x7fffffff80000000, %rax
	mov	%rax, MEM+0x210
	movabs	$0x8000000000000000, %rax
	mov	%rax, MEM+0x218
	movq	$-1, MEM+0x220
	movq	$0, MEM+0x228
	.endm

	/* op src, with mm1 as destination: each result to OUT+off */
	.macro	BIN op, off
	movq	MEM+0x200, %mm1
	\op	MEM+0x208, %mm1
	movq	%mm1, OUT+\off
	movq	MEM+0x210, %mm1
	\op	%mm2, %mm1
	movq	%mm1, OUT+\off+8
	movq	MEM+0x218, %mm1
	\op	%mm3, %mm1
	movq	%mm1, OUT+\off+16
	movq	%mm4, %mm1
	\op	%mm5, %mm1
	movq	%mm1, OUT+\off+24
	movq	%mm6, %mm1
	\op	MEM+0x220, %mm1
	movq	%mm1, OUT+\off+32
	.endm

	/* FNINIT with every register's contents defined (+0.0; FNINIT keeps
	 * them, and what the harness left in the host's is not compared) */
	.macro	X87_ZERO
	fninit
	.rept	8
	fldz
	.endr
	fninit
	.endm

	/* an unmasked zero divide left pending (FSW.ES) */
	.macro	ZE_PENDING
	fninit
	movw	$0x037b, OUT		/* ZE unmasked */
	fldcw	OUT
	fldz
	fld1
	fdiv	%st(1), %st
	.endm

	CORPUS_BEGIN mmx

CASE mmx_moves, req=DIFF_REQ_MMX
	fninit
	MMLOAD
	movd	%eax, %mm0		/* 0F 6E r32 */
	movq	%rbx, %mm1		/* REX.W 0F 6E */
	movd	MEM+0x40, %mm2		/* 0F 6E m32 */
	.byte	0x48, 0x0f, 0x6e, 0x1c, 0x25	/* movq m64, %mm3 (REX.W 0F 6E) */
	.long	MEM+0x48
	movd	%mm4, %ecx		/* 0F 7E r32 */
	movq	%mm5, %rdx		/* REX.W 0F 7E */
	movd	%mm6, OUT+0x100		/* 0F 7E m32 */
	.byte	0x48, 0x0f, 0x7e, 0x3c, 0x25	/* movq %mm7, m64 (REX.W 0F 7E) */
	.long	OUT+0x108
	movq	%mm1, %mm4		/* 0F 6F */
	.byte	0x0f, 0x7f, 0xd5	/* movq %mm2, %mm5 (0F 7F) */
	.byte	0x41, 0x0f, 0x6f, 0xf0	/* REX.B ignored: movq %mm0, %mm6 */
	movntq	%mm3, OUT+0x110
	sfence
	movq2dq	%mm1, %xmm3
	movq2dq	%mm2, %xmm11
	movdq2q	%xmm9, %mm7
	movdq2q	%xmm2, %mm0
	MMSTORE	0
	X87_DUMP IMG
	emms
	fninit
END

CASE mmx_add_sub, req=DIFF_REQ_MMX
	fninit
	EDGES
	MMLOAD
	BIN	paddb, 0x000
	BIN	paddw, 0x028
	BIN	paddd, 0x050
	BIN	paddq, 0x078
	BIN	paddsb, 0x0a0
	BIN	paddsw, 0x0c8
	BIN	paddusb, 0x0f0
	BIN	paddusw, 0x118
	BIN	psubb, 0x140
	BIN	psubw, 0x168
	BIN	psubd, 0x190
	BIN	psubq, 0x1b8
	BIN	psubsb, 0x1e0
	BIN	psubsw, 0x208
	BIN	psubusb, 0x230
	BIN	psubusw, 0x258
	emms
	fninit
END

CASE mmx_compare_logic, req=DIFF_REQ_MMX
	fninit
	EDGES
	MMLOAD
	BIN	pcmpeqb, 0x000
	BIN	pcmpeqw, 0x028
	BIN	pcmpeqd, 0x050
	BIN	pcmpgtb, 0x078
	BIN	pcmpgtw, 0x0a0
	BIN	pcmpgtd, 0x0c8
	BIN	pand, 0x0f0
	BIN	pandn, 0x118
	BIN	por, 0x140
	BIN	pxor, 0x168
	pxor	%mm0, %mm0		/* the zeroing idiom */
	pcmpeqb	%mm7, %mm7		/* all ones */
	MMSTORE	0x200
	emms
	fninit
END

CASE mmx_pack_unpack, req=DIFF_REQ_MMX
	fninit
	EDGES
	MMLOAD
	BIN	packsswb, 0x000
	BIN	packssdw, 0x028
	BIN	packuswb, 0x050
	BIN	punpcklbw, 0x078
	BIN	punpcklwd, 0x0a0
	BIN	punpckldq, 0x0c8
	BIN	punpckhbw, 0x0f0
	BIN	punpckhwd, 0x118
	BIN	punpckhdq, 0x140
	punpcklbw MEM+0x301, %mm0	/* m32 source is read as m64 here */
	punpckhdq %mm0, %mm0
	packsswb %mm0, %mm0
	MMSTORE	0x200
	emms
	fninit
END

	.set	.Lsh_psllw, 0
	.set	.Lsh_pslld, 1
	.set	.Lsh_psllq, 2
	.set	.Lsh_psrlw, 3
	.set	.Lsh_psrld, 4
	.set	.Lsh_psrlq, 5
	.set	.Lsh_psraw, 6
	.set	.Lsh_psrad, 7

CASE mmx_shift, req=DIFF_REQ_MMX
	fninit
	EDGES
	MMLOAD
	movq	$5, MEM+0x300
	movq	$16, MEM+0x308
	movq	$33, MEM+0x310
	movabs	$0x100000003, %rax
	mov	%rax, MEM+0x318
	.irp	op, psllw, pslld, psllq, psrlw, psrld, psrlq, psraw, psrad
	movq	MEM+0x200, %mm1
	\op	MEM+0x300, %mm1
	movq	MEM+0x210, %mm2
	\op	MEM+0x308, %mm2
	movq	MEM+0x218, %mm3
	\op	MEM+0x310, %mm3
	movq	MEM+0x208, %mm4
	\op	MEM+0x318, %mm4
	movq	MEM+0x300, %mm0
	\op	%mm0, %mm5
	MMSTORE	0x40*(.Lsh_\op)
	.endr
	emms
	fninit
END

CASE mmx_shift_imm, req=DIFF_REQ_MMX
	fninit
	EDGES
	MMLOAD
	psllw	$3, %mm0
	psllw	$16, %mm1
	pslld	$7, %mm2
	pslld	$32, %mm3
	psllq	$1, %mm4
	psllq	$63, %mm5
	psllq	$64, %mm6
	psrlw	$15, %mm7
	MMSTORE	0
	MMLOAD	0x200
	psrlw	$200, %mm0
	psrld	$31, %mm1
	psrld	$255, %mm2
	psrlq	$4, %mm3
	psraw	$1, %mm4
	psraw	$99, %mm5
	psrad	$9, %mm6
	psrad	$32, %mm7
	MMSTORE	0x40
	emms
	fninit
END

CASE mmx_multiply, req=DIFF_REQ_MMX
	fninit
	EDGES
	MMLOAD
	BIN	pmullw, 0x000
	BIN	pmulhw, 0x028
	BIN	pmaddwd, 0x050
	BIN	pmulhuw, 0x078
	BIN	pmuludq, 0x0a0
	movq	MEM+0x218, %mm0		/* PMADDWD's one overflow: 0x8000*0x8000 twice */
	movq	MEM+0x218, %mm1
	movabs	$0x8000800080008000, %rax
	movq	%rax, %mm2
	pmaddwd	%mm2, %mm2
	movq	%mm2, OUT+0x100
	emms
	fninit
END

CASE mmx_sse_extensions, req=DIFF_REQ_MMX
	fninit
	EDGES
	MMLOAD
	BIN	pminub, 0x000
	BIN	pmaxub, 0x028
	BIN	pminsw, 0x050
	BIN	pmaxsw, 0x078
	BIN	pavgb, 0x0a0
	BIN	pavgw, 0x0c8
	BIN	psadbw, 0x0f0
	pshufw	$0x1b, %mm1, %mm0
	pshufw	$0xe4, MEM+0x203, %mm2
	pshufw	$0x55, %mm3, %mm3
	pinsrw	$1, %eax, %mm4
	pinsrw	$6, %ebx, %mm5		/* imm mod 4: word 2 */
	pinsrw	$3, MEM+0x301, %mm6
	.byte	0x48, 0x0f, 0xc4, 0xf9, 0x02	/* REX.W pinsrw $2, %rcx, %mm7 */
	MMSTORE	0x100
	pextrw	$0, %mm1, %eax
	pextrw	$7, %mm2, %ebx		/* imm mod 4: word 3 */
	.byte	0x48, 0x0f, 0xc5, 0xcb, 0x02	/* REX.W pextrw $2, %mm3, %rcx */
	pmovmskb %mm4, %edx
	pmovmskb %mm7, %r8
	pcmpeqb	%mm0, %mm0
	pmovmskb %mm0, %r9d
	emms
	fninit
END

CASE mmx_maskmovq, req=DIFF_REQ_MMX
	fninit
	MMLOAD
	mov	$OUT+0x10, %rdi
	maskmovq %mm1, %mm0		/* mask mm1, data mm0 */
	mov	$OUT+0x33, %edi
	.byte	0x67, 0x0f, 0xf7, 0xd3	/* addr32: maskmovq %mm3, %mm2 at EDI */
	movabs	$0x80ff007f01800081, %rax
	movq	%rax, %mm4
	lea	OUT+0x40, %rdi
	maskmovq %mm4, %mm5
	pxor	%mm6, %mm6
	maskmovq %mm6, %mm7		/* nothing selected */
	/* (selected bytes before an unmapped page with unselected ones in it:
	 * this host faults, model-specific; not compared) */
	MMSTORE	0x100
	X87_DUMP IMG
	emms
	fninit
END

/* A selected byte in the unmapped page: #PF, nothing written (the bytes
 * before it in the mapped page included) */
CASE mmx_maskmovq_fault, req=DIFF_REQ_MMX
	fninit
	MMLOAD
	mov	$HOLE-4, %rdi
	pcmpeqb	%mm6, %mm6
	maskmovq %mm6, %mm7
	emms
	fninit
END

CASE mmx_ssse3, req=DIFF_REQ_MMX|DIFF_REQ_SSSE3
	fninit
	EDGES
	MMLOAD
	BIN	pshufb, 0x000
	BIN	phaddw, 0x028
	BIN	phaddd, 0x050
	BIN	phaddsw, 0x078
	BIN	phsubw, 0x0a0
	BIN	phsubd, 0x0c8
	BIN	phsubsw, 0x0f0
	BIN	pmaddubsw, 0x118
	BIN	pmulhrsw, 0x140
	BIN	psignb, 0x168
	BIN	psignw, 0x190
	BIN	psignd, 0x1b8
	BIN	pabsb, 0x1e0
	BIN	pabsw, 0x208
	BIN	pabsd, 0x230
	MMLOAD	0x80
	palignr	$0, %mm1, %mm0
	palignr	$3, %mm2, %mm1
	palignr	$8, MEM+0x301, %mm2
	palignr	$12, %mm4, %mm3
	palignr	$16, %mm5, %mm4
	palignr	$21, %mm6, %mm5
	palignr	$32, %mm7, %mm6
	palignr	$255, %mm0, %mm7
	MMSTORE	0x300
	emms
	fninit
END

CASE mmx_cvt, req=DIFF_REQ_MMX
	fninit
	MMLOAD
	movabs	$0x7fffffff80000000, %rax
	movq	%rax, %mm0
	movabs	$0x3fc00000bfc00000, %rax	/* 1.5f, -1.5f */
	mov	%rax, MEM+0x300
	movabs	$0x4f0000007fc00000, %rax	/* 2^31 (invalid), a NaN */
	mov	%rax, MEM+0x308
	movabs	$0x40091eb851eb851f, %rax	/* 3.14 */
	mov	%rax, MEM+0x310
	movabs	$0xc1e0000000200000, %rax	/* -2^31 - 1 (invalid) */
	mov	%rax, MEM+0x318
	cvtpi2ps %mm0, %xmm0
	cvtpi2ps %mm1, %xmm1
	cvtpi2ps MEM+0x40, %xmm2
	cvtpi2pd %mm0, %xmm3
	cvtpi2pd MEM+0x48, %xmm4
	cvtps2pi MEM+0x300, %mm2
	cvttps2pi MEM+0x300, %mm3
	cvtps2pi MEM+0x308, %mm4
	movq	MEM+0x300, %xmm5
	cvtps2pi %xmm5, %mm5		/* the high lanes (random) ignored */
	cvttps2pi %xmm7, %mm6
	cvtpd2pi MEM+0x310, %mm7
	cvttpd2pi %xmm8, %mm1
	cvtpd2pi %xmm9, %mm0
	stmxcsr	OUT+0x200
	MMSTORE	0
	/* rounding control: down, up, toward zero */
	.irp	rc, 0x3f80, 0x5f80, 0x7f80
	movl	$\rc, OUT+0x204
	ldmxcsr	OUT+0x204
	cvtps2pi MEM+0x300, %mm2
	cvtpd2pi MEM+0x310, %mm3
	cvtpi2ps %mm1, %xmm10
	movq	%mm2, OUT+0x208+(\rc>>9)
	movq	%mm3, OUT+0x210+(\rc>>9)
	.endr
	X87_DUMP IMG
	emms
	fninit
END

/* invalid unmasked: #XM before mm2 is written */
CASE mmx_cvt_xm, req=DIFF_REQ_MMX
	fninit
	movabs	$0x7fc000003f800000, %rax	/* 1.0f, a QNaN */
	mov	%rax, MEM+0x300
	movq	MEM, %mm2
	movl	$0x1f00, OUT+0x200		/* IM clear */
	ldmxcsr	OUT+0x200
	cvtps2pi MEM+0x300, %mm2
	emms
	fninit
END

/* CVTPD2PI m128 must be 16-byte aligned: #GP(0) */
CASE mmx_cvtpd2pi_align, req=DIFF_REQ_MMX
	fninit
	cvtpd2pi MEM+0x308, %mm2
	emms
	fninit
END

/* The x87 view: TOP 0 and all valid after an MMX instruction, the written
 * registers' exponents all ones, the others untouched; EMMS empties the
 * tags, TOP stays; an x87 load of an MMX value. */
CASE mmx_x87_alias, req=DIFF_REQ_MMX
	X87_ZERO
	fld1
	fldpi
	fldl2e				/* TOP 5, R5-R7 valid */
	movq	MEM+8, %mm1		/* transition: TOP 0, R1 written */
	X87_DUMP IMG
	mov	IMG, %rax		/* FCW FSW FTW */
	mov	%rax, OUT
	fnstenv	OUT+0x20
	movq	$0, OUT+0x20+12		/* FIP, FOP, FDP, FDS: left out */
	movq	$0, OUT+0x20+20
	ffree	%st(7)
	fld	%st(1)			/* the MMX value as x87 sees it */
	fstpt	OUT+0x40
	emms
	fnstenv	OUT+0x60
	movq	$0, OUT+0x60+12
	movq	$0, OUT+0x60+20
	fld1				/* after EMMS: into R7, no stack fault */
	fnstsw	OUT+0x80
	movd	%mm6, %eax		/* a read also makes the transition */
	X87_DUMP IMG+0x200
	emms
	fninit
END

/* A read-only MMX instruction (MOVD r32, mm) makes the transition; its
 * registers keep their x87 contents (exponent not forced). */
CASE mmx_read_transition, req=DIFF_REQ_MMX
	X87_ZERO
	fld1
	fldpi				/* TOP 6 */
	movd	%mm7, %eax		/* R7 = 1.0's significand */
	movq	%mm6, OUT
	fnstenv	OUT+0x20
	movq	$0, OUT+0x20+12
	movq	$0, OUT+0x20+20
	X87_DUMP IMG
	emms
	fninit
END

/* CVTPI2PS/CVTPI2PD from memory are no MMX instructions: no transition */
CASE mmx_cvtpi_mem_no_transition, req=DIFF_REQ_MMX
	X87_ZERO
	fld1				/* TOP 7, tag 0x80 */
	cvtpi2ps MEM, %xmm0
	cvtpi2pd MEM+8, %xmm1
	X87_DUMP IMG
	cvtpi2ps %mm3, %xmm2		/* from mm: transition */
	X87_DUMP IMG+0x200
	emms
	fninit
END

/* FNSAVE after MMX: the 108-byte image (tags from the contents), then
 * FNINIT's state; FRSTOR and MMX again */
CASE mmx_fnsave, req=DIFF_REQ_MMX
	fninit
	MMLOAD
	fldz				/* after MMX without EMMS: stack overflow, IE|SF */
	fnsave	OUT
	movq	$0, OUT+12
	movq	$0, OUT+20
	fnstsw	OUT+0x70
	frstor	OUT
	paddw	%mm1, %mm2
	fnsave	OUT+0x80
	movq	$0, OUT+0x80+12
	movq	$0, OUT+0x80+20
	emms
	fninit
END

/* A pending unmasked x87 exception: the MMX instruction raises #MF */
CASE mmx_pending_mf, req=DIFF_REQ_MMX
	ZE_PENDING
	paddb	%mm1, %mm0
	emms
	fninit
END

CASE mmx_pending_mf_emms, req=DIFF_REQ_MMX
	ZE_PENDING
	mov	$1, %eax
	emms
	fninit
END

/* CVTPI2PS from memory does not take x87 exceptions */
CASE mmx_cvtpi_mem_no_mf, req=DIFF_REQ_MMX
	ZE_PENDING
	cvtpi2ps MEM, %xmm3
	mov	$2, %eax
	fnclex
	fninit
END

/* #PF on the memory operand: nothing changes (registers, memory) */
CASE mmx_fault_load, req=DIFF_REQ_MMX
	fninit
	MMLOAD
	paddb	HOLE, %mm1
	emms
	fninit
END

CASE mmx_fault_store, req=DIFF_REQ_MMX
	fninit
	MMLOAD
	movq	%mm1, HOLE-4
	emms
	fninit
END

	CORPUS_END
