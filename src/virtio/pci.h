/* The virtio 1.x modern PCI transport (virtio 1.2 §4.1): vendor
 * capabilities for the common, notify, ISR and device config structures,
 * all in one 32-bit memory BAR that also holds the MSI-X table; feature
 * negotiation (VERSION_1 required), status and reset, queue setup, MSI-X
 * vectors with INTx fallback, and DEVICE_NEEDS_RESET when the driver breaks
 * a queue.
 *
 * BAR layout (BAR 0, VS_VIRTIO_PCI_BAR_SIZE bytes): common config at
 * 0x0000, ISR at 0x1000, device config at 0x2000, notify at 0x3000 (one
 * 4-byte doorbell per queue), MSI-X table at 0x4000, PBA at 0x5000. The VMM
 * assigns the BAR an address and enables decoding at realize, as kvmtool
 * and Firecracker do (no firmware runs before the kernel); the guest may
 * move it.
 * With env->ioeventfd, each enabled queue's doorbell is an eventfd the
 * accelerator signals (no exit to the bus under kvm) and the device works
 * on the transport's own I/O thread (a vs_evloop); a doorbell write that
 * still reaches the bus (no ioeventfd) runs the device on that vCPU. */
#ifndef VS_VIRTIO_PCI_H
#define VS_VIRTIO_PCI_H

#include "hw/pci.h"
#include "virtio/device.h"
#include "virtio/queue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VS_VIRTIO_PCI_VENDOR 0x1af4
#define VS_VIRTIO_PCI_DEV_BASE 0x1040 /* + device id (§4.1.2.1) */
#define VS_VIRTIO_PCI_BAR_SIZE 0x8000
#define VS_VIRTIO_PCI_COMMON 0x0000
#define VS_VIRTIO_PCI_ISR 0x1000
#define VS_VIRTIO_PCI_DEVCFG 0x2000
#define VS_VIRTIO_PCI_NOTIFY 0x3000
#define VS_VIRTIO_PCI_MSIX 0x4000
#define VS_VIRTIO_PCI_PBA 0x5000
#define VS_VIRTIO_PCI_NOTIFY_MULT 4
/* Where the VMM places virtio BARs: 32 slots of BAR size from 0xd0000000,
 * inside the 32-bit hole (vmm/memory.h), below the IOAPIC and LAPIC. */
#define VS_VIRTIO_PCI_MMIO_BASE 0xd0000000ull
#define VS_VIRTIO_PCI_MAX_DEVICES 32

struct vs_iobus;
struct vs_pci_bus;

/* What the transport needs from the VM (no struct vs_vm: testable alone). */
struct vs_virtio_pci_env {
	struct vs_pci_bus *pci;
	struct vs_iobus *mmio;
	const struct vs_dma *dma;
	void (*irq_line)(void *ctx, unsigned gsi, int level);
	void (*msi)(void *ctx, uint64_t addr, uint32_t data);
	/* Optional: make a len-byte write to MMIO addr signal fd (add) or
	 * stop (del); the accelerator's ioeventfd verbs. NULL: no I/O thread. */
	int (*ioeventfd)(void *ctx, uint64_t addr, unsigned len, int fd, bool add);
	void *ctx;
	uint64_t bar_addr; /* where the VMM places BAR 0 at realize */
};

struct vs_evloop;
struct vs_virtio_pci;

/* One queue's doorbell eventfd, watched by the I/O thread. */
struct vs_virtio_kick {
	struct vs_virtio_pci *t;
	unsigned q;
	int fd; /* EFD_NONBLOCK eventfd, for the transport's lifetime */
	uint64_t addr; /* where it is registered with the accelerator; 0: not */
};

struct vs_virtio_pci {
	struct vs_pci_device pci;
	const struct vs_virtio_dev_ops *ops;
	void *dev;
	struct vs_virtio_pci_env env;
	pthread_mutex_t lock; /* common config, status, the device's queue work */
	uint8_t status;
	uint8_t isr;
	uint8_t config_generation;
	uint32_t dfeature_sel, gfeature_sel;
	uint64_t driver_features;
	uint16_t queue_sel;
	uint16_t config_vector;
	uint16_t queue_vector[VS_VIRTIO_MAX_QUEUES];
	struct vs_vq vq[VS_VIRTIO_MAX_QUEUES];
	uint64_t bar_mapped_at; /* 0: not on the bus */
	struct vs_evloop *loop; /* the I/O thread's loop, with env.ioeventfd */
	pthread_t io_thread;
	struct vs_virtio_kick kick[VS_VIRTIO_MAX_QUEUES];
	/* A device's backend fd on the I/O thread (vs_virtio_pci_watch). */
	int watch_fd; /* -1: none */
	void (*watch_fn)(void *dev, struct vs_virtio_pci *t);
};

/* Creates the transport for dev (ops must outlive it), adds it to the PCI
 * bus and maps its BAR. Returns 0 or -errno (-ENOSPC: no slot, -EEXIST: the
 * BAR address is taken); on failure nothing stays registered. */
int vs_virtio_pci_new(const struct vs_virtio_pci_env *env, const struct vs_virtio_dev_ops *ops,
		      void *dev, struct vs_virtio_pci **out);
/* The same with env->bar_addr 0: the first free slot from
 * VS_VIRTIO_PCI_MMIO_BASE (virtio/vm-env.c). */
int vs_virtio_pci_new_placed(const struct vs_virtio_pci_env *env,
			     const struct vs_virtio_dev_ops *ops, void *dev,
			     struct vs_virtio_pci **out);
/* The env of a device on vm (its PCI and MMIO buses, accelerator; *dma is
 * filled and must outlive the call only: devices copy it). bar_addr 0. */
struct vs_vm;
void vs_virtio_vm_env(struct vs_vm *vm, struct vs_dma *dma, struct vs_virtio_pci_env *env);
/* Unmaps the BAR and frees (the PCI slot is not reused; vCPUs stopped). */
void vs_virtio_pci_free(struct vs_virtio_pci *t);

/* The device finished work on queue q: interrupt the driver if it wants
 * one (MSI-X vector, else INTx through the ISR). */
void vs_virtio_pci_queue_done(struct vs_virtio_pci *t, unsigned q);

/* Watches a backend fd (a tap) on the transport's I/O thread: when it is
 * readable, fn(dev, t) runs under the transport lock, like queue_notify,
 * while the driver is ready (DRIVER_OK, no DEVICE_NEEDS_RESET). One fd per
 * transport. Callable from any thread, the lock held or not (from
 * activate, reset, queue_notify or fn itself). Returns 0, -ENOTSUP when
 * the transport has no I/O thread (no env->ioeventfd), -EBUSY when
 * another fd is watched, or -errno. */
int vs_virtio_pci_watch(struct vs_virtio_pci *t, int fd,
			void (*fn)(void *dev, struct vs_virtio_pci *t));
/* Stops watching (no-op when nothing is). fn is not started again after
 * this; from the I/O thread or under the lock, none is running either. */
void vs_virtio_pci_unwatch(struct vs_virtio_pci *t);
/* Whether the transport has an I/O thread for vs_virtio_pci_watch(). */
bool vs_virtio_pci_has_io_thread(const struct vs_virtio_pci *t);

/* The device or a queue is broken: DEVICE_NEEDS_RESET and a config change
 * interrupt (§2.1.2). With the transport lock held: from queue_notify. */
void vs_virtio_pci_needs_reset(struct vs_virtio_pci *t);

#endif
