/* The SSE4.2 string compares on the host's own unit: one case per
 * immediate, as the immediate is part of the instruction. Lengths of the
 * explicit forms arrive saturated (exec-sse-gpr.c), so EAX/EDX carry them
 * whatever REX.W the guest used. */
#include "emu/sse-ops.h"

#define PCMP_FLAGS "=@ccc"(c), "=@ccz"(z), "=@ccs"(sg), "=@cco"(o)

#define CASE_ESTRI(n, x)                                                               \
	case (n):                                                                      \
		__asm__("pcmpestri %[i], %[b], %[a]"                                   \
			: "=c"(idx32), PCMP_FLAGS                                      \
			: [a] "x"(a->v), [b] "x"(b->v), [i] "i"(n), "a"(la), "d"(ld)); \
		break;
#define CASE_ESTRM(n, x)                                                               \
	case (n):                                                                      \
		__asm__("pcmpestrm %[i], %[b], %[a]"                                   \
			: "=Yz"(mask->v), PCMP_FLAGS                                   \
			: [a] "x"(a->v), [b] "x"(b->v), [i] "i"(n), "a"(la), "d"(ld)); \
		break;
#define CASE_ISTRI(n, x)                                             \
	case (n):                                                    \
		__asm__("pcmpistri %[i], %[b], %[a]"                 \
			: "=c"(idx32), PCMP_FLAGS                    \
			: [a] "x"(a->v), [b] "x"(b->v), [i] "i"(n)); \
		break;
#define CASE_ISTRM(n, x)                                             \
	case (n):                                                    \
		__asm__("pcmpistrm %[i], %[b], %[a]"                 \
			: "=Yz"(mask->v), PCMP_FLAGS                 \
			: [a] "x"(a->v), [b] "x"(b->v), [i] "i"(n)); \
		break;

uint64_t emu_sse_pcmpstr(unsigned opcode, const union emu_xmm *a, const union emu_xmm *b,
			 unsigned imm, int32_t la, int32_t ld, uint64_t *idx, union emu_xmm *mask)
{
	bool c = false, z = false, sg = false, o = false;
	uint32_t idx32 = 0;

	switch (opcode) {
	case 0x60:
		switch (imm & 0xff) {
			SSE_R256(CASE_ESTRM, 0)
		}
		break;
	case 0x61:
		switch (imm & 0xff) {
			SSE_R256(CASE_ESTRI, 0)
		}
		break;
	case 0x62:
		switch (imm & 0xff) {
			SSE_R256(CASE_ISTRM, 0)
		}
		break;
	default:
		switch (imm & 0xff) {
			SSE_R256(CASE_ISTRI, 0)
		}
		break;
	}
	*idx = idx32;
	return emu_sse_flags(c, false, z, sg, o);
}
