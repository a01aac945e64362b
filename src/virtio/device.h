/* What a virtio device implements (modelled on Firecracker's VirtioDevice):
 * feature bits, its config space, queue work, reset. The transport
 * (virtio/pci.c) owns status, feature negotiation, the queues' rings and
 * interrupts; it never writes into a device's ops (STYLE "Const vtables"). */
#ifndef VS_VIRTIO_DEVICE_H
#define VS_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

struct vs_virtio_pci;
struct vs_vq;

/* Feature bits (virtio 1.2 §6) */
#define VS_VIRTIO_F_INDIRECT_DESC 28
#define VS_VIRTIO_F_EVENT_IDX 29
#define VS_VIRTIO_F_VERSION_1 32

/* Device status (§2.1) */
#define VS_VIRTIO_S_ACKNOWLEDGE 1
#define VS_VIRTIO_S_DRIVER 2
#define VS_VIRTIO_S_DRIVER_OK 4
#define VS_VIRTIO_S_FEATURES_OK 8
#define VS_VIRTIO_S_DEVICE_NEEDS_RESET 0x40
#define VS_VIRTIO_S_FAILED 0x80

#define VS_VIRTIO_MAX_QUEUES 8

struct vs_virtio_dev_ops {
	const char *name;
	uint16_t device_id; /* virtio 1.2 §5: 4 entropy, 2 block, 1 network */
	uint32_t pci_class; /* class code for the PCI header */
	unsigned nqueues;
	uint16_t queue_max; /* largest queue size offered */
	/* Device-specific feature bits (the transport adds VERSION_1,
	 * INDIRECT_DESC and EVENT_IDX). */
	uint64_t (*features)(void *dev);
	/* Device config space; off and len are inside config_len. Optional. */
	unsigned config_len;
	void (*config_read)(void *dev, unsigned off, void *data, unsigned len);
	void (*config_write)(void *dev, unsigned off, const void *data, unsigned len);
	/* The driver set DRIVER_OK with these features. Optional. */
	void (*activate)(void *dev, uint64_t features);
	/* The driver kicked queue q (enabled). The device pops, pushes and calls
	 * vs_virtio_pci_queue_done(). Runs on the notifying thread. */
	void (*queue_notify)(void *dev, struct vs_virtio_pci *t, unsigned q, struct vs_vq *vq);
	/* Optional: after each queue_notify, on the same thread, with the
	 * transport lock released: what the device held back so as not to do
	 * it under the lock (virtio-blk: entering the kernel for the batch of
	 * requests it queued on its io_uring, which would hold up a vCPU's
	 * register access meanwhile). */
	void (*queue_notified)(void *dev, unsigned q);
	/* The driver reset the device. Optional. */
	void (*reset)(void *dev);
};

#endif
