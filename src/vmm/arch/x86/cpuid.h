/* The guest's CPUID: start from what KVM supports, then shape it into a
 * coherent CPU (topology for N vCPUs, the KVM paravirt leaves, a
 * hypervisor bit) and, for --cpu-model baseline, mask it down to the
 * portable x86-64-v2 feature set. */
#ifndef VS_VMM_ARCH_X86_CPUID_H
#define VS_VMM_ARCH_X86_CPUID_H

#include <stdint.h>

struct kvm_cpuid2;

enum vs_cpu_model { VS_CPU_HOST, VS_CPU_BASELINE };

#define VS_CPUID_KVM_SIGNATURE 0x40000000
#define VS_CPUID_KVM_FEATURES 0x40000001
#define VS_CPUID_KVM_TIMING 0x40000010 /* EAX: TSC kHz, EBX: APIC bus kHz */
#define VS_APIC_BUS_KHZ 1000000 /* KVM's LAPIC timer runs at 1 GHz */

struct vs_cpuid_params {
	enum vs_cpu_model model;
	unsigned ncpus;
	unsigned apic_id; /* this vCPU */
	uint32_t tsc_khz; /* 0: leave leaf 0x40000010 out */
};

/* Rewrites cpuid (capacity max entries) in place for one vCPU. Returns 0 or
 * -ENOSPC when an added leaf does not fit. */
int vs_cpuid_shape(struct kvm_cpuid2 *cpuid, unsigned max, const struct vs_cpuid_params *p);

#endif
