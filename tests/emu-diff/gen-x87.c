/* Random sequences, part 4 (gen.h): the x87 map (D8-DF). One group starts
 * with FNINIT (the host's x87 state is whatever the harness left), may load
 * a random precision/rounding control (and, rarely, unmask exceptions: the
 * run may then end in #MF), runs random x87 instructions on random data
 * (the data area's random bytes make NaNs, denormals, unnormals, infinities
 * as m32/m64/m80 operands), and ends by storing FSW and the eight
 * registers (FSTP m80, empty ones as the indefinite NaN) to the upper data
 * page, then FNINIT. FCOMI/FUCOMI define ZF/PF/CF and clear OF/SF/AF;
 * FCMOVcc reads the flags its condition needs. */
#include "gen.h"

#define X87_OUT (DIFF_DATA_VA + 0x1c00) /* FSW and ST0-7 dump */
#define X87_CW (DIFF_DATA_VA + 0x1bf0)

/* op /digit with an absolute [disp32] operand (ModRM 00 reg 100, SIB 25) */
static void emit_abs(struct gen *g, uint8_t op, unsigned digit, uint32_t addr)
{
	gen_mark(g);
	gen_byte(g, op);
	gen_byte(g, (uint8_t)((digit << 3) | 4));
	gen_byte(g, 0x25);
	gen_imm(g, addr, 4);
}

static void emit2(struct gen *g, uint8_t a, uint8_t b)
{
	gen_mark(g);
	gen_byte(g, a);
	gen_byte(g, b);
}

static uint32_t src_addr(struct gen *g)
{
	return (uint32_t)(DIFF_DATA_VA + 0x100 + gen_rand(g, 0xe00));
}

static uint32_t dst_addr(struct gen *g)
{
	return (uint32_t)(DIFF_DATA_VA + 0x1000 + gen_rand(g, 0xb00));
}

/* FLDCW of a random PC/RC; masks all but, one time in eight, one exception. */
static void control_word(struct gen *g)
{
	uint16_t cw = (uint16_t)(0x40 | 0x3f | (gen_rand(g, 4) << 10) | (gen_rand(g, 4) << 8));
	static const uint8_t mov16[] = { 0x66, 0xc7, 0x04, 0x25 };

	if (gen_rand(g, 8) == 0)
		cw &= (uint16_t) ~(1u << gen_rand(g, 6));
	gen_mark(g);
	gen_bytes(g, mov16, sizeof(mov16));
	gen_imm(g, X87_CW, 4);
	gen_imm(g, cw, 2);
	emit_abs(g, 0xd9, 5, X87_CW);
}

static void load(struct gen *g)
{
	static const struct {
		uint8_t op, digit;
	} m[] = {
		{ 0xd9, 0 }, { 0xdd, 0 }, { 0xdb, 5 }, { 0xdf, 0 }, { 0xdb, 0 }, { 0xdf, 5 },
	};
	unsigned k = (unsigned)gen_rand(g, 8);

	if (k < 6)
		emit_abs(g, m[k].op, m[k].digit, src_addr(g));
	else if (k == 6)
		emit2(g, 0xd9, (uint8_t)(0xc0 + gen_rand(g, 8))); /* FLD STi */
	else
		emit2(g, 0xd9, (uint8_t)(0xe8 + gen_rand(g, 7))); /* constants */
}

static void arith(struct gen *g)
{
	static const uint8_t mem_ops[] = { 0xd8, 0xdc, 0xda, 0xde };
	unsigned k = (unsigned)gen_rand(g, 3), digit = (unsigned)gen_rand(g, 8);

	if (k == 0) {
		emit_abs(g, mem_ops[gen_rand(g, 4)], digit, src_addr(g));
	} else {
		static const uint8_t reg_ops[] = { 0xd8, 0xdc, 0xde };

		emit2(g, reg_ops[gen_rand(g, 3)], (uint8_t)(0xc0 | (digit << 3) | gen_rand(g, 8)));
	}
}

static void unary(struct gen *g)
{
	/* FCHS FABS FTST FXAM, F2XM1..FCOS (D9 F0-FF), FNOP */
	static const uint8_t ops[] = { 0xe0, 0xe1, 0xe4, 0xe5, 0xf0, 0xf1, 0xf2,
				       0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
				       0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0xd0 };

	emit2(g, 0xd9, ops[gen_rand(g, sizeof(ops))]);
}

static void compare(struct gen *g)
{
	unsigned i = (unsigned)gen_rand(g, 8);

	switch (gen_rand(g, 6)) {
	case 0:
		emit2(g, 0xd8, (uint8_t)(0xd0 + gen_rand(g, 16)));
		break; /* FCOM(P) */
	case 1:
		emit2(g, 0xdd, (uint8_t)(0xe0 + gen_rand(g, 16)));
		break; /* FUCOM(P) */
	case 2: /* FCOMPP, FUCOMPP */
		if (gen_rand(g, 2))
			emit2(g, 0xde, 0xd9);
		else
			emit2(g, 0xda, 0xe9);
		break;
	case 3:
		emit_abs(g, gen_rand(g, 2) ? 0xd8 : 0xdc, 2 + (unsigned)gen_rand(g, 2),
			 src_addr(g));
		break;
	default: /* FCOMI FUCOMI FCOMIP FUCOMIP */
		emit2(g, gen_rand(g, 2) ? 0xdb : 0xdf,
		      (uint8_t)((gen_rand(g, 2) ? 0xe8 : 0xf0) + i));
		g->undef &= ~(uint64_t)ARITH;
		break;
	}
}

static void stack_op(struct gen *g)
{
	unsigned i = (unsigned)gen_rand(g, 8), cc = (unsigned)gen_rand(g, 4);
	static const uint64_t cc_flags[4] = { CF, ZF, CF | ZF, PF };

	switch (gen_rand(g, 5)) {
	case 0:
		emit2(g, 0xd9, (uint8_t)(0xc8 + i));
		break; /* FXCH */
	case 1:
		emit2(g, 0xdd, (uint8_t)(0xc0 + i));
		break; /* FFREE */
	case 2:
		emit2(g, 0xdd, (uint8_t)(0xd0 + gen_rand(g, 16)));
		break; /* FST(P) STi */
	default: /* FCMOVcc */
		gen_need_flags(g, cc_flags[cc]);
		emit2(g, gen_rand(g, 2) ? 0xdb : 0xda, (uint8_t)(0xc0 + (cc << 3) + i));
		break;
	}
}

static void store(struct gen *g)
{
	static const struct {
		uint8_t op, digit;
	} m[] = {
		{ 0xd9, 2 }, { 0xd9, 3 }, { 0xdd, 2 }, { 0xdd, 3 }, { 0xdb, 7 },
		{ 0xdf, 2 }, { 0xdf, 3 }, { 0xdb, 2 }, { 0xdb, 3 }, { 0xdf, 7 },
		{ 0xdf, 1 }, { 0xdb, 1 }, { 0xdd, 1 }, { 0xdf, 6 },
	};
	unsigned k = (unsigned)gen_rand(g, sizeof(m) / sizeof(m[0]));

	emit_abs(g, m[k].op, m[k].digit, dst_addr(g));
}

void gen_x87(struct gen *g)
{
	unsigned n = 1 + (unsigned)gen_rand(g, 6);

	/* the registers' contents survive FNINIT (FXAM of an empty one shows
	 * its sign): +0.0 in all eight, not what the harness left */
	emit2(g, 0xdb, 0xe3); /* FNINIT */
	for (unsigned i = 0; i < 8; i++)
		emit2(g, 0xd9, 0xee); /* FLDZ */
	emit2(g, 0xdb, 0xe3);
	if (gen_rand(g, 2))
		control_word(g);
	for (unsigned i = 0; i < n; i++) {
		switch (gen_rand(g, 7)) {
		case 0:
		case 1:
			load(g);
			break;
		case 2:
			arith(g);
			break;
		case 3:
			unary(g);
			break;
		case 4:
			compare(g);
			break;
		case 5:
			stack_op(g);
			break;
		default:
			store(g);
			break;
		}
	}
	emit_abs(g, 0xdd, 7, X87_OUT); /* FNSTSW */
	for (unsigned i = 0; i < 8; i++)
		emit_abs(g, 0xdb, 7, X87_OUT + 16 + 16 * i); /* FSTP m80 */
	emit2(g, 0xdb, 0xe3);
}
