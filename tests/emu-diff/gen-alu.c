/* Random sequences, part 2 (gen.h): ALU, INC/DEC/NEG/NOT, shifts and
 * rotates, SHLD/SHRD, MUL/IMUL/DIV/IDIV, each keeping g->undef to what the
 * SDM leaves undefined. */
#include "gen.h"

/* ---- ALU, unary ------------------------------------------------------- */

enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

static void alu_flags(struct gen *g, unsigned op)
{
	g->undef &= ~ARITH;
	if (op == ALU_OR || op == ALU_AND || op == ALU_XOR)
		g->undef |= AF;
}

/* ADD..CMP with an immediate: 80/81/83 /op, or the AL/eAX short form. */
static void alu_imm(struct gen *g, struct gen_insn *in, unsigned op, bool mem)
{
	uint64_t v = diff_rand(&g->rng);

	in->reg = (int)op;
	if (in->size == 1) {
		in->op[0] = 0x80, in->immsize = 1;
	} else if (gen_rand(g, 2)) {
		in->op[0] = 0x83, in->immsize = 1;
	} else {
		in->op[0] = 0x81, in->immsize = in->size == 2 ? 2 : 4;
	}
	in->nop = 1;
	in->imm = v;
	gen_pick_rm(g, in, mem, op != ALU_CMP, 0);
	if (!mem && in->rm.reg == 0 && !in->byte_rex && gen_rand(g, 2)) {
		if (in->size == 2)
			gen_byte(g, 0x66);
		if (in->size == 8)
			gen_byte(g, 0x48);
		gen_byte(g, (uint8_t)(op * 8 + (in->size == 1 ? 4 : 5)));
		gen_imm(g, v, in->size == 1 ? 1 : (in->size == 2 ? 2 : 4));
		return;
	}
	if (mem && op != ALU_CMP && gen_rand(g, 3) == 0)
		in->pfx = 0xf0;
	gen_emit(g, in);
}

void gen_alu(struct gen *g)
{
	unsigned op = (unsigned)gen_rand(g, 8), form = (unsigned)gen_rand(g, 4);
	struct gen_insn in = { .size = gen_pick_size(g), .nop = 1 };

	gen_start8(g, &in);
	if (op == ALU_ADC || op == ALU_SBB)
		gen_need_flags(g, CF);
	if (form == 0) {
		alu_imm(g, &in, op, gen_rand(g, 3) == 0);
	} else {
		/* 00+op*8: r/m <- reg; 02+op*8: reg <- r/m */
		bool to_reg = form == 1 || (form == 2 && gen_rand(g, 2));
		bool mem = form >= 2;

		in.op[0] = (uint8_t)(op * 8 + (in.size == 1 ? 0 : 1) + (to_reg ? 2 : 0));
		in.reg = gen_pick_reg(g, &in, in.size, to_reg && op != ALU_CMP);
		gen_pick_rm(g, &in, mem, !to_reg && op != ALU_CMP, 0);
		if (mem && !to_reg && op != ALU_CMP && gen_rand(g, 3) == 0)
			in.pfx = 0xf0;
		gen_emit(g, &in);
	}
	alu_flags(g, op);
}

/* INC/DEC (FE/FF /0 /1; CF kept), NOT/NEG (F6/F7 /2 /3). */
void gen_unary(struct gen *g)
{
	static const uint8_t ops[4][2] = { { 0xfe, 0 }, { 0xfe, 1 }, { 0xf6, 2 }, { 0xf6, 3 } };
	unsigned k = (unsigned)gen_rand(g, 4);
	struct gen_insn in = { .size = gen_pick_size(g), .nop = 1 };
	bool mem = gen_rand(g, 3) == 0;

	gen_start8(g, &in);
	in.op[0] = (uint8_t)(ops[k][0] + (in.size == 1 ? 0 : 1));
	in.reg = ops[k][1];
	gen_pick_rm(g, &in, mem, true, 0);
	if (mem && gen_rand(g, 2))
		in.pfx = 0xf0;
	gen_emit(g, &in);
	if (k < 2)
		g->undef &= ~(ARITH & ~CF);
	else if (k == 3)
		g->undef &= ~ARITH;
}

/* ---- shifts and rotates -------------------------------------------------- */

enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

/* The flags after a shift of count (already masked) per SDM "SAL/SAR/SHL/
 * SHR" and "RCL/RCR/ROL/ROR": count 0 touches nothing. */
static void shift_flags(struct gen *g, unsigned op, unsigned size, unsigned c)
{
	unsigned bits = size * 8;

	if (c == 0)
		return;
	if (op == SH_RCL || op == SH_RCR) {
		if ((size == 1 && c % 9) || (size == 2 && c % 17) || size >= 4)
			g->undef &= ~CF;
	} else if (op == SH_ROL || op == SH_ROR) {
		g->undef &= ~CF;
	} else {
		g->undef &= ~(ARITH & ~AF);
		g->undef |= AF;
		if (op != SH_SAR && c >= bits)
			g->undef |= CF;
	}
	if (c == 1)
		g->undef &= ~OF;
	else
		g->undef |= OF;
}

static unsigned shift_count(struct gen *g, unsigned size)
{
	static const unsigned edge[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255 };

	if (gen_rand(g, 2))
		return edge[gen_rand(g, sizeof(edge) / sizeof(edge[0]))];
	return (unsigned)gen_rand(g, size * 8 + 2);
}

/* D0/D1 (by 1), C0/C1 ib, D2/D3 (by CL: set first, or unknown). */
void gen_shift(struct gen *g)
{
	static const uint8_t mov_cl = 0xb0; /* B0+r: MOV r8, imm8 */
	unsigned op, form = (unsigned)gen_rand(g, 4), count = 1;
	struct gen_insn in = { .size = gen_pick_size(g), .nop = 1 };

	do
		op = (unsigned)gen_rand(g, 8);
	while (op == SH_SAL); /* /6: undocumented alias */
	if (op == SH_RCL || op == SH_RCR)
		gen_need_flags(g, CF);
	gen_start8(g, &in);
	in.reg = (int)op;
	in.op[0] = (uint8_t)((form == 0 ? 0xd0 : form == 1 ? 0xc0 : 0xd2) + (in.size > 1));
	if (form == 1) {
		count = shift_count(g, in.size);
		in.imm = count, in.immsize = 1;
	} else if (form == 2) {
		count = shift_count(g, in.size);
		gen_emit_opreg(g, 1, &mov_cl, 1, DIFF_RCX, count, 1);
	}
	gen_pick_rm(g, &in, gen_rand(g, 4) == 0, true, 1u << DIFF_RCX);
	gen_emit(g, &in);
	if (form == 3) { /* count unknown: whatever it is may be undefined */
		g->undef |= OF | AF | (op == SH_SHL || op == SH_SHR ? CF : 0);
		return;
	}
	shift_flags(g, op, in.size, count & (in.size == 8 ? 63 : 31));
}

/* SHLD/SHRD r/m, reg, imm8 or CL (0F A4/A5, AC/AD). 16-bit counts above
 * 16 give an undefined result: not generated. */
void gen_shld(struct gen *g)
{
	static const uint8_t mov_cl = 0xb0; /* B0+r: MOV r8, imm8 */
	struct gen_insn in = { .size = gen_pick_size_wide(g), .nop = 2, .op = { 0x0f } };
	bool right = gen_rand(g, 2), by_cl = gen_rand(g, 2);
	unsigned c = (unsigned)gen_rand(g, in.size == 2 ? 17 : in.size * 8 + 8);

	in.op[1] = (uint8_t)((right ? 0xac : 0xa4) + by_cl);
	if (by_cl)
		gen_emit_opreg(g, 1, &mov_cl, 1, DIFF_RCX, c, 1);
	else
		in.imm = c, in.immsize = 1;
	in.reg = gen_pick_src(g);
	gen_pick_rm(g, &in, gen_rand(g, 4) == 0, true, 1u << DIFF_RCX);
	gen_emit(g, &in);
	c &= in.size == 8 ? 63 : 31;
	if (c == 0)
		return;
	g->undef &= ~ARITH;
	g->undef |= AF | (c == 1 ? 0 : OF);
}

/* ---- MUL/IMUL/DIV/IDIV ---------------------------------------------------- */

/* Zero (DIV) or sign-extend (IDIV) the dividend's upper half: MOV AH,0 /
 * CBW for 8 bits, XOR EDX,EDX / CWD/CDQ/CQO otherwise. */
static void div_prepare(struct gen *g, unsigned size, bool sign)
{
	static const uint8_t mov_ah0[] = { 0xb4, 0 }, cbw[] = { 0x66, 0x98 },
			     xor_edx[] = { 0x31, 0xd2 };

	if (size == 1)
		gen_bytes(g, sign ? cbw : mov_ah0, 2);
	else if (!sign)
		gen_bytes(g, xor_edx, 2);
	else
		gen_emit_opreg(g, size, (const uint8_t[]){ 0x99 }, 1, 0, 0, 0);
}

/* Makes the divisor nonzero: OR $1 into a register, MOV imm into memory. */
static void div_nonzero(struct gen *g, const struct gen_insn *div)
{
	struct gen_insn in = *div;

	in.pfx = 0;
	if (in.rm.mem) {
		in.op[0] = in.size == 1 ? 0xc6 : 0xc7;
		in.reg = 0;
		in.imm = diff_rand(&g->rng) | 1;
		in.immsize = in.size == 1 ? 1 : (in.size == 2 ? 2 : 4);
	} else {
		in.op[0] = in.size == 1 ? 0x80 : 0x83;
		in.reg = 1;
		in.imm = 1 + gen_rand(g, 0x7f);
		in.immsize = 1;
	}
	gen_emit(g, &in);
}

static int pick_divisor(struct gen *g, struct gen_insn *in)
{
	int r;

	do
		r = gen_pick_reg(g, in, in->size, true);
	while (r == DIFF_RAX || r == DIFF_RDX || r == GEN_AH);
	return r;
}

void gen_div(struct gen *g)
{
	struct gen_insn in = { .size = gen_pick_size(g), .nop = 1 };
	bool sign = gen_rand(g, 2), prepare = gen_rand(g, 8) != 0;
	unsigned avoid = 1u << DIFF_RAX | 1u << DIFF_RDX;

	gen_start8(g, &in);
	in.op[0] = in.size == 1 ? 0xf6 : 0xf7;
	in.reg = sign ? 7 : 6;
	if (gen_rand(g, 3) == 0)
		gen_pick_mem(g, &in.rm, in.size, prepare, avoid, in.size == 1 && !in.byte_rex);
	else
		in.rm = (struct gen_rm){ .reg = prepare ? pick_divisor(g, &in) : gen_pick_src(g) };
	if (prepare) {
		div_prepare(g, in.size, sign);
		div_nonzero(g, &in);
		/* XOR and OR define all but AF; MOV/CBW/CWD nothing */
		if (in.size > 1 && !sign)
			g->undef = (g->undef & ~ARITH) | AF;
		if (!in.rm.mem)
			g->undef = (g->undef & ~ARITH) | AF;
	}
	gen_mark(g);
	gen_emit(g, &in);
	g->undef |= ARITH;
}

/* MUL/IMUL r/m (F6/F7 /4 /5), IMUL reg, r/m (0F AF), IMUL reg, r/m, imm
 * (6B/69). */
void gen_mul(struct gen *g)
{
	struct gen_insn in = { .size = gen_pick_size(g), .nop = 1 };
	unsigned form = in.size == 1 ? 0 : (unsigned)gen_rand(g, 3);

	gen_start8(g, &in);
	if (form == 0) {
		in.op[0] = in.size == 1 ? 0xf6 : 0xf7;
		in.reg = 4 + (int)gen_rand(g, 2);
	} else if (form == 1) {
		in.op[0] = 0x0f, in.op[1] = 0xaf, in.nop = 2;
		in.reg = gen_pick_dst(g);
	} else {
		bool wide = gen_rand(g, 2);

		in.op[0] = wide ? 0x69 : 0x6b;
		in.reg = gen_pick_dst(g);
		in.imm = diff_rand(&g->rng);
		in.immsize = !wide ? 1 : (in.size == 2 ? 2 : 4);
	}
	gen_pick_rm(g, &in, gen_rand(g, 3) == 0, false, 0);
	gen_emit(g, &in);
	g->undef = (g->undef & ~(CF | OF)) | SF | ZF | AF | PF;
}
