/* Processor modes and the system instructions that change them (SDM vol.
 * 3A ch. 2, 9 and 10; vol. 2 for each instruction): the reset state,
 * CR0/CR3/CR4/CR8 and debug-register writes with their reserved-bit and
 * long-mode-activation rules, HLT/CLI/STI/POPF, IN/OUT with the IOPL and
 * TSS I/O-bitmap checks, SWAPGS/CLTS/LMSW/INVLPG, and the stack helpers.
 *
 * Map: modes and reset; control registers; debug registers; flags and
 * halting; port I/O; small instructions; the stack. */
#include "emu/system.h"

#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_VALID                                                                      \
	(EMU_CR0_PE | EMU_CR0_MP | EMU_CR0_EM | EMU_CR0_TS | EMU_CR0_ET | EMU_CR0_NE | \
	 EMU_CR0_WP | EMU_CR0_AM | CR0_NW | CR0_CD | EMU_CR0_PG)
#define CR4_TSD (1ULL << 2)
#define CR4_DE (1ULL << 3)
#define CR4_MCE (1ULL << 6)
#define CR4_PCE (1ULL << 8)
/* What CR4 may hold: only features CPUID advertises (cpuid.c). */
#define CR4_VALID                                                                         \
	(CR4_TSD | CR4_DE | EMU_CR4_PSE | EMU_CR4_PAE | CR4_MCE | EMU_CR4_PGE | CR4_PCE | \
	 EMU_CR4_OSFXSR | EMU_CR4_OSXMMEXCPT | EMU_CR4_OSXSAVE)
#define CR4_PAGING (EMU_CR4_PSE | EMU_CR4_PAE | EMU_CR4_PGE | EMU_CR4_SMEP)
#define DR6_FIXED 0xffff0ff0ULL
#define DR7_FIXED 0x400ULL
#define TSS_IOMAP_BASE 0x66
#define TSS32_MIN_LIMIT 0x67

/* ---- modes and reset ------------------------------------------------------- */

void emu_update_mode(struct emu_cpu *cpu)
{
	const struct emu_seg *cs = &cpu->seg[EMU_CS];

	if (!(cpu->cr0 & EMU_CR0_PE)) {
		cpu->mode = EMU_MODE_REAL;
		cpu->cpl = 0;
	} else {
		if ((cpu->efer & EMU_EFER_LMA) && (cs->attr & EMU_SEG_L))
			cpu->mode = EMU_MODE_LONG64;
		else
			cpu->mode = (cs->attr & EMU_SEG_DB) ? EMU_MODE_PROT32 : EMU_MODE_PROT16;
		/* CPL is SS.DPL, as KVM has it: right from the first
		 * protected-mode instruction, before CS is reloaded */
		cpu->cpl = (cpu->rflags & EMU_FLAG_VM) ? 3 : EMU_SEG_DPL(cpu->seg[EMU_SS].attr);
	}
	cpu->tlb_user = cpu->cpl == 3;
	atomic_fetch_or(&cpu->events, EMU_EV_MODE);
}

static void seg_reset(struct emu_seg *s, uint16_t sel, uint64_t base, uint16_t attr)
{
	s->sel = sel;
	s->base = base;
	s->limit = 0xffff;
	s->attr = attr;
}

void emu_cpu_reset(struct emu_cpu *cpu)
{
	memset(cpu->r, 0, sizeof(cpu->r));
	cpu->r[EMU_RDX] = 0x600; /* family 6, as after RESET/INIT */
	cpu->rip = 0xfff0;
	cpu->lazy.op = 0;
	cpu->rflags = 2;
	for (int i = 0; i < EMU_NSEG; i++)
		seg_reset(&cpu->seg[i], 0, 0, EMU_SEG_P | EMU_SEG_S | 0x3);
	seg_reset(&cpu->seg[EMU_CS], 0xf000, 0xffff0000ULL, EMU_SEG_P | EMU_SEG_S | 0xb);
	seg_reset(&cpu->ldtr, 0, 0, EMU_SEG_P | 0x2);
	seg_reset(&cpu->tr, 0, 0, EMU_SEG_P | 0xb);
	cpu->gdtr = (struct emu_dtr){ 0, 0xffff };
	cpu->idtr = (struct emu_dtr){ 0, 0xffff };
	cpu->cr0 = EMU_CR0_ET | CR0_NW | CR0_CD;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = cpu->efer = 0;
	cpu->xcr0 = 1;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = DR6_FIXED;
	cpu->dr[7] = DR7_FIXED;
	cpu->exc.vector = -1;
	cpu->exc.error_code = EMU_NO_ERRCODE;
	cpu->exc.depth = 0;
	cpu->irq_shadow = false;
	cpu->nmi_blocked = false;
	emu_tlb_flush_all(cpu);
	emu_update_mode(cpu);
}

/* ---- control registers ------------------------------------------------------ */

static void require_cpl0(struct emu_cpu *cpu)
{
	if (cpu->cpl != 0)
		emu_raise_gp(cpu, 0);
}

static void write_cr0(struct emu_cpu *cpu, uint64_t val)
{
	uint64_t old = cpu->cr0;

	if (val >> 32)
		emu_raise_gp(cpu, 0);
	val = (val & CR0_VALID) | EMU_CR0_ET;
	if (((val & EMU_CR0_PG) && !(val & EMU_CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
		emu_raise_gp(cpu, 0);
	if ((val & EMU_CR0_PG) && !(old & EMU_CR0_PG) && (cpu->efer & EMU_EFER_LME)) {
		/* long-mode activation (SDM vol. 3A §10.8.5) */
		if (!(cpu->cr4 & EMU_CR4_PAE) || (cpu->seg[EMU_CS].attr & EMU_SEG_L))
			emu_raise_gp(cpu, 0);
		cpu->efer |= EMU_EFER_LMA;
	}
	if (!(val & EMU_CR0_PG) && (old & EMU_CR0_PG) && (cpu->efer & EMU_EFER_LMA)) {
		if (cpu->mode == EMU_MODE_LONG64)
			emu_raise_gp(cpu, 0);
		cpu->efer &= ~EMU_EFER_LMA;
	}
	cpu->cr0 = val;
	if ((old ^ val) & (EMU_CR0_PG | EMU_CR0_PE | EMU_CR0_WP | EMU_CR0_AM))
		emu_tlb_flush_all(cpu); /* AM: alignment checks need the slow path */
	emu_update_mode(cpu);
}

static void write_cr3(struct emu_cpu *cpu, uint64_t val)
{
	if ((cpu->efer & EMU_EFER_LMA) && (val & ~EMU_PHYS_MASK))
		emu_raise_gp(cpu, 0);
	cpu->cr3 = (cpu->efer & EMU_EFER_LMA) ? val : (uint32_t)val;
	emu_tlb_flush_nonglobal(cpu);
}

static void write_cr4(struct emu_cpu *cpu, uint64_t val)
{
	uint64_t old = cpu->cr4;

	if (val & ~CR4_VALID)
		emu_raise_gp(cpu, 0);
	if ((cpu->efer & EMU_EFER_LMA) && !(val & EMU_CR4_PAE))
		emu_raise_gp(cpu, 0);
	cpu->cr4 = val;
	if ((old ^ val) & CR4_PAGING)
		emu_tlb_flush_all(cpu);
}

static void write_cr8(struct emu_cpu *cpu, uint64_t val)
{
	if (val & ~0xfULL)
		emu_raise_gp(cpu, 0);
	cpu->cr8 = val;
	emu_lapic_set_tpr(cpu->lapic, (uint8_t)val);
	atomic_fetch_or(&cpu->events, EMU_EV_IRQ); /* a lower TPR may unmask an interrupt */
}

static void check_cr(struct emu_cpu *cpu, int n)
{
	if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8)
		emu_raise_ud(cpu);
	require_cpl0(cpu);
}

uint64_t emu_read_cr(struct emu_cpu *cpu, int n)
{
	check_cr(cpu, n);
	switch (n) {
	case 0:
		return cpu->cr0;
	case 2:
		return cpu->cr2;
	case 3:
		return cpu->cr3;
	case 4:
		return cpu->cr4;
	default:
		return cpu->cr8 = emu_lapic_get_tpr(cpu->lapic) & 0xf;
	}
}

void emu_write_cr(struct emu_cpu *cpu, int n, uint64_t val)
{
	check_cr(cpu, n);
	switch (n) {
	case 0:
		write_cr0(cpu, val);
		break;
	case 2:
		cpu->cr2 = val;
		break;
	case 3:
		write_cr3(cpu, val);
		break;
	case 4:
		write_cr4(cpu, val);
		break;
	default:
		write_cr8(cpu, val);
		break;
	}
}

/* ---- debug registers (stored; no breakpoints are implemented) ---------------- */

static int dr_index(struct emu_cpu *cpu, int n)
{
	if (n < 0 || n > 7)
		emu_raise_ud(cpu);
	if (n == 4 || n == 5) {
		if (cpu->cr4 & CR4_DE)
			emu_raise_ud(cpu);
		n += 2;
	}
	require_cpl0(cpu);
	return n;
}

uint64_t emu_read_dr(struct emu_cpu *cpu, int n)
{
	return cpu->dr[dr_index(cpu, n)];
}

void emu_write_dr(struct emu_cpu *cpu, int n, uint64_t val)
{
	n = dr_index(cpu, n);
	if (n >= 6 && (val >> 32))
		emu_raise_gp(cpu, 0);
	if (n == 6)
		val = (val & 0xe00fULL) | DR6_FIXED;
	else if (n == 7)
		val = (val & 0xffff2bffULL) | DR7_FIXED;
	cpu->dr[n] = val;
}

/* ---- flags and halting ----------------------------------------------------------- */

static unsigned iopl(const struct emu_cpu *cpu)
{
	return (cpu->rflags & EMU_FLAG_IOPL) >> 12;
}

void emu_flags_changed(struct emu_cpu *cpu, uint64_t old_rflags)
{
	if (!(old_rflags & EMU_FLAG_IF) && (cpu->rflags & EMU_FLAG_IF))
		atomic_fetch_or(&cpu->events, EMU_EV_MODE);
	if ((old_rflags ^ cpu->rflags) & EMU_FLAG_VM)
		emu_update_mode(cpu);
}

void emu_hlt(struct emu_cpu *cpu)
{
	require_cpl0(cpu);
	cpu->stats.halts++;
	cpu->state = EMU_HALTED;
	cpu->irq_shadow = false;
	cpu->stop = true;
}

static void check_iopl(struct emu_cpu *cpu)
{
	if (emu_prot(cpu) && cpu->cpl > iopl(cpu))
		emu_raise_gp(cpu, 0);
}

void emu_cli(struct emu_cpu *cpu)
{
	check_iopl(cpu);
	cpu->rflags &= ~EMU_FLAG_IF;
}

void emu_sti(struct emu_cpu *cpu)
{
	check_iopl(cpu);
	if (cpu->rflags & EMU_FLAG_IF)
		return;
	cpu->rflags |= EMU_FLAG_IF;
	cpu->irq_shadow = true;
	atomic_fetch_or(&cpu->events, EMU_EV_MODE);
}

void emu_popf(struct emu_cpu *cpu, uint64_t val, unsigned opsize)
{
	uint64_t old = emu_get_rflags(cpu);
	uint64_t mask = EMU_FLAGS_ARITH | EMU_FLAG_TF | EMU_FLAG_DF | EMU_FLAG_NT | EMU_FLAG_AC |
			EMU_FLAG_ID;

	if (!emu_prot(cpu) || cpu->cpl == 0)
		mask |= EMU_FLAG_IOPL | EMU_FLAG_IF;
	else if (cpu->cpl <= iopl(cpu))
		mask |= EMU_FLAG_IF;
	if (opsize == 2)
		mask &= 0xffff;
	emu_set_rflags(cpu, ((old & ~mask) | (val & mask) | 2) & ~EMU_FLAG_RF);
	emu_flags_changed(cpu, old);
}

/* ---- port I/O ----------------------------------------------------------------- */

/* SDM vol. 1 §19.5: above IOPL, every byte of the access must be allowed
 * by the TSS I/O permission bitmap. */
void emu_io_check(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
	unsigned type = EMU_SEG_TYPE(cpu->tr.attr);
	uint32_t base, byte, bits;

	if (!emu_prot(cpu) || (cpu->cpl <= iopl(cpu) && !(cpu->rflags & EMU_FLAG_VM)))
		return;
	if (!(cpu->tr.attr & EMU_SEG_P) || (type != 9 && type != 11) ||
	    cpu->tr.limit < TSS32_MIN_LIMIT)
		emu_raise_gp(cpu, 0);
	base = (uint32_t)emu_sys_read(cpu, cpu->tr.base + TSS_IOMAP_BASE, 2);
	byte = base + port / 8;
	if (byte + 1 > cpu->tr.limit)
		emu_raise_gp(cpu, 0);
	bits = (uint32_t)emu_sys_read(cpu, cpu->tr.base + byte, 2);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		emu_raise_gp(cpu, 0);
}

uint64_t emu_io_in(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
	const struct emu_io_ops *io = cpu->vm->cfg.io;
	uint32_t v = 0xffffffffu;

	emu_io_check(cpu, port, size);
	if (!emu_legacy_pio(cpu->vm, port, false, &v, size) && io && io->pio && ++cpu->stats.pio)
		io->pio(cpu->vm->cfg.io_ctx, cpu->index, port, false, &v, size);
	return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

void emu_io_out(struct emu_cpu *cpu, uint16_t port, unsigned size, uint64_t val)
{
	const struct emu_io_ops *io = cpu->vm->cfg.io;
	uint32_t v = (uint32_t)val;

	emu_io_check(cpu, port, size);
	if (!emu_legacy_pio(cpu->vm, port, true, &v, size) && io && io->pio && ++cpu->stats.pio)
		io->pio(cpu->vm->cfg.io_ctx, cpu->index, port, true, &v, size);
}

/* ---- small instructions ------------------------------------------------------- */

void emu_swapgs(struct emu_cpu *cpu)
{
	uint64_t t;

	if (cpu->mode != EMU_MODE_LONG64)
		emu_raise_ud(cpu);
	require_cpl0(cpu);
	t = cpu->seg[EMU_GS].base;
	cpu->seg[EMU_GS].base = cpu->msr.kernel_gs_base;
	cpu->msr.kernel_gs_base = t;
}

void emu_clts(struct emu_cpu *cpu)
{
	require_cpl0(cpu);
	cpu->cr0 &= ~EMU_CR0_TS;
}

void emu_lmsw(struct emu_cpu *cpu, uint16_t val)
{
	require_cpl0(cpu);
	/* Only PE, MP, EM, TS; PE can be set but not cleared. */
	write_cr0(cpu, (cpu->cr0 & ~0xeULL) | (val & 0xfu) | (cpu->cr0 & EMU_CR0_PE));
}

void emu_invlpg(struct emu_cpu *cpu, uint64_t lin)
{
	require_cpl0(cpu);
	emu_tlb_flush_page(cpu, lin);
}

/* ---- the stack ---------------------------------------------------------------- */

unsigned emu_stack_width(struct emu_cpu *cpu)
{
	if (cpu->mode == EMU_MODE_LONG64)
		return 8;
	return (cpu->seg[EMU_SS].attr & EMU_SEG_DB) ? 4 : 2;
}

uint64_t emu_stack_wrap(struct emu_cpu *cpu, uint64_t rsp)
{
	switch (emu_stack_width(cpu)) {
	case 8:
		return rsp;
	case 4:
		return (uint32_t)rsp;
	default:
		return (uint16_t)rsp;
	}
}

void emu_set_rsp(struct emu_cpu *cpu, uint64_t rsp)
{
	switch (emu_stack_width(cpu)) {
	case 8:
		cpu->r[EMU_RSP] = rsp;
		break;
	case 4:
		cpu->r[EMU_RSP] = (uint32_t)rsp;
		break;
	default:
		cpu->r[EMU_RSP] = (cpu->r[EMU_RSP] & ~0xffffULL) | (uint16_t)rsp;
		break;
	}
}
