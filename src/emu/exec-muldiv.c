/* MUL, IMUL (one, two and three operands), DIV, IDIV up to 128 bits.
 * MUL/IMUL set CF = OF = "the high half is significant"; SF/ZF/PF follow
 * the low half (undefined by the SDM). DIV/IDIV raise #DE for a zero
 * divisor or a quotient that does not fit, before changing anything. */
#include "emu/core.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

static inline uint64_t src_op(struct emu_cpu *cpu, const struct emu_insn *in)
{
	return emu_rm_get(cpu, in);
}

/* Stores a double-width result: AX for bytes, else rDX:rAX. */
static void store_wide(struct emu_cpu *cpu, unsigned sz, u128 v)
{
	if (sz == 1) {
		emu_reg_set(cpu, EMU_RAX, 2, false, (uint64_t)v);
		return;
	}
	emu_reg_set(cpu, EMU_RAX, sz, false, (uint64_t)v);
	emu_reg_set(cpu, EMU_RDX, sz, false, (uint64_t)(v >> (sz * 8)));
}

EMU_HANDLER(emu_op_mul)
{
	unsigned sz = in->opsize;
	uint64_t b = src_op(cpu, in), a = emu_reg_get(cpu, EMU_RAX, sz, false);
	u128 r = (u128)a * b;
	bool hi = (r >> (sz * 8)) != 0;

	store_wide(cpu, sz, r);
	emu_lazy_cfof(cpu, sz, (uint64_t)r & emu_mask(sz), hi, hi);
}

EMU_HANDLER(emu_op_imul1)
{
	unsigned sz = in->opsize;
	int64_t b = (int64_t)emu_sext(src_op(cpu, in), sz);
	int64_t a = (int64_t)emu_sext(emu_reg_get(cpu, EMU_RAX, sz, false), sz);
	s128 r = (s128)a * b;
	bool ovf = r != (s128)(int64_t)emu_sext((uint64_t)r, sz);

	store_wide(cpu, sz, (u128)r);
	emu_lazy_cfof(cpu, sz, (uint64_t)r & emu_mask(sz), ovf, ovf);
}

static void imul_to_reg(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t x, uint64_t y)
{
	unsigned sz = in->opsize;
	s128 r = (s128)(int64_t)emu_sext(x, sz) * (int64_t)emu_sext(y, sz);
	bool ovf = r != (s128)(int64_t)emu_sext((uint64_t)r, sz);

	emu_greg_set(cpu, in, (uint64_t)r);
	emu_lazy_cfof(cpu, sz, (uint64_t)r & emu_mask(sz), ovf, ovf);
}

EMU_HANDLER(emu_op_imul2)
{
	imul_to_reg(cpu, in, emu_greg(cpu, in), src_op(cpu, in));
}

EMU_HANDLER(emu_op_imul3)
{
	imul_to_reg(cpu, in, src_op(cpu, in), in->imm);
}

/* The dividend: AX for bytes, else rDX:rAX. */
static u128 dividend(struct emu_cpu *cpu, unsigned sz)
{
	if (sz == 1)
		return cpu->r[EMU_RAX] & 0xffff;
	return ((u128)emu_reg_get(cpu, EMU_RDX, sz, false) << (sz * 8)) |
	       emu_reg_get(cpu, EMU_RAX, sz, false);
}

static void store_divmod(struct emu_cpu *cpu, unsigned sz, uint64_t q, uint64_t r)
{
	if (sz == 1) {
		emu_reg_set(cpu, EMU_RAX, 2, false, (q & 0xff) | ((r & 0xff) << 8));
		return;
	}
	emu_reg_set(cpu, EMU_RAX, sz, false, q);
	emu_reg_set(cpu, EMU_RDX, sz, false, r);
}

EMU_HANDLER(emu_op_div)
{
	unsigned sz = in->opsize;
	uint64_t d = src_op(cpu, in);
	u128 n = dividend(cpu, sz), q;

	if (d == 0)
		emu_raise(cpu, EMU_DE, EMU_NO_ERRCODE);
	q = n / d;
	if (q > emu_mask(sz))
		emu_raise(cpu, EMU_DE, EMU_NO_ERRCODE);
	store_divmod(cpu, sz, (uint64_t)q, (uint64_t)(n % d));
}

EMU_HANDLER(emu_op_idiv)
{
	unsigned sz = in->opsize, bits = sz * 8;
	int64_t d = (int64_t)emu_sext(src_op(cpu, in), sz);
	u128 un = dividend(cpu, sz);
	s128 n = (s128)(un << (128 - 2 * bits)) >> (128 - 2 * bits), q;
	s128 qmax = ((s128)1 << (bits - 1)) - 1;

	if (d == 0)
		emu_raise(cpu, EMU_DE, EMU_NO_ERRCODE);
	/* Divisor -1: negate instead of dividing, after the range check, so
	 * the host never divides INT128_MIN by -1 (which would trap). */
	if (d == -1) {
		if (n < -qmax - 1 || n > qmax + 1 || n == -qmax - 1)
			emu_raise(cpu, EMU_DE, EMU_NO_ERRCODE);
		q = -n;
	} else {
		q = n / d;
	}
	if (q > qmax || q < -qmax - 1)
		emu_raise(cpu, EMU_DE, EMU_NO_ERRCODE);
	store_divmod(cpu, sz, (uint64_t)q, (uint64_t)(n - q * d));
}
