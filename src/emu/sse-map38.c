/* SSSE3/SSE4.1/SSE4.2 operations of the 0F 38 map and their table
 * (indexed like emu_sse_0f): all 66-prefixed, except CRC32 (F2) and the
 * MMX (no prefix) forms of SSSE3, which reuse the XMM operations (MX_* in
 * sse.h). Intel SDM vol. 2, appendix A.3, table A-4. */
#include "emu/sse-ops.h"

/* clang-format off */
OP2(op_pshufb, "pshufb") OP2(op_phaddw, "phaddw") OP2(op_phaddd, "phaddd")
OP2(op_phaddsw, "phaddsw") OP2(op_pmaddubsw, "pmaddubsw") OP2(op_phsubw, "phsubw")
OP2(op_phsubd, "phsubd") OP2(op_phsubsw, "phsubsw") OP2(op_psignb, "psignb")
OP2(op_psignw, "psignw") OP2(op_psignd, "psignd") OP2(op_pmulhrsw, "pmulhrsw")
OP2(op_pabsb, "pabsb") OP2(op_pabsw, "pabsw") OP2(op_pabsd, "pabsd")
OP2(op_pmovsxbw, "pmovsxbw") OP2(op_pmovsxbd, "pmovsxbd") OP2(op_pmovsxbq, "pmovsxbq")
OP2(op_pmovsxwd, "pmovsxwd") OP2(op_pmovsxwq, "pmovsxwq") OP2(op_pmovsxdq, "pmovsxdq")
OP2(op_pmovzxbw, "pmovzxbw") OP2(op_pmovzxbd, "pmovzxbd") OP2(op_pmovzxbq, "pmovzxbq")
OP2(op_pmovzxwd, "pmovzxwd") OP2(op_pmovzxwq, "pmovzxwq") OP2(op_pmovzxdq, "pmovzxdq")
OP2(op_pmuldq, "pmuldq") OP2(op_pcmpeqq, "pcmpeqq") OP2(op_packusdw, "packusdw")
OP2(op_pcmpgtq, "pcmpgtq") OP2(op_pminsb, "pminsb") OP2(op_pminsd, "pminsd")
OP2(op_pminuw, "pminuw") OP2(op_pminud, "pminud") OP2(op_pmaxsb, "pmaxsb")
OP2(op_pmaxsd, "pmaxsd") OP2(op_pmaxuw, "pmaxuw") OP2(op_pmaxud, "pmaxud")
OP2(op_pmulld, "pmulld") OP2(op_phminposuw, "phminposuw")
OPX0(op_pblendvb, "pblendvb") OPX0(op_blendvps, "blendvps") OPX0(op_blendvpd, "blendvpd")
	/* clang-format on */

	SSE_FN(op_mov)
{
	(void)imm;
	*d = *s;
}

/* PTEST: ZF, CF; AF = OF = PF = SF = 0. */
SSE_FN(op_ptest)
{
	bool c, z;

	(void)imm;
	__asm__("ptest %3, %2" : "=@ccc"(c), "=@ccz"(z) : "x"(d->v), "x"(s->v));
	d->q[1] = emu_sse_flags(c, false, z, false, false);
}

#define ENT(h, fn, ms, fl, ft, form) [1] = { fn, NULL, h, ms, fl, ft, form }
#define S3(fn) ENT(emu_op_sse_rm, fn, 16, SSE_A16, EMU_SSE_F_SSSE3, SSE_FORM_ANY)
/* SSSE3 on mm, mm/m64; then the XMM form */
#define M3(f, arr)                               \
	[0] = { .fn = f,                         \
		.h = emu_op_sse_rm,              \
		.msize = 8,                      \
		.feat = EMU_SSE_F_SSSE3,         \
		.mmx = MX_REG | MX_RM | (arr) }, \
	S3(f)
#define S41(fn) ENT(emu_op_sse_rm, fn, 16, SSE_A16, EMU_SSE_F_SSE41, SSE_FORM_ANY)
#define S42(fn) ENT(emu_op_sse_rm, fn, 16, SSE_A16, EMU_SSE_F_SSE42, SSE_FORM_ANY)
#define MOVX(fn, n) ENT(emu_op_sse_rm, fn, n, 0, EMU_SSE_F_SSE41, SSE_FORM_ANY)
#define BLV(fn) ENT(emu_op_sse_blendv, fn, 16, SSE_A16, EMU_SSE_F_SSE41, SSE_FORM_ANY)
#define CRC [3] = { NULL, NULL, emu_op_sse_crc32, 0, SSE_GPR, EMU_SSE_F_SSE42, SSE_FORM_ANY }

const struct emu_sse_op emu_sse_38[256][4] = {
	[0x00] = { M3(op_pshufb, MX_DUP) },
	[0x01] = { M3(op_phaddw, MX_PAIR) },
	[0x02] = { M3(op_phaddd, MX_PAIR) },
	[0x03] = { M3(op_phaddsw, MX_PAIR) },
	[0x04] = { M3(op_pmaddubsw, MX_LO) },
	[0x05] = { M3(op_phsubw, MX_PAIR) },
	[0x06] = { M3(op_phsubd, MX_PAIR) },
	[0x07] = { M3(op_phsubsw, MX_PAIR) },
	[0x08] = { M3(op_psignb, MX_LO) },
	[0x09] = { M3(op_psignw, MX_LO) },
	[0x0a] = { M3(op_psignd, MX_LO) },
	[0x0b] = { M3(op_pmulhrsw, MX_LO) },
	[0x10] = { BLV(op_pblendvb) },
	[0x14] = { BLV(op_blendvps) },
	[0x15] = { BLV(op_blendvpd) },
	[0x17] = { ENT(emu_op_sse_rm, op_ptest, 16, SSE_A16 | SSE_FLAGS, EMU_SSE_F_SSE41, 0) },
	[0x1c] = { M3(op_pabsb, MX_LO) },
	[0x1d] = { M3(op_pabsw, MX_LO) },
	[0x1e] = { M3(op_pabsd, MX_LO) },
	[0x20] = { MOVX(op_pmovsxbw, 8) },
	[0x21] = { MOVX(op_pmovsxbd, 4) },
	[0x22] = { MOVX(op_pmovsxbq, 2) },
	[0x23] = { MOVX(op_pmovsxwd, 8) },
	[0x24] = { MOVX(op_pmovsxwq, 4) },
	[0x25] = { MOVX(op_pmovsxdq, 8) },
	[0x28] = { S41(op_pmuldq) },
	[0x29] = { S41(op_pcmpeqq) },
	[0x2a] = { ENT(emu_op_sse_rm, op_mov, 16, SSE_A16, EMU_SSE_F_SSE41, SSE_FORM_MEM) },
	[0x2b] = { S41(op_packusdw) },
	[0x30] = { MOVX(op_pmovzxbw, 8) },
	[0x31] = { MOVX(op_pmovzxbd, 4) },
	[0x32] = { MOVX(op_pmovzxbq, 2) },
	[0x33] = { MOVX(op_pmovzxwd, 8) },
	[0x34] = { MOVX(op_pmovzxwq, 4) },
	[0x35] = { MOVX(op_pmovzxdq, 8) },
	[0x37] = { S42(op_pcmpgtq) },
	[0x38] = { S41(op_pminsb) },
	[0x39] = { S41(op_pminsd) },
	[0x3a] = { S41(op_pminuw) },
	[0x3b] = { S41(op_pminud) },
	[0x3c] = { S41(op_pmaxsb) },
	[0x3d] = { S41(op_pmaxsd) },
	[0x3e] = { S41(op_pmaxuw) },
	[0x3f] = { S41(op_pmaxud) },
	[0x40] = { S41(op_pmulld) },
	[0x41] = { S41(op_phminposuw) },
	[0xf0] = { CRC },
	[0xf1] = { CRC },
};
