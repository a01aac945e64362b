/* vCPUs for any accelerator (vmm/accel.h): creation with a shaped CPUID,
 * the 64-bit boot state of the BSP (boot.rst "64-bit boot protocol": flat 4 GiB identity map, __BOOT_CS
 * = 0x10, __BOOT_DS = 0x18, RSI = zero page), boot MSRs, and the run loop
 * each vCPU thread executes.
 *
 * Map: create/destroy - boot state (GDT, page tables, sregs, regs, FPU,
 * MSRs, LAPIC LINTs) - I/O dispatch, crash report - thread. */
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "vmm/arch/x86/layout.h"
#include "vmm/memory.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GDT_NULL 0x0000000000000000ULL
#define GDT_CODE64 0x00af9b000000ffffULL /* __BOOT_CS: L=1, P, DPL0, exec/read */
#define GDT_DATA 0x00cf93000000ffffULL /* __BOOT_DS: G, D/B, P, read/write */
#define GDT_TSS 0x00008b0000000067ULL /* busy 64-bit TSS, limit 0x67 */
#define SEL_CS 0x10
#define SEL_DS 0x18
#define SEL_TSS 0x20
#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL
#define CR0_PE 0x1ULL
#define CR0_ET 0x10ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL
#define RFLAGS_RESERVED 0x2ULL
#define FPU_FCW_RESET 0x37f
#define MXCSR_RESET 0x1f80

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MISC_ENABLE_FAST_STRING 0x1ULL
#define MTRR_ENABLE_WB ((1ULL << 11) | 6)
#define PAT_RESET 0x0007040600070406ULL

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

int vs_vcpu_create(struct vs_vm *vm, struct vs_vcpu *vcpu, unsigned id, struct vs_err **err)
{
	size_t csize = sizeof(struct kvm_cpuid2) + vm->cpuid_max * sizeof(struct kvm_cpuid_entry2);
	_cleanup_free_ struct kvm_cpuid2 *cpuid = xmalloc(csize);
	struct vs_cpuid_params p = { .model = vm->cfg.cpu_model,
				     .ncpus = vm->cfg.cpus,
				     .apic_id = id };
	int r;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = -1;
	if ((r = vm->accel->vcpu_init(vcpu, err)) < 0)
		return r;
	p.tsc_khz = vm->accel->tsc_khz(vcpu);
	memcpy(cpuid, vm->cpuid, csize);
	r = vs_cpuid_shape(cpuid, vm->cpuid_max, &p);
	if (r == 0)
		r = vm->accel->set_cpuid(vcpu, cpuid);
	if (r < 0)
		return vs_err_setsys(err, r, "setting CPUID of vCPU %u", id);
	return 0;
}

void vs_vcpu_destroy(struct vs_vcpu *vcpu)
{
	if (vcpu->vm)
		vcpu->vm->accel->vcpu_destroy(vcpu);
}

/* GDT and a 4 GiB identity map with 2 MiB pages, in low guest memory. */
static int write_boot_tables(struct vs_guest_mem *mem)
{
	static const uint64_t gdt[] = { GDT_NULL, GDT_NULL, GDT_CODE64, GDT_DATA, GDT_TSS, 0 };
	uint64_t *pml4 = vs_guest_mem_ptr(mem, VS_X86_PML4, 4096);
	uint64_t *pdpt = vs_guest_mem_ptr(mem, VS_X86_PDPT, 4096);
	uint64_t *pd = vs_guest_mem_ptr(mem, VS_X86_PD, 4 * 4096);
	void *g = vs_guest_mem_ptr(mem, VS_X86_GDT_ADDR, sizeof(gdt));

	if (!pml4 || !pdpt || !pd || !g)
		return -ENOMEM;
	memcpy(g, gdt, sizeof(gdt));
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = VS_X86_PDPT | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (VS_X86_PD + i * 4096) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type, bool code)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

static int set_boot_sregs(struct vs_vcpu *vcpu)
{
	const struct vs_accel_ops *a = vcpu->vm->accel;
	struct kvm_sregs s;
	int r = a->get_sregs(vcpu, &s);

	if (r < 0)
		return r;
	s.cs = flat_segment(SEL_CS, 0xb, true);
	s.ds = s.es = s.fs = s.gs = s.ss = flat_segment(SEL_DS, 0x3, false);
	s.tr = (struct kvm_segment){ .selector = SEL_TSS, .limit = 0x67, .type = 0xb, .present = 1 };
	s.gdt.base = VS_X86_GDT_ADDR;
	s.gdt.limit = 6 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr3 = VS_X86_PML4;
	s.cr4 = CR4_PAE;
	s.cr0 = CR0_PE | CR0_ET | CR0_PG;
	s.efer = EFER_LME | EFER_LMA;
	return a->set_sregs(vcpu, &s);
}

static int set_boot_msrs(struct vs_vcpu *vcpu)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} boot[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WB },
		{ MSR_IA32_PAT, PAT_RESET },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[VS_ARRAY_SIZE(boot)];
	} m = { .hdr.nmsrs = VS_ARRAY_SIZE(boot) };
	int r;

	for (size_t i = 0; i < VS_ARRAY_SIZE(boot); i++) {
		m.e[i].index = boot[i].index;
		m.e[i].data = boot[i].value;
	}
	r = vcpu->vm->accel->set_msrs(vcpu, &m.hdr);
	if (r >= 0 && r < (int)VS_ARRAY_SIZE(boot))
		vs_debug("vCPU %u: %s refused MSR 0x%x", vcpu->id, vcpu->vm->accel->name,
			 boot[r].index);
	return r < 0 ? r : 0;
}

/* LINT0 as ExtINT (the PIC's virtual wire) and LINT1 as NMI, as firmware leaves them. */
static int set_lapic_lints(struct vs_vcpu *vcpu)
{
	const struct vs_accel_ops *a = vcpu->vm->accel;
	struct kvm_lapic_state l;
	uint32_t v;
	int r = a->get_lapic(vcpu, &l);

	if (r < 0)
		return r;
	memcpy(&v, &l.regs[APIC_LVT_LINT0], 4);
	v = (v & ~0x700u) | (APIC_MODE_EXTINT << 8);
	memcpy(&l.regs[APIC_LVT_LINT0], &v, 4);
	memcpy(&v, &l.regs[APIC_LVT_LINT1], 4);
	v = (v & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(&l.regs[APIC_LVT_LINT1], &v, 4);
	return a->set_lapic(vcpu, &l);
}

int vs_vcpu_setup_boot(struct vs_vcpu *vcpu, const struct vs_boot_plan *plan, struct vs_err **err)
{
	struct kvm_regs regs = { .rip = plan->entry,
				 .rsi = plan->zero_page,
				 .rflags = RFLAGS_RESERVED,
				 .rsp = VS_X86_BOOT_STACK,
				 .rbp = VS_X86_BOOT_STACK };
	struct kvm_fpu fpu = { .fcw = FPU_FCW_RESET, .mxcsr = MXCSR_RESET };
	const struct vs_accel_ops *a = vcpu->vm->accel;
	int r;

	if ((r = set_lapic_lints(vcpu)) < 0)
		return vs_err_setsys(err, r, "vCPU %u: setting LAPIC LINT0/1", vcpu->id);
	if ((r = set_boot_msrs(vcpu)) < 0)
		return vs_err_setsys(err, r, "vCPU %u: setting boot MSRs", vcpu->id);
	if (vcpu->id != 0)
		return 0; /* APs wait for INIT-SIPI-SIPI */
	if ((r = write_boot_tables(vcpu->vm->mem)) < 0)
		return vs_err_set(err, r, "guest memory too small for the boot page tables");
	if ((r = set_boot_sregs(vcpu)) < 0)
		return vs_err_setsys(err, r, "vCPU 0: setting segment registers");
	if ((r = a->set_fpu(vcpu, &fpu)) < 0)
		return vs_err_setsys(err, r, "vCPU 0: setting FPU state");
	if ((r = a->set_regs(vcpu, &regs)) < 0)
		return vs_err_setsys(err, r, "vCPU 0: setting registers");
	return 0;
}

void vs_vcpu_pio(struct vs_vcpu *vcpu, uint16_t port, bool write, void *data, unsigned size)
{
	if (!vs_iobus_access(&vcpu->vm->pio, port, write, data, size))
		vs_debug("vCPU %u: unhandled port %s 0x%x", vcpu->id, write ? "write" : "read",
			 port);
}

void vs_vcpu_mmio(struct vs_vcpu *vcpu, uint64_t gpa, bool write, void *data, unsigned size)
{
	if (!vs_iobus_access(&vcpu->vm->mmio, gpa, write, data, size))
		vs_debug("vCPU %u: unhandled MMIO %s 0x%llx", vcpu->id, write ? "write" : "read",
			 (unsigned long long)gpa);
}

void vs_vcpu_crash(struct vs_vcpu *vcpu, const char *what)
{
	struct kvm_regs regs = { 0 };
	char detail[200];

	vcpu->vm->accel->get_regs(vcpu, &regs);
	snprintf(detail, sizeof(detail), "%s on vCPU %u at rip=0x%llx", what, vcpu->id,
		 (unsigned long long)regs.rip);
	vs_vm_request_stop(vcpu->vm, VS_STOP_CRASH, 0, detail);
}

void *vs_vcpu_thread(void *arg)
{
	struct vs_vcpu *vcpu = arg;

	if (vcpu->id == 0 && vcpu->vm->cfg.trace_boot)
		fprintf(stderr, "vessel-trace: first-%s-run %llu\n", vcpu->vm->accel->name,
			(unsigned long long)vs_now_ns());
	vcpu->vm->accel->vcpu_loop(vcpu);
	return NULL;
}
