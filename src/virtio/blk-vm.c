/* virtio-blk on a VM: the registry entry ("--device virtio-blk,PATH[,ro]
 * [,format=raw|qcow2|vdi|vmdk|vhdx][,cache=MODE][,aio=ENGINE]") and the VM's
 * --disk list (blk.h). */
#include "block/block.h"
#include "virtio/blk.h"
#include "virtio/pci.h"
#include "vmm/device.h"
#include "vmm/internal.h"
#include "vmm/spec.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int realize_disk(struct vs_vm *vm, const struct vs_vm_disk *d, void **state,
			struct vs_err **err)
{
	struct vs_dma dma;
	struct vs_virtio_pci_env env;
	struct vs_virtio_blk *blk;
	int r;

	if (!vm->pci)
		return vs_err_set(err, -ENODEV, "virtio-blk: the VM has no PCI bus");
	vs_virtio_vm_env(vm, &dma, &env);
	r = vs_virtio_blk_new(&env, d, &blk, err);
	if (r < 0)
		return r;
	*state = blk;
	return 0;
}

/* PATH[,ro][,format=raw|qcow2|vdi|vmdk|vhdx][,cache=MODE][,aio=ENGINE], the
 * --disk grammar. */
static int parse(char *opts, struct vs_vm_disk *d, struct vs_err **err)
{
	char *save = NULL, *t;
	int c;

	d->path = strtok_r(opts, ",", &save);
	if (!d->path)
		return vs_err_set(err, -EINVAL,
				  "virtio-blk: a path is needed (PATH[,ro][,format=F])");
	while ((t = strtok_r(NULL, ",", &save))) {
		if (!strcmp(t, "ro") || !strcmp(t, "readonly"))
			d->ro = true;
		else if (!strncmp(t, "format=", 7) && vs_blk_format_known(t + 7))
			d->format = t + strlen("format=");
		else if (!strncmp(t, "cache=", 6) && (c = vs_disk_cache_parse(t + 6)) >= 0)
			d->cache = (enum vs_disk_cache)c;
		else if (!strncmp(t, "aio=", 4) && (c = vs_disk_aio_parse(t + 4)) >= 0)
			d->aio = (enum vs_disk_aio)c;
		else
			return vs_err_set(
				err, -EINVAL,
				"virtio-blk: unknown '%s' (PATH[,ro][,format=raw|qcow2|vdi|vmdk|vhdx]"
				"[,cache=none|writeback|unsafe|directsync][,aio=threads|io_uring])",
				t);
	}
	return 0;
}

static int blk_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	char *copy = xstrdup(opts ? opts : "");
	struct vs_vm_disk d = { 0 };
	int r = parse(copy, &d, err);

	if (r == 0)
		r = realize_disk(vm, &d, state, err);
	free(copy);
	return r;
}

static void blk_unrealize(struct vs_vm *vm, void *state)
{
	(void)vm;
	vs_virtio_blk_free(state);
}

const struct vs_device_ops vs_dev_virtio_blk = {
	.name = "virtio-blk",
	.realize = blk_realize,
	.unrealize = blk_unrealize,
};

int vs_vm_disks_add(struct vs_vm *vm, struct vs_err **err)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		void *state;
		int r = realize_disk(vm, &vm->cfg.disks[i], &state, err);

		if (r < 0)
			return r;
		vs_vm_device_append(vm, &vs_dev_virtio_blk, state);
	}
	return 0;
}
