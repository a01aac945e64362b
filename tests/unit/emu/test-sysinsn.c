/* Unit tests of the system instructions' semantics (cpu.c, seg.c, xfer.c,
 * msr.c, cpuid.c): the AP trampoline's path from real mode to long mode
 * (LGDT, CR0.PE, far JMP, CR4.PAE, CR3, EFER.LME, CR0.PG, far JMP to
 * 64-bit code), control-register checks, segment loads, SYSCALL/SYSRET,
 * MSRs, CPUID, POPF/CLI/STI rules and port I/O permission. */
#include "sys-fake.h"

#include <errno.h>

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_TSC 0x10
#define MSR_PAT 0x277

static void test_trampoline_to_long_mode(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m); /* for the tables; then back to the reset state */
	emu_cpu_reset(cpu);
	cpu->seg[EMU_CS].sel = 0x800;
	cpu->seg[EMU_CS].base = 0x8000;
	assert_int_equal(cpu->mode, EMU_MODE_REAL);
	assert_int_equal(CATCH(cpu,
			       {
				       emu_lgdt(cpu, GDT, 0x3f);
				       emu_write_cr(cpu, 0, emu_read_cr(cpu, 0) | EMU_CR0_PE);
			       }),
			 -1);
	assert_int_equal(cpu->mode, EMU_MODE_PROT16);
	assert_int_equal(cpu->cpl, 0);
	assert_int_equal(CATCH(cpu, emu_far_jmp(cpu, SEL_CODE32, 0x8040)), -1);
	assert_int_equal(cpu->mode, EMU_MODE_PROT32);
	assert_int_equal(cpu->rip, 0x8040);
	assert_int_equal(CATCH(cpu,
			       {
				       emu_load_seg(cpu, EMU_DS, SEL_DATA);
				       emu_load_seg(cpu, EMU_SS, SEL_DATA);
				       emu_write_cr(cpu, 4, emu_read_cr(cpu, 4) | EMU_CR4_PAE);
				       emu_write_cr(cpu, 3, PML4);
				       emu_wrmsr(cpu, MSR_EFER,
						 emu_rdmsr(cpu, MSR_EFER) | EMU_EFER_LME);
				       emu_write_cr(cpu, 0, emu_read_cr(cpu, 0) | EMU_CR0_PG);
			       }),
			 -1);
	assert_true(cpu->efer & EMU_EFER_LMA);
	assert_int_equal(cpu->mode, EMU_MODE_PROT32); /* compatibility mode */
	assert_int_equal(cpu->seg[EMU_DS].limit, 0xffffffff);
	assert_int_equal(CATCH(cpu, emu_far_jmp(cpu, SEL_CODE64, 0x100200)), -1);
	assert_int_equal(cpu->mode, EMU_MODE_LONG64);
	assert_int_equal(cpu->rip, 0x100200);
	/* the accessed bit went into the GDT */
	assert_true(get64(m, GDT + SEL_CODE64) & (1ULL << 40));
	machine_free(m);
}

static void test_cr_checks(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	emu_cpu_reset(cpu);
	/* PG without PE */
	assert_int_equal(CATCH(cpu, emu_write_cr(cpu, 0, EMU_CR0_PG | EMU_CR0_ET)), EMU_GP);
	/* LME + PG without PAE */
	cpu->efer = EMU_EFER_LME;
	assert_int_equal(CATCH(cpu, emu_write_cr(cpu, 0, EMU_CR0_PG | EMU_CR0_PE)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_write_cr(cpu, 4, 1ULL << 22)), EMU_GP); /* reserved */
	assert_int_equal(CATCH(cpu, emu_write_cr(cpu, 8, 16)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_read_cr(cpu, 5)), EMU_UD);
	setup_long(m);
	assert_int_equal(CATCH(cpu, emu_write_cr(cpu, 4, 0)), EMU_GP); /* PAE off in long mode */
	/* PG off in 64-bit mode */
	assert_int_equal(CATCH(cpu, emu_write_cr(cpu, 0, EMU_CR0_PE)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_write_cr(cpu, 3, 1ULL << 50)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_write_cr(cpu, 8, 5)), -1);
	assert_int_equal(emu_read_cr(cpu, 8), 5);
	cpu->seg[EMU_SS].attr |= 3 << 5;
	emu_update_mode(cpu);
	assert_int_equal(CATCH(cpu, emu_read_cr(cpu, 0)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_hlt(cpu)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_rdmsr(cpu, MSR_EFER)), EMU_GP);
	machine_free(m);
}

static void test_segment_loads(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	assert_int_equal(CATCH(cpu, emu_load_seg(cpu, EMU_DS, 0x48)), EMU_GP); /* beyond limit */
	assert_int_equal(cpu->exc.error_code, 0x48);
	assert_int_equal(CATCH(cpu, emu_load_seg(cpu, EMU_SS, SEL_UDATA)), EMU_GP); /* DPL 3 */
	assert_int_equal(CATCH(cpu, emu_load_seg(cpu, EMU_DS, SEL_CODE64)), -1); /* readable code */
	put64(m, GDT + 0x40, 0x00cf13000000ffffULL); /* not present */
	cpu->gdtr.limit = 0x4f;
	assert_int_equal(CATCH(cpu, emu_load_seg(cpu, EMU_ES, 0x40)), EMU_NP);
	assert_int_equal(CATCH(cpu, emu_load_seg(cpu, EMU_SS, 0x40)), EMU_SS_FAULT);
	/* null selectors: fine for DS, for SS at CPL0 in 64-bit mode */
	assert_int_equal(CATCH(cpu, emu_load_seg(cpu, EMU_DS, 0)), -1);
	assert_int_equal(CATCH(cpu, emu_load_seg(cpu, EMU_SS, 0)), -1);
	/* FS keeps its 64-bit base on a null load */
	cpu->seg[EMU_FS].base = 0x123456789ULL;
	assert_int_equal(CATCH(cpu, emu_load_seg(cpu, EMU_FS, 0)), -1);
	assert_int_equal(cpu->seg[EMU_FS].base, 0x123456789ULL);
	/* LTR marks the TSS busy */
	assert_int_equal(CATCH(cpu, emu_ltr(cpu, SEL_TSS)), -1);
	assert_true(get64(m, GDT + SEL_TSS) & (2ULL << 40));
	assert_int_equal(CATCH(cpu, emu_ltr(cpu, SEL_TSS)), EMU_GP); /* busy now */
	uint32_t v;
	assert_true(emu_lsl(cpu, SEL_DATA, &v));
	assert_int_equal(v, 0xffffffff);
	assert_true(emu_lar(cpu, SEL_DATA, &v));
	assert_int_equal(v & 0xff00, 0x9300);
	assert_true(emu_verr(cpu, SEL_CODE64, false));
	assert_false(emu_verr(cpu, SEL_CODE64, true));
	assert_true(emu_verr(cpu, SEL_DATA, true));
	machine_free(m);
}

static void test_syscall_sysret(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	assert_int_equal(CATCH(cpu,
			       {
				       emu_wrmsr(cpu, MSR_STAR,
						 ((uint64_t)(SEL_CODE32 | 3) << 48) |
							 ((uint64_t)SEL_CODE64 << 32));
				       emu_wrmsr(cpu, MSR_LSTAR, 0xffffffff81000000ULL);
				       emu_wrmsr(cpu, MSR_SFMASK, EMU_FLAG_IF | EMU_FLAG_DF);
			       }),
			 -1);
	load_seg_raw(cpu, EMU_CS, SEL_UCODE | 3, 0x2fb | EMU_SEG_G);
	load_seg_raw(cpu, EMU_SS, SEL_UDATA | 3, 0xcf3);
	emu_update_mode(cpu);
	cpu->rflags = 2 | EMU_FLAG_IF | EMU_FLAG_DF | EMU_FLAG_ZF;
	assert_int_equal(CATCH(cpu, emu_syscall(cpu, 0x400123)), -1);
	assert_int_equal(cpu->cpl, 0);
	assert_int_equal(cpu->rip, 0xffffffff81000000ULL);
	assert_int_equal(cpu->r[EMU_RCX], 0x400123);
	assert_int_equal(cpu->r[EMU_R11], 2 | EMU_FLAG_IF | EMU_FLAG_DF | EMU_FLAG_ZF);
	assert_int_equal(cpu->rflags, 2 | EMU_FLAG_ZF);
	assert_int_equal(cpu->seg[EMU_CS].sel, SEL_CODE64);
	assert_int_equal(cpu->seg[EMU_SS].sel, SEL_DATA);
	assert_int_equal(cpu->mode, EMU_MODE_LONG64);
	assert_int_equal(CATCH(cpu, emu_sysret(cpu, 8)), -1);
	assert_int_equal(cpu->cpl, 3);
	assert_int_equal(cpu->rip, 0x400123);
	assert_int_equal(cpu->seg[EMU_CS].sel, SEL_UCODE | 3);
	assert_int_equal(cpu->seg[EMU_SS].sel, SEL_UDATA | 3);
	assert_true(cpu->rflags & EMU_FLAG_IF);
	assert_int_equal(cpu->mode, EMU_MODE_LONG64);
	/* SYSRET is CPL0 only; a non-canonical RCX is #GP */
	assert_int_equal(CATCH(cpu, emu_sysret(cpu, 8)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_syscall(cpu, 0)), -1);
	cpu->r[EMU_RCX] = 0x0000800000000000ULL;
	assert_int_equal(CATCH(cpu, emu_sysret(cpu, 8)), EMU_GP);
	/* SYSRET to 32-bit compatibility mode */
	cpu->r[EMU_RCX] = 0x1234;
	assert_int_equal(CATCH(cpu, emu_sysret(cpu, 4)), -1);
	assert_int_equal(cpu->mode, EMU_MODE_PROT32);
	assert_int_equal(cpu->seg[EMU_CS].sel, SEL_CODE32 | 3);
	/* EFER.SCE off: #UD */
	cpu->efer &= ~EMU_EFER_SCE;
	assert_int_equal(CATCH(cpu, emu_syscall(cpu, 0)), EMU_UD);
	machine_free(m);
}

static void test_msrs(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;
	uint64_t v;

	(void)state;
	setup_long(m);
	assert_int_equal(emu_cpu_get_msr(cpu, 0x12345678, &v), -EINVAL);
	assert_int_equal(CATCH(cpu, emu_rdmsr(cpu, 0x12345678)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_wrmsr(cpu, MSR_FS_BASE, 0x0000800000000000ULL)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_wrmsr(cpu, MSR_FS_BASE, 0x7000)), -1);
	assert_int_equal(cpu->seg[EMU_FS].base, 0x7000);
	assert_int_equal(CATCH(cpu, emu_wrmsr(cpu, MSR_PAT, 0x0202020202020202ULL)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_wrmsr(cpu, MSR_EFER, cpu->efer | (1ULL << 12))), EMU_GP);
	/* LME cannot change with paging on; LMA writes are ignored */
	assert_int_equal(CATCH(cpu, emu_wrmsr(cpu, MSR_EFER, EMU_EFER_SCE)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_wrmsr(cpu, MSR_EFER, EMU_EFER_LME)), -1);
	assert_int_equal(cpu->efer, EMU_EFER_LME | EMU_EFER_LMA);
	/* TSC writes set an offset */
	assert_int_equal(emu_cpu_set_msr(cpu, MSR_TSC, 1000000000000ULL), 0);
	assert_int_equal(emu_cpu_get_msr(cpu, MSR_TSC, &v), 0);
	assert_true(v >= 1000000000000ULL && v < 1000000000000ULL + 2000000000ULL);
	/* the APIC base and the x2APIC range go to the LAPIC */
	assert_int_equal(emu_cpu_get_msr(cpu, 0x1b, &v), 0);
	assert_int_equal(v & ~0xfffULL, EMU_LAPIC_BASE);
	assert_true(v & (1ULL << 8)); /* BSP */
	assert_int_equal(CATCH(cpu, emu_rdmsr(cpu, 0x802)), EMU_GP); /* x2APIC off */
	machine_free(m);
}

/* IA32_ARCH_CAPABILITIES: CPUID.7.EDX[29] says it exists; it denies
 * Meltdown (RDCL_NO, bit 0: Linux runs without page-table isolation) and
 * MDS (MDS_NO, bit 5), branch history injection (BHI_NO, bit 20) and
 * indirect target selection (ITS_NO, bit 62), and is read-only. */
static void test_arch_capabilities(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;
	uint32_t r[4];
	uint64_t v;

	(void)state;
	setup_long(m);
	emu_cpuid(cpu, 7, 0, r);
	assert_true(r[3] & (1u << 29));
	assert_int_equal(emu_cpu_get_msr(cpu, 0x10a, &v), 0);
	assert_true(v & (1ULL << 0));
	assert_true(v & (1ULL << 5));
	assert_true(v & (1ULL << 20));
	assert_true(v & (1ULL << 62));
	assert_int_equal(CATCH(cpu, emu_rdmsr(cpu, 0x10a)), -1);
	assert_int_equal(CATCH(cpu, emu_wrmsr(cpu, 0x10a, 0)), EMU_GP);
	machine_free(m);
}

static void test_cpuid(void **state)
{
	struct machine *m = machine_new(2, false);
	uint32_t r[4];
	char vendor[13] = { 0 };
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[4];
	} small = { .c.nent = 4 };

	(void)state;
	emu_cpuid(m->cpu, 0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	assert_string_equal(vendor, "GenuineIntel");
	emu_cpuid(m->cpu, 0x80000001, 0, r);
	assert_true(r[3] & (1u << 29)); /* LM */
	assert_true(r[3] & (1u << 20)); /* NX */
	emu_cpuid(emu_vm_cpu(m->vm, 1), 1, 0, r);
	assert_int_equal(r[1] >> 24, 1); /* APIC ID */
	assert_true(r[3] & (1u << 9)); /* APIC */
	emu_cpuid(m->cpu, 0x40000001, 0, r);
	assert_true(r[0] & (1u << 3)); /* KVM_FEATURE_CLOCKSOURCE2 */
	emu_cpuid(m->cpu, 0x12345, 0, r);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	assert_int_equal(emu_supported_cpuid(&small.c), -E2BIG);
	/* the whole table (it once overflowed its own array) */
	struct kvm_cpuid2 *big = calloc(1, sizeof(*big) + 64 * sizeof(big->entries[0]));
	big->nent = 64;
	assert_int_equal(emu_supported_cpuid(big), 0);
	assert_true(big->nent >= 13 && big->nent <= 16);
	free(big);
	machine_free(m);
}

static void test_flags_and_io(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	cpu->rflags = 2;
	assert_int_equal(CATCH(cpu, emu_sti(cpu)), -1);
	assert_true(cpu->irq_shadow);
	assert_true(cpu->rflags & EMU_FLAG_IF);
	assert_int_equal(CATCH(cpu, assert_int_equal(emu_io_in(cpu, 0x3f8, 1), 0xa5)), -1);
	/* CPL3, IOPL 0: POPF keeps IF and IOPL; CLI faults; I/O goes by the TSS bitmap */
	load_seg_raw(cpu, EMU_CS, SEL_UCODE | 3, 0x2fb | EMU_SEG_G);
	load_seg_raw(cpu, EMU_SS, SEL_UDATA | 3, 0xcf3);
	emu_update_mode(cpu);
	assert_int_equal(CATCH(cpu, emu_popf(cpu, 2 | EMU_FLAG_IOPL | EMU_FLAG_CF, 8)), -1);
	assert_int_equal(cpu->rflags, 2 | EMU_FLAG_IF | EMU_FLAG_CF);
	assert_int_equal(CATCH(cpu, emu_cli(cpu)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_io_in(cpu, 0x3f8, 1)), EMU_GP); /* TSS limit 0x67 */
	cpu->tr.limit = 0x2000;
	put64(m, TSS + 0x66, 0x1000ULL); /* bitmap at TSS+0x1000, all zero: allowed */
	m->ram[TSS + 0x1000 + 0x3f8 / 8] = 0x02; /* except port 0x3f9 */
	assert_int_equal(CATCH(cpu, emu_io_in(cpu, 0x3f8, 1)), -1);
	assert_int_equal(CATCH(cpu, emu_io_in(cpu, 0x3f8, 2)), EMU_GP);
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trampoline_to_long_mode),
		cmocka_unit_test(test_cr_checks),
		cmocka_unit_test(test_segment_loads),
		cmocka_unit_test(test_syscall_sysret),
		cmocka_unit_test(test_msrs),
		cmocka_unit_test(test_arch_capabilities),
		cmocka_unit_test(test_cpuid),
		cmocka_unit_test(test_flags_and_io),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
