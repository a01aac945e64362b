/* CPUID of the software CPU: one coherent model (vendor GenuineIntel,
 * family 6, a model number no Intel CPU has) that advertises only what emu
 * implements, in KVM_GET_SUPPORTED_CPUID's form so the VMM shapes it the
 * same way for either accelerator (vmm/arch/x86/cpuid.c adds topology and
 * the hypervisor bit). Intel SDM vol. 2A "CPUID"; KVM's cpuid.rst. */
#include "emu/simd.h"
#include "emu/system.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>

/* leaf 1 */
/* family 6, model 0x23 (extended model 2, model 3), stepping 1. Family 6
 * because Linux (6.1 intel.c) sets its synthetic REP_GOOD for family 6 only,
 * and without it clear_user, copy_page and memset run loops of 8-byte moves
 * instead of emu's bulk REP STOS/MOVS; model 0x23 because it is named in no
 * model table of Linux's (errata, vulnerability lists, PMU, idle, TSC, MSR
 * probes), so no model-specific path is taken, and is >= 15, so PAT is kept */
#define L1_EAX_SIGNATURE 0x00020631u
#define L1_EBX_CLFLUSH_8 (8u << 8) /* 64-byte lines */
#define L1_ECX_CX16 (1u << 13)
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_MOVBE (1u << 22)
#define L1_ECX_POPCNT (1u << 23)
#define L1_ECX_TSC_DL (1u << 24)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27) /* reflects CR4.OSXSAVE */
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_FPU (1u << 0)
#define L1_EDX_DE (1u << 2)
#define L1_EDX_PSE (1u << 3)
#define L1_EDX_TSC (1u << 4)
#define L1_EDX_MSR (1u << 5)
#define L1_EDX_PAE (1u << 6)
#define L1_EDX_CX8 (1u << 8)
#define L1_EDX_APIC (1u << 9)
#define L1_EDX_SEP (1u << 11)
#define L1_EDX_MTRR (1u << 12)
#define L1_EDX_PGE (1u << 13)
#define L1_EDX_CMOV (1u << 15)
#define L1_EDX_PAT (1u << 16)
#define L1_EDX_CLFSH (1u << 19)
#define L1_EDX_FXSR (1u << 24)
#define L1_ECX                                                                        \
	(L1_ECX_CX16 | L1_ECX_X2APIC | L1_ECX_MOVBE | L1_ECX_POPCNT | L1_ECX_TSC_DL | \
	 L1_ECX_XSAVE | L1_ECX_HYPERVISOR)
#define L1_EDX                                                                                     \
	(L1_EDX_FPU | L1_EDX_DE | L1_EDX_PSE | L1_EDX_TSC | L1_EDX_MSR | L1_EDX_PAE | L1_EDX_CX8 | \
	 L1_EDX_APIC | L1_EDX_SEP | L1_EDX_MTRR | L1_EDX_PGE | L1_EDX_CMOV | L1_EDX_PAT |          \
	 L1_EDX_CLFSH | L1_EDX_FXSR)
/* leaf 7: FCS/FDS are stored as 0 (FNSTENV, FXSAVE); REP MOVSB/STOSB are
 * fast (ERMS) also for short strings (FSRM): exec-string.c runs them as
 * bulk memcpy/memset over guest RAM, so Linux's copy/clear_user and
 * glibc's string functions take them instead of loops of moves */
#define L7_EBX_ERMS (1u << 9)
#define L7_EBX_FPU_CSDS_DEPRECATED (1u << 13)
#define L7_EDX_FSRM (1u << 4)
/* IA32_ARCH_CAPABILITIES exists (msr.c): it says which speculative-
 * execution flaws this CPU does not have, and an interpreter has none */
#define L7_EDX_ARCH_CAPABILITIES (1u << 29)
/* leaf 0xD: XSAVE of x87 + SSE, standard format only; XSAVEOPT */
#define LD_XCR0 3u
#define LD_SIZE 576u
#define LD1_EAX_XSAVEOPT (1u << 0)
#define L6_EAX_ARAT (1u << 2) /* the LAPIC timer runs in every C-state */
/* 0x80000001 */
#define E1_ECX_LAHF (1u << 0)
#define E1_ECX_ABM (1u << 5) /* LZCNT */
#define E1_EDX_SYSCALL (1u << 11)
#define E1_EDX_NX (1u << 20)
#define E1_EDX_1GB (1u << 26)
#define E1_EDX_RDTSCP (1u << 27)
#define E1_EDX_LM (1u << 29)
#define E1_ECX (E1_ECX_LAHF | E1_ECX_ABM)
#define E1_EDX (E1_EDX_SYSCALL | E1_EDX_NX | E1_EDX_1GB | E1_EDX_RDTSCP | E1_EDX_LM)
#define E7_EDX_INVTSC (1u << 8)
#define E8_EAX_ADDR (EMU_PHYS_BITS | (48u << 8))
/* KVM paravirt features: kvm-clock through both MSR pairs */
#define KVM_FEAT_CLOCKSOURCE (1u << 0)
#define KVM_FEAT_CLOCKSOURCE2 (1u << 3)
/* the pvclock pages' TSC_STABLE flag may be trusted: every vCPU's TSC is the
 * same function of the host's CLOCK_MONOTONIC (time.c), so Linux keeps a
 * stable sched_clock instead of reporting "Unstable clock detected" */
#define KVM_FEAT_CLOCKSOURCE_STABLE (1u << 24)

#define MAX_BASIC 0xd
#define MAX_EXT 0x80000008u
#define MAX_ENTRIES 256

static void regs4(struct kvm_cpuid_entry2 *e, uint32_t fn, uint32_t a, uint32_t b, uint32_t c,
		  uint32_t d)
{
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->eax = a;
	e->ebx = b;
	e->ecx = c;
	e->edx = d;
}

static void str4(struct kvm_cpuid_entry2 *e, uint32_t fn, const char *s16)
{
	uint32_t r[4];

	memcpy(r, s16, 16);
	regs4(e, fn, r[0], r[1], r[2], r[3]);
}

/* Fills the table; returns the number of entries (at most MAX_FILL). */
#define MAX_FILL 20
static unsigned fill(struct kvm_cpuid_entry2 *e)
{
	static const char brand[49] = "vessel emu x86-64 CPU                           ";
	uint32_t v[3];
	unsigned n = 0;

	memcpy(v, "GenuntelineI", 12);
	regs4(&e[n++], 0, MAX_BASIC, v[0], v[1], v[2]);
	regs4(&e[n++], 1, L1_EAX_SIGNATURE, L1_EBX_CLFLUSH_8, L1_ECX | emu_sse_cpuid_ecx(),
	      L1_EDX | emu_sse_cpuid_edx()); /* SSE bits: simd.c */
	regs4(&e[n++], 6, L6_EAX_ARAT, 0, 0, 0);
	regs4(&e[n], 7, 0, L7_EBX_ERMS | L7_EBX_FPU_CSDS_DEPRECATED, 0,
	      L7_EDX_FSRM | L7_EDX_ARCH_CAPABILITIES);
	e[n++].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	regs4(&e[n], 0xd, LD_XCR0, LD_SIZE, LD_SIZE, 0);
	e[n++].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	regs4(&e[n], 0xd, LD1_EAX_XSAVEOPT, 0, 0, 0);
	e[n].index = 1;
	e[n++].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	memcpy(v, "KVMKVMKVM\0\0\0", 12);
	regs4(&e[n++], 0x40000000, 0x40000001, v[0], v[1], v[2]);
	regs4(&e[n++], 0x40000001,
	      KVM_FEAT_CLOCKSOURCE | KVM_FEAT_CLOCKSOURCE2 | KVM_FEAT_CLOCKSOURCE_STABLE, 0, 0, 0);
	regs4(&e[n++], 0x80000000, MAX_EXT, 0, 0, 0);
	regs4(&e[n++], 0x80000001, 0, 0, E1_ECX, E1_EDX);
	for (unsigned i = 0; i < 3; i++)
		str4(&e[n++], 0x80000002 + i, brand + 16 * i);
	regs4(&e[n++], 0x80000007, 0, 0, 0, E7_EDX_INVTSC);
	regs4(&e[n++], 0x80000008, E8_EAX_ADDR, 0, 0, 0);
	return n;
}

int emu_supported_cpuid(struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 e[MAX_FILL];
	unsigned n = fill(e);

	if (cpuid->nent < n) {
		cpuid->nent = n;
		return -E2BIG;
	}
	memcpy(cpuid->entries, e, n * sizeof(e[0]));
	cpuid->nent = n;
	return 0;
}

int emu_cpu_set_cpuid(struct emu_cpu *cpu, const struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 *copy;

	if (cpuid->nent > MAX_ENTRIES)
		return -E2BIG;
	copy = xmalloc((cpuid->nent ? cpuid->nent : 1) * sizeof(*copy));
	memcpy(copy, cpuid->entries, cpuid->nent * sizeof(*copy));
	free(cpu->cpuid);
	cpu->cpuid = copy;
	cpu->ncpuid = cpuid->nent;
	return 0;
}

void emu_cpu_default_cpuid(struct emu_cpu *cpu)
{
	struct kvm_cpuid_entry2 *e = xzalloc(MAX_FILL * sizeof(*e));
	unsigned n = fill(e);

	for (unsigned i = 0; i < n; i++)
		if (e[i].function == 1)
			e[i].ebx |= (cpu->index << 24) | ((cpu->vm->cfg.ncpus & 0xff) << 16);
	free(cpu->cpuid);
	cpu->cpuid = e;
	cpu->ncpuid = n;
}

void emu_cpuid(struct emu_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	for (unsigned i = 0; i < cpu->ncpuid; i++) {
		const struct kvm_cpuid_entry2 *e = &cpu->cpuid[i];

		if (e->function != leaf)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != subleaf)
			continue;
		out[0] = e->eax;
		out[1] = e->ebx;
		out[2] = e->ecx;
		out[3] = e->edx;
		if (leaf == 1 && (out[2] & L1_ECX_XSAVE))
			out[2] = (out[2] & ~L1_ECX_OSXSAVE) |
				 (cpu->cr4 & EMU_CR4_OSXSAVE ? L1_ECX_OSXSAVE : 0);
		return;
	}
	out[0] = out[1] = out[2] = out[3] = 0; /* leaves we do not have read as zero */
}
