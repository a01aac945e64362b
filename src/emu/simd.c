/* The host's SIMD extensions (emu's SSE unit runs on them, sse.h), the
 * CPUID bits that follow from them, and the SIMD state at the public
 * interface (emu.h emu_cpu_get_fxsave/emu_cpu_set_fxsave). */
#include "emu/simd.h"

#include <cpuid.h>
#include <errno.h>

#define L1_ECX_SSE3 (1u << 0)
#define L1_ECX_SSSE3 (1u << 9)
#define L1_ECX_SSE41 (1u << 19)
#define L1_ECX_SSE42 (1u << 20)
#define L1_EDX_MMX (1u << 23)
#define L1_EDX_SSE (1u << 25)
#define L1_EDX_SSE2 (1u << 26)

unsigned emu_sse_host_features(void)
{
	unsigned a, b, c, d, f = 0;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	f |= (c & L1_ECX_SSE3) ? EMU_SSE_F_SSE3 : 0;
	f |= (c & L1_ECX_SSSE3) ? EMU_SSE_F_SSSE3 : 0;
	f |= (c & L1_ECX_SSE41) ? EMU_SSE_F_SSE41 : 0;
	f |= (c & L1_ECX_SSE42) ? EMU_SSE_F_SSE42 : 0;
	return f;
}

uint32_t emu_sse_cpuid_ecx(void)
{
	unsigned f = emu_sse_host_features();

	return ((f & EMU_SSE_F_SSE3) ? L1_ECX_SSE3 : 0) |
	       ((f & EMU_SSE_F_SSSE3) ? L1_ECX_SSSE3 : 0) |
	       ((f & EMU_SSE_F_SSE41) ? L1_ECX_SSE41 : 0) |
	       ((f & EMU_SSE_F_SSE42) ? L1_ECX_SSE42 : 0);
}

uint32_t emu_sse_cpuid_edx(void)
{
	return L1_EDX_MMX | L1_EDX_SSE | L1_EDX_SSE2;
}

void emu_cpu_get_fxsave(struct emu_cpu *cpu, uint8_t out[512])
{
	memcpy(out, cpu->fxsave, 512);
	memcpy(out + EMU_FX_MXCSR_MASK, &(uint32_t){ EMU_MXCSR_WRMASK }, 4);
}

int emu_cpu_set_fxsave(struct emu_cpu *cpu, const uint8_t in[512])
{
	uint32_t mxcsr;

	memcpy(&mxcsr, in + EMU_FX_MXCSR, 4);
	if (mxcsr & ~EMU_MXCSR_WRMASK)
		return -EINVAL;
	memcpy(cpu->fxsave, in, 512);
	return 0;
}
