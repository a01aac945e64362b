/* Stack instructions: PUSH/POP in their forms, PUSHF/POPF, PUSHA/POPA,
 * ENTER/LEAVE, PUSH/POP of segment registers. The stack width comes from
 * the mode and SS.B (emu_stack_size); the operand size from the insn. */
#include "emu/core.h"

void emu_push(struct emu_cpu *cpu, unsigned size, uint64_t v)
{
	unsigned ss = emu_stack_size(cpu);
	uint64_t sp = emu_admask(cpu->r[EMU_RSP] - size, ss);

	emu_write(cpu, EMU_SS, sp, size, v);
	emu_sp_set(cpu, sp);
}

uint64_t emu_pop(struct emu_cpu *cpu, unsigned size)
{
	uint64_t sp = emu_sp_get(cpu), v = emu_read(cpu, EMU_SS, sp, size);

	emu_sp_set(cpu, sp + size);
	return v;
}

EMU_HANDLER(emu_op_push_O)
{
	emu_push(cpu, in->opsize, emu_reg_get(cpu, in->reg, in->opsize, false));
}

EMU_HANDLER(emu_op_pop_O)
{
	uint64_t v = emu_pop(cpu, in->opsize);

	emu_reg_set(cpu, in->reg, in->opsize, false, v);
}

EMU_HANDLER(emu_op_push_I)
{
	emu_push(cpu, in->opsize, in->imm);
}

EMU_HANDLER(emu_op_push_E)
{
	emu_push(cpu, in->opsize, emu_rm_get(cpu, in));
}

/* POP r/m: a memory destination addressed through rSP uses the value of
 * rSP after the pop (SDM "POP"). */
EMU_HANDLER(emu_op_pop_E)
{
	unsigned sz = in->opsize;
	uint64_t sp = emu_sp_get(cpu), v = emu_read(cpu, EMU_SS, sp, sz), ea;

	if (in->mod == 3) {
		emu_sp_set(cpu, sp + sz);
		emu_reg_set(cpu, in->rm, sz, false, v);
		return;
	}
	emu_sp_set(cpu, sp + sz);
	ea = emu_ea(cpu, in);
	emu_sp_set(cpu, sp); /* a faulting write leaves rSP as it was */
	emu_write(cpu, in->seg, ea, sz, v);
	emu_sp_set(cpu, sp + sz);
}

EMU_HANDLER(emu_op_pushf)
{
	/* VM and RF are never pushed */
	emu_push(cpu, in->opsize, emu_get_rflags(cpu) & ~(EMU_FLAG_VM | EMU_FLAG_RF));
}

EMU_HANDLER(emu_op_popf)
{
	uint64_t v = emu_pop(cpu, in->opsize);

	emu_popf(cpu, v, in->opsize);
}

EMU_HANDLER(emu_op_pusha)
{
	unsigned sz = in->opsize;
	uint64_t sp = emu_reg_get(cpu, EMU_RSP, sz, false);

	for (int r = EMU_RAX; r <= EMU_RDI; r++)
		emu_push(cpu, sz, r == EMU_RSP ? sp : emu_reg_get(cpu, (unsigned)r, sz, false));
}

EMU_HANDLER(emu_op_popa)
{
	unsigned sz = in->opsize;

	for (int r = EMU_RDI; r >= EMU_RAX; r--) {
		uint64_t v = emu_pop(cpu, sz);

		if (r != EMU_RSP)
			emu_reg_set(cpu, (unsigned)r, sz, false, v);
	}
}

/* ENTER imm16, imm8: push rBP, copy level-1 frame pointers, set rBP,
 * reserve imm16 bytes. */
EMU_HANDLER(emu_op_enter)
{
	unsigned sz = in->opsize, level = in->imm2 & 31, ss = emu_stack_size(cpu);
	uint64_t bp = emu_reg_get(cpu, EMU_RBP, ss, false), frame;

	emu_push(cpu, sz, emu_reg_get(cpu, EMU_RBP, sz, false));
	frame = emu_sp_get(cpu);
	for (unsigned i = 1; i < level; i++) {
		bp = emu_admask(bp - sz, ss);
		emu_push(cpu, sz, emu_read(cpu, EMU_SS, bp, sz));
	}
	if (level)
		emu_push(cpu, sz, frame);
	emu_reg_set(cpu, EMU_RBP, sz, false, frame);
	emu_sp_set(cpu, emu_sp_get(cpu) - in->imm);
}

EMU_HANDLER(emu_op_leave)
{
	unsigned ss = emu_stack_size(cpu);
	uint64_t bp = emu_reg_get(cpu, EMU_RBP, ss, false);
	uint64_t v = emu_read(cpu, EMU_SS, bp, in->opsize);

	emu_sp_set(cpu, bp + in->opsize);
	emu_reg_set(cpu, EMU_RBP, in->opsize, false, v);
}

/* PUSH/POP of ES CS SS DS (one-byte opcodes) and FS GS (0F A0/A1/A8/A9). */
static int sreg_of(const struct emu_insn *in)
{
	if (in->map == 1)
		return in->opcode < 0xa8 ? EMU_FS : EMU_GS;
	return (in->opcode >> 3) & 3; /* 06 ES, 0E CS, 16 SS, 1E DS */
}

EMU_HANDLER(emu_op_push_sreg)
{
	emu_push(cpu, in->opsize, cpu->seg[sreg_of(in)].sel);
}

EMU_HANDLER(emu_op_pop_sreg)
{
	int s = sreg_of(in);
	uint64_t sp = emu_sp_get(cpu), v = emu_read(cpu, EMU_SS, sp, in->opsize);

	emu_load_seg(cpu, s, (uint16_t)v);
	emu_sp_set(cpu, sp + in->opsize);
	if (s == EMU_SS)
		cpu->irq_shadow = true;
}
