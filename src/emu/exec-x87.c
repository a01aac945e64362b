/* x87 instructions (opcodes D8-DF, and FWAIT): decoding of the escape
 * opcodes into handlers, the checks every x87 instruction makes (#NM from
 * CR0.EM/TS, pending unmasked exceptions -> #MF), loads, stores,
 * arithmetic and compares. Control instructions (FLDCW, FNSTENV, FNSAVE,
 * FXCH, FFREE...) are in exec-x87-ctl.c. SDM vol. 1 ch. 8, vol. 2 "F*".
 *
 * Faults: memory operands are read before any state changes; a store is
 * written before TOP moves, so a #PF leaves the x87 state as it was. */
#include "emu/decode.h"
#include "emu/exec-x87.h"

/* ---- the checks every x87 instruction makes ------------------------------ */

void x87_enter(struct emu_cpu *cpu, const struct emu_insn *in, unsigned how)
{
	if (cpu->cr0 & (EMU_CR0_EM | EMU_CR0_TS))
		emu_raise(cpu, EMU_NM, EMU_NO_ERRCODE);
	if ((how & X87_WAIT) && (x87_get16(cpu, X87_FSW) & FSW_ES))
		emu_raise(cpu, EMU_MF, EMU_NO_ERRCODE);
	if (how & X87_NOTE) {
		x87_set16(cpu, X87_FOP,
			  (uint16_t)(((in->opcode & 7) << 8) | (in->mod << 6) |
				     ((in->reg & 7) << 3) | (in->rm & 7)));
		x87_set64(cpu, X87_FIP, in->rip);
		if (in->mod != 3)
			x87_set64(cpu, X87_FDP, emu_ea(cpu, in));
	}
}

EMU_HANDLER(emu_op_fwait)
{
	(void)in;
	if ((cpu->cr0 & (EMU_CR0_MP | EMU_CR0_TS)) == (EMU_CR0_MP | EMU_CR0_TS))
		emu_raise(cpu, EMU_NM, EMU_NO_ERRCODE);
	if (x87_get16(cpu, X87_FSW) & FSW_ES)
		emu_raise(cpu, EMU_MF, EMU_NO_ERRCODE);
}

/* ---- helpers ----------------------------------------------------------------- */

uint64_t x87_lin(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, enum emu_access acc)
{
	return emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), size, acc);
}

/* Stack underflow: IE + SF, C1 = 0. True when unmasked (nothing written). */
bool x87_underflow(struct emu_cpu *cpu)
{
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	return x87_flag(cpu, FSW_IE | FSW_SF);
}

/* Applies the host's FSW from an operation: flags, and C1 (round-up). */
static bool host_flags(struct emu_cpu *cpu, uint16_t hsw, unsigned extra)
{
	uint16_t sw = x87_get16(cpu, X87_FSW);

	x87_set16(cpu, X87_FSW, (uint16_t)((sw & ~FSW_C1) | (hsw & FSW_C1)));
	return x87_flag(cpu, (hsw & FSW_EXC) | extra);
}

/* Reads the memory source operand of D8-DF arithmetic/compare/load forms as an
 * 80-bit value; *exc gets the conversion's exceptions (SNaN, denormal). */
static x80 mem_source(struct emu_cpu *cpu, const struct emu_insn *in, unsigned kind, unsigned *exc)
{
	uint64_t v;
	x80 r = 0;

	*exc = 0;
	switch (kind) {
	case X87_M32FP:
		v = emu_mem_read(cpu, in, 4);
		*exc = emu_x87h_ld32(&v, NULL, &r, x87_host_cw(cpu), NULL) & FSW_EXC;
		return r;
	case X87_M64FP:
		v = emu_mem_read(cpu, in, 8);
		*exc = emu_x87h_ld64(&v, NULL, &r, x87_host_cw(cpu), NULL) & FSW_EXC;
		return r;
	case X87_M16INT:
		return (x80)(int16_t)emu_mem_read(cpu, in, 2);
	case X87_M32INT:
		return (x80)(int32_t)emu_mem_read(cpu, in, 4);
	case X87_M64INT:
		return (x80)(int64_t)emu_mem_read(cpu, in, 8);
	default: {
		uint8_t b[10];

		emu_read_bytes(cpu, x87_lin(cpu, in, 10, EMU_ACC_READ), b, 10);
		memcpy(&r, b, 10);
		if (kind == X87_M80BCD)
			*exc = emu_x87h_bld(b, NULL, &r, x87_host_cw(cpu), NULL) & FSW_EXC;
		return r;
	}
	}
}

/* ---- arithmetic: FADD FMUL FSUB FSUBR FDIV FDIVR (reg field 0,1,4,5,6,7) ---- */

static uint16_t arith(const struct emu_cpu *cpu, unsigned op, x80 a, x80 b, x80 *r)
{
	static const x87h_fn fn[8] = { emu_x87h_add, emu_x87h_mul, NULL,	 NULL,
				       emu_x87h_sub, emu_x87h_sub, emu_x87h_div, emu_x87h_div };
	uint32_t cw = x87_host_cw(cpu);

	if (op == 5 || op == 7) /* reversed: other op ST0 */
		return fn[op](&b, &a, r, cw, NULL);
	return fn[op](&a, &b, r, cw, NULL);
}

/* dst = ST(dst) op src (ST0 is the first operand unless rev); pop after. */
static void arith_store(struct emu_cpu *cpu, unsigned op, unsigned dst, x80 a, x80 b, unsigned exc,
			bool pop)
{
	x80 r;
	uint16_t hsw;

	if (x87_flag(cpu, exc & (FSW_IE | FSW_DE)))
		return;
	hsw = arith(cpu, op, a, b, &r);
	if (host_flags(cpu, hsw, 0))
		return;
	x87_st_set(cpu, dst, r);
	if (pop)
		x87_pop(cpu);
}

/* D8 /r and DC /r (m32fp, m64fp; reg field 0-7 incl. FCOM/FCOMP): the
 * host's own instruction with the memory operand, so SNaN operands and the
 * NaN-over-denormal precedence are the hardware's. */
static void compare_underflow(struct emu_cpu *cpu, unsigned npop);

static const x87h_fn fp_mem_ops[2][8] = {
	{ emu_x87h_adds, emu_x87h_muls, emu_x87h_coms, emu_x87h_coms, emu_x87h_subs, emu_x87h_subrs,
	  emu_x87h_divs, emu_x87h_divrs },
	{ emu_x87h_addl, emu_x87h_mull, emu_x87h_coml, emu_x87h_coml, emu_x87h_subl, emu_x87h_subrl,
	  emu_x87h_divl, emu_x87h_divrl },
};

static void fp_mem(struct emu_cpu *cpu, const struct emu_insn *in, bool m64)
{
	unsigned op = in->reg & 7;
	bool cmp = op == 2 || op == 3;
	uint64_t v = emu_mem_read(cpu, in, m64 ? 8 : 4);
	uint16_t hsw;
	x80 a, r;

	if (x87_empty(cpu, 0)) {
		if (cmp)
			compare_underflow(cpu, op == 3);
		else if (!x87_underflow(cpu))
			x87_st_set(cpu, 0, x87_indefinite());
		return;
	}
	a = x87_st(cpu, 0);
	hsw = fp_mem_ops[m64][op](&a, &v, &r, x87_host_cw(cpu), NULL);
	if (cmp) { /* the condition codes are set even when IE is unmasked */
		bool unmasked = x87_flag(cpu, hsw & FSW_EXC);

		x87_set_cc(cpu, hsw & (FSW_C0 | FSW_C2 | FSW_C3));
		if (op == 3 && !unmasked)
			x87_pop(cpu);
		return;
	}
	if (host_flags(cpu, hsw, 0))
		return;
	x87_st_set(cpu, 0, r);
}

/* DA /r, DE /r: m32int, m16int (exact conversions) */
static void arith_mem(struct emu_cpu *cpu, const struct emu_insn *in, unsigned kind)
{
	unsigned exc, op = in->reg & 7;
	x80 m;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (kind == X87_M32FP || kind == X87_M64FP) {
		fp_mem(cpu, in, kind == X87_M64FP);
		return;
	}
	m = mem_source(cpu, in, kind, &exc);
	if (x87_empty(cpu, 0)) {
		if (!x87_underflow(cpu))
			x87_st_set(cpu, 0, x87_indefinite());
		return;
	}
	arith_store(cpu, op, 0, x87_st(cpu, 0), m, exc, false);
}

/* Register forms: D8 (ST0 = ST0 op STi), DC (STi = STi op' ST0), DE (DC + pop). */
static void arith_reg(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned op = in->reg & 7, i = in->rm & 7;
	bool to_sti = in->opcode != 0xd8;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
		if (!x87_underflow(cpu)) {
			x87_st_set(cpu, to_sti ? i : 0, x87_indefinite());
			if (in->opcode == 0xde)
				x87_pop(cpu);
		}
		return;
	}
	/* the "other" operand of op 4-7 is STi; DC/DE's reversed naming gives
	 * the same result formula per reg field (SDM opcode map A-10) */
	arith_store(cpu, op, to_sti ? i : 0, x87_st(cpu, 0), x87_st(cpu, i), 0, in->opcode == 0xde);
}

/* ---- compares --------------------------------------------------------------------- */

/* FCOM/FUCOM of ST0 with b: C0/C2/C3 (C1 = 0); npop pops afterwards. */
static void compare(struct emu_cpu *cpu, x80 b, unsigned exc, bool unordered, unsigned npop)
{
	x80 a = x87_st(cpu, 0);
	uint16_t hsw;
	bool unmasked;

	hsw = (unordered ? emu_x87h_ucom : emu_x87h_com)(&a, &b, NULL, x87_host_cw(cpu), NULL);
	/* the condition codes are set even when IE is unmasked (as the host) */
	unmasked = x87_flag(cpu, (exc & (FSW_IE | FSW_DE)) | (hsw & FSW_EXC));
	x87_set_cc(cpu, hsw & (FSW_C0 | FSW_C2 | FSW_C3));
	while (!unmasked && npop--)
		x87_pop(cpu);
}

/* Empty operand: "unordered" (C3 C2 C0 = 111, also when IE is unmasked,
 * as the host does), popped only when masked. */
static void compare_underflow(struct emu_cpu *cpu, unsigned npop)
{
	bool unmasked = x87_underflow(cpu);

	x87_set_cc(cpu, FSW_C0 | FSW_C2 | FSW_C3);
	while (!unmasked && npop--)
		x87_pop(cpu);
}

static void com_mem(struct emu_cpu *cpu, const struct emu_insn *in, unsigned kind)
{
	unsigned exc;
	x80 m;

	if (kind == X87_M32FP || kind == X87_M64FP) {
		arith_mem(cpu, in, kind);
		return;
	}
	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	m = mem_source(cpu, in, kind, &exc);
	if (x87_empty(cpu, 0)) {
		compare_underflow(cpu, (in->reg & 7) == 3);
		return;
	}
	compare(cpu, m, exc, false, (in->reg & 7) == 3);
}

/* FCOM/FCOMP STi (D8 D0/D8, DC/DE aliases), FUCOM/FUCOMP (DD E0/E8),
 * FCOMPP (DE D9), FUCOMPP (DA E9). */
static void com_reg(struct emu_cpu *cpu, const struct emu_insn *in, bool unordered, unsigned npop)
{
	unsigned i = in->rm & 7;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
		compare_underflow(cpu, npop);
		return;
	}
	compare(cpu, x87_st(cpu, i), 0, unordered, npop);
}

/* FCOMI/FUCOMI(P): ZF, PF, CF from the compare; OF, SF, AF cleared. */
static void comi(struct emu_cpu *cpu, const struct emu_insn *in, bool unordered, bool pop)
{
	unsigned i = in->rm & 7;
	uint64_t f = EMU_FLAG_ZF | EMU_FLAG_PF | EMU_FLAG_CF;
	uint16_t hsw;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) { /* C1 = 0; else C1 unchanged */
		pop = !x87_underflow(cpu) && pop; /* flags "unordered" either way */
	} else {
		x80 a = x87_st(cpu, 0), b = x87_st(cpu, i);

		hsw = (unordered ? emu_x87h_ucom : emu_x87h_com)(&a, &b, NULL, x87_host_cw(cpu),
								 NULL);
		pop = !x87_flag(cpu, hsw & FSW_EXC) && pop; /* flags set either way */
		f = (hsw & FSW_C3 ? EMU_FLAG_ZF : 0) | (hsw & FSW_C2 ? EMU_FLAG_PF : 0) |
		    (hsw & FSW_C0 ? EMU_FLAG_CF : 0);
	}
	emu_flags_flush(cpu);
	cpu->rflags = (cpu->rflags & ~EMU_FLAGS_ARITH) | f;
	if (pop)
		x87_pop(cpu);
}

/* ---- loads ---------------------------------------------------------------------- */

static void load_mem(struct emu_cpu *cpu, const struct emu_insn *in, unsigned kind)
{
	unsigned exc;
	x80 m;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	m = mem_source(cpu, in, kind, &exc);
	if (!x87_empty(cpu, 7)) { /* stack overflow: C1 = 1 */
		x87_set_cc(cpu, x87_get16(cpu, X87_FSW) | FSW_C1);
		if (!x87_flag(cpu, FSW_IE | FSW_SF))
			x87_push(cpu, x87_indefinite());
		return;
	}
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	/* an unmasked invalid operation (SNaN) loads nothing; a denormal m32/
	 * m64 is loaded (exactly) even with DE unmasked, as the host does */
	if (x87_flag(cpu, exc) && (exc & FSW_IE))
		return;
	x87_push(cpu, m);
}

/* FLD STi, and the constants (D9 E8-EE) */
static void push_value(struct emu_cpu *cpu, x80 v, bool underflow)
{
	if (!x87_empty(cpu, 7)) {
		x87_set_cc(cpu, x87_get16(cpu, X87_FSW) | FSW_C1);
		if (!x87_flag(cpu, FSW_IE | FSW_SF))
			x87_push(cpu, x87_indefinite());
		return;
	}
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	if (underflow) {
		if (!x87_flag(cpu, FSW_IE | FSW_SF))
			x87_push(cpu, x87_indefinite());
		return;
	}
	x87_push(cpu, v);
}

/* An empty source is reported (underflow, C1 = 0) before a full stack. */
static void fld_reg(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned i = in->rm & 7;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, i)) {
		x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
		if (!x87_flag(cpu, FSW_IE | FSW_SF))
			x87_push(cpu, x87_indefinite());
		return;
	}
	push_value(cpu, x87_st(cpu, i), false);
}

static void fld_const(struct emu_cpu *cpu, const struct emu_insn *in)
{
	static const x87h_fn fn[8] = { emu_x87h_ld1,   emu_x87h_ldl2t,
				       emu_x87h_ldl2e, emu_x87h_ldpi,
				       emu_x87h_ldlg2, emu_x87h_ldln2,
				       emu_x87h_ldz,   NULL };
	x80 v = 0;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	fn[in->rm & 7](NULL, NULL, &v, x87_host_cw(cpu), NULL);
	push_value(cpu, v, false);
}

/* ---- stores ----------------------------------------------------------------------- */

/* FST/FSTP/FIST/FISTP/FISTTP/FBSTP to memory: kind and whether to pop. */
static void store_mem(struct emu_cpu *cpu, const struct emu_insn *in, unsigned kind, bool pop,
		      bool trunc)
{
	static const unsigned size[] = {
		[X87_M32FP] = 4,  [X87_M64FP] = 8,  [X87_M16INT] = 2, [X87_M32INT] = 4,
		[X87_M64INT] = 8, [X87_M80FP] = 10, [X87_M80BCD] = 10
	};
	uint8_t out[16] = { 0 };
	uint64_t lin;
	uint16_t hsw = 0;
	x80 a;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	lin = x87_lin(cpu, in, size[kind], EMU_ACC_WRITE);
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	if (x87_empty(cpu, 0)) {
		if (x87_underflow(cpu))
			return;
		a = x87_indefinite();
	} else {
		a = x87_st(cpu, 0);
	}
	switch (kind) {
	case X87_M32FP:
		hsw = emu_x87h_st32(&a, NULL, out, x87_host_cw(cpu), NULL);
		break;
	case X87_M64FP:
		hsw = emu_x87h_st64(&a, NULL, out, x87_host_cw(cpu), NULL);
		break;
	case X87_M16INT:
		hsw = (trunc ? emu_x87h_istt16 : emu_x87h_ist16)(&a, NULL, out, x87_host_cw(cpu),
								 NULL);
		break;
	case X87_M32INT:
		hsw = (trunc ? emu_x87h_istt32 : emu_x87h_ist32)(&a, NULL, out, x87_host_cw(cpu),
								 NULL);
		break;
	case X87_M64INT:
		hsw = (trunc ? emu_x87h_istt64 : emu_x87h_ist64)(&a, NULL, out, x87_host_cw(cpu),
								 NULL);
		break;
	case X87_M80BCD:
		hsw = emu_x87h_bstp(&a, NULL, out, x87_host_cw(cpu), NULL);
		break;
	default:
		memcpy(out, &a, 10);
		break;
	}
	/* unmasked IE/OE/UE: memory is not written, nothing popped, and
	 * neither PE nor C1 (round up) is reported (as the host does) */
	if (hsw & ~x87_get16(cpu, X87_FCW) & (FSW_IE | FSW_OE | FSW_UE)) {
		x87_flag(cpu, hsw & (FSW_IE | FSW_DE | FSW_OE | FSW_UE));
		return;
	}
	if (size[kind] <= 8) {
		uint64_t v;

		memcpy(&v, out, 8);
		emu_write_lin(cpu, lin, size[kind], v);
	} else {
		emu_write_bytes(cpu, lin, out, 10);
	}
	host_flags(cpu, hsw, 0);
	if (pop)
		x87_pop(cpu);
}

/* FST/FSTP STi (DD D0/D8, and the D9 D8 / DF D0 / DF D8 aliases) */
static void fst_reg(struct emu_cpu *cpu, const struct emu_insn *in, bool pop)
{
	unsigned i = in->rm & 7;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C1);
	if (x87_empty(cpu, 0)) {
		if (x87_underflow(cpu))
			return;
		x87_st_set(cpu, i, x87_indefinite());
	} else {
		x87_st_set(cpu, i, x87_st(cpu, 0));
	}
	if (pop)
		x87_pop(cpu);
}

/* ---- handlers the decoder names --------------------------------------------------- */

/* memory forms: [opcode - 0xd8][reg] */
static const uint8_t mem_kind[8] = { X87_M32FP, X87_M32FP, X87_M32INT, X87_M32INT,
				     X87_M64FP, X87_M64FP, X87_M16INT, X87_M16INT };

EMU_HANDLER(emu_op_x87_arith_m)
{
	unsigned r = in->reg & 7, kind = mem_kind[in->opcode & 7];

	if (r == 2 || r == 3)
		com_mem(cpu, in, kind);
	else
		arith_mem(cpu, in, kind);
}

EMU_HANDLER(emu_op_x87_arith_r)
{
	arith_reg(cpu, in);
}

EMU_HANDLER(emu_op_x87_fcom_r) /* D8 D0/D8, DC D0/D8, DE D0: FCOM(P) STi */
{
	com_reg(cpu, in, false, (in->reg & 7) == 3 || in->opcode == 0xde);
}

EMU_HANDLER(emu_op_x87_fcompp) /* DE D9 */
{
	com_reg(cpu, in, false, 2);
}

EMU_HANDLER(emu_op_x87_fucom) /* DD E0+i / E8+i */
{
	com_reg(cpu, in, true, (in->reg & 7) == 5);
}

EMU_HANDLER(emu_op_x87_fucompp) /* DA E9 */
{
	com_reg(cpu, in, true, 2);
}

EMU_HANDLER(emu_op_x87_fcomi) /* DB E8/F0, DF E8/F0 */
{
	comi(cpu, in, (in->reg & 7) == 5, in->opcode == 0xdf);
}

EMU_HANDLER(emu_op_x87_fld_m) /* D9 /0, DD /0, DB /0, DB /5, DF /0, DF /4, DF /5 */
{
	unsigned r = in->reg & 7;

	switch (in->opcode) {
	case 0xd9:
		load_mem(cpu, in, X87_M32FP);
		break;
	case 0xdd:
		load_mem(cpu, in, X87_M64FP);
		break;
	case 0xdb:
		load_mem(cpu, in, r == 5 ? X87_M80FP : X87_M32INT);
		break;
	default:
		load_mem(cpu, in, r == 0 ? X87_M16INT : r == 4 ? X87_M80BCD : X87_M64INT);
		break;
	}
}

EMU_HANDLER(emu_op_x87_fst_m) /* FST(P) m32/m64/m80, FIST(P)/FISTTP m16/32/64, FBSTP */
{
	unsigned r = in->reg & 7;
	bool pop = r == 3 || r == 1 || r == 7 || (in->opcode == 0xdf && r == 6);

	switch (in->opcode) {
	case 0xd9:
		store_mem(cpu, in, X87_M32FP, pop, false);
		break;
	case 0xdd:
		if (r == 1)
			store_mem(cpu, in, X87_M64INT, true, true);
		else
			store_mem(cpu, in, X87_M64FP, pop, false);
		break;
	case 0xdb:
		store_mem(cpu, in, r == 7 ? X87_M80FP : X87_M32INT, pop, r == 1);
		break;
	default: /* DF */
		if (r == 6)
			store_mem(cpu, in, X87_M80BCD, true, false);
		else if (r == 7)
			store_mem(cpu, in, X87_M64INT, true, false);
		else
			store_mem(cpu, in, X87_M16INT, pop, r == 1);
		break;
	}
}

EMU_HANDLER(emu_op_x87_fld_r)
{
	fld_reg(cpu, in);
}

EMU_HANDLER(emu_op_x87_fldc)
{
	fld_const(cpu, in);
}

EMU_HANDLER(emu_op_x87_fst_r) /* DD D0 FST, DD D8 / D9 D8 / DF D0 / DF D8 FSTP */
{
	fst_reg(cpu, in, !(in->opcode == 0xdd && (in->reg & 7) == 2));
}

/* Host FSW of an operation on ST0 alone, with empty-register handling. */
void x87_unary(struct emu_cpu *cpu, const struct emu_insn *in, x87h_fn fn, unsigned cc)
{
	x80 a, r;
	uint16_t hsw;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, 0)) {
		if (!x87_underflow(cpu))
			x87_st_set(cpu, 0, x87_indefinite());
		return;
	}
	a = x87_st(cpu, 0);
	hsw = fn(&a, NULL, &r, x87_host_cw(cpu), NULL);
	if (host_flags(cpu, hsw, 0))
		return;
	x87_set_cc(cpu, (x87_get16(cpu, X87_FSW) & ~cc) | (hsw & cc));
	x87_st_set(cpu, 0, r);
}

/* ST0 = op(ST0, ST1) (FPREM, FPREM1, FSCALE: cc = C0-C3 from the host) or
 * ST1 = op(ST1, ST0) and pop (FPATAN, FYL2X, FYL2XP1). */
void x87_binary(struct emu_cpu *cpu, const struct emu_insn *in, x87h_fn fn, bool pop, bool cc)
{
	x80 a, b, r;
	uint16_t hsw;

	x87_enter(cpu, in, X87_WAIT | X87_NOTE);
	if (x87_empty(cpu, 0) || x87_empty(cpu, 1)) {
		if (cc) /* FPREM/FPREM1: C2 = 0 (complete) */
			x87_set_cc(cpu, x87_get16(cpu, X87_FSW) & ~FSW_C2);
		if (x87_underflow(cpu))
			return;
		x87_st_set(cpu, pop ? 1 : 0, x87_indefinite());
		if (pop)
			x87_pop(cpu);
		return;
	}
	a = x87_st(cpu, 0);
	b = x87_st(cpu, 1);
	hsw = fn(&a, &b, &r, x87_host_cw(cpu), NULL);
	if (host_flags(cpu, hsw, 0))
		return;
	if (cc)
		x87_set_cc(cpu, hsw);
	x87_st_set(cpu, pop ? 1 : 0, r);
	if (pop)
		x87_pop(cpu);
}
