/* DPPS/DPPD with an exception unmasked: the SDM defines them as separate
 * multiplies and adds (vol. 2 "DPPS": "exceptions are determined
 * separately for each add and multiply operation"), so one host DPPS run
 * cannot tell which exceptions the hardware reports: a later step sees
 * what an earlier one would have trapped on (a denormal product, an
 * infinity). Here the steps run one by one on the host, each with the
 * fix-ups of sse-fpexc.c, and the first step with an unmasked exception
 * stops the instruction (exec-sse.c raises #XM; the destination stays).
 * Without one, exec-sse.c runs the host's DPPS: the steps' results are not
 * the instruction's (NaN propagation differs). */
#include "emu/sse-ops.h"

OP2(st_mulps, "mulps")
OP2(st_addps, "addps")
OP2(st_addss, "addss")
OP2(st_mulpd, "mulpd")
OP2(st_addsd, "addsd")

static const struct emu_sse_op mul_ps = { .fn = st_mulps, .fpe = SSE_E_PS, .arith = SSE_AR_MUL };
static const struct emu_sse_op add_ps = { .fn = st_addps, .fpe = SSE_E_PS, .arith = SSE_AR_ADD };
static const struct emu_sse_op add_ss = { .fn = st_addss, .fpe = SSE_E_SS, .arith = SSE_AR_ADD };
static const struct emu_sse_op mul_pd = { .fn = st_mulpd, .fpe = SSE_E_PD, .arith = SSE_AR_MUL };
static const struct emu_sse_op add_sd = { .fn = st_addsd, .fpe = SSE_E_SD, .arith = SSE_AR_ADD };

/* One step: d = op(d, s) under the guest's MXCSR g; ORs its flags into
 * *acc. False when the step raised an unmasked exception. */
static bool step(const struct emu_sse_op *op, union emu_xmm *d, const union emu_xmm *s, uint32_t g,
		 uint32_t *acc)
{
	union emu_xmm d0 = *d;
	uint32_t h = emu_sse_host_enter(g), fl;

	uint32_t un;

	op->fn(d, s, 0);
	fl = emu_sse_fp_fixup(op, op->fn, &d0, s, d, 0, g, emu_sse_host_leave(h));
	un = fl & ~(g >> 7) & EMU_MXCSR_FLAGS;
	if (un & (EMU_MXCSR_IE | EMU_MXCSR_DE | EMU_MXCSR_ZE))
		fl &= EMU_MXCSR_IE | EMU_MXCSR_DE | EMU_MXCSR_ZE; /* pre-computation */
	*acc |= fl;
	return !un;
}

static uint32_t dpps(union emu_xmm *d, const union emu_xmm *s, unsigned imm, uint32_t g)
{
	union emu_xmm a = { 0 }, b = { 0 }, x = { 0 }, y = { 0 };
	uint32_t acc = 0;

	for (unsigned i = 0; i < 4; i++) {
		if (imm & (0x10u << i)) {
			a.d[i] = d->d[i];
			b.d[i] = s->d[i];
		}
	}
	if (!step(&mul_ps, &a, &b, g, &acc)) /* Temp1..4; unselected: +0.0 */
		return acc;
	x.d[0] = a.d[0], y.d[0] = a.d[1]; /* Temp5 = Temp1 + Temp2 */
	x.d[1] = a.d[2], y.d[1] = a.d[3]; /* Temp6 = Temp3 + Temp4 */
	if (!step(&add_ps, &x, &y, g, &acc))
		return acc;
	y.d[0] = x.d[1];
	if (!step(&add_ss, &x, &y, g, &acc)) /* Temp7 = Temp5 + Temp6 */
		return acc;
	for (unsigned i = 0; i < 4; i++)
		d->d[i] = (imm & (1u << i)) ? x.d[0] : 0;
	return acc;
}

static uint32_t dppd(union emu_xmm *d, const union emu_xmm *s, unsigned imm, uint32_t g)
{
	union emu_xmm a = { 0 }, b = { 0 }, y = { 0 };
	uint32_t acc = 0;

	for (unsigned i = 0; i < 2; i++) {
		if (imm & (0x10u << i)) {
			a.q[i] = d->q[i];
			b.q[i] = s->q[i];
		}
	}
	if (!step(&mul_pd, &a, &b, g, &acc))
		return acc;
	y.q[0] = a.q[1];
	if (!step(&add_sd, &a, &y, g, &acc)) /* Temp3 = Temp1 + Temp2 */
		return acc;
	for (unsigned i = 0; i < 2; i++)
		d->q[i] = (imm & (1u << i)) ? a.q[0] : 0;
	return acc;
}

uint32_t emu_sse_dp(bool dbl, const union emu_xmm *d, const union emu_xmm *s, unsigned imm,
		    uint32_t g)
{
	union emu_xmm r = *d;

	return dbl ? dppd(&r, s, imm & 0xff, g) : dpps(&r, s, imm & 0xff, g);
}
