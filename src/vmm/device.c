/* The VM's device list and the registry lookup (device.h). */
#include "vmm/device.h"
#include "vmm/internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* devices-pc.c */
extern const struct vs_device_ops vs_dev_serial, vs_dev_rtc, vs_dev_pci_host, vs_dev_legacy;
/* devices-acpi.c */
extern const struct vs_device_ops vs_dev_acpi_pm, vs_dev_pvpanic;
/* virtio/rng.c, virtio/blk-vm.c */
extern const struct vs_device_ops vs_dev_virtio_rng, vs_dev_virtio_blk;
/* virtio/net-vm.c */
extern const struct vs_device_ops vs_dev_virtio_net;

/* The registry (STYLE "Register with tables"): every device type. */
static const struct vs_device_ops *const registry[] = {
	&vs_dev_serial,	    &vs_dev_rtc,	&vs_dev_pci_host,
	&vs_dev_legacy,	    &vs_dev_virtio_rng, &vs_dev_virtio_blk,
	&vs_dev_virtio_net, &vs_dev_acpi_pm,	&vs_dev_pvpanic,
};

const struct vs_device_ops *vs_device_type(unsigned i)
{
	return i < VS_ARRAY_SIZE(registry) ? registry[i] : NULL;
}

const struct vs_device_ops *vs_device_lookup(const char *name)
{
	for (unsigned i = 0; i < VS_ARRAY_SIZE(registry); i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

void vs_vm_device_append(struct vs_vm *vm, const struct vs_device_ops *ops, void *state)
{
	struct vs_device *d = xzalloc(sizeof(*d)), **tail;

	d->ops = ops;
	d->state = state;
	for (tail = &vm->devices; *tail; tail = &(*tail)->next)
		;
	*tail = d;
}

int vs_vm_device_add(struct vs_vm *vm, const char *name, const char *opts, struct vs_err **err)
{
	const struct vs_device_ops *ops = vs_device_lookup(name);
	void *state = NULL;
	int r;

	if (!ops)
		return vs_err_set(err, -ENOENT, "no device type '%s'", name);
	r = ops->realize(vm, opts, &state, err);
	if (r < 0)
		return r;
	vs_vm_device_append(vm, ops, state);
	return 0;
}

int vs_vm_devices_add_config(struct vs_vm *vm, struct vs_err **err)
{
	for (unsigned i = 0; i < vm->cfg.ndevices; i++) {
		char *name = xstrdup(vm->cfg.devices[i]), *opts = strchr(name, ',');
		int r;

		if (opts)
			*opts++ = '\0';
		r = vs_vm_device_add(vm, name, opts, err);
		free(name);
		if (r < 0)
			return r;
	}
	return 0;
}

void vs_vm_devices_reset(struct vs_vm *vm)
{
	for (struct vs_device *d = vm->devices; d; d = d->next)
		if (d->ops->reset)
			d->ops->reset(d->state);
}

int vs_vm_devices_pause(struct vs_vm *vm)
{
	struct vs_device *d, *u;
	int r = 0;

	for (d = vm->devices; d; d = d->next)
		if (d->ops->pause && (r = d->ops->pause(d->state)) < 0)
			break;
	if (!d)
		return 0;
	for (u = vm->devices; u != d; u = u->next)
		if (u->ops->resume)
			u->ops->resume(u->state);
	return r;
}

void vs_vm_devices_resume(struct vs_vm *vm)
{
	for (struct vs_device *d = vm->devices; d; d = d->next)
		if (d->ops->resume)
			d->ops->resume(d->state);
}

/* Last added first: a later device may use an earlier one (a PCI device
 * and the host bridge). */
static void free_from(struct vs_vm *vm, struct vs_device *d)
{
	if (!d)
		return;
	free_from(vm, d->next);
	if (d->ops->unrealize)
		d->ops->unrealize(vm, d->state);
	free(d);
}

void vs_vm_devices_free(struct vs_vm *vm)
{
	free_from(vm, vm->devices);
	vm->devices = NULL;
}
