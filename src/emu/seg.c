/* Segmentation of the software CPU (SDM vol. 3A ch. 3 and 5): descriptor
 * reads from the GDT/LDT, segment-register loads with their privilege and
 * type checks, the linear address of seg:offset, descriptor-table
 * registers (LGDT/LIDT/LLDT/LTR) and LAR/LSL/VERR/VERW.
 *
 * Map: descriptors; linear addresses; loads; table registers; queries. */
#include "emu/system.h"

#define DESC_S (1u << 12)
#define DESC_P (1u << 15)
#define DESC_L (1u << 21)
#define TYPE_CODE 0x8u
#define TYPE_CONFORM 0x4u /* code */
#define TYPE_READ 0x2u /* code */
#define TYPE_WRITE 0x2u /* data */
#define TYPE_EXPDOWN 0x4u /* data */
#define SYS_LDT 0x2u
#define SYS_TSS_AVL 0x9u
#define SYS_TSS_BUSY 0xbu
#define SYS_TSS16 0x1u
#define SYS_TSS16_BUSY 0x3u

static unsigned desc_type(const struct emu_desc *d)
{
	return (d->hi >> 8) & 0xf;
}

static unsigned desc_dpl(const struct emu_desc *d)
{
	return (d->hi >> 13) & 3;
}

static bool desc_is_code(const struct emu_desc *d)
{
	return (d->hi & DESC_S) && (desc_type(d) & TYPE_CODE);
}

/* ---- descriptors --------------------------------------------------------- */

static uint64_t desc_addr(struct emu_cpu *cpu, uint16_t sel)
{
	return ((sel & 4) ? cpu->ldtr.base : cpu->gdtr.base) + (sel & 0xfff8);
}

bool emu_desc_read(struct emu_cpu *cpu, uint16_t sel, bool sys16, struct emu_desc *d)
{
	uint32_t limit = (sel & 4) ? cpu->ldtr.limit : cpu->gdtr.limit;
	uint64_t a = desc_addr(cpu, sel), v;

	if ((sel & 4) && !(cpu->ldtr.attr & EMU_SEG_P))
		return false;
	if ((uint32_t)(sel & 0xfff8) + (sys16 ? 15u : 7u) > limit)
		return false;
	v = emu_sys_read(cpu, a, 8);
	d->lo = (uint32_t)v;
	d->hi = (uint32_t)(v >> 32);
	d->hi2 = sys16 ? (uint32_t)emu_sys_read(cpu, a + 8, 4) : 0;
	return true;
}

void emu_desc_to_seg(const struct emu_desc *d, uint16_t sel, struct emu_seg *s)
{
	uint32_t limit = (d->lo & 0xffff) | (d->hi & 0xf0000);

	s->base = (d->lo >> 16) | ((d->hi & 0xff) << 16) | (d->hi & 0xff000000u) |
		  ((uint64_t)d->hi2 << 32);
	if (d->hi & (1u << 23))
		limit = (limit << 12) | 0xfff;
	s->limit = limit;
	s->sel = sel;
	s->attr = (uint16_t)(((d->hi >> 8) & 0xff) | (((d->hi >> 20) & 0xf) << 8));
}

void emu_desc_set_accessed(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d)
{
	if (!(d->hi & DESC_S) || (d->hi & (1u << 8)))
		return;
	d->hi |= 1u << 8;
	emu_sys_write(cpu, desc_addr(cpu, sel) + 4, 4, d->hi);
}

void emu_seg_flat(struct emu_seg *s, uint16_t sel, unsigned dpl, bool code, bool l64)
{
	s->base = 0;
	s->limit = 0xffffffffu;
	s->sel = sel;
	s->attr = (uint16_t)(EMU_SEG_P | EMU_SEG_S | (dpl << 5) | EMU_SEG_G |
			     (code ? 0xbu | (l64 ? EMU_SEG_L : EMU_SEG_DB) : 0x3u | EMU_SEG_DB));
}

void emu_seg_real(struct emu_seg *s, uint16_t sel)
{
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	if (!(s->attr & EMU_SEG_P)) {
		s->attr = EMU_SEG_P | EMU_SEG_S | 0x3;
		s->limit = 0xffff;
	}
}

void emu_load_cs(struct emu_cpu *cpu, uint16_t sel, const struct emu_desc *d, unsigned cpl)
{
	struct emu_seg *cs = &cpu->seg[EMU_CS];

	emu_desc_to_seg(d, (uint16_t)((sel & 0xfffc) | cpl), cs);
	cs->attr |= 1; /* accessed */
}

unsigned emu_check_code_target(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d,
			       bool interrupt)
{
	unsigned dpl, cpl = cpu->cpl;
	bool conforming;

	if (!(sel & 0xfffc))
		emu_raise_gp(cpu, 0);
	if (!emu_desc_read(cpu, sel, false, d) || !desc_is_code(d))
		emu_raise_gp(cpu, sel & 0xfffc);
	dpl = desc_dpl(d);
	conforming = desc_type(d) & TYPE_CONFORM;
	if (interrupt || conforming) {
		if (dpl > cpl)
			emu_raise_gp(cpu, sel & 0xfffc);
	} else if ((sel & 3) > cpl || dpl != cpl) {
		emu_raise_gp(cpu, sel & 0xfffc);
	}
	if (!(d->hi & DESC_P))
		emu_raise(cpu, EMU_NP, sel & 0xfffc);
	return interrupt && !conforming ? dpl : cpl;
}

void emu_seg_fix_outer(struct emu_cpu *cpu)
{
	static const int segs[] = { EMU_ES, EMU_DS, EMU_FS, EMU_GS };

	for (unsigned i = 0; i < 4; i++) {
		struct emu_seg *s = &cpu->seg[segs[i]];
		bool conf_code = (s->attr & 0xc) == 0xc;

		if ((s->attr & EMU_SEG_P) && !conf_code && EMU_SEG_DPL(s->attr) < cpu->cpl) {
			s->sel = 0;
			s->attr = 0;
			if (segs[i] < EMU_FS || !(cpu->efer & EMU_EFER_LMA))
				s->base = 0;
		}
	}
}

/* ---- linear addresses ----------------------------------------------------- */

_Noreturn static void seg_fault(struct emu_cpu *cpu, int seg)
{
	emu_raise(cpu, seg == EMU_SS ? EMU_SS_FAULT : EMU_GP, 0);
}

/* Type and limit checks of a legacy-mode access (SDM vol. 3A §5.3-5.5). */
static void check_legacy(struct emu_cpu *cpu, int seg, uint64_t off, unsigned size,
			 enum emu_access acc)
{
	const struct emu_seg *s = &cpu->seg[seg];
	unsigned type = EMU_SEG_TYPE(s->attr);
	uint64_t last = off + (size ? size - 1 : 0);

	if (emu_prot(cpu)) {
		if (!(s->attr & EMU_SEG_P))
			seg_fault(cpu, seg);
		if ((type & TYPE_CODE) && acc == EMU_ACC_WRITE)
			seg_fault(cpu, seg);
		if ((type & TYPE_CODE) && acc == EMU_ACC_READ && !(type & TYPE_READ) &&
		    seg != EMU_CS)
			seg_fault(cpu, seg);
		if (!(type & TYPE_CODE) && acc == EMU_ACC_WRITE && !(type & TYPE_WRITE))
			seg_fault(cpu, seg);
	}
	if (!(type & TYPE_CODE) && (type & TYPE_EXPDOWN)) {
		uint64_t top = (s->attr & EMU_SEG_DB) ? 0xffffffffULL : 0xffffULL;

		if (off <= s->limit || last > top)
			seg_fault(cpu, seg);
	} else if (last > s->limit) {
		seg_fault(cpu, seg);
	}
}

uint64_t emu_linear(struct emu_cpu *cpu, int seg, uint64_t off, unsigned size, enum emu_access acc)
{
	uint64_t lin;

	if (cpu->mode == EMU_MODE_LONG64) {
		lin = off + (seg >= EMU_FS ? cpu->seg[seg].base : 0);
		if (!emu_is_canonical(lin) || !emu_is_canonical(lin + (size ? size - 1 : 0)))
			seg_fault(cpu, seg);
		return lin;
	}
	check_legacy(cpu, seg, off, size, acc);
	return (cpu->seg[seg].base + off) & 0xffffffffULL;
}

/* ---- loads ------------------------------------------------------------------ */

static void load_null(struct emu_cpu *cpu, int seg, uint16_t sel)
{
	struct emu_seg *s = &cpu->seg[seg];

	if (seg == EMU_SS) {
		/* 64-bit mode allows a null SS below CPL 3 (SDM "MOV", "POP") */
		if (cpu->mode != EMU_MODE_LONG64 || cpu->cpl == 3 || (sel & 3) != cpu->cpl)
			emu_raise_gp(cpu, 0);
		emu_seg_flat(s, sel, cpu->cpl, false, false);
		return;
	}
	s->sel = sel;
	s->attr = 0;
	s->limit = 0;
	if (cpu->mode != EMU_MODE_LONG64 || seg < EMU_FS)
		s->base = 0;
}

void emu_load_seg(struct emu_cpu *cpu, int seg, uint16_t sel)
{
	struct emu_desc d;
	unsigned type, dpl, rpl = sel & 3, cpl = cpu->cpl;

	if (!emu_prot(cpu) || (cpu->rflags & EMU_FLAG_VM)) {
		emu_seg_real(&cpu->seg[seg], sel);
		if (seg == EMU_CS)
			emu_update_mode(cpu);
		return;
	}
	if (seg == EMU_CS)
		emu_raise_ud(cpu);
	if (!(sel & 0xfffc)) {
		load_null(cpu, seg, sel);
		return;
	}
	if (!emu_desc_read(cpu, sel, false, &d) || !(d.hi & DESC_S))
		emu_raise_gp(cpu, sel & 0xfffc);
	type = desc_type(&d);
	dpl = desc_dpl(&d);
	if (seg == EMU_SS) {
		if (rpl != cpl || dpl != cpl || (type & TYPE_CODE) || !(type & TYPE_WRITE))
			emu_raise_gp(cpu, sel & 0xfffc);
		if (!(d.hi & DESC_P))
			emu_raise(cpu, EMU_SS_FAULT, sel & 0xfffc);
	} else {
		if ((type & TYPE_CODE) && !(type & TYPE_READ))
			emu_raise_gp(cpu, sel & 0xfffc);
		if (!((type & TYPE_CODE) && (type & TYPE_CONFORM)) && (dpl < cpl || dpl < rpl))
			emu_raise_gp(cpu, sel & 0xfffc);
		if (!(d.hi & DESC_P))
			emu_raise(cpu, EMU_NP, sel & 0xfffc);
	}
	emu_desc_set_accessed(cpu, sel, &d);
	emu_desc_to_seg(&d, sel, &cpu->seg[seg]); /* FS/GS in 64-bit mode: 32-bit base */
}

/* ---- table registers ---------------------------------------------------------- */

static void require_cpl0(struct emu_cpu *cpu)
{
	if (cpu->cpl != 0)
		emu_raise_gp(cpu, 0);
}

void emu_lgdt(struct emu_cpu *cpu, uint64_t base, uint16_t limit)
{
	require_cpl0(cpu);
	if (cpu->mode == EMU_MODE_LONG64 && !emu_is_canonical(base))
		emu_raise_gp(cpu, 0);
	cpu->gdtr.base = base;
	cpu->gdtr.limit = limit;
}

void emu_lidt(struct emu_cpu *cpu, uint64_t base, uint16_t limit)
{
	require_cpl0(cpu);
	if (cpu->mode == EMU_MODE_LONG64 && !emu_is_canonical(base))
		emu_raise_gp(cpu, 0);
	cpu->idtr.base = base;
	cpu->idtr.limit = limit;
}

/* Reads the system descriptor sel names for LLDT/LTR; raises like them. */
static void read_sys_desc(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d)
{
	bool lm = cpu->efer & EMU_EFER_LMA;

	if (!emu_prot(cpu) || (cpu->rflags & EMU_FLAG_VM))
		emu_raise_ud(cpu);
	require_cpl0(cpu);
	if (sel & 4)
		emu_raise_gp(cpu, sel & 0xfffc);
	if (!emu_desc_read(cpu, sel, lm, d) || (d->hi & DESC_S))
		emu_raise_gp(cpu, sel & 0xfffc);
	if (lm && !emu_is_canonical(((uint64_t)d->hi2 << 32) | (d->hi & 0xff000000u)))
		emu_raise_gp(cpu, sel & 0xfffc);
}

void emu_lldt(struct emu_cpu *cpu, uint16_t sel)
{
	struct emu_desc d;

	if (!(sel & 0xfffc) && emu_prot(cpu) && cpu->cpl == 0) {
		cpu->ldtr.sel = sel;
		cpu->ldtr.attr = 0;
		cpu->ldtr.base = 0;
		cpu->ldtr.limit = 0;
		return;
	}
	read_sys_desc(cpu, sel, &d);
	if (desc_type(&d) != SYS_LDT)
		emu_raise_gp(cpu, sel & 0xfffc);
	if (!(d.hi & DESC_P))
		emu_raise(cpu, EMU_NP, sel & 0xfffc);
	emu_desc_to_seg(&d, sel, &cpu->ldtr);
}

void emu_ltr(struct emu_cpu *cpu, uint16_t sel)
{
	struct emu_desc d;
	unsigned type;

	if (!(sel & 0xfffc)) {
		if (!emu_prot(cpu))
			emu_raise_ud(cpu);
		require_cpl0(cpu);
		emu_raise_gp(cpu, 0);
	}
	read_sys_desc(cpu, sel, &d);
	type = desc_type(&d);
	if (type != SYS_TSS_AVL && (type != SYS_TSS16 || (cpu->efer & EMU_EFER_LMA)))
		emu_raise_gp(cpu, sel & 0xfffc);
	if (!(d.hi & DESC_P))
		emu_raise(cpu, EMU_NP, sel & 0xfffc);
	d.hi |= 0x200; /* busy */
	emu_sys_write(cpu, desc_addr(cpu, sel) + 4, 4, d.hi);
	emu_desc_to_seg(&d, sel, &cpu->tr);
}

/* ---- LAR, LSL, VERR, VERW ---------------------------------------------------- */

static bool sys_type_ok(struct emu_cpu *cpu, unsigned type, bool lar)
{
	if (cpu->efer & EMU_EFER_LMA)
		return type == SYS_LDT || type == SYS_TSS_AVL || type == SYS_TSS_BUSY ||
		       (lar && type == 0xc);
	return type == SYS_TSS16 || type == SYS_LDT || type == SYS_TSS16_BUSY ||
	       type == SYS_TSS_AVL || type == SYS_TSS_BUSY ||
	       (lar && (type == 0x4 || type == 0x5 || type == 0xc));
}

/* Reads sel for LAR/LSL/VERR/VERW: false when it does not qualify. */
static bool query_desc(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d)
{
	if (!emu_prot(cpu) || (cpu->rflags & EMU_FLAG_VM))
		emu_raise_ud(cpu);
	if (!(sel & 0xfffc) || !emu_desc_read(cpu, sel, false, d))
		return false;
	if (desc_is_code(d) && (desc_type(d) & TYPE_CONFORM))
		return true;
	return desc_dpl(d) >= cpu->cpl && desc_dpl(d) >= (sel & 3u);
}

bool emu_lar(struct emu_cpu *cpu, uint16_t sel, uint32_t *out)
{
	struct emu_desc d;

	if (!query_desc(cpu, sel, &d))
		return false;
	if (!(d.hi & DESC_S) && !sys_type_ok(cpu, desc_type(&d), true))
		return false;
	*out = d.hi & 0x00ffff00u;
	return true;
}

bool emu_lsl(struct emu_cpu *cpu, uint16_t sel, uint32_t *out)
{
	struct emu_desc d;
	struct emu_seg s;

	if (!query_desc(cpu, sel, &d))
		return false;
	if (!(d.hi & DESC_S) && !sys_type_ok(cpu, desc_type(&d), false))
		return false;
	emu_desc_to_seg(&d, sel, &s);
	*out = s.limit;
	return true;
}

bool emu_verr(struct emu_cpu *cpu, uint16_t sel, bool write)
{
	struct emu_desc d;
	unsigned type;

	if (!query_desc(cpu, sel, &d) || !(d.hi & DESC_S))
		return false;
	type = desc_type(&d);
	if (write)
		return !(type & TYPE_CODE) && (type & TYPE_WRITE);
	return !(type & TYPE_CODE) || (type & TYPE_READ);
}
