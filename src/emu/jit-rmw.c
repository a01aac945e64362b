/* More forms done in place by the code generator (jit-emit.h has the
 * contract; docs/emu.md "Call threading"), the ones Linux's block read
 * path still called handlers for, by dynamic count (2026-12-08):
 *
 * - NOT and NEG of a register (all sizes, AH..BH too). NOT changes no
 *   flags; NEG records EMU_LZ_SUB with src1 = 0, src2 = a, as
 *   exec-alu.c's unary_flags() does.
 * - CMPXCHG with memory (long mode, 64-bit addressing; with or without
 *   LOCK): the host's LOCK CMPXCHG at the host address the soft TLB's
 *   write fast path gives, then RAX (only when unequal, as the handler)
 *   and the lazy record EMU_LZ_SUB of acc - cur; on a miss the handler.
 * - BT/BTS/BTR/BTC of memory with an immediate bit (sizes 2, 4, 8): the
 *   flags flushed in place (or emu_flags_flush() called when lazy.op is
 *   set), the host's instruction on the host address (LOCK kept), and
 *   CF into rflags, as exec-bit.c's set_cf_only(); on a miss the
 *   handler, which leaves the same state (lazy.op 0), so e->lz_op is
 *   LZ_FLUSHED either way, and a following JB/JAE, SETcc or CMOVcc on CF
 *   reads rflags' CF in place (jit-alu.c host_flags()).
 *
 * Nothing architectural changes before the TLB check passes. */
#include "emu/jit-emit.h"

#include "emu/block.h"
#include "emu/core.h"

static const uint8_t mov_rdx_rax[] = { 0x48, 0x89, 0xc2 }, jmp[] = { 0xe9 };

/* Whether in's memory operand may take the TLB fast path in place. */
static bool mem_ok(const struct emu_block *b, const struct emu_insn *in)
{
	return in->mod != 3 && b->mode == EMU_MODE_LONG64 && in->adsize == 8 &&
	       in->disp == (int32_t)in->disp;
}

/* jmp done; miss: the handler; done: */
static void miss_call(struct emit *e, const struct emu_insn *in, struct fixup miss)
{
	struct fixup done = emit_jump(e, jmp, sizeof(jmp));

	fix_jump(e, miss);
	emu_jit_emit_call(e, in);
	fix_jump(e, done);
}

/* NOT/NEG of a register. */
static bool emit_unary(struct emit *e, const struct emu_insn *in, bool neg)
{
	static const uint8_t xor_eax[] = { 0x31, 0xc0 }, not_eax[] = { 0xf7, 0xd0 };
	unsigned size = in->opsize;
	uint32_t rm = gpr_off(in->rm, size, in->flags & EMU_IF_HIGH8M);

	if (in->mod != 3)
		return false;
	if (!neg && size != 4) { /* not byte/word/qword [rbx + rm] */
		sized_op(e, size, 0xf7);
		modrm_cpu(e, 2, rm);
		return true;
	}
	if (!neg) { /* a 32-bit result zero-extends */
		load(e, RAX, 4, false, rm);
		put(e, not_eax, sizeof(not_eax));
		store_rax(e, 4, false, rm);
		return true;
	}
	load(e, RCX, size, false, rm); /* rcx = a; rax = 0; src1, src2; sub rax, rcx */
	put(e, xor_eax, sizeof(xor_eax));
	sized_op(e, 8, 0x89);
	modrm_cpu(e, RAX, LZ_OFF(src1));
	sized_op(e, 8, 0x89);
	modrm_cpu(e, RCX, LZ_OFF(src2));
	sized_op(e, size, 0x29);
	put8(e, 0xc8);
	lz_record(e, EMU_LZ_SUB, size);
	store_rax(e, size, false, rm);
	return true;
}

/* CMPXCHG r/m(mem), reg: rdx = host address, rax = acc, rsi = acc, rcx =
 * src; lock cmpxchg [rdx], rcx leaves rax = cur either way. */
static bool emit_cmpxchg(struct emit *e, const struct emu_block *b, const struct emu_insn *in)
{
	static const uint8_t mov_rsi_rax[] = { 0x48, 0x89, 0xc6 }, je[] = { 0x0f, 0x84 };
	static const uint8_t mov_rcx_rsi[] = { 0x48, 0x89, 0xf1 };
	unsigned size = in->opsize;
	struct fixup miss, same;

	if (!mem_ok(b, in))
		return false;
	emu_jit_emit_tlb(e, in, true, size, &miss);
	put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
	load(e, RAX, size, false, reg_disp(EMU_RAX));
	put(e, mov_rsi_rax, sizeof(mov_rsi_rax));
	load(e, RCX, size, false, gpr_off(in->reg, size, in->flags & EMU_IF_HIGH8R));
	put8(e, 0xf0); /* lock cmpxchg [rdx], cl/cx/ecx/rcx */
	if (size == 2)
		put8(e, 0x66);
	else if (size == 8)
		put8(e, 0x48);
	put8(e, 0x0f);
	put8(e, size == 1 ? 0xb0 : 0xb1);
	put8(e, RDX | RCX << 3);
	same = emit_jump(e, je, sizeof(je));
	store_rax(e, size, false, reg_disp(EMU_RAX)); /* unequal: RAX = cur */
	fix_jump(e, same);
	lz_srcs(e, RSI, RAX); /* src1 = acc, src2 = cur, res = acc - cur */
	put(e, mov_rcx_rsi, sizeof(mov_rcx_rsi));
	sized_op(e, size, 0x29); /* sub cl/cx/ecx/rcx, al/ax/eax/rax: zero-extended */
	put8(e, 0xc1);
	lz_record_from(e, RCX, EMU_LZ_SUB, size);
	miss_call(e, in, miss); /* the handler records the same */
	return true;
}

/* BT/BTS/BTR/BTC m, imm8 (ext: the host's 0F BA /ext). */
static bool emit_bt(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
		    unsigned ext)
{
	static const uint8_t setc_cl[] = { 0x0f, 0x92, 0xc1, 0x0f, 0xb6, 0xc9 };
	unsigned size = in->opsize;
	struct fixup miss;

	if (!mem_ok(b, in) || size == 1)
		return false;
	emu_jit_emit_flush(e);
	emu_jit_emit_tlb(e, in, ext != 4, size, &miss);
	if ((in->pfx & EMU_PFX_LOCK) && ext != 4)
		put8(e, 0xf0);
	if (size == 2)
		put8(e, 0x66);
	else if (size == 8)
		put8(e, 0x48);
	put8(e, 0x0f); /* bt* [rax], imm8 */
	put8(e, 0xba);
	put8(e, (uint8_t)(ext << 3));
	put8(e, (uint8_t)(in->imm & (size * 8 - 1)));
	put(e, setc_cl, sizeof(setc_cl));
	put8(e, 0x48); /* and qword [rbx + rflags], ~CF */
	put8(e, 0x83);
	modrm_cpu(e, 4, FL_OFF);
	put8(e, (uint8_t)~EMU_FLAG_CF);
	sized_op(e, 8, 0x09); /* or [rbx + rflags], rcx */
	modrm_cpu(e, RCX, FL_OFF);
	miss_call(e, in, miss);
	e->lz_op = LZ_FLUSHED;
	return true;
}

/* SHL/SHR/SAR r, CL at sizes 4 and 8: a masked count of 0 only writes
 * the register back (zero-extending at size 4, as emu_reg_set() does)
 * and changes no flags; any other count as jit-alu.c's emit_shift() by
 * an immediate (EMU_LZ_CFOF, CF the last bit out, OF SHL's msb(res) ^
 * CF, SHR's msb(a), SAR's 0). Either way the flags' producer is unknown
 * afterwards. */
static bool emit_shift_cl(struct emit *e, const struct emu_insn *in, emu_handler fn)
{
	static const uint8_t setc_sil[] = { 0x40, 0x0f, 0x92, 0xc6, 0x40, 0x0f, 0xb6, 0xf6 };
	static const uint8_t xor_edx[] = { 0x31, 0xd2 }, je[] = { 0x0f, 0x84 };
	unsigned size = in->opsize, bits = size * 8;
	uint8_t ext = fn == emu_op_shl ? 4 : fn == emu_op_shr ? 5 : 7;
	uint32_t rm = reg_disp(in->rm);
	struct fixup zero;

	if (in->mod != 3 || (size != 4 && size != 8))
		return false;
	load(e, RCX, 4, false, reg_disp(EMU_RCX));
	load(e, RAX, size, false, rm);
	put8(e, 0x83); /* and ecx, bits - 1 */
	put8(e, 0xe1);
	put8(e, (uint8_t)(bits - 1));
	zero = emit_jump(e, je, sizeof(je));
	if (ext == 5) { /* rdx = msb(a) */
		put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
		sized_op(e, size, 0xc1);
		put8(e, 0xea);
		put8(e, (uint8_t)(bits - 1));
	}
	sized_op(e, size, 0xd3); /* shl/shr/sar eax/rax, cl */
	put8(e, (uint8_t)(0xc0 | ext << 3));
	put(e, setc_sil, sizeof(setc_sil)); /* esi = CF */
	if (ext == 4) { /* rdx = msb(res) ^ CF */
		put(e, mov_rdx_rax, sizeof(mov_rdx_rax));
		sized_op(e, size, 0xc1);
		put8(e, 0xea);
		put8(e, (uint8_t)(bits - 1));
		put8(e, 0x31); /* xor edx, esi */
		put8(e, 0xf2);
	} else if (ext == 7) {
		put(e, xor_edx, sizeof(xor_edx));
	}
	sized_op(e, 8, 0x89); /* src1 = CF, src2 = OF, res */
	modrm_cpu(e, RSI, LZ_OFF(src1));
	sized_op(e, 8, 0x89);
	modrm_cpu(e, RDX, LZ_OFF(src2));
	lz_record(e, EMU_LZ_CFOF, size);
	fix_jump(e, zero);
	store_rax(e, 8, false, rm); /* size 4: rax is zero-extended */
	e->lz_op = EMU_LZ_NONE;
	return true;
}

bool emu_jit_emit_rmw(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
		      emu_handler fn)
{
	static const emu_handler bt_fns[] = { emu_op_bt_I, emu_op_bts_I, emu_op_btr_I,
					      emu_op_btc_I };

	if (fn == emu_op_not || fn == emu_op_neg)
		return emit_unary(e, in, fn == emu_op_neg);
	if (fn == emu_op_shl || fn == emu_op_shr || fn == emu_op_sar)
		return emit_shift_cl(e, in, fn);
	if (fn == emu_op_cmpxchg)
		return emit_cmpxchg(e, b, in);
	for (unsigned k = 0; k < 4; k++)
		if (fn == bt_fns[k])
			return emit_bt(e, b, in, 4 + k);
	return false;
}
