/* Specialized forms of the hottest handlers, picked once at decode time
 * (emu_fast_pick(), called by emu_decode()) so that what runs millions of
 * times per second makes no decision the decoder could have made.
 *
 * The generic handlers (exec-mov.c, exec-alu.c, exec-stack.c,
 * exec-branch.c) switch on the operand size, the high-byte registers, the
 * address size, the mode and the segment at every execution, and their
 * memory accesses go through emu_seg_lin() and emu_read_lin(). A handler
 * here is one instruction form with all of that fixed:
 *   - the operand size (1, 2, 4, 8) is a constant, so a register write is
 *     one store (32-bit writes zero-extend, 8/16-bit ones merge); forms with
 *     AH..BH are never specialized;
 *   - memory operands are 64-bit mode with a 64-bit address size only, in
 *     one of four shapes (base+disp, base+index*scale+disp, index*scale+
 *     disp, disp alone: absolute or RIP-relative, already folded), with the
 *     FS/GS base added or not (the other segments have base 0 in 64-bit
 *     mode). A block is decoded for one mode and runs only in that mode
 *     (block.c keys blocks by mode; mode changes end a block), so the
 *     handler need not check it;
 *   - the soft-TLB hit path is inline: one compare of the slot's tag with
 *     the page of the access's last byte (an access that crosses into the
 *     next page names a page whose slot is another one, so it never
 *     matches; nor does a non-canonical address) and a host load or store.
 *     Everything else (a miss, a page crossing, MMIO, a code page, a
 *     non-canonical address with its #GP or #SS) goes out of line to the
 *     generic accessors with the same segment and offset, so faults,
 *     CR2 and error codes are exactly the generic handlers'.
 * Flags are recorded lazily as the generic handlers do (core.h).
 *
 * Map: memory operands (address shapes, the inline TLB hit); the memory
 * operations; their instantiation per shape, segment kind and size;
 * register forms; shifts by an immediate; the 64-bit stack; the picker
 * (emu_fast_pick) and its inverse (emu_fast_generic). */
#include "emu/core.h"
#include <pthread.h>

/* ---- memory operands (64-bit mode, 64-bit addresses) ------------------- */

enum { F_B, F_X, F_I, F_D, NFORM }; /* base+disp, base+index, index, disp */

#define FAST_INLINE static inline __attribute__((always_inline))

FAST_INLINE uint64_t ea_off(const struct emu_cpu *cpu, const struct emu_insn *in, int form)
{
	switch (form) {
	case F_B:
		return cpu->r[in->base] + (uint64_t)in->disp;
	case F_X:
		return cpu->r[in->base] + (cpu->r[in->index] << in->scale) + (uint64_t)in->disp;
	case F_I:
		return (cpu->r[in->index] << in->scale) + (uint64_t)in->disp;
	default:
		return (uint64_t)in->disp;
	}
}

FAST_INLINE uint64_t off_lin(const struct emu_cpu *cpu, int seg, uint64_t off, bool fsgs)
{
	return fsgs ? off + cpu->seg[seg].base : off;
}

/* The page tag an access of size bytes at lin must find in lin's slot. */
FAST_INLINE uint64_t want_tag(uint64_t lin, unsigned size)
{
	return (lin + size - 1) & ~0xfffULL;
}

/* True, with *p the host address, when the soft TLB allows an access of
 * size bytes at seg:off (write: tag_write, which only a writable, dirty
 * page without decoded code has). False: the handler then runs its generic
 * form from the start, which takes every slow path; nothing has changed. */
FAST_INLINE bool seg_hit(struct emu_cpu *cpu, int seg, uint64_t off, bool fsgs, unsigned size,
			 bool write, void **p)
{
	uint64_t lin = off_lin(cpu, seg, off, fsgs);
	const struct emu_tlb_entry *t = emu_tlb_slot(cpu, lin);

	*p = (void *)(uintptr_t)(lin + t->addend);
	return __builtin_expect((write ? t->tag_write : t->tag_read) == want_tag(lin, size), 1);
}

FAST_INLINE bool mem_hit(struct emu_cpu *cpu, const struct emu_insn *in, int form, bool fsgs,
			 unsigned size, bool write, void **p)
{
	return seg_hit(cpu, in->seg, ea_off(cpu, in, form), fsgs, size, write, p);
}

/* Register access at a constant size (no AH..BH: never specialized). */
FAST_INLINE uint64_t rget(const struct emu_cpu *cpu, unsigned r, unsigned size)
{
	return emu_reg_get(cpu, r, size, false);
}

FAST_INLINE void rset(struct emu_cpu *cpu, unsigned r, unsigned size, uint64_t v)
{
	emu_reg_set(cpu, r, size, false, v);
}

/* ---- the operations, at a constant form, segment kind and size ---------- */

/* One memory access of msz bytes (W: a write; for a read-modify-write the
 * write permission covers the read); on a TLB miss the generic handler gen
 * runs instead. body uses p (the host address) and s (the operand size;
 * for MOVZX/MOVSX the destination's). */
#define OP_MEM(name, gen, msz, W, body)                                                         \
	FAST_INLINE void name(struct emu_cpu *cpu, const struct emu_insn *in, int form, bool g, \
			      unsigned s)                                                       \
	{                                                                                       \
		void *p;                                                                        \
		if (!mem_hit(cpu, in, form, g, msz, W, &p)) {                                   \
			gen(cpu, in);                                                           \
			return;                                                                 \
		}                                                                               \
		body;                                                                           \
	}
#define LD(n) emu_load_host(p, n)

OP_MEM(mov_ld, emu_op_mov_GE_m, s, 0, rset(cpu, in->reg, s, LD(s)))
OP_MEM(mov_st, emu_op_mov_EG_m, s, 1, emu_store_host(p, s, rget(cpu, in->reg, s)))
OP_MEM(mov_sti, emu_op_mov_EI_m, s, 1, emu_store_host(p, s, in->imm))
OP_MEM(movzx8_ld, emu_op_movzx8, 1, 0, rset(cpu, in->reg, s, LD(1)))
OP_MEM(movzx16_ld, emu_op_movzx16, 2, 0, rset(cpu, in->reg, s, LD(2)))
OP_MEM(movsx8_ld, emu_op_movsx8, 1, 0, rset(cpu, in->reg, s, emu_sext(LD(1), 1)))
OP_MEM(movsx16_ld, emu_op_movsx16, 2, 0, rset(cpu, in->reg, s, emu_sext(LD(2), 2)))
OP_MEM(movsxd_ld, emu_op_movsxd, 4, 0, rset(cpu, in->reg, s, emu_sext(LD(4), 4)))

/* CMP/TEST with a memory operand: read only, flags as the generic forms. */
FAST_INLINE void cmp_lazy(struct emu_cpu *cpu, unsigned s, uint64_t a, uint64_t b)
{
	emu_lazy_set(cpu, EMU_LZ_SUB, s, (a - b) & emu_mask(s), a, b);
}

FAST_INLINE void test_lazy(struct emu_cpu *cpu, unsigned s, uint64_t a, uint64_t b)
{
	emu_lazy_set(cpu, EMU_LZ_LOGIC, s, a & b, a, b);
}

OP_MEM(cmp_mg, emu_op_cmp_EG_m, s, 0, cmp_lazy(cpu, s, LD(s), rget(cpu, in->reg, s)))
OP_MEM(cmp_gm, emu_op_cmp_GE_m, s, 0, cmp_lazy(cpu, s, rget(cpu, in->reg, s), LD(s)))
OP_MEM(cmp_mi, emu_op_cmp_I_m, s, 0, cmp_lazy(cpu, s, LD(s), in->imm &emu_mask(s)))
OP_MEM(test_mg, emu_op_test_EG_m, s, 0, test_lazy(cpu, s, LD(s), rget(cpu, in->reg, s)))
OP_MEM(test_mi, emu_op_test_I_m, s, 0, test_lazy(cpu, s, LD(s), in->imm &emu_mask(s)))

/* a op b at size s: records the flags, returns the result */
#define ALU_FN(name, op, lz)                                                                     \
	FAST_INLINE uint64_t alu_##name(struct emu_cpu *cpu, unsigned s, uint64_t a, uint64_t b) \
	{                                                                                        \
		uint64_t r = (a op b)&emu_mask(s);                                               \
		emu_lazy_set(cpu, lz, s, r, a, b);                                               \
		return r;                                                                        \
	}

ALU_FN(add, +, EMU_LZ_ADD)
ALU_FN(sub, -, EMU_LZ_SUB)
ALU_FN(and, &, EMU_LZ_LOGIC)
ALU_FN(or, |, EMU_LZ_LOGIC)
ALU_FN(xor, ^, EMU_LZ_LOGIC)
ALU_FN(cmp, -, EMU_LZ_SUB)
ALU_FN(test, &, EMU_LZ_LOGIC)

/* reg op= m, m op= reg and m op= imm (without LOCK: the picker leaves
 * LOCK'd forms generic) */
#define OP_ALU_MEM(name)                                                                \
	OP_MEM(name##_gm, emu_op_##name##_GE_m, s, 0,                                   \
	       rset(cpu, in->reg, s, alu_##name(cpu, s, rget(cpu, in->reg, s), LD(s)))) \
	OP_MEM(name##_mg, emu_op_##name##_EG_m, s, 1,                                   \
	       emu_store_host(p, s, alu_##name(cpu, s, LD(s), rget(cpu, in->reg, s))))  \
	OP_MEM(name##_mi, emu_op_##name##_I_m, s, 1,                                    \
	       emu_store_host(p, s, alu_##name(cpu, s, LD(s), in->imm &emu_mask(s))))

OP_ALU_MEM(add)
OP_ALU_MEM(sub)
OP_ALU_MEM(and)
OP_ALU_MEM(or)
OP_ALU_MEM(xor)

/* LEA: no memory access; the generic handler's emu_admask is a no-op at a
 * 64-bit address size. The segment plays no part. */
FAST_INLINE void lea_f(struct emu_cpu *cpu, const struct emu_insn *in, int form, bool g, unsigned s)
{
	(void)g;
	rset(cpu, in->reg, s, ea_off(cpu, in, form));
}

/* ---- instantiation: one handler per (form, FS/GS or not, size) ---------- */

#define INST1(op, f, g, s)                    \
	static EMU_HANDLER(op##_##f##g##_##s) \
	{                                     \
		op(cpu, in, F_##f, g, s);     \
	}
#define INST_S(op, f, g) INST1(op, f, g, 1) INST1(op, f, g, 2) INST1(op, f, g, 4) INST1(op, f, g, 8)
#define INST_G(op, f) INST_S(op, f, 0) INST_S(op, f, 1)
#define TAB_S(op, f, g)                                                            \
	{                                                                          \
		op##_##f##g##_1, op##_##f##g##_2, op##_##f##g##_4, op##_##f##g##_8 \
	}
#define TAB_F(op, f)                             \
	{                                        \
		TAB_S(op, f, 0), TAB_S(op, f, 1) \
	}
#define INST(op)                                                                       \
	INST_G(op, B)                                                                  \
	INST_G(op, X)                                                                  \
	INST_G(op, I)                                                                  \
	INST_G(op, D)                                                                  \
	static const emu_handler op##_tab[NFORM][2][4] = { TAB_F(op, B), TAB_F(op, X), \
							   TAB_F(op, I), TAB_F(op, D) };

INST(mov_ld)
INST(mov_st)
INST(mov_sti)
INST(movzx8_ld)
INST(movzx16_ld)
INST(movsx8_ld)
INST(movsx16_ld)
INST(movsxd_ld)
INST(cmp_mg)
INST(cmp_gm)
INST(cmp_mi)
INST(test_mg)
INST(test_mi)
#define INST_ALU(op) INST(op##_gm) INST(op##_mg) INST(op##_mi)
INST_ALU(add)
INST_ALU(sub)
INST_ALU(and)
INST_ALU(or)
INST_ALU(xor)
INST(lea_f)

/* ---- register forms ------------------------------------------------------ */

#define REG_OP(name, expr)                                                                \
	FAST_INLINE void name(struct emu_cpu *cpu, const struct emu_insn *in, unsigned s) \
	{                                                                                 \
		expr;                                                                     \
	}

REG_OP(mov_rg, rset(cpu, in->rm, s, rget(cpu, in->reg, s))) /* 88/89: rm <- reg */
REG_OP(mov_gr, rset(cpu, in->reg, s, rget(cpu, in->rm, s))) /* 8A/8B: reg <- rm */
REG_OP(mov_ri, rset(cpu, in->rm, s, in->imm)) /* C6/C7 */
REG_OP(mov_oi, rset(cpu, in->reg, s, in->imm)) /* B0-BF */
REG_OP(movzx8_r, rset(cpu, in->reg, s, rget(cpu, in->rm, 1)))
REG_OP(movzx16_r, rset(cpu, in->reg, s, rget(cpu, in->rm, 2)))
REG_OP(movsxd_r, rset(cpu, in->reg, s, emu_sext(rget(cpu, in->rm, 4), 4)))

/* ALU r/m, r and r, r/m and r/m, imm on registers; W is STORE_R (the result
 * goes to the named operand) or DROP_R (CMP, TEST) */
#define ALU_R(name, W)                                                                             \
	REG_OP(name##_rg, W(rm, alu_##name(cpu, s, rget(cpu, in->rm, s), rget(cpu, in->reg, s))))  \
	REG_OP(name##_gr, W(reg, alu_##name(cpu, s, rget(cpu, in->reg, s), rget(cpu, in->rm, s)))) \
	REG_OP(name##_ri, W(rm, alu_##name(cpu, s, rget(cpu, in->rm, s), in->imm &emu_mask(s))))
#define STORE_R(field, v) rset(cpu, in->field, s, v)
#define DROP_R(field, v) (void)(v)

ALU_R(add, STORE_R)
ALU_R(sub, STORE_R)
ALU_R(and, STORE_R)
ALU_R(or, STORE_R)
ALU_R(xor, STORE_R)
ALU_R(cmp, DROP_R)
ALU_R(test, DROP_R)

#define RINST1(op, s)                \
	static EMU_HANDLER(op##_##s) \
	{                            \
		op(cpu, in, s);      \
	}
#define RINST(op)     \
	RINST1(op, 1) \
	RINST1(op, 2) \
	RINST1(op, 4) \
	RINST1(op, 8) static const emu_handler op##_tab[4] = { op##_1, op##_2, op##_4, op##_8 };
#define RINST_ALU(op) RINST(op##_rg) RINST(op##_gr) RINST(op##_ri)

RINST(mov_rg)
RINST(mov_gr)
RINST(mov_ri)
RINST(mov_oi)
RINST(movzx8_r)
RINST(movzx16_r)
RINST(movsxd_r)
RINST_ALU(add)
RINST_ALU(sub)
RINST_ALU(and)
RINST_ALU(or)
RINST_ALU(xor)
RINST_ALU(cmp)
RINST_ALU(test)

/* SHL/SHR/SAR r, imm8 with a count that is not 0 once masked (a count of
 * 0 changes no flags: the generic form). Flags as exec-shift.c: CF the
 * last bit out, OF by the count-1 formula, SF/ZF/PF from the result. */
FAST_INLINE void shift_ri(struct emu_cpu *cpu, const struct emu_insn *in, unsigned s, int kind)
{
	unsigned bits = s * 8, c = (unsigned)in->imm & (s == 8 ? 63 : 31);
	uint64_t a = rget(cpu, in->rm, s), m = emu_mask(s), r;
	bool cf, of;

	if (kind == 0) { /* SHL */
		r = (a << c) & m;
		cf = (a >> (bits - c)) & 1;
		of = ((r >> (bits - 1)) & 1) ^ cf;
	} else if (kind == 1) { /* SHR */
		r = a >> c;
		cf = (a >> (c - 1)) & 1;
		of = (a >> (bits - 1)) & 1;
	} else { /* SAR */
		int64_t v = (int64_t)(a << (64 - bits)) >> (64 - bits);

		r = (uint64_t)(v >> c) & m;
		cf = (v >> (c - 1)) & 1;
		of = false;
	}
	rset(cpu, in->rm, s, r);
	emu_lazy_cfof(cpu, s, r, cf, of);
}

static EMU_HANDLER(shl_ri_4)
{
	shift_ri(cpu, in, 4, 0);
}

static EMU_HANDLER(shl_ri_8)
{
	shift_ri(cpu, in, 8, 0);
}

static EMU_HANDLER(shr_ri_4)
{
	shift_ri(cpu, in, 4, 1);
}

static EMU_HANDLER(shr_ri_8)
{
	shift_ri(cpu, in, 8, 1);
}

static EMU_HANDLER(sar_ri_4)
{
	shift_ri(cpu, in, 4, 2);
}

static EMU_HANDLER(sar_ri_8)
{
	shift_ri(cpu, in, 8, 2);
}

/* ---- 64-bit stack: PUSH/POP r64, CALL rel32, RET --------------------------- */

/* The memory access comes before RSP changes, and a miss (a non-canonical
 * RSP included: it never hits) runs the generic handler from the start. */
static EMU_HANDLER(push64)
{
	uint64_t v = cpu->r[in->reg], sp = cpu->r[EMU_RSP] - 8;
	void *p;

	if (!seg_hit(cpu, EMU_SS, sp, false, 8, true, &p)) {
		emu_op_push_O(cpu, in);
		return;
	}
	emu_store_host(p, 8, v);
	cpu->r[EMU_RSP] = sp;
}

/* POP RSP leaves RSP = the popped value (the increment comes first). */
static EMU_HANDLER(pop64)
{
	uint64_t sp = cpu->r[EMU_RSP];
	void *p;

	if (!seg_hit(cpu, EMU_SS, sp, false, 8, false, &p)) {
		emu_op_pop_O(cpu, in);
		return;
	}
	cpu->r[EMU_RSP] = sp + 8;
	cpu->r[in->reg] = emu_load_host(p, 8);
}

/* CALL ends its block: cpu->rip is already the return address. */
static EMU_HANDLER(call64)
{
	uint64_t sp = cpu->r[EMU_RSP] - 8;
	void *p;

	if (!seg_hit(cpu, EMU_SS, sp, false, 8, true, &p)) {
		emu_op_call(cpu, in);
		return;
	}
	emu_store_host(p, 8, cpu->rip);
	cpu->r[EMU_RSP] = sp;
	cpu->rip = in->imm;
}

/* RET (C3): a non-canonical target is #GP(0) with nothing popped. */
static EMU_HANDLER(ret64)
{
	uint64_t sp = cpu->r[EMU_RSP], target;
	void *p;

	if (!seg_hit(cpu, EMU_SS, sp, false, 8, false, &p)) {
		emu_op_ret(cpu, in);
		return;
	}
	target = emu_load_host(p, 8);
	if (__builtin_expect((uint64_t)((int64_t)(target << 16) >> 16) != target, 0))
		emu_raise_gp(cpu, 0);
	cpu->r[EMU_RSP] = sp + 8;
	cpu->rip = target;
}

/* ---- the picker ---------------------------------------------------------- */

struct fast_map {
	emu_handler generic;
	const emu_handler (*tab)[2][4];
	bool byte_reg; /* at opsize 1, ModRM.reg is a byte register operand */
};

/* Generic memory-operand handlers and their specialized tables. */
static const struct fast_map mem_maps[] = {
	{ emu_op_mov_GE_m, mov_ld_tab, true },
	{ emu_op_mov_EG_m, mov_st_tab, true },
	{ emu_op_mov_EI_m, mov_sti_tab, false },
	{ emu_op_movzx8, movzx8_ld_tab, false },
	{ emu_op_movzx16, movzx16_ld_tab, false },
	{ emu_op_movsx8, movsx8_ld_tab, false },
	{ emu_op_movsx16, movsx16_ld_tab, false },
	{ emu_op_movsxd, movsxd_ld_tab, false },
	{ emu_op_cmp_EG_m, cmp_mg_tab, true },
	{ emu_op_cmp_GE_m, cmp_gm_tab, true },
	{ emu_op_cmp_I_m, cmp_mi_tab, false },
	{ emu_op_test_EG_m, test_mg_tab, true },
	{ emu_op_test_GE_m, test_mg_tab, true },
	{ emu_op_test_I_m, test_mi_tab, false },
	{ emu_op_lea, lea_f_tab, false },
#define ALU_MAPS(op)                                                                          \
	{ emu_op_##op##_GE_m, op##_gm_tab, true }, { emu_op_##op##_EG_m, op##_mg_tab, true }, \
	{                                                                                     \
		emu_op_##op##_I_m, op##_mi_tab, false                                         \
	}
	ALU_MAPS(add),
	ALU_MAPS(sub),
	ALU_MAPS(and),
	ALU_MAPS(or),
	ALU_MAPS(xor),
};

struct fast_rmap {
	emu_handler generic;
	const emu_handler *tab;
	bool byte_reg; /* at opsize 1, ModRM.reg is a byte register operand */
	bool byte_rm; /* rm is a byte register whatever the operand size (MOVZX8) */
};

/* Register-operand handlers. The decoder flags AH..BH (HIGH8R/HIGH8M)
 * whenever reg or rm is 4-7 without REX; that matters only for an operand
 * read or written at byte size, which pick_reg leaves to the generic form. */
static const struct fast_rmap reg_maps[] = {
	{ emu_op_mov_EG_r, mov_rg_tab, true, false },
	{ emu_op_mov_GE_r, mov_gr_tab, true, false },
	{ emu_op_mov_EI_r, mov_ri_tab, false, false },
	{ emu_op_mov_OI, mov_oi_tab, true, false },
	{ emu_op_movzx8, movzx8_r_tab, false, true },
	{ emu_op_movzx16, movzx16_r_tab, false, false },
	{ emu_op_movsxd, movsxd_r_tab, false, false },
	{ emu_op_add_EG_r, add_rg_tab, true, false },
	{ emu_op_add_GE_r, add_gr_tab, true, false },
	{ emu_op_add_I_r, add_ri_tab, false, false },
	{ emu_op_sub_EG_r, sub_rg_tab, true, false },
	{ emu_op_sub_GE_r, sub_gr_tab, true, false },
	{ emu_op_sub_I_r, sub_ri_tab, false, false },
	{ emu_op_and_EG_r, and_rg_tab, true, false },
	{ emu_op_and_GE_r, and_gr_tab, true, false },
	{ emu_op_and_I_r, and_ri_tab, false, false },
	{ emu_op_or_EG_r, or_rg_tab, true, false },
	{ emu_op_or_GE_r, or_gr_tab, true, false },
	{ emu_op_or_I_r, or_ri_tab, false, false },
	{ emu_op_xor_EG_r, xor_rg_tab, true, false },
	{ emu_op_xor_GE_r, xor_gr_tab, true, false },
	{ emu_op_xor_I_r, xor_ri_tab, false, false },
	{ emu_op_cmp_EG_r, cmp_rg_tab, true, false },
	{ emu_op_cmp_GE_r, cmp_gr_tab, true, false },
	{ emu_op_cmp_I_r, cmp_ri_tab, false, false },
	{ emu_op_test_EG_r, test_rg_tab, true, false },
	{ emu_op_test_GE_r, test_gr_tab, true, false },
	{ emu_op_test_I_r, test_ri_tab, false, false },
};

static unsigned size_index(unsigned opsize)
{
	return opsize == 1 ? 0 : opsize == 2 ? 1 : opsize == 4 ? 2 : 3;
}

static emu_handler pick_mem(const struct emu_cpu *cpu, const struct emu_insn *in)
{
	int form;
	bool fsgs = in->seg == EMU_FS || in->seg == EMU_GS;

	if (cpu->mode != EMU_MODE_LONG64 || in->adsize != 8)
		return NULL;
	if (in->base != EMU_NOREG)
		form = in->index != EMU_NOREG ? F_X : F_B;
	else
		form = in->index != EMU_NOREG ? F_I : F_D;
	for (size_t i = 0; i < sizeof(mem_maps) / sizeof(mem_maps[0]); i++)
		if (mem_maps[i].generic == in->fn)
			return (in->flags & EMU_IF_HIGH8R) && in->opsize == 1 &&
					       mem_maps[i].byte_reg ?
				       NULL :
				       mem_maps[i].tab[form][fsgs][size_index(in->opsize)];
	return NULL;
}

static emu_handler pick_reg(const struct emu_insn *in)
{
	for (size_t i = 0; i < sizeof(reg_maps) / sizeof(reg_maps[0]); i++) {
		const struct fast_rmap *m = &reg_maps[i];

		if (m->generic != in->fn)
			continue;
		if ((in->flags & EMU_IF_HIGH8M) && (in->opsize == 1 || m->byte_rm))
			return NULL;
		if ((in->flags & EMU_IF_HIGH8R) && in->opsize == 1 && m->byte_reg)
			return NULL;
		return m->tab[size_index(in->opsize)];
	}
	return NULL;
}

static const struct {
	emu_handler generic, h4, h8;
} shift_maps[] = {
	{ emu_op_shl, shl_ri_4, shl_ri_8 },
	{ emu_op_shr, shr_ri_4, shr_ri_8 },
	{ emu_op_sar, sar_ri_4, sar_ri_8 },
};

static emu_handler pick_shift(const struct emu_insn *in)
{
	unsigned c;

	if (in->mod != 3 || (in->flags & EMU_IF_CL) || (in->opsize != 4 && in->opsize != 8))
		return NULL;
	c = (unsigned)in->imm & (in->opsize == 8 ? 63 : 31);
	for (size_t i = 0; c && i < sizeof(shift_maps) / sizeof(shift_maps[0]); i++)
		if (shift_maps[i].generic == in->fn)
			return in->opsize == 8 ? shift_maps[i].h8 : shift_maps[i].h4;
	return NULL;
}

static emu_handler pick_stack(const struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (cpu->mode != EMU_MODE_LONG64 || in->opsize != 8)
		return NULL;
	if (in->fn == emu_op_push_O)
		return push64;
	if (in->fn == emu_op_pop_O)
		return pop64;
	if (in->fn == emu_op_call)
		return call64;
	if (in->fn == emu_op_ret && in->imm == 0)
		return ret64;
	return NULL;
}

emu_handler emu_fast_pick(const struct emu_cpu *cpu, const struct emu_insn *in)
{
	emu_handler h;

	if ((in->pfx & EMU_PFX_LOCK) || (cpu->vm && cpu->vm->generic_only))
		return in->fn;
	if (in->mod == 3)
		h = pick_reg(in);
	else
		h = pick_mem(cpu, in);
	if (!h)
		h = pick_shift(in);
	if (!h)
		h = pick_stack(cpu, in);
	return h ? h : in->fn;
}

/* emu_fast_generic()'s reverse map: an open-addressed table of every
 * specialized handler and its generic one, filled once from the tables
 * above (the code generator asks it for each instruction it compiles: a
 * scan of all the tables was 3 % of a stock boot's CPU). */
#define GENERIC_SLOTS 2048u

static struct {
	emu_handler fast, generic;
} generic_slot[GENERIC_SLOTS];
static pthread_once_t generic_once = PTHREAD_ONCE_INIT;

static unsigned generic_hash(emu_handler fn)
{
	uintptr_t p = (uintptr_t)fn;

	return (unsigned)((p >> 4) ^ (p >> 15)) & (GENERIC_SLOTS - 1);
}

static void generic_add(emu_handler fast, emu_handler generic)
{
	unsigned i = generic_hash(fast);

	if (!fast || fast == generic)
		return;
	while (generic_slot[i].fast && generic_slot[i].fast != fast)
		i = (i + 1) & (GENERIC_SLOTS - 1);
	generic_slot[i].fast = fast;
	generic_slot[i].generic = generic;
}

static void generic_fill(void)
{
	for (size_t i = 0; i < sizeof(shift_maps) / sizeof(shift_maps[0]); i++) {
		generic_add(shift_maps[i].h4, shift_maps[i].generic);
		generic_add(shift_maps[i].h8, shift_maps[i].generic);
	}
	generic_add(push64, emu_op_push_O);
	generic_add(pop64, emu_op_pop_O);
	generic_add(call64, emu_op_call);
	generic_add(ret64, emu_op_ret);
	for (size_t i = 0; i < sizeof(mem_maps) / sizeof(mem_maps[0]); i++)
		for (unsigned k = 0; k < NFORM * 2 * 4; k++)
			generic_add((&mem_maps[i].tab[0][0][0])[k], mem_maps[i].generic);
	for (size_t i = 0; i < sizeof(reg_maps) / sizeof(reg_maps[0]); i++)
		for (unsigned k = 0; k < 4; k++)
			generic_add(reg_maps[i].tab[k], reg_maps[i].generic);
}

emu_handler emu_fast_generic(emu_handler fn)
{
	pthread_once(&generic_once, generic_fill);
	for (unsigned i = generic_hash(fn); generic_slot[i].fast; i = (i + 1) & (GENERIC_SLOTS - 1))
		if (generic_slot[i].fast == fn)
			return generic_slot[i].generic;
	return fn;
}
