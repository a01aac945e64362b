/* Control transfers: Jcc, JMP, CALL, RET (near), LOOP/LOOPE/LOOPNE, JrCXZ,
 * and the far forms, which hand segment work to the system layer. All of
 * them end their block, so cpu->rip already holds the next instruction's
 * address when they run; taking a branch overwrites it. */
#include "emu/core.h"

/* The conditions the lazy state cannot answer are read out of line, so
 * the common case needs no stack frame. */
static __attribute__((noinline)) void jcc_slow(struct emu_cpu *cpu, const struct emu_insn *in,
					       unsigned cc)
{
	if (emu_cond_slow(cpu, cc))
		cpu->rip = in->imm;
}

#define JCC(n)                                     \
	EMU_HANDLER(emu_op_jcc_##n)                \
	{                                          \
		int r = emu_cond_lazy(cpu, 0x##n); \
		if (__builtin_expect(r < 0, 0)) {  \
			jcc_slow(cpu, in, 0x##n);  \
			return;                    \
		}                                  \
		if (r)                             \
			cpu->rip = in->imm;        \
	}

JCC(0)
JCC(1)
JCC(2)
JCC(3)
JCC(4)
JCC(5)
JCC(6)
JCC(7)
JCC(8)
JCC(9)
JCC(a)
JCC(b)
JCC(c)
JCC(d)
JCC(e)
JCC(f)

EMU_HANDLER(emu_op_jmp)
{
	cpu->rip = in->imm;
}

EMU_HANDLER(emu_op_call)
{
	emu_push(cpu, in->opsize, cpu->rip);
	cpu->rip = in->imm;
}

/* SDM: a near branch to a non-canonical address faults at the branch with
 * #GP(0), before it pushes or changes anything. Direct targets are folded
 * at decode time and are not checked (only reachable at the very edge). */
static inline bool bad_target(const struct emu_cpu *cpu, uint64_t target)
{
	return cpu->mode == EMU_MODE_LONG64 && (uint64_t)((int64_t)(target << 16) >> 16) != target;
}

EMU_HANDLER(emu_op_jmp_E)
{
	uint64_t target = emu_rm_get(cpu, in);

	if (bad_target(cpu, target))
		emu_raise_gp(cpu, 0);
	cpu->rip = target;
}

EMU_HANDLER(emu_op_call_E)
{
	uint64_t target = emu_rm_get(cpu, in);

	if (bad_target(cpu, target))
		emu_raise_gp(cpu, 0);
	emu_push(cpu, in->opsize, cpu->rip);
	cpu->rip = target;
}

/* RET and RET imm16 (imm is 0 for C3). */
EMU_HANDLER(emu_op_ret)
{
	uint64_t sp = emu_sp_get(cpu), target = emu_pop(cpu, in->opsize);

	if (bad_target(cpu, target)) {
		emu_sp_set(cpu, sp); /* precise: nothing popped */
		emu_raise_gp(cpu, 0);
	}
	if (in->imm)
		emu_sp_set(cpu, emu_sp_get(cpu) + in->imm);
	cpu->rip = target;
}

/* LOOP family: the counter is rCX at the address size. */
static inline bool loop_dec(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t c = emu_reg_get(cpu, EMU_RCX, in->adsize, false) - 1;

	emu_reg_set(cpu, EMU_RCX, in->adsize, false, c);
	return emu_admask(c, in->adsize) != 0;
}

EMU_HANDLER(emu_op_loop)
{
	if (loop_dec(cpu, in))
		cpu->rip = in->imm;
}

EMU_HANDLER(emu_op_loope)
{
	if (loop_dec(cpu, in) && emu_cond(cpu, EMU_CC_E))
		cpu->rip = in->imm;
}

EMU_HANDLER(emu_op_loopne)
{
	if (loop_dec(cpu, in) && emu_cond(cpu, EMU_CC_NE))
		cpu->rip = in->imm;
}

EMU_HANDLER(emu_op_jcxz)
{
	if (emu_reg_get(cpu, EMU_RCX, in->adsize, false) == 0)
		cpu->rip = in->imm;
}

/* ---- far transfers -------------------------------------------------------- */

EMU_HANDLER(emu_op_jmpf_A)
{
	emu_far_jmp(cpu, (uint16_t)in->imm2, in->imm);
}

EMU_HANDLER(emu_op_callf_A)
{
	emu_far_call(cpu, (uint16_t)in->imm2, in->imm, in->opsize, cpu->rip);
}

/* m16:16, m16:32 or m16:64: the offset first, then the selector. */
static uint64_t far_ptr(struct emu_cpu *cpu, const struct emu_insn *in, uint16_t *sel)
{
	uint64_t ea = emu_ea(cpu, in), off = emu_read(cpu, in->seg, ea, in->opsize);

	*sel = (uint16_t)emu_read(cpu, in->seg, emu_admask(ea + in->opsize, in->adsize), 2);
	return off;
}

EMU_HANDLER(emu_op_jmpf_M)
{
	uint16_t sel;
	uint64_t off = far_ptr(cpu, in, &sel);

	emu_far_jmp(cpu, sel, off);
}

EMU_HANDLER(emu_op_callf_M)
{
	uint16_t sel;
	uint64_t off = far_ptr(cpu, in, &sel);

	emu_far_call(cpu, sel, off, in->opsize, cpu->rip);
}

EMU_HANDLER(emu_op_retf)
{
	emu_far_ret(cpu, in->opsize, (uint16_t)in->imm);
}
