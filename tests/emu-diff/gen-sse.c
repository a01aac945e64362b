/* Random SSE instructions for the sequence generator (gen.c): every form
 * the 0F, 0F 38 and 0F 3A maps of emu's SSE unit decode, with random XMM
 * registers (the start state holds NaNs, denormals, infinities and random
 * MXCSR modes, state.c), memory operands in the data area (16-byte ones
 * aligned, except now and then to check #GP), general-register forms with
 * and without REX.W, random immediates, and LDMXCSR of random valid
 * values. The MMX forms (mm registers, and the conversions and moves
 * between mm and xmm) come after a prologue that defines the mm registers
 * (mmx_start); the sequence ends storing them and the x87 environment
 * (gen_mmx_end). */
#include "gen.h"

enum sse_kind {
	K_RM, /* xmm, xmm/m */
	K_MEM, /* xmm, m (memory only) */
	K_ST, /* xmm/m, xmm */
	K_STM, /* m, xmm (memory only) */
	K_FROMG, /* xmm, r/m32/64 (msize 0) or r32/m8/m16 */
	K_TORM, /* r/m32/64 (or m8/m16/m32), xmm */
	K_TOG, /* r32/64, xmm/m */
	K_TOGR, /* r32/64, xmm (register only) */
	K_SHI, /* xmm, imm8 with a /digit (msize) */
	K_FLAGS, /* xmm, xmm/m setting every arithmetic flag */
	K_CRC, /* r32/64, r/m8..64 */
	K_MASK, /* MASKMOVDQU */
	K_RR, /* xmm, mm or mm, xmm (register only) */
};

#define A16 0x1
#define IMM 0x2
#define W 0x4 /* REX.W changes the operand size */
#define MMR 0x8 /* ModRM.reg names an mm register */
#define MMM 0x10 /* ModRM.rm (register form) names an mm register */
#define MM (MMR | MMM)

struct sse_form {
	uint8_t pfx, map, op, kind, msize, flags;
	uint16_t req;
};

#define F(p, m, o, k, s, f, r)      \
	{                           \
		p, m, o, k, s, f, r \
	}
#define PA(o) F(0x66, 1, o, K_RM, 16, A16, 0)
#define PA38(o, r) F(0x66, 2, o, K_RM, 16, A16, r)
#define S3 DIFF_REQ_SSSE3
#define S41 DIFF_REQ_SSE41
#define MX DIFF_REQ_MMX
#define PM(o) F(0, 1, o, K_RM, 8, MM, MX) /* mm, mm/m64 */
#define PM38(o) F(0, 2, o, K_RM, 8, MM, MX | S3)

static const struct sse_form forms[] = {
	/* no prefix */
	F(0, 1, 0x10, K_RM, 16, 0, 0),
	F(0, 1, 0x11, K_ST, 16, 0, 0),
	F(0, 1, 0x12, K_RM, 8, 0, 0),
	F(0, 1, 0x13, K_STM, 8, 0, 0),
	F(0, 1, 0x14, K_RM, 16, A16, 0),
	F(0, 1, 0x15, K_RM, 16, A16, 0),
	F(0, 1, 0x16, K_RM, 8, 0, 0),
	F(0, 1, 0x17, K_STM, 8, 0, 0),
	F(0, 1, 0x28, K_RM, 16, A16, 0),
	F(0, 1, 0x29, K_ST, 16, A16, 0),
	F(0, 1, 0x2b, K_STM, 16, A16, 0),
	F(0, 1, 0x2e, K_FLAGS, 4, 0, 0),
	F(0, 1, 0x2f, K_FLAGS, 4, 0, 0),
	F(0, 1, 0x50, K_TOGR, 16, 0, 0),
	F(0, 1, 0x51, K_RM, 16, A16, 0),
	F(0, 1, 0x52, K_RM, 16, A16, 0),
	F(0, 1, 0x53, K_RM, 16, A16, 0),
	F(0, 1, 0x54, K_RM, 16, A16, 0),
	F(0, 1, 0x55, K_RM, 16, A16, 0),
	F(0, 1, 0x56, K_RM, 16, A16, 0),
	F(0, 1, 0x57, K_RM, 16, A16, 0),
	F(0, 1, 0x58, K_RM, 16, A16, 0),
	F(0, 1, 0x59, K_RM, 16, A16, 0),
	F(0, 1, 0x5a, K_RM, 8, 0, 0),
	F(0, 1, 0x5b, K_RM, 16, A16, 0),
	F(0, 1, 0x5c, K_RM, 16, A16, 0),
	F(0, 1, 0x5d, K_RM, 16, A16, 0),
	F(0, 1, 0x5e, K_RM, 16, A16, 0),
	F(0, 1, 0x5f, K_RM, 16, A16, 0),
	F(0, 1, 0xc2, K_RM, 16, A16 | IMM, 0),
	F(0, 1, 0xc6, K_RM, 16, A16 | IMM, 0),
	/* MMX: no prefix, mm registers; the conversions and moves with xmm */
	PM(0x60),
	PM(0x61),
	PM(0x62),
	PM(0x63),
	PM(0x64),
	PM(0x65),
	PM(0x66),
	PM(0x67),
	PM(0x68),
	PM(0x69),
	PM(0x6a),
	PM(0x6b),
	F(0, 1, 0x6e, K_FROMG, 0, W | MMR, MX),
	PM(0x6f),
	F(0, 1, 0x70, K_RM, 8, IMM | MM, MX),
	F(0, 1, 0x71, K_SHI, 2, IMM | MMM, MX),
	F(0, 1, 0x71, K_SHI, 4, IMM | MMM, MX),
	F(0, 1, 0x71, K_SHI, 6, IMM | MMM, MX),
	F(0, 1, 0x72, K_SHI, 2, IMM | MMM, MX),
	F(0, 1, 0x72, K_SHI, 4, IMM | MMM, MX),
	F(0, 1, 0x72, K_SHI, 6, IMM | MMM, MX),
	F(0, 1, 0x73, K_SHI, 2, IMM | MMM, MX),
	F(0, 1, 0x73, K_SHI, 6, IMM | MMM, MX),
	PM(0x74),
	PM(0x75),
	PM(0x76),
	F(0, 1, 0x7e, K_TORM, 0, W | MMR, MX),
	F(0, 1, 0x7f, K_ST, 8, MM, MX),
	F(0, 1, 0xc4, K_FROMG, 2, IMM | MMR, MX),
	F(0, 1, 0xc5, K_TOGR, 16, IMM | MMM, MX),
	PM(0xd1),
	PM(0xd2),
	PM(0xd3),
	PM(0xd4),
	PM(0xd5),
	F(0, 1, 0xd7, K_TOGR, 16, MMM, MX),
	PM(0xd8),
	PM(0xd9),
	PM(0xda),
	PM(0xdb),
	PM(0xdc),
	PM(0xdd),
	PM(0xde),
	PM(0xdf),
	PM(0xe0),
	PM(0xe1),
	PM(0xe2),
	PM(0xe3),
	PM(0xe4),
	PM(0xe5),
	F(0, 1, 0xe7, K_STM, 8, MMR, MX),
	PM(0xe8),
	PM(0xe9),
	PM(0xea),
	PM(0xeb),
	PM(0xec),
	PM(0xed),
	PM(0xee),
	PM(0xef),
	PM(0xf1),
	PM(0xf2),
	PM(0xf3),
	PM(0xf4),
	PM(0xf5),
	PM(0xf6),
	F(0, 1, 0xf7, K_MASK, 8, MM, MX),
	PM(0xf8),
	PM(0xf9),
	PM(0xfa),
	PM(0xfb),
	PM(0xfc),
	PM(0xfd),
	PM(0xfe),
	F(0, 1, 0x2a, K_RM, 8, MMM, MX),
	F(0, 1, 0x2c, K_RM, 8, MMR, MX),
	F(0, 1, 0x2d, K_RM, 8, MMR, MX),
	F(0x66, 1, 0x2a, K_RM, 8, MMM, MX),
	F(0x66, 1, 0x2c, K_RM, 16, A16 | MMR, MX),
	F(0x66, 1, 0x2d, K_RM, 16, A16 | MMR, MX),
	F(0xf3, 1, 0xd6, K_RR, 8, MMM, MX),
	F(0xf2, 1, 0xd6, K_RR, 8, MMR, MX),
	PM38(0x00),
	PM38(0x01),
	PM38(0x02),
	PM38(0x03),
	PM38(0x04),
	PM38(0x05),
	PM38(0x06),
	PM38(0x07),
	PM38(0x08),
	PM38(0x09),
	PM38(0x0a),
	PM38(0x0b),
	PM38(0x1c),
	PM38(0x1d),
	PM38(0x1e),
	F(0, 3, 0x0f, K_RM, 8, IMM | MM, MX | S3),
	/* 66 */
	F(0x66, 1, 0x10, K_RM, 16, 0, 0),
	F(0x66, 1, 0x11, K_ST, 16, 0, 0),
	F(0x66, 1, 0x12, K_MEM, 8, 0, 0),
	F(0x66, 1, 0x13, K_STM, 8, 0, 0),
	PA(0x14),
	PA(0x15),
	F(0x66, 1, 0x16, K_MEM, 8, 0, 0),
	F(0x66, 1, 0x17, K_STM, 8, 0, 0),
	PA(0x28),
	F(0x66, 1, 0x29, K_ST, 16, A16, 0),
	F(0x66, 1, 0x2b, K_STM, 16, A16, 0),
	F(0x66, 1, 0x2e, K_FLAGS, 8, 0, 0),
	F(0x66, 1, 0x2f, K_FLAGS, 8, 0, 0),
	F(0x66, 1, 0x50, K_TOGR, 16, 0, 0),
	PA(0x51),
	PA(0x54),
	PA(0x55),
	PA(0x56),
	PA(0x57),
	PA(0x58),
	PA(0x59),
	PA(0x5a),
	PA(0x5b),
	PA(0x5c),
	PA(0x5d),
	PA(0x5e),
	PA(0x5f),
	PA(0x60),
	PA(0x61),
	PA(0x62),
	PA(0x63),
	PA(0x64),
	PA(0x65),
	PA(0x66),
	PA(0x67),
	PA(0x68),
	PA(0x69),
	PA(0x6a),
	PA(0x6b),
	PA(0x6c),
	PA(0x6d),
	F(0x66, 1, 0x6e, K_FROMG, 0, W, 0),
	PA(0x6f),
	F(0x66, 1, 0x70, K_RM, 16, A16 | IMM, 0),
	F(0x66, 1, 0x71, K_SHI, 2, IMM, 0),
	F(0x66, 1, 0x71, K_SHI, 4, IMM, 0),
	F(0x66, 1, 0x71, K_SHI, 6, IMM, 0),
	F(0x66, 1, 0x72, K_SHI, 2, IMM, 0),
	F(0x66, 1, 0x72, K_SHI, 4, IMM, 0),
	F(0x66, 1, 0x72, K_SHI, 6, IMM, 0),
	F(0x66, 1, 0x73, K_SHI, 2, IMM, 0),
	F(0x66, 1, 0x73, K_SHI, 3, IMM, 0),
	F(0x66, 1, 0x73, K_SHI, 6, IMM, 0),
	F(0x66, 1, 0x73, K_SHI, 7, IMM, 0),
	PA(0x74),
	PA(0x75),
	PA(0x76),
	F(0x66, 1, 0x7c, K_RM, 16, A16, DIFF_REQ_SSE3),
	F(0x66, 1, 0x7d, K_RM, 16, A16, DIFF_REQ_SSE3),
	F(0x66, 1, 0x7e, K_TORM, 0, W, 0),
	F(0x66, 1, 0x7f, K_ST, 16, A16, 0),
	F(0x66, 1, 0xc2, K_RM, 16, A16 | IMM, 0),
	F(0x66, 1, 0xc4, K_FROMG, 2, IMM, 0),
	F(0x66, 1, 0xc5, K_TOGR, 16, IMM, 0),
	F(0x66, 1, 0xc6, K_RM, 16, A16 | IMM, 0),
	F(0x66, 1, 0xd0, K_RM, 16, A16, DIFF_REQ_SSE3),
	PA(0xd1),
	PA(0xd2),
	PA(0xd3),
	PA(0xd4),
	PA(0xd5),
	F(0x66, 1, 0xd6, K_ST, 8, 0, 0),
	F(0x66, 1, 0xd7, K_TOGR, 16, 0, 0),
	PA(0xd8),
	PA(0xd9),
	PA(0xda),
	PA(0xdb),
	PA(0xdc),
	PA(0xdd),
	PA(0xde),
	PA(0xdf),
	PA(0xe0),
	PA(0xe1),
	PA(0xe2),
	PA(0xe3),
	PA(0xe4),
	PA(0xe5),
	PA(0xe6),
	F(0x66, 1, 0xe7, K_STM, 16, A16, 0),
	PA(0xe8),
	PA(0xe9),
	PA(0xea),
	PA(0xeb),
	PA(0xec),
	PA(0xed),
	PA(0xee),
	PA(0xef),
	PA(0xf1),
	PA(0xf2),
	PA(0xf3),
	PA(0xf4),
	PA(0xf5),
	PA(0xf6),
	F(0x66, 1, 0xf7, K_MASK, 16, 0, 0),
	PA(0xf8),
	PA(0xf9),
	PA(0xfa),
	PA(0xfb),
	PA(0xfc),
	PA(0xfd),
	PA(0xfe),
	/* F3 */
	F(0xf3, 1, 0x10, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x11, K_ST, 4, 0, 0),
	F(0xf3, 1, 0x12, K_RM, 16, A16, DIFF_REQ_SSE3),
	F(0xf3, 1, 0x16, K_RM, 16, A16, DIFF_REQ_SSE3),
	F(0xf3, 1, 0x2a, K_FROMG, 0, W, 0),
	F(0xf3, 1, 0x2c, K_TOG, 4, W, 0),
	F(0xf3, 1, 0x2d, K_TOG, 4, W, 0),
	F(0xf3, 1, 0x51, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x52, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x53, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x58, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x59, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x5a, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x5b, K_RM, 16, A16, 0),
	F(0xf3, 1, 0x5c, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x5d, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x5e, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x5f, K_RM, 4, 0, 0),
	F(0xf3, 1, 0x6f, K_RM, 16, 0, 0),
	F(0xf3, 1, 0x70, K_RM, 16, A16 | IMM, 0),
	F(0xf3, 1, 0x7e, K_RM, 8, 0, 0),
	F(0xf3, 1, 0x7f, K_ST, 16, 0, 0),
	F(0xf3, 1, 0xc2, K_RM, 4, IMM, 0),
	F(0xf3, 1, 0xe6, K_RM, 8, 0, 0),
	/* F2 */
	F(0xf2, 1, 0x10, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x11, K_ST, 8, 0, 0),
	F(0xf2, 1, 0x12, K_RM, 8, 0, DIFF_REQ_SSE3),
	F(0xf2, 1, 0x2a, K_FROMG, 0, W, 0),
	F(0xf2, 1, 0x2c, K_TOG, 8, W, 0),
	F(0xf2, 1, 0x2d, K_TOG, 8, W, 0),
	F(0xf2, 1, 0x51, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x58, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x59, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x5a, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x5c, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x5d, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x5e, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x5f, K_RM, 8, 0, 0),
	F(0xf2, 1, 0x70, K_RM, 16, A16 | IMM, 0),
	F(0xf2, 1, 0x7c, K_RM, 16, A16, DIFF_REQ_SSE3),
	F(0xf2, 1, 0x7d, K_RM, 16, A16, DIFF_REQ_SSE3),
	F(0xf2, 1, 0xc2, K_RM, 8, IMM, 0),
	F(0xf2, 1, 0xd0, K_RM, 16, A16, DIFF_REQ_SSE3),
	F(0xf2, 1, 0xe6, K_RM, 16, A16, 0),
	F(0xf2, 1, 0xf0, K_MEM, 16, 0, DIFF_REQ_SSE3),
	/* 66 0F 38 */
	PA38(0x00, S3),
	PA38(0x01, S3),
	PA38(0x02, S3),
	PA38(0x03, S3),
	PA38(0x04, S3),
	PA38(0x05, S3),
	PA38(0x06, S3),
	PA38(0x07, S3),
	PA38(0x08, S3),
	PA38(0x09, S3),
	PA38(0x0a, S3),
	PA38(0x0b, S3),
	PA38(0x10, S41),
	PA38(0x14, S41),
	PA38(0x15, S41),
	F(0x66, 2, 0x17, K_FLAGS, 16, A16, S41),
	PA38(0x1c, S3),
	PA38(0x1d, S3),
	PA38(0x1e, S3),
	F(0x66, 2, 0x20, K_RM, 8, 0, S41),
	F(0x66, 2, 0x21, K_RM, 4, 0, S41),
	F(0x66, 2, 0x22, K_RM, 2, 0, S41),
	F(0x66, 2, 0x23, K_RM, 8, 0, S41),
	F(0x66, 2, 0x24, K_RM, 4, 0, S41),
	F(0x66, 2, 0x25, K_RM, 8, 0, S41),
	PA38(0x28, S41),
	PA38(0x29, S41),
	F(0x66, 2, 0x2a, K_MEM, 16, A16, S41),
	PA38(0x2b, S41),
	F(0x66, 2, 0x30, K_RM, 8, 0, S41),
	F(0x66, 2, 0x31, K_RM, 4, 0, S41),
	F(0x66, 2, 0x32, K_RM, 2, 0, S41),
	F(0x66, 2, 0x33, K_RM, 8, 0, S41),
	F(0x66, 2, 0x34, K_RM, 4, 0, S41),
	F(0x66, 2, 0x35, K_RM, 8, 0, S41),
	PA38(0x37, DIFF_REQ_SSE42),
	PA38(0x38, S41),
	PA38(0x39, S41),
	PA38(0x3a, S41),
	PA38(0x3b, S41),
	PA38(0x3c, S41),
	PA38(0x3d, S41),
	PA38(0x3e, S41),
	PA38(0x3f, S41),
	PA38(0x40, S41),
	PA38(0x41, S41),
	F(0xf2, 2, 0xf0, K_CRC, 1, 0, DIFF_REQ_SSE42),
	F(0xf2, 2, 0xf1, K_CRC, 0, 0, DIFF_REQ_SSE42),
	/* 66 0F 3A */
	F(0x66, 3, 0x08, K_RM, 16, A16 | IMM, S41),
	F(0x66, 3, 0x09, K_RM, 16, A16 | IMM, S41),
	F(0x66, 3, 0x0a, K_RM, 4, IMM, S41),
	F(0x66, 3, 0x0b, K_RM, 8, IMM, S41),
	F(0x66, 3, 0x0c, K_RM, 16, A16 | IMM, S41),
	F(0x66, 3, 0x0d, K_RM, 16, A16 | IMM, S41),
	F(0x66, 3, 0x0e, K_RM, 16, A16 | IMM, S41),
	F(0x66, 3, 0x0f, K_RM, 16, A16 | IMM, S3),
	F(0x66, 3, 0x14, K_TORM, 1, IMM, S41),
	F(0x66, 3, 0x15, K_TORM, 2, IMM, S41),
	F(0x66, 3, 0x16, K_TORM, 0, IMM | W, S41),
	F(0x66, 3, 0x17, K_TORM, 4, IMM, S41),
	F(0x66, 3, 0x20, K_FROMG, 1, IMM, S41),
	F(0x66, 3, 0x21, K_RM, 4, IMM, S41),
	F(0x66, 3, 0x22, K_FROMG, 0, IMM | W, S41),
	F(0x66, 3, 0x40, K_RM, 16, A16 | IMM, S41),
	F(0x66, 3, 0x41, K_RM, 16, A16 | IMM, S41),
	F(0x66, 3, 0x42, K_RM, 16, A16 | IMM, S41),
	F(0x66, 3, 0x60, K_FLAGS, 16, IMM, DIFF_REQ_SSE42),
	F(0x66, 3, 0x61, K_FLAGS, 16, IMM, DIFF_REQ_SSE42),
	F(0x66, 3, 0x62, K_FLAGS, 16, IMM, DIFF_REQ_SSE42),
	F(0x66, 3, 0x63, K_FLAGS, 16, IMM, DIFF_REQ_SSE42),
};

/* A memory operand of n bytes; 16-byte ones aligned when the form wants,
 * except one time in sixteen (#GP). */
static void sse_mem(struct gen *g, struct gen_rm *m, unsigned n, bool align, bool write)
{
	g->align = align && gen_rand(g, 16) ? 16 : 0;
	gen_pick_mem(g, m, n, write, 0, false);
	g->align = 0;
}

static unsigned sse_gpr_size(struct gen *g, const struct sse_form *f, struct gen_insn *in)
{
	if ((f->flags & W) && gen_rand(g, 2))
		in->size = 8;
	if (f->msize)
		return f->msize;
	return in->size == 8 ? 8 : 4;
}

/* ModRM operands by kind (may emit MOVs that set up an address). */
static void sse_operands(struct gen *g, const struct sse_form *f, struct gen_insn *in, bool mem)
{
	unsigned n;

	in->reg = (int)gen_rand(g, f->flags & MMR ? 8 : 16);
	switch (f->kind) {
	case K_MEM:
		mem = true;
		break;
	case K_STM:
		mem = true;
		break;
	case K_TOGR:
	case K_SHI:
	case K_MASK:
	case K_RR:
		mem = false;
		break;
	default:
		break;
	}
	if (f->kind == K_TOG || f->kind == K_TOGR || f->kind == K_CRC) {
		if ((f->flags & W || f->kind != K_CRC) && gen_rand(g, 2))
			in->size = 8;
		in->reg = gen_pick_dst(g);
	}
	if (f->kind == K_SHI)
		in->reg = f->msize;
	if (f->kind == K_FROMG || f->kind == K_TORM) {
		n = sse_gpr_size(g, f, in);
		if (mem)
			sse_mem(g, &in->rm, n, false, f->kind == K_TORM);
		else
			in->rm.reg = f->kind == K_TORM ? gen_pick_dst(g) : gen_pick_src(g);
		return;
	}
	if (f->kind == K_CRC) {
		n = f->msize ? 1 : (const unsigned[]){ 2, 4, 8 }[gen_rand(g, 3)];
		in->size = n == 1 ? in->size : n; /* 2: 66, 8: REX.W */
		if (mem)
			sse_mem(g, &in->rm, n, false, false);
		else
			in->rm.reg = gen_pick_src(g);
		return;
	}
	if (mem)
		sse_mem(g, &in->rm, f->msize, f->flags & A16, f->kind == K_ST || f->kind == K_STM);
	else
		in->rm.reg = (int)gen_rand(g, f->flags & MMM ? 8 : 16);
}

/* ---- MMX: the x87 registers under the mm ones ---------------------------- */

#define MMX_OUT (DIFF_DATA_VA + 0x1b00) /* mm0-7, then the FNSTENV image */

/* mov{q} between mm i and [addr] (0F 6F load, 0F 7F store) */
static void mmx_mov_abs(struct gen *g, bool store, int i, uint32_t addr)
{
	struct gen_insn in = { .size = 4, .op = { 0x0f, store ? 0x7f : 0x6f }, .nop = 2, .reg = i };

	in.rm = (struct gen_rm){
		.mem = true, .base = GEN_NONE, .index = GEN_NONE, .disp = (int32_t)addr
	};
	gen_emit(g, &in);
}

/* Before the sequence's first MMX form: FNINIT, a random TOP (FLD1s: the
 * transition rotates the stack) and the eight mm registers from random
 * data (what the harness left in the host's x87 registers is not). */
static void mmx_start(struct gen *g)
{
	unsigned k = (unsigned)gen_rand(g, 4);

	gen_mark(g);
	gen_bytes(g, (const uint8_t[]){ 0xdb, 0xe3 }, 2);
	for (unsigned i = 0; i < k; i++)
		gen_bytes(g, (const uint8_t[]){ 0xd9, 0xe8 }, 2);
	for (int i = 0; i < 8; i++)
		mmx_mov_abs(g, false, i, DIFF_DATA_VA + (uint32_t)gen_rand(g, 0xff8));
	g->mmx = true;
}

void gen_mmx_end(struct gen *g)
{
	struct gen_insn in = { .size = 8, .op = { 0xc7 }, .nop = 1, .immsize = 4 };

	if (!g->mmx)
		return;
	gen_mark(g);
	for (int i = 0; i < 8; i++)
		mmx_mov_abs(g, true, i, MMX_OUT + 8 * (uint32_t)i);
	/* FNSTENV (tags, TOP), without FIP/FOP/FDP (not modelled alike) */
	in.rm = (struct gen_rm){ .mem = true, .base = GEN_NONE, .index = GEN_NONE };
	in.rm.disp = MMX_OUT + 0x40;
	gen_emit(g,
		 &(struct gen_insn){ .size = 4, .op = { 0xd9 }, .nop = 1, .reg = 6, .rm = in.rm });
	for (unsigned off = 12; off < 28; off += 8) {
		in.rm.disp = (int32_t)(MMX_OUT + 0x40 + off);
		gen_emit(g, &in);
	}
	gen_bytes(g, (const uint8_t[]){ 0x0f, 0x77, 0xdb, 0xe3 }, 4); /* EMMS, FNINIT */
	g->mmx = false;
}

/* LDMXCSR of a valid value (MOV to memory first) or STMXCSR. */
static void gen_mxcsr(struct gen *g)
{
	uint32_t off = GEN_W_LO + (uint32_t)gen_rand(g, 0x100) * 4;
	uint32_t v = 0x1f80 | (uint32_t)(gen_rand(g, 4) << 13);
	struct gen_insn in = { .size = 4, .op = { 0xc7 }, .nop = 1, .immsize = 4 };

	in.rm = (struct gen_rm){ .mem = true,
				 .base = GEN_NONE,
				 .index = GEN_NONE,
				 .disp = (int32_t)(DIFF_DATA_VA + off) };
	if (gen_rand(g, 4) == 0)
		v |= 0x8040;
	if (gen_rand(g, 8) == 0)
		v &= ~(uint32_t)(gen_rand(g, 64) << 7);
	in.imm = v;
	gen_emit(g, &in);
	in = (struct gen_insn){ .size = 4, .op = { 0x0f, 0xae }, .nop = 2, .rm = in.rm };
	in.reg = gen_rand(g, 2) ? 2 : 3;
	gen_mark(g);
	gen_emit(g, &in);
}

void gen_sse(struct gen *g)
{
	const struct sse_form *f;
	struct gen_insn in = { .size = 4 };
	bool mem = gen_rand(g, 3) == 0;

	if (gen_rand(g, 24) == 0) {
		gen_mxcsr(g);
		return;
	}
	do
		f = &forms[gen_rand(g, sizeof(forms) / sizeof(forms[0]))];
	while ((f->req & ~g->features) || ((f->flags & MM) && !g->mmx && g->nested));
	if ((f->flags & MM) && !g->mmx) /* not in a block that may be skipped */
		mmx_start(g);
	if (f->kind == K_MASK)
		gen_mov32(g, DIFF_RDI, DIFF_DATA_VA + GEN_W_LO + (uint32_t)gen_rand(g, 0x800));
	in.pfx = f->pfx == 0x66 ? 0 : f->pfx;
	in.op[0] = 0x0f;
	in.nop = f->map == 1 ? 2 : 3;
	in.op[1] = f->map == 1 ? f->op : f->map == 2 ? 0x38 : 0x3a;
	in.op[2] = f->op;
	sse_operands(g, f, &in, mem);
	if (f->flags & IMM) {
		in.imm = gen_rand(g, 2) ? gen_rand(g, 256) : gen_rand(g, 24);
		in.immsize = 1;
	}
	gen_mark(g);
	if (f->pfx == 0x66)
		gen_byte(g, 0x66);
	gen_emit(g, &in);
	if (f->kind == K_FLAGS)
		g->undef &= ~ARITH;
}
