/* test-sse.c - `sse`: SSE in a real guest, under KVM (the hardware) and
 * emu alike (docs/testkernel.md). The guest enables SSE itself (CR4.OSFXSR,
 * CR0.MP without EM) and checks, against values IEEE 754 and the SDM fix:
 *   compute  arithmetic, MXCSR rounding and FTZ, conversions, compares,
 *            glibc's strlen idiom, PSADBW/PSHUFD; PSHUFB, CRC32 and
 *            PCMPISTRI when CPUID has SSSE3/SSE4.2
 *   nm       CR0.TS: the first SSE instruction raises #NM; CLTS and retry
 *   xm       an unmasked divide-by-zero raises #XM with CR4.OSXMMEXCPT
 *            (ZE set, destination not written), #UD without it
 *   osfxsr   CR4.OSFXSR clear: #UD
 *   align    MOVAPS of a misaligned operand: #GP(0)
 * CR0 and CR4 are restored afterwards. `sse:tcg` skips xm and ud: QEMU's
 * TCG, the reference the integration tests also run, never raises #XM. */
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "tests.h"

#include <stdbool.h>

#define VEC_UD 6
#define VEC_NM 7
#define VEC_GP 13
#define VEC_XM 19
#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR4_OSFXSR (1ul << 9)
#define CR4_XMMEX (1ul << 10)
#define SSE_OUT 14
#define ECX_SSSE3 (1u << 9)
#define ECX_SSE42 (1u << 20)

struct sse_in {
	uint32_t a[4], b[4];
	char str[32];
	uint8_t bytes[16];
	uint32_t mxcsr[4];
	char digits[16];
	char vowels[16];
} __attribute__((aligned(16)));

void sse_compute(uint64_t *out, const struct sse_in *in);
void sse_compute42(uint64_t *out, const struct sse_in *in);
void sse_touch(void *p);
void sse_div_zero(uint64_t *out, const uint32_t *mxcsr);
void sse_movaps(void *out, const void *p);
void sse_set_mxcsr(uint32_t v);
uint32_t sse_get_mxcsr(void);
extern const uint8_t sse_div_zero_insn[], sse_movaps_insn[];

static struct sse_in in = {
	.a = { 0x3f800000, 0x40000000, 0x40400000, 0x40800000 }, /* 1 2 3 4 */
	.b = { 0x3f000000, 0x3e800000, 0xc0400000, 0x3e000000 }, /* .5 .25 -3 .125 */
	.str = "hello, sse world!",
	.bytes = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	.digits = "123456789",
	.vowels = "aeiou",
};

static const uint64_t want[SSE_OUT] = {
	0x401000003fc00000,
	0x4084000000000000, /* 1.5 2.25 0 4.125 */
	0x3ff6a09e667f3bcd, /* sqrt(2) */
	0x3fd5555555555555,
	0x3fd5555555555556, /* 1/3 nearest, up */
	2,
	(uint64_t)-2, /* cvtsd2si 2.5, cvttsd2si -2.7 */
	17, /* strlen */
	28,
	92, /* psadbw */
	0x0b0a09080f0e0d0c, /* pshufd 0x1b */
	0x0101, /* ucomisd NaN: PF; comisd 1 < 3: CF */
	0x0040000000000000, /* 2^-127: 0 with FTZ, denormal without */
	0x9fb0, /* FTZ sets UE and PE */
};

static inline uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* The one fault a part expects; anything else panics. */
static struct {
	int vector;
	unsigned hits;
	uint64_t error;
	uint32_t mxcsr; /* at the fault */
} expect;

static void sse_handler(struct isr_frame *f)
{
	if ((int)f->vector != expect.vector || expect.hits)
		isr_panic(f);
	expect.hits++;
	expect.error = f->error;
	switch (f->vector) {
	case VEC_NM:
		write_cr0(read_cr0() & ~CR0_TS);
		break;
	case VEC_UD:
		if (!(read_cr4() & CR4_OSFXSR)) {
			write_cr4(read_cr4() | CR4_OSFXSR);
			break;
		}
		/* the unmasked exception without OSXMMEXCPT */
		__attribute__((fallthrough));
	case VEC_XM:
		expect.mxcsr = sse_get_mxcsr();
		sse_set_mxcsr(expect.mxcsr | 0x1f80); /* mask all, keep the flags */
		break;
	case VEC_GP:
		f->rsi &= ~15ul; /* align the operand */
		break;
	default:
		isr_panic(f);
	}
}

static void arm(int vector)
{
	expect.vector = vector;
	expect.hits = 0;
	expect.mxcsr = 0;
}

static int part_compute(void)
{
	uint64_t out[SSE_OUT] = { 0 }, out42[3] = { 0 };
	uint32_t r[4];

	sse_compute(out, &in);
	for (unsigned i = 0; i < SSE_OUT; i++)
		if (out[i] != want[i])
			return test_fail("compute: result %u is 0x%lx, expected 0x%lx", i, out[i],
					 want[i]);
	cpuid(1, 0, r);
	if ((r[2] & (ECX_SSSE3 | ECX_SSE42)) != (ECX_SSSE3 | ECX_SSE42)) {
		kprintf("sse: compute: no SSSE3/SSE4.2 in CPUID, PSHUFB/CRC32/PCMPISTRI skipped\n");
		return 0;
	}
	sse_compute42(out42, &in);
	if (out42[0] != 0x0b0a09080f0e0d0c || out42[1] != 0xe3069283 || out42[2] != 1)
		return test_fail("compute42: 0x%lx 0x%lx %lu", out42[0], out42[1], out42[2]);
	return 0;
}

static int part_nm(void)
{
	uint32_t buf[4] __attribute__((aligned(16))) = { 0x3f800000, 0, 0, 0 };

	arm(VEC_NM);
	write_cr0(read_cr0() | CR0_TS);
	sse_touch(buf);
	if (expect.hits != 1 || buf[0] != 0x40000000)
		return test_fail("nm: %u faults, result 0x%x", expect.hits, buf[0]);
	return 0;
}

static int part_xm(bool osxmmexcpt)
{
	static const uint32_t mxcsr = 0x1d80; /* ZM clear */
	uint64_t out = 0x1234;

	write_cr4(osxmmexcpt ? read_cr4() | CR4_XMMEX : read_cr4() & ~CR4_XMMEX);
	arm(osxmmexcpt ? VEC_XM : VEC_UD);
	sse_div_zero(&out, &mxcsr);
	sse_set_mxcsr(0x1f80);
	if (expect.hits != 1 || expect.mxcsr != 0x1d84 || out != 0x7ff0000000000000)
		return test_fail("%s: %u faults, mxcsr 0x%x, result 0x%lx",
				 osxmmexcpt ? "xm" : "ud", expect.hits, expect.mxcsr, out);
	return 0;
}

static int part_osfxsr(void)
{
	uint32_t buf[4] __attribute__((aligned(16))) = { 0x40000000, 0, 0, 0 };

	arm(VEC_UD);
	write_cr4(read_cr4() & ~CR4_OSFXSR);
	sse_touch(buf);
	if (expect.hits != 1 || buf[0] != 0x40800000)
		return test_fail("osfxsr: %u faults, result 0x%x", expect.hits, buf[0]);
	return 0;
}

static int part_align(void)
{
	uint8_t buf[48] __attribute__((aligned(16)));
	uint8_t out[16];

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	arm(VEC_GP);
	sse_movaps(out, buf + 20);
	if (expect.hits != 1 || expect.error != 0 || out[0] != 16 || out[15] != 31)
		return test_fail("align: %u faults, error 0x%lx, bytes %u..%u", expect.hits,
				 expect.error, out[0], out[15]);
	return 0;
}

int test_sse(const char *arg)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	bool tcg = arg[0] != 0;
	int r;

	if (tcg && strncmp(arg, "tcg", 4))
		return test_fail("unknown argument \"%s\" (sse or sse:tcg)", arg);
	for (int v = 0; v < 32; v++)
		if (v == VEC_UD || v == VEC_NM || v == VEC_GP || v == VEC_XM)
			idt_set_handler((unsigned)v, sse_handler);
	write_cr0((cr0 & ~(CR0_EM | CR0_TS)) | CR0_MP);
	write_cr4(cr4 | CR4_OSFXSR | CR4_XMMEX);
	sse_set_mxcsr(0x1f80);
	r = part_compute();
	if (!r)
		kprintf("sse: compute: ok\n");
	if (!r && !(r = part_nm()))
		kprintf("sse: nm: ok\n");
	if (!r && tcg)
		kprintf("sse: xm, ud: skipped (tcg)\n");
	if (!r && !tcg && !(r = part_xm(true)))
		kprintf("sse: xm: ok\n");
	if (!r && !tcg && !(r = part_xm(false)))
		kprintf("sse: ud: ok\n");
	if (!r && !(r = part_osfxsr()))
		kprintf("sse: osfxsr: ok\n");
	write_cr4(cr4 | CR4_OSFXSR | CR4_XMMEX);
	if (!r && !(r = part_align()))
		kprintf("sse: align: ok\n");
	idt_set_handler(VEC_UD, NULL);
	idt_set_handler(VEC_NM, NULL);
	idt_set_handler(VEC_GP, NULL);
	idt_set_handler(VEC_XM, NULL);
	write_cr4(cr4);
	write_cr0(cr0);
	return r;
}
