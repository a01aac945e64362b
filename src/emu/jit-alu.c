/* ALU forms and block-final conditional branches done in place by the
 * code generator (jit-emit.h has the contract; docs/emu.md "Call
 * threading").
 *
 * ADD/SUB/AND/OR/XOR/CMP/TEST (without LOCK) with a register, an immediate
 * or (long mode, 64-bit addressing, through the soft TLB's fast path, the
 * handler on a miss) a memory operand, at operand sizes 1, 2,
 * 4 and 8, record the lazy flags exactly as their handlers do
 * (emu_lazy_set(op, size, res, a, b) with a, b and res zero-extended from
 * the operand size), so every later reader (Jcc, SETcc, ADC, PUSHF, an
 * interrupt saving RFLAGS, emu_flags_flush) sees the same state; a record
 * that a later form of the block overwrites before anything can observe it
 * is left out (lz_dead(), before emu_jit_emit_alu()). With rbx
 * = cpu, rax = a, rcx = b, rdx = the host address:
 *
 *	mov(zx) rax, a; mov(zx) rcx, b	; a from the destination operand
 *	mov [rbx + src1], rax; mov [rbx + src2], rcx
 *	op al/ax/eax/rax, cl/cx/ecx/rcx	; SUB for CMP, AND for TEST: zero-extended
 *	mov [rbx + res], rax; mov word [rbx + op], size << 8 | lz
 *	mov destination, al/ax/rax	; not for CMP/TEST; 4 bytes zero-extend
 *
 * AH..BH are byte 1 of RAX..RBX. SHL/SHR/SAR by an immediate record
 * EMU_LZ_CFOF as exec-fast.c's shift_ri does; CMOVcc between registers
 * becomes the host's CMOVcc when the flags' producer is known (below).
 *
 * A Jcc ending the block, when the producer of the flags is one of these
 * forms earlier in the same block with nothing flag-changing in between
 * (the block runs straight through), becomes the same host compare on the
 * recorded operands (SUB: cmp src1, src2; ADD: add; logic: test res, res,
 * at the recorded size), which sets every flag the guest's would, and the
 * host Jcc of the same condition code; after a shift only ZF, SF and PF
 * are known that way (the conditions on them). */
#include "emu/jit-emit.h"

#include "emu/block.h"
#include "emu/core.h"

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

#define ALU_FORMS(name, host, lz, w)                                                          \
	{ emu_op_##name##_EG_r, host, lz, RG, w }, { emu_op_##name##_GE_r, host, lz, GR, w }, \
		{ emu_op_##name##_I_r, host, lz, RI, w },                                     \
		{ emu_op_##name##_EG_m, host, lz, MG, w },                                    \
		{ emu_op_##name##_GE_m, host, lz, GM, w },                                    \
	{                                                                                     \
		emu_op_##name##_I_m, host, lz, MI, w                                          \
	}

static const struct alu_form alu_forms[] = {
	ALU_FORMS(add, 0x01, EMU_LZ_ADD, true),	    ALU_FORMS(sub, 0x29, EMU_LZ_SUB, true),
	ALU_FORMS(and, 0x21, EMU_LZ_LOGIC, true),   ALU_FORMS(or, 0x09, EMU_LZ_LOGIC, true),
	ALU_FORMS(xor, 0x31, EMU_LZ_LOGIC, true),   ALU_FORMS(cmp, 0x29, EMU_LZ_SUB, false),
	ALU_FORMS(test, 0x21, EMU_LZ_LOGIC, false),
};

static bool host_flags(struct emit *e, unsigned cc);

/* With rax = a, rcx = b: the operation and its lazy record. */
static void alu_body(struct emit *e, const struct alu_form *f, unsigned size)
{
	lz_srcs(e, RAX, RCX);
	sized_op(e, size, f->host); /* op rax, rcx */
	put8(e, 0xc8);
	lz_record(e, f->lz, size);
}

/* Register and immediate forms, in any mode. */
static void alu_reg(struct emit *e, const struct emu_insn *in, const struct alu_form *f)
{
	unsigned size = in->opsize;
	uint32_t rm = gpr_off(in->rm, size, in->flags & EMU_IF_HIGH8M);
	uint32_t reg = gpr_off(in->reg, size, in->flags & EMU_IF_HIGH8R);
	uint32_t dst = f->shape == GR ? reg : rm;

	load(e, RAX, size, false, dst);
	if (f->shape == RI)
		imm_rcx(e, in->imm & emu_mask(size));
	else
		load(e, RCX, size, false, f->shape == GR ? rm : reg);
	alu_body(e, f, size);
	if (f->write)
		store_rax(e, size, false, dst);
}

/* Memory forms: the TLB fast path, else the handler (which records the
 * same lazy operation and size, so e->lz_op holds either way). */
static void alu_mem(struct emit *e, const struct emu_insn *in, const struct alu_form *f)
{
	static const uint8_t mov_rdx_rax[] = { 0x48, 0x89, 0xc2 }, jmp[] = { 0xe9 };
	unsigned size = in->opsize;
	uint32_t reg = gpr_off(in->reg, size, in->flags & EMU_IF_HIGH8R);
	bool rmw = f->write && f->shape != GM;
	struct fixup miss, done;

	emu_jit_emit_tlb(e, in, rmw, size, &miss);
	put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
	if (f->shape == GM) {
		load(e, RCX, size, true, 0);
		load(e, RAX, size, false, reg);
	} else {
		load(e, RAX, size, true, 0);
		if (f->shape == MI)
			imm_rcx(e, in->imm & emu_mask(size));
		else
			load(e, RCX, size, false, reg);
	}
	alu_body(e, f, size);
	if (f->write)
		store_rax(e, size, f->shape != GM, reg);
	done = emit_jump(e, jmp, sizeof(jmp));
	fix_jump(e, miss);
	emu_jit_emit_call(e, in);
	fix_jump(e, done);
}

static bool emit_other(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
		       emu_handler fn);

static const struct alu_form *alu_find(emu_handler fn)
{
	for (size_t i = 0; i < sizeof(alu_forms) / sizeof(alu_forms[0]); i++)
		if (alu_forms[i].fn == fn)
			return &alu_forms[i];
	return NULL;
}

/* SHL/SHR/SAR r, imm8 at sizes 4 and 8 with a count that is not 0 once
 * masked (exec-fast.c's shift_ri: 0 changes no flags): the host shift's CF
 * is the last bit out; OF is SHL's msb(res) ^ CF, SHR's msb(a), SAR's 0
 * (the host's is defined for a count of 1 only). Records EMU_LZ_CFOF. */
static bool emit_shift(struct emit *e, const struct emu_insn *in, emu_handler fn)
{
	static const uint8_t setc_cl[] = { 0x0f, 0x92, 0xc1, 0x0f, 0xb6, 0xc9 };
	static const uint8_t mov_rdx_rax[] = { 0x48, 0x89, 0xc2 }, xor_edx[] = { 0x31, 0xd2 };
	unsigned size = in->opsize, bits = size * 8, c = (unsigned)in->imm & (bits - 1);
	uint8_t ext = fn == emu_op_shl ? 4 : fn == emu_op_shr ? 5 : 7;

	if (in->mod != 3 || (in->flags & EMU_IF_CL) || (size != 4 && size != 8) || !c)
		return false;
	load(e, RAX, size, false, reg_disp(in->rm));
	if (ext == 5) { /* rdx = msb(a) */
		put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
		sized_op(e, size, 0xc1);
		put8(e, 0xea); /* shr edx/rdx, bits - 1 */
		put8(e, (uint8_t)(bits - 1));
	}
	sized_op(e, size, 0xc1); /* shl/shr/sar eax/rax, c */
	put8(e, (uint8_t)(0xc0 | ext << 3));
	put8(e, (uint8_t)c);
	put(e, setc_cl, sizeof(setc_cl)); /* ecx = CF */
	if (ext == 4) { /* rdx = msb(res) ^ CF */
		put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
		sized_op(e, size, 0xc1);
		put8(e, 0xea);
		put8(e, (uint8_t)(bits - 1));
		put8(e, 0x31); /* xor edx, ecx */
		put8(e, 0xca);
	} else if (ext == 7) {
		put(e, xor_edx, sizeof(xor_edx));
	}
	store_rax(e, 8, false, reg_disp(in->rm)); /* size 4: rax is zero-extended */
	lz_srcs(e, RCX, RDX); /* src1 = CF, src2 = OF, res */
	lz_record(e, EMU_LZ_CFOF, size);
	return true;
}

/* CMOVcc between registers (sizes 2, 4, 8) when the flags' producer is
 * known: the host's CMOVcc, which like the handler zero-extends a 32-bit
 * destination whether or not it moves. */
static bool emit_cmov(struct emit *e, const struct emu_insn *in)
{
	unsigned cc = in->opcode & 15, size = in->opsize;

	if (in->mod != 3 || size == 1 || !host_flags(e, cc))
		return false;
	load(e, RCX, 8, false, reg_disp(in->reg)); /* mov rcx, r[reg]: flags kept */
	if (size == 2)
		put8(e, 0x66);
	else if (size == 8)
		put8(e, 0x48);
	put8(e, 0x0f); /* cmovcc ecx, [rbx + r[rm]] */
	put8(e, (uint8_t)(0x40 | cc));
	modrm_cpu(e, RCX, reg_disp(in->rm));
	sized_op(e, 8, 0x89); /* mov r[reg], rcx */
	modrm_cpu(e, RCX, reg_disp(in->reg));
	return true;
}

/* The arithmetic flags into cpu->rflags, lazy.op = 0, as
 * emu_flags_flush() does: in place from the host's own flags when the
 * producer is known (its compare, add or test sets them all exactly, but
 * AF, which a logic op leaves 0 and the host's TEST undefined), else a
 * call when lazy.op is not 0. */
void emu_jit_emit_flush(struct emit *e)
{
	static const uint8_t pushf_pop_rcx[] = { 0x9c, 0x59 }, je[] = { 0x0f, 0x84 };
	uint32_t arith = (uint32_t)EMU_FLAGS_ARITH;
	struct fixup skip;

	if (e->lz_op == LZ_FLUSHED)
		return;
	if ((e->lz_op != EMU_LZ_SUB && e->lz_op != EMU_LZ_ADD && e->lz_op != EMU_LZ_LOGIC) ||
	    !host_flags(e, EMU_CC_O)) {
		put8(e, 0x80); /* cmp byte [rbx + op], 0 */
		modrm_cpu(e, 7, LZ_OFF(op));
		put8(e, 0);
		skip = emit_jump(e, je, sizeof(je));
		emu_jit_emit_call_cpu(e, (uintptr_t)emu_flags_flush);
		fix_jump(e, skip);
		e->lz_op = LZ_FLUSHED;
		return;
	}
	if (e->lz_op == EMU_LZ_LOGIC)
		arith &= ~(uint32_t)EMU_FLAG_AF;
	put(e, pushf_pop_rcx, sizeof(pushf_pop_rcx));
	put8(e, 0x81); /* and ecx, arith */
	put8(e, 0xe1);
	put32(e, arith);
	load(e, RAX, 8, false, FL_OFF); /* rflags & ~ARITH | rcx */
	put8(e, 0x48); /* and rax, ~ARITH */
	put8(e, 0x25);
	put32(e, ~(uint32_t)EMU_FLAGS_ARITH);
	put8(e, 0x48); /* or rax, rcx */
	put8(e, 0x09);
	put8(e, 0xc8);
	sized_op(e, 8, 0x89);
	modrm_cpu(e, RAX, FL_OFF);
	put8(e, 0xc6); /* mov byte [rbx + op], 0 */
	modrm_cpu(e, 0, LZ_OFF(op));
	put8(e, 0);
	e->lz_op = LZ_FLUSHED;
}

/* ROL/ROR r, imm8 (sizes 1, 2, 4, 8) with a masked count that is not 0:
 * the flags flushed, the host's rotate, then CF and OF into rflags as
 * exec-shift.c computes them (ROL: CF = lsb, OF = msb ^ CF; ROR: CF = msb,
 * OF = msb ^ the bit below; the count-1 formula at every count). */
static bool emit_rotate(struct emit *e, const struct emu_insn *in, bool rol)
{
	static const uint8_t mov_rcx_rax[] = { 0x48, 0x89, 0xc1 }, mov_edx_ecx[] = { 0x89, 0xca };
	static const uint8_t rol_tail[] = { 0x83, 0xe1, 0x01, 0x31,
					    0xca }; /* and ecx, 1; xor edx, ecx */
	static const uint8_t ror_tail[] = { 0xd1, 0xea, 0x31, 0xd1, 0x83, 0xe1, 0x01 };
	static const uint8_t merge[] = { 0xc1, 0xe1, 0x0b, 0x09,
					 0xd1 }; /* shl ecx, 11; or ecx, edx */
	unsigned size = in->opsize, bits = size * 8, c = (unsigned)in->imm & (size == 8 ? 63 : 31);
	uint32_t rm = gpr_off(in->rm, size, in->flags & EMU_IF_HIGH8M);

	if (in->mod != 3 || (in->flags & EMU_IF_CL) || !c)
		return false;
	emu_jit_emit_flush(e);
	load(e, RAX, size, false, rm);
	sized_op(e, size, 0xc1); /* rol/ror al/ax/eax/rax, c */
	put8(e, rol ? 0xc0 : 0xc8);
	put8(e, (uint8_t)c);
	store_rax(e, size, false, rm);
	put(e, mov_rcx_rax, sizeof(mov_rcx_rax));
	put8(e, 0x48); /* shr rcx, bits - 1 (ROL) or bits - 2 (ROR) */
	put8(e, 0xc1);
	put8(e, 0xe9);
	put8(e, (uint8_t)(bits - (rol ? 1 : 2)));
	if (rol) { /* edx = msb ^ lsb: OF; ecx = lsb: CF */
		put(e, mov_edx_ecx, sizeof(mov_edx_ecx));
		put(e, mov_rcx_rax, sizeof(mov_rcx_rax));
		put(e, rol_tail, sizeof(rol_tail));
		put8(e, 0x87); /* xchg ecx, edx: ecx = OF, edx = CF */
		put8(e, 0xd1);
	} else { /* ecx = the top two bits; edx = msb: CF; ecx = OF */
		put(e, mov_edx_ecx, sizeof(mov_edx_ecx));
		put(e, ror_tail, sizeof(ror_tail));
	}
	put(e, merge, sizeof(merge));
	put8(e, 0x48); /* and qword [rbx + rflags], ~(CF | OF) */
	put8(e, 0x81);
	modrm_cpu(e, 4, FL_OFF);
	put32(e, ~(uint32_t)(EMU_FLAG_CF | EMU_FLAG_OF));
	put8(e, 0x48); /* or [rbx + rflags], rcx */
	put8(e, 0x09);
	modrm_cpu(e, RCX, FL_OFF);
	return true;
}

/* SETcc on a register when the flags' producer is known: the host's. */
static bool emit_setcc(struct emit *e, const struct emu_insn *in)
{
	unsigned cc = in->opcode & 15;

	if (in->mod != 3 || !host_flags(e, cc))
		return false;
	put8(e, 0x0f); /* setcc al */
	put8(e, (uint8_t)(0x90 | cc));
	put8(e, 0xc0);
	store_rax(e, 1, false, gpr_off(in->rm, 1, in->flags & EMU_IF_HIGH8M));
	return true;
}

/* MOV at sizes 1 and 2 (jit.c does 4 and 8) between registers (AH..BH
 * too), of an immediate, and (long mode, 64-bit addressing) with memory
 * through the TLB fast path; MOVSXD into 64 bits from a register or
 * memory. A register written at size 1 or 2 keeps its other bits. */
static bool emit_mov(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
		     emu_handler fn)
{
	static const uint8_t mov_rdx_rax[] = { 0x48, 0x89, 0xc2 }, jmp[] = { 0xe9 };
	unsigned size = in->opsize;
	uint32_t rm = gpr_off(in->rm, size, in->flags & EMU_IF_HIGH8M);
	uint32_t reg = gpr_off(in->reg, size, in->flags & EMU_IF_HIGH8R);
	bool sxd = fn == emu_op_movsxd, store = fn == emu_op_mov_EG_m || fn == emu_op_mov_EI_m;
	struct fixup miss, done;

	if (sxd ? size != 8 : size > 2)
		return false;
	if (fn == emu_op_mov_EG_r || fn == emu_op_mov_GE_r || (sxd && in->mod == 3)) {
		bool eg = fn == emu_op_mov_EG_r;

		if (sxd) { /* movsxd rax, dword [rbx + r[rm]] */
			put8(e, 0x48);
			put8(e, 0x63);
			modrm_cpu(e, RAX, rm);
		} else {
			load(e, RAX, size, false, eg ? reg : rm);
		}
		store_rax(e, size, false, eg ? rm : reg);
		return true;
	}
	if (fn == emu_op_mov_EI_r || fn == emu_op_mov_OI) {
		imm_rcx(e, in->imm & emu_mask(size)); /* mov ecx, imm; the store of cl/cx */
		sized_op(e, size, 0x89);
		modrm_cpu(e, RCX, fn == emu_op_mov_OI ? reg : rm);
		return true;
	}
	if ((!store && fn != emu_op_mov_GE_m && !sxd) || b->mode != EMU_MODE_LONG64 ||
	    in->adsize != 8 || in->disp != (int32_t)in->disp)
		return false;
	emu_jit_emit_tlb(e, in, store, sxd ? 4 : size, &miss);
	put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
	if (sxd) { /* movsxd rax, dword [rdx] */
		put8(e, 0x48);
		put8(e, 0x63);
		put8(e, RDX);
	} else if (fn == emu_op_mov_EI_m) {
		imm_rcx(e, in->imm & emu_mask(size));
	} else {
		load(e, fn == emu_op_mov_EG_m ? RCX : RAX, size, fn == emu_op_mov_GE_m,
		     fn == emu_op_mov_GE_m ? 0 : reg);
	}
	if (store) { /* mov [rdx], cl/cx */
		sized_op(e, size, 0x89);
		put8(e, RDX | RCX << 3);
	} else {
		store_rax(e, sxd ? 8 : size, false, reg);
	}
	done = emit_jump(e, jmp, sizeof(jmp));
	fix_jump(e, miss);
	emu_jit_emit_call(e, in);
	fix_jump(e, done);
	return true;
}

/* rax = a, zero-extended: lock xadd [rdx], al/ax/eax/rax with rax = +1
 * or -1 (the memory operand then holds a +- 1) */
static void emit_lock_xadd(struct emit *e, unsigned size, bool inc)
{
	if (size == 8) /* mov rax, simm32 */
		put8(e, 0x48), put8(e, 0xc7), put8(e, 0xc0);
	else /* mov eax, imm32 */
		put8(e, 0xb8);
	put32(e, inc ? 1u : UINT32_MAX);
	put8(e, 0xf0);
	if (size == 2)
		put8(e, 0x66);
	else if (size == 8)
		put8(e, 0x48);
	put8(e, 0x0f);
	put8(e, size == 1 ? 0xc0 : 0xc1);
	put8(e, RDX);
	if (size <= 2) { /* movzx eax, al/ax */
		put8(e, 0x0f);
		put8(e, size == 1 ? 0xb6 : 0xb7);
		put8(e, 0xc0);
	}
}

/* ecx = CF as emu_get_cf() gives it: from the known producer's record,
 * else by calling it when may_call (rax..rdi are then lost); false when
 * neither. */
static bool emit_cf(struct emit *e, bool may_call)
{
	static const uint8_t setc_cl[] = { 0x0f, 0x92, 0xc1, 0x0f, 0xb6, 0xc9 };
	static const uint8_t and_ecx_1[] = { 0x83, 0xe1, 0x01 },
			     movzx_ecx_al[] = { 0x0f, 0xb6, 0xc8 };

	switch (e->lz_op) {
	case EMU_LZ_SUB:
	case EMU_LZ_ADD:
	case EMU_LZ_LOGIC: /* the host's own CF of the same operation */
		host_flags(e, EMU_CC_B);
		put(e, setc_cl, sizeof(setc_cl));
		return true;
	case EMU_LZ_INC: /* src2 & 1 */
	case EMU_LZ_DEC:
	case EMU_LZ_CFOF: /* src1 & 1 */
	case LZ_FLUSHED: /* rflags & 1 */
		load(e, RCX, 8, false,
		     e->lz_op == LZ_FLUSHED  ? FL_OFF :
		     e->lz_op == EMU_LZ_CFOF ? LZ_OFF(src1) :
					       LZ_OFF(src2));
		put(e, and_ecx_1, sizeof(and_ecx_1));
		return true;
	default:
		if (!may_call)
			return false;
		emu_jit_emit_call_cpu(e, (uintptr_t)emu_get_cf);
		put(e, movzx_ecx_al, sizeof(movzx_ecx_al));
		return true;
	}
}

/* INC/DEC of a register (AH..BH too), or of memory (long mode, 64-bit
 * addressing, through the TLB; LOCK'd as the host's LOCK XADD of +-1,
 * which gives a), recording EMU_LZ_INC/DEC with src2 = the CF before, as
 * exec-alu.c does; CF from a known producer, else from a call of
 * emu_get_cf() (before the TLB check, which needs rcx: it is pushed
 * meanwhile and popped on both paths). */
static bool emit_incdec(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
			bool inc, bool mem)
{
	static const uint8_t mov_rsi_rax[] = { 0x48, 0x89, 0xc6 }, jmp[] = { 0xe9 };
	static const uint8_t mov_rdx_rax[] = { 0x48, 0x89, 0xc2 };
	unsigned size = in->opsize;
	uint32_t rm = gpr_off(in->rm, size, in->flags & EMU_IF_HIGH8M);
	bool lock = in->pfx & EMU_PFX_LOCK;
	struct fixup miss = { 0 }, done;

	if (mem && (b->mode != EMU_MODE_LONG64 || in->adsize != 8 || in->disp != (int32_t)in->disp))
		return false;
	emit_cf(e, true);
	if (!mem) {
		load(e, RAX, size, false, rm);
	} else {
		put8(e, 0x51); /* push rcx */
		emu_jit_emit_tlb(e, in, true, size, &miss);
		put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
		put8(e, 0x59); /* pop rcx */
		if (lock)
			emit_lock_xadd(e, size, inc);
		else
			load(e, RAX, size, true, 0); /* a, zero-extended */
	}
	put(e, mov_rsi_rax, sizeof(mov_rsi_rax));
	sized_op(e, size, 0xff); /* inc/dec al/ax/eax/rax */
	put8(e, inc ? 0xc0 : 0xc8);
	sized_op(e, 8, 0x89); /* src1 = a, src2 = CF */
	modrm_cpu(e, RSI, LZ_OFF(src1));
	sized_op(e, 8, 0x89);
	modrm_cpu(e, RCX, LZ_OFF(src2));
	lz_record(e, inc ? EMU_LZ_INC : EMU_LZ_DEC, size);
	if (!mem) {
		store_rax(e, size, false, rm);
		return true;
	}
	if (!lock)
		store_rax(e, size, true, 0);
	done = emit_jump(e, jmp, sizeof(jmp));
	fix_jump(e, miss);
	put8(e, 0x59); /* pop rcx */
	emu_jit_emit_call(e, in);
	fix_jump(e, done);
	return true;
}

/* IMUL r, r (0F AF) and IMUL r, r, imm (69, 6B) at sizes 2, 4, 8: the
 * host's IMUL at the same size, whose CF = OF is exactly the handler's
 * overflow; EMU_LZ_CFOF with both = that overflow. */
static bool emit_imul(struct emit *e, const struct emu_insn *in, bool three)
{
	static const uint8_t seto_dl[] = { 0x0f, 0x90, 0xc2, 0x0f, 0xb6, 0xd2 };
	unsigned size = in->opsize;

	if (in->mod != 3 || size == 1)
		return false;
	load(e, RAX, size, false, reg_disp(three ? in->rm : in->reg));
	if (three)
		imm_rcx(e, in->imm & emu_mask(size));
	else
		load(e, RCX, size, false, reg_disp(in->rm));
	if (size == 2)
		put8(e, 0x66);
	else if (size == 8)
		put8(e, 0x48);
	put8(e, 0x0f); /* imul eax, ecx */
	put8(e, 0xaf);
	put8(e, 0xc1);
	put(e, seto_dl, sizeof(seto_dl)); /* edx = OF */
	store_rax(e, size, false, reg_disp(in->reg));
	lz_srcs(e, RDX, RDX); /* src1 = src2 = the overflow */
	lz_record(e, EMU_LZ_CFOF, size);
	return true;
}

/* The forms other than the two-operand ALU ones. */
static bool emit_other(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
		       emu_handler fn)
{
	if (fn == emu_op_mov_EG_r || fn == emu_op_mov_GE_r || fn == emu_op_mov_EI_r ||
	    fn == emu_op_mov_OI || fn == emu_op_mov_EG_m || fn == emu_op_mov_GE_m ||
	    fn == emu_op_mov_EI_m || fn == emu_op_movsxd)
		return emit_mov(e, b, in, fn);
	if ((fn == emu_op_shl || fn == emu_op_shr || fn == emu_op_sar) && !(in->flags & EMU_IF_CL))
		return emit_shift(e, in, fn);
	if (fn == emu_op_cmov)
		return emit_cmov(e, in);
	if (fn == emu_op_rol || fn == emu_op_ror)
		return emit_rotate(e, in, fn == emu_op_rol);
	if (fn == emu_op_setcc)
		return emit_setcc(e, in);
	if (fn == emu_op_imul2 || fn == emu_op_imul3)
		return emit_imul(e, in, fn == emu_op_imul3);
	if (fn == emu_op_inc_r || fn == emu_op_dec_r)
		return emit_incdec(e, b, in, fn == emu_op_inc_r, false);
	if ((fn == emu_op_inc_m || fn == emu_op_dec_m) && in->mod != 3)
		return emit_incdec(e, b, in, fn == emu_op_inc_m, true);
	return emu_jit_emit_rmw(e, b, in, fn);
}

/* A register move jit.c or emit_mov() does in place (any size): no flags. */
static bool is_reg_move(const struct emu_insn *in, emu_handler fn)
{
	bool ea_ok = in->adsize == 8 && in->disp == (int32_t)in->disp;

	if (fn == emu_op_mov_EG_r || fn == emu_op_mov_GE_r || fn == emu_op_mov_EI_r ||
	    fn == emu_op_mov_OI || fn == emu_op_nop)
		return true;
	if (fn == emu_op_movsxd)
		return in->mod == 3 && in->opsize == 8;
	if (fn == emu_op_lea)
		return ea_ok && (in->opsize == 4 || in->opsize == 8);
	if (fn == emu_op_movzx8 || fn == emu_op_movzx16)
		return in->mod == 3 && (in->opsize == 4 || in->opsize == 8) &&
		       !(fn == emu_op_movzx8 && (in->flags & EMU_IF_HIGH8M));
	return false;
}

/* What in, as emu_jit_emit_alu() or jit.c emits it, does with the flags:
 * FL_SET, it sets the whole lazy record whenever it completes, with
 * lz_record(); FL_READ, something may observe them (a condition, a
 * handler's call, a fault, e.g. on a memory form's TLB-miss path);
 * neither, it cannot touch or see them. Mirrors the conditions under which
 * the forms are emitted in place; anything else counts as a reader. */
#define FL_SET 1u
#define FL_READ 2u

static unsigned flags_use(const struct emu_block *b, const struct emu_insn *in)
{
	emu_handler fn = emu_fast_generic(in->fn);
	const struct alu_form *f = alu_find(fn);
	unsigned size = in->opsize;

	if (f && !(in->pfx & EMU_PFX_LOCK)) {
		if (f->shape < MG)
			return FL_SET;
		if (b->mode == EMU_MODE_LONG64 && in->adsize == 8 && in->disp == (int32_t)in->disp)
			return FL_SET | FL_READ; /* the miss path's handler may fault */
		return FL_READ;
	}
	if ((fn == emu_op_shl || fn == emu_op_shr || fn == emu_op_sar) && in->mod == 3 &&
	    !(in->flags & EMU_IF_CL) && (size == 4 || size == 8) && (in->imm & (size * 8 - 1)))
		return FL_SET;
	if ((fn == emu_op_imul2 || fn == emu_op_imul3) && in->mod == 3 && size != 1)
		return FL_SET;
	return is_reg_move(in, fn) ? 0 : FL_READ;
}

/* Whether in (not b's last instruction) sets the whole lazy record in
 * place and a later instruction of b sets it again before anything can
 * observe the flags (a condition, a handler's call, a fault, b's end):
 * then its record need not be written (e->lz_dead). */
static bool lz_dead(const struct emu_block *b, const struct emu_insn *in)
{
	const struct emu_insn *last = &b->insn[b->n - 1];

	if (!(flags_use(b, in) & FL_SET))
		return false;
	for (in++; in != last; in++) {
		unsigned use = flags_use(b, in);

		if (use & FL_READ)
			return false;
		if (use & FL_SET)
			return true;
	}
	return false; /* the last instruction and the block's end read them */
}

bool emu_jit_emit_alu(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
		      emu_handler fn)
{
	const struct alu_form *f = alu_find(fn);
	bool mem;

	e->lz_dead = lz_dead(b, in);
	if (!f)
		return emit_other(e, b, in, fn);
	if (in->pfx & EMU_PFX_LOCK)
		return false;
	mem = f->shape >= MG;
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

/* Host flags that answer condition cc as the guest's would, from the lazy
 * record of the producer e->lz_op at e->lz_size (rax is clobbered); false
 * when they cannot. */
static bool host_flags(struct emit *e, unsigned cc)
{
	unsigned size = e->lz_size;
	uint8_t op = e->lz_op;

	if (op == LZ_FLUSHED && cc >> 1 == EMU_CC_B >> 1) { /* bt dword [rbx + rflags], 0 */
		put8(e, 0x0f);
		put8(e, 0xba);
		modrm_cpu(e, 4, FL_OFF);
		put8(e, 0);
		return true;
	}
	/* after a shift (CFOF), ZF, SF and PF still come from res */
	if (op == EMU_LZ_CFOF &&
	    (cc >> 1 == EMU_CC_E >> 1 || cc >> 1 == EMU_CC_S >> 1 || cc >> 1 == EMU_CC_P >> 1))
		op = EMU_LZ_LOGIC;
	switch (op) {
	case EMU_LZ_INC: /* mov rax, [src1]; inc/dec al/ax/eax/rax: all but CF */
	case EMU_LZ_DEC:
		if (cc >> 1 == EMU_CC_B >> 1 || cc >> 1 == EMU_CC_BE >> 1)
			return false;
		load(e, RAX, 8, false, LZ_OFF(src1));
		sized_op(e, size, 0xff);
		put8(e, op == EMU_LZ_INC ? 0xc0 : 0xc8);
		return true;
	case EMU_LZ_SUB: /* mov rax, [src1]; cmp al/ax/eax/rax, [src2] */
	case EMU_LZ_ADD: /* ...; add al/ax/eax/rax, [src2] */
		load(e, RAX, 8, false, LZ_OFF(src1));
		sized_op(e, size, op == EMU_LZ_SUB ? 0x3b : 0x03);
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

bool emu_jit_emit_cond(struct emit *e, const struct emu_insn *in, struct fixup *taken)
{
	emu_handler fn = emu_fast_generic(in->fn);
	unsigned cc = 0;
	struct fixup skip = { 0 };
	uint8_t jncc[2];

	if (fn != emu_op_jmp) {
		while (cc < 16 && jcc_fns[cc] != fn)
			cc++;
		if (cc == 16 || !host_flags(e, cc))
			return false;
		jncc[0] = 0x0f; /* jncc: the guest's condition codes are the host's */
		jncc[1] = (uint8_t)(0x80 | (cc ^ (taken ? 0 : 1)));
		skip = emit_jump(e, jncc, sizeof(jncc));
		if (taken) { /* jcc to the caller's taken exit */
			*taken = skip;
			return true;
		}
	} else if (taken) {
		taken->w = NULL;
		taken->x = 0;
	}
	emu_jit_emit_rip(e, in->imm);
	if (fn != emu_op_jmp)
		fix_jump(e, skip);
	return true;
}
