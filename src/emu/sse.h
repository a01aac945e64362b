/* Core-private interface of the SSE unit: the decoder's SSE table entries
 * (sse-decode.c), the generic handlers that read operands, check
 * availability and alignment and write results (exec-sse.c, exec-sse-gpr.c),
 * and the operations themselves (sse-host*.c).
 *
 * Every operation runs on the host's own SIMD unit (inline assembly, the
 * very instruction the guest executes, on copies of the guest operands), so
 * results, NaN propagation, RCP/RSQRT approximations and exception flags
 * are the hardware's bit for bit. Floating-point operations run with the
 * guest's MXCSR rounding control, DAZ and FTZ loaded into the host MXCSR
 * (all exceptions masked) and the flags they raise are folded into the
 * guest's MXCSR afterwards (exec-sse.c sse_fp_done()). */
#ifndef VS_EMU_SSE_H
#define VS_EMU_SSE_H

#include "emu/core.h"
#include "emu/simd.h"
#include "emu/x87.h"

/* imm argument of an operation: the immediate byte, plus REX.W here. */
#define SSE_W 0x100u

/* d = op(d, s); GPR operands travel in s->q[0] / d->q[0]. Operations that
 * set RFLAGS leave the new arithmetic flags in d->q[1] (SSE_FLAGS). */
typedef void (*emu_sse_fn)(union emu_xmm *d, const union emu_xmm *s, unsigned imm);

/* emu_sse_op.flags */
#define SSE_A16 (1u << 0) /* a 16-byte memory operand must be aligned: #GP(0) */
#define SSE_FP (1u << 1) /* runs under the guest's MXCSR, may raise #XM */
#define SSE_MZ (1u << 2) /* memory form: the destination starts zeroed */
#define SSE_FLAGS (1u << 3) /* writes RFLAGS, not the XMM destination */
#define SSE_GPR (1u << 4) /* not an SSE-register instruction: no CR0/CR4 checks */

struct emu_sse_op {
	emu_sse_fn fn; /* register form */
	emu_sse_fn fnm; /* memory form; NULL: same as fn */
	emu_handler h; /* the handler kind (exec-sse*.c) */
	uint8_t msize; /* memory operand bytes; 0: 8 with REX.W, else 4 */
	uint8_t flags; /* SSE_* */
	uint8_t feat; /* EMU_SSE_F_* the host needs */
	uint8_t form; /* SSE_FORM_*: which ModRM forms exist */
	uint8_t fpe; /* SSE_E_*: the lanes that are rounded FP results */
	uint8_t arith; /* SSE_AR_*: the lane operation, for sse-fpexc.c */
	uint8_t mmx; /* MX_*: MMX-register operands (0: an XMM-only form) */
};
/* Result lanes an underflow can show in (exec-sse.c: exact tiny results). */
#define SSE_E_NONE 0
#define SSE_E_PS 1 /* four singles */
#define SSE_E_SS 2 /* the low single */
#define SSE_E_PD 3 /* two doubles */
#define SSE_E_SD 4 /* the low double */
/* The lane operation, for sse-fpexc.c: lane-wise (lane i of the result from
 * lane i of d and s) unless said otherwise. */
#define SSE_AR_NONE 0
#define SSE_AR_ADD 1
#define SSE_AR_SUB 2
#define SSE_AR_MUL 3
#define SSE_AR_DIV 4
#define SSE_AR_ADDSUB 5 /* even lanes subtract, odd lanes add */
#define SSE_AR_CVT 6 /* double lanes of s narrowed to singles */
#define SSE_AR_HADD 7 /* horizontal: adjacent lanes of d, then of s */
#define SSE_AR_HSUB 8
#define SSE_AR_DP 9 /* DPPS/DPPD: sse-dp.c when an exception is unmasked */

/* emu_sse_op.mmx: which operands are MMX registers (mm0-7 alias the x87
 * registers' significands, x87.h), and how an MMX form runs the XMM
 * operation of the same name on 64-bit operands. Any MMX-register operand
 * makes the instruction an MMX one: #MF for a pending x87 exception, no
 * CR4.OSFXSR requirement (but MX_SSE), and the x87-to-MMX transition
 * when it completes (SDM vol. 1 §9.5, §9.6.1). */
#define MX_REG 0x01u /* ModRM.reg names an mm register */
#define MX_RM 0x02u /* ModRM.rm, register form, names an mm register */
#define MX_SSE 0x04u /* mixed with XMM (CVT*PI*, MOVQ2DQ...): the SSE rules too */
#define MX_X87 0x08u /* EMMS: the MMX checks without operands */
/* Placement of the 64-bit operands d, s in the XMM ones (exec-sse.c): */
#define MX_ARR 0x70u
#define MX_LO 0x00u /* lane-wise: low quadwords, the result's low one */
#define MX_PAIR 0x10u /* PACK*, PHADD*, PHSUB*: op(d:s, d:s) */
#define MX_HI 0x20u /* PUNPCKH*: high quadwords, the result's high one */
#define MX_DUP 0x30u /* PSHUFB: d in both halves (the index's bit 3 ignored) */
#define MX_CAT 0x40u /* PALIGNR: op(0, d:s) */

#define SSE_FORM_ANY 0
#define SSE_FORM_REG 1 /* mod == 3 only, memory: #UD */
#define SSE_FORM_MEM 2 /* memory only */

/* The op a decoded SSE instruction carries in in->imm2. */
static inline const struct emu_sse_op *emu_sse_op(const struct emu_insn *in)
{
	return (const struct emu_sse_op *)(uintptr_t)in->imm2;
}

/* sse-decode.c: the entry for in (map, opcode, mandatory prefix; in->reg
 * for the shift groups), or NULL when the encoding is not an SSE one. */
const struct emu_sse_op *emu_sse_lookup(const struct emu_insn *in);

/* Handler kinds (exec-sse.c, exec-sse-gpr.c). */
EMU_HANDLER(emu_op_sse_rm); /* xmm(reg) = fn(xmm(reg), xmm/m) */
EMU_HANDLER(emu_op_sse_blendv); /* emu_op_sse_rm with XMM0 as s[1] */
EMU_HANDLER(emu_op_sse_st); /* xmm/m(rm) = fn(xmm/m(rm), xmm(reg)) */
EMU_HANDLER(emu_op_sse_shimm); /* xmm(rm) = fn(xmm(rm), imm) (groups 12-14) */
EMU_HANDLER(emu_op_sse_from_gpr); /* xmm(reg) = fn(xmm(reg), r/m) */
EMU_HANDLER(emu_op_sse_to_rm); /* r/m = fn(xmm(reg)) */
EMU_HANDLER(emu_op_sse_to_gpr); /* gpr(reg) = fn(xmm/m) */
EMU_HANDLER(emu_op_sse_pcmpstr); /* PCMPESTRI/M, PCMPISTRI/M */
EMU_HANDLER(emu_op_sse_maskmov);
EMU_HANDLER(emu_op_sse_crc32);
EMU_HANDLER(emu_op_ldmxcsr);
EMU_HANDLER(emu_op_emms);
EMU_HANDLER(emu_op_stmxcsr);

/* exec-sse.c: the pieces of the handlers. Availability: #UD (extension
 * absent, CR0.EM, !CR4.OSFXSR), #NM (CR0.TS); SSE_GPR ops skip the CR checks. */
void emu_sse_avail(struct emu_cpu *cpu, const struct emu_insn *in, const struct emu_sse_op *op);
/* n bytes (1, 2, 4, 8 or 16) of the ModRM memory operand; 16 with align:
 * #GP(0) unless 16-byte aligned. Loads of n < 16 zero-extend into *x. */
void emu_sse_load(struct emu_cpu *cpu, const struct emu_insn *in, union emu_xmm *x, unsigned n,
		  bool align);
void emu_sse_store(struct emu_cpu *cpu, const struct emu_insn *in, const union emu_xmm *x,
		   unsigned n, bool align);
/* fn(d, s, imm), under the guest's MXCSR when op is SSE_FP (may raise). */
void emu_sse_run(struct emu_cpu *cpu, const struct emu_sse_op *op, emu_sse_fn fn, union emu_xmm *d,
		 const union emu_xmm *s, unsigned imm);
/* The x87-to-MMX transition after an instruction with an mm operand. */
void emu_sse_done(struct emu_cpu *cpu, const struct emu_insn *in, const struct emu_sse_op *op);

/* An operand register: XMM i, or (mm) MMX register i & 7, zero-extended.
 * Writing an mm register makes the x87-to-MMX transition first. */
static inline void emu_sse_opnd_get(const struct emu_cpu *cpu, bool mm, unsigned i,
				    union emu_xmm *x)
{
	if (!mm) {
		memcpy(x, cpu->fxsave + EMU_FX_XMM + 16 * (i & 15), 16);
		return;
	}
	x->q[0] = x87_mm_get(cpu, i);
	x->q[1] = 0;
}

static inline void emu_sse_opnd_set(struct emu_cpu *cpu, bool mm, unsigned i,
				    const union emu_xmm *x)
{
	if (!mm) {
		emu_xmm_set(cpu, i, x);
		return;
	}
	x87_mmx_enter(cpu);
	x87_mm_set(cpu, i, x->q[0]);
}

/* Sets RFLAGS' arithmetic bits to f's. */
void emu_sse_set_flags(struct emu_cpu *cpu, uint64_t f);

/* sse-pcmpstr.c: runs PCMPxSTRx (opcode 0x60-0x63) with imm on the
 * host; la/ld the explicit lengths (already saturated). Returns the
 * arithmetic flags; *idx gets ECX (I forms), *mask XMM0 (M forms). */
uint64_t emu_sse_pcmpstr(unsigned opcode, const union emu_xmm *a, const union emu_xmm *b,
			 unsigned imm, int32_t la, int32_t ld, uint64_t *idx, union emu_xmm *mask);

/* The host MXCSR around a floating-point operation: the guest's rounding
 * control, DAZ and FTZ with every exception masked. With underflow
 * unmasked in the guest, FTZ does not apply (SDM vol. 1 §10.2.3.3) and
 * the result is needed unflushed to see exact tiny results. Returns the
 * host's MXCSR for emu_sse_host_leave(), which returns the flags raised. */
static inline uint32_t emu_sse_host_enter(uint32_t guest)
{
	uint32_t host,
		run = (guest & (EMU_MXCSR_RC | EMU_MXCSR_DAZ | EMU_MXCSR_FTZ)) | EMU_MXCSR_MASKS;

	if (!(guest & EMU_MXCSR_UM))
		run &= ~EMU_MXCSR_FTZ;
	__asm__ volatile("stmxcsr %0" : "=m"(host)::"memory");
	__asm__ volatile("ldmxcsr %0" ::"m"(run) : "memory");
	return host;
}

static inline uint32_t emu_sse_host_leave(uint32_t host)
{
	uint32_t st;

	__asm__ volatile("stmxcsr %0" : "=m"(st)::"memory");
	__asm__ volatile("ldmxcsr %0" ::"m"(host) : "memory");
	return st & EMU_MXCSR_FLAGS;
}

/* sse-fpexc.c: the flags of a masked host run (fl) turned into what the
 * hardware reports under the guest's masks g: exact tiny results raise an
 * unmasked underflow, and with an unmasked overflow or underflow the
 * precision flag is that of rounding with an unbounded exponent. d0/s are
 * the operands, r the host's result. */
uint32_t emu_sse_fp_fixup(const struct emu_sse_op *op, emu_sse_fn fn, const union emu_xmm *d0,
			  const union emu_xmm *s, const union emu_xmm *r, unsigned imm, uint32_t g,
			  uint32_t fl);

/* sse-dp.c: the flags of DPPS (dbl false) or DPPD run step by step under
 * the guest's MXCSR g, up to the first step with an unmasked exception. */
uint32_t emu_sse_dp(bool dbl, const union emu_xmm *d, const union emu_xmm *s, unsigned imm,
		    uint32_t g);

/* Host RFLAGS arithmetic bits from condition outputs. */
static inline uint64_t emu_sse_flags(bool cf, bool pf, bool zf, bool sf, bool of)
{
	return (cf ? EMU_FLAG_CF : 0) | (pf ? EMU_FLAG_PF : 0) | (zf ? EMU_FLAG_ZF : 0) |
	       (sf ? EMU_FLAG_SF : 0) | (of ? EMU_FLAG_OF : 0);
}

#endif
