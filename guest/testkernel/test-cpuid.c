/* test-cpuid.c - vendor, family/model, topology and the hypervisor leaves. */
#include "apic.h"
#include "arch.h"
#include "console.h"
#include "tests.h"

#define CPUID1_EDX_APIC (1u << 9)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID_EXT_EDX_LM (1u << 29)

static void regs_to_str(char *out, uint32_t a, uint32_t b, uint32_t c)
{
	memcpy(out, &a, 4);
	memcpy(out + 4, &b, 4);
	memcpy(out + 8, &c, 4);
	out[12] = 0;
}

/* Leaf 0xB: one line per topology level. */
static void print_topology(void)
{
	for (uint32_t level = 0; level < 8; level++) {
		uint32_t r[4];

		cpuid(0xB, level, r);
		if (((r[2] >> 8) & 0xFF) == 0)
			break;
		kprintf("cpuid: leaf 0xb level %u type %u shift %u logical %u x2apic_id %u\n",
			level, (r[2] >> 8) & 0xFF, r[0] & 0x1F, r[1] & 0xFFFF, r[3]);
	}
}

static void print_hypervisor(uint32_t ecx1)
{
	uint32_t r[4];
	char sig[13];

	if (!(ecx1 & CPUID1_ECX_HYPERVISOR)) {
		kprintf("cpuid: hypervisor none\n");
		return;
	}
	cpuid(0x40000000, 0, r);
	regs_to_str(sig, r[1], r[2], r[3]);
	kprintf("cpuid: hypervisor \"%s\" max_leaf 0x%x\n", sig, r[0]);
	if (r[0] >= 0x40000001) {
		uint32_t f[4];

		cpuid(0x40000001, 0, f);
		kprintf("cpuid: hypervisor features eax=0x%08x edx=0x%08x\n", f[0], f[3]);
	}
	if (r[0] >= 0x40000010) {
		uint32_t t[4];

		cpuid(0x40000010, 0, t);
		kprintf("cpuid: timing tsc_khz=%u apic_bus_khz=%u\n", t[0], t[1]);
	}
}

int test_cpuid(const char *arg)
{
	uint32_t r[4], l1[4], ext[4] = { 0 };
	uint32_t family, model, apic_cpuid, apic_reg;
	char vendor[13];

	(void)arg;
	cpuid(0, 0, r);
	regs_to_str(vendor, r[1], r[3], r[2]);
	kprintf("cpuid: vendor \"%s\" max_leaf 0x%x\n", vendor, r[0]);
	cpuid(1, 0, l1);
	family = (l1[0] >> 8) & 0xF;
	model = (l1[0] >> 4) & 0xF;
	if (family == 0xF)
		family += (l1[0] >> 20) & 0xFF;
	if (family == 0x6 || family >= 0xF)
		model |= ((l1[0] >> 16) & 0xF) << 4;
	apic_cpuid = l1[1] >> 24;
	apic_reg = lapic_id();
	kprintf("cpuid: family 0x%x model 0x%x stepping %u\n", family, model, l1[0] & 0xF);
	kprintf("cpuid: bsp apic_id %u (lapic register %u) logical_per_package %u\n", apic_cpuid,
		apic_reg, (l1[1] >> 16) & 0xFF);
	kprintf("cpuid: leaf1 ecx=0x%08x edx=0x%08x\n", l1[2], l1[3]);
	if (r[0] >= 0xB)
		print_topology();
	cpuid(0x80000000, 0, ext);
	if (ext[0] >= 0x80000001)
		cpuid(0x80000001, 0, ext);
	else
		ext[3] = 0;
	kprintf("cpuid: ext edx=0x%08x\n", ext[3]);
	print_hypervisor(l1[2]);
	if (!vendor[0])
		return test_fail("empty vendor string");
	if (!(ext[3] & CPUID_EXT_EDX_LM))
		return test_fail(
			"long mode bit (0x80000001 EDX[29]) clear while running in long mode");
	if (!(l1[3] & CPUID1_EDX_APIC))
		return test_fail("APIC bit (leaf 1 EDX[9]) clear");
	if (apic_cpuid != apic_reg)
		return test_fail("leaf 1 APIC id %u != LAPIC ID register %u", apic_cpuid, apic_reg);
	return 0;
}
