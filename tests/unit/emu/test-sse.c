/* The SSE unit against the SDM where the host cannot be asked (the
 * differential tests in tests/emu-diff run at CPL3 under Linux's CR0/CR4):
 * availability (CR0.EM and !CR4.OSFXSR: #UD, CR0.TS: #NM, CRC32 unaffected),
 * unmasked exceptions (#XM with CR4.OSXMMEXCPT, else #UD; flags set, the
 * destination unchanged), the 16-byte alignment #GP(0), 32-bit protected
 * mode, the fxsave accessors of emu.h, the CPUID bits, and MMX's rules
 * (availability, #MF, when the x87-to-MMX transition happens). */
#include "core-harness.h"

#include "emu/simd.h"

#include <cpuid.h>
#include <errno.h>

#define CR0_BASE 0x80000031ULL
#define CR0_MP 0x2ULL
#define CR0_EM 0x4ULL
#define CR0_TS 0x8ULL
#define CR4_PAE 0x20ULL
#define CR4_FXSR 0x200ULL
#define CR4_XMMEX 0x400ULL

static void set_cr(struct h *h, uint64_t cr0, uint64_t cr4)
{
	struct kvm_sregs s;

	emu_cpu_get_sregs(h->cpu, &s);
	s.cr0 = cr0;
	s.cr4 = cr4;
	assert_int_equal(emu_cpu_set_sregs(h->cpu, &s), 0);
}

static uint32_t get_mxcsr(struct h *h)
{
	uint8_t fx[512];
	uint32_t v;

	emu_cpu_get_fxsave(h->cpu, fx);
	memcpy(&v, fx + 24, 4);
	return v;
}

static void get_xmm(struct h *h, unsigned i, uint64_t out[2])
{
	uint8_t fx[512];

	emu_cpu_get_fxsave(h->cpu, fx);
	memcpy(out, fx + 160 + 16 * i, 16);
}

/* runs code that must stop with vector at its first instruction */
static void expect_fault(struct h *h, const uint8_t *code, size_t len, int vector)
{
	h_run(h, code, len);
	assert_int_equal(h->exit.reason, EMU_EXIT_EXCEPTION);
	assert_int_equal(h->exit.vector, vector);
	assert_int_equal(h->regs.rip, H_CODE);
}

static void test_availability(void **state)
{
	/* addps xmm0, xmm1 */
	static const uint8_t addps[] = { 0x0f, 0x58, 0xc1, UD2 };
	/* ldmxcsr [0x20000] */
	static const uint8_t ldmxcsr[] = { 0x0f, 0xae, 0x14, 0x25, 0x00, 0x00, 0x02, 0x00, UD2 };
	/* crc32 eax, cl */
	static const uint8_t crc[] = { 0xf2, 0x0f, 0x38, 0xf0, 0xc1, UD2 };
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	set_cr(&h, CR0_BASE | CR0_MP, CR4_PAE); /* OSFXSR clear */
	expect_fault(&h, addps, sizeof(addps), 6);
	expect_fault(&h, ldmxcsr, sizeof(ldmxcsr), 6);
	set_cr(&h, CR0_BASE | CR0_EM, CR4_PAE | CR4_FXSR);
	expect_fault(&h, addps, sizeof(addps), 6);
	set_cr(&h, CR0_BASE | CR0_MP | CR0_TS, CR4_PAE | CR4_FXSR);
	expect_fault(&h, addps, sizeof(addps), 7);
	expect_fault(&h, ldmxcsr, sizeof(ldmxcsr), 7);
	/* CRC32 is a general-register instruction: no CR0/CR4 checks */
	if (emu_sse_host_features() & EMU_SSE_F_SSE42) {
		h.regs.rax = 0;
		h.regs.rcx = 0x61;
		h_run_ud2(&h, crc, sizeof(crc));
		assert_int_equal(h.regs.rax, 0x93ad1061); /* CRC-32C step of 'a' from 0 */
	}
	set_cr(&h, CR0_BASE | CR0_MP, CR4_PAE | CR4_FXSR);
	memcpy(h.ram + H_DATA, &(uint32_t){ 0x1f80 }, 4);
	h_run_ud2(&h, addps, sizeof(addps));
	h_run_ud2(&h, ldmxcsr, sizeof(ldmxcsr));
	h_free(&h);
}

/* FSW (with TOP) and the abridged tag word through the fxsave accessors */
static void set_x87(struct h *h, uint16_t fcw, uint16_t fsw, uint8_t ftw)
{
	uint8_t fx[512];

	emu_cpu_get_fxsave(h->cpu, fx);
	memcpy(fx, &fcw, 2);
	memcpy(fx + 2, &fsw, 2);
	fx[4] = ftw;
	assert_int_equal(emu_cpu_set_fxsave(h->cpu, fx), 0);
}

static void expect_x87(struct h *h, uint16_t fsw, uint8_t ftw)
{
	uint8_t fx[512];

	emu_cpu_get_fxsave(h->cpu, fx);
	assert_int_equal(fx[2] | fx[3] << 8, fsw);
	assert_int_equal(fx[4], ftw);
}

/* MMX (SDM vol. 3 table 23-7): CR0.EM #UD, CR0.TS #NM, no CR4.OSFXSR
 * needed (the conversions with xmm need it), a pending x87 exception #MF
 * (CVTPI2PS from memory is no MMX instruction), the x87-to-MMX transition
 * only when the instruction completes (not on #PF), EMMS. */
static void test_mmx_rules(void **state)
{
	static const uint8_t paddb[] = { 0x0f, 0xfc, 0xc1, UD2 }; /* paddb mm0, mm1 */
	static const uint8_t emms[] = { 0x0f, 0x77, UD2 };
	/* cvtpi2ps xmm0, [0x20000] */
	static const uint8_t cvt_m[] = { 0x0f, 0x2a, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, UD2 };
	/* movq mm2, [0x400000] (not mapped) */
	static const uint8_t pf[] = { 0x0f, 0x6f, 0x14, 0x25, 0x00, 0x00, 0x40, 0x00, UD2 };
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	set_cr(&h, CR0_BASE | CR0_EM, CR4_PAE | CR4_FXSR);
	expect_fault(&h, paddb, sizeof(paddb), 6);
	expect_fault(&h, emms, sizeof(emms), 6);
	set_cr(&h, CR0_BASE | CR0_MP | CR0_TS, CR4_PAE | CR4_FXSR);
	expect_fault(&h, paddb, sizeof(paddb), 7);
	expect_fault(&h, emms, sizeof(emms), 7);
	set_cr(&h, CR0_BASE | CR0_MP, CR4_PAE); /* OSFXSR clear */
	set_x87(&h, 0x037f, 5 << 11, 0xe0);
	h_run_ud2(&h, paddb, sizeof(paddb));
	expect_x87(&h, 0, 0xff);
	expect_fault(&h, cvt_m, sizeof(cvt_m), 6);
	set_cr(&h, CR0_BASE | CR0_MP, CR4_PAE | CR4_FXSR);
	set_x87(&h, 0x037f, 3 << 11, 0x08);
	expect_fault(&h, pf, sizeof(pf), 14);
	expect_x87(&h, 3 << 11, 0x08);
	h_run_ud2(&h, emms, sizeof(emms));
	expect_x87(&h, 3 << 11, 0);
	set_x87(&h, 0x037b, 0x8084, 0x80); /* ZE pending (unmasked): B ES ZE */
	expect_fault(&h, paddb, sizeof(paddb), 16);
	expect_fault(&h, emms, sizeof(emms), 16);
	h_run_ud2(&h, cvt_m, sizeof(cvt_m));
	expect_x87(&h, 0x8084, 0x80);
	h_free(&h);
}

static void test_unmasked_xm_ud(void **state)
{
	/* ldmxcsr [0x20000]; divsd xmm0, xmm1 (1.0 / 0.0) */
	static const uint8_t code[] = { 0x0f, 0xae, 0x14, 0x25, 0x00, 0x00, 0x02,
					0x00, 0xf2, 0x0f, 0x5e, 0xc1, UD2 };
	uint8_t fx[512];
	uint64_t x[2];
	struct h h;

	(void)state;
	for (int osxmm = 0; osxmm < 2; osxmm++) {
		h_init(&h, H_LONG);
		set_cr(&h, CR0_BASE | CR0_MP, CR4_PAE | CR4_FXSR | (osxmm ? CR4_XMMEX : 0));
		memcpy(h.ram + H_DATA, &(uint32_t){ 0x1d80 }, 4); /* ZM clear */
		emu_cpu_get_fxsave(h.cpu, fx);
		memcpy(fx + 160, &(uint64_t){ 0x3ff0000000000000ULL }, 8);
		memset(fx + 176, 0, 16);
		assert_int_equal(emu_cpu_set_fxsave(h.cpu, fx), 0);
		h_run(&h, code, sizeof(code));
		assert_int_equal(h.exit.reason, EMU_EXIT_EXCEPTION);
		assert_int_equal(h.exit.vector, osxmm ? 19 : 6);
		assert_int_equal(h.regs.rip, H_CODE + 8);
		assert_int_equal(get_mxcsr(&h), 0x1d84); /* ZE set */
		get_xmm(&h, 0, x);
		assert_int_equal(x[0], 0x3ff0000000000000ULL); /* not written */
		h_free(&h);
	}
}

static void test_alignment(void **state)
{
	/* movaps xmm2, [0x20008]; then movups xmm2, [0x20008] */
	static const uint8_t movaps[] = { 0x0f, 0x28, 0x14, 0x25, 0x08, 0x00, 0x02, 0x00, UD2 };
	static const uint8_t movups[] = { 0x0f, 0x10, 0x14, 0x25, 0x08, 0x00, 0x02, 0x00, UD2 };
	uint64_t x[2];
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	set_cr(&h, CR0_BASE | CR0_MP, CR4_PAE | CR4_FXSR | CR4_XMMEX);
	memcpy(h.ram + H_DATA + 8, (const uint64_t[]){ 0x1111, 0x2222 }, 16);
	expect_fault(&h, movaps, sizeof(movaps), 13);
	assert_true(h.exit.has_error_code);
	assert_int_equal(h.exit.error_code, 0);
	h_run_ud2(&h, movups, sizeof(movups));
	get_xmm(&h, 2, x);
	assert_int_equal(x[0], 0x1111);
	assert_int_equal(x[1], 0x2222);
	h_free(&h);
}

static void test_prot32(void **state)
{
	/* movd xmm7, eax; paddd xmm7, xmm7; movd ebx, xmm7 (no REX in 32-bit mode) */
	static const uint8_t code[] = { 0x66, 0x0f, 0x6e, 0xf8, 0x66, 0x0f, 0xfe,
					0xff, 0x66, 0x0f, 0x7e, 0xfb, UD2 };
	struct kvm_sregs s;
	struct h h;

	(void)state;
	h_init(&h, H_PROT32);
	emu_cpu_get_sregs(h.cpu, &s);
	s.cr4 |= CR4_FXSR;
	assert_int_equal(emu_cpu_set_sregs(h.cpu, &s), 0);
	h.regs.rax = 21;
	h_run_ud2(&h, code, sizeof(code));
	assert_int_equal(h.regs.rbx, 42);
	h_free(&h);
}

/* The guest's MXCSR runs on the host thread between instructions; the
 * host's comes back when emu_cpu_run() returns. Flags are the guest's. */
static void test_host_mxcsr_restored(void **state)
{
	/* divss xmm0, xmm1 (1/3: inexact) */
	static const uint8_t code[] = { 0xf3, 0x0f, 0x5e, 0xc1, UD2 };
	uint32_t before, after;
	uint8_t fx[512];
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	set_cr(&h, CR0_BASE | CR0_MP, CR4_PAE | CR4_FXSR | CR4_XMMEX);
	emu_cpu_get_fxsave(h.cpu, fx);
	memcpy(fx + 24, &(uint32_t){ 0xff80 }, 4); /* FTZ, round toward zero */
	memcpy(fx + 160, &(uint32_t){ 0x3f800000 }, 4);
	memcpy(fx + 176, &(uint32_t){ 0x40400000 }, 4);
	assert_int_equal(emu_cpu_set_fxsave(h.cpu, fx), 0);
	__asm__ volatile("stmxcsr %0" : "=m"(before));
	h_run_ud2(&h, code, sizeof(code));
	__asm__ volatile("stmxcsr %0" : "=m"(after));
	assert_int_equal(after, before);
	assert_int_equal(get_mxcsr(&h), 0xffa0); /* PE */
	emu_cpu_get_fxsave(h.cpu, fx);
	assert_int_equal(fx[160], 0xaa); /* 0x3eaaaaaa: 1/3 rounded toward zero */
	h_free(&h);
}

static void test_fxsave_accessors(void **state)
{
	uint8_t fx[512];
	uint32_t v;
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	emu_cpu_get_fxsave(h.cpu, fx);
	memcpy(&v, fx + 24, 4);
	assert_int_equal(v, 0x1f80); /* reset value */
	memcpy(&v, fx + 28, 4);
	assert_int_equal(v, 0xffff); /* MXCSR_MASK: DAZ supported */
	memcpy(fx + 24, &(uint32_t){ 0x10000 }, 4);
	assert_int_equal(emu_cpu_set_fxsave(h.cpu, fx), -EINVAL);
	assert_int_equal(get_mxcsr(&h), 0x1f80);
	memcpy(fx + 24, &(uint32_t){ 0x9fc0 }, 4);
	memset(fx + 160 + 16 * 15, 0xab, 16);
	assert_int_equal(emu_cpu_set_fxsave(h.cpu, fx), 0);
	assert_int_equal(get_mxcsr(&h), 0x9fc0);
	h_free(&h);
}

static uint32_t cpuid_leaf1(struct kvm_cpuid2 *c, int reg)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			return reg == 2 ? c->entries[i].ecx : c->entries[i].edx;
	fail_msg("no leaf 1");
	return 0;
}

static void test_cpuid_bits(void **state)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 100 * sizeof(c->entries[0]));
	unsigned a = 0, b = 0, ecx = 0, edx = 0;
	uint32_t want = 0;

	(void)state;
	c->nent = 100;
	assert_int_equal(emu_supported_cpuid(c), 0);
	assert_true(__get_cpuid(1, &a, &b, &ecx, &edx));
	assert_int_equal(cpuid_leaf1(c, 3) & (3u << 25), 3u << 25); /* SSE, SSE2 */
	assert_true(cpuid_leaf1(c, 3) & bit_MMX);
	want = ecx & (bit_SSE3 | bit_SSSE3 | bit_SSE4_1 | bit_SSE4_2);
	assert_int_equal(cpuid_leaf1(c, 2) & (bit_SSE3 | bit_SSSE3 | bit_SSE4_1 | bit_SSE4_2),
			 want);
	assert_false(cpuid_leaf1(c, 2) & (bit_AVX | bit_PCLMUL | bit_AES | bit_FMA));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_availability),	    cmocka_unit_test(test_unmasked_xm_ud),
		cmocka_unit_test(test_alignment),	    cmocka_unit_test(test_prot32),
		cmocka_unit_test(test_fxsave_accessors),    cmocka_unit_test(test_cpuid_bits),
		cmocka_unit_test(test_host_mxcsr_restored), cmocka_unit_test(test_mmx_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
