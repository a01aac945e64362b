/* x87 control and register-stack instructions (FNINIT, FNCLEX, FLDCW,
 * FNSTCW, FNSTSW, FNSTENV/FLDENV, FNSAVE/FRSTOR, FXCH, FFREE, FINCSTP,
 * FDECSTP, FCMOVcc), the one-operand ones (FCHS ... FCOS), and the decoder's
 * map of the escape opcodes D8-DF to handlers (SDM vol. 2 appendix A.4). */
#include "emu/exec-x87.h"

/* ---- control word, status word, init ---------------------------------------- */

static EMU_HANDLER(fninit)
{
	x87_enter(cpu, in, 0);
	x87_init(cpu);
}

static EMU_HANDLER(fnclex)
{
	x87_enter(cpu, in, 0);
	x87_set16(cpu, X87_FSW, x87_get16(cpu, X87_FSW) & 0x7f00);
}

static EMU_HANDLER(fnop)
{
	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
}

static EMU_HANDLER(legacy_nop) /* FENI, FDISI, FSETPM (DB E0, E1, E4): no-ops */
{
	x87_enter(cpu, in, 0);
}

static EMU_HANDLER(fldcw)
{
	x87_enter(cpu, in, 0);
	x87_set16(cpu, X87_FCW, (uint16_t)emu_mem_read(cpu, in, 2));
	x87_update_es(cpu);
}

static EMU_HANDLER(fnstcw)
{
	x87_enter(cpu, in, 0);
	emu_mem_write(cpu, in, 2, x87_get16(cpu, X87_FCW));
}

static EMU_HANDLER(fnstsw_m)
{
	x87_enter(cpu, in, 0);
	emu_mem_write(cpu, in, 2, x87_get16(cpu, X87_FSW));
}

static EMU_HANDLER(fnstsw_ax)
{
	x87_enter(cpu, in, 0);
	emu_reg_set(cpu, EMU_RAX, 2, false, x87_get16(cpu, X87_FSW));
}

/* ---- environment and state images (SDM vol. 1 figures 8-9 to 8-12) ---------- */

/* The environment in the format of the operand size and mode; returns its
 * length (14 or 28). */
static unsigned env_image(struct emu_cpu *cpu, const struct emu_insn *in, uint8_t *b)
{
	uint64_t fip = x87_get64(cpu, X87_FIP), fdp = x87_get64(cpu, X87_FDP);
	uint16_t fop = x87_get16(cpu, X87_FOP) & 0x7ff, tag = x87_full_tag(cpu);
	bool real = cpu->mode == EMU_MODE_REAL;
	uint32_t w[7];

	w[0] = 0xffff0000u | x87_get16(cpu, X87_FCW);
	w[1] = 0xffff0000u | x87_get16(cpu, X87_FSW);
	w[2] = 0xffff0000u | tag;
	if (real) {
		w[3] = 0xffff0000u | (uint16_t)fip;
		w[4] = (uint32_t)(((fip >> 16) & 0xffff) << 12) | fop;
		w[5] = 0xffff0000u | (uint16_t)fdp;
		w[6] = (uint32_t)(((fdp >> 16) & 0xffff) << 12);
	} else { /* FCS/FDS are deprecated (CPUID.7.0:EBX[13]): stored as 0 */
		w[3] = (uint32_t)fip;
		w[4] = (uint32_t)fop << 16;
		w[5] = (uint32_t)fdp;
		w[6] = 0xffff0000u;
	}
	if (in->opsize != 2) {
		memcpy(b, w, 28);
		return 28;
	}
	/* 16-bit formats: the low halves, FCS/FDS 0; real mode: address bits
	 * 19:16 in bits 15:12 of the words after FIP and FDP */
	w[4] = real ? (uint32_t)((fip >> 4) & 0xf000) | fop : 0;
	w[6] = real ? (uint32_t)((fdp >> 4) & 0xf000) : 0;
	for (unsigned i = 0; i < 7; i++) {
		uint16_t h = (uint16_t)w[i];

		memcpy(b + 2 * i, &h, 2);
	}
	return 14;
}

static void env_load(struct emu_cpu *cpu, const struct emu_insn *in, const uint8_t *b)
{
	uint32_t w[7];
	bool real = cpu->mode == EMU_MODE_REAL;

	if (in->opsize == 2) {
		for (unsigned i = 0; i < 7; i++) {
			uint16_t h;

			memcpy(&h, b + 2 * i, 2);
			w[i] = h;
		}
		if (real) {
			w[3] |= (w[4] & 0xf000) << 4;
			w[5] |= (w[6] & 0xf000) << 4;
			w[4] &= 0x7ff;
		} else {
			w[4] = 0;
		}
	} else {
		memcpy(w, b, 28);
		if (real) {
			w[3] = (w[3] & 0xffff) | ((w[4] >> 12) << 16);
			w[5] = (w[5] & 0xffff) | ((w[6] >> 12) << 16);
			w[4] &= 0x7ff;
		} else {
			w[4] = (w[4] >> 16) & 0x7ff;
		}
	}
	x87_set16(cpu, X87_FCW, (uint16_t)w[0]);
	x87_set_top(cpu, (w[1] >> 11) & 7);
	x87_set16(cpu, X87_FSW, (uint16_t)w[1]);
	x87_set_full_tag(cpu, (uint16_t)w[2]);
	x87_set16(cpu, X87_FOP, (uint16_t)w[4]);
	x87_set64(cpu, X87_FIP, w[3]);
	x87_set64(cpu, X87_FDP, w[5]);
	x87_update_es(cpu);
}

static EMU_HANDLER(fnstenv)
{
	uint8_t b[28];
	unsigned n;

	x87_enter(cpu, in, 0);
	n = env_image(cpu, in, b);
	emu_write_bytes(cpu, x87_lin(cpu, in, n, EMU_ACC_WRITE), b, n);
	x87_set16(cpu, X87_FCW, x87_get16(cpu, X87_FCW) | FSW_EXC); /* masks all */
	x87_update_es(cpu);
}

static EMU_HANDLER(fldenv)
{
	uint8_t b[28];
	unsigned n = in->opsize == 2 ? 14 : 28;

	x87_enter(cpu, in, 0);
	emu_read_bytes(cpu, x87_lin(cpu, in, n, EMU_ACC_READ), b, n);
	env_load(cpu, in, b);
}

static EMU_HANDLER(fnsave)
{
	uint8_t b[108];
	unsigned n;

	x87_enter(cpu, in, 0);
	n = env_image(cpu, in, b);
	for (unsigned i = 0; i < 8; i++)
		memcpy(b + n + 10 * i, cpu->fxsave + X87_ST0 + 16 * i, 10);
	emu_write_bytes(cpu, x87_lin(cpu, in, n + 80, EMU_ACC_WRITE), b, n + 80);
	x87_init(cpu);
}

static EMU_HANDLER(frstor)
{
	uint8_t b[108];
	unsigned n = in->opsize == 2 ? 14 : 28;

	x87_enter(cpu, in, 0);
	emu_read_bytes(cpu, x87_lin(cpu, in, n + 80, EMU_ACC_READ), b, n + 80);
	env_load(cpu, in, b);
	for (unsigned i = 0; i < 8; i++) {
		uint8_t *p = cpu->fxsave + X87_ST0 + 16 * i;

		memcpy(p, b + n + 10 * i, 10);
		memset(p + 10, 0, 6);
	}
}

/* ---- register stack ---------------------------------------------------------- */

static EMU_HANDLER(fxch)
{
	unsigned i = in->rm & 7;
	x80 a, b;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
		if (x87_underflow(cpu))
			return;
		if (x87_empty(cpu, 0))
			x87_st_set(cpu, 0, x87_indefinite());
		if (x87_empty(cpu, i))
			x87_st_set(cpu, i, x87_indefinite());
	}
	a = x87_st(cpu, 0);
	b = x87_st(cpu, i);
	x87_st_set(cpu, 0, b);
	x87_st_set(cpu, i, a);
}

static EMU_HANDLER(ffree)
{
	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	cpu->fxsave[X87_FTW] &= (uint8_t) ~(1u << x87_phys(cpu, in->rm & 7));
}

static EMU_HANDLER(ffreep) /* DF C0+i: FFREE STi, then pop */
{
	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	cpu->fxsave[X87_FTW] &= (uint8_t) ~(1u << x87_phys(cpu, in->rm & 7));
	x87_pop(cpu);
}

static EMU_HANDLER(fincdecstp) /* D9 F6 FDECSTP, D9 F7 FINCSTP */
{
	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	x87_rotate(cpu, (in->rm & 7) == 7);
}

static EMU_HANDLER(fcmov) /* DA/DB C0-DF: B, E, BE, U and their negations */
{
	static const uint8_t cc[4] = { EMU_CC_B, EMU_CC_E, EMU_CC_BE, EMU_CC_P };
	unsigned i = in->rm & 7;
	bool take = emu_cond(cpu, cc[in->reg & 3] | (in->opcode == 0xdb));

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
		if (!x87_underflow(cpu))
			x87_st_set(cpu, 0, x87_indefinite());
		return;
	}
	if (take)
		x87_st_set(cpu, 0, x87_st(cpu, i));
}

/* ---- one-operand instructions ------------------------------------------------- */

static EMU_HANDLER(fchs_fabs)
{
	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	if (x87_empty(cpu, 0)) {
		if (!x87_underflow(cpu))
			x87_st_set(cpu, 0, x87_indefinite());
		return;
	}
	if ((in->rm & 7) == 0)
		cpu->fxsave[X87_ST0 + 9] ^= 0x80;
	else
		cpu->fxsave[X87_ST0 + 9] &= 0x7f;
}

static EMU_HANDLER(ftst)
{
	x80 a;
	uint16_t hsw;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, 0)) { /* unordered, masked or not (as the host) */
		x87_underflow(cpu);
		x87_set_cc(cpu, FSW_C0 | FSW_C2 | FSW_C3);
		return;
	}
	a = x87_st(cpu, 0);
	hsw = emu_x87h_tst(&a, NULL, &a, x87_host_cw(cpu), NULL);
	if (!x87_flag(cpu, hsw & FSW_EXC))
		x87_set_cc(cpu, hsw & (FSW_C0 | FSW_C2 | FSW_C3));
}

static EMU_HANDLER(fxam)
{
	x80 a = x87_st(cpu, 0);
	uint16_t hsw;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	hsw = emu_x87h_xam(&a, NULL, &a, x87_host_cw(cpu), NULL) & FSW_CC;
	if (x87_empty(cpu, 0))
		hsw = (uint16_t)((hsw & FSW_C1) | FSW_C3 | FSW_C0);
	x87_set_cc(cpu, hsw);
}

/* FXTRACT, FPTAN, FSINCOS: ST0 replaced and a second value pushed; FPTAN
 * and FSINCOS (range) leave ST0 alone with C2 = 1 when the host says its
 * operand is out of range, else C2 = 0. */
static void two_results(struct emu_cpu *cpu, const struct emu_insn *in, x87h_fn fn, bool range)
{
	uint16_t keep = range ? FSW_C0 | FSW_C3 : FSW_C0 | FSW_C2 | FSW_C3;
	x80 a, r0, r1;
	uint16_t hsw;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, 0) || !x87_empty(cpu, 7)) {
		bool under = x87_empty(cpu, 0);

		x87_set_cc(cpu, (x87_get16(cpu, X87_FSW) & keep) | (under ? 0 : FSW_C1));
		if (x87_flag(cpu, FSW_IE | FSW_SF))
			return;
		x87_st_set(cpu, 0, x87_indefinite());
		x87_push(cpu, x87_indefinite());
		return;
	}
	a = x87_st(cpu, 0);
	hsw = fn(&a, NULL, &r0, x87_host_cw(cpu), &r1);
	if (x87_flag(cpu, hsw & FSW_EXC))
		return;
	x87_set_cc(cpu, (x87_get16(cpu, X87_FSW) & keep) | (hsw & (FSW_C1 | (range ? FSW_C2 : 0))));
	if (range && (hsw & FSW_C2))
		return;
	x87_st_set(cpu, 0, r1);
	x87_push(cpu, r0);
}

static EMU_HANDLER(fxtract)
{
	two_results(cpu, in, emu_x87h_xtract, false);
}
static EMU_HANDLER(fptan)
{
	two_results(cpu, in, emu_x87h_ptan, true);
}
static EMU_HANDLER(fsincos)
{
	two_results(cpu, in, emu_x87h_sincos, true);
}

/* FSIN, FCOS: the host says C2 (out of range: ST0 unchanged); underflow
 * clears C2 */
static void trig(struct emu_cpu *cpu, const struct emu_insn *in, x87h_fn fn)
{
	if (x87_empty(cpu, 0))
		x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C2);
	x87_unary(cpu, in, fn, FSW_C2);
}

/* D9 E0-FF by ModRM low bits (F0-FF) */
static EMU_HANDLER(d9_math)
{
	switch (in->rm & 7) {
	case 0:
		x87_unary(cpu, in, emu_x87h_f2xm1, 0);
		break;
	case 1:
		x87_binary(cpu, in, emu_x87h_yl2x, true, false);
		break;
	case 2:
		fptan(cpu, in);
		break;
	case 3:
		x87_binary(cpu, in, emu_x87h_patan, true, false);
		break;
	case 4:
		fxtract(cpu, in);
		break;
	case 5:
		x87_binary(cpu, in, emu_x87h_prem1, false, true);
		break;
	case 6:
	case 7:
		fincdecstp(cpu, in);
		break;
	}
}

static EMU_HANDLER(d9_math2)
{
	switch (in->rm & 7) {
	case 0:
		x87_binary(cpu, in, emu_x87h_prem, false, true);
		break;
	case 1:
		x87_binary(cpu, in, emu_x87h_yl2xp1, true, false);
		break;
	case 2:
		x87_unary(cpu, in, emu_x87h_sqrt, 0);
		break;
	case 3:
		fsincos(cpu, in);
		break;
	case 4:
		x87_unary(cpu, in, emu_x87h_rndint, 0);
		break;
	case 5:
		x87_binary(cpu, in, emu_x87h_scale, false, false);
		break;
	case 6:
		trig(cpu, in, emu_x87h_sin);
		break;
	case 7:
		trig(cpu, in, emu_x87h_cos);
		break;
	}
}

/* ---- the escape opcodes -------------------------------------------------------- */

static emu_handler mem_form(unsigned op, unsigned r)
{
	switch (op) {
	case 0:
	case 2:
	case 4:
	case 6:
		return emu_op_x87_arith_m;
	case 1: {
		static const emu_handler h[8] = { emu_op_x87_fld_m, emu_op_ud, emu_op_x87_fst_m,
						  emu_op_x87_fst_m, fldenv,    fldcw,
						  fnstenv,	    fnstcw };
		return h[r];
	}
	case 3: {
		static const emu_handler h[8] = { emu_op_x87_fld_m, emu_op_x87_fst_m,
						  emu_op_x87_fst_m, emu_op_x87_fst_m,
						  emu_op_ud,	    emu_op_x87_fld_m,
						  emu_op_ud,	    emu_op_x87_fst_m };
		return h[r];
	}
	case 5: {
		static const emu_handler h[8] = { emu_op_x87_fld_m, emu_op_x87_fst_m,
						  emu_op_x87_fst_m, emu_op_x87_fst_m,
						  frstor,	    emu_op_ud,
						  fnsave,	    fnstsw_m };
		return h[r];
	}
	default: { /* DF */
		static const emu_handler h[8] = { emu_op_x87_fld_m, emu_op_x87_fst_m,
						  emu_op_x87_fst_m, emu_op_x87_fst_m,
						  emu_op_x87_fld_m, emu_op_x87_fld_m,
						  emu_op_x87_fst_m, emu_op_x87_fst_m };
		return h[r];
	}
	}
}

static emu_handler d9_reg(unsigned r, unsigned rm)
{
	switch (r) {
	case 0:
		return emu_op_x87_fld_r;
	case 1:
		return fxch;
	case 2:
		return rm == 0 ? fnop : emu_op_ud;
	case 3:
		return emu_op_x87_fst_r; /* FSTP1 alias */
	case 4: {
		static const emu_handler h[8] = { fchs_fabs, fchs_fabs, emu_op_ud, emu_op_ud,
						  ftst,	     fxam,	emu_op_ud, emu_op_ud };
		return h[rm];
	}
	case 5:
		return rm == 7 ? emu_op_ud : emu_op_x87_fldc;
	case 6:
		return d9_math;
	default:
		return d9_math2;
	}
}

static emu_handler reg_form(unsigned op, unsigned r, unsigned rm)
{
	switch (op) {
	case 0: /* D8 */
	case 4: /* DC */
		return r == 2 || r == 3 ? emu_op_x87_fcom_r : emu_op_x87_arith_r;
	case 1:
		return d9_reg(r, rm);
	case 2: /* DA */
		if (r < 4)
			return fcmov;
		return r == 5 && rm == 1 ? emu_op_x87_fucompp : emu_op_ud;
	case 3: /* DB */
		if (r < 4)
			return fcmov;
		if (r == 5 || r == 6)
			return emu_op_x87_fcomi;
		if (r != 4)
			return emu_op_ud;
		return rm == 2			     ? fnclex :
		       rm == 3			     ? fninit :
		       rm == 0 || rm == 1 || rm == 4 ? legacy_nop :
						       emu_op_ud;
	case 5: /* DD */
		switch (r) {
		case 0:
			return ffree;
		case 1:
			return fxch;
		case 2:
		case 3:
			return emu_op_x87_fst_r;
		case 4:
		case 5:
			return emu_op_x87_fucom;
		default:
			return emu_op_ud;
		}
	case 6: /* DE */
		if (r == 3)
			return rm == 1 ? emu_op_x87_fcompp : emu_op_ud;
		return r == 2 ? emu_op_x87_fcom_r : emu_op_x87_arith_r;
	default: /* DF */
		switch (r) {
		case 0:
			return ffreep;
		case 1:
			return fxch;
		case 2:
		case 3:
			return emu_op_x87_fst_r;
		case 4:
			return rm == 0 ? fnstsw_ax : emu_op_ud;
		case 5:
		case 6:
			return emu_op_x87_fcomi;
		default:
			return emu_op_ud;
		}
	}
}

emu_handler emu_x87_handler(const struct emu_insn *in)
{
	unsigned op = in->opcode & 7, r = in->reg & 7, rm = in->rm & 7;

	return in->mod == 3 ? reg_form(op, r, rm) : mem_form(op, r);
}
