/* The x87/SSE state machinery of emu against the SDM, with tiny guests at
 * CPL0 in long mode (the instruction semantics themselves are compared
 * with the host CPU by tests/emu-diff's x87 corpus):
 *
 * - #NM: CR0.TS or CR0.EM for x87 and FXSAVE; FWAIT only with MP and TS
 * - XSETBV/XGETBV (#UD without CR4.OSXSAVE, #GP for bad values), XSAVE's
 *   image and header, XRSTOR of init components, its #GP checks
 * - FOP/FIP/FDP as an x87 instruction leaves them (KVM_GET_FPU view)
 * - the FPU/XSAVE state at the accelerator interface, and the CPUID bits
 *   (FPU, FXSR, XSAVE, OSXSAVE following CR4, leaf 0xD) */
#define SYS_FAKE_REAL_CORE
#include "sys-fake.h"
#include "emu/x87.h"

#include <errno.h>

#define CODE 0x5000

/* 0: fld1 | 2: fxsave 0x6000 | a: fwait */
static const uint8_t nm_code[] = {
	0xd9, 0xe8, 0x0f, 0xae, 0x04, 0x25, 0x00, 0x60, 0x00, 0x00, 0x9b
};

/* mov $3,%eax; xor %edx,%edx; xor %ecx,%ecx; xsetbv; xgetbv; mov %eax,%esi;
 * fninit; fld1; fldpi; mov $3,%eax; xsave 0x6000; mov $3,%eax;
 * xrstor 0x7000; ud2 */
static const uint8_t xsave_code[] = {
	0xb8, 0x03, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x31, 0xc9, 0x0f, 0x01, 0xd1, 0x0f,
	0x01, 0xd0, 0x89, 0xc6, 0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0xb8, 0x03, 0x00,
	0x00, 0x00, 0x0f, 0xae, 0x24, 0x25, 0x00, 0x60, 0x00, 0x00, 0xb8, 0x03, 0x00,
	0x00, 0x00, 0x0f, 0xae, 0x2c, 0x25, 0x00, 0x70, 0x00, 0x00, 0x0f, 0x0b,
};

/* mov $2,%eax; xor %edx,%edx; xor %ecx,%ecx; xsetbv */
static const uint8_t xsetbv_bad[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0x31,
				      0xd2, 0x31, 0xc9, 0x0f, 0x01, 0xd1 };

/* mov $0x7000,%ebx; fldl (%rbx); ud2 */
static const uint8_t fip_code[] = { 0xbb, 0x00, 0x70, 0x00, 0x00, 0xdd, 0x03, 0x0f, 0x0b };

static struct machine *start(const uint8_t *code, size_t len)
{
	struct machine *m = machine_new(1, true);

	setup_long(m);
	memcpy(m->ram + CODE, code, len);
	return m;
}

static int run_at(struct machine *m, uint64_t rip)
{
	struct emu_exit x;

	m->cpu->rip = rip;
	assert_int_equal(emu_cpu_run(m->cpu, &x), 0);
	assert_int_equal(x.reason, EMU_EXIT_EXCEPTION);
	return x.vector;
}

static void test_nm(void **state)
{
	struct machine *m = start(nm_code, sizeof(nm_code));

	(void)state;
	m->cpu->cr0 |= EMU_CR0_TS;
	assert_int_equal(run_at(m, CODE), EMU_NM);
	assert_int_equal(run_at(m, CODE + 2), EMU_NM);
	assert_int_equal(m->cpu->rip, CODE + 2);
	/* FWAIT: #NM only when MP and TS are both set */
	m->ram[CODE + 11] = 0x0f, m->ram[CODE + 12] = 0x0b;
	assert_int_equal(run_at(m, CODE + 10), EMU_UD);
	assert_int_equal(m->cpu->rip, CODE + 11);
	m->cpu->cr0 |= EMU_CR0_MP;
	assert_int_equal(run_at(m, CODE + 10), EMU_NM);
	/* EM: x87 #NM, FWAIT runs */
	m->cpu->cr0 = (m->cpu->cr0 & ~(EMU_CR0_TS | EMU_CR0_MP)) | EMU_CR0_EM;
	assert_int_equal(run_at(m, CODE), EMU_NM);
	assert_int_equal(run_at(m, CODE + 10), EMU_UD);
	/* neither: FLD1 runs, FXSAVE writes FCW at 0x6000 */
	m->cpu->cr0 &= ~EMU_CR0_EM;
	m->ram[CODE + 10] = 0x0f, m->ram[CODE + 11] = 0x0b;
	assert_int_equal(run_at(m, CODE), EMU_UD);
	assert_int_equal(m->ram[0x6000] | m->ram[0x6001] << 8, X87_FCW_INIT);
	assert_int_equal(m->ram[0x6004], 0x80); /* abridged tag: physical register 7 */
	machine_free(m);
}

static void test_xsave_xrstor(void **state)
{
	struct machine *m = start(xsave_code, sizeof(xsave_code));
	uint64_t bv;
	uint16_t fcw;

	(void)state;
	assert_int_equal(run_at(m, CODE), EMU_UD); /* XSETBV without CR4.OSXSAVE */
	assert_int_equal(m->cpu->rip, CODE + 9);
	m->cpu->cr4 |= EMU_CR4_OSXSAVE | EMU_CR4_OSFXSR;
	memset(m->ram + 0x6200, 0xaa, 8); /* XSTATE_BV: other bits kept */
	put64(m, 0x7200, 0); /* XRSTOR: XSTATE_BV 0, init both */
	assert_int_equal(run_at(m, CODE), EMU_UD);
	assert_int_equal(m->cpu->rip, CODE + 0x31);
	assert_int_equal(m->cpu->xcr0, 3);
	assert_int_equal(m->cpu->r[EMU_RSI], 3);
	bv = get64(m, 0x6200);
	assert_int_equal(bv, 0xaaaaaaaaaaaaaaabULL);
	assert_int_equal(m->ram[0x6004], 0xc0); /* two registers valid */
	assert_int_equal(m->ram[0x6000 + 32 + 9], 0x40); /* ST0 = pi, exponent 0x4000 */
	fcw = x87_get16(m->cpu, X87_FCW);
	assert_int_equal(fcw, X87_FCW_INIT);
	assert_int_equal(m->cpu->fxsave[X87_FTW], 0);
	assert_int_equal(x87_get16(m->cpu, X87_FSW), 0);
	/* XCOMP_BV set (compacted form) or reserved header bytes: #GP */
	put64(m, 0x7208, 1ULL << 63);
	assert_int_equal(run_at(m, CODE + 0x24), EMU_GP);
	put64(m, 0x7208, 0);
	m->ram[0x7220] = 1;
	assert_int_equal(run_at(m, CODE + 0x24), EMU_GP);
	m->ram[0x7220] = 0;
	put64(m, 0x7200, 4); /* AVX is not in XCR0 */
	assert_int_equal(run_at(m, CODE + 0x24), EMU_GP);
	machine_free(m);
}

static void test_xsetbv_checks(void **state)
{
	struct machine *m = start(xsetbv_bad, sizeof(xsetbv_bad));

	(void)state;
	m->cpu->cr4 |= EMU_CR4_OSXSAVE;
	assert_int_equal(run_at(m, CODE), EMU_GP); /* x87 bit clear */
	m->ram[CODE + 1] = 7; /* AVX: not supported */
	assert_int_equal(run_at(m, CODE), EMU_GP);
	m->ram[CODE + 1] = 3;
	m->ram[CODE + 7] = 0xb1, m->ram[CODE + 8] = 0x01; /* mov $1,%cl: XCR1 */
	assert_int_equal(run_at(m, CODE), EMU_GP);
	assert_int_equal(m->cpu->xcr0, 1);
	machine_free(m);
}

static void test_fip_fdp_fop(void **state)
{
	struct machine *m = start(fip_code, sizeof(fip_code));
	struct kvm_fpu fpu;

	(void)state;
	put64(m, 0x7000, 0x4000000000000000ULL); /* 2.0 */
	assert_int_equal(run_at(m, CODE), EMU_UD);
	emu_cpu_get_fpu(m->cpu, &fpu);
	assert_int_equal(fpu.last_ip, CODE + 5);
	assert_int_equal(fpu.last_dp, 0x7000);
	assert_int_equal(fpu.last_opcode, 0x503); /* DD 03: (D & 7) << 8 | ModRM */
	assert_int_equal(fpu.ftwx, 0x80);
	assert_int_equal(fpu.fsw >> 11 & 7, 7);
	assert_int_equal(fpu.fpr[0][9], 0x40);
	assert_int_equal(fpu.fpr[0][7], 0x80);
	machine_free(m);
}

static void test_state_interface(void **state)
{
	struct machine *m = start(fip_code, sizeof(fip_code));
	struct kvm_fpu fpu = { .fcw = 0x27f, .fsw = 0x3800, .ftwx = 0x80, .mxcsr = 0x1f80 };
	struct kvm_xsave xs;
	uint64_t bv;

	(void)state;
	fpu.fpr[0][7] = 0x80, fpu.fpr[0][8] = 0xff, fpu.fpr[0][9] = 0x3f; /* 1.0 */
	fpu.xmm[3][0] = 0x5a;
	assert_int_equal(emu_cpu_set_fpu(m->cpu, &fpu), 0);
	emu_cpu_get_xsave(m->cpu, &xs);
	memcpy(&bv, (uint8_t *)xs.region + 512, 8);
	assert_int_equal(bv, 3);
	assert_int_equal(((uint8_t *)xs.region)[0], 0x7f);
	assert_int_equal(((uint8_t *)xs.region)[160 + 48], 0x5a);
	assert_int_equal(((uint8_t *)xs.region)[32 + 9], 0x3f);
	fpu.mxcsr = 0x10000;
	assert_int_equal(emu_cpu_set_fpu(m->cpu, &fpu), -EINVAL);
	bv = 4;
	memcpy((uint8_t *)xs.region + 512, &bv, 8);
	assert_int_equal(emu_cpu_set_xsave(m->cpu, &xs), -EINVAL);
	bv = 2; /* x87 in its init state */
	memcpy((uint8_t *)xs.region + 512, &bv, 8);
	assert_int_equal(emu_cpu_set_xsave(m->cpu, &xs), 0);
	assert_int_equal(x87_get16(m->cpu, X87_FCW), X87_FCW_INIT);
	assert_int_equal(m->cpu->fxsave[X87_FTW], 0);
	assert_int_equal(m->cpu->fxsave[160 + 48], 0x5a);
	machine_free(m);
}

static void test_cpuid_model(void **state)
{
	struct machine *m = start(fip_code, sizeof(fip_code));
	uint32_t r[4];

	(void)state;
	emu_cpuid(m->cpu, 1, 0, r);
	assert_true(r[3] & 1); /* FPU */
	assert_true(r[3] & (1u << 24)); /* FXSR */
	assert_true(r[2] & (1u << 26)); /* XSAVE */
	assert_false(r[2] & (1u << 27)); /* OSXSAVE follows CR4 */
	m->cpu->cr4 |= EMU_CR4_OSXSAVE;
	emu_cpuid(m->cpu, 1, 0, r);
	assert_true(r[2] & (1u << 27));
	emu_cpuid(m->cpu, 0xd, 0, r);
	assert_int_equal(r[0], 3);
	assert_int_equal(r[1], 576);
	assert_int_equal(r[2], 576);
	emu_cpuid(m->cpu, 0xd, 1, r);
	assert_int_equal(r[0], 1); /* XSAVEOPT only: no XSAVEC/XSAVES */
	emu_cpuid(m->cpu, 0x40000001, 0, r);
	assert_int_equal(r[0], (1u << 0) | (1u << 3) | (1u << 24)); /* kvm-clock, stable */
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nm),
		cmocka_unit_test(test_xsave_xrstor),
		cmocka_unit_test(test_xsetbv_checks),
		cmocka_unit_test(test_fip_fdp_fop),
		cmocka_unit_test(test_state_interface),
		cmocka_unit_test(test_cpuid_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
