/* Model-specific registers of the software CPU (SDM vol. 4; KVM's
 * Documentation/virt/kvm/x86/msr.rst for the kvm-clock MSRs) and the TSC.
 * Every MSR emu has is listed here; any other index is #GP(0) for the
 * guest and -EINVAL for the VMM. The MTRRs are stored, never applied
 * (guest memory is always write-back).
 *
 * Map: the TSC; reads; writes; the guest and VMM entry points. */
#include "emu/system.h"

#include <errno.h>

#define MSR_TSC 0x10
#define MSR_PLATFORM_ID 0x17
#define MSR_APIC_BASE 0x1b
#define MSR_UCODE_REV 0x8b
#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_PLATFORM_INFO 0xce
#define MSR_MTRRCAP 0xfe
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MISC_ENABLE 0x1a0
#define MSR_DEBUGCTL 0x1d9
#define MSR_MTRR_VAR0 0x200
#define MSR_MTRR_FIX64K 0x250
#define MSR_MTRR_FIX16K_80 0x258
#define MSR_MTRR_FIX16K_A0 0x259
#define MSR_MTRR_FIX4K_C0 0x268
#define MSR_MTRR_FIX4K_F8 0x26f
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define MSR_KVM_WALL_CLOCK 0x11
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

#define MTRRCAP_VALUE 0x508ULL /* 8 variable ranges, fixed ranges, write-combining */
#define EFER_VALID (EMU_EFER_SCE | EMU_EFER_LME | EMU_EFER_LMA | EMU_EFER_NXE)
#define MTRR_DEF_VALID 0xcffULL
#define MISC_ENABLE_FAST_STRINGS 1ULL
/* IA32_ARCH_CAPABILITIES (read-only, SDM vol. 4 table 2-2): emu executes
 * nothing speculatively, so it has none of the flaws these bits deny:
 * RDCL_NO (Meltdown: Linux then runs without page-table isolation, whose
 * CR3 switch at every kernel entry and exit costs emu a TLB refill),
 * SSB_NO, MDS_NO (no VERW buffer clearing at each return to user mode),
 * PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO, BHI_NO (bit 20),
 * GDS_NO, RFDS_NO and ITS_NO (bit 62: without it Linux, seeing an Intel
 * CPU under a hypervisor, sends every RET through its_return_thunk, one
 * more block per function return here). */
#define ARCH_CAP_VALUE                                                                        \
	((1ULL << 0) | (1ULL << 4) | (1ULL << 5) | (1ULL << 6) | (1ULL << 8) | (1ULL << 13) | \
	 (1ULL << 14) | (1ULL << 15) | (1ULL << 20) | (1ULL << 26) | (1ULL << 27) | (1ULL << 62))

/* ---- the TSC ----------------------------------------------------------------- */

static uint64_t tsc_now(struct emu_cpu *cpu)
{
	return emu_tsc_at(cpu->vm, emu_host_ns()) + cpu->msr.tsc_offset;
}

uint64_t emu_rdtsc(struct emu_cpu *cpu)
{
	if ((cpu->cr4 & (1ULL << 2)) && cpu->cpl > 0 && emu_prot(cpu)) /* CR4.TSD */
		emu_raise_gp(cpu, 0);
	return tsc_now(cpu);
}

/* ---- reads ------------------------------------------------------------------- */

static uint64_t *mtrr_slot(struct emu_cpu *cpu, uint32_t index)
{
	if (index >= MSR_MTRR_VAR0 && index < MSR_MTRR_VAR0 + 16)
		return &cpu->sys->mtrr_var[index - MSR_MTRR_VAR0];
	if (index == MSR_MTRR_FIX64K)
		return &cpu->sys->mtrr_fixed[0];
	if (index == MSR_MTRR_FIX16K_80 || index == MSR_MTRR_FIX16K_A0)
		return &cpu->sys->mtrr_fixed[1 + index - MSR_MTRR_FIX16K_80];
	if (index >= MSR_MTRR_FIX4K_C0 && index <= MSR_MTRR_FIX4K_F8)
		return &cpu->sys->mtrr_fixed[3 + index - MSR_MTRR_FIX4K_C0];
	return NULL;
}

/* MSRs that live in cpu->msr, by index. */
static uint64_t *plain_slot(struct emu_cpu *cpu, uint32_t index)
{
	switch (index) {
	case MSR_STAR:
		return &cpu->msr.star;
	case MSR_LSTAR:
		return &cpu->msr.lstar;
	case MSR_CSTAR:
		return &cpu->msr.cstar;
	case MSR_SFMASK:
		return &cpu->msr.sfmask;
	case MSR_KERNEL_GS_BASE:
		return &cpu->msr.kernel_gs_base;
	case MSR_TSC_AUX:
		return &cpu->msr.tsc_aux;
	case MSR_PAT:
		return &cpu->msr.pat;
	case MSR_SYSENTER_CS:
		return &cpu->msr.sysenter_cs;
	case MSR_SYSENTER_ESP:
		return &cpu->msr.sysenter_esp;
	case MSR_SYSENTER_EIP:
		return &cpu->msr.sysenter_eip;
	case MSR_MISC_ENABLE:
		return &cpu->msr.misc_enable;
	case MSR_MTRR_DEF_TYPE:
		return &cpu->msr.mtrr_def_type;
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		return &cpu->msr.kvm_wall_clock;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		return &cpu->msr.kvm_system_time;
	default:
		return mtrr_slot(cpu, index);
	}
}

static bool msr_get(struct emu_cpu *cpu, uint32_t index, uint64_t *v)
{
	uint64_t *p = plain_slot(cpu, index);

	if (p) {
		*v = *p;
		return true;
	}
	switch (index) {
	case MSR_EFER:
		*v = cpu->efer;
		return true;
	case MSR_FS_BASE:
		*v = cpu->seg[EMU_FS].base;
		return true;
	case MSR_GS_BASE:
		*v = cpu->seg[EMU_GS].base;
		return true;
	case MSR_TSC:
		*v = tsc_now(cpu);
		return true;
	case MSR_APIC_BASE:
		*v = emu_lapic_get_base(cpu->lapic);
		return true;
	case MSR_MTRRCAP:
		*v = MTRRCAP_VALUE;
		return true;
	case MSR_ARCH_CAPABILITIES:
		*v = ARCH_CAP_VALUE;
		return true;
	case MSR_PLATFORM_INFO:
		*v = (uint64_t)(cpu->vm->tsc_khz / 100000) << 8;
		return true;
	case MSR_PLATFORM_ID:
	case MSR_UCODE_REV:
	case MSR_DEBUGCTL:
		*v = 0;
		return true;
	default:
		break;
	}
	if (index == MSR_TSC_DEADLINE || (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST))
		return emu_lapic_msr_read(cpu->lapic, index, v);
	return false;
}

/* ---- writes ------------------------------------------------------------------ */

static bool pat_valid(uint64_t v)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (v >> (i * 8)) & 0xff;

		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/* EFER: LMA follows CR0.PG for the guest (the VMM sets it directly);
 * LME may not change while paging is on. */
static bool set_efer(struct emu_cpu *cpu, uint64_t v, bool host)
{
	uint64_t old = cpu->efer;

	if (v & ~EFER_VALID)
		return false;
	if (!host) {
		if (((v ^ old) & EMU_EFER_LME) && (cpu->cr0 & EMU_CR0_PG))
			return false;
		v = (v & ~EMU_EFER_LMA) | (old & EMU_EFER_LMA);
	}
	cpu->efer = v;
	if ((v ^ old) & (EMU_EFER_NXE | EMU_EFER_LMA))
		emu_tlb_flush_all(cpu);
	if ((v ^ old) & EMU_EFER_LMA)
		emu_update_mode(cpu);
	return true;
}

static bool set_special(struct emu_cpu *cpu, uint32_t index, uint64_t v, bool host)
{
	switch (index) {
	case MSR_EFER:
		return set_efer(cpu, v, host);
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		if (!emu_is_canonical(v))
			return false;
		cpu->seg[index == MSR_FS_BASE ? EMU_FS : EMU_GS].base = v;
		return true;
	case MSR_TSC:
		cpu->msr.tsc_offset = v - emu_tsc_at(cpu->vm, emu_host_ns());
		return true;
	case MSR_APIC_BASE:
		if (!emu_lapic_set_base(cpu->lapic, v))
			return false;
		cpu->msr.apic_base = emu_lapic_get_base(cpu->lapic);
		emu_tlb_flush_all(cpu); /* the LAPIC page moved or went */
		return true;
	case MSR_UCODE_REV:
	case MSR_DEBUGCTL:
		return v == 0 || index == MSR_UCODE_REV;
	default:
		break;
	}
	if (index == MSR_TSC_DEADLINE || (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST))
		return emu_lapic_msr_write(cpu->lapic, index, v);
	return false;
}

/* Checks a write to an MSR stored in cpu->msr or sys; false: #GP. */
static bool plain_valid(uint32_t index, uint64_t v)
{
	switch (index) {
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		return emu_is_canonical(v);
	case MSR_TSC_AUX:
	case MSR_SFMASK:
		return !(v >> 32);
	case MSR_PAT:
		return pat_valid(v);
	case MSR_MTRR_DEF_TYPE:
		return !(v & ~MTRR_DEF_VALID);
	default:
		return true;
	}
}

static bool msr_set(struct emu_cpu *cpu, uint32_t index, uint64_t v, bool host)
{
	uint64_t *p = plain_slot(cpu, index);

	if (!p)
		return set_special(cpu, index, v, host);
	if (!plain_valid(index, v))
		return false;
	switch (index) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (!emu_kvmclock_wrmsr(cpu, index, v))
			return false;
		break;
	case MSR_MISC_ENABLE:
		v |= MISC_ENABLE_FAST_STRINGS;
		break;
	default:
		break;
	}
	*p = v;
	return true;
}

/* ---- entry points --------------------------------------------------------------- */

uint64_t emu_rdmsr(struct emu_cpu *cpu, uint32_t index)
{
	uint64_t v;

	if (cpu->cpl != 0 || !msr_get(cpu, index, &v))
		emu_raise_gp(cpu, 0);
	return v;
}

void emu_wrmsr(struct emu_cpu *cpu, uint32_t index, uint64_t val)
{
	if (cpu->cpl != 0 || !msr_set(cpu, index, val, false))
		emu_raise_gp(cpu, 0);
}

int emu_cpu_get_msr(struct emu_cpu *cpu, uint32_t index, uint64_t *value)
{
	return msr_get(cpu, index, value) ? 0 : -EINVAL;
}

int emu_cpu_set_msr(struct emu_cpu *cpu, uint32_t index, uint64_t value)
{
	return msr_set(cpu, index, value, true) ? 0 : -EINVAL;
}
