/* String instructions MOVS CMPS STOS LODS SCAS INS OUTS, with REP/REPE/
 * REPNE, all operand and address sizes, DF. Registers are updated after
 * each element, so a fault leaves a restartable state. A REP instruction
 * ends its block and runs at most STR_CHUNK elements per execution; when
 * elements remain it leaves cpu->rip on itself, so the dispatch loop can
 * look at events (interrupts, kicks) between chunks. */
#include "emu/core.h"

#define STR_CHUNK 4096

enum strk { S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS, S_INS, S_OUTS };

static inline uint64_t areg(struct emu_cpu *cpu, int r, unsigned as)
{
	return emu_admask(cpu->r[r], as);
}

static inline void areg_add(struct emu_cpu *cpu, int r, unsigned as, int64_t d)
{
	emu_reg_set(cpu, (unsigned)r, as, false, cpu->r[r] + (uint64_t)d);
}

/* One element. Returns false when a REPE/REPNE condition ends the loop. */
static inline void str_one(struct emu_cpu *cpu, const struct emu_insn *in, enum strk k,
			   int64_t d)
{
	unsigned sz = in->opsize, as = in->adsize;
	uint64_t a, b;

	switch (k) {
	case S_MOVS:
		a = emu_read(cpu, in->seg, areg(cpu, EMU_RSI, as), sz);
		emu_write(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz, a);
		areg_add(cpu, EMU_RSI, as, d);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	case S_CMPS:
		a = emu_read(cpu, in->seg, areg(cpu, EMU_RSI, as), sz);
		b = emu_read(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz);
		emu_lazy_set(cpu, EMU_LZ_SUB, sz, (a - b) & emu_mask(sz), a, b);
		areg_add(cpu, EMU_RSI, as, d);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	case S_STOS:
		emu_write(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz, cpu->r[EMU_RAX]);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	case S_LODS:
		a = emu_read(cpu, in->seg, areg(cpu, EMU_RSI, as), sz);
		emu_reg_set(cpu, EMU_RAX, sz, false, a);
		areg_add(cpu, EMU_RSI, as, d);
		break;
	case S_SCAS:
		a = emu_reg_get(cpu, EMU_RAX, sz, false);
		b = emu_read(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz);
		emu_lazy_set(cpu, EMU_LZ_SUB, sz, (a - b) & emu_mask(sz), a, b);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	case S_INS:
		/* the destination is probed before the port is read */
		(void)emu_seg_lin(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz, EMU_ACC_WRITE);
		a = emu_io_in(cpu, (uint16_t)cpu->r[EMU_RDX], sz);
		emu_write(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz, a);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	default:
		a = emu_read(cpu, in->seg, areg(cpu, EMU_RSI, as), sz);
		emu_io_out(cpu, (uint16_t)cpu->r[EMU_RDX], sz, a);
		areg_add(cpu, EMU_RSI, as, d);
		break;
	}
}

static inline void str_op(struct emu_cpu *cpu, const struct emu_insn *in, enum strk k)
{
	int64_t d = (cpu->rflags & EMU_FLAG_DF) ? -(int64_t)in->opsize : in->opsize;
	unsigned as = in->adsize, n = 0;
	bool cond = k == S_CMPS || k == S_SCAS;

	if (!(in->pfx & (EMU_PFX_REP | EMU_PFX_REPNE))) {
		str_one(cpu, in, k, d);
		return;
	}
	while (areg(cpu, EMU_RCX, as) != 0) {
		if (n++ == STR_CHUNK) {
			cpu->rip = in->rip; /* continue after the dispatch loop looked */
			return;
		}
		str_one(cpu, in, k, d);
		areg_add(cpu, EMU_RCX, as, -1);
		if (cond && emu_cond(cpu, EMU_CC_E) != !!(in->pfx & EMU_PFX_REP))
			return;
	}
}

EMU_HANDLER(emu_op_movs)
{
	str_op(cpu, in, S_MOVS);
}

EMU_HANDLER(emu_op_cmps)
{
	str_op(cpu, in, S_CMPS);
}

EMU_HANDLER(emu_op_stos)
{
	str_op(cpu, in, S_STOS);
}

EMU_HANDLER(emu_op_lods)
{
	str_op(cpu, in, S_LODS);
}

EMU_HANDLER(emu_op_scas)
{
	str_op(cpu, in, S_SCAS);
}

EMU_HANDLER(emu_op_ins)
{
	str_op(cpu, in, S_INS);
}

EMU_HANDLER(emu_op_outs)
{
	str_op(cpu, in, S_OUTS);
}

/* IN/OUT: E4-E7 take the port from imm8, EC-EF from DX. */
static inline uint16_t io_port(struct emu_cpu *cpu, const struct emu_insn *in)
{
	return (in->opcode & 8) ? (uint16_t)cpu->r[EMU_RDX] : (uint16_t)(in->imm & 0xff);
}

EMU_HANDLER(emu_op_in)
{
	unsigned sz = in->opsize > 4 ? 4 : in->opsize;

	emu_reg_set(cpu, EMU_RAX, sz, false, emu_io_in(cpu, io_port(cpu, in), sz));
}

EMU_HANDLER(emu_op_out)
{
	unsigned sz = in->opsize > 4 ? 4 : in->opsize;

	emu_io_out(cpu, io_port(cpu, in), sz, emu_reg_get(cpu, EMU_RAX, sz, false));
}
