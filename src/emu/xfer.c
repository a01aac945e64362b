/* Control transfers that change CS (SDM vol. 2 "JMP", "CALL", "RET",
 * "IRET", "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT"): far JMP/CALL/RET to
 * code segments (call gates and task switches are not implemented: #GP),
 * IRET in real, protected and long mode (with SS:RSP pops and returns to
 * an outer privilege), and the fast system calls.
 *
 * Every transfer pops and checks everything first, then commits, so a
 * fault leaves the registers as they were.
 *
 * Map: the stack cursor; far JMP/CALL/RET; IRET; SYSCALL/SYSRET;
 * SYSENTER/SYSEXIT. */
#include "emu/system.h"

#define DESC_P (1u << 15)
#define DESC_L (1u << 21)
#define TYPE_CONF (1u << 10) /* in desc.hi */
#define IRET_FLAGS                                                                               \
	(EMU_FLAGS_ARITH | EMU_FLAG_TF | EMU_FLAG_DF | EMU_FLAG_NT | EMU_FLAG_AC | EMU_FLAG_ID | \
	 EMU_FLAG_RF)
#define SYSRET_FLAGS 0x3c7fd7ULL

/* ---- the stack cursor ------------------------------------------------------- */

static void push(struct emu_cpu *cpu, uint64_t *rsp, uint64_t v, unsigned size)
{
	*rsp -= size;
	emu_write(cpu, EMU_SS, emu_stack_wrap(cpu, *rsp), size, v);
}

static uint64_t pop(struct emu_cpu *cpu, uint64_t *rsp, unsigned size)
{
	uint64_t v = emu_read(cpu, EMU_SS, emu_stack_wrap(cpu, *rsp), size);

	*rsp += size;
	return v;
}

static bool desc_is_64(const struct emu_cpu *cpu, const struct emu_desc *d)
{
	return (cpu->efer & EMU_EFER_LMA) && (d->hi & DESC_L);
}

/* The new RIP must be canonical (64-bit target) or within the limit. */
static void check_target_ip(struct emu_cpu *cpu, const struct emu_desc *d, uint64_t ip)
{
	struct emu_seg s;

	if (desc_is_64(cpu, d)) {
		if (!emu_is_canonical(ip))
			emu_raise_gp(cpu, 0);
		return;
	}
	emu_desc_to_seg(d, 0, &s);
	if (ip > s.limit)
		emu_raise_gp(cpu, 0);
}

/* ---- far JMP/CALL/RET --------------------------------------------------------- */

static bool legacy_real(const struct emu_cpu *cpu)
{
	return !emu_prot(cpu) || (cpu->rflags & EMU_FLAG_VM);
}

/* Reads and checks a far JMP/CALL target descriptor; raises #GP/#NP. */
static void far_target(struct emu_cpu *cpu, uint16_t sel, uint64_t off, struct emu_desc *d)
{
	emu_check_code_target(cpu, sel, d, false);
	check_target_ip(cpu, d, off);
}

void emu_far_jmp(struct emu_cpu *cpu, uint16_t sel, uint64_t off)
{
	struct emu_desc d;

	if (legacy_real(cpu)) {
		emu_seg_real(&cpu->seg[EMU_CS], sel);
		cpu->rip = off & 0xffffffffULL;
		emu_update_mode(cpu);
		return;
	}
	far_target(cpu, sel, off, &d);
	emu_desc_set_accessed(cpu, sel, &d);
	emu_load_cs(cpu, sel, &d, cpu->cpl);
	cpu->rip = off;
	emu_update_mode(cpu);
}

void emu_far_call(struct emu_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize, uint64_t next)
{
	uint64_t rsp = cpu->r[EMU_RSP];
	struct emu_desc d;

	if (!legacy_real(cpu))
		far_target(cpu, sel, off, &d);
	push(cpu, &rsp, cpu->seg[EMU_CS].sel, opsize);
	push(cpu, &rsp, next, opsize);
	if (legacy_real(cpu)) {
		emu_seg_real(&cpu->seg[EMU_CS], sel);
		cpu->rip = off & 0xffffffffULL;
	} else {
		emu_desc_set_accessed(cpu, sel, &d);
		emu_load_cs(cpu, sel, &d, cpu->cpl);
		cpu->rip = off;
	}
	emu_set_rsp(cpu, rsp);
	emu_update_mode(cpu);
}

/* Checks the CS of a RET/IRET: returns its RPL, the new CPL. */
static unsigned check_return_cs(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d)
{
	unsigned rpl = sel & 3, dpl;

	if (!(sel & 0xfffc))
		emu_raise_gp(cpu, 0);
	if (!emu_desc_read(cpu, sel, false, d) || !(d->hi & (1u << 12)) || !(d->hi & (1u << 11)))
		emu_raise_gp(cpu, sel & 0xfffc);
	dpl = (d->hi >> 13) & 3;
	if (rpl < cpu->cpl || ((d->hi & TYPE_CONF) ? dpl > rpl : dpl != rpl))
		emu_raise_gp(cpu, sel & 0xfffc);
	if (!(d->hi & DESC_P))
		emu_raise(cpu, EMU_NP, sel & 0xfffc);
	return rpl;
}

/* Checks the SS popped by a return to privilege rpl and fills *ss. */
static void check_return_ss(struct emu_cpu *cpu, uint16_t sel, unsigned rpl, bool to64,
			    struct emu_seg *ss)
{
	struct emu_desc d;

	if (!(sel & 0xfffc)) {
		if (!to64 || rpl == 3 || (sel & 3) != rpl)
			emu_raise_gp(cpu, 0);
		emu_seg_flat(ss, sel, rpl, false, false);
		return;
	}
	if ((sel & 3) != rpl || !emu_desc_read(cpu, sel, false, &d) || ((d.hi >> 13) & 3) != rpl ||
	    (d.hi & 0x1a00) != 0x1200)
		emu_raise_gp(cpu, sel & 0xfffc);
	if (!(d.hi & DESC_P))
		emu_raise(cpu, EMU_SS_FAULT, sel & 0xfffc);
	emu_desc_set_accessed(cpu, sel, &d);
	emu_desc_to_seg(&d, sel, ss);
}

/* RSP after a return: as wide as the new stack segment says. */
static void set_rsp_for(struct emu_cpu *cpu, uint64_t rsp, bool to64)
{
	if (to64)
		cpu->r[EMU_RSP] = rsp;
	else if (cpu->seg[EMU_SS].attr & EMU_SEG_DB)
		cpu->r[EMU_RSP] = (uint32_t)rsp;
	else
		cpu->r[EMU_RSP] = (cpu->r[EMU_RSP] & ~0xffffULL) | (uint16_t)rsp;
}

static void far_ret_real(struct emu_cpu *cpu, unsigned opsize, uint16_t pop_extra)
{
	uint64_t rsp = cpu->r[EMU_RSP], ip, cs;

	ip = pop(cpu, &rsp, opsize);
	cs = pop(cpu, &rsp, opsize);
	emu_seg_real(&cpu->seg[EMU_CS], (uint16_t)cs);
	cpu->rip = ip;
	emu_set_rsp(cpu, rsp + pop_extra);
	emu_update_mode(cpu);
}

void emu_far_ret(struct emu_cpu *cpu, unsigned opsize, uint16_t pop_extra)
{
	uint64_t rsp = cpu->r[EMU_RSP], ip, new_rsp = 0;
	struct emu_seg ss;
	struct emu_desc d;
	uint16_t sel, sel_ss;
	unsigned rpl;

	if (legacy_real(cpu)) {
		far_ret_real(cpu, opsize, pop_extra);
		return;
	}
	ip = pop(cpu, &rsp, opsize);
	sel = (uint16_t)pop(cpu, &rsp, opsize);
	rpl = check_return_cs(cpu, sel, &d);
	check_target_ip(cpu, &d, ip);
	rsp += pop_extra;
	if (rpl > cpu->cpl) {
		new_rsp = pop(cpu, &rsp, opsize);
		sel_ss = (uint16_t)pop(cpu, &rsp, opsize);
		check_return_ss(cpu, sel_ss, rpl, desc_is_64(cpu, &d), &ss);
	}
	emu_desc_set_accessed(cpu, sel, &d);
	emu_load_cs(cpu, sel, &d, rpl);
	cpu->rip = ip;
	if (rpl > cpu->cpl) {
		cpu->seg[EMU_SS] = ss;
		set_rsp_for(cpu, new_rsp + pop_extra, desc_is_64(cpu, &d));
		emu_update_mode(cpu);
		emu_seg_fix_outer(cpu);
	} else {
		emu_set_rsp(cpu, rsp);
		emu_update_mode(cpu);
	}
}

/* ---- IRET ----------------------------------------------------------------------- */

static void iret_real(struct emu_cpu *cpu, unsigned opsize)
{
	uint64_t rsp = cpu->r[EMU_RSP], old = emu_get_rflags(cpu), ip, cs, fl;

	ip = pop(cpu, &rsp, opsize);
	cs = pop(cpu, &rsp, opsize);
	fl = pop(cpu, &rsp, opsize);
	if (opsize == 2)
		fl = (old & ~0xffffULL) | (fl & 0xffff);
	else
		fl = (fl & 0x257fd5ULL) | (old & 0x1a0000ULL);
	emu_seg_real(&cpu->seg[EMU_CS], (uint16_t)cs);
	cpu->rip = ip;
	emu_set_rsp(cpu, rsp);
	emu_set_rflags(cpu, fl | 2);
	emu_update_mode(cpu);
	emu_flags_changed(cpu, old);
}

/* RFLAGS after a protected/long-mode IRET (SDM "IRET" operation). */
static uint64_t iret_flags(const struct emu_cpu *cpu, uint64_t old, uint64_t fl, unsigned opsize)
{
	uint64_t mask = IRET_FLAGS;

	if (cpu->cpl == 0)
		mask |= EMU_FLAG_IOPL | EMU_FLAG_VIF | EMU_FLAG_VIP;
	if (cpu->cpl <= ((old & EMU_FLAG_IOPL) >> 12))
		mask |= EMU_FLAG_IF;
	if (opsize == 2)
		mask &= 0xffff;
	return (old & ~mask) | (fl & mask) | 2;
}

struct iret_frame {
	uint64_t ip, fl, rsp;
	uint16_t cs, ss;
};

static void iret_prot(struct emu_cpu *cpu, unsigned opsize)
{
	uint64_t rsp = cpu->r[EMU_RSP], old = emu_get_rflags(cpu);
	bool lm = cpu->mode == EMU_MODE_LONG64;
	struct iret_frame f = { 0 };
	struct emu_seg ss;
	struct emu_desc d;
	unsigned rpl;
	bool outer;

	if (old & EMU_FLAG_NT)
		emu_raise_gp(cpu, 0); /* task return: task switches are not implemented */
	f.ip = pop(cpu, &rsp, opsize);
	f.cs = (uint16_t)pop(cpu, &rsp, opsize);
	f.fl = pop(cpu, &rsp, opsize);
	if ((f.fl & EMU_FLAG_VM) && cpu->cpl == 0 && opsize == 4 && !(cpu->efer & EMU_EFER_LMA))
		emu_raise_gp(cpu, 0); /* virtual-8086 mode is not implemented */
	rpl = check_return_cs(cpu, f.cs, &d);
	check_target_ip(cpu, &d, f.ip);
	outer = rpl > cpu->cpl || lm;
	if (outer) {
		f.rsp = pop(cpu, &rsp, opsize);
		f.ss = (uint16_t)pop(cpu, &rsp, opsize);
		check_return_ss(cpu, f.ss, rpl, desc_is_64(cpu, &d), &ss);
	}
	uint64_t fl = iret_flags(cpu, old, f.fl, opsize);
	unsigned ocpl = cpu->cpl;

	emu_desc_set_accessed(cpu, f.cs, &d);
	emu_load_cs(cpu, f.cs, &d, rpl);
	cpu->rip = desc_is_64(cpu, &d) ? f.ip : (uint32_t)f.ip;
	if (outer) {
		cpu->seg[EMU_SS] = ss;
		set_rsp_for(cpu, f.rsp, desc_is_64(cpu, &d));
	} else {
		emu_set_rsp(cpu, rsp);
	}
	emu_set_rflags(cpu, fl);
	emu_update_mode(cpu);
	if (rpl > ocpl)
		emu_seg_fix_outer(cpu);
	emu_flags_changed(cpu, old);
}

void emu_iret(struct emu_cpu *cpu, unsigned opsize)
{
	if (legacy_real(cpu))
		iret_real(cpu, opsize);
	else
		iret_prot(cpu, opsize);
	if (cpu->nmi_blocked) {
		cpu->nmi_blocked = false;
		atomic_fetch_or(&cpu->events, EMU_EV_MODE); /* a held NMI may go now */
	}
}

/* ---- SYSCALL/SYSRET (AMD APM vol. 3; SDM "SYSCALL") ----------------------------- */

void emu_syscall(struct emu_cpu *cpu, uint64_t next)
{
	uint16_t sel = (uint16_t)(cpu->msr.star >> 32) & 0xfffc;
	uint64_t fl = emu_get_rflags(cpu);
	bool lma = cpu->efer & EMU_EFER_LMA;

	if (!(cpu->efer & EMU_EFER_SCE) || !emu_prot(cpu))
		emu_raise_ud(cpu);
	emu_seg_flat(&cpu->seg[EMU_CS], sel, 0, true, lma);
	emu_seg_flat(&cpu->seg[EMU_SS], (uint16_t)(sel + 8), 0, false, false);
	if (lma) {
		cpu->r[EMU_RCX] = next;
		cpu->r[EMU_R11] = fl & ~EMU_FLAG_RF;
		cpu->rip = cpu->mode == EMU_MODE_LONG64 ? cpu->msr.lstar : cpu->msr.cstar;
		fl &= ~(cpu->msr.sfmask | EMU_FLAG_RF);
	} else {
		cpu->r[EMU_RCX] = (uint32_t)next;
		cpu->rip = (uint32_t)cpu->msr.star;
		fl &= ~(EMU_FLAG_IF | EMU_FLAG_VM | EMU_FLAG_RF);
	}
	emu_set_rflags(cpu, fl | 2);
	emu_update_mode(cpu);
}

void emu_sysret(struct emu_cpu *cpu, unsigned opsize)
{
	uint16_t sel = (uint16_t)(cpu->msr.star >> 48);
	uint64_t old = emu_get_rflags(cpu);
	bool lma = cpu->efer & EMU_EFER_LMA, to64 = lma && opsize == 8;

	if (!(cpu->efer & EMU_EFER_SCE) || !emu_prot(cpu))
		emu_raise_ud(cpu);
	if (cpu->cpl != 0)
		emu_raise_gp(cpu, 0);
	if (to64 && !emu_is_canonical(cpu->r[EMU_RCX]))
		emu_raise_gp(cpu, 0);
	emu_seg_flat(&cpu->seg[EMU_CS], (uint16_t)((to64 ? sel + 16 : sel) | 3), 3, true, to64);
	emu_seg_flat(&cpu->seg[EMU_SS], (uint16_t)((sel + 8) | 3), 3, false, false);
	cpu->rip = to64 ? cpu->r[EMU_RCX] : (uint32_t)cpu->r[EMU_RCX];
	if (lma)
		emu_set_rflags(cpu, (cpu->r[EMU_R11] & SYSRET_FLAGS) | 2);
	else
		emu_set_rflags(cpu, old | EMU_FLAG_IF);
	emu_update_mode(cpu);
	emu_flags_changed(cpu, old);
}

/* ---- SYSENTER/SYSEXIT ------------------------------------------------------------ */

void emu_sysenter(struct emu_cpu *cpu)
{
	uint16_t sel = (uint16_t)cpu->msr.sysenter_cs & 0xfffc;
	bool lma = cpu->efer & EMU_EFER_LMA;

	if (!emu_prot(cpu) || !sel)
		emu_raise_gp(cpu, 0);
	emu_set_rflags(cpu, emu_get_rflags(cpu) & ~(EMU_FLAG_VM | EMU_FLAG_IF | EMU_FLAG_RF));
	emu_seg_flat(&cpu->seg[EMU_CS], sel, 0, true, lma);
	emu_seg_flat(&cpu->seg[EMU_SS], (uint16_t)(sel + 8), 0, false, false);
	cpu->rip = lma ? cpu->msr.sysenter_eip : (uint32_t)cpu->msr.sysenter_eip;
	cpu->r[EMU_RSP] = lma ? cpu->msr.sysenter_esp : (uint32_t)cpu->msr.sysenter_esp;
	emu_update_mode(cpu);
}

void emu_sysexit(struct emu_cpu *cpu, unsigned opsize)
{
	uint16_t sel = (uint16_t)cpu->msr.sysenter_cs & 0xfffc;
	bool to64 = opsize == 8;

	if (!emu_prot(cpu) || cpu->cpl != 0 || !sel)
		emu_raise_gp(cpu, 0);
	if (to64 && (!emu_is_canonical(cpu->r[EMU_RDX]) || !emu_is_canonical(cpu->r[EMU_RCX])))
		emu_raise_gp(cpu, 0);
	emu_seg_flat(&cpu->seg[EMU_CS], (uint16_t)((sel + (to64 ? 32 : 16)) | 3), 3, true, to64);
	emu_seg_flat(&cpu->seg[EMU_SS], (uint16_t)((sel + (to64 ? 40 : 24)) | 3), 3, false, false);
	cpu->rip = to64 ? cpu->r[EMU_RDX] : (uint32_t)cpu->r[EMU_RDX];
	cpu->r[EMU_RSP] = to64 ? cpu->r[EMU_RCX] : (uint32_t)cpu->r[EMU_RCX];
	emu_update_mode(cpu);
}
