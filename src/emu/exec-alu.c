/* ALU instructions: ADD OR ADC SBB AND SUB XOR CMP TEST in all their forms,
 * INC DEC NOT NEG. Memory forms compute the result, write it, and only then
 * record the flags, so a faulting write (a copy-on-write #PF) leaves RFLAGS
 * as they were when the instruction restarts. LOCK'd forms run a
 * compare-and-swap loop on the host memory. */
#include "emu/core.h"

/* Each calc_ returns the unmasked result and the lazy operation. */
#define CALC(name, expr, lzop)                                                          \
	static inline uint64_t calc_##name(struct emu_cpu *cpu, uint64_t a, uint64_t b, \
					   unsigned *op)                                \
	{                                                                               \
		(void)cpu;                                                              \
		*op = lzop;                                                             \
		return expr;                                                            \
	}

CALC(add, a + b, EMU_LZ_ADD)
CALC(or, a | b, EMU_LZ_LOGIC)
CALC(and, a &b, EMU_LZ_LOGIC)
CALC(sub, a - b, EMU_LZ_SUB)
CALC(xor, a ^ b, EMU_LZ_LOGIC)
CALC(cmp, a - b, EMU_LZ_SUB)
CALC(test, a &b, EMU_LZ_LOGIC)

static inline uint64_t calc_adc(struct emu_cpu *cpu, uint64_t a, uint64_t b, unsigned *op)
{
	bool c = emu_get_cf(cpu);

	*op = c ? EMU_LZ_ADC : EMU_LZ_ADD;
	return a + b + c;
}

static inline uint64_t calc_sbb(struct emu_cpu *cpu, uint64_t a, uint64_t b, unsigned *op)
{
	bool c = emu_get_cf(cpu);

	*op = c ? EMU_LZ_SBB : EMU_LZ_SUB;
	return a - b - c;
}

#define ALU_LOCKED(name, setf)                                                                \
	static bool locked_##name(struct emu_cpu *cpu, uint64_t lin, unsigned sz, uint64_t b) \
	{                                                                                     \
		void *p = emu_rmw_ptr(cpu, lin, sz);                                          \
		uint64_t m = emu_mask(sz), old, r;                                            \
		unsigned op;                                                                  \
		if (!p)                                                                       \
			return false;                                                         \
		old = emu_atomic_load(p, sz);                                                 \
		do                                                                            \
			r = calc_##name(cpu, old, b, &op) & m;                                \
		while (!emu_cas(p, sz, &old, r));                                             \
		setf(cpu, op, sz, r, old, b);                                                 \
		return true;                                                                  \
	}

#define LOCKED_1(name) locked_##name
#define LOCKED_0(name) locked_none

static inline bool locked_none(struct emu_cpu *cpu, uint64_t lin, unsigned sz, uint64_t b)
{
	(void)cpu, (void)lin, (void)sz, (void)b;
	return false;
}

/* dst op= src with dst in memory at lin; W: whether the result is stored. */
#define ALU_MEM(name, W)                                                                   \
	static void mem_##name(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t b) \
	{                                                                                  \
		unsigned sz = in->opsize, op;                                              \
		uint64_t lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), sz,              \
					   W ? EMU_ACC_WRITE : EMU_ACC_READ);              \
		uint64_t a, r;                                                             \
		if (W && (in->pfx & EMU_PFX_LOCK) && LOCKED_##W(name)(cpu, lin, sz, b))    \
			return;                                                            \
		a = emu_read_lin(cpu, lin, sz);                                            \
		r = calc_##name(cpu, a, b, &op) & emu_mask(sz);                            \
		if (W)                                                                     \
			emu_write_lin(cpu, lin, sz, r);                                    \
		emu_lazy_set(cpu, op, sz, r, a, b);                                        \
	}

#define ALU_OPS(name, W)                                                                  \
	EMU_HANDLER(emu_op_##name##_EG_r)                                                 \
	{                                                                                 \
		unsigned sz = in->opsize, op;                                             \
		bool h = in->flags & EMU_IF_HIGH8M;                                       \
		uint64_t a = emu_reg_get(cpu, in->rm, sz, h), b = emu_greg(cpu, in);      \
		uint64_t r = calc_##name(cpu, a, b, &op) & emu_mask(sz);                  \
		if (W)                                                                    \
			emu_reg_set(cpu, in->rm, sz, h, r);                               \
		emu_lazy_set(cpu, op, sz, r, a, b);                                       \
	}                                                                                 \
	EMU_HANDLER(emu_op_##name##_EG_m)                                                 \
	{                                                                                 \
		mem_##name(cpu, in, emu_greg(cpu, in));                                   \
	}                                                                                 \
	EMU_HANDLER(emu_op_##name##_GE_r)                                                 \
	{                                                                                 \
		unsigned sz = in->opsize, op;                                             \
		uint64_t a = emu_greg(cpu, in);                                           \
		uint64_t b = emu_reg_get(cpu, in->rm, sz, in->flags & EMU_IF_HIGH8M);     \
		uint64_t r = calc_##name(cpu, a, b, &op) & emu_mask(sz);                  \
		if (W)                                                                    \
			emu_greg_set(cpu, in, r);                                         \
		emu_lazy_set(cpu, op, sz, r, a, b);                                       \
	}                                                                                 \
	EMU_HANDLER(emu_op_##name##_GE_m)                                                 \
	{                                                                                 \
		unsigned sz = in->opsize, op;                                             \
		uint64_t a = emu_greg(cpu, in), b = emu_mem_read(cpu, in, sz);            \
		uint64_t r = calc_##name(cpu, a, b, &op) & emu_mask(sz);                  \
		if (W)                                                                    \
			emu_greg_set(cpu, in, r);                                         \
		emu_lazy_set(cpu, op, sz, r, a, b);                                       \
	}                                                                                 \
	EMU_HANDLER(emu_op_##name##_I_r)                                                  \
	{                                                                                 \
		unsigned sz = in->opsize, op;                                             \
		bool h = in->flags & EMU_IF_HIGH8M;                                       \
		uint64_t a = emu_reg_get(cpu, in->rm, sz, h), b = in->imm & emu_mask(sz); \
		uint64_t r = calc_##name(cpu, a, b, &op) & emu_mask(sz);                  \
		if (W)                                                                    \
			emu_reg_set(cpu, in->rm, sz, h, r);                               \
		emu_lazy_set(cpu, op, sz, r, a, b);                                       \
	}                                                                                 \
	EMU_HANDLER(emu_op_##name##_I_m)                                                  \
	{                                                                                 \
		mem_##name(cpu, in, in->imm &emu_mask(in->opsize));                       \
	}

#define ALU_RMW(name) ALU_LOCKED(name, emu_lazy_set) ALU_MEM(name, 1) ALU_OPS(name, 1)
#define ALU_RO(name) ALU_MEM(name, 0) ALU_OPS(name, 0)

ALU_RMW(add)
ALU_RMW(or)
ALU_RMW(adc)
ALU_RMW(sbb)
ALU_RMW(and)
ALU_RMW(sub)
ALU_RMW(xor)
ALU_RO(cmp)
ALU_RO(test)

/* ---- INC DEC NOT NEG: one r/m operand ----------------------------------- */

static inline uint64_t calc_inc(struct emu_cpu *cpu, uint64_t a, uint64_t b, unsigned *op)
{
	(void)cpu, (void)b;
	*op = EMU_LZ_INC;
	return a + 1;
}

static inline uint64_t calc_dec(struct emu_cpu *cpu, uint64_t a, uint64_t b, unsigned *op)
{
	(void)cpu, (void)b;
	*op = EMU_LZ_DEC;
	return a - 1;
}

static inline uint64_t calc_neg(struct emu_cpu *cpu, uint64_t a, uint64_t b, unsigned *op)
{
	(void)cpu, (void)b;
	*op = EMU_LZ_SUB;
	return -a;
}

static inline uint64_t calc_not(struct emu_cpu *cpu, uint64_t a, uint64_t b, unsigned *op)
{
	(void)cpu, (void)b;
	*op = EMU_LZ_NONE;
	return ~a;
}

/* Flags of a unary op: INC/DEC keep CF (carried in src2), NEG is 0 - a,
 * NOT sets none. */
static void unary_flags(struct emu_cpu *cpu, unsigned op, unsigned sz, uint64_t a, uint64_t r,
			bool cf)
{
	if (op == EMU_LZ_SUB)
		emu_lazy_set(cpu, op, sz, r, 0, a);
	else if (op != EMU_LZ_NONE)
		emu_lazy_set(cpu, op, sz, r, a, cf);
}

static inline void unary_lk(struct emu_cpu *cpu, unsigned op, unsigned sz, uint64_t r, uint64_t a,
			    uint64_t cf)
{
	unary_flags(cpu, op, sz, a, r, cf);
}

ALU_LOCKED(inc, unary_lk)
ALU_LOCKED(dec, unary_lk)
ALU_LOCKED(neg, unary_lk)
ALU_LOCKED(not, unary_lk)

#define UNARY(name)                                                                          \
	static void unary_##name(struct emu_cpu *cpu, const struct emu_insn *in)             \
	{                                                                                    \
		unsigned sz = in->opsize, op;                                                \
		bool cf = emu_get_cf(cpu);                                                   \
		uint64_t a, r, lin = 0;                                                      \
		if (in->mod == 3) {                                                          \
			a = emu_reg_get(cpu, in->rm, sz, in->flags & EMU_IF_HIGH8M);         \
		} else {                                                                     \
			lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), sz, EMU_ACC_WRITE); \
			if ((in->pfx & EMU_PFX_LOCK) && locked_##name(cpu, lin, sz, cf))     \
				return;                                                      \
			a = emu_read_lin(cpu, lin, sz);                                      \
		}                                                                            \
		r = calc_##name(cpu, a, 0, &op) & emu_mask(sz);                              \
		if (in->mod == 3)                                                            \
			emu_reg_set(cpu, in->rm, sz, in->flags &EMU_IF_HIGH8M, r);           \
		else                                                                         \
			emu_write_lin(cpu, lin, sz, r);                                      \
		unary_flags(cpu, op, sz, a, r, cf);                                          \
	}

UNARY(inc)
UNARY(dec)
UNARY(neg)
UNARY(not )

EMU_HANDLER(emu_op_inc_r)
{
	unsigned sz = in->opsize;
	bool h = in->flags & EMU_IF_HIGH8M, cf = emu_get_cf(cpu);
	uint64_t a = emu_reg_get(cpu, in->rm, sz, h), r = (a + 1) & emu_mask(sz);

	emu_reg_set(cpu, in->rm, sz, h, r);
	emu_lazy_set(cpu, EMU_LZ_INC, sz, r, a, cf);
}

EMU_HANDLER(emu_op_dec_r)
{
	unsigned sz = in->opsize;
	bool h = in->flags & EMU_IF_HIGH8M, cf = emu_get_cf(cpu);
	uint64_t a = emu_reg_get(cpu, in->rm, sz, h), r = (a - 1) & emu_mask(sz);

	emu_reg_set(cpu, in->rm, sz, h, r);
	emu_lazy_set(cpu, EMU_LZ_DEC, sz, r, a, cf);
}

EMU_HANDLER(emu_op_inc_m)
{
	unary_inc(cpu, in);
}

EMU_HANDLER(emu_op_dec_m)
{
	unary_dec(cpu, in);
}

EMU_HANDLER(emu_op_neg)
{
	unary_neg(cpu, in);
}

EMU_HANDLER(emu_op_not)
{
	unary_not(cpu, in);
}
