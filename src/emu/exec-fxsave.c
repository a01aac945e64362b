/* FXSAVE/FXRSTOR (and their REX.W forms), XSAVE/XSAVEOPT/XRSTOR for the
 * x87 and SSE state components, XGETBV/XSETBV, and the FPU/XSAVE state at

 * SDM vol. 1 ch. 10.5 and 13, vol. 2 "FXSAVE", "XSAVE", "XRSTOR".
 *
 * emu_cpu.fxsave is itself an FXSAVE image (64-bit FIP/FDP, x87.h), so
 * these are copies with the format's adjustments. XINUSE is taken as 1
 * for x87 and SSE (XSAVE may always do that): XSAVE writes both components
 * when asked and sets their XSTATE_BV bits. XGETBV/XSETBV and the state at
 * the accelerator interface are in x87-state.c (system layer). */
#include "emu/exec-x87.h"

#define XSAVE_SIZE 576 /* legacy area + header: what CPUID.0xD reports */

/* ---- images ---------------------------------------------------------------- */

/* The legacy-area bytes of component x87 (x87 = true) or SSE in a
 * save image, for 64-bit FIP/FDP (w64) or FIP/FCS/FDP/FDS. */
static void image_out(const struct emu_cpu *cpu, uint8_t *img, bool x87, bool mx, bool sse,
		      bool w64, unsigned nxmm)
{
	if (x87) {
		memcpy(img, cpu->fxsave, 8);
		img[5] = 0;
		if (w64) {
			memcpy(img + 8, cpu->fxsave + X87_FIP, 16);
		} else {
			uint32_t fip = (uint32_t)x87_get64(cpu, X87_FIP);
			uint32_t fdp = (uint32_t)x87_get64(cpu, X87_FDP);

			memset(img + 8, 0, 16); /* FCS, FDS: deprecated, 0 */
			memcpy(img + 8, &fip, 4);
			memcpy(img + 16, &fdp, 4);
		}
		memcpy(img + X87_ST0, cpu->fxsave + X87_ST0, 128);
	}
	if (mx)
		memcpy(img + X87_MXCSR, cpu->fxsave + X87_MXCSR, 8);
	if (sse)
		memcpy(img + X87_XMM0, cpu->fxsave + X87_XMM0, 16 * nxmm);
}

static void image_in(struct emu_cpu *cpu, const uint8_t *img, bool x87, bool mx, bool sse, bool w64,
		     unsigned nxmm)
{
	if (x87) {
		memcpy(cpu->fxsave, img, 8);
		cpu->fxsave[5] = 0;
		if (w64) {
			memcpy(cpu->fxsave + X87_FIP, img + 8, 16);
		} else {
			uint32_t fip, fdp;

			memcpy(&fip, img + 8, 4);
			memcpy(&fdp, img + 16, 4);
			x87_set64(cpu, X87_FIP, fip);
			x87_set64(cpu, X87_FDP, fdp);
		}
		for (unsigned i = 0; i < 8; i++) {
			memcpy(cpu->fxsave + X87_ST0 + 16 * i, img + X87_ST0 + 16 * i, 10);
			memset(cpu->fxsave + X87_ST0 + 16 * i + 10, 0, 6);
		}
	}
	if (mx)
		memcpy(cpu->fxsave + X87_MXCSR, img + X87_MXCSR, 4);
	if (sse)
		memcpy(cpu->fxsave + X87_XMM0, img + X87_XMM0, 16 * nxmm);
}

static void check_mxcsr(struct emu_cpu *cpu, const uint8_t *img)
{
	uint32_t v;

	memcpy(&v, img + X87_MXCSR, 4);
	if (v & ~(uint32_t)X87_MXCSR_MASK_VAL)
		emu_raise_gp(cpu, 0);
}

static unsigned nxmm(const struct emu_cpu *cpu)
{
	return cpu->mode == EMU_MODE_LONG64 ? 16 : 8;
}

/* #NM (CR0.TS/EM), then the address of an aligned operand or #GP(0). */
static uint64_t state_lin(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
			  unsigned align, enum emu_access acc)
{
	uint64_t lin;

	if (cpu->cr0 & (EMU_CR0_EM | EMU_CR0_TS))
		emu_raise(cpu, EMU_NM, EMU_NO_ERRCODE);
	lin = x87_lin(cpu, in, size, acc);
	if (lin & (align - 1))
		emu_raise_gp(cpu, 0);
	return lin;
}

/* ---- FXSAVE / FXRSTOR -------------------------------------------------------------- */

EMU_HANDLER(emu_op_fxsave)
{
	unsigned n = nxmm(cpu), len = X87_XMM0 + 16 * n;
	uint64_t lin = state_lin(cpu, in, len, 16, EMU_ACC_WRITE);
	_Alignas(16) uint8_t img[512];

	memset(img, 0, sizeof(img));
	image_out(cpu, img, true, true, true, in->pfx & EMU_PFX_REXW, n);
	emu_write_bytes(cpu, lin, img, len);
}

EMU_HANDLER(emu_op_fxrstor)
{
	unsigned n = nxmm(cpu), len = X87_XMM0 + 16 * n;
	uint64_t lin = state_lin(cpu, in, len, 16, EMU_ACC_READ);
	_Alignas(16) uint8_t img[512];

	emu_read_bytes(cpu, lin, img, len);
	check_mxcsr(cpu, img);
	image_in(cpu, img, true, true, true, in->pfx & EMU_PFX_REXW, n);
}

/* ---- XSAVE / XRSTOR ------------------------------------------------------------------ */

static uint64_t rfbm(struct emu_cpu *cpu)
{
	uint64_t mask = ((uint64_t)(uint32_t)cpu->r[EMU_RDX] << 32) | (uint32_t)cpu->r[EMU_RAX];

	return mask & cpu->xcr0;
}

static uint64_t xsave_lin(struct emu_cpu *cpu, const struct emu_insn *in, enum emu_access acc)
{
	if (!(cpu->cr4 & EMU_CR4_OSXSAVE))
		emu_raise_ud(cpu);
	return state_lin(cpu, in, XSAVE_SIZE, 64, acc);
}

/* XSAVE (0F AE /4) and XSAVEOPT (0F AE /6), which may behave as XSAVE. */
EMU_HANDLER(emu_op_xsave)
{
	uint64_t lin = xsave_lin(cpu, in, EMU_ACC_WRITE), rf = rfbm(cpu), bv;
	unsigned n = nxmm(cpu);
	_Alignas(64) uint8_t img[XSAVE_SIZE];

	/* read the header first: a fault leaves memory as it was */
	emu_read_bytes(cpu, lin, img, XSAVE_SIZE);
	image_out(cpu, img, rf & XCR0_X87, rf & XCR0_SSE, rf & XCR0_SSE, in->pfx & EMU_PFX_REXW, n);
	memcpy(&bv, img + XSAVE_HDR, 8);
	bv = (bv & ~rf) | (rf & XCR0_SUPPORTED);
	memcpy(img + XSAVE_HDR, &bv, 8);
	emu_write_bytes(cpu, lin, img, XSAVE_SIZE);
}

EMU_HANDLER(emu_op_xrstor)
{
	uint64_t lin = xsave_lin(cpu, in, EMU_ACC_READ), rf = rfbm(cpu), bv, comp;
	unsigned n = nxmm(cpu);
	_Alignas(64) uint8_t img[XSAVE_SIZE];

	emu_read_bytes(cpu, lin, img, XSAVE_SIZE);
	memcpy(&bv, img + XSAVE_HDR, 8);
	memcpy(&comp, img + XSAVE_HDR + 8, 8);
	if (comp || (bv & ~cpu->xcr0)) /* compacted form: XSAVEC is not advertised */
		emu_raise_gp(cpu, 0);
	for (unsigned i = 16; i < 64; i++)
		if (img[XSAVE_HDR + i])
			emu_raise_gp(cpu, 0);
	if (rf & XCR0_SSE)
		check_mxcsr(cpu, img);
	if (rf & XCR0_X87) {
		if (bv & XCR0_X87) {
			image_in(cpu, img, true, false, false, in->pfx & EMU_PFX_REXW, n);
		} else {
			x87_init(cpu);
			memset(cpu->fxsave + X87_ST0, 0, 128);
		}
	}
	if (rf & XCR0_SSE) {
		image_in(cpu, img, false, true, bv & XCR0_SSE, false, n);
		if (!(bv & XCR0_SSE))
			memset(cpu->fxsave + X87_XMM0, 0, 16 * n);
	}
}
