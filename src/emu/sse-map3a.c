/* SSSE3/SSE4.1/SSE4.2 operations of the 0F 3A map (all 66-prefixed but
 * PALIGNR on mm, an immediate byte each) and their table, indexed like
 * emu_sse_0f. Intel SDM vol. 2, appendix A.3, table A-5. */
#include "emu/sse-ops.h"

OP3(op_roundps, "roundps")
OP3(op_roundpd, "roundpd")
OP3(op_roundss, "roundss")
OP3(op_roundsd, "roundsd")
OP3(op_blendps, "blendps")
OP3(op_blendpd, "blendpd")
OP3(op_pblendw, "pblendw")
OP3(op_palignr, "palignr")
OP3(op_insertps, "insertps")
OP3(op_dpps, "dpps")
OP3(op_dppd, "dppd")
OP3(op_mpsadbw, "mpsadbw")

/* INSERTPS from memory: the 32-bit operand itself, whatever imm[7:6] says. */
SSE_FN(op_insertps_m)
{
	op_insertps(d, s, imm & 0x3f);
}

SSE_FN(op_pextrb)
{
	d->q[0] = s->b[imm & 15];
}

SSE_FN(op_pextrw)
{
	d->q[0] = s->w[imm & 7];
}

SSE_FN(op_pextrd)
{
	d->q[0] = (imm & SSE_W) ? s->q[imm & 1] : s->d[imm & 3];
}

SSE_FN(op_extractps)
{
	d->q[0] = s->d[imm & 3];
}

SSE_FN(op_pinsrb)
{
	d->b[imm & 15] = s->b[0];
}

SSE_FN(op_pinsrd)
{
	if (imm & SSE_W)
		d->q[imm & 1] = s->q[0];
	else
		d->d[imm & 3] = s->d[0];
}

#define ENT(h, fn, fnm, ms, fl, ft) [1] = { fn, fnm, h, ms, fl, ft, SSE_FORM_ANY }
#define S41(fn) ENT(emu_op_sse_rm, fn, NULL, 16, SSE_A16, EMU_SSE_F_SSE41)
#define F41(fn, n, fl) ENT(emu_op_sse_rm, fn, NULL, n, SSE_FP | (fl), EMU_SSE_F_SSE41)
#define TORM(fn, n) ENT(emu_op_sse_to_rm, fn, NULL, n, 0, EMU_SSE_F_SSE41)
#define FROM(fn, n) ENT(emu_op_sse_from_gpr, fn, NULL, n, 0, EMU_SSE_F_SSE41)
#define STR ENT(emu_op_sse_pcmpstr, NULL, NULL, 16, 0, EMU_SSE_F_SSE42)

const struct emu_sse_op emu_sse_3a[256][4] = {
	[0x08] = { F41(op_roundps, 16, SSE_A16) },
	[0x09] = { F41(op_roundpd, 16, SSE_A16) },
	[0x0a] = { F41(op_roundss, 4, 0) },
	[0x0b] = { F41(op_roundsd, 8, 0) },
	[0x0c] = { S41(op_blendps) },
	[0x0d] = { S41(op_blendpd) },
	[0x0e] = { S41(op_pblendw) },
	[0x0f] = { [0] = { .fn = op_palignr,
			   .h = emu_op_sse_rm,
			   .msize = 8,
			   .feat = EMU_SSE_F_SSSE3,
			   .mmx = MX_REG | MX_RM | MX_CAT }, /* on mm */
		   ENT(emu_op_sse_rm, op_palignr, NULL, 16, SSE_A16, EMU_SSE_F_SSSE3) },
	[0x14] = { TORM(op_pextrb, 1) },
	[0x15] = { TORM(op_pextrw, 2) },
	[0x16] = { TORM(op_pextrd, 0) },
	[0x17] = { TORM(op_extractps, 4) },
	[0x20] = { FROM(op_pinsrb, 1) },
	[0x21] = { ENT(emu_op_sse_rm, op_insertps, op_insertps_m, 4, 0, EMU_SSE_F_SSE41) },
	[0x22] = { FROM(op_pinsrd, 0) },
	[0x40] = { [1] = { op_dpps, NULL, emu_op_sse_rm, 16, SSE_A16 | SSE_FP, EMU_SSE_F_SSE41, 0,
			   SSE_E_PS, SSE_AR_DP } },
	[0x41] = { [1] = { op_dppd, NULL, emu_op_sse_rm, 16, SSE_A16 | SSE_FP, EMU_SSE_F_SSE41, 0,
			   SSE_E_PD, SSE_AR_DP } },
	[0x42] = { S41(op_mpsadbw) },
	[0x60] = { STR },
	[0x61] = { STR },
	[0x62] = { STR },
	[0x63] = { STR },
};
