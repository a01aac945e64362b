/* What the hardware reports for an SSE operation whose overflow or
 * underflow exception is unmasked, reconstructed from the host run with
 * every exception masked (exec-sse.c emu_sse_run()).
 *
 * Measured on the host (tests/emu-diff corpus-ssefp.S) and as the SDM
 * describes it (vol. 1 §11.5.2): with UE unmasked, a tiny result raises
 * underflow even when exact (the masked run flags only inexact tiny
 * results); with OE or UE unmasked the precision flag is that of rounding
 * the result to the format's precision with an unbounded exponent, not the
 * masked run's (which overflows to infinity or denormalizes). The lanes
 * that overflowed or underflowed are computed again one by one with their
 * operands scaled into range (the significands, hence the rounding, stay
 * the same); the other lanes' precision flag (lanes whose overflow or
 * underflow is masked included) comes from running the operation again
 * with those lanes replaced by 1.0. */
#include "emu/sse.h"

/* ---- IEEE formats ------------------------------------------------------ */

struct fmt {
	unsigned mbits, ebits; /* significand (without the hidden bit) and exponent widths */
};

static const struct fmt f32 = { 23, 8 }, f64 = { 52, 11 };

static uint64_t fmt_emax(const struct fmt *f)
{
	return (1ULL << f->ebits) - 1;
}

static bool is_tiny(const struct fmt *f, uint64_t v)
{
	return !((v >> f->mbits) & fmt_emax(f)); /* zero or denormal */
}

static bool is_huge(const struct fmt *f, uint64_t v)
{
	uint64_t e = (v >> f->mbits) & fmt_emax(f), m = v & ((1ULL << f->mbits) - 1);

	return e == fmt_emax(f) ? m == 0 : e == fmt_emax(f) - 1 && m == (1ULL << f->mbits) - 1;
}

/* Splits a finite nonzero v into sign, unbiased exponent and significand
 * bits (normalized, hidden bit dropped). False for zero, infinity, NaN
 * and (with DAZ) denormals: operations on those are exact here. */
static bool split(const struct fmt *f, uint64_t v, bool daz, int *e, uint64_t *m)
{
	uint64_t be = (v >> f->mbits) & fmt_emax(f), mm = v & ((1ULL << f->mbits) - 1);
	int bias = (int)(fmt_emax(f) >> 1);

	if (be == fmt_emax(f) || (be == 0 && (mm == 0 || daz)))
		return false;
	if (be == 0) {
		int sh = __builtin_clzll(mm) - (63 - (int)f->mbits);

		*e = 1 - bias - sh;
		*m = (mm << sh) & ((1ULL << f->mbits) - 1);
		return true;
	}
	*e = (int)be - bias;
	*m = mm;
	return true;
}

/* sign | 2^e * 1.m, e clamped at the smallest normal exponent (a value
 * that small only needs to stay nonzero, see lane_pe()). */
static uint64_t join(const struct fmt *f, uint64_t sign, int e, uint64_t m)
{
	int bias = (int)(fmt_emax(f) >> 1), be = e + bias;

	if (be < 1)
		be = 1, m = 0;
	return sign | (uint64_t)be << f->mbits | m;
}

/* ---- one lane ------------------------------------------------------------- */

static uint32_t host_op(unsigned ar, bool dbl, uint64_t *x, uint64_t y, uint32_t g)
{
	uint32_t h = emu_sse_host_enter(g & ~(EMU_MXCSR_DAZ | EMU_MXCSR_FTZ));
	union emu_xmm a = { .q = { *x, 0 } }, b = { .q = { y, 0 } };

#define HOP(insn) __asm__ volatile(insn " %1, %0" : "+x"(a.v) : "x"(b.v))
	switch (ar * 2 + dbl) {
	case SSE_AR_ADD * 2:
		HOP("addss");
		break;
	case SSE_AR_ADD * 2 + 1:
		HOP("addsd");
		break;
	case SSE_AR_SUB * 2:
		HOP("subss");
		break;
	case SSE_AR_SUB * 2 + 1:
		HOP("subsd");
		break;
	case SSE_AR_MUL * 2:
		HOP("mulss");
		break;
	case SSE_AR_MUL * 2 + 1:
		HOP("mulsd");
		break;
	case SSE_AR_DIV * 2:
		HOP("divss");
		break;
	default:
		HOP("divsd");
		break;
	}
#undef HOP
	*x = a.q[0];
	return emu_sse_host_leave(h);
}

/* The precision flag of x ar y rounded with an unbounded exponent. */
static uint32_t lane_pe(const struct fmt *f, unsigned ar, uint64_t x, uint64_t y, uint32_t g)
{
	uint64_t sb = 1ULL << (f->mbits + f->ebits), mx, my;
	bool daz = g & EMU_MXCSR_DAZ;
	int ex, ey;

	if (ar == SSE_AR_CVT) /* a double narrowed: the bits below the single's */
		return split(&f64, x, daz, &ex, &mx) && (mx & ((1ULL << 29) - 1)) ? EMU_MXCSR_PE :
										    0;
	if (!split(f, x, daz, &ex, &mx) || !split(f, y, daz, &ey, &my))
		return 0;
	if (ar == SSE_AR_MUL || ar == SSE_AR_DIV) {
		x = join(f, x & sb, 0, mx);
		y = join(f, y & sb, 0, my);
	} else {
		/* the larger operand to [1, 2), the other by the same factor;
		 * one more than ~2^bias below is far past the ulp: any nonzero
		 * value keeps the sum inexact */
		int top = ex > ey ? ex : ey;

		x = join(f, x & sb, ex - top, mx);
		y = join(f, y & sb, ey - top, my);
	}
	return host_op(ar, f == &f64, &x, y, g) & EMU_MXCSR_PE;
}

/* ---- the operation ---------------------------------------------------------- */

static uint64_t lane_get(const union emu_xmm *x, bool dbl, unsigned i)
{
	return dbl ? x->q[i] : x->d[i];
}

static void lane_set(union emu_xmm *x, bool dbl, unsigned i, uint64_t v)
{
	if (dbl)
		x->q[i] = v;
	else
		x->d[i] = (uint32_t)v;
}

/* Where the operands of result lane i are: lane-wise ops take lane i of d
 * and s; horizontal ones adjacent lanes of d (low half of the result) or
 * s (high half). */
static void lane_src(unsigned ar, unsigned i, unsigned n, unsigned *xs, unsigned *xi, unsigned *ys,
		     unsigned *yi)
{
	if (ar != SSE_AR_HADD && ar != SSE_AR_HSUB) {
		*xs = 0, *ys = 1, *xi = *yi = i;
		return;
	}
	*xs = *ys = i >= n / 2;
	*xi = 2 * (i % (n / 2));
	*yi = *xi + 1;
}

static unsigned lane_ar(unsigned ar, unsigned i)
{
	if (ar == SSE_AR_ADDSUB)
		return i & 1 ? SSE_AR_ADD : SSE_AR_SUB;
	if (ar == SSE_AR_HADD || ar == SSE_AR_HSUB)
		return ar == SSE_AR_HADD ? SSE_AR_ADD : SSE_AR_SUB;
	return ar;
}

static uint32_t unbounded_pe(const struct emu_sse_op *op, emu_sse_fn fn, const union emu_xmm *d0,
			     const union emu_xmm *s, const union emu_xmm *r, unsigned imm,
			     uint32_t g)
{
	bool dbl = op->fpe == SSE_E_PD || op->fpe == SSE_E_SD;
	bool scalar = op->fpe == SSE_E_SS || op->fpe == SSE_E_SD, cvt = op->arith == SSE_AR_CVT;
	unsigned n = scalar ? 1 : cvt ? 2 : dbl ? 2 : 4, xs, xi, ys, yi;
	const struct fmt *f = dbl ? &f64 : &f32;
	const union emu_xmm *in[2] = { d0, s };
	union emu_xmm cp[2] = { *d0, *s };
	uint64_t one = dbl ? 0x3ff0000000000000ULL : 0x3f800000;
	uint32_t pe = 0, h;
	bool others = false;

	for (unsigned i = 0; i < n; i++) {
		uint64_t v = lane_get(r, dbl, i);

		/* a lane whose overflow or underflow is masked keeps the masked
		 * run's precision flag: it goes into the second run as it is */
		if (!(is_huge(f, v) && !(g & EMU_MXCSR_OM)) &&
		    !(is_tiny(f, v) && !(g & EMU_MXCSR_UM))) {
			others = true;
			continue;
		}
		if (cvt) {
			pe |= lane_pe(f, SSE_AR_CVT, s->q[i], 0, g);
			cp[1].q[i] = 0x3ff0000000000000ULL;
			continue;
		}
		lane_src(op->arith, i, n, &xs, &xi, &ys, &yi);
		pe |= lane_pe(f, lane_ar(op->arith, i), lane_get(in[xs], dbl, xi),
			      lane_get(in[ys], dbl, yi), g);
		lane_set(&cp[xs], dbl, xi, one);
		lane_set(&cp[ys], dbl, yi, one);
	}
	if (others && !scalar) {
		h = emu_sse_host_enter(g);
		fn(&cp[0], &cp[1], imm);
		pe |= emu_sse_host_leave(h) & EMU_MXCSR_PE;
	}
	return pe;
}

static bool any_denormal(const union emu_xmm *r, unsigned fpe)
{
	bool dbl = fpe == SSE_E_PD || fpe == SSE_E_SD;
	unsigned n = fpe == SSE_E_SS || fpe == SSE_E_SD ? 1 : dbl ? 2 : 4;
	const struct fmt *f = dbl ? &f64 : &f32;

	for (unsigned i = 0; i < n; i++) {
		uint64_t v = lane_get(r, dbl, i);

		if (is_tiny(f, v) && (v & ((1ULL << f->mbits) - 1)))
			return true;
	}
	return false;
}

uint32_t emu_sse_fp_fixup(const struct emu_sse_op *op, emu_sse_fn fn, const union emu_xmm *d0,
			  const union emu_xmm *s, const union emu_xmm *r, unsigned imm, uint32_t g,
			  uint32_t fl)
{
	uint32_t unmasked = ~(g >> 7) & EMU_MXCSR_FLAGS;

	if (fl & unmasked & (EMU_MXCSR_IE | EMU_MXCSR_DE | EMU_MXCSR_ZE))
		return fl; /* pre-computation: results and the rest do not count */
	if ((unmasked & EMU_MXCSR_UE) && any_denormal(r, op->fpe))
		fl |= EMU_MXCSR_UE;
	if (!(fl & unmasked & (EMU_MXCSR_OE | EMU_MXCSR_UE)) || op->arith == SSE_AR_NONE)
		return fl;
	return (fl & ~EMU_MXCSR_PE) | unbounded_pe(op, fn, d0, s, r, imm, g);
}
