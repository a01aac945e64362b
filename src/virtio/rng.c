/* virtio-rng (virtio 1.2 §5.4): one request queue; every device-writable
 * buffer the driver offers is filled from getrandom(). No config space, no
 * device features. Registered as "virtio-rng" (vmm/device.h). */
#include "virtio/rng.h"
#include "virtio/pci.h"
#include "vmm/accel.h"
#include "vmm/device.h"
#include "vmm/internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#define RNG_QUEUE_SIZE 64
#define RNG_MAX_REQUEST (64u << 10) /* bytes per request: bounds vCPU time */

struct vs_virtio_rng {
	struct vs_virtio_pci *transport;
	struct vs_dma dma;
	struct vs_vq_elem elem;
};

/* Fills the writable parts of e, up to RNG_MAX_REQUEST; returns bytes. */
static uint32_t fill(const struct vs_vq_elem *e)
{
	uint32_t done = 0;

	for (unsigned i = e->nout; i < e->nout + e->nin && done < RNG_MAX_REQUEST; i++) {
		size_t want = e->iov[i].iov_len, got = 0;

		if (want > RNG_MAX_REQUEST - done)
			want = RNG_MAX_REQUEST - done;
		while (got < want) {
			ssize_t n = getrandom((uint8_t *)e->iov[i].iov_base + got, want - got, 0);

			if (n <= 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return done + (uint32_t)got;
			got += (size_t)n;
		}
		done += (uint32_t)got;
	}
	return done;
}

static void rng_notify(void *dev, struct vs_virtio_pci *t, unsigned q, struct vs_vq *vq)
{
	struct vs_virtio_rng *rng = dev;
	int r;

	while ((r = vs_vq_pop(vq, &rng->elem)) > 0)
		vs_vq_push(vq, &rng->elem, fill(&rng->elem));
	if (r < 0)
		vs_virtio_pci_needs_reset(t);
	else
		vs_virtio_pci_queue_done(t, q);
}

const struct vs_virtio_dev_ops vs_virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VS_VIRTIO_ID_RNG,
	.pci_class = 0xff0000, /* unclassified, as QEMU's virtio-rng-pci */
	.nqueues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.queue_notify = rng_notify,
};

int vs_virtio_rng_new(const struct vs_virtio_pci_env *env, struct vs_virtio_rng **out)
{
	struct vs_virtio_rng *rng = xzalloc(sizeof(*rng));
	struct vs_virtio_pci_env e = *env;
	int r;

	rng->dma = *env->dma;
	e.dma = &rng->dma;
	r = vs_vq_elem_init(&rng->elem, RNG_QUEUE_SIZE);
	if (r == 0)
		r = vs_virtio_pci_new_placed(&e, &vs_virtio_rng_ops, rng, &rng->transport);
	if (r < 0) {
		vs_virtio_rng_free(rng);
		return r;
	}
	*out = rng;
	return 0;
}

void vs_virtio_rng_free(struct vs_virtio_rng *rng)
{
	if (!rng)
		return;
	vs_virtio_pci_free(rng->transport);
	vs_vq_elem_free(&rng->elem);
	free(rng);
}

struct vs_virtio_pci *vs_virtio_rng_transport(struct vs_virtio_rng *rng)
{
	return rng->transport;
}

/* The registry entry: the VM's PCI bus, MMIO bus, accelerator. */
static int rng_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	struct vs_dma dma;
	struct vs_virtio_pci_env env;
	struct vs_virtio_rng *rng;
	int r;

	if (opts && *opts)
		return vs_err_set(err, -EINVAL, "virtio-rng: no options expected, got '%s'", opts);
	if (!vm->pci)
		return vs_err_set(err, -ENODEV, "virtio-rng: the VM has no PCI bus");
	vs_virtio_vm_env(vm, &dma, &env);
	r = vs_virtio_rng_new(&env, &rng);
	if (r < 0)
		return vs_err_setsys(err, r, "virtio-rng");
	*state = rng;
	return 0;
}

static void rng_unrealize(struct vs_vm *vm, void *state)
{
	(void)vm;
	vs_virtio_rng_free(state);
}

const struct vs_device_ops vs_dev_virtio_rng = {
	.name = "virtio-rng",
	.realize = rng_realize,
	.unrealize = rng_unrealize,
};
