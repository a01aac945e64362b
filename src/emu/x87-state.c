/* x87 state changes shared by the x87 handlers, FXSAVE/XSAVE and the
 * accelerator interface (x87.h describes the layout); XGETBV/XSETBV; the
 * FPU state as KVM_GET/SET_FPU and KVM_GET/SET_XSAVE lay it out.
 * SDM vol. 1 ch. 8 and 13. */
#include "emu/x87.h"

#include <errno.h>

/* TOP changes without a push or pop (FNINIT, FLDENV): the registers keep
 * their physical numbers, so the stack-order slots rotate. */
void x87_set_top(struct emu_cpu *cpu, unsigned top)
{
	uint8_t tmp[128];
	unsigned old = x87_top(cpu), d = (top - old) & 7;
	uint16_t sw = x87_get16(cpu, X87_FSW);

	/* new ST(i) = physical top + i = old ST(i + d) */
	memcpy(tmp, cpu->fxsave + X87_ST0, 128);
	for (unsigned i = 0; i < 8; i++)
		memcpy(cpu->fxsave + X87_ST0 + 16 * i, tmp + 16 * ((i + d) & 7), 16);
	x87_set16(cpu, X87_FSW, (uint16_t)((sw & ~FSW_TOP) | ((top & 7) << 11)));
}

void x87_init(struct emu_cpu *cpu)
{
	x87_set_top(cpu, 0);
	x87_set16(cpu, X87_FCW, X87_FCW_INIT);
	x87_set16(cpu, X87_FSW, 0);
	cpu->fxsave[X87_FTW] = 0;
	cpu->fxsave[X87_FTW + 1] = 0;
	x87_set16(cpu, X87_FOP, 0);
	x87_set64(cpu, X87_FIP, 0);
	x87_set64(cpu, X87_FDP, 0);
}

static void set_top(struct emu_cpu *cpu, unsigned top)
{
	uint16_t sw = x87_get16(cpu, X87_FSW);

	x87_set16(cpu, X87_FSW, (uint16_t)((sw & ~FSW_TOP) | ((top & 7) << 11)));
}

/* The slots are in stack order: moving TOP rotates them. up: TOP+1 (the
 * old ST1 becomes ST0, the old ST0 becomes ST7). */
void x87_rotate(struct emu_cpu *cpu, bool up)
{
	uint8_t *st = cpu->fxsave + X87_ST0, tmp[16];

	if (up) {
		memcpy(tmp, st, 16);
		memmove(st, st + 16, 7 * 16);
		memcpy(st + 7 * 16, tmp, 16);
		set_top(cpu, x87_top(cpu) + 1);
	} else {
		memcpy(tmp, st + 7 * 16, 16);
		memmove(st + 16, st, 7 * 16);
		memcpy(st, tmp, 16);
		set_top(cpu, x87_top(cpu) - 1);
	}
}

void x87_mmx_enter(struct emu_cpu *cpu)
{
	if (x87_top(cpu))
		x87_set_top(cpu, 0);
	cpu->fxsave[X87_FTW] = 0xff;
}

void x87_push(struct emu_cpu *cpu, x80 v)
{
	x87_rotate(cpu, false);
	x87_st_set(cpu, 0, v);
}

void x87_pop(struct emu_cpu *cpu)
{
	cpu->fxsave[X87_FTW] &= (uint8_t) ~(1u << x87_phys(cpu, 0));
	x87_rotate(cpu, true);
}

/* Tag of a non-empty register from its contents: 0 valid, 1 zero, 2 special. */
static unsigned tag_of(const uint8_t *p)
{
	uint64_t m;
	uint16_t se;

	memcpy(&m, p, 8);
	memcpy(&se, p + 8, 2);
	if ((se & 0x7fff) == 0x7fff)
		return 2;
	if ((se & 0x7fff) == 0)
		return m ? 2 : 1;
	return (m >> 63) ? 0 : 2;
}

uint16_t x87_full_tag(const struct emu_cpu *cpu)
{
	unsigned top = x87_top(cpu);
	uint16_t ftw = 0;

	for (unsigned j = 0; j < 8; j++) {
		unsigned t = 3;

		if (cpu->fxsave[X87_FTW] & (1u << j))
			t = tag_of(cpu->fxsave + X87_ST0 + 16 * ((j - top) & 7));
		ftw |= (uint16_t)(t << (2 * j));
	}
	return ftw;
}

void x87_set_full_tag(struct emu_cpu *cpu, uint16_t ftw)
{
	uint8_t a = 0;

	for (unsigned j = 0; j < 8; j++)
		if (((ftw >> (2 * j)) & 3) != 3)
			a |= (uint8_t)(1u << j);
	cpu->fxsave[X87_FTW] = a;
}

void x87_update_es(struct emu_cpu *cpu)
{
	uint16_t sw = x87_get16(cpu, X87_FSW), cw = x87_get16(cpu, X87_FCW);

	if (sw & ~cw & FSW_EXC)
		sw |= FSW_ES | FSW_B;
	else
		sw &= (uint16_t) ~(FSW_ES | FSW_B);
	x87_set16(cpu, X87_FSW, sw);
}

bool x87_flag(struct emu_cpu *cpu, unsigned exc)
{
	uint16_t sw = x87_get16(cpu, X87_FSW), cw = x87_get16(cpu, X87_FCW);
	unsigned unmasked = exc & ~cw & FSW_EXC;

	sw |= (uint16_t)(exc & (FSW_EXC | FSW_SF));
	if (unmasked)
		sw |= FSW_ES | FSW_B;
	x87_set16(cpu, X87_FSW, sw);
	return unmasked & (FSW_IE | FSW_DE | FSW_ZE);
}

void x87_set_cc(struct emu_cpu *cpu, unsigned cc)
{
	uint16_t sw = x87_get16(cpu, X87_FSW);

	x87_set16(cpu, X87_FSW, (uint16_t)((sw & ~FSW_CC) | (cc & FSW_CC)));
}

void emu_fpu_reset(struct emu_cpu *cpu)
{
	memset(cpu->fxsave, 0, sizeof(cpu->fxsave));
	x87_init(cpu);
	x87_set32(cpu, X87_MXCSR, X87_MXCSR_INIT);
	x87_set32(cpu, X87_MXCSR_MASK, X87_MXCSR_MASK_VAL);
}

/* ---- XGETBV / XSETBV (system instructions; the core decodes them) ------------------ */

void emu_xsetbv(struct emu_cpu *cpu, uint32_t index, uint64_t val)
{
	if (!(cpu->cr4 & EMU_CR4_OSXSAVE))
		emu_raise_ud(cpu);
	if (cpu->cpl != 0 || index != 0 || !(val & XCR0_X87) || (val & ~XCR0_SUPPORTED))
		emu_raise_gp(cpu, 0);
	cpu->xcr0 = val;
}

uint64_t emu_xgetbv(struct emu_cpu *cpu, uint32_t index)
{
	if (!(cpu->cr4 & EMU_CR4_OSXSAVE))
		emu_raise_ud(cpu);
	if (index != 0)
		emu_raise_gp(cpu, 0); /* XINUSE (ECX = 1) is not advertised */
	return cpu->xcr0;
}

/* ---- the accelerator interface ------------------------------------------------------ */

void emu_cpu_get_fpu(struct emu_cpu *cpu, struct kvm_fpu *fpu)
{
	memset(fpu, 0, sizeof(*fpu));
	for (unsigned i = 0; i < 8; i++)
		memcpy(fpu->fpr[i], cpu->fxsave + X87_ST0 + 16 * i, 10);
	fpu->fcw = x87_get16(cpu, X87_FCW);
	fpu->fsw = x87_get16(cpu, X87_FSW);
	fpu->ftwx = cpu->fxsave[X87_FTW];
	fpu->last_opcode = x87_get16(cpu, X87_FOP);
	fpu->last_ip = x87_get64(cpu, X87_FIP);
	fpu->last_dp = x87_get64(cpu, X87_FDP);
	memcpy(fpu->xmm, cpu->fxsave + X87_XMM0, 256);
	fpu->mxcsr = x87_get32(cpu, X87_MXCSR);
}

int emu_cpu_set_fpu(struct emu_cpu *cpu, const struct kvm_fpu *fpu)
{
	if (fpu->mxcsr & ~(uint32_t)X87_MXCSR_MASK_VAL)
		return -EINVAL;
	for (unsigned i = 0; i < 8; i++) {
		memcpy(cpu->fxsave + X87_ST0 + 16 * i, fpu->fpr[i], 10);
		memset(cpu->fxsave + X87_ST0 + 16 * i + 10, 0, 6);
	}
	x87_set16(cpu, X87_FCW, fpu->fcw);
	x87_set16(cpu, X87_FSW, fpu->fsw);
	cpu->fxsave[X87_FTW] = fpu->ftwx;
	x87_set16(cpu, X87_FOP, fpu->last_opcode);
	x87_set64(cpu, X87_FIP, fpu->last_ip);
	x87_set64(cpu, X87_FDP, fpu->last_dp);
	memcpy(cpu->fxsave + X87_XMM0, fpu->xmm, 256);
	x87_set32(cpu, X87_MXCSR, fpu->mxcsr);
	return 0;
}

void emu_cpu_get_xsave(struct emu_cpu *cpu, struct kvm_xsave *xs)
{
	uint8_t *img = (uint8_t *)xs->region;
	uint64_t bv = XCR0_SUPPORTED;

	memset(xs, 0, sizeof(*xs));
	memcpy(img, cpu->fxsave, 416);
	memcpy(img + XSAVE_HDR, &bv, 8);
}

int emu_cpu_set_xsave(struct emu_cpu *cpu, const struct kvm_xsave *xs)
{
	const uint8_t *img = (const uint8_t *)xs->region;
	uint64_t bv, comp;
	uint32_t mx;

	memcpy(&bv, img + XSAVE_HDR, 8);
	memcpy(&comp, img + XSAVE_HDR + 8, 8);
	memcpy(&mx, img + X87_MXCSR, 4);
	if (comp || (bv & ~XCR0_SUPPORTED) || (mx & ~(uint32_t)X87_MXCSR_MASK_VAL))
		return -EINVAL;
	if (bv & XCR0_X87) {
		memcpy(cpu->fxsave, img, 24);
		memcpy(cpu->fxsave + X87_ST0, img + X87_ST0, 128);
	} else {
		x87_init(cpu);
		memset(cpu->fxsave + X87_ST0, 0, 128);
	}
	x87_set32(cpu, X87_MXCSR, mx);
	if (bv & XCR0_SSE)
		memcpy(cpu->fxsave + X87_XMM0, img + X87_XMM0, 256);
	else
		memset(cpu->fxsave + X87_XMM0, 0, 256);
	return 0;
}
