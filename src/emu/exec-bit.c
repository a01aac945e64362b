/* Bit instructions: BT BTS BTR BTC (register and immediate offsets; LOCK'd
 * forms atomic), BSF BSR, TZCNT LZCNT POPCNT. Undefined flags are left as
 * they were; defined ones follow the SDM. */
#include "emu/core.h"

enum btk { BT_TEST, BT_SET, BT_RESET, BT_COMP };

static inline void set_cf_only(struct emu_cpu *cpu, bool cf)
{
	emu_flags_flush(cpu);
	cpu->rflags = (cpu->rflags & ~EMU_FLAG_CF) | (cf ? EMU_FLAG_CF : 0);
}

static inline uint64_t bt_apply(enum btk k, uint64_t v, uint64_t bit)
{
	switch (k) {
	case BT_SET:
		return v | bit;
	case BT_RESET:
		return v & ~bit;
	case BT_COMP:
		return v ^ bit;
	default:
		return v;
	}
}

/* Memory form at lin, bit number b (0..opsize*8-1). */
static bool bt_mem(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t lin, unsigned b,
		   enum btk k)
{
	unsigned sz = in->opsize;
	uint64_t bit = 1ULL << b, old;
	void *p;

	if (k == BT_TEST)
		return emu_read_lin(cpu, lin, sz) & bit;
	if ((in->pfx & EMU_PFX_LOCK) && (p = emu_rmw_ptr(cpu, lin, sz))) {
		old = emu_atomic_load(p, sz);
		while (!emu_cas(p, sz, &old, bt_apply(k, old, bit)))
			;
		return old & bit;
	}
	old = emu_read_lin(cpu, lin, sz);
	emu_write_lin(cpu, lin, sz, bt_apply(k, old, bit));
	return old & bit;
}

static void bt_op(struct emu_cpu *cpu, const struct emu_insn *in, enum btk k, bool imm)
{
	unsigned sz = in->opsize, bits = sz * 8;
	uint64_t off = imm ? in->imm & (bits - 1) : emu_greg(cpu, in), ea, v;
	bool cf;

	if (in->mod == 3) {
		uint64_t bit = 1ULL << (off & (bits - 1));

		v = emu_reg_get(cpu, in->rm, sz, false);
		cf = v & bit;
		if (k != BT_TEST)
			emu_reg_set(cpu, in->rm, sz, false, bt_apply(k, v, bit));
	} else {
		/* a register offset is signed and may address beyond the operand */
		int64_t so = (int64_t)emu_sext(off, sz);

		ea = emu_ea(cpu, in);
		if (!imm)
			ea = emu_admask(ea + (uint64_t)((so >> (bits == 64 ? 6 :
								bits == 32 ? 5 :
									     4)) *
							(int64_t)sz),
					in->adsize);
		cf = bt_mem(cpu, in,
			    emu_seg_lin(cpu, in->seg, ea, sz,
					k == BT_TEST ? EMU_ACC_READ : EMU_ACC_WRITE),
			    (unsigned)(off & (bits - 1)), k);
	}
	set_cf_only(cpu, cf);
}

EMU_HANDLER(emu_op_bt_G)
{
	bt_op(cpu, in, BT_TEST, false);
}

EMU_HANDLER(emu_op_bts_G)
{
	bt_op(cpu, in, BT_SET, false);
}

EMU_HANDLER(emu_op_btr_G)
{
	bt_op(cpu, in, BT_RESET, false);
}

EMU_HANDLER(emu_op_btc_G)
{
	bt_op(cpu, in, BT_COMP, false);
}

EMU_HANDLER(emu_op_bt_I)
{
	bt_op(cpu, in, BT_TEST, true);
}

EMU_HANDLER(emu_op_bts_I)
{
	bt_op(cpu, in, BT_SET, true);
}

EMU_HANDLER(emu_op_btr_I)
{
	bt_op(cpu, in, BT_RESET, true);
}

EMU_HANDLER(emu_op_btc_I)
{
	bt_op(cpu, in, BT_COMP, true);
}

static inline void set_zf_cf(struct emu_cpu *cpu, bool zf, int cf)
{
	emu_flags_flush(cpu);
	cpu->rflags = (cpu->rflags & ~EMU_FLAG_ZF) | (zf ? EMU_FLAG_ZF : 0);
	if (cf >= 0)
		cpu->rflags = (cpu->rflags & ~EMU_FLAG_CF) | (cf ? EMU_FLAG_CF : 0);
}

/* BSF/BSR: a zero source sets ZF and leaves the destination unchanged. */
EMU_HANDLER(emu_op_bsf)
{
	uint64_t v = emu_rm_get(cpu, in);

	if (v)
		emu_greg_set(cpu, in, (uint64_t)__builtin_ctzll(v));
	set_zf_cf(cpu, v == 0, -1);
}

EMU_HANDLER(emu_op_bsr)
{
	uint64_t v = emu_rm_get(cpu, in);

	if (v)
		emu_greg_set(cpu, in, 63 - (uint64_t)__builtin_clzll(v));
	set_zf_cf(cpu, v == 0, -1);
}

EMU_HANDLER(emu_op_tzcnt)
{
	uint64_t v = emu_rm_get(cpu, in), n = v ? (uint64_t)__builtin_ctzll(v) : in->opsize * 8u;

	emu_greg_set(cpu, in, n);
	set_zf_cf(cpu, n == 0, v == 0);
}

EMU_HANDLER(emu_op_lzcnt)
{
	unsigned bits = in->opsize * 8u;
	uint64_t v = emu_rm_get(cpu, in);
	uint64_t n = v ? (uint64_t)__builtin_clzll(v) - (64 - bits) : bits;

	emu_greg_set(cpu, in, n);
	set_zf_cf(cpu, n == 0, v == 0);
}

/* POPCNT clears OF SF AF CF PF and sets ZF for a zero source. */
EMU_HANDLER(emu_op_popcnt)
{
	uint64_t v = emu_rm_get(cpu, in);

	emu_greg_set(cpu, in, (uint64_t)__builtin_popcountll(v));
	emu_flags_flush(cpu);
	cpu->rflags = (cpu->rflags & ~EMU_FLAGS_ARITH) | (v ? 0 : EMU_FLAG_ZF);
}
