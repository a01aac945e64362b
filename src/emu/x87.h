/* The x87 FPU of the software CPU: its state lives in emu_cpu.fxsave in
 * FXSAVE layout, the single source of truth shared with SSE (MXCSR, XMM)
 * and with FXSAVE/XSAVE and the accelerator interface:
 *
 *   0 FCW, 2 FSW, 4 abridged FTW (bit per physical register, 1 = valid),
 *   6 FOP, 8 FIP (64-bit), 16 FDP (64-bit), 24 MXCSR, 28 MXCSR_MASK,
 *   32 + 16*i  ST(i) in stack order (80 bits, bytes 10-15 zero),
 *   160 + 16*i XMMi.
 *
 * Because the registers are kept in stack order, a push or pop rotates the
 * eight slots (what FXSAVE shows), and TOP in FSW moves with it. The
 * arithmetic itself runs on the host's x87 (x87-host.S), with the guest's
 * precision and rounding control, all exceptions masked; the guest's masks
 * are applied to the flags it reports (SDM vol. 1 ch. 8). */
#ifndef VS_EMU_X87_H
#define VS_EMU_X87_H

#include "emu/internal.h"

#define X87_FCW 0
#define X87_FSW 2
#define X87_FTW 4
#define X87_FOP 6
#define X87_FIP 8
#define X87_FDP 16
#define X87_MXCSR 24
#define X87_MXCSR_MASK 28
#define X87_ST0 32
#define X87_XMM0 160
#define XCR0_X87 1ULL
#define XCR0_SSE 2ULL
#define XCR0_SUPPORTED (XCR0_X87 | XCR0_SSE)
#define XSAVE_HDR 512

#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_OE 0x0008
#define FSW_UE 0x0010
#define FSW_PE 0x0020
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_TOP 0x3800
#define FSW_C3 0x4000
#define FSW_B 0x8000
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FSW_EXC 0x003f

#define X87_FCW_INIT 0x037f
#define X87_MXCSR_INIT 0x1f80
#define X87_MXCSR_MASK_VAL 0xffff /* DAZ supported */

/* An 80-bit value as the host's long double holds it in memory. */
typedef long double x80;

static inline uint16_t x87_get16(const struct emu_cpu *cpu, unsigned off)
{
	uint16_t v;

	memcpy(&v, cpu->fxsave + off, 2);
	return v;
}

static inline void x87_set16(struct emu_cpu *cpu, unsigned off, uint16_t v)
{
	memcpy(cpu->fxsave + off, &v, 2);
}

static inline uint32_t x87_get32(const struct emu_cpu *cpu, unsigned off)
{
	uint32_t v;

	memcpy(&v, cpu->fxsave + off, 4);
	return v;
}

static inline void x87_set32(struct emu_cpu *cpu, unsigned off, uint32_t v)
{
	memcpy(cpu->fxsave + off, &v, 4);
}

static inline uint64_t x87_get64(const struct emu_cpu *cpu, unsigned off)
{
	uint64_t v;

	memcpy(&v, cpu->fxsave + off, 8);
	return v;
}

static inline void x87_set64(struct emu_cpu *cpu, unsigned off, uint64_t v)
{
	memcpy(cpu->fxsave + off, &v, 8);
}

static inline unsigned x87_top(const struct emu_cpu *cpu)
{
	return (x87_get16(cpu, X87_FSW) >> 11) & 7;
}

/* physical register number of ST(i) */
static inline unsigned x87_phys(const struct emu_cpu *cpu, unsigned i)
{
	return (x87_top(cpu) + i) & 7;
}

static inline bool x87_empty(const struct emu_cpu *cpu, unsigned i)
{
	return !(cpu->fxsave[X87_FTW] & (1u << x87_phys(cpu, i)));
}

static inline x80 x87_st(const struct emu_cpu *cpu, unsigned i)
{
	x80 v = 0;

	memcpy(&v, cpu->fxsave + X87_ST0 + 16 * i, 10);
	return v;
}

/* Writes ST(i) and marks it valid. */
static inline void x87_st_set(struct emu_cpu *cpu, unsigned i, x80 v)
{
	uint8_t *p = cpu->fxsave + X87_ST0 + 16 * i;

	memcpy(p, &v, 10);
	memset(p + 10, 0, 6);
	cpu->fxsave[X87_FTW] |= (uint8_t)(1u << x87_phys(cpu, i));
}

/* MMX register i (i & 7) is physical register R(i & 7)'s significand,
 * i.e. the stack-order slot (i - TOP) & 7 (SDM vol. 1 §9.5). */
static inline uint64_t x87_mm_get(const struct emu_cpu *cpu, unsigned i)
{
	uint64_t v;

	memcpy(&v, cpu->fxsave + X87_ST0 + 16 * ((i - x87_top(cpu)) & 7), 8);
	return v;
}

/* Writes mm i after x87_mmx_enter() (TOP = 0): the significand, and all
 * ones in the sign and exponent (SDM vol. 1 §9.5.2). */
static inline void x87_mm_set(struct emu_cpu *cpu, unsigned i, uint64_t v)
{
	uint8_t *p = cpu->fxsave + X87_ST0 + 16 * (i & 7);

	memcpy(p, &v, 8);
	p[8] = 0xff;
	p[9] = 0xff;
	memset(p + 10, 0, 6);
}

/* The default NaN ("real indefinite") a masked invalid operation yields. */
static inline x80 x87_indefinite(void)
{
	x80 v = 0;
	uint64_t m = 0xc000000000000000ULL;
	uint16_t se = 0xffff;

	memcpy(&v, &m, 8);
	memcpy((uint8_t *)&v + 8, &se, 2);
	return v;
}

/* x87-state.c: state changes shared by the handlers and FXSAVE/XSAVE */
void x87_init(struct emu_cpu *cpu); /* FNINIT */
void x87_set_top(struct emu_cpu *cpu, unsigned top); /* rotates the slots */
void x87_push(struct emu_cpu *cpu, x80 v); /* TOP-1, ST0 = v */
void x87_pop(struct emu_cpu *cpu); /* tag ST0 empty, TOP+1 */
void x87_rotate(struct emu_cpu *cpu, bool up); /* FINCSTP (up), FDECSTP */
/* The x87-to-MMX transition: TOP = 0, every register tagged valid. */
void x87_mmx_enter(struct emu_cpu *cpu);
uint16_t x87_full_tag(const struct emu_cpu *cpu); /* FNSTENV's 2-bit tags */
void x87_set_full_tag(struct emu_cpu *cpu, uint16_t ftw);
/* Adds exception flags exc (FSW_IE...FSW_PE, FSW_SF) to FSW, with ES/B
 * when one is unmasked; returns true when an unmasked invalid-operation,
 * denormal or zero-divide exception means the destination must not be
 * written (SDM vol. 1 8.5). */
bool x87_flag(struct emu_cpu *cpu, unsigned exc);
/* ES summary from the flags and the masks (after FLDCW, FLDENV...). */
void x87_update_es(struct emu_cpu *cpu);
void x87_set_cc(struct emu_cpu *cpu, unsigned cc); /* C0-C3 from cc's FSW bits */

/* x87-host.S */
#define X87H(name) \
	uint16_t emu_x87h_##name(const void *a, const void *b, void *out, uint32_t cw, void *out2)
X87H(add);
X87H(sub);
X87H(mul);
X87H(div);
X87H(prem);
X87H(prem1);
X87H(scale);
X87H(patan);
X87H(yl2x);
X87H(yl2xp1);
X87H(sqrt);
X87H(rndint);
X87H(f2xm1);
X87H(sin);
X87H(cos);
X87H(tst);
X87H(xam);
X87H(xtract);
X87H(ptan);
X87H(sincos);
X87H(com);
X87H(ucom);
X87H(ld32);
X87H(ld64);
X87H(bld);
X87H(st32);
X87H(st64);
X87H(ist16);
X87H(ist32);
X87H(ist64);
X87H(istt16);
X87H(istt32);
X87H(istt64);
X87H(bstp);
X87H(ld1);
X87H(ldl2t);
X87H(ldl2e);
X87H(ldpi);
X87H(ldlg2);
X87H(ldln2);
X87H(ldz);
X87H(adds);
X87H(muls);
X87H(coms);
X87H(subs);
X87H(subrs);
X87H(divs);
X87H(divrs);
X87H(addl);
X87H(mull);
X87H(coml);
X87H(subl);
X87H(subrl);
X87H(divl);
X87H(divrl);
#undef X87H
typedef uint16_t (*x87h_fn)(const void *a, const void *b, void *out, uint32_t cw, void *out2);

/* The host control word for the guest's: its PC and RC, every exception
 * masked but OE and UE as the guest has them (x87-host.S); bits 31:16
 * carry the guest's C0-C3 into the host's FSW. */
static inline uint32_t x87_host_cw(const struct emu_cpu *cpu)
{
	uint16_t cw = x87_get16(cpu, X87_FCW);

	return (cw & 0x0f18u) | 0x67u | ((uint32_t)(x87_get16(cpu, X87_FSW) & FSW_CC) << 16);
}

/* exec-x87.c / fxsave.c entry points the system layer uses */
void emu_fpu_reset(struct emu_cpu *cpu); /* power-on/INIT: FNINIT + MXCSR */

#endif
