/* Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR (count 1, CL or
 * imm8), SHLD and SHRD. Counts are masked to 5 bits (6 with 64-bit
 * operands); a masked count of 0 changes no flags. Where the SDM leaves OF
 * (counts > 1) or AF undefined, we use the count-1 formula and AF = 0. */
#include "emu/core.h"

enum shk { K_ROL, K_ROR, K_RCL, K_RCR, K_SHL, K_SHR, K_SAR };

static inline unsigned shift_count(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t c = (in->flags & EMU_IF_CL) ? cpu->r[EMU_RCX] : in->imm;

	return (unsigned)(c & (in->opsize == 8 ? 63 : 31));
}

/* Rotations through CF over bits+1 bits; counts here are < 65. */
static uint64_t rcl(uint64_t a, unsigned c, unsigned bits, bool *cf)
{
	for (unsigned i = 0; i < c; i++) {
		bool out = (a >> (bits - 1)) & 1;

		a = (a << 1) | *cf;
		*cf = out;
	}
	return a;
}

static uint64_t rcr(uint64_t a, unsigned c, unsigned bits, bool *cf)
{
	for (unsigned i = 0; i < c; i++) {
		bool out = a & 1;

		a = (a >> 1) | ((uint64_t)*cf << (bits - 1));
		*cf = out;
	}
	return a;
}

/* Computes a <kind> c at bits width; sets CF/OF into *cf, *of. c != 0. */
static inline uint64_t shift_calc(enum shk k, uint64_t a, unsigned c, unsigned bits, bool *cf,
				  bool *of)
{
	uint64_t m = bits == 64 ? ~0ULL : (1ULL << bits) - 1, r;
	unsigned rc;

	switch (k) {
	case K_ROL:
		rc = c % bits;
		r = rc ? ((a << rc) | (a >> (bits - rc))) & m : a;
		*cf = r & 1;
		*of = ((r >> (bits - 1)) & 1) ^ *cf;
		return r;
	case K_ROR:
		rc = c % bits;
		r = rc ? ((a >> rc) | (a << (bits - rc))) & m : a;
		*cf = (r >> (bits - 1)) & 1;
		*of = *cf ^ ((r >> (bits - 2)) & 1);
		return r;
	case K_RCL:
		r = rcl(a, c % (bits + 1), bits, cf) & m;
		*of = ((r >> (bits - 1)) & 1) ^ *cf;
		return r;
	case K_RCR:
		*of = ((a >> (bits - 1)) & 1) ^ *cf;
		return rcr(a, c % (bits + 1), bits, cf) & m;
	case K_SHL:
		r = c < 64 ? (a << c) & m : 0;
		*cf = c <= bits ? (a >> (bits - c)) & 1 : 0;
		*of = ((r >> (bits - 1)) & 1) ^ *cf;
		return r;
	case K_SHR:
		r = c < 64 ? a >> c : 0;
		*cf = (a >> (c - 1)) & 1;
		*of = (a >> (bits - 1)) & 1;
		return r;
	default: {
		int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);

		*cf = (s >> (c - 1)) & 1;
		*of = false;
		return (uint64_t)(s >> c) & m;
	}
	}
}

static inline __attribute__((always_inline)) void shift_op(struct emu_cpu *cpu,
							   const struct emu_insn *in, enum shk k)
{
	unsigned sz = in->opsize, c = shift_count(cpu, in);
	bool h = in->flags & EMU_IF_HIGH8M, cf = false, of = false;
	uint64_t lin = 0, a, r;

	if (in->mod == 3) {
		a = emu_reg_get(cpu, in->rm, sz, h);
	} else {
		lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), sz, EMU_ACC_WRITE);
		a = emu_read_lin(cpu, lin, sz);
	}
	if (c == 0) {
		r = a;
	} else {
		if (k == K_RCL || k == K_RCR)
			cf = emu_get_cf(cpu);
		r = shift_calc(k, a, c, sz * 8, &cf, &of);
	}
	if (in->mod == 3)
		emu_reg_set(cpu, in->rm, sz, h, r);
	else if (c)
		emu_write_lin(cpu, lin, sz, r);
	if (!c)
		return;
	if (k >= K_SHL) {
		emu_lazy_cfof(cpu, sz, r, cf, of);
		return;
	}
	/* rotates change only CF and OF */
	emu_flags_flush(cpu);
	cpu->rflags = (cpu->rflags & ~(EMU_FLAG_CF | EMU_FLAG_OF)) | (cf ? EMU_FLAG_CF : 0) |
		      (of ? EMU_FLAG_OF : 0);
}

EMU_HANDLER(emu_op_rol)
{
	shift_op(cpu, in, K_ROL);
}

EMU_HANDLER(emu_op_ror)
{
	shift_op(cpu, in, K_ROR);
}

EMU_HANDLER(emu_op_rcl)
{
	shift_op(cpu, in, K_RCL);
}

EMU_HANDLER(emu_op_rcr)
{
	shift_op(cpu, in, K_RCR);
}

EMU_HANDLER(emu_op_shl)
{
	shift_op(cpu, in, K_SHL);
}

EMU_HANDLER(emu_op_shr)
{
	shift_op(cpu, in, K_SHR);
}

EMU_HANDLER(emu_op_sar)
{
	shift_op(cpu, in, K_SAR);
}

/* SHLD/SHRD r/m, r, count: double-precision shifts; src supplies the bits
 * shifted in. 16-bit counts above 16 are undefined: we shift through the
 * 32-bit concatenation dst:src:dst as some processors do. */
static void dshift(struct emu_cpu *cpu, const struct emu_insn *in, bool left)
{
	unsigned sz = in->opsize, bits = sz * 8, c = shift_count(cpu, in);
	uint64_t m = emu_mask(sz), src = emu_greg(cpu, in), lin = 0, a, r;
	bool cf = false, of = false;

	if (in->mod == 3) {
		a = emu_reg_get(cpu, in->rm, sz, false);
	} else {
		lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), sz, EMU_ACC_WRITE);
		a = emu_read_lin(cpu, lin, sz);
	}
	if (c == 0) {
		r = a;
	} else if (bits == 16) {
		uint64_t w = left ? (a << 32) | (src << 16) | a : (a << 32) | (src << 16) | a;

		r = left ? (w << c >> 32) & m : (w >> c) & m;
		cf = left ? (w << (c - 1) >> 47) & 1 : (w >> (c - 1)) & 1;
		of = ((r ^ a) >> 15) & 1;
	} else {
		r = left ? ((a << c) | (src >> (bits - c))) & m :
			   ((a >> c) | (src << (bits - c))) & m;
		cf = left ? (a >> (bits - c)) & 1 : (a >> (c - 1)) & 1;
		of = ((r ^ a) >> (bits - 1)) & 1;
	}
	if (in->mod == 3)
		emu_reg_set(cpu, in->rm, sz, false, r);
	else if (c)
		emu_write_lin(cpu, lin, sz, r);
	if (c)
		emu_lazy_cfof(cpu, sz, r, cf, of);
}

EMU_HANDLER(emu_op_shld)
{
	dshift(cpu, in, true);
}

EMU_HANDLER(emu_op_shrd)
{
	dshift(cpu, in, false);
}
