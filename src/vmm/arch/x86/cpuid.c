/* CPUID shaping (Intel SDM vol. 2A "CPUID"; AMD APM vol. 3 appendix E;
 * Documentation/virt/kvm/x86/cpuid.rst for the 0x4000000x leaves).
 *
 * Topology: one socket, one thread per core, ncpus cores, APIC ID = vCPU
 * index. Leaves that describe topology (1, 4, 0xB, 0x1F, 0x80000008) are
 * rewritten to say so, so guests and our test guest see a consistent
 * machine whatever the host is. */
#include "vmm/arch/x86/cpuid.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

/* leaf 1 */
#define L1_ECX_SSE3 (1u << 0)
#define L1_ECX_PCLMUL (1u << 1)
#define L1_ECX_SSSE3 (1u << 9)
#define L1_ECX_CX16 (1u << 13)
#define L1_ECX_SSE41 (1u << 19)
#define L1_ECX_SSE42 (1u << 20)
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_POPCNT (1u << 23)
#define L1_ECX_TSC_DL (1u << 24)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_HTT (1u << 28)
/* x86-64 baseline EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE
 * MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2 */
#define L1_EDX_BASELINE 0x07dbfbffu
#define L1_ECX_BASELINE                                                                           \
	(L1_ECX_SSE3 | L1_ECX_SSSE3 | L1_ECX_CX16 | L1_ECX_SSE41 | L1_ECX_SSE42 | L1_ECX_X2APIC | \
	 L1_ECX_POPCNT | L1_ECX_TSC_DL | L1_ECX_HYPERVISOR)
/* 0x80000001 */
#define E1_ECX_LAHF (1u << 0)
#define E1_EDX_SYSCALL (1u << 11)
#define E1_EDX_NX (1u << 20)
#define E1_EDX_LM (1u << 29)

#define LEAF_TOPOLOGY 0xb
#define LEAF_TOPOLOGY_V2 0x1f
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void drop_leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
	uint32_t o = 0;

	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function != fn)
			c->entries[o++] = c->entries[i];
	c->nent = o;
}

static struct kvm_cpuid_entry2 *get_or_add(struct kvm_cpuid2 *c, unsigned max, uint32_t fn,
					   uint32_t idx, uint32_t flags)
{
	struct kvm_cpuid_entry2 *e = find(c, fn, idx);

	if (e || c->nent >= max)
		return e;
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = flags;
	return e;
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static int shape_topology(struct kvm_cpuid2 *c, unsigned max, const struct vs_cpuid_params *p)
{
	struct kvm_cpuid_entry2 *e = find(c, 1, 0);
	unsigned shift = bits_for(p->ncpus);

	if (e) {
		e->ebx = (e->ebx & 0x0000ffff) | ((p->ncpus & 0xff) << 16) | (p->apic_id << 24);
		e->edx = p->ncpus > 1 ? e->edx | L1_EDX_HTT : e->edx & ~L1_EDX_HTT;
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		if (e->function == 4 && (e->eax & 0x1f))
			e->eax = (e->eax & 0x3ff) |
				 ((p->ncpus - 1) << 26); /* one thread per cache */
	}
	drop_leaf(c, LEAF_TOPOLOGY_V2);
	drop_leaf(c, LEAF_TOPOLOGY);
	for (uint32_t sub = 0; sub < 3; sub++) {
		e = get_or_add(c, max, LEAF_TOPOLOGY, sub, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
		if (!e)
			return -ENOSPC;
		e->edx = p->apic_id;
		e->ecx = sub;
		if (sub == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx |= TOPO_LEVEL_SMT << 8;
		} else if (sub == 1) {
			e->eax = shift;
			e->ebx = p->ncpus;
			e->ecx |= TOPO_LEVEL_CORE << 8;
		} else {
			e->eax = e->ebx = 0;
		}
	}
	e = find(c, 0x80000008, 0);
	if (e)
		e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | ((p->ncpus - 1) & 0xff);
	return 0;
}

static void shape_baseline(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e;

	if ((e = find(c, 1, 0))) {
		e->ecx &= L1_ECX_BASELINE;
		e->edx &= L1_EDX_BASELINE | L1_EDX_HTT;
	}
	if ((e = find(c, 7, 0)))
		e->ebx = e->ecx = e->edx = 0;
	drop_leaf(c, 0xd); /* no XSAVE/AVX in the baseline */
	if ((e = find(c, 0x80000001, 0))) {
		e->ecx &= E1_ECX_LAHF;
		e->edx &= E1_EDX_SYSCALL | E1_EDX_NX | E1_EDX_LM;
	}
}

static int shape_kvm_leaves(struct kvm_cpuid2 *c, unsigned max, const struct vs_cpuid_params *p)
{
	struct kvm_cpuid_entry2 *e = get_or_add(c, max, VS_CPUID_KVM_SIGNATURE, 0, 0);

	if (!e)
		return -ENOSPC;
	memcpy(&e->ebx, "KVMK", 4);
	memcpy(&e->ecx, "VMKV", 4);
	memcpy(&e->edx, "M\0\0\0", 4);
	e->eax = p->tsc_khz ? VS_CPUID_KVM_TIMING : VS_CPUID_KVM_FEATURES;
	if (!p->tsc_khz)
		return 0;
	e = get_or_add(c, max, VS_CPUID_KVM_TIMING, 0, 0);
	if (!e)
		return -ENOSPC;
	e->eax = p->tsc_khz;
	e->ebx = VS_APIC_BUS_KHZ;
	e->ecx = e->edx = 0;
	return 0;
}

int vs_cpuid_shape(struct kvm_cpuid2 *c, unsigned max, const struct vs_cpuid_params *p)
{
	struct kvm_cpuid_entry2 *e;
	int r;

	if (p->model == VS_CPU_BASELINE)
		shape_baseline(c);
	if ((e = find(c, 1, 0)))
		e->ecx |= L1_ECX_HYPERVISOR;
	if ((r = shape_topology(c, max, p)) < 0)
		return r;
	return shape_kvm_leaves(c, max, p);
}
