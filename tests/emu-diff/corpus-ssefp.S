/* Corpus: SSE floating point against the host bit for bit: results, NaN
 * propagation (QNaN/SNaN in either operand, the first one wins), MXCSR
 * rounding modes, DAZ and FTZ, the six exception flags, masked and
 * unmasked exceptions (#XM before the destination is written; only the
 * pre-computation flags when one of those is unmasked), exact tiny
 * results with underflow unmasked, integer-indefinite conversions,
 * LDMXCSR/STMXCSR (#GP on reserved bits), ROUND* and its precision
 * suppression, DPPS, compares (every predicate, COMIS vs UCOMIS). The start
 * state's XMM registers are random corner values too (state.c). */
#include "corpus.h"

#define MEM   DIFF_DATA_VA
#define SCR   (DIFF_DATA_VA+0x1800)	/* scratch: the upper page */
#define QNAN_S 0x7fc00001
#define SNAN_S 0x7fa00002
#define DEN_S  0x00000003
#define QNAN_D 0x7ff8000000000011
#define SNAN_D 0x7ff4000000000022

	/* MXCSR = v (through memory) */
	.macro	MXCSR v
	movl	$\v, SCR
	ldmxcsr	SCR
	.endm

	/* xmm = { lo, hi } as two quadwords */
	.macro	LDX xmm, lo, hi=0
	mov	$\lo, %rax
	mov	%rax, SCR+0x10
	mov	$\hi, %rax
	mov	%rax, SCR+0x18
	movdqu	SCR+0x10, \xmm
	.endm

	/* xmm = four singles */
	.macro	LDPS xmm, a, b, c, d
	movl	$\a, SCR+0x20
	movl	$\b, SCR+0x24
	movl	$\c, SCR+0x28
	movl	$\d, SCR+0x2c
	movdqu	SCR+0x20, \xmm
	.endm

	/* The same scalar operations under the four rounding modes. */
	.macro	RC4 name, insn:vararg
CASE \name
	.irp	rc, 0x1f80, 0x3f80, 0x5f80, 0x7f80
	MXCSR	\rc
	LDX	%xmm1, 0x3ff0000000000000	/* 1.0 */
	LDX	%xmm2, 0x4008000000000000	/* 3.0 */
	movdqa	%xmm1, %xmm3
	\insn
	stmxcsr	SCR+0x40+(\rc>>9)
	movdqu	%xmm3, SCR+0x80+(\rc>>7)
	.endr
END
	.endm

	CORPUS_BEGIN ssefp

	.macro	body_divss
	cvtsd2ss %xmm1, %xmm3
	cvtsd2ss %xmm2, %xmm4
	divss	%xmm4, %xmm3
	.endm
	.macro	body_cvtsd2si
	divsd	%xmm2, %xmm3
	addsd	%xmm1, %xmm3
	cvtsd2si %xmm3, %eax
	cvttsd2si %xmm3, %rbx
	mov	%eax, SCR+0x1c0
	mov	%rbx, SCR+0x1c8
	.endm
	.macro	body_sqrt
	sqrtpd	%xmm2, %xmm3
	sqrtsd	%xmm2, %xmm5
	.endm
	.macro	body_cvtpd2ps
	divsd	%xmm2, %xmm1
	cvtpd2ps %xmm1, %xmm3
	cvtpd2dq %xmm1, %xmm6
	cvttpd2dq %xmm1, %xmm7
	.endm

RC4 divsd_rc, divsd %xmm2, %xmm3
RC4 divss_rc, body_divss
RC4 cvtsd2si_rc, body_cvtsd2si
RC4 sqrtpd_rc, body_sqrt
RC4 cvtpd2ps_rc, body_cvtpd2ps

CASE nan_propagation_ps
	MXCSR	0x1f80
	LDPS	%xmm1, QNAN_S, SNAN_S, 0x3f800000, SNAN_S
	LDPS	%xmm2, 0xffc00007, 0x40000000, SNAN_S|0x80000000, 0xffc00009
	movaps	%xmm1, %xmm3
	addps	%xmm2, %xmm3
	movaps	%xmm2, %xmm4
	mulps	%xmm1, %xmm4
	movaps	%xmm1, %xmm5
	minps	%xmm2, %xmm5
	movaps	%xmm2, %xmm6
	maxps	%xmm1, %xmm6
	stmxcsr	SCR+0x40
END

CASE nan_propagation_pd
	MXCSR	0x1f80
	LDX	%xmm1, QNAN_D, SNAN_D
	LDX	%xmm2, SNAN_D|0x8000000000000000, 0x4000000000000000
	movapd	%xmm1, %xmm3
	subpd	%xmm2, %xmm3
	movapd	%xmm2, %xmm4
	divpd	%xmm1, %xmm4
	movapd	%xmm2, %xmm5
	sqrtpd	%xmm1, %xmm5
	cvtpd2ps %xmm1, %xmm6
	cvtps2pd %xmm1, %xmm7
	stmxcsr	SCR+0x40
END

CASE invalid_and_divzero_flags
	MXCSR	0x1f80
	LDPS	%xmm1, 0, 0x7f800000, 0xff800000, 0x3f800000
	LDPS	%xmm2, 0, 0x7f800000, 0xff800000, 0
	movaps	%xmm1, %xmm3
	divps	%xmm2, %xmm3		/* 0/0, inf/inf, -inf/-inf, 1/0 */
	movaps	%xmm1, %xmm4
	subps	%xmm2, %xmm4		/* inf-inf */
	LDPS	%xmm5, 0xbf800000, 0, 0x80000000, 0x7f800000
	sqrtps	%xmm5, %xmm6		/* sqrt(-1), sqrt(-0) */
	stmxcsr	SCR+0x40
END

CASE overflow_underflow_masked
	.irp	m, 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9f80, 0x9fc0
	MXCSR	\m
	LDX	%xmm1, 0x7fe0000000000000, 0x0010000000000000	/* 2^1023, 2^-1022 */
	LDX	%xmm2, 0x4010000000000000, 0x3fd0000000000000	/* 4, 1/4 */
	movapd	%xmm1, %xmm3
	mulpd	%xmm2, %xmm3
	LDPS	%xmm4, 0x7f000000, 0x00800000, 0x00400000, 0x0d000000
	LDPS	%xmm5, 0x40800000, 0x3e800000, 0x3f800000, 0x0d000000
	mulps	%xmm5, %xmm4
	stmxcsr	SCR+0x40+(\m>>8)
	movdqu	%xmm3, SCR+0x80+(\m>>7)
	movdqu	%xmm4, SCR+0xc0+(\m>>7)
	.endr
END

CASE denormal_daz
	.irp	m, 0x1f80, 0x1fc0, 0x9f80, 0x9fc0
	MXCSR	\m
	LDPS	%xmm1, DEN_S, 0x80000001, 0x3f800000, DEN_S
	LDPS	%xmm2, 0x3f800000, DEN_S, DEN_S, 0x00400000
	movaps	%xmm1, %xmm3
	addps	%xmm2, %xmm3
	movaps	%xmm1, %xmm4
	mulps	%xmm2, %xmm4
	movaps	%xmm1, %xmm6
	cmpltps	%xmm2, %xmm6
	comiss	%xmm2, %xmm1
	FLAGS
	cvtps2pd %xmm1, %xmm7
	stmxcsr	SCR+0x40+(\m>>8)
	movdqu	%xmm3, SCR+0x80+(\m>>7)
	.endr
END

/* 2^-100 * 2^-30 = 2^-130: a denormal, exact. Masked: no flag. Unmasked
 * UE: #XM with UE alone, the destination unchanged. */
CASE exact_tiny_masked
	MXCSR	0x1f80
	LDPS	%xmm1, 0x0d800000, 0, 0, 0
	LDPS	%xmm2, 0x30800000, 0, 0, 0
	mulss	%xmm2, %xmm1
	stmxcsr	SCR+0x40
END

CASE exact_tiny_unmasked_xm
	MXCSR	0x1780
	LDPS	%xmm1, 0x0d800000, 0, 0, 0
	LDPS	%xmm2, 0x30800000, 0, 0, 0
	mulss	%xmm2, %xmm1
END

CASE exact_tiny_unmasked_ftz_xm
	MXCSR	0x9780
	LDX	%xmm1, 0x0400000000000000
	LDX	%xmm2, 0x3c00000000000000
	mulpd	%xmm2, %xmm1
END

CASE inexact_unmasked_xm
	MXCSR	0x0f80
	mov	$0x12345, %ebx
	LDX	%xmm1, 0x3ff0000000000000
	LDX	%xmm2, 0x4008000000000000
	divsd	%xmm2, %xmm1
END

CASE overflow_unmasked_xm
	MXCSR	0x1b80	/* OM unmasked */
	LDPS	%xmm1, 0x7f000000, 0x3f800000, 0, 0
	addps	%xmm1, %xmm1
END

CASE overflow_unmasked_packed_inexact_xm
	/* lane 0 overflows (unmasked), lane 1 is inexact (masked) */
	MXCSR	0x1b80
	LDPS	%xmm1, 0x7f000000, 0x3f800000, 0, 0
	LDPS	%xmm2, 0x7f000000, 0x30800000, 0, 0
	addps	%xmm2, %xmm1
END

CASE underflow_unmasked_inexact_xm
	MXCSR	0x1780
	LDPS	%xmm1, 0x0d800001, 0, 0, 0
	LDPS	%xmm2, 0x30a00001, 0, 0, 0
	mulss	%xmm2, %xmm1
END

CASE underflow_unmasked_packed_xm
	/* lane 0 exact tiny, lane 1 inexact */
	MXCSR	0x1780
	LDPS	%xmm1, 0x0d800000, 0x3f800000, 0, 0
	LDPS	%xmm2, 0x30800000, 0x3eaaaaab, 0, 0
	mulps	%xmm2, %xmm1
END

CASE overflow_and_invalid_masked_ie_unmasked_oe
	/* lane 0 invalid (masked), lane 1 overflows (unmasked) */
	MXCSR	0x1b80
	LDPS	%xmm1, SNAN_S, 0x7f000000, 0, 0
	LDPS	%xmm2, 0x3f800000, 0x7f000000, 0, 0
	addps	%xmm2, %xmm1
END

CASE hadd_overflow_unmasked_xm
	/* lane 0 (d0+d1) overflows, exact with an unbounded exponent; lane 2
	 * (s0+s1) is inexact: PE from it alone */
	MXCSR	0x1b80
	LDPS	%xmm1, 0x7f000000, 0x7f000000, 0x3f800000, 0x40000000
	LDPS	%xmm2, 0x3f800000, 0x33800001, 0, 0
	haddps	%xmm2, %xmm1
END

CASE hsub_underflow_unmasked_xm
	MXCSR	0x1780
	LDX	%xmm1, 0x0010000000000001, 0x0010000000000000
	LDX	%xmm2, 0x3ff0000000000000, 0x3ff0000000000000
	hsubpd	%xmm2, %xmm1
END

/* DPPS/DPPD trap at the first multiply or add with an unmasked exception:
 * a tiny product (UE unmasked) traps before the add sees it as a denormal;
 * inf * 0 in one lane with an overflow in another */
CASE dpps_product_underflow_unmasked_xm
	MXCSR	0x9780			/* UM clear, FTZ on */
	LDPS	%xmm1, 0x0d800001, 0x3f800000, 0, 0
	LDPS	%xmm2, 0x30a00001, 0x3f800000, 0, 0
	dpps	$0x31, %xmm2, %xmm1
END

CASE dppd_sum_overflow_unmasked_xm
	MXCSR	0x1b80			/* OM clear */
	LDX	%xmm1, 0x7fe0000000000000, 0x7fe0000000000000
	LDX	%xmm2, 0x3ff8000000000000, 0x3ff0000000000001
	dppd	$0x33, %xmm2, %xmm1
END

	/* lane 0 inf * 0 (invalid), lanes 1-2 products that overflow when
	 * added, lane 3 denormals (tiny product) */
	.macro	DPPS_MIXED name, m
CASE \name
	MXCSR	\m
	LDPS	%xmm1, 0x7f800000, 0x7f000000, 0x7f000000, 0x00800001
	LDPS	%xmm2, 0, 0x40000000, 0x3f800000, 0x00800001
	movaps	%xmm1, %xmm3
	dpps	$0x6f, %xmm2, %xmm3
	movaps	%xmm1, %xmm4
	dpps	$0xf3, %xmm2, %xmm4
	stmxcsr	SCR+0x40
END
	.endm

DPPS_MIXED dpps_mixed_masked, 0x1f80
DPPS_MIXED dpps_mixed_ie_unmasked_xm, 0x1f00
DPPS_MIXED dpps_mixed_oe_unmasked_xm, 0x1b80
DPPS_MIXED dpps_mixed_ue_unmasked_xm, 0x1780
DPPS_MIXED dpps_mixed_pe_unmasked_xm, 0x0f80
DPPS_MIXED dpps_mixed_de_unmasked_xm, 0x1e80

CASE cvtpd2ps_overflow_masked_underflow_unmasked_xm
	MXCSR	0x3780			/* UM clear, RC down */
	LDX	%xmm1, 0x47f0000000000001, 0x3800000000000001
	cvtpd2ps %xmm1, %xmm2
END

CASE invalid_unmasked_with_inexact_xm
	/* lane 0 invalid (unmasked), lane 1 inexact: only IE is flagged */
	MXCSR	0x1f00
	LDPS	%xmm1, SNAN_S, 0x3f800000, 0, 0
	LDPS	%xmm2, 0x3f800000, 0x40400000, 0, 0
	divps	%xmm2, %xmm1
END

CASE divzero_unmasked_xm
	MXCSR	0x1d80
	LDX	%xmm1, 0x3ff0000000000000
	pxor	%xmm2, %xmm2
	divsd	%xmm2, %xmm1
END

CASE denormal_unmasked_xm
	MXCSR	0x1e80
	LDPS	%xmm1, DEN_S, 0, 0, 0
	addss	%xmm1, %xmm1
END

CASE cvt_integer_indefinite
	MXCSR	0x1f80
	LDPS	%xmm1, QNAN_S, 0x4f000000, 0xcf000001, 0x5f800000
	cvtss2si %xmm1, %eax
	cvttss2si %xmm1, %rbx
	shufps	$0x39, %xmm1, %xmm1
	cvttss2si %xmm1, %ecx
	cvtss2si %xmm1, %rdx
	cvttps2dq %xmm1, %xmm3
	cvtps2dq %xmm1, %xmm4
	LDX	%xmm5, 0x43e0000000000000, 0xc3e0000000000001
	cvttsd2si %xmm5, %rsi
	cvtsd2si %xmm5, %edi
	stmxcsr	SCR+0x40
END

CASE cvt_int_to_fp
	.irp	rc, 0x1f80, 0x3f80, 0x5f80, 0x7f80
	MXCSR	\rc
	mov	$0x7fffffffffffffff, %rax
	cvtsi2ss %rax, %xmm1
	cvtsi2sd %rax, %xmm2
	mov	$0x1000001, %ecx
	cvtsi2ss %ecx, %xmm3
	cvtsi2sdl SCR+0x100, %xmm4
	cvtsi2ssq SCR+0x108, %xmm5
	cvtdq2ps %xmm3, %xmm6
	cvtdq2pd %xmm3, %xmm7
	movdqu	%xmm1, SCR+0x80+(\rc>>7)
	stmxcsr	SCR+0x40+(\rc>>9)
	.endr
END

CASE cmp_predicates
	MXCSR	0x1f80
	LDPS	%xmm1, QNAN_S, 0x3f800000, 0x40000000, SNAN_S
	LDPS	%xmm2, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000
	.irp	p, 0, 1, 2, 3, 4, 5, 6, 7
	movaps	%xmm1, %xmm3
	cmpps	$\p, %xmm2, %xmm3
	movdqu	%xmm3, SCR+0x80+\p*16
	movaps	%xmm2, %xmm4
	cmpsd	$\p, %xmm1, %xmm4
	movdqu	%xmm4, SCR+0x100+\p*16
	.endr
	stmxcsr	SCR+0x40
END

CASE comis_vs_ucomis
	MXCSR	0x1f80
	LDPS	%xmm1, QNAN_S, 0, 0, 0
	LDPS	%xmm2, 0x3f800000, 0, 0, 0
	ucomiss	%xmm2, %xmm1
	FLAGS
	stmxcsr	SCR+0x40
	comiss	%xmm2, %xmm1
	FLAGS
	stmxcsr	SCR+0x44
	comisd	%xmm2, %xmm2
	FLAGS
	ucomisd	SCR+0x20, %xmm1
	FLAGS
END

CASE comiss_qnan_unmasked_xm
	MXCSR	0x1f00
	LDPS	%xmm1, QNAN_S, 0, 0, 0
	comiss	%xmm1, %xmm1
END

CASE roundps_modes
	.irp	m, 0x1f80, 0x7f80
	MXCSR	\m
	LDPS	%xmm1, 0x3fc00000, 0xbfc00000, 0x40200000, 0x4b000001
	.irp	i, 0, 1, 2, 3, 4, 8, 9, 12
	roundps	$\i, %xmm1, %xmm2
	movdqu	%xmm2, SCR+0x80+\i*16
	roundsd	$\i, %xmm1, %xmm3
	.endr
	stmxcsr	SCR+0x40+(\m>>9)
	.endr
END

CASE dpps_hadd_addsub
	MXCSR	0x1f80
	LDPS	%xmm1, 0x3f800000, 0x40000000, 0x40400000, 0x33800000
	LDPS	%xmm2, 0x3f800000, 0xc0000000, 0x3f000000, 0x7f000000
	movaps	%xmm1, %xmm3
	dpps	$0xff, %xmm2, %xmm3
	movaps	%xmm1, %xmm4
	dpps	$0x35, %xmm2, %xmm4
	movaps	%xmm1, %xmm5
	haddps	%xmm2, %xmm5
	movaps	%xmm1, %xmm6
	hsubps	%xmm2, %xmm6
	movaps	%xmm1, %xmm7
	addsubps %xmm2, %xmm7
	movapd	%xmm1, %xmm8
	dppd	$0x31, %xmm2, %xmm8
	haddpd	%xmm2, %xmm1
	stmxcsr	SCR+0x40
END

CASE rcp_rsqrt_host
	MXCSR	0x1f80
	LDPS	%xmm1, 0x40400000, 0x3f800000, DEN_S, 0x7f7fffff
	rcpps	%xmm1, %xmm2
	rsqrtps	%xmm1, %xmm3
	rcpss	%xmm1, %xmm4
	rsqrtss	%xmm1, %xmm5
END

CASE ldmxcsr_stmxcsr
	MXCSR	0xffff		/* every writable bit, DAZ included */
	stmxcsr	SCR+0x40
	MXCSR	0x1f80
	stmxcsr	SCR+0x44
END

CASE ldmxcsr_reserved_gp
	MXCSR	0x3f80
	movl	$0x11f80, SCR
	ldmxcsr	SCR
END

CASE logic_ps_pd
	andps	%xmm1, %xmm2
	andnps	%xmm3, %xmm4
	orpd	%xmm5, %xmm6
	xorpd	%xmm7, %xmm8
	xorps	%xmm9, %xmm9
	andpd	MEM+0x1100, %xmm10
	andnpd	MEM+0x1110, %xmm11
END

CASE random_state_arith
	/* whatever the start state holds: its MXCSR may unmask anything */
	addps	%xmm1, %xmm2
	subsd	%xmm3, %xmm4
	mulpd	%xmm5, %xmm6
	divss	%xmm7, %xmm8
	maxpd	%xmm9, %xmm10
	minss	%xmm11, %xmm12
	sqrtss	%xmm13, %xmm14
	cvtss2sd %xmm15, %xmm0
END

CASE random_state_arith2, seed=77
	addps	%xmm1, %xmm2
	subsd	%xmm3, %xmm4
	mulpd	%xmm5, %xmm6
	divss	%xmm7, %xmm8
	maxpd	%xmm9, %xmm10
	minss	%xmm11, %xmm12
	sqrtss	%xmm13, %xmm14
	cvtsd2ss %xmm15, %xmm0
END

	CORPUS_END
