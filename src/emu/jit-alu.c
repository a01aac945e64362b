/* ALU forms and block-final conditional branches done in place by the
 * code generator (jit-emit.h has the contract; docs/emu.md "Call
 * threading").
 *
 * ADD/SUB/AND/OR/XOR/CMP/TEST (without LOCK) with a register, an immediate
 * or (long mode, 64-bit addressing, through the soft TLB's fast path, the
 * handler on a miss) a memory operand, at operand sizes 1 (not AH..BH), 2,
 * 4 and 8, record the lazy flags exactly as their handlers do
 * (emu_lazy_set(op, size, res, a, b) with a, b and res zero-extended from
 * the operand size), so every later reader (Jcc, SETcc, ADC, PUSHF, an
 * interrupt saving RFLAGS, emu_flags_flush) sees the same state. With rbx
 * = cpu, rax = a, rcx = b, rdx = the host address:
 *
 *	mov(zx) rax, a; mov(zx) rcx, b	; a from the destination operand
 *	mov [rbx + src1], rax; mov [rbx + src2], rcx
 *	op al/ax/eax/rax, cl/cx/ecx/rcx	; SUB for CMP, AND for TEST: zero-extended
 *	mov [rbx + res], rax; mov word [rbx + op], size << 8 | lz
 *	mov destination, al/ax/rax	; not for CMP/TEST; 4 bytes zero-extend
 *
 * A Jcc ending the block, when the producer of the flags is one of these
 * forms earlier in the same block with nothing flag-changing in between
 * (the block runs straight through), becomes the same host compare on the
 * recorded operands (SUB: cmp src1, src2; ADD: add; logic: test res, res,
 * at the recorded size), which sets every flag the guest's would, and the
 * host Jcc of the same condition code. */
#include "emu/jit-emit.h"

#include "emu/block.h"
#include "emu/core.h"

enum { RAX, RCX, RDX }; /* host registers (ModRM numbering) */

enum alu_shape {
	RG, /* r/m(reg) op= reg: EG_r */
	GR, /* reg op= r/m(reg): GE_r */
	RI, /* r/m(reg) op= imm: I_r */
	MG, /* r/m(mem) op= reg: EG_m */
	GM, /* reg op= r/m(mem): GE_m */
	MI, /* r/m(mem) op= imm: I_m */
};

struct alu_form {
	emu_handler fn; /* the generic handler */
	uint8_t host; /* the host opcode of "op r/m32, r32" doing it */
	uint8_t lz; /* EMU_LZ_* it records */
	uint8_t shape;
	bool write; /* the result is stored (not CMP/TEST) */
};

#define ALU_FORMS(name, host, lz, w)                                                       \
	{ emu_op_##name##_EG_r, host, lz, RG, w }, { emu_op_##name##_GE_r, host, lz, GR, w }, \
		{ emu_op_##name##_I_r, host, lz, RI, w },                                  \
		{ emu_op_##name##_EG_m, host, lz, MG, w },                                 \
		{ emu_op_##name##_GE_m, host, lz, GM, w }, {                               \
		emu_op_##name##_I_m, host, lz, MI, w                                       \
	}

static const struct alu_form alu_forms[] = {
	ALU_FORMS(add, 0x01, EMU_LZ_ADD, true),	    ALU_FORMS(sub, 0x29, EMU_LZ_SUB, true),
	ALU_FORMS(and, 0x21, EMU_LZ_LOGIC, true),   ALU_FORMS(or, 0x09, EMU_LZ_LOGIC, true),
	ALU_FORMS(xor, 0x31, EMU_LZ_LOGIC, true),   ALU_FORMS(cmp, 0x29, EMU_LZ_SUB, false),
	ALU_FORMS(test, 0x21, EMU_LZ_LOGIC, false),
};

#define LZ_OFF(f) ((uint32_t)offsetof(struct emu_cpu, lazy.f))
static_assert(offsetof(struct emu_lazy, size) == offsetof(struct emu_lazy, op) + 1,
	      "op and size are written as one word");

/* The operand-size prefix, REX.W, and the opcode (the byte form is one
 * less than the others for every opcode used here). */
static void sized_op(struct emit *e, unsigned size, uint8_t op)
{
	if (size == 2)
		put8(e, 0x66);
	else if (size == 8)
		put8(e, 0x48);
	put8(e, size == 1 ? (uint8_t)(op - 1) : op);
}

/* ModRM for reg and [rbx + off] */
static void modrm_cpu(struct emit *e, unsigned reg, uint32_t off)
{
	if (off < 128) {
		put8(e, (uint8_t)(0x43 | reg << 3));
		put8(e, (uint8_t)off);
	} else {
		put8(e, (uint8_t)(0x83 | reg << 3));
		put32(e, off);
	}
}

/* reg = the size-byte value at [rbx + off] (or at [rdx] when mem),
 * zero-extended to 64 bits */
static void load(struct emit *e, unsigned reg, unsigned size, bool mem, uint32_t off)
{
	if (size <= 2) {
		put8(e, 0x0f);
		put8(e, size == 1 ? 0xb6 : 0xb7);
	} else {
		if (size == 8)
			put8(e, 0x48);
		put8(e, 0x8b);
	}
	if (mem)
		put8(e, (uint8_t)(RDX | reg << 3));
	else
		modrm_cpu(e, reg, off);
}

/* the size-byte store of rax to [rbx + off] (or [rdx] when mem); a
 * register written at size 4 is zero-extended (rax already is) */
static void store_rax(struct emit *e, unsigned size, bool mem, uint32_t off)
{
	sized_op(e, !mem && size == 4 ? 8 : size, 0x89);
	if (mem)
		put8(e, RDX);
	else
		modrm_cpu(e, RAX, off);
}

/* rcx = v */
static void imm_rcx(struct emit *e, uint64_t v)
{
	if (v <= UINT32_MAX) { /* mov ecx, imm32 */
		put8(e, 0xb9);
		put32(e, (uint32_t)v);
	} else if ((int64_t)v == (int32_t)v) { /* mov rcx, simm32 */
		put8(e, 0x48);
		put8(e, 0xc7);
		put8(e, 0xc1);
		put32(e, (uint32_t)v);
	} else { /* mov rcx, imm64 */
		put8(e, 0x48);
		put8(e, 0xb9);
		put64(e, v);
	}
}

/* With rax = a, rcx = b: the operation and its lazy record. */
static void alu_body(struct emit *e, const struct alu_form *f, unsigned size)
{
	sized_op(e, 8, 0x89); /* mov [rbx + src1], rax; mov [rbx + src2], rcx */
	modrm_cpu(e, RAX, LZ_OFF(src1));
	sized_op(e, 8, 0x89);
	modrm_cpu(e, RCX, LZ_OFF(src2));
	sized_op(e, size, f->host); /* op rax, rcx */
	put8(e, 0xc8);
	sized_op(e, 8, 0x89); /* mov [rbx + res], rax */
	modrm_cpu(e, RAX, LZ_OFF(res));
	put8(e, 0x66); /* mov word [rbx + op], size << 8 | lz */
	put8(e, 0xc7);
	modrm_cpu(e, 0, LZ_OFF(op));
	put8(e, f->lz);
	put8(e, (uint8_t)size);
	e->lz_op = f->lz;
	e->lz_size = (uint8_t)size;
}

/* Register and immediate forms, in any mode. */
static void alu_reg(struct emit *e, const struct emu_insn *in, const struct alu_form *f)
{
	unsigned size = in->opsize, dst = f->shape == GR ? in->reg : in->rm;

	load(e, RAX, size, false, reg_disp(dst));
	if (f->shape == RI)
		imm_rcx(e, in->imm & emu_mask(size));
	else
		load(e, RCX, size, false, reg_disp(f->shape == GR ? in->rm : in->reg));
	alu_body(e, f, size);
	if (f->write)
		store_rax(e, size, false, reg_disp(dst));
}

/* Memory forms: the TLB fast path, else the handler (which records the
 * same lazy operation and size, so e->lz_op holds either way). */
static void alu_mem(struct emit *e, const struct emu_insn *in, const struct alu_form *f)
{
	static const uint8_t mov_rdx_rax[] = { 0x48, 0x89, 0xc2 }, jmp[] = { 0xe9 };
	unsigned size = in->opsize;
	bool rmw = f->write && f->shape != GM;
	struct fixup miss, done;

	emu_jit_emit_tlb(e, in, rmw, size, &miss);
	put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
	if (f->shape == GM) {
		load(e, RCX, size, true, 0);
		load(e, RAX, size, false, reg_disp(in->reg));
	} else {
		load(e, RAX, size, true, 0);
		if (f->shape == MI)
			imm_rcx(e, in->imm & emu_mask(size));
		else
			load(e, RCX, size, false, reg_disp(in->reg));
	}
	alu_body(e, f, size);
	if (f->write)
		store_rax(e, size, f->shape != GM, reg_disp(in->reg));
	done = emit_jump(e, jmp, sizeof(jmp));
	fix_jump(e, miss);
	emu_jit_emit_call(e, in);
	fix_jump(e, done);
}

static const struct alu_form *alu_find(emu_handler fn)
{
	for (size_t i = 0; i < sizeof(alu_forms) / sizeof(alu_forms[0]); i++)
		if (alu_forms[i].fn == fn)
			return &alu_forms[i];
	return NULL;
}

bool emu_jit_emit_alu(struct emit *e, const struct emu_block *b, const struct emu_insn *in)
{
	const struct alu_form *f = alu_find(emu_fast_generic(in->fn));
	bool mem;

	if (!f || (in->pfx & EMU_PFX_LOCK))
		return false;
	mem = f->shape >= MG;
	/* AH..BH: the decoder flags rm (HIGH8M) and reg (HIGH8R) whenever
	 * they are 4-7 without REX; only a byte register operand matters */
	if (in->opsize == 1 && ((!mem && (in->flags & EMU_IF_HIGH8M)) ||
				(f->shape != RI && f->shape != MI && (in->flags & EMU_IF_HIGH8R))))
		return false;
	if (!mem) {
		alu_reg(e, in, f);
		return true;
	}
	if (b->mode != EMU_MODE_LONG64 || in->adsize != 8 || in->disp != (int32_t)in->disp)
		return false;
	alu_mem(e, in, f);
	return true;
}

/* ---- the block-final branch ------------------------------------------------ */

static const emu_handler jcc_fns[16] = {
	emu_op_jcc_0, emu_op_jcc_1, emu_op_jcc_2, emu_op_jcc_3, emu_op_jcc_4, emu_op_jcc_5,
	emu_op_jcc_6, emu_op_jcc_7, emu_op_jcc_8, emu_op_jcc_9, emu_op_jcc_a, emu_op_jcc_b,
	emu_op_jcc_c, emu_op_jcc_d, emu_op_jcc_e, emu_op_jcc_f,
};

/* The host flags the guest's would have, from the lazy record of the
 * producer e->lz_op at e->lz_size; false when it is not one of those. */
static bool host_flags(struct emit *e)
{
	unsigned size = e->lz_size;

	switch (e->lz_op) {
	case EMU_LZ_SUB: /* mov rax, [src1]; cmp al/ax/eax/rax, [src2] */
	case EMU_LZ_ADD: /* ...; add al/ax/eax/rax, [src2] */
		load(e, RAX, 8, false, LZ_OFF(src1));
		sized_op(e, size, e->lz_op == EMU_LZ_SUB ? 0x3b : 0x03);
		modrm_cpu(e, RAX, LZ_OFF(src2));
		return true;
	case EMU_LZ_LOGIC: /* mov rax, [res]; test al/ax/eax/rax, same */
		load(e, RAX, 8, false, LZ_OFF(res));
		sized_op(e, size, 0x85);
		put8(e, 0xc0);
		return true;
	default:
		return false;
	}
}

bool emu_jit_emit_cond(struct emit *e, const struct emu_insn *in)
{
	emu_handler fn = emu_fast_generic(in->fn);
	unsigned cc = 0;
	struct fixup skip = { 0 };
	uint8_t jncc[2];

	if (fn != emu_op_jmp) {
		while (cc < 16 && jcc_fns[cc] != fn)
			cc++;
		if (cc == 16 || !host_flags(e))
			return false;
		jncc[0] = 0x0f; /* jncc: the guest's condition codes are the host's */
		jncc[1] = (uint8_t)(0x80 | (cc ^ 1));
		skip = emit_jump(e, jncc, sizeof(jncc));
	}
	emu_jit_emit_rip(e, in->imm);
	if (fn != emu_op_jmp)
		fix_jump(e, skip);
	put8(e, 0x5b); /* pop rbx; ret */
	put8(e, 0xc3);
	return true;
}
