/* Macros the operation tables (sse-map*.c) define their operations with:
 * each wraps the host instruction of the same name around copies of the
 * guest operands (sse.h explains why). asm volatile keeps the
 * floating-point ones between the MXCSR switches of exec-sse.c. */
#ifndef VS_EMU_SSE_OPS_H
#define VS_EMU_SSE_OPS_H

#include "emu/sse.h"

#define SSE_FN(name) static void name(union emu_xmm *d, const union emu_xmm *s, unsigned imm)

/* insn xmm/m, xmm */
#define OP2(name, insn)                                                    \
	SSE_FN(name)                                                       \
	{                                                                  \
		(void)imm;                                                 \
		__asm__ volatile(insn " %1, %0" : "+x"(d->v) : "x"(s->v)); \
	}

/* insn $imm8, xmm/m, xmm: one case per immediate value. */
#define SSE_R4(M, b, i) M((b) + 0, i) M((b) + 1, i) M((b) + 2, i) M((b) + 3, i)
#define SSE_R16(M, b, i) \
	SSE_R4(M, b, i) SSE_R4(M, (b) + 4, i) SSE_R4(M, (b) + 8, i) SSE_R4(M, (b) + 12, i)
#define SSE_R64(M, b, i) \
	SSE_R16(M, b, i) SSE_R16(M, (b) + 16, i) SSE_R16(M, (b) + 32, i) SSE_R16(M, (b) + 48, i)
#define SSE_R256(M, i) SSE_R64(M, 0, i) SSE_R64(M, 64, i) SSE_R64(M, 128, i) SSE_R64(M, 192, i)
#define SSE_CASE3(n, insn)                                                             \
	case (n):                                                                      \
		__asm__ volatile(insn " %2, %1, %0" : "+x"(d->v) : "x"(s->v), "i"(n)); \
		break;
#define OP3(name, insn)                           \
	SSE_FN(name)                              \
	{                                         \
		switch (imm & 0xff) {             \
			SSE_R256(SSE_CASE3, insn) \
		}                                 \
	}

/* insn xmm/m, xmm with XMM0 as the implicit mask (s[1]). */
#define OPX0(name, insn)                                                                   \
	SSE_FN(name)                                                                       \
	{                                                                                  \
		(void)imm;                                                                 \
		__asm__ volatile(insn " %1, %0" : "+x"(d->v) : "x"(s[0].v), "Yz"(s[1].v)); \
	}

#endif
