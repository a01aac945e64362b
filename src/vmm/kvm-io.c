/* The kvm accelerator's device-facing verbs: MSI delivery (KVM_SIGNAL_MSI),
 * ioeventfds (KVM_IOEVENTFD) and the DMA hook (nothing to do: KVM reads
 * guest RAM directly, there is no decoded-code cache to drop). */
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "vmm/sys.h"

#include <errno.h>
#include <linux/kvm.h>

void vs_kvm_msi(struct vs_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = { .address_lo = (uint32_t)addr,
			       .address_hi = (uint32_t)(addr >> 32),
			       .data = data };

	vs_sys_ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
}

void vs_kvm_mem_written(struct vs_vm *vm, uint64_t gpa, uint64_t len)
{
	(void)vm;
	(void)gpa;
	(void)len;
}

static int ioeventfd(struct vs_vm *vm, const struct vs_ioeventfd *ev, bool assign)
{
	struct kvm_ioeventfd k = {
		.datamatch = ev->datamatch, .addr = ev->addr, .len = ev->len, .fd = ev->fd
	};
	int r;

	if (ev->flags & VS_IOEVENTFD_PIO)
		k.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (ev->flags & VS_IOEVENTFD_DATAMATCH)
		k.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (!assign)
		k.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	r = vs_sys_ioctl(vm->vm_fd, KVM_IOEVENTFD, &k);
	return r < 0 ? r : 0;
}

int vs_kvm_ioeventfd_add(struct vs_vm *vm, const struct vs_ioeventfd *ev)
{
	return ioeventfd(vm, ev, true);
}

int vs_kvm_ioeventfd_del(struct vs_vm *vm, const struct vs_ioeventfd *ev)
{
	return ioeventfd(vm, ev, false);
}
