/* What a virtio-pci device needs from a VM (pci.h: struct
 * vs_virtio_pci_env), for the registry entries of virtio devices. */
#include "virtio/pci.h"
#include "vmm/accel.h"
#include "vmm/internal.h"

#include <errno.h>

static void vm_irq_line(void *ctx, unsigned gsi, int level)
{
	struct vs_vm *vm = ctx;

	vm->accel->irq_line(vm, gsi, level);
}

static void vm_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct vs_vm *vm = ctx;

	vm->accel->msi(vm, addr, data);
}

static int vm_ioeventfd(void *ctx, uint64_t addr, unsigned len, int fd, bool add)
{
	struct vs_vm *vm = ctx;
	struct vs_ioeventfd ev = { .addr = addr, .len = len, .fd = fd };

	return add ? vm->accel->ioeventfd_add(vm, &ev) : vm->accel->ioeventfd_del(vm, &ev);
}

void vs_virtio_vm_env(struct vs_vm *vm, struct vs_dma *dma, struct vs_virtio_pci_env *env)
{
	vs_vm_dma(vm, dma);
	*env = (struct vs_virtio_pci_env){ .pci = vm->pci,
					   .mmio = &vm->mmio,
					   .dma = dma,
					   .irq_line = vm_irq_line,
					   .msi = vm_msi,
					   .ioeventfd = vm_ioeventfd,
					   .ctx = vm };
}

int vs_virtio_pci_new_placed(const struct vs_virtio_pci_env *env,
			     const struct vs_virtio_dev_ops *ops, void *dev,
			     struct vs_virtio_pci **out)
{
	struct vs_virtio_pci_env e = *env;
	int r = -ENOSPC;

	if (e.bar_addr)
		return vs_virtio_pci_new(&e, ops, dev, out);
	for (unsigned i = 0; i < VS_VIRTIO_PCI_MAX_DEVICES; i++) {
		e.bar_addr = VS_VIRTIO_PCI_MMIO_BASE + (uint64_t)i * VS_VIRTIO_PCI_BAR_SIZE;
		r = vs_virtio_pci_new(&e, ops, dev, out);
		if (r != -EEXIST)
			break;
	}
	return r;
}
