/* Corpus: the x87 FPU. Every case starts with FNINIT and ends with FNINIT
 * (the host process's x87 state is left clean); results reach the compared
 * data area through FSTP/FIST/FNSTSW and through DUMP, an FXSAVE image
 * with the fields the host may leave stale cleared: FOP/FIP/FDP (Intel
 * updates them only on unmasked exceptions on newer parts), MXCSR and the
 * XMM registers (the harness's, not the case's). So FCW, FSW (TOP, CC,
 * flags), the abridged tag word and the eight registers in stack order are
 * compared after every DUMP. */
#include "corpus.h"

#define MEM DIFF_DATA_VA
#define OUT (DIFF_DATA_VA + 0x1000)
#define IMG (DIFF_DATA_VA + 0x1800)

	.macro	DUMP
	X87_DUMP IMG
	.endm

	/* m32/m64/m80 constants in the data area */
	.macro	PUT32 off, v
	movl	$\v, MEM+\off
	.endm
	.macro	PUT64 off, v
	movabs	$\v, %rax
	mov	%rax, MEM+\off
	.endm
	.macro	PUT80 off, mant, se
	movabs	$\mant, %rax
	mov	%rax, MEM+\off
	movw	$\se, MEM+\off+8
	.endm

	CORPUS_BEGIN x87

CASE x87_init_state
	fninit
	fnstsw	OUT
	fnstcw	OUT+2
	fnstsw	%ax
	DUMP
	fninit
END

CASE x87_load_store_formats
	fninit
	PUT32	0, 0x3fc00000		/* 1.5f */
	PUT64	8, 0xc00921fb54442d18	/* -pi */
	PUT80	16, 0xc90fdaa22168c235, 0x4000
	movw	$-1234, MEM+32
	movl	$0x7fffffff, MEM+36
	PUT64	40, 0x8000000000000001
	flds	MEM
	fldl	MEM+8
	fldt	MEM+16
	filds	MEM+32
	fildl	MEM+36
	fildll	MEM+40
	DUMP
	fstpt	OUT
	fstpl	OUT+16
	fstps	OUT+24
	fistl	OUT+28
	fistps	OUT+32
	fists	OUT+34
	fistpll	OUT+40
	fstl	OUT+48
	fnstsw	OUT+56
	fninit
END

CASE x87_arith_forms
	fninit
	PUT64	0, 0x4014000000000000	/* 5.0 */
	PUT32	8, 0x40400000		/* 3.0f */
	movw	$7, MEM+12
	movl	$-9, MEM+16
	fldl	MEM		/* st0 = 5 */
	fld1
	fadd	%st(1), %st	/* D8 C0+i */
	fadd	%st, %st(1)	/* DC C0+i */
	fmul	%st(1), %st
	fsubs	MEM+8		/* D8 /4 */
	fsubrs	MEM+8		/* D8 /5 */
	fdivl	MEM		/* DC /6 */
	fdivrl	MEM		/* DC /7 */
	fiadds	MEM+12		/* DE /0 */
	fimull	MEM+16		/* DA /1 */
	fisubs	MEM+12
	fisubrl	MEM+16
	fidivs	MEM+12
	fidivrl	MEM+16
	fmuls	MEM+8
	fcoms	MEM+8
	fnstsw	OUT
	fldl	MEM
	fldl	MEM
	fsub	%st(2), %st	/* Intel FSUB ST0, ST2 */
	fsubr	%st(2), %st
	fdiv	%st(2), %st
	fdivr	%st(2), %st
	DUMP
	fninit
END

/* DC/DE register forms with ST(i) as destination: the reversed names */
CASE x87_arith_sti_dest
	fninit
	PUT64	0, 0x4014000000000000
	fldl	MEM
	fld1
	fldpi
	.byte	0xdc, 0xe2	/* FSUBR ST2, ST0: st2 = st0 - st2 */
	.byte	0xdc, 0xea	/* FSUB  ST2, ST0: st2 = st2 - st0 */
	.byte	0xdc, 0xf1	/* FDIVR ST1, ST0 */
	.byte	0xdc, 0xf9	/* FDIV  ST1, ST0 */
	.byte	0xdc, 0xc9	/* FMUL  ST1, ST0 */
	DUMP
	.byte	0xde, 0xe1	/* FSUBRP */
	.byte	0xde, 0xe9	/* FSUBP */
	fld1
	.byte	0xde, 0xf1	/* FDIVRP */
	fld1
	.byte	0xde, 0xf9	/* FDIVP */
	fld1
	.byte	0xde, 0xc1	/* FADDP */
	fld1
	.byte	0xde, 0xc9	/* FMULP */
	fstpt	OUT
	fnstsw	OUT+16
	fninit
END

CASE x87_precision_control
	fninit
	fld1
	fld1
	fadd	%st, %st(1)
	fld1
	fadd	%st(2), %st	/* 3 */
	movw	$0x007f, OUT+0x100	/* PC = single */
	fldcw	OUT+0x100
	fld1
	fdiv	%st(1), %st
	fstpt	OUT
	movw	$0x027f, OUT+0x100	/* PC = double */
	fldcw	OUT+0x100
	fld1
	fdiv	%st(1), %st
	fstpt	OUT+16
	fld	%st(0)
	fsqrt
	fstpt	OUT+32
	movw	$0x037f, OUT+0x100
	fldcw	OUT+0x100
	fld1
	fdiv	%st(1), %st
	fstpt	OUT+48
	fnstsw	OUT+64
	fninit
END

CASE x87_rounding_control
	fninit
	PUT64	0, 0x4004000000000000	/* 2.5 */
	PUT64	8, 0xc004000000000000	/* -2.5 */
	xor	%ebx, %ebx
1:	mov	%ebx, %eax
	shl	$10, %eax
	or	$0x37f, %eax
	mov	%ax, OUT+0x100
	fldcw	OUT+0x100
	fldl	MEM
	frndint
	fstpl	OUT(,%rbx,8)
	fldl	MEM+8
	fistpl	OUT+32(,%rbx,4)
	fld1
	fldl	MEM
	fmul	%st, %st
	fdivr	%st(1), %st
	fstps	OUT+48(,%rbx,4)
	fstp	%st(0)
	fldpi
	fstpt	OUT+64
	fldl2e
	fstpl	OUT+80(,%rbx,8)
	fldl2t
	fstpl	OUT+112(,%rbx,8)
	fldlg2
	fstpl	OUT+144(,%rbx,8)
	fldln2
	fstpl	OUT+176(,%rbx,8)
	inc	%ebx
	cmp	$4, %ebx
	jne	1b
	fnstsw	OUT+240
	fninit
END

CASE x87_special_values
	fninit
	PUT32	0, 0x7fa00000		/* SNaN m32 */
	PUT32	4, 0x00000001		/* denormal m32 */
	PUT64	8, 0x7ff8000000000001	/* QNaN m64 */
	PUT80	16, 0x8000000000000001, 0x0000 /* pseudo-denormal */
	flds	MEM			/* IE, QNaN */
	fnstsw	OUT
	fnclex
	flds	MEM+4			/* DE */
	fnstsw	OUT+2
	fnclex
	fldl	MEM+8
	fadd	%st(1), %st
	fnstsw	OUT+4
	fldz
	fldz
	fdivrp				/* 0/0: IE */
	fnstsw	OUT+6
	fnclex
	fld1
	fldz
	fdivrp				/* 1/0: ZE */
	fnstsw	OUT+8
	fnclex
	fld	%st(0)
	fsubp				/* inf - inf: IE */
	fnstsw	OUT+10
	fldt	MEM+16
	fld1
	fmul	%st(1), %st
	fnstsw	OUT+12
	DUMP
	fninit
END

CASE x87_overflow_underflow
	fninit
	PUT80	0, 0x8000000000000000, 0x7ffe	/* largest exponent */
	PUT80	16, 0x8000000000000000, 0x0001	/* smallest normal */
	fldt	MEM
	fld	%st(0)
	fmul	%st(1), %st		/* OE, PE: inf */
	fnstsw	OUT
	fstps	OUT+4
	fnclex
	fldt	MEM+16
	fld1
	fld1
	faddp
	fdivr	%st(1), %st		/* UE, PE: denormal */
	fnstsw	OUT+8
	fstpt	OUT+16
	fnclex
	fldt	MEM
	fstps	OUT+32			/* OE on store to m32 */
	fnstsw	OUT+36
	fldt	MEM+16
	fstpl	OUT+40			/* UE on store to m64 */
	fnstsw	OUT+48
	DUMP
	fninit
END

CASE x87_compares_fnstsw
	fninit
	PUT64	0, 0x3ff0000000000000	/* 1.0 */
	PUT64	8, 0x7ff8000000000000	/* QNaN */
	movl	$2, MEM+16
	fld1
	fldz
	fcom	%st(1)
	fnstsw	%ax
	mov	%ax, OUT
	fcoml	MEM
	fnstsw	OUT+2
	ficoml	MEM+16
	fnstsw	OUT+4
	fucom	%st(1)
	fnstsw	OUT+6
	fldl	MEM+8
	fucom	%st(1)			/* unordered, no IE */
	fnstsw	OUT+8
	fcom	%st(1)			/* unordered, IE */
	fnstsw	OUT+10
	fnclex
	fucomp	%st(2)
	fnstsw	OUT+12
	fcomp	%st(1)
	fnstsw	OUT+14
	fld1
	fld1
	fcompp
	fnstsw	OUT+16
	fldz
	fld1
	fucompp
	fnstsw	OUT+18
	ficomps	MEM+16
	fnstsw	OUT+20
	fldz
	ftst
	fnstsw	OUT+22
	fchs
	ftst
	fnstsw	OUT+24
	DUMP
	fninit
END

CASE x87_fcomi_flags
	fninit
	PUT64	0, 0x7ff8000000000000
	fld1
	fldz
	fcomi	%st(1), %st
	FLAGS
	fucomi	%st(1), %st
	FLAGS
	fxch
	fcomi	%st(1), %st
	FLAGS
	fld	%st(0)
	fucomip	%st(1), %st
	FLAGS
	fldl	MEM
	fucomi	%st(1), %st
	FLAGS
	fnstsw	OUT
	fcomip	%st(1), %st
	FLAGS
	fnstsw	OUT+2
	DUMP
	fninit
END

CASE x87_fcmov
	fninit
	fldz
	fld1
	fldpi
	fldl2e
	xor	%ebx, %ebx
1:	mov	%ebx, %eax
	and	$0x8c5, %eax
	push	%rax
	popfq
	fcmovb	%st(1), %st
	fcmove	%st(2), %st
	fcmovbe	%st(3), %st
	fcmovu	%st(1), %st
	fstl	OUT(,%rbx,8)
	fcmovnb	%st(2), %st
	fcmovne	%st(3), %st
	fcmovnbe %st(1), %st
	fcmovnu	%st(2), %st
	fstl	OUT+0x200(,%rbx,8)
	inc	%ebx
	cmp	$64, %ebx
	jne	1b
	fninit
END

CASE x87_misc_unary
	fninit
	PUT64	0, 0xc02a000000000000	/* -13 */
	PUT64	8, 0x4008000000000000	/* 3 */
	fldl	MEM+8
	fldl	MEM
	fprem
	fnstsw	OUT
	fstl	OUT+8
	fldl	MEM
	fprem1
	fnstsw	OUT+16
	fstl	OUT+24
	fabs
	fsqrt
	fnstsw	OUT+32
	fstl	OUT+40
	fxtract
	fnstsw	OUT+48
	fstpt	OUT+64
	fstpt	OUT+80
	fldl	MEM+8
	fldl	MEM
	fscale
	fnstsw	OUT+96
	fstpt	OUT+112
	fchs
	fabs
	fchs
	fstpt	OUT+128
	fldz
	fxtract				/* ZE: -inf, 0 */
	fnstsw	OUT+144
	DUMP
	fninit
END

CASE x87_fxam_classes
	fninit
	PUT80	0, 0xc000000000000000, 0x7fff	/* QNaN */
	PUT80	16, 0x8000000000000000, 0xffff	/* -inf */
	PUT80	32, 0x0000000000000001, 0x0000	/* denormal */
	PUT80	48, 0x4000000000000000, 0x3fff	/* unnormal: unsupported */
	fxam
	fnstsw	OUT
	fldt	MEM
	fxam
	fnstsw	OUT+2
	fldt	MEM+16
	fxam
	fnstsw	OUT+4
	fldt	MEM+32
	fxam
	fnstsw	OUT+6
	fldt	MEM+48
	fxam
	fnstsw	OUT+8
	fldz
	fchs
	fxam
	fnstsw	OUT+10
	fld1
	fxam
	fnstsw	OUT+12
	ffree	%st(0)
	fxam
	fnstsw	OUT+14
	DUMP
	fninit
END

CASE x87_stack_faults
	fninit
	fld1
	fld1
	fld1
	fld1
	fld1
	fld1
	fld1
	fldpi
	fnstsw	OUT
	fldz				/* overflow: IE SF C1 */
	fnstsw	OUT+2
	DUMP
	fninit
	fadd	%st(1), %st		/* underflow: IE SF */
	fnstsw	OUT+4
	fstpt	OUT+16
	fnstsw	OUT+32
	fxch	%st(3)
	fnstsw	OUT+34
	fninit
	fld1
	fstp	%st(0)
	fistl	OUT+40			/* empty: integer indefinite */
	fnstsw	OUT+44
	DUMP
	fninit
END

CASE x87_register_stack_ops
	fninit
	fld1
	fldpi
	fldl2e
	fldz
	fxch	%st(2)
	fst	%st(3)
	fstp	%st(1)
	ffree	%st(1)
	fincstp
	fincstp
	fdecstp
	fnstenv	OUT
	movl	$0, OUT+12
	movl	$0, OUT+16
	movl	$0, OUT+20
	fld	%st(1)
	.byte	0xdf, 0xc1		/* FFREEP ST1 */
	.byte	0xd9, 0xd0		/* FNOP */
	DUMP
	fninit
END

CASE x87_env_save_restore
	fninit
	fld1
	fldpi
	fldz
	fld1
	fchs
	movw	$0x0b72, OUT+0x300	/* RC up, PC single, IM DM ... masks */
	fldcw	OUT+0x300
	fnsave	OUT
	fnstsw	OUT+0x200
	fnstcw	OUT+0x202
	movl	$0, OUT+12
	movl	$0, OUT+16
	movl	$0, OUT+20
	frstor	OUT
	fldt	MEM
	fnstenv	OUT+0x120
	movl	$0, OUT+0x120+12
	movl	$0, OUT+0x120+16
	movl	$0, OUT+0x120+20
	fldenv	OUT+0x120
	DUMP
	data16 fnstenv	OUT+0x180
	movw	$0, OUT+0x180+6
	movw	$0, OUT+0x180+8
	movw	$0, OUT+0x180+10
	movw	$0, OUT+0x180+12
	fninit
END

CASE x87_integer_bcd_truncate
	fninit
	PUT64	0, 0xc0091eb851eb851f	/* -3.14 */
	PUT64	8, 0x41e0000000200000	/* 2^31 + 1: out of m32 range */
	movabs	$0x0000001234567890, %rax
	mov	%rax, MEM+16
	movw	$0x8000, MEM+24		/* BCD -1234567890 */
	fldl	MEM
	fisttps	OUT
	fldl	MEM
	fisttpl	OUT+4
	fldl	MEM
	fisttpll OUT+8
	fldl	MEM+8
	fistpl	OUT+16			/* IE: indefinite */
	fnstsw	OUT+20
	fnclex
	fldl	MEM+8
	fistps	OUT+22
	fbld	MEM+16
	fld	%st(0)
	fbstp	OUT+32
	fldl	MEM
	fbstp	OUT+48
	fnstsw	OUT+60
	DUMP
	fninit
END

CASE x87_transcendental
	fninit
	PUT64	0, 0x3fe0000000000000	/* 0.5 */
	fldl	MEM
	fsin
	fstpl	OUT
	fldl	MEM
	fcos
	fstpl	OUT+8
	fldl	MEM
	fptan
	fstpl	OUT+16
	fstpl	OUT+24
	fldl	MEM
	fsincos
	fstpl	OUT+32
	fstpl	OUT+40
	fld1
	fldl	MEM
	fpatan
	fstpl	OUT+48
	fld1
	fldl	MEM
	fyl2x
	fstpl	OUT+56
	fld1
	fldl	MEM
	fyl2xp1
	fstpl	OUT+64
	fldl	MEM
	f2xm1
	fstpl	OUT+72
	fnstsw	OUT+80
	PUT80	96, 0x8000000000000000, 0x4050	/* 2^81: out of range */
	fldt	MEM+96
	fsin
	fnstsw	OUT+82
	fptan
	fnstsw	OUT+84
	DUMP
	fninit
END

/* An unmasked exception does not write its destination; the next waiting
 * x87 instruction raises #MF (CR0.NE = 1, as Linux runs). */
CASE x87_unmasked_mf
	fninit
	movw	$0x037b, OUT+0x100	/* ZE unmasked */
	fldcw	OUT+0x100
	fld1
	fldz
	fdivr	%st(1), %st		/* 1/0: ZE, ST0 keeps 0 */
	fnstsw	%ax
	mov	%ax, OUT
	fstpt	OUT+16			/* #MF here */
END

/* FLD m32/m64 of a denormal with DE unmasked loads it anyway (normalized,
 * exact) and leaves DE pending; an SNaN with IE unmasked loads nothing.
 * FNSAVE does not wait: the images show both. */
CASE x87_unmasked_de_load
	fninit
	.rept	8
	fldz				/* every register defined: FNSAVE shows all */
	.endr
	fninit
	movw	$0x037d, OUT+0x100	/* DE unmasked */
	fldcw	OUT+0x100
	PUT32	0, 0x00000334
	PUT64	8, 0x8000000000000001
	flds	MEM
	fnsave	OUT
	movq	$0, OUT+12
	movq	$0, OUT+20
	fldcw	OUT+0x100
	fldl	MEM+8
	fnsave	OUT+0x80
	movq	$0, OUT+0x80+12
	movq	$0, OUT+0x80+20
	movw	$0x037e, OUT+0x100	/* IE unmasked */
	fldcw	OUT+0x100
	PUT32	16, 0x7f800001
	flds	MEM+16
	fnsave	OUT+0x100
	movq	$0, OUT+0x100+12
	movq	$0, OUT+0x100+20
	fninit
END

/* Unmasked overflow/underflow to a register: the exponent-biased result is
 * stored (FNSAVE does not wait, so the pending exception is not raised) */
CASE x87_unmasked_oe_ue_biased
	fninit
	PUT80	0, 0x8000000000000000, 0x7ffe	/* largest exponent */
	PUT80	16, 0x8000000000000000, 0x0001	/* smallest normal */
	movw	$0x0377, OUT+0x300	/* OE unmasked */
	fldcw	OUT+0x300
	fldt	MEM
	fld	%st(0)
	fmul	%st(1), %st
	fnsave	OUT
	movl	$0, OUT+12
	movl	$0, OUT+16
	movl	$0, OUT+20
	movw	$0x036f, OUT+0x300	/* UE unmasked */
	fldcw	OUT+0x300
	fldt	MEM+16
	fld	%st(0)
	fmul	%st(1), %st
	fnsave	OUT+0x100
	movl	$0, OUT+0x100+12
	movl	$0, OUT+0x100+16
	movl	$0, OUT+0x100+20
	movw	$0x036f, OUT+0x300
	fldcw	OUT+0x300
	fldt	MEM+16
	fstps	OUT+0x200		/* to memory: nothing written */
	fnsave	OUT+0x210
	movl	$0, OUT+0x210+12
	movl	$0, OUT+0x210+16
	movl	$0, OUT+0x210+20
	fninit
END

CASE x87_fwait_mf
	fninit
	movw	$0x037e, OUT+0x100	/* IE unmasked */
	fldcw	OUT+0x100
	fldz
	fldz
	fdiv	%st(1), %st
	fnstsw	%ax
	fnstenv	OUT
	movl	$0, OUT+12
	movl	$0, OUT+16
	movl	$0, OUT+20
	mov	$7, %ebx
	fwait				/* #MF */
	mov	$8, %ebx
END

CASE x87_fnclex_clears_pending
	fninit
	movw	$0x037e, OUT+0x100
	fldcw	OUT+0x100
	fldz
	fldz
	fdivp
	fnclex
	fwait
	fld1
	fnstsw	OUT
	fninit
END

CASE x87_fxsave_fxrstor
	fninit
	fldpi
	fld1
	fldz
	fxsave	OUT
	fxsave64 OUT+0x200
	movw	$0, OUT+6
	movq	$0, OUT+8
	movq	$0, OUT+16
	movw	$0, OUT+0x206
	movq	$0, OUT+0x208
	movq	$0, OUT+0x210
	fninit
	movw	$0x0c7f, OUT		/* FCW with RC = truncate */
	movb	$0x05, OUT+4		/* tags: only registers 0 and 2 valid */
	fxrstor	OUT
	fnstenv	OUT+0x400
	movl	$0, OUT+0x400+12
	movl	$0, OUT+0x400+16
	movl	$0, OUT+0x400+20
	fxrstor64 OUT+0x200
	DUMP
	fninit
	/* MXCSR and XMM in the images are the harness's */
	cld
	movq	$0, OUT+24
	movq	$0, OUT+0x200+24
	lea	OUT+160, %rdi
	mov	$44, %ecx
	xor	%eax, %eax
	rep stosq
	lea	OUT+0x200+160, %rdi
	mov	$44, %ecx
	rep stosq
END

CASE x87_fxrstor_reserved_mxcsr_gp
	fninit
	fxsave	OUT
	cld
	lea	OUT+160, %rdi		/* the harness's XMM registers */
	mov	$44, %ecx
	xor	%eax, %eax
	rep stosq
	/* a reserved MXCSR bit; MXCSR_MASK (OUT+28) cleared, as it is the
	 * host model's (AMD sets bit 17, MM) and FXRSTOR ignores it */
	movq	$0x10000, OUT+24
	mov	$1, %ebx
	fxrstor	OUT
	mov	$2, %ebx
END

CASE x87_fxsave_misaligned_gp
	mov	$1, %ebx
	fxsave	OUT+8
	mov	$2, %ebx
END

	CORPUS_END
