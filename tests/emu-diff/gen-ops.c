/* Random sequences, part 3 (gen.h): MOV/MOVZX/MOVSX/MOVSXD, LEA,
 * CMOVcc/SETcc, PUSH/POP, XCHG/XADD/CMPXCHG, bit instructions, CBW and
 * flag instructions, string instructions, and control flow (Jcc over a
 * block, CALL/RET, ENTER/LEAVE). */
#include "gen.h"

#include <string.h>

/* ---- MOV, MOVZX/MOVSX/MOVSXD, LEA ---------------------------------------- */

static void mov_imm(struct gen *g, struct gen_insn *in)
{
	static const uint8_t b0 = 0xb0, b8 = 0xb8;
	int r;

	if (gen_rand(g, 2)) { /* C6/C7 /0 */
		in->op[0] = in->size == 1 ? 0xc6 : 0xc7;
		in->reg = 0;
		in->imm = diff_rand(&g->rng);
		in->immsize = in->size == 1 ? 1 : (in->size == 2 ? 2 : 4);
		gen_pick_rm(g, in, gen_rand(g, 3) == 0, true, 0);
		gen_emit(g, in);
		return;
	}
	r = gen_pick_reg(g, in, in->size, true);
	if (in->size == 1 && in->byte_rex)
		gen_byte(g, r >= 8 ? 0x41 : 0x40);
	if (in->size == 1)
		gen_emit_opreg(g, 4, &b0, 1, r >= GEN_AH ? r - GEN_AH + 4 : r & 7,
			       diff_rand(&g->rng), 1);
	else
		gen_emit_opreg(g, in->size, &b8, 1, r, diff_rand(&g->rng),
			       in->size == 8 ? 8 : in->size);
}

/* MOVZX/MOVSX (0F B6/B7/BE/BF) from 8 (REX set) or 16 bits, MOVSXD (63). */
static void movx(struct gen *g, struct gen_insn *in)
{
	unsigned k = (unsigned)gen_rand(g, 5), from = k == 4 ? 4 : (k & 1) + 1;

	in->size = from == 4 ? 8 : (from == 1 ? gen_pick_size_wide(g) : 4u << gen_rand(g, 2));
	in->byte_rex = from == 1;
	if (k == 4) {
		in->op[0] = 0x63, in->nop = 1;
	} else {
		in->op[0] = 0x0f, in->nop = 2;
		in->op[1] = (uint8_t)((k & 2 ? 0xbe : 0xb6) + (from == 2));
	}
	in->reg = gen_pick_dst(g);
	if (gen_rand(g, 3) == 0)
		gen_pick_mem(g, &in->rm, from, false, 0, false);
	else
		in->rm = (struct gen_rm){ .reg = gen_pick_src(g) };
	gen_emit(g, in);
}

void gen_mov(struct gen *g)
{
	struct gen_insn in = { .size = gen_pick_size(g), .nop = 1 };
	unsigned form = (unsigned)gen_rand(g, 5);
	bool to_reg = gen_rand(g, 2);

	gen_start8(g, &in);
	if (form == 0) {
		mov_imm(g, &in);
	} else if (form == 1) {
		movx(g, &in);
	} else {
		in.op[0] = (uint8_t)(0x88 + (in.size > 1) + (to_reg ? 2 : 0));
		in.reg = gen_pick_reg(g, &in, in.size, to_reg);
		gen_pick_rm(g, &in, form >= 3, !to_reg, 0);
		gen_emit(g, &in);
	}
}

/* LEA with any addressing form and any registers: no memory access. */
void gen_lea(struct gen *g)
{
	struct gen_insn in = { .size = gen_pick_size_wide(g), .op = { 0x8d }, .nop = 1 };
	struct gen_rm *m = &in.rm;

	in.reg = gen_pick_dst(g);
	*m = (struct gen_rm){ .mem = true, .base = gen_pick_src(g), .index = GEN_NONE };
	m->addr32 = gen_rand(g, 4) == 0;
	m->disp = gen_rand(g, 2) ? gen_small_disp(g) : (int32_t)diff_rand(&g->rng);
	if (gen_rand(g, 2))
		do
			m->index = gen_pick_src(g);
		while (m->index == DIFF_RSP);
	m->scale = (unsigned)gen_rand(g, 4);
	if (gen_rand(g, 6) == 0)
		m->base = GEN_NONE;
	else if (gen_rand(g, 6) == 0)
		*m = (struct gen_rm){ .mem = true,
				      .base = GEN_RIP,
				      .index = GEN_NONE,
				      .target = DIFF_CODE_VA + gen_rand(g, 0x10000) };
	gen_emit(g, &in);
}

/* ---- conditions: CMOVcc, SETcc -------------------------------------------- */

void gen_cc(struct gen *g)
{
	unsigned cc = (unsigned)gen_rand(g, 16);
	struct gen_insn in = { .op = { 0x0f }, .nop = 2 };
	bool mem = gen_rand(g, 4) == 0;

	gen_need_flags(g, gen_cc_flags[cc]);
	if (gen_rand(g, 2)) {
		in.size = gen_pick_size_wide(g);
		in.op[1] = (uint8_t)(0x40 + cc);
		in.reg = gen_pick_dst(g);
		gen_pick_rm(g, &in, mem, false, 0);
	} else {
		in.size = 1;
		gen_start8(g, &in);
		in.op[1] = (uint8_t)(0x90 + cc);
		in.reg = 0;
		gen_pick_rm(g, &in, mem, true, 0);
	}
	gen_emit(g, &in);
}

/* ---- stack: PUSH/POP ------------------------------------------------------- */

void gen_pushpop(struct gen *g)
{
	static const uint8_t push = 0x50, pop = 0x58;
	struct gen_insn in = { .size = 4, .nop = 1 };

	if (g->nested) {
		gen_mov(g);
		return;
	}
	if (g->stack >= 8 && gen_rand(g, 2)) {
		if (gen_rand(g, 4)) {
			gen_emit_opreg(g, 4, &pop, 1, gen_pick_dst(g), 0, 0);
		} else {
			in.op[0] = 0x8f, in.reg = 0;
			gen_pick_mem(g, &in.rm, 8, true, 1u << DIFF_RSP, false);
			gen_emit(g, &in);
		}
		g->stack -= 8;
		return;
	}
	if (g->stack >= GEN_STACK_MAX)
		return;
	switch (gen_rand(g, 4)) {
	case 0:
		gen_byte(g, 0x6a), gen_byte(g, (uint8_t)diff_rand(&g->rng));
		break;
	case 1:
		gen_byte(g, 0x68), gen_imm(g, diff_rand(&g->rng), 4);
		break;
	case 2:
		in.op[0] = 0xff, in.reg = 6;
		gen_pick_mem(g, &in.rm, 8, false, 0, false);
		gen_emit(g, &in);
		break;
	default:
		gen_emit_opreg(g, 4, &push, 1, gen_pick_src(g), 0, 0);
		break;
	}
	g->stack += 8;
}

/* ---- XCHG, XADD, CMPXCHG ---------------------------------------------------- */

void gen_xchg(struct gen *g)
{
	static const uint8_t xchg_ax = 0x90;
	struct gen_insn in = { .size = gen_pick_size(g), .nop = 1 };
	unsigned kind = (unsigned)gen_rand(g, 4);
	bool mem = gen_rand(g, 3) == 0;

	gen_start8(g, &in);
	if (kind == 0 && in.size > 1 && !mem) {
		int r = gen_pick_dst(g);

		gen_emit_opreg(g, in.size, &xchg_ax, 1, r ? r : DIFF_RBX, 0, 0);
		return;
	}
	if (kind <= 1) {
		in.op[0] = (uint8_t)(0x86 + (in.size > 1));
	} else {
		in.op[0] = 0x0f, in.nop = 2;
		in.op[1] = (uint8_t)((kind == 2 ? 0xc0 : 0xb0) + (in.size > 1));
		g->undef &= ~ARITH;
	}
	in.reg = gen_pick_reg(g, &in, in.size, kind != 3);
	gen_pick_rm(g, &in, mem, true, 0);
	if (mem && gen_rand(g, 2))
		in.pfx = 0xf0;
	gen_emit(g, &in);
}

/* ---- bits: BT*, BSF/BSR, POPCNT/LZCNT/TZCNT, BSWAP, MOVBE ------------------ */

/* BT/BTS/BTR/BTC: reg offset on a register (0F A3/AB/B3/BB), immediate
 * offset on a register or memory (0F BA /4-/7). CF only; ZF kept. */
void gen_bt(struct gen *g)
{
	unsigned k = (unsigned)gen_rand(g, 4);
	struct gen_insn in = { .size = gen_pick_size_wide(g), .op = { 0x0f }, .nop = 2 };
	bool mem = gen_rand(g, 3) == 0;

	if (gen_rand(g, 2)) {
		in.op[1] = (uint8_t)(0xa3 + 8 * k);
		in.reg = gen_pick_src(g);
		in.rm = (struct gen_rm){ .reg = k ? gen_pick_dst(g) : gen_pick_src(g) };
	} else {
		in.op[1] = 0xba;
		in.reg = 4 + (int)k;
		in.imm = gen_rand(g, 256), in.immsize = 1;
		gen_pick_rm(g, &in, mem, k != 0, 0);
		if (mem && k && gen_rand(g, 2))
			in.pfx = 0xf0;
	}
	gen_emit(g, &in);
	g->undef = (g->undef & ~CF) | OF | SF | AF | PF;
}

/* BSF/BSR of a source made nonzero first (the destination is undefined
 * for zero); POPCNT, LZCNT, TZCNT when both sides have them. */
void gen_scan(struct gen *g)
{
	static const uint64_t req[3] = { DIFF_REQ_POPCNT, DIFF_REQ_BMI1, DIFF_REQ_LZCNT };
	struct gen_insn in = { .size = gen_pick_size_wide(g), .op = { 0x0f }, .nop = 2 };
	unsigned k = (unsigned)gen_rand(g, 5);

	in.reg = gen_pick_dst(g);
	if (k >= 2 && (g->features & req[k - 2])) {
		in.pfx = 0xf3;
		in.op[1] = (const uint8_t[]){ 0xb8, 0xbc, 0xbd }[k - 2];
		gen_pick_rm(g, &in, gen_rand(g, 3) == 0, false, 0);
		gen_emit(g, &in);
		g->undef = k == 2 ? g->undef & ~ARITH : (g->undef & ~(CF | ZF)) | OF | SF | AF | PF;
		return;
	}
	in.op[1] = k & 1 ? 0xbd : 0xbc;
	in.rm = (struct gen_rm){ .reg = gen_pick_dst(g) };
	gen_emit_opreg(g, in.size, (const uint8_t[]){ 0xb8 }, 1, in.rm.reg,
		       diff_rand(&g->rng) | 1ULL << gen_rand(g, in.size * 8),
		       in.size == 8 ? 8 : in.size);
	gen_emit(g, &in);
	g->undef = (g->undef & ~ZF) | CF | OF | SF | AF | PF;
}

void gen_bswap_movbe(struct gen *g)
{
	struct gen_insn in = { .size = gen_pick_size_wide(g), .op = { 0x0f, 0x38 }, .nop = 3 };
	bool store = gen_rand(g, 2);

	if (!(g->features & DIFF_REQ_MOVBE) || gen_rand(g, 2)) {
		gen_emit_opreg(g, 4 << gen_rand(g, 2), (const uint8_t[]){ 0x0f, 0xc8 }, 2,
			       gen_pick_dst(g), 0, 0);
		return;
	}
	in.op[2] = store ? 0xf1 : 0xf0;
	in.reg = store ? gen_pick_src(g) : gen_pick_dst(g);
	gen_pick_mem(g, &in.rm, in.size, store, 0, false);
	gen_emit(g, &in);
}

/* ---- misc: CBW.., CLC/STC/CMC/CLD/STD, LAHF/SAHF --------------------------- */

void gen_misc(struct gen *g)
{
	static const unsigned sizes[3] = { 2, 4, 8 };

	switch (gen_rand(g, 6)) {
	case 0:
	case 1:
		gen_emit_opreg(g, sizes[gen_rand(g, 3)], (const uint8_t[]){ 0x98 }, 1,
			       (int)gen_rand(g, 2), 0, 0);
		break;
	case 2: /* CMC, CLC, STC */
		gen_need_flags(g, CF);
		gen_byte(g, (const uint8_t[]){ 0xf5, 0xf8, 0xf9 }[gen_rand(g, 3)]);
		g->undef &= ~CF;
		break;
	case 3:
		gen_byte(g, gen_rand(g, 2) ? 0xfc : 0xfd);
		break;
	case 4:
		gen_need_flags(g, SF | ZF | AF | PF | CF);
		gen_byte(g, 0x9f);
		break;
	default:
		gen_byte(g, 0x9e);
		g->undef &= ~(SF | ZF | AF | PF | CF);
		break;
	}
}

/* ---- strings ------------------------------------------------------------------ */

/* MOVS/CMPS (A4/A6), STOS/LODS/SCAS (AA/AC/AE), single or REP/REPE/REPNE,
 * either direction; RSI anywhere in the data area, RDI in the upper page,
 * at most 16 elements. */
void gen_string(struct gen *g)
{
	static const uint8_t ops[5] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
	unsigned k = (unsigned)gen_rand(g, 5), size = gen_pick_size(g);
	unsigned n = (unsigned)gen_rand(g, 17), span = 16 * 8;
	bool down = gen_rand(g, 2);
	uint32_t si = (uint32_t)(span + gen_rand(g, DIFF_DATA_SIZE - 2 * span));
	uint32_t di =
		(uint32_t)(GEN_W_LO + span + gen_rand(g, DIFF_DATA_SIZE - GEN_W_LO - 2 * span));

	gen_byte(g, down ? 0xfd : 0xfc);
	gen_mov32(g, DIFF_RSI, DIFF_DATA_VA + si);
	gen_mov32(g, DIFF_RDI, DIFF_DATA_VA + di);
	gen_mov32(g, DIFF_RCX, n);
	if (gen_rand(g, 4))
		gen_byte(g, k == 1 || k == 4 ? (gen_rand(g, 2) ? 0xf3 : 0xf2) : 0xf3);
	if (size == 2)
		gen_byte(g, 0x66);
	if (size == 8)
		gen_byte(g, 0x48);
	gen_byte(g, (uint8_t)(ops[k] + (size > 1)));
	if ((k == 1 || k == 4) && n) /* a zero count leaves the flags */
		g->undef &= ~(uint64_t)ARITH;
}

/* ---- control flow: Jcc over a block, CALL/RET, ENTER/LEAVE ------------------- */

void gen_jcc(struct gen *g)
{
	unsigned cc = (unsigned)gen_rand(g, 16);
	uint64_t undef_before;
	bool near = gen_rand(g, 3) == 0;
	size_t at, start;

	gen_need_flags(g, gen_cc_flags[cc]);
	undef_before = g->undef;
	if (near)
		gen_byte(g, 0x0f), gen_byte(g, (uint8_t)(0x80 + cc));
	else
		gen_byte(g, (uint8_t)(0x70 + cc));
	at = g->len;
	gen_imm(g, 0, near ? 4 : 1);
	start = g->len;
	g->nested++;
	gen_one(g);
	g->nested--;
	/* A nested block is far below 128 bytes (GEN_ROOM). */
	if (near)
		memcpy(g->buf + at, &(int32_t){ (int32_t)(g->len - start) }, 4);
	else
		g->buf[at] = (uint8_t)(g->len - start);
	/* Either path: what the block defines may not have happened. */
	g->undef |= undef_before;
}

/* CALL over a JMP into a block that ends in RET (or RET imm16 of 0). */
void gen_call(struct gen *g)
{
	static const uint8_t call[] = { 0xe8, 2, 0, 0, 0 };
	size_t at;

	gen_bytes(g, call, sizeof(call));
	gen_byte(g, 0xeb);
	at = g->len;
	gen_byte(g, 0);
	g->nested++;
	g->stack += 8;
	gen_one(g);
	g->stack -= 8;
	g->nested--;
	if (gen_rand(g, 4))
		gen_byte(g, 0xc3);
	else
		gen_byte(g, 0xc2), gen_imm(g, 0, 2);
	g->buf[at] = (uint8_t)(g->len - at - 1);
}

/* ENTER imm16, 0 ... LEAVE around a block that keeps RBP. */
void gen_enter(struct gen *g)
{
	unsigned frame = 8 * (unsigned)gen_rand(g, 9);
	bool keep = g->keep_rbp;

	gen_byte(g, 0xc8), gen_imm(g, frame, 2), gen_byte(g, 0);
	g->nested++;
	g->stack += 8 + frame;
	g->keep_rbp = true;
	gen_one(g);
	g->keep_rbp = keep;
	g->stack -= 8 + frame;
	g->nested--;
	gen_byte(g, 0xc9);
}
