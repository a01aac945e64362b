/* SSE/SSE2/SSE3 operations of the 0F map and their table, indexed by
 * opcode and mandatory prefix (0: none, 1: 66, 2: F3, 3: F2); the
 * no-prefix integer forms are MMX ones (mm registers, MX_* in sse.h) that
 * reuse the XMM operations. Empty entries are nothing: the decoder makes
 * them #UD. Intel SDM vol. 2, appendix A.3, table A-3. */
#include "emu/sse-ops.h"

/* clang-format off */
OP2(op_unpcklps, "unpcklps") OP2(op_unpcklpd, "unpcklpd") OP2(op_unpckhps, "unpckhps")
OP2(op_unpckhpd, "unpckhpd") OP2(op_sqrtps, "sqrtps") OP2(op_sqrtpd, "sqrtpd")
OP2(op_sqrtss, "sqrtss") OP2(op_sqrtsd, "sqrtsd") OP2(op_rsqrtps, "rsqrtps")
OP2(op_rsqrtss, "rsqrtss") OP2(op_rcpps, "rcpps") OP2(op_rcpss, "rcpss")
OP2(op_andps, "andps") OP2(op_andpd, "andpd") OP2(op_andnps, "andnps")
OP2(op_andnpd, "andnpd") OP2(op_orps, "orps") OP2(op_orpd, "orpd")
OP2(op_xorps, "xorps") OP2(op_xorpd, "xorpd") OP2(op_addps, "addps")
OP2(op_addpd, "addpd") OP2(op_addss, "addss") OP2(op_addsd, "addsd")
OP2(op_mulps, "mulps") OP2(op_mulpd, "mulpd") OP2(op_mulss, "mulss")
OP2(op_mulsd, "mulsd") OP2(op_cvtps2pd, "cvtps2pd") OP2(op_cvtpd2ps, "cvtpd2ps")
OP2(op_cvtss2sd, "cvtss2sd") OP2(op_cvtsd2ss, "cvtsd2ss") OP2(op_cvtdq2ps, "cvtdq2ps")
OP2(op_cvtps2dq, "cvtps2dq") OP2(op_cvttps2dq, "cvttps2dq") OP2(op_subps, "subps")
OP2(op_subpd, "subpd") OP2(op_subss, "subss") OP2(op_subsd, "subsd")
OP2(op_minps, "minps") OP2(op_minpd, "minpd") OP2(op_minss, "minss")
OP2(op_minsd, "minsd") OP2(op_divps, "divps") OP2(op_divpd, "divpd")
OP2(op_divss, "divss") OP2(op_divsd, "divsd") OP2(op_maxps, "maxps")
OP2(op_maxpd, "maxpd") OP2(op_maxss, "maxss") OP2(op_maxsd, "maxsd")
OP2(op_punpcklbw, "punpcklbw") OP2(op_punpcklwd, "punpcklwd") OP2(op_punpckldq, "punpckldq")
OP2(op_packsswb, "packsswb") OP2(op_pcmpgtb, "pcmpgtb") OP2(op_pcmpgtw, "pcmpgtw")
OP2(op_pcmpgtd, "pcmpgtd") OP2(op_packuswb, "packuswb") OP2(op_punpckhbw, "punpckhbw")
OP2(op_punpckhwd, "punpckhwd") OP2(op_punpckhdq, "punpckhdq") OP2(op_packssdw, "packssdw")
OP2(op_punpcklqdq, "punpcklqdq") OP2(op_punpckhqdq, "punpckhqdq") OP2(op_pcmpeqb, "pcmpeqb")
OP2(op_pcmpeqw, "pcmpeqw") OP2(op_pcmpeqd, "pcmpeqd") OP2(op_haddpd, "haddpd")
OP2(op_haddps, "haddps") OP2(op_hsubpd, "hsubpd") OP2(op_hsubps, "hsubps")
OP2(op_addsubpd, "addsubpd") OP2(op_addsubps, "addsubps") OP2(op_movsldup, "movsldup")
OP2(op_movshdup, "movshdup") OP2(op_movddup, "movddup") OP2(op_psrlw, "psrlw")
OP2(op_psrld, "psrld") OP2(op_psrlq, "psrlq") OP2(op_paddq, "paddq")
OP2(op_pmullw, "pmullw") OP2(op_psubusb, "psubusb") OP2(op_psubusw, "psubusw")
OP2(op_pminub, "pminub") OP2(op_pand, "pand") OP2(op_paddusb, "paddusb")
OP2(op_paddusw, "paddusw") OP2(op_pmaxub, "pmaxub") OP2(op_pandn, "pandn")
OP2(op_pavgb, "pavgb") OP2(op_psraw, "psraw") OP2(op_psrad, "psrad")
OP2(op_pavgw, "pavgw") OP2(op_pmulhuw, "pmulhuw") OP2(op_pmulhw, "pmulhw")
OP2(op_cvttpd2dq, "cvttpd2dq") OP2(op_cvtdq2pd, "cvtdq2pd") OP2(op_cvtpd2dq, "cvtpd2dq")
OP2(op_psubsb, "psubsb") OP2(op_psubsw, "psubsw") OP2(op_pminsw, "pminsw")
OP2(op_por, "por") OP2(op_paddsb, "paddsb") OP2(op_paddsw, "paddsw")
OP2(op_pmaxsw, "pmaxsw") OP2(op_pxor, "pxor") OP2(op_psllw, "psllw")
OP2(op_pslld, "pslld") OP2(op_psllq, "psllq") OP2(op_pmuludq, "pmuludq")
OP2(op_pmaddwd, "pmaddwd") OP2(op_psadbw, "psadbw") OP2(op_psubb, "psubb")
OP2(op_psubw, "psubw") OP2(op_psubd, "psubd") OP2(op_psubq, "psubq")
OP2(op_paddb, "paddb") OP2(op_paddw, "paddw") OP2(op_paddd, "paddd")
	/* clang-format on */
	OP3(op_cmpps, "cmpps") OP3(op_cmppd, "cmppd") OP3(op_cmpss, "cmpss") OP3(op_cmpsd, "cmpsd")
		OP3(op_pshufd, "pshufd") OP3(op_pshufhw, "pshufhw") OP3(op_pshuflw, "pshuflw")
			OP3(op_shufps, "shufps") OP3(op_shufpd, "shufpd")

	/* ---- moves ----------------------------------------------------------------- */

	SSE_FN(op_mov)
{
	(void)imm;
	*d = *s;
}

SSE_FN(op_lo32)
{
	(void)imm;
	d->d[0] = s->d[0];
}

SSE_FN(op_lo64)
{
	(void)imm;
	d->q[0] = s->q[0];
}

SSE_FN(op_movq_zx)
{
	(void)imm;
	d->q[0] = s->q[0];
	d->q[1] = 0;
}

SSE_FN(op_movhlps)
{
	(void)imm;
	d->q[0] = s->q[1];
}

/* MOVLHPS and the MOVHPS/MOVHPD loads */
SSE_FN(op_hi_load)
{
	(void)imm;
	d->q[1] = s->q[0];
}

/* MOVHPS/MOVHPD stores: the high quadword goes to memory */
SSE_FN(op_hi_store)
{
	(void)imm;
	d->q[0] = s->q[1];
}

/* MOVD/MOVQ xmm, r/m32/64 */
SSE_FN(op_movd_in)
{
	d->q[0] = (imm & SSE_W) ? s->q[0] : s->d[0];
	d->q[1] = 0;
}

/* MOVD/MOVQ r/m32/64, xmm */
SSE_FN(op_movd_out)
{
	d->q[0] = (imm & SSE_W) ? s->q[0] : s->d[0];
}

SSE_FN(op_pinsrw)
{
	d->w[imm & 7] = (uint16_t)s->q[0];
}

SSE_FN(op_pextrw)
{
	d->q[0] = s->w[imm & 7];
}

SSE_FN(op_pmovmskb)
{
	uint32_t r;

	(void)imm;
	__asm__("pmovmskb %1, %0" : "=r"(r) : "x"(s->v));
	d->q[0] = r;
}

SSE_FN(op_movmskps)
{
	uint32_t r;

	(void)imm;
	__asm__("movmskps %1, %0" : "=r"(r) : "x"(s->v));
	d->q[0] = r;
}

SSE_FN(op_movmskpd)
{
	uint32_t r;

	(void)imm;
	__asm__("movmskpd %1, %0" : "=r"(r) : "x"(s->v));
	d->q[0] = r;
}

/* ---- conversions with general registers; compares to RFLAGS ---------------- */

SSE_FN(op_cvtsi2ss)
{
	if (imm & SSE_W)
		__asm__ volatile("cvtsi2ssq %1, %0" : "+x"(d->v) : "r"(s->q[0]));
	else
		__asm__ volatile("cvtsi2ssl %1, %0" : "+x"(d->v) : "r"(s->d[0]));
}

SSE_FN(op_cvtsi2sd)
{
	if (imm & SSE_W)
		__asm__ volatile("cvtsi2sdq %1, %0" : "+x"(d->v) : "r"(s->q[0]));
	else
		__asm__ volatile("cvtsi2sdl %1, %0" : "+x"(d->v) : "r"(s->d[0]));
}

#define CVT2SI(name, insn)                                                            \
	SSE_FN(name)                                                                  \
	{                                                                             \
		uint32_t r;                                                           \
		if (imm & SSE_W) {                                                    \
			__asm__ volatile(insn " %1, %0" : "=r"(d->q[0]) : "x"(s->v)); \
			return;                                                       \
		}                                                                     \
		__asm__ volatile(insn " %1, %0" : "=r"(r) : "x"(s->v));               \
		d->q[0] = r;                                                          \
	}
CVT2SI(op_cvttss2si, "cvttss2si")
CVT2SI(op_cvtss2si, "cvtss2si")
CVT2SI(op_cvttsd2si, "cvttsd2si")
CVT2SI(op_cvtsd2si, "cvtsd2si")

/* COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF; OF = SF = AF = 0. */
#define COMI(name, insn)                                              \
	SSE_FN(name)                                                  \
	{                                                             \
		bool c, z, p;                                         \
		(void)imm;                                            \
		__asm__ volatile(insn " %4, %3"                       \
				 : "=@ccc"(c), "=@ccz"(z), "=@ccp"(p) \
				 : "x"(d->v), "x"(s->v));             \
		d->q[1] = emu_sse_flags(c, p, z, false, false);       \
	}
COMI(op_comiss, "comiss")
COMI(op_ucomiss, "ucomiss")
COMI(op_comisd, "comisd")
COMI(op_ucomisd, "ucomisd")

/* ---- conversions between mm and xmm ------------------------------------------- */

/* CVTPI2PS: two singles into the low quadword, the high one kept. s holds
 * the two integers zero-extended: the zero lanes convert exactly. */
SSE_FN(op_cvtpi2ps)
{
	union emu_xmm t;

	(void)imm;
	__asm__ volatile("cvtdq2ps %1, %0" : "=x"(t.v) : "x"(s->v));
	d->q[0] = t.q[0];
}

/* CVT(T)PS2PI: the low two singles only (the high lanes must raise no
 * flags). */
#define PS2PI(name, insn)                                                 \
	SSE_FN(name)                                                      \
	{                                                                 \
		union emu_xmm t = { .q = { s->q[0], 0 } };                \
		(void)imm;                                                \
		__asm__ volatile(insn " %1, %0" : "=x"(d->v) : "x"(t.v)); \
	}
PS2PI(op_cvtps2pi, "cvtps2dq")
PS2PI(op_cvttps2pi, "cvttps2dq")

/* ---- shifts by an immediate (groups 12-14) ------------------------------------ */

SSE_FN(op_psrldq)
{
	union emu_xmm o = *d;
	unsigned n = imm & 0xff;

	(void)s;
	for (unsigned i = 0; i < 16; i++)
		d->b[i] = i + n < 16 ? o.b[i + n] : 0;
}

SSE_FN(op_pslldq)
{
	union emu_xmm o = *d;
	unsigned n = imm & 0xff;

	(void)s;
	for (unsigned i = 0; i < 16; i++)
		d->b[i] = i >= n ? o.b[i - n] : 0;
}

/* ---- the table ------------------------------------------------------------------ */

#define ENT(h, fn, fnm, ms, fl, ft, form)    \
	{                                    \
		fn, fnm, h, ms, fl, ft, form \
	}
#define RMX(fn, ms, fl, ft) ENT(emu_op_sse_rm, fn, NULL, ms, fl, ft, SSE_FORM_ANY)
#define PI(fn) RMX(fn, 16, SSE_A16, 0) /* packed integer, logic, shuffles */
#define PF(fn) RMX(fn, 16, SSE_A16 | SSE_FP, 0) /* packed floating point */
#define SF(fn, n) RMX(fn, n, SSE_FP, 0) /* scalar floating point */
/* arithmetic that can underflow: which lanes are rounded results */
#define PFU(fn, e, a)                                                                      \
	{                                                                                  \
		fn, NULL, emu_op_sse_rm, 16, SSE_A16 | SSE_FP, 0, 0, SSE_E_##e, SSE_AR_##a \
	}
#define SFU(fn, n, e, a)                                                        \
	{                                                                       \
		fn, NULL, emu_op_sse_rm, n, SSE_FP, 0, 0, SSE_E_##e, SSE_AR_##a \
	}
#define P3U(fn, e, a)                                                                        \
	{                                                                                    \
		fn, NULL, emu_op_sse_rm, 16, SSE_A16 | SSE_FP, EMU_SSE_F_SSE3, 0, SSE_E_##e, \
			SSE_AR_##a                                                           \
	}
#define ST(fn, ms, fl, form) ENT(emu_op_sse_st, fn, NULL, ms, fl, 0, form)
#define TOG(fn, ms, fl, form) ENT(emu_op_sse_to_gpr, fn, NULL, ms, fl, 0, form)
#define FROMG(fn, ms, fl) ENT(emu_op_sse_from_gpr, fn, NULL, ms, fl, 0, SSE_FORM_ANY)
#define MEMONLY SSE_FORM_MEM
#define REGONLY SSE_FORM_REG
#define ROW(o, a, b, c, e) [o] = { a, b, c, e }
#define NONE      \
	{         \
		0 \
	}
/* MMX forms (MX_* in sse.h): mm, mm/m64 with the XMM operation of the
 * same name; MXG/MXR: another handler (MXR: register form only, the
 * memory form of MASKMOVQ and PMOVMSKB excluded); MXM: MOVNTQ; MXS: the
 * conversions and moves between mm and xmm. */
#define MX(f, arr)                                                                     \
	{                                                                              \
		.fn = f, .h = emu_op_sse_rm, .msize = 8, .mmx = MX_REG | MX_RM | (arr) \
	}
#define MXG(h_, f, ms, mx)                               \
	{                                                \
		.fn = f, .h = h_, .msize = ms, .mmx = mx \
	}
#define MXR(h_, f, mx)                                                        \
	{                                                                     \
		.fn = f, .h = h_, .msize = 8, .form = SSE_FORM_REG, .mmx = mx \
	}
#define MXM(f)                                                                               \
	{                                                                                    \
		.fn = f, .h = emu_op_sse_st, .msize = 8, .form = SSE_FORM_MEM, .mmx = MX_REG \
	}
#define MXS(f, ms, fl, mx)                                                                  \
	{                                                                                   \
		.fn = f, .h = emu_op_sse_rm, .msize = ms, .flags = fl, .mmx = (mx) | MX_SSE \
	}

const struct emu_sse_op emu_sse_0f[256][4] = {
	ROW(0x10, RMX(op_mov, 16, 0, 0), RMX(op_mov, 16, 0, 0), RMX(op_lo32, 4, SSE_MZ, 0),
	    RMX(op_lo64, 8, SSE_MZ, 0)),
	ROW(0x11, ST(op_mov, 16, 0, 0), ST(op_mov, 16, 0, 0), ST(op_lo32, 4, 0, 0),
	    ST(op_lo64, 8, 0, 0)),
	ROW(0x12, ENT(emu_op_sse_rm, op_movhlps, op_lo64, 8, 0, 0, SSE_FORM_ANY),
	    ENT(emu_op_sse_rm, op_lo64, NULL, 8, 0, 0, MEMONLY),
	    RMX(op_movsldup, 16, SSE_A16, EMU_SSE_F_SSE3), RMX(op_movddup, 8, 0, EMU_SSE_F_SSE3)),
	ROW(0x13, ST(op_lo64, 8, 0, MEMONLY), ST(op_lo64, 8, 0, MEMONLY), NONE, NONE),
	ROW(0x14, PI(op_unpcklps), PI(op_unpcklpd), NONE, NONE),
	ROW(0x15, PI(op_unpckhps), PI(op_unpckhpd), NONE, NONE),
	ROW(0x16, RMX(op_hi_load, 8, 0, 0), ENT(emu_op_sse_rm, op_hi_load, NULL, 8, 0, 0, MEMONLY),
	    RMX(op_movshdup, 16, SSE_A16, EMU_SSE_F_SSE3), NONE),
	ROW(0x17, ST(op_hi_store, 8, 0, MEMONLY), ST(op_hi_store, 8, 0, MEMONLY), NONE, NONE),
	ROW(0x28, PI(op_mov), PI(op_mov), NONE, NONE),
	ROW(0x29, ST(op_mov, 16, SSE_A16, 0), ST(op_mov, 16, SSE_A16, 0), NONE, NONE),
	ROW(0x2a, MXS(op_cvtpi2ps, 8, SSE_FP, MX_RM), MXS(op_cvtdq2pd, 8, SSE_FP, MX_RM),
	    FROMG(op_cvtsi2ss, 0, SSE_FP), FROMG(op_cvtsi2sd, 0, SSE_FP)),
	ROW(0x2b, ST(op_mov, 16, SSE_A16, MEMONLY), ST(op_mov, 16, SSE_A16, MEMONLY), NONE, NONE),
	ROW(0x2c, MXS(op_cvttps2pi, 8, SSE_FP, MX_REG),
	    MXS(op_cvttpd2dq, 16, SSE_FP | SSE_A16, MX_REG), TOG(op_cvttss2si, 4, SSE_FP, 0),
	    TOG(op_cvttsd2si, 8, SSE_FP, 0)),
	ROW(0x2d, MXS(op_cvtps2pi, 8, SSE_FP, MX_REG),
	    MXS(op_cvtpd2dq, 16, SSE_FP | SSE_A16, MX_REG), TOG(op_cvtss2si, 4, SSE_FP, 0),
	    TOG(op_cvtsd2si, 8, SSE_FP, 0)),
	ROW(0x2e, RMX(op_ucomiss, 4, SSE_FP | SSE_FLAGS, 0),
	    RMX(op_ucomisd, 8, SSE_FP | SSE_FLAGS, 0), NONE, NONE),
	ROW(0x2f, RMX(op_comiss, 4, SSE_FP | SSE_FLAGS, 0),
	    RMX(op_comisd, 8, SSE_FP | SSE_FLAGS, 0), NONE, NONE),
	ROW(0x50, TOG(op_movmskps, 16, 0, REGONLY), TOG(op_movmskpd, 16, 0, REGONLY), NONE, NONE),
	ROW(0x51, PF(op_sqrtps), PF(op_sqrtpd), SF(op_sqrtss, 4), SF(op_sqrtsd, 8)),
	ROW(0x52, PF(op_rsqrtps), NONE, SF(op_rsqrtss, 4), NONE),
	ROW(0x53, PF(op_rcpps), NONE, SF(op_rcpss, 4), NONE),
	ROW(0x54, PI(op_andps), PI(op_andpd), NONE, NONE),
	ROW(0x55, PI(op_andnps), PI(op_andnpd), NONE, NONE),
	ROW(0x56, PI(op_orps), PI(op_orpd), NONE, NONE),
	ROW(0x57, PI(op_xorps), PI(op_xorpd), NONE, NONE),
	ROW(0x58, PFU(op_addps, PS, ADD), PFU(op_addpd, PD, ADD), SFU(op_addss, 4, SS, ADD),
	    SFU(op_addsd, 8, SD, ADD)),
	ROW(0x59, PFU(op_mulps, PS, MUL), PFU(op_mulpd, PD, MUL), SFU(op_mulss, 4, SS, MUL),
	    SFU(op_mulsd, 8, SD, MUL)),
	ROW(0x5a, SF(op_cvtps2pd, 8), PFU(op_cvtpd2ps, PS, CVT), SF(op_cvtss2sd, 4),
	    SFU(op_cvtsd2ss, 8, SS, CVT)),
	ROW(0x5b, PF(op_cvtdq2ps), PF(op_cvtps2dq), PF(op_cvttps2dq), NONE),
	ROW(0x5c, PFU(op_subps, PS, SUB), PFU(op_subpd, PD, SUB), SFU(op_subss, 4, SS, SUB),
	    SFU(op_subsd, 8, SD, SUB)),
	ROW(0x5d, PF(op_minps), PF(op_minpd), SF(op_minss, 4), SF(op_minsd, 8)),
	ROW(0x5e, PFU(op_divps, PS, DIV), PFU(op_divpd, PD, DIV), SFU(op_divss, 4, SS, DIV),
	    SFU(op_divsd, 8, SD, DIV)),
	ROW(0x5f, PF(op_maxps), PF(op_maxpd), SF(op_maxss, 4), SF(op_maxsd, 8)),
	ROW(0x60, MX(op_punpcklbw, MX_LO), PI(op_punpcklbw), NONE, NONE),
	ROW(0x61, MX(op_punpcklwd, MX_LO), PI(op_punpcklwd), NONE, NONE),
	ROW(0x62, MX(op_punpckldq, MX_LO), PI(op_punpckldq), NONE, NONE),
	ROW(0x63, MX(op_packsswb, MX_PAIR), PI(op_packsswb), NONE, NONE),
	ROW(0x64, MX(op_pcmpgtb, MX_LO), PI(op_pcmpgtb), NONE, NONE),
	ROW(0x65, MX(op_pcmpgtw, MX_LO), PI(op_pcmpgtw), NONE, NONE),
	ROW(0x66, MX(op_pcmpgtd, MX_LO), PI(op_pcmpgtd), NONE, NONE),
	ROW(0x67, MX(op_packuswb, MX_PAIR), PI(op_packuswb), NONE, NONE),
	ROW(0x68, MX(op_punpckhbw, MX_HI), PI(op_punpckhbw), NONE, NONE),
	ROW(0x69, MX(op_punpckhwd, MX_HI), PI(op_punpckhwd), NONE, NONE),
	ROW(0x6a, MX(op_punpckhdq, MX_HI), PI(op_punpckhdq), NONE, NONE),
	ROW(0x6b, MX(op_packssdw, MX_PAIR), PI(op_packssdw), NONE, NONE),
	ROW(0x6c, NONE, PI(op_punpcklqdq), NONE, NONE),
	ROW(0x6d, NONE, PI(op_punpckhqdq), NONE, NONE),
	ROW(0x6e, MXG(emu_op_sse_from_gpr, op_movd_in, 0, MX_REG), FROMG(op_movd_in, 0, 0), NONE,
	    NONE),
	ROW(0x6f, MX(op_mov, MX_LO), PI(op_mov), RMX(op_mov, 16, 0, 0), NONE),
	ROW(0x70, MX(op_pshuflw, MX_LO), PI(op_pshufd), PI(op_pshufhw), PI(op_pshuflw)),
	ROW(0x74, MX(op_pcmpeqb, MX_LO), PI(op_pcmpeqb), NONE, NONE),
	ROW(0x75, MX(op_pcmpeqw, MX_LO), PI(op_pcmpeqw), NONE, NONE),
	ROW(0x76, MX(op_pcmpeqd, MX_LO), PI(op_pcmpeqd), NONE, NONE),
	ROW(0x7c, NONE, P3U(op_haddpd, PD, HADD), NONE, P3U(op_haddps, PS, HADD)),
	ROW(0x7d, NONE, P3U(op_hsubpd, PD, HSUB), NONE, P3U(op_hsubps, PS, HSUB)),
	ROW(0x7e, MXG(emu_op_sse_to_rm, op_movd_out, 0, MX_REG),
	    ENT(emu_op_sse_to_rm, op_movd_out, NULL, 0, 0, 0, SSE_FORM_ANY),
	    RMX(op_movq_zx, 8, SSE_MZ, 0), NONE),
	ROW(0x7f, MXG(emu_op_sse_st, op_mov, 8, MX_REG | MX_RM), ST(op_mov, 16, SSE_A16, 0),
	    ST(op_mov, 16, 0, 0), NONE),
	ROW(0xc2, PF(op_cmpps), PF(op_cmppd), SF(op_cmpss, 4), SF(op_cmpsd, 8)),
	ROW(0xc4, MXG(emu_op_sse_from_gpr, op_pinsrw, 2, MX_REG), FROMG(op_pinsrw, 2, 0), NONE,
	    NONE),
	ROW(0xc5, MXR(emu_op_sse_to_gpr, op_pextrw, MX_RM), TOG(op_pextrw, 16, 0, REGONLY), NONE,
	    NONE),
	ROW(0xc6, PI(op_shufps), PI(op_shufpd), NONE, NONE),
	ROW(0xd0, NONE, P3U(op_addsubpd, PD, ADDSUB), NONE, P3U(op_addsubps, PS, ADDSUB)),
	ROW(0xd1, MX(op_psrlw, MX_LO), PI(op_psrlw), NONE, NONE),
	ROW(0xd2, MX(op_psrld, MX_LO), PI(op_psrld), NONE, NONE),
	ROW(0xd3, MX(op_psrlq, MX_LO), PI(op_psrlq), NONE, NONE),
	ROW(0xd4, MX(op_paddq, MX_LO), PI(op_paddq), NONE, NONE),
	ROW(0xd5, MX(op_pmullw, MX_LO), PI(op_pmullw), NONE, NONE),
	ROW(0xd6, NONE, ST(op_movq_zx, 8, 0, 0), MXR(emu_op_sse_rm, op_movq_zx, MX_RM | MX_SSE),
	    MXR(emu_op_sse_rm, op_lo64, MX_REG | MX_SSE)),
	ROW(0xd7, MXR(emu_op_sse_to_gpr, op_pmovmskb, MX_RM), TOG(op_pmovmskb, 16, 0, REGONLY),
	    NONE, NONE),
	ROW(0xd8, MX(op_psubusb, MX_LO), PI(op_psubusb), NONE, NONE),
	ROW(0xd9, MX(op_psubusw, MX_LO), PI(op_psubusw), NONE, NONE),
	ROW(0xda, MX(op_pminub, MX_LO), PI(op_pminub), NONE, NONE),
	ROW(0xdb, MX(op_pand, MX_LO), PI(op_pand), NONE, NONE),
	ROW(0xdc, MX(op_paddusb, MX_LO), PI(op_paddusb), NONE, NONE),
	ROW(0xdd, MX(op_paddusw, MX_LO), PI(op_paddusw), NONE, NONE),
	ROW(0xde, MX(op_pmaxub, MX_LO), PI(op_pmaxub), NONE, NONE),
	ROW(0xdf, MX(op_pandn, MX_LO), PI(op_pandn), NONE, NONE),
	ROW(0xe0, MX(op_pavgb, MX_LO), PI(op_pavgb), NONE, NONE),
	ROW(0xe1, MX(op_psraw, MX_LO), PI(op_psraw), NONE, NONE),
	ROW(0xe2, MX(op_psrad, MX_LO), PI(op_psrad), NONE, NONE),
	ROW(0xe3, MX(op_pavgw, MX_LO), PI(op_pavgw), NONE, NONE),
	ROW(0xe4, MX(op_pmulhuw, MX_LO), PI(op_pmulhuw), NONE, NONE),
	ROW(0xe5, MX(op_pmulhw, MX_LO), PI(op_pmulhw), NONE, NONE),
	ROW(0xe6, NONE, PF(op_cvttpd2dq), SF(op_cvtdq2pd, 8), PF(op_cvtpd2dq)),
	ROW(0xe7, MXM(op_mov), ST(op_mov, 16, SSE_A16, MEMONLY), NONE, NONE),
	ROW(0xe8, MX(op_psubsb, MX_LO), PI(op_psubsb), NONE, NONE),
	ROW(0xe9, MX(op_psubsw, MX_LO), PI(op_psubsw), NONE, NONE),
	ROW(0xea, MX(op_pminsw, MX_LO), PI(op_pminsw), NONE, NONE),
	ROW(0xeb, MX(op_por, MX_LO), PI(op_por), NONE, NONE),
	ROW(0xec, MX(op_paddsb, MX_LO), PI(op_paddsb), NONE, NONE),
	ROW(0xed, MX(op_paddsw, MX_LO), PI(op_paddsw), NONE, NONE),
	ROW(0xee, MX(op_pmaxsw, MX_LO), PI(op_pmaxsw), NONE, NONE),
	ROW(0xef, MX(op_pxor, MX_LO), PI(op_pxor), NONE, NONE),
	ROW(0xf0, NONE, NONE, NONE,
	    ENT(emu_op_sse_rm, op_mov, NULL, 16, 0, EMU_SSE_F_SSE3, MEMONLY)),
	ROW(0xf1, MX(op_psllw, MX_LO), PI(op_psllw), NONE, NONE),
	ROW(0xf2, MX(op_pslld, MX_LO), PI(op_pslld), NONE, NONE),
	ROW(0xf3, MX(op_psllq, MX_LO), PI(op_psllq), NONE, NONE),
	ROW(0xf4, MX(op_pmuludq, MX_LO), PI(op_pmuludq), NONE, NONE),
	ROW(0xf5, MX(op_pmaddwd, MX_LO), PI(op_pmaddwd), NONE, NONE),
	ROW(0xf6, MX(op_psadbw, MX_LO), PI(op_psadbw), NONE, NONE),
	ROW(0xf7, MXR(emu_op_sse_maskmov, NULL, MX_REG | MX_RM),
	    ENT(emu_op_sse_maskmov, NULL, NULL, 16, 0, 0, REGONLY), NONE, NONE),
	ROW(0xf8, MX(op_psubb, MX_LO), PI(op_psubb), NONE, NONE),
	ROW(0xf9, MX(op_psubw, MX_LO), PI(op_psubw), NONE, NONE),
	ROW(0xfa, MX(op_psubd, MX_LO), PI(op_psubd), NONE, NONE),
	ROW(0xfb, MX(op_psubq, MX_LO), PI(op_psubq), NONE, NONE),
	ROW(0xfc, MX(op_paddb, MX_LO), PI(op_paddb), NONE, NONE),
	ROW(0xfd, MX(op_paddw, MX_LO), PI(op_paddw), NONE, NONE),
	ROW(0xfe, MX(op_paddd, MX_LO), PI(op_paddd), NONE, NONE),
};

#define SH(fn) ENT(emu_op_sse_shimm, fn, NULL, 16, 0, 0, REGONLY)

/* 66 0F 71/72/73 by ModRM.reg; the shift by an xmm count with the
 * immediate as the count, except PSRLDQ/PSLLDQ. */
#define MSH(f)                                                                                 \
	{                                                                                      \
		.fn = f, .h = emu_op_sse_shimm, .msize = 8, .form = SSE_FORM_REG, .mmx = MX_RM \
	}

/* 0F 71/72/73 (no prefix) on mm: no PSRLDQ/PSLLDQ. */
const struct emu_sse_op emu_mmx_0f_shift[3][8] = {
	{ [2] = MSH(op_psrlw), [4] = MSH(op_psraw), [6] = MSH(op_psllw) },
	{ [2] = MSH(op_psrld), [4] = MSH(op_psrad), [6] = MSH(op_pslld) },
	{ [2] = MSH(op_psrlq), [6] = MSH(op_psllq) },
};

const struct emu_sse_op emu_sse_0f_shift[3][8] = {
	{ [2] = SH(op_psrlw), [4] = SH(op_psraw), [6] = SH(op_psllw) },
	{ [2] = SH(op_psrld), [4] = SH(op_psrad), [6] = SH(op_pslld) },
	{ [2] = SH(op_psrlq), [3] = SH(op_psrldq), [6] = SH(op_psllq), [7] = SH(op_pslldq) },
};
