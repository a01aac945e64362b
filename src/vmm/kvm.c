/* The kvm accelerator, VM side: /dev/kvm, the VM file descriptor, the
 * in-kernel irqchip and PIT, memory slots, CPUID, interrupt lines and the
 * host-capability checks. The vCPU side is kvm-vcpu.c. */
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "vmm/memory.h"
#include "vmm/sys.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define KVM_API_EXPECTED 12
#define KVM_TSS_ADDR 0xfffbd000ULL /* 3 pages Intel needs, inside the MMIO hole */
#define KVM_IDMAP_ADDR 0xfffbc000ULL

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
	{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
	{ KVM_CAP_PIT2, "PIT2" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
};

static int kvm_open(struct vs_vm *vm, struct vs_err **err)
{
	int r;

	vm->kvm_fd = vs_sys->open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENXIO || r == -ENODEV)
			return vs_err_set(
				err, r,
				"KVM is not available: /dev/kvm does not exist (load kvm_intel or kvm_amd)");
		if (r == -EACCES || r == -EPERM)
			return vs_err_set(
				err, r,
				"no permission to open /dev/kvm (join the 'kvm' group or run as root)");
		return vs_err_setsys(err, r, "cannot open /dev/kvm");
	}
	r = vs_sys_ioctl(vm->kvm_fd, KVM_GET_API_VERSION, NULL);
	if (r != KVM_API_EXPECTED)
		return vs_err_set(err, -ENOTSUP, "unsupported KVM API version %d (need %d)", r,
				  KVM_API_EXPECTED);
	for (size_t i = 0; i < VS_ARRAY_SIZE(required_caps); i++) {
		r = vs_sys_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				 (void *)(long)required_caps[i].cap);
		if (r <= 0)
			return vs_err_set(err, -ENOTSUP, "this host's KVM lacks KVM_CAP_%s",
					  required_caps[i].name);
	}
	return 0;
}

static int set_mem_regions(struct vs_vm *vm, struct vs_err **err)
{
	for (unsigned i = 0; i < vm->mem->nregions; i++) {
		const struct vs_mem_region *m = &vm->mem->regions[i];
		struct kvm_userspace_memory_region reg = {
			.slot = i,
			.guest_phys_addr = m->gpa,
			.memory_size = m->size,
			.userspace_addr = (uintptr_t)m->hva,
		};
		int r = vs_sys_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &reg);

		if (r < 0)
			return vs_err_setsys(err, r, "KVM_SET_USER_MEMORY_REGION (slot %u)", i);
	}
	return 0;
}

static int kvm_setup_vm(struct vs_vm *vm, struct vs_err **err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = KVM_IDMAP_ADDR;
	int r;

	r = vs_sys_ioctl(vm->kvm_fd, KVM_CREATE_VM, NULL);
	if (r < 0)
		return vs_err_setsys(err, r, "KVM_CREATE_VM");
	vm->vm_fd = r;
	/* Needed on Intel VT-x only; other backends may refuse, which is fine. */
	if (vs_sys_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_SET_TSS_ADDR) > 0) {
		vs_sys_ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_TSS_ADDR);
		vs_sys_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	}
	/* Memory slots before the irqchip: with the irqchip (and its internal
	 * APIC-access slot) in place, adding a slot waits for an SRCU grace
	 * period (measured 4-7 ms on our hosts, 0.15-0.5 ms in this order). */
	if ((r = set_mem_regions(vm, err)) < 0)
		return r;
	r = vs_sys_ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, NULL);
	if (r < 0)
		return vs_err_setsys(err, r, "KVM_CREATE_IRQCHIP");
	r = vs_sys_ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit);
	if (r < 0)
		return vs_err_setsys(err, r, "KVM_CREATE_PIT2");
	return 0;
}

static int kvm_vm_init(struct vs_vm *vm, struct vs_err **err)
{
	int r = kvm_open(vm, err);

	return r < 0 ? r : kvm_setup_vm(vm, err);
}

static void kvm_vm_destroy(struct vs_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}

static int kvm_supported_cpuid(struct vs_vm *vm, struct kvm_cpuid2 *cpuid, struct vs_err **err)
{
	int r = vs_sys_ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid);

	return r < 0 ? vs_err_setsys(err, r, "KVM_GET_SUPPORTED_CPUID") : 0;
}

static void kvm_irq_line(struct vs_vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	vs_sys_ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq);
}

const struct vs_accel_ops vs_accel_kvm = {
	.name = "kvm",
	.vm_init = kvm_vm_init,
	.vm_destroy = kvm_vm_destroy,
	.supported_cpuid = kvm_supported_cpuid,
	.vcpu_init = vs_kvm_vcpu_init,
	.vcpu_destroy = vs_kvm_vcpu_destroy,
	.tsc_khz = vs_kvm_tsc_khz,
	.set_cpuid = vs_kvm_set_cpuid,
	.get_regs = vs_kvm_get_regs,
	.set_regs = vs_kvm_set_regs,
	.get_sregs = vs_kvm_get_sregs,
	.set_sregs = vs_kvm_set_sregs,
	.set_fpu = vs_kvm_set_fpu,
	.set_msrs = vs_kvm_set_msrs,
	.get_lapic = vs_kvm_get_lapic,
	.set_lapic = vs_kvm_set_lapic,
	.vcpu_loop = vs_kvm_vcpu_loop,
	.vcpu_kick = vs_kvm_vcpu_kick,
	.irq_line = kvm_irq_line,
	.msi = vs_kvm_msi,
	.mem_written = vs_kvm_mem_written,
	.ioeventfd_add = vs_kvm_ioeventfd_add,
	.ioeventfd_del = vs_kvm_ioeventfd_del,
};

bool vs_host_has_hw_virt(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
		break;
	}
	fclose(f);
	return found;
}
