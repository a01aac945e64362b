/* Lazy arithmetic flags: handlers record the last flag-setting operation
 * (struct emu_lazy) and flags are computed only when read. Jcc/SETcc/CMOVcc
 * evaluate their condition straight from the recorded operands for the
 * common producers (CMP/SUB, logic ops) without building RFLAGS. */
#include "emu/core.h"

static inline unsigned msb(const struct emu_lazy *l)
{
	return l->size * 8u - 1;
}

static bool lz_cf(const struct emu_lazy *l)
{
	switch (l->op) {
	case EMU_LZ_ADD:
		return l->res < l->src1;
	case EMU_LZ_ADC:
		return l->res <= l->src1;
	case EMU_LZ_SUB:
		return l->src1 < l->src2;
	case EMU_LZ_SBB:
		return l->src1 <= l->src2;
	case EMU_LZ_INC:
	case EMU_LZ_DEC:
		return l->src2 & 1;
	case EMU_LZ_CFOF:
		return l->src1 & 1;
	default:
		return false;
	}
}

static bool lz_of(const struct emu_lazy *l)
{
	uint64_t sign = 1ULL << msb(l);

	switch (l->op) {
	case EMU_LZ_ADD:
	case EMU_LZ_ADC:
		return ((l->src1 ^ l->res) & (l->src2 ^ l->res)) & sign;
	case EMU_LZ_SUB:
	case EMU_LZ_SBB:
		return ((l->src1 ^ l->src2) & (l->src1 ^ l->res)) & sign;
	case EMU_LZ_INC:
		return l->res == sign;
	case EMU_LZ_DEC:
		return l->res == sign - 1;
	case EMU_LZ_CFOF:
		return l->src2 & 1;
	default:
		return false;
	}
}

static bool lz_af(const struct emu_lazy *l)
{
	switch (l->op) {
	case EMU_LZ_ADD:
	case EMU_LZ_ADC:
	case EMU_LZ_SUB:
	case EMU_LZ_SBB:
		return (l->src1 ^ l->src2 ^ l->res) & 0x10;
	case EMU_LZ_INC:
		return (l->res & 0xf) == 0;
	case EMU_LZ_DEC:
		return (l->res & 0xf) == 0xf;
	default:
		return false;
	}
}

static inline bool lz_sf(const struct emu_lazy *l)
{
	return (l->res >> msb(l)) & 1;
}

static inline bool lz_pf(const struct emu_lazy *l)
{
	return !__builtin_parityll(l->res & 0xff);
}

void emu_flags_flush(struct emu_cpu *cpu)
{
	const struct emu_lazy *l = &cpu->lazy;
	uint64_t f = cpu->rflags & ~EMU_FLAGS_ARITH;

	if (l->op == EMU_LZ_NONE)
		return;
	f |= lz_cf(l) ? EMU_FLAG_CF : 0;
	f |= lz_pf(l) ? EMU_FLAG_PF : 0;
	f |= lz_af(l) ? EMU_FLAG_AF : 0;
	f |= l->res == 0 ? EMU_FLAG_ZF : 0;
	f |= lz_sf(l) ? EMU_FLAG_SF : 0;
	f |= lz_of(l) ? EMU_FLAG_OF : 0;
	cpu->rflags = f;
	cpu->lazy.op = EMU_LZ_NONE;
}

uint64_t emu_get_rflags(struct emu_cpu *cpu)
{
	emu_flags_flush(cpu);
	return cpu->rflags | 2;
}

void emu_set_rflags(struct emu_cpu *cpu, uint64_t rflags)
{
	/* AC on or off changes which user accesses may take the TLB fast
	 * path (alignment checks live in the slow path); rare in practice */
	if ((cpu->rflags ^ rflags) & EMU_FLAG_AC)
		emu_tlb_flush_all(cpu);
	cpu->rflags = rflags | 2; /* bit 1 always reads 1 */
	cpu->lazy.op = EMU_LZ_NONE;
}

bool emu_get_cf(struct emu_cpu *cpu)
{
	if (cpu->lazy.op == EMU_LZ_NONE)
		return cpu->rflags & EMU_FLAG_CF;
	return lz_cf(&cpu->lazy);
}

/* Conditions from the lazy state of a SUB/CMP: compare the operands. */
static bool cond_sub(const struct emu_lazy *l, unsigned cc, bool *out)
{
	unsigned sh = 64 - l->size * 8u;
	int64_t a = (int64_t)(l->src1 << sh) >> sh, b = (int64_t)(l->src2 << sh) >> sh;

	switch (cc >> 1) {
	case EMU_CC_B >> 1:
		*out = l->src1 < l->src2;
		return true;
	case EMU_CC_E >> 1:
		*out = l->res == 0;
		return true;
	case EMU_CC_BE >> 1:
		*out = l->src1 <= l->src2;
		return true;
	case EMU_CC_L >> 1:
		*out = a < b;
		return true;
	case EMU_CC_LE >> 1:
		*out = a <= b;
		return true;
	default:
		return false;
	}
}

static bool cond_flags(uint64_t f, unsigned cc)
{
	bool sf = f & EMU_FLAG_SF, of = f & EMU_FLAG_OF, zf = f & EMU_FLAG_ZF;

	switch (cc >> 1) {
	case 0:
		return f & EMU_FLAG_OF;
	case 1:
		return f & EMU_FLAG_CF;
	case 2:
		return zf;
	case 3:
		return (f & EMU_FLAG_CF) || zf;
	case 4:
		return sf;
	case 5:
		return f & EMU_FLAG_PF;
	case 6:
		return sf != of;
	default:
		return zf || sf != of;
	}
}

bool emu_cond_slow(struct emu_cpu *cpu, unsigned cc)
{
	const struct emu_lazy *l = &cpu->lazy;
	bool r;

	switch (l->op) {
	case EMU_LZ_NONE:
		return cond_flags(cpu->rflags, cc) ^ (cc & 1);
	case EMU_LZ_SUB:
		if (cond_sub(l, cc, &r))
			return r ^ (cc & 1);
		break;
	case EMU_LZ_LOGIC:
		switch (cc >> 1) {
		case EMU_CC_E >> 1:
		case EMU_CC_BE >> 1:
			return (l->res == 0) ^ (cc & 1);
		case EMU_CC_S >> 1:
		case EMU_CC_L >> 1:
			return lz_sf(l) ^ (cc & 1);
		case EMU_CC_LE >> 1:
			return (l->res == 0 || lz_sf(l)) ^ (cc & 1);
		default:
			break;
		}
		break;
	default:
		break;
	}
	emu_flags_flush(cpu);
	return cond_flags(cpu->rflags, cc) ^ (cc & 1);
}
