/* System instructions: operand decoding only. The semantics (privilege
 * checks, mode changes, descriptor loads, MSRs, interrupts) live in the
 * system layer (cpu.c, seg.c, msr.c, except.c ...) behind internal.h.
 * Instructions that may change mode, paging, IF or the stack end their
 * block (decode tables), so cpu->rip holds the next instruction here.
 *
 * Map: HLT/CLI/STI, software interrupts, IRET/SYSCALL/SYSRET/SYSENTER,
 * CPUID/RDTSC(P)/RDPID/RDMSR/WRMSR, MOV CRn/DRn, descriptor tables and
 * system stores/loads, INVLPG/CLTS/INVD/SWAPGS, LAR/LSL/VERR/VERW,
 * XGETBV/XSETBV, CLAC/STAC, segment registers (MOV Sreg, LxS). */
#include "emu/core.h"

/* EDX:EAX <- v, each half zero-extended to 64 bits. */
static void set_edx_eax(struct emu_cpu *cpu, uint64_t v)
{
	cpu->r[EMU_RAX] = (uint32_t)v;
	cpu->r[EMU_RDX] = v >> 32;
}

static uint64_t edx_eax(const struct emu_cpu *cpu)
{
	return (cpu->r[EMU_RDX] << 32) | (uint32_t)cpu->r[EMU_RAX];
}

static void need_cpl0(struct emu_cpu *cpu)
{
	if (cpu->cpl != 0)
		emu_raise_gp(cpu, 0);
}

EMU_HANDLER(emu_op_hlt)
{
	(void)in;
	emu_hlt(cpu);
}

EMU_HANDLER(emu_op_cli)
{
	(void)in;
	emu_cli(cpu);
}

EMU_HANDLER(emu_op_sti)
{
	(void)in;
	emu_sti(cpu);
}

EMU_HANDLER(emu_op_int3)
{
	(void)in;
	emu_soft_int(cpu, EMU_BP, cpu->rip, true);
}

EMU_HANDLER(emu_op_int_n)
{
	emu_soft_int(cpu, (int)(in->imm & 0xff), cpu->rip, true);
}

EMU_HANDLER(emu_op_into)
{
	(void)in;
	if (emu_cond(cpu, EMU_CC_O))
		emu_soft_int(cpu, EMU_OF, cpu->rip, true);
}

/* INT1 (ICEBP) is delivered like a hardware #DB: no gate DPL check. */
EMU_HANDLER(emu_op_int1)
{
	(void)in;
	emu_soft_int(cpu, EMU_DB, cpu->rip, false);
}

EMU_HANDLER(emu_op_iret)
{
	emu_iret(cpu, in->opsize);
}

EMU_HANDLER(emu_op_syscall)
{
	(void)in;
	emu_syscall(cpu, cpu->rip);
}

EMU_HANDLER(emu_op_sysret)
{
	emu_sysret(cpu, in->opsize);
}

EMU_HANDLER(emu_op_sysenter)
{
	(void)in;
	emu_sysenter(cpu);
}

EMU_HANDLER(emu_op_sysexit)
{
	emu_sysexit(cpu, in->opsize);
}

EMU_HANDLER(emu_op_cpuid)
{
	uint32_t out[4];

	(void)in;
	emu_cpuid(cpu, (uint32_t)cpu->r[EMU_RAX], (uint32_t)cpu->r[EMU_RCX], out);
	cpu->r[EMU_RAX] = out[0];
	cpu->r[EMU_RBX] = out[1];
	cpu->r[EMU_RCX] = out[2];
	cpu->r[EMU_RDX] = out[3];
}

EMU_HANDLER(emu_op_rdtsc)
{
	(void)in;
	set_edx_eax(cpu, emu_rdtsc(cpu));
}

EMU_HANDLER(emu_op_rdtscp)
{
	(void)in;
	set_edx_eax(cpu, emu_rdtsc(cpu));
	cpu->r[EMU_RCX] = (uint32_t)cpu->msr.tsc_aux;
}

EMU_HANDLER(emu_op_rdpid)
{
	cpu->r[in->rm] = cpu->mode == EMU_MODE_LONG64 ? cpu->msr.tsc_aux :
							(uint32_t)cpu->msr.tsc_aux;
}

EMU_HANDLER(emu_op_rdmsr)
{
	(void)in;
	set_edx_eax(cpu, emu_rdmsr(cpu, (uint32_t)cpu->r[EMU_RCX]));
}

EMU_HANDLER(emu_op_wrmsr)
{
	(void)in;
	emu_wrmsr(cpu, (uint32_t)cpu->r[EMU_RCX], edx_eax(cpu));
}

/* MOV to/from CRn/DRn: always register operands (mod is ignored), 64-bit
 * in long mode, 32-bit otherwise. */
static unsigned crsize(const struct emu_cpu *cpu)
{
	return cpu->mode == EMU_MODE_LONG64 ? 8 : 4;
}

EMU_HANDLER(emu_op_mov_from_cr)
{
	emu_reg_set(cpu, in->rm, crsize(cpu), false, emu_read_cr(cpu, in->reg));
}

EMU_HANDLER(emu_op_mov_to_cr)
{
	emu_write_cr(cpu, in->reg, emu_reg_get(cpu, in->rm, crsize(cpu), false));
}

EMU_HANDLER(emu_op_mov_from_dr)
{
	emu_reg_set(cpu, in->rm, crsize(cpu), false, emu_read_dr(cpu, in->reg));
}

EMU_HANDLER(emu_op_mov_to_dr)
{
	emu_write_dr(cpu, in->reg, emu_reg_get(cpu, in->rm, crsize(cpu), false));
}

/* ---- descriptor tables ------------------------------------------------------ */

/* SGDT/SIDT (reg 0/1): limit, then a 4- or 8-byte base. */
EMU_HANDLER(emu_op_sgdt)
{
	const struct emu_dtr *t = (in->reg & 7) ? &cpu->idtr : &cpu->gdtr;
	uint64_t ea = emu_ea(cpu, in);
	unsigned bsz = cpu->mode == EMU_MODE_LONG64 ? 8 : 4;

	emu_write(cpu, in->seg, ea, 2, t->limit);
	emu_write(cpu, in->seg, emu_admask(ea + 2, in->adsize), bsz, t->base);
}

/* LGDT/LIDT (reg 2/3): with a 16-bit operand only 24 base bits count. */
EMU_HANDLER(emu_op_lgdt)
{
	uint64_t ea = emu_ea(cpu, in), base;
	uint16_t limit;
	bool lm = cpu->mode == EMU_MODE_LONG64;

	need_cpl0(cpu);
	limit = (uint16_t)emu_read(cpu, in->seg, ea, 2);
	base = emu_read(cpu, in->seg, emu_admask(ea + 2, in->adsize), lm ? 8 : 4);
	if (!lm && in->opsize == 2)
		base &= 0xffffff;
	if ((in->reg & 7) == 2)
		emu_lgdt(cpu, base, limit);
	else
		emu_lidt(cpu, base, limit);
}

/* Stores of a 16-bit system value: registers get it zero-extended at the
 * operand size, memory gets 16 bits. */
static void store_sys16(struct emu_cpu *cpu, const struct emu_insn *in, uint16_t v)
{
	if (in->mod == 3)
		emu_reg_set(cpu, in->rm, in->opsize, false, v);
	else
		emu_mem_write(cpu, in, 2, v);
}

static uint16_t load_sys16(struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (in->mod == 3)
		return (uint16_t)cpu->r[in->rm];
	return (uint16_t)emu_mem_read(cpu, in, 2);
}

EMU_HANDLER(emu_op_sldt)
{
	store_sys16(cpu, in, cpu->ldtr.sel);
}

EMU_HANDLER(emu_op_str)
{
	store_sys16(cpu, in, cpu->tr.sel);
}

EMU_HANDLER(emu_op_smsw)
{
	store_sys16(cpu, in, (uint16_t)cpu->cr0);
}

EMU_HANDLER(emu_op_lldt)
{
	emu_lldt(cpu, load_sys16(cpu, in));
}

EMU_HANDLER(emu_op_ltr)
{
	emu_ltr(cpu, load_sys16(cpu, in));
}

EMU_HANDLER(emu_op_lmsw)
{
	emu_lmsw(cpu, load_sys16(cpu, in));
}

EMU_HANDLER(emu_op_invlpg)
{
	need_cpl0(cpu);
	emu_invlpg(cpu, emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), 1, EMU_ACC_READ));
}

EMU_HANDLER(emu_op_clts)
{
	(void)in;
	emu_clts(cpu);
}

/* INVD/WBINVD: caches are coherent; only the privilege check remains. */
EMU_HANDLER(emu_op_invd)
{
	(void)in;
	need_cpl0(cpu);
}

EMU_HANDLER(emu_op_swapgs)
{
	(void)in;
	emu_swapgs(cpu);
}

static void set_zf(struct emu_cpu *cpu, bool zf)
{
	emu_flags_flush(cpu);
	cpu->rflags = (cpu->rflags & ~EMU_FLAG_ZF) | (zf ? EMU_FLAG_ZF : 0);
}

EMU_HANDLER(emu_op_lar)
{
	uint32_t v;
	bool ok = emu_lar(cpu, load_sys16(cpu, in), &v);

	if (ok)
		emu_greg_set(cpu, in, v);
	set_zf(cpu, ok);
}

EMU_HANDLER(emu_op_lsl)
{
	uint32_t v;
	bool ok = emu_lsl(cpu, load_sys16(cpu, in), &v);

	if (ok)
		emu_greg_set(cpu, in, v);
	set_zf(cpu, ok);
}

/* VERR (reg 4) and VERW (reg 5). */
EMU_HANDLER(emu_op_verr)
{
	set_zf(cpu, emu_verr(cpu, load_sys16(cpu, in), (in->reg & 7) == 5));
}

EMU_HANDLER(emu_op_xgetbv)
{
	(void)in;
	set_edx_eax(cpu, emu_xgetbv(cpu, (uint32_t)cpu->r[EMU_RCX]));
}

EMU_HANDLER(emu_op_xsetbv)
{
	(void)in;
	emu_xsetbv(cpu, (uint32_t)cpu->r[EMU_RCX], edx_eax(cpu));
}

/* CLAC (0F 01 CA) / STAC (CB): CPL 0 only. */
EMU_HANDLER(emu_op_clac_stac)
{
	if (cpu->cpl != 0)
		emu_raise_ud(cpu);
	if ((in->rm & 7) == 3)
		cpu->rflags |= EMU_FLAG_AC;
	else
		cpu->rflags &= ~EMU_FLAG_AC;
}

/* ---- segment registers -------------------------------------------------------- */

EMU_HANDLER(emu_op_mov_rm_sreg)
{
	unsigned s = in->reg & 7;

	if (s >= EMU_NSEG)
		emu_raise_ud(cpu);
	store_sys16(cpu, in, cpu->seg[s].sel);
}

EMU_HANDLER(emu_op_mov_sreg_rm)
{
	unsigned s = in->reg & 7;

	if (s >= EMU_NSEG || s == EMU_CS)
		emu_raise_ud(cpu);
	emu_load_seg(cpu, (int)s, load_sys16(cpu, in));
	if (s == EMU_SS)
		cpu->irq_shadow = true;
}

/* LES (C4) LDS (C5) LSS (0F B2) LFS (0F B4) LGS (0F B5): m16:16/32/64. */
EMU_HANDLER(emu_op_lxs)
{
	static const uint8_t seg0f[3] = { EMU_SS, 0, EMU_FS }; /* B2, -, B4 */
	uint64_t ea = emu_ea(cpu, in), off = emu_read(cpu, in->seg, ea, in->opsize);
	uint16_t sel = (uint16_t)emu_read(cpu, in->seg, emu_admask(ea + in->opsize, in->adsize), 2);
	int s;

	if (in->map == 0)
		s = in->opcode == 0xc4 ? EMU_ES : EMU_DS;
	else
		s = in->opcode == 0xb5 ? EMU_GS : seg0f[in->opcode - 0xb2];
	emu_load_seg(cpu, s, sel);
	emu_greg_set(cpu, in, off);
}
