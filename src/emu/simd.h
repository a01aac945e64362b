/* SIMD register state: accessors over cpu->fxsave, the single source of
 * truth for x87 and SSE state, laid out as FXSAVE stores it (Intel SDM
 * vol. 1 §10.5.1): MXCSR at 24, MXCSR_MASK at 28, XMM0-15 at 160 + 16*i.
 * Shared by the SSE handlers (exec-sse*.c), FXSAVE/FXRSTOR and the
 * accelerator interface; only internal.h is needed. */
#ifndef VS_EMU_SIMD_H
#define VS_EMU_SIMD_H

#include "emu/internal.h"

#define EMU_FX_MXCSR 24
#define EMU_FX_MXCSR_MASK 28
#define EMU_FX_XMM 160

/* MXCSR: exception flags (IE DE ZE OE UE PE), DAZ, masks, RC, FTZ. */
#define EMU_MXCSR_IE 0x0001u
#define EMU_MXCSR_DE 0x0002u
#define EMU_MXCSR_ZE 0x0004u
#define EMU_MXCSR_OE 0x0008u
#define EMU_MXCSR_UE 0x0010u
#define EMU_MXCSR_PE 0x0020u
#define EMU_MXCSR_FLAGS 0x003fu
#define EMU_MXCSR_DAZ 0x0040u
#define EMU_MXCSR_MASKS 0x1f80u
#define EMU_MXCSR_ZM 0x0200u
#define EMU_MXCSR_OM 0x0400u
#define EMU_MXCSR_UM 0x0800u
#define EMU_MXCSR_RC 0x6000u
#define EMU_MXCSR_FTZ 0x8000u
#define EMU_MXCSR_RESET 0x1f80u
/* The writable MXCSR bits (what FXSAVE stores as MXCSR_MASK): DAZ included. */
#define EMU_MXCSR_WRMASK 0x0000ffffu

typedef long long emu_v2di __attribute__((vector_size(16)));

/* One XMM value, viewed at every element width. */
union emu_xmm {
	uint8_t b[16];
	int8_t sb[16];
	uint16_t w[8];
	int16_t sw[8];
	uint32_t d[4];
	int32_t sd[4];
	uint64_t q[2];
	int64_t sq[2];
	float f[4];
	double fd[2];
	emu_v2di v;
};

static inline uint8_t *emu_xmm_ptr(struct emu_cpu *cpu, unsigned i)
{
	return cpu->fxsave + EMU_FX_XMM + 16 * (i & 15);
}

static inline void emu_xmm_get(struct emu_cpu *cpu, unsigned i, union emu_xmm *x)
{
	memcpy(x, emu_xmm_ptr(cpu, i), 16);
}

static inline void emu_xmm_set(struct emu_cpu *cpu, unsigned i, const union emu_xmm *x)
{
	memcpy(emu_xmm_ptr(cpu, i), x, 16);
}

static inline uint32_t emu_mxcsr_get(const struct emu_cpu *cpu)
{
	uint32_t v;

	memcpy(&v, cpu->fxsave + EMU_FX_MXCSR, 4);
	return v;
}

static inline void emu_mxcsr_set(struct emu_cpu *cpu, uint32_t v)
{
	memcpy(cpu->fxsave + EMU_FX_MXCSR, &v, 4);
}

/* The host thread's MXCSR: the SSE unit leaves the guest's in it between
 * instructions (exec-sse.c); emu_cpu_run() saves the host's on entry and
 * puts it back on return. */
static inline uint32_t emu_host_mxcsr_save(void)
{
	uint32_t v;

	__asm__ volatile("stmxcsr %0" : "=m"(v)::"memory");
	return v;
}

static inline void emu_host_mxcsr_restore(uint32_t v)
{
	if (emu_host_mxcsr_save() != v)
		__asm__ volatile("ldmxcsr %0" ::"m"(v) : "memory");
}

/* Host SIMD extensions (simd.c): emu runs SIMD arithmetic on the host's
 * own units, so it implements (and CPUID advertises) an extension only
 * when the host has it. SSE and SSE2 are x86-64 baseline. */
#define EMU_SSE_F_SSE3 (1u << 0)
#define EMU_SSE_F_SSSE3 (1u << 1)
#define EMU_SSE_F_SSE41 (1u << 2)
#define EMU_SSE_F_SSE42 (1u << 3)
unsigned emu_sse_host_features(void);
/* CPUID leaf 1 ECX / EDX bits of what the SSE unit implements here. */
uint32_t emu_sse_cpuid_ecx(void);
uint32_t emu_sse_cpuid_edx(void);

#endif
