/* Unit tests for CPUID shaping on a synthetic host leaf set: topology,
 * hypervisor and KVM leaves, and the baseline model's masks. */
#include "vmm/arch/x86/cpuid.h"

#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define CAP 32

static struct kvm_cpuid2 *host_like(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CAP * sizeof(c->entries[0]));
	struct kvm_cpuid_entry2 *e = c->entries;

	e[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
	e[1] = (struct kvm_cpuid_entry2){ .function = 1,
					  .eax = 0x806c1,
					  .ebx = 0x00100800,
					  .ecx = 0xfffab223,
					  .edx = 0x0fabfbff };
	e[2] = (struct kvm_cpuid_entry2){ .function = 7, .ebx = 0xf1bf07ab, .ecx = 0x18c05fce };
	e[3] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0, .eax = 1, .ebx = 2 };
	e[4] = (struct kvm_cpuid_entry2){ .function = 0xd, .eax = 0x2e7 };
	e[5] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .ecx = 0x121, .edx = 0x2c100800 };
	e[6] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .eax = 0x3030 };
	e[7] = (struct kvm_cpuid_entry2){ .function = 4, .index = 0, .eax = 0x1c004121 };
	c->nent = 8;
	return c;
}

static struct kvm_cpuid_entry2 *get(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void test_host_topology(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	struct vs_cpuid_params p = {
		.model = VS_CPU_HOST, .ncpus = 3, .apic_id = 2, .tsc_khz = 2000000
	};
	struct kvm_cpuid_entry2 *e;

	(void)state;
	assert_int_equal(vs_cpuid_shape(c, CAP, &p), 0);
	e = get(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 2);
	assert_int_equal((e->ebx >> 16) & 0xff, 3);
	assert_true(e->edx & (1u << 28));
	assert_true(e->ecx & (1u << 31));
	e = get(c, 0xb, 1);
	assert_non_null(e);
	assert_int_equal(e->ebx, 3);
	assert_int_equal(e->eax, 2); /* 2 bits of APIC ID for 3 cores */
	assert_int_equal(e->edx, 2);
	assert_int_equal((e->ecx >> 8) & 0xff, 2);
	assert_int_equal(get(c, 4, 0)->eax >> 26, 2);
	assert_int_equal(get(c, 0x80000008, 0)->ecx & 0xff, 2);
	e = get(c, 0x40000000, 0);
	assert_memory_equal(&e->ebx, "KVMK", 4);
	assert_int_equal(e->eax, 0x40000010);
	e = get(c, 0x40000010, 0);
	assert_int_equal(e->eax, 2000000);
	assert_int_equal(e->ebx, VS_APIC_BUS_KHZ);
	/* host model keeps AVX2 etc. */
	assert_int_equal(get(c, 7, 0)->ebx, 0xf1bf07ab);
	free(c);
}

static void test_baseline(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	struct vs_cpuid_params p = { .model = VS_CPU_BASELINE, .ncpus = 1 };
	struct kvm_cpuid_entry2 *e;

	(void)state;
	assert_int_equal(vs_cpuid_shape(c, CAP, &p), 0);
	e = get(c, 1, 0);
	assert_false(e->ecx & (1u << 28)); /* no AVX */
	assert_false(e->ecx & (1u << 26)); /* no XSAVE */
	assert_true(e->ecx & (1u << 20)); /* SSE4.2 kept */
	assert_true(e->ecx & (1u << 23)); /* POPCNT kept */
	assert_false(e->edx & (1u << 28)); /* one CPU: no HTT */
	assert_int_equal(get(c, 7, 0)->ebx, 0);
	assert_null(get(c, 0xd, 0));
	e = get(c, 0x80000001, 0);
	assert_int_equal(e->ecx, 1);
	assert_int_equal(e->edx, (1u << 11) | (1u << 20) | (1u << 29));
	assert_null(get(c, 0x40000010, 0)); /* tsc_khz 0: no timing leaf */
	free(c);
}

static void test_no_room(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	struct vs_cpuid_params p = { .model = VS_CPU_HOST, .ncpus = 2, .tsc_khz = 1 };

	(void)state;
	assert_int_equal(vs_cpuid_shape(c, 9, &p), -ENOSPC);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_topology),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_no_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
