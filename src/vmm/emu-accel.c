/* The emu accelerator: vessel's software CPU (src/emu) behind the
 * accelerator interface. Guest RAM is the same memfd mapping kvm would
 * use; port I/O and MMIO the emu's own interrupt controllers do not claim
 * come back here and go to the VM's buses, on the vCPU's thread. */
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "vmm/memory.h"
#include "vmm/ioevent.h"
#include "emu/emu.h"
#include "common/err.h"
#include "common/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void emu_pio(void *ctx, unsigned cpu, uint16_t port, bool write, void *data, unsigned size)
{
	struct vs_vm *vm = ctx;

	if (write && vs_ioevent_signal(vm->ioevents, true, port, data, size))
		return;
	vs_vcpu_pio(&vm->vcpus[cpu], port, write, data, size);
}

static void emu_mmio(void *ctx, unsigned cpu, uint64_t gpa, bool write, void *data, unsigned size)
{
	struct vs_vm *vm = ctx;

	if (write && vs_ioevent_signal(vm->ioevents, false, gpa, data, size))
		return;
	vs_vcpu_mmio(&vm->vcpus[cpu], gpa, write, data, size);
}

static const struct emu_io_ops io_ops = { .pio = emu_pio, .mmio = emu_mmio };

static int ea_vm_init(struct vs_vm *vm, struct vs_err **err)
{
	struct emu_ram_region ram[VS_ARRAY_SIZE(vm->mem->regions)];
	struct emu_vm_config cfg = { .ncpus = vm->cfg.cpus,
				     .ram = ram,
				     .nram = vm->mem->nregions,
				     .io = &io_ops,
				     .io_ctx = vm };
	int r;

	for (unsigned i = 0; i < vm->mem->nregions; i++)
		ram[i] = (struct emu_ram_region){ .gpa = vm->mem->regions[i].gpa,
						  .size = vm->mem->regions[i].size,
						  .hva = vm->mem->regions[i].hva };
	r = emu_vm_new(&cfg, &vm->emu);
	if (r < 0)
		return vs_err_setsys(err, r, "creating the software CPU");
	return vs_ioevent_table_new(&vm->ioevents);
}

static void ea_vm_destroy(struct vs_vm *vm)
{
	emu_vm_free(vm->emu);
	vm->emu = NULL;
	vs_ioevent_table_free(vm->ioevents);
	vm->ioevents = NULL;
}

static int ea_supported_cpuid(struct vs_vm *vm, struct kvm_cpuid2 *cpuid, struct vs_err **err)
{
	int r = emu_supported_cpuid(cpuid);

	(void)vm;
	return r < 0 ? vs_err_setsys(err, r, "the software CPU's CPUID table") : 0;
}

static int ea_vcpu_init(struct vs_vcpu *vcpu, struct vs_err **err)
{
	const char *prof = getenv("VESSEL_EMU_PROFILE");

	vcpu->emu = emu_vm_cpu(vcpu->vm->emu, vcpu->id);
	if (!vcpu->emu)
		return vs_err_set(err, -EINVAL, "no software vCPU %u", vcpu->id);
	if (prof && *prof && emu_cpu_set_profile(vcpu->emu, true) < 0)
		return vs_err_set(err, -ENOMEM, "VESSEL_EMU_PROFILE: no memory for the profile");
	return 0;
}

static void ea_vcpu_destroy(struct vs_vcpu *vcpu)
{
	vcpu->emu = NULL; /* owned by the emu VM */
}

static uint32_t ea_tsc_khz(struct vs_vcpu *vcpu)
{
	(void)vcpu;
	return EMU_TSC_KHZ_DEFAULT;
}

static int ea_set_cpuid(struct vs_vcpu *vcpu, struct kvm_cpuid2 *cpuid)
{
	return emu_cpu_set_cpuid(vcpu->emu, cpuid);
}

static int ea_get_regs(struct vs_vcpu *vcpu, struct kvm_regs *regs)
{
	emu_cpu_get_regs(vcpu->emu, regs);
	return 0;
}

static int ea_set_regs(struct vs_vcpu *vcpu, const struct kvm_regs *regs)
{
	emu_cpu_set_regs(vcpu->emu, regs);
	return 0;
}

static int ea_get_sregs(struct vs_vcpu *vcpu, struct kvm_sregs *sregs)
{
	emu_cpu_get_sregs(vcpu->emu, sregs);
	return 0;
}

static int ea_set_sregs(struct vs_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	return emu_cpu_set_sregs(vcpu->emu, sregs);
}

static int ea_set_fpu(struct vs_vcpu *vcpu, const struct kvm_fpu *fpu)
{
	return emu_cpu_set_fpu(vcpu->emu, fpu);
}

static int ea_set_msrs(struct vs_vcpu *vcpu, const struct kvm_msrs *msrs)
{
	uint32_t i;

	for (i = 0; i < msrs->nmsrs; i++)
		if (emu_cpu_set_msr(vcpu->emu, msrs->entries[i].index, msrs->entries[i].data) < 0)
			break;
	return (int)i;
}

static int ea_get_lapic(struct vs_vcpu *vcpu, struct kvm_lapic_state *lapic)
{
	emu_cpu_get_lapic(vcpu->emu, lapic);
	return 0;
}

static int ea_set_lapic(struct vs_vcpu *vcpu, const struct kvm_lapic_state *lapic)
{
	emu_cpu_set_lapic(vcpu->emu, lapic);
	return 0;
}

/* VESSEL_EMU_STATS=1: one line per vCPU when it stops (bench/emu.sh,
 * bench/linux-boot.py, docs/emu.md "Where the boot time goes"). */
static void print_stats(struct vs_vcpu *vcpu)
{
	struct emu_stats s;
	double all;

	if (!getenv("VESSEL_EMU_STATS"))
		return;
	emu_cpu_get_stats(vcpu->emu, &s);
	all = s.insns ? (double)s.insns : 1;
	fprintf(stderr,
		"vessel: emu stats: cpu%u insns %llu (CPL3 %.1f%%) blocks run %llu, built %llu "
		"(%llu with host code; per-vCPU cache hit %.2f%%; linked in host code %.1f%%), "
		"flushed %llu, pio %llu, "
		"mmio %llu, hlt %llu (%.2f s asleep), irqs %llu\n",
		vcpu->id, (unsigned long long)s.insns, 100.0 * (double)s.insns_user / all,
		(unsigned long long)s.blocks_run, (unsigned long long)s.blocks_built,
		(unsigned long long)s.blocks_jit,
		s.blocks_run ? 100.0 - 100.0 * (double)s.lookups_slow / (double)s.blocks_run : 0,
		s.blocks_run ? 100.0 - 100.0 * (double)s.dispatches / (double)s.blocks_run : 0,
		(unsigned long long)s.blocks_flushed, (unsigned long long)s.pio,
		(unsigned long long)s.mmio, (unsigned long long)s.halts, (double)s.halt_ns / 1e9,
		(unsigned long long)s.irqs);
}

/* VESSEL_EMU_PROFILE=FILE: emu counts instructions per handler and per
 * guest block; each vCPU appends its tables to FILE when it stops, one
 * entry a line: "handler CPU OBJECT OFFSET COUNT" (OFFSET from OBJECT's
 * load address, for addr2line) and "guest CPU RIP COUNT" (RIP or "other"). */
enum { PROF_MAX = EMU_PROF_RIP_SLOTS + 1 };

static void write_profile(FILE *f, struct vs_vcpu *vcpu, struct emu_prof_entry *e)
{
	size_t n = emu_cpu_profile(vcpu->emu, EMU_PROF_HANDLERS, e, PROF_MAX);
	Dl_info di;

	for (size_t i = 0; i < n; i++) {
		if (e[i].key == EMU_PROF_OTHER || !dladdr((void *)(uintptr_t)e[i].key, &di))
			fprintf(f, "handler %u ? other %llu\n", vcpu->id,
				(unsigned long long)e[i].count);
		else
			fprintf(f, "handler %u %s 0x%llx %llu\n", vcpu->id, di.dli_fname,
				(unsigned long long)(e[i].key - (uintptr_t)di.dli_fbase),
				(unsigned long long)e[i].count);
	}
	n = emu_cpu_profile(vcpu->emu, EMU_PROF_GUEST_RIPS, e, PROF_MAX);
	for (size_t i = 0; i < n; i++) {
		if (e[i].key == EMU_PROF_OTHER)
			fprintf(f, "guest %u other %llu\n", vcpu->id,
				(unsigned long long)e[i].count);
		else
			fprintf(f, "guest %u 0x%llx %llu\n", vcpu->id, (unsigned long long)e[i].key,
				(unsigned long long)e[i].count);
	}
}

static void dump_profile(struct vs_vcpu *vcpu)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const char *path = getenv("VESSEL_EMU_PROFILE");
	struct emu_prof_entry *e;
	FILE *f;

	if (!path || !*path)
		return;
	e = calloc(PROF_MAX, sizeof(*e));
	pthread_mutex_lock(&lock);
	f = e ? fopen(path, "ae") : NULL;
	if (f) {
		write_profile(f, vcpu, e);
		fclose(f);
	} else {
		fprintf(stderr, "vessel: VESSEL_EMU_PROFILE %s: cannot write the profile\n", path);
	}
	pthread_mutex_unlock(&lock);
	free(e);
}

static void ea_vcpu_loop_run(struct vs_vcpu *vcpu)
{
	struct vs_vm *vm = vcpu->vm;
	struct emu_exit ex;
	char what[200];

	while (!atomic_load(&vm->stopping)) {
		emu_cpu_run(vcpu->emu, &ex);
		switch (ex.reason) {
		case EMU_EXIT_KICK:
			vs_vcpu_pause_point(vcpu);
			continue;
		case EMU_EXIT_SHUTDOWN:
			snprintf(what, sizeof(what), "guest triple fault (%s)", ex.detail);
			vs_vcpu_crash(vcpu, what);
			return;
		case EMU_EXIT_EXCEPTION:
			snprintf(what, sizeof(what), "unexpected exception exit (vector %u)",
				 ex.vector);
			vs_vcpu_crash(vcpu, what);
			return;
		case EMU_EXIT_ERROR:
			snprintf(what, sizeof(what), "software CPU error: %s", ex.detail);
			vs_vcpu_crash(vcpu, what);
			return;
		}
	}
}

static void ea_vcpu_loop(struct vs_vcpu *vcpu)
{
	ea_vcpu_loop_run(vcpu);
	print_stats(vcpu);
	dump_profile(vcpu);
}

static void ea_vcpu_kick(struct vs_vcpu *vcpu)
{
	if (vcpu->emu)
		emu_cpu_kick(vcpu->emu);
}

static void ea_irq_line(struct vs_vm *vm, unsigned gsi, int level)
{
	emu_set_irq(vm->emu, gsi, level);
}

static void ea_msi(struct vs_vm *vm, uint64_t addr, uint32_t data)
{
	emu_msi(vm->emu, addr, data);
}

/* Device DMA: drop the software CPU's decoded code for those bytes. */
static void ea_mem_written(struct vs_vm *vm, uint64_t gpa, uint64_t len)
{
	emu_vm_mem_written(vm->emu, gpa, len);
}

static int ea_ioeventfd_add(struct vs_vm *vm, const struct vs_ioeventfd *ev)
{
	return vs_ioevent_add(vm->ioevents, ev);
}

static int ea_ioeventfd_del(struct vs_vm *vm, const struct vs_ioeventfd *ev)
{
	return vs_ioevent_del(vm->ioevents, ev);
}

const struct vs_accel_ops vs_accel_emu = {
	.name = "emu",
	.vm_init = ea_vm_init,
	.vm_destroy = ea_vm_destroy,
	.supported_cpuid = ea_supported_cpuid,
	.vcpu_init = ea_vcpu_init,
	.vcpu_destroy = ea_vcpu_destroy,
	.tsc_khz = ea_tsc_khz,
	.set_cpuid = ea_set_cpuid,
	.get_regs = ea_get_regs,
	.set_regs = ea_set_regs,
	.get_sregs = ea_get_sregs,
	.set_sregs = ea_set_sregs,
	.set_fpu = ea_set_fpu,
	.set_msrs = ea_set_msrs,
	.get_lapic = ea_get_lapic,
	.set_lapic = ea_set_lapic,
	.vcpu_loop = ea_vcpu_loop,
	.vcpu_kick = ea_vcpu_kick,
	.irq_line = ea_irq_line,
	.msi = ea_msi,
	.mem_written = ea_mem_written,
	.ioeventfd_add = ea_ioeventfd_add,
	.ioeventfd_del = ea_ioeventfd_del,
};
