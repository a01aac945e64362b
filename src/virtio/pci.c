/* The virtio modern PCI transport (virtio 1.2 §4.1), see pci.h.
 * Map: capabilities; interrupts; common config (§4.1.4.3); doorbells and
 * the I/O thread; ISR, device config and notify; the BAR's bus callbacks;
 * realize. */
#include "virtio/pci.h"
#include "hw/iobus.h"
#include "hw/pci-msix.h"
#include "common/evloop.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* struct virtio_pci_cap (§4.1.4) */
#define CAP_LEN 16
#define NOTIFY_CAP_LEN 20
enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4 };
#define COMMON_LEN 0x38
#define ISR_QUEUE 1
#define ISR_CONFIG 2
#define BAR 0

static void add_vcap(struct vs_pci_device *dev, uint8_t type, uint32_t off, uint32_t len)
{
	unsigned cap_len = type == CFG_NOTIFY ? NOTIFY_CAP_LEN : CAP_LEN;
	int at = vs_pci_add_cap(dev, VS_PCI_CAP_ID_VNDR, cap_len);
	uint32_t mult = VS_VIRTIO_PCI_NOTIFY_MULT;

	if (at < 0)
		return; /* cannot happen: four small caps and MSI-X fit in 192 bytes */
	dev->cfg[at + 2] = (uint8_t)cap_len;
	dev->cfg[at + 3] = type;
	dev->cfg[at + 4] = BAR;
	memcpy(&dev->cfg[at + 8], &off, 4);
	memcpy(&dev->cfg[at + 12], &len, 4);
	if (type == CFG_NOTIFY)
		memcpy(&dev->cfg[at + 16], &mult, 4);
}

static uint64_t offered(const struct vs_virtio_pci *t)
{
	uint64_t f = (1ull << VS_VIRTIO_F_VERSION_1) | (1ull << VS_VIRTIO_F_INDIRECT_DESC) |
		     (1ull << VS_VIRTIO_F_EVENT_IDX);

	return f | (t->ops->features ? t->ops->features(t->dev) : 0);
}

static void send_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct vs_virtio_pci *t = ctx;

	t->env.msi(t->env.ctx, addr, data);
}

/* Interrupt for queue q (q < 0: config change). Lock-free: devices call
 * it from queue_notify, under the transport lock. */
static void raise(struct vs_virtio_pci *t, int q)
{
	uint16_t vec = q < 0 ? t->config_vector : t->queue_vector[q];
	int gsi;

	if (vs_pci_msix_enabled(t->pci.msix)) {
		if (vec != VS_PCI_MSIX_NO_VECTOR)
			vs_pci_msix_notify(t->pci.msix, vec);
		return;
	}
	__atomic_fetch_or(&t->isr, q < 0 ? ISR_CONFIG : ISR_QUEUE, __ATOMIC_SEQ_CST);
	gsi = vs_pci_intx_gsi(&t->pci);
	if (gsi >= 0 && !vs_pci_intx_disabled(&t->pci))
		t->env.irq_line(t->env.ctx, (unsigned)gsi, 1);
}

void vs_virtio_pci_queue_done(struct vs_virtio_pci *t, unsigned q)
{
	if (q < t->ops->nqueues && vs_vq_should_notify(&t->vq[q]))
		raise(t, (int)q);
}

void vs_virtio_pci_needs_reset(struct vs_virtio_pci *t)
{
	if (t->status & VS_VIRTIO_S_DEVICE_NEEDS_RESET)
		return;
	t->status |= VS_VIRTIO_S_DEVICE_NEEDS_RESET;
	if (t->status & VS_VIRTIO_S_DRIVER_OK)
		raise(t, -1);
}

/* Registers queue q's doorbell with the accelerator. Lock held. */
static void kick_arm(struct vs_virtio_pci *t, unsigned q)
{
	struct vs_virtio_kick *k = &t->kick[q];
	uint64_t addr = t->bar_mapped_at + VS_VIRTIO_PCI_NOTIFY + VS_VIRTIO_PCI_NOTIFY_MULT * q;

	if (!t->loop || k->addr || !t->bar_mapped_at || !t->vq[q].enabled)
		return;
	/* Failing that, the doorbell write reaches bar_write: still served. */
	if (t->env.ioeventfd(t->env.ctx, addr, 2, k->fd, true) == 0)
		k->addr = addr;
}

static void kick_disarm(struct vs_virtio_pci *t, unsigned q)
{
	struct vs_virtio_kick *k = &t->kick[q];

	if (!k->addr)
		return;
	t->env.ioeventfd(t->env.ctx, k->addr, 2, k->fd, false);
	k->addr = 0;
}

/* Status 0 (§2.4). Lock held. */
static void reset_locked(struct vs_virtio_pci *t)
{
	int gsi = vs_pci_intx_gsi(&t->pci);

	t->status = 0;
	t->dfeature_sel = t->gfeature_sel = 0;
	t->driver_features = 0;
	t->queue_sel = 0;
	t->config_vector = VS_PCI_MSIX_NO_VECTOR;
	for (unsigned q = 0; q < t->ops->nqueues; q++) {
		kick_disarm(t, q);
		vs_vq_reset(&t->vq[q]);
		t->vq[q] = (struct vs_vq){ .size = t->ops->queue_max };
		t->queue_vector[q] = VS_PCI_MSIX_NO_VECTOR;
	}
	if (t->isr && gsi >= 0)
		t->env.irq_line(t->env.ctx, (unsigned)gsi, 0);
	t->isr = 0;
	if (t->ops->reset)
		t->ops->reset(t->dev);
}

/* The driver set status bits (§3.1.1): FEATURES_OK only for a feature set
 * we offered that includes VERSION_1; DRIVER_OK activates. Lock held. */
static void set_status(struct vs_virtio_pci *t, uint8_t v)
{
	uint8_t old = t->status;

	if (!v) {
		reset_locked(t);
		return;
	}
	if ((v & VS_VIRTIO_S_FEATURES_OK) && !(old & VS_VIRTIO_S_FEATURES_OK) &&
	    ((t->driver_features & ~offered(t)) ||
	     !(t->driver_features & (1ull << VS_VIRTIO_F_VERSION_1))))
		v &= (uint8_t)~VS_VIRTIO_S_FEATURES_OK;
	t->status = (uint8_t)(v | (old & VS_VIRTIO_S_DEVICE_NEEDS_RESET));
	if ((v & VS_VIRTIO_S_DRIVER_OK) && !(old & VS_VIRTIO_S_DRIVER_OK) && t->ops->activate)
		t->ops->activate(t->dev, t->driver_features);
}

static struct vs_vq *selected_vq(struct vs_virtio_pci *t)
{
	return t->queue_sel < t->ops->nqueues ? &t->vq[t->queue_sel] : NULL;
}

static void common_read(struct vs_virtio_pci *t, uint8_t *b)
{
	struct vs_vq *vq = selected_vq(t);
	uint64_t f = offered(t);
	uint32_t w = t->dfeature_sel < 2 ? (uint32_t)(f >> (32 * t->dfeature_sel)) : 0;
	uint32_t g =
		t->gfeature_sel < 2 ? (uint32_t)(t->driver_features >> (32 * t->gfeature_sel)) : 0;
	uint16_t nq = (uint16_t)t->ops->nqueues, en = vq ? vq->enabled : 0;
	uint16_t qsize = vq ? vq->size : 0, qvec = vq ? t->queue_vector[t->queue_sel] : 0;

	memset(b, 0, COMMON_LEN);
	memcpy(b + 0x00, &t->dfeature_sel, 4);
	memcpy(b + 0x04, &w, 4);
	memcpy(b + 0x08, &t->gfeature_sel, 4);
	memcpy(b + 0x0c, &g, 4);
	memcpy(b + 0x10, &t->config_vector, 2);
	memcpy(b + 0x12, &nq, 2);
	b[0x14] = t->status;
	b[0x15] = t->config_generation;
	memcpy(b + 0x16, &t->queue_sel, 2);
	memcpy(b + 0x18, &qsize, 2);
	memcpy(b + 0x1a, &qvec, 2);
	memcpy(b + 0x1c, &en, 2);
	memcpy(b + 0x1e, &t->queue_sel, 2); /* queue_notify_off = index */
	if (vq) {
		memcpy(b + 0x20, &vq->desc_gpa, 8);
		memcpy(b + 0x28, &vq->avail_gpa, 8);
		memcpy(b + 0x30, &vq->used_gpa, 8);
	}
}

static uint16_t valid_vector(const struct vs_virtio_pci *t, uint16_t v)
{
	unsigned n = t->ops->nqueues + 1;

	return v < n ? v : VS_PCI_MSIX_NO_VECTOR;
}

/* A queue address half (§4.1.4.3: only while the queue is disabled). */
static void set_addr_half(struct vs_vq *vq, unsigned off, uint32_t v)
{
	uint64_t *a = off < 0x28 ? &vq->desc_gpa : off < 0x30 ? &vq->avail_gpa : &vq->used_gpa;
	unsigned shift = off % 8 ? 32 : 0;

	*a = (*a & ~(0xffffffffull << shift)) | ((uint64_t)v << shift);
}

static void enable_queue(struct vs_virtio_pci *t, struct vs_vq *vq)
{
	vq->event_idx = t->driver_features & (1ull << VS_VIRTIO_F_EVENT_IDX);
	vq->indirect = t->driver_features & (1ull << VS_VIRTIO_F_INDIRECT_DESC);
	if (vs_vq_enable(vq, t->env.dma) < 0)
		vs_virtio_pci_needs_reset(t); /* rings outside RAM */
	else
		kick_arm(t, (unsigned)(vq - t->vq));
}

static void common_write(struct vs_virtio_pci *t, unsigned off, uint32_t v, unsigned len)
{
	struct vs_vq *vq = selected_vq(t);
	bool setup = vq && !vq->enabled; /* ring setup only before enable */

	if (off == 0x00 && len == 4)
		t->dfeature_sel = v;
	else if (off == 0x08 && len == 4)
		t->gfeature_sel = v;
	else if (off == 0x0c && len == 4 && t->gfeature_sel < 2 &&
		 !(t->status & VS_VIRTIO_S_FEATURES_OK))
		t->driver_features =
			(t->driver_features & ~(0xffffffffull << (32 * t->gfeature_sel))) |
			((uint64_t)v << (32 * t->gfeature_sel));
	else if (off == 0x10 && len == 2)
		t->config_vector = valid_vector(t, (uint16_t)v);
	else if (off == 0x14 && len == 1)
		set_status(t, (uint8_t)v);
	else if (off == 0x16 && len == 2)
		t->queue_sel = (uint16_t)v;
	else if (off == 0x18 && len == 2 && setup && v && v <= t->ops->queue_max)
		vq->size = (uint16_t)v;
	else if (off == 0x1a && len == 2 && vq)
		t->queue_vector[t->queue_sel] = valid_vector(t, (uint16_t)v);
	else if (off == 0x1c && len == 2 && setup && v == 1)
		enable_queue(t, vq);
	else if (off >= 0x20 && off < 0x38 && off % 4 == 0 && len == 4 && setup)
		set_addr_half(vq, off, v);
}

static void notify(struct vs_virtio_pci *t, unsigned q)
{
	bool ready;

	pthread_mutex_lock(&t->lock);
	ready = q < t->ops->nqueues && t->vq[q].enabled && (t->status & VS_VIRTIO_S_DRIVER_OK) &&
		!(t->status & VS_VIRTIO_S_DEVICE_NEEDS_RESET);
	/* The device runs under the lock: one thread per queue, and a reset
	 * cannot pull the rings away underneath it. */
	if (ready)
		t->ops->queue_notify(t->dev, t, q, &t->vq[q]);
	if (ready && t->vq[q].broken)
		vs_virtio_pci_needs_reset(t);
	pthread_mutex_unlock(&t->lock);
	if (ready && t->ops->queue_notified)
		t->ops->queue_notified(t->dev, q);
}

/* The I/O thread: a doorbell's eventfd fired. */
static void on_kick(struct vs_evloop *loop, int fd, uint32_t events, void *ctx)
{
	struct vs_virtio_kick *k = ctx;
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) == sizeof(n))
		notify(k->t, k->q);
}

static void *io_thread(void *arg)
{
	struct vs_virtio_pci *t = arg;

	vs_evloop_run(t->loop);
	return NULL;
}

/* Creates the doorbell eventfds and starts the I/O thread. */
static int start_io(struct vs_virtio_pci *t)
{
	int r;

	r = vs_evloop_new(&t->loop);
	for (unsigned q = 0; r == 0 && q < t->ops->nqueues; q++) {
		t->kick[q].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		r = t->kick[q].fd < 0 ?
			    -errno :
			    vs_evloop_add(t->loop, t->kick[q].fd, EPOLLIN, on_kick, &t->kick[q]);
	}
	if (r == 0)
		r = -pthread_create(&t->io_thread, NULL, io_thread, t);
	if (r < 0) {
		vs_evloop_free(t->loop);
		t->loop = NULL;
	}
	return r;
}

static void stop_io(struct vs_virtio_pci *t)
{
	vs_virtio_pci_unwatch(t);
	if (t->loop) {
		vs_evloop_stop(t->loop);
		pthread_join(t->io_thread, NULL);
		vs_evloop_free(t->loop);
		t->loop = NULL;
	}
	for (unsigned q = 0; q < VS_VIRTIO_MAX_QUEUES; q++)
		if (t->kick[q].fd >= 0)
			close(t->kick[q].fd);
}

static void bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vs_virtio_pci *t = opaque;
	uint8_t common[COMMON_LEN];
	int gsi;

	memset(data, 0, len);
	if (vs_pci_msix_read(t->pci.msix, off, data, len))
		return;
	pthread_mutex_lock(&t->lock);
	if (off < COMMON_LEN && off + len <= COMMON_LEN) {
		common_read(t, common);
		memcpy(data, common + off, len);
	} else if (off == VS_VIRTIO_PCI_ISR) {
		/* Reading the ISR clears it and lowers INTx (§4.1.4.5). */
		uint8_t isr = __atomic_exchange_n(&t->isr, 0, __ATOMIC_SEQ_CST);

		*(uint8_t *)data = isr;
		gsi = isr ? vs_pci_intx_gsi(&t->pci) : -1;
		if (gsi >= 0)
			t->env.irq_line(t->env.ctx, (unsigned)gsi, 0);
	} else if (off >= VS_VIRTIO_PCI_DEVCFG &&
		   off - VS_VIRTIO_PCI_DEVCFG + len <= t->ops->config_len && t->ops->config_read) {
		t->ops->config_read(t->dev, (unsigned)(off - VS_VIRTIO_PCI_DEVCFG), data, len);
	}
	pthread_mutex_unlock(&t->lock);
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vs_virtio_pci *t = opaque;
	uint32_t v = 0;

	if (vs_pci_msix_write(t->pci.msix, off, data, len))
		return;
	memcpy(&v, data, len < 4 ? len : 4);
	if (off >= VS_VIRTIO_PCI_NOTIFY &&
	    off < VS_VIRTIO_PCI_NOTIFY + VS_VIRTIO_PCI_NOTIFY_MULT * t->ops->nqueues) {
		notify(t, (unsigned)(off - VS_VIRTIO_PCI_NOTIFY) / VS_VIRTIO_PCI_NOTIFY_MULT);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (off < COMMON_LEN && len <= 4)
		common_write(t, (unsigned)off, v, len);
	else if (off >= VS_VIRTIO_PCI_DEVCFG &&
		 off - VS_VIRTIO_PCI_DEVCFG + len <= t->ops->config_len && t->ops->config_write)
		t->ops->config_write(t->dev, (unsigned)(off - VS_VIRTIO_PCI_DEVCFG), data, len);
	pthread_mutex_unlock(&t->lock);
}

static const struct vs_io_ops bar_ops = { .read = bar_read, .write = bar_write };

static void on_bar_map(struct vs_pci_device *dev, unsigned bar, uint64_t addr, uint64_t size)
{
	struct vs_virtio_pci *t = dev->opaque;

	if (bar != BAR || vs_iobus_register(t->env.mmio, addr, size, &bar_ops, t) < 0)
		return;
	pthread_mutex_lock(&t->lock);
	t->bar_mapped_at = addr;
	for (unsigned q = 0; q < t->ops->nqueues; q++)
		kick_arm(t, q);
	pthread_mutex_unlock(&t->lock);
}

static void on_bar_unmap(struct vs_pci_device *dev, unsigned bar, uint64_t addr, uint64_t size)
{
	struct vs_virtio_pci *t = dev->opaque;

	(void)size;
	if (bar != BAR || t->bar_mapped_at != addr)
		return;
	pthread_mutex_lock(&t->lock);
	for (unsigned q = 0; q < t->ops->nqueues; q++)
		kick_disarm(t, q);
	t->bar_mapped_at = 0;
	pthread_mutex_unlock(&t->lock);
	/* Not under t->lock: removal waits for BAR callbacks, which take it. */
	vs_iobus_remove(t->env.mmio, addr);
}

static const struct vs_pci_dev_ops pci_ops = { .bar_map = on_bar_map, .bar_unmap = on_bar_unmap };

static int setup_config(struct vs_virtio_pci *t)
{
	struct vs_pci_device *d = &t->pci;
	uint16_t id = (uint16_t)(VS_VIRTIO_PCI_DEV_BASE + t->ops->device_id);
	int r;

	vs_pci_device_init(d, VS_VIRTIO_PCI_VENDOR, id, t->ops->pci_class, VS_VIRTIO_PCI_VENDOR, id,
			   &pci_ops, t);
	d->cfg[0x08] = 1; /* revision 1: a modern-only device (§4.1.2.1) */
	r = vs_pci_set_bar(d, BAR, VS_VIRTIO_PCI_BAR_SIZE, VS_PCI_BAR_MEM32);
	if (r < 0)
		return r;
	vs_pci_set_intx_pin(d, 1);
	add_vcap(d, CFG_COMMON, VS_VIRTIO_PCI_COMMON, COMMON_LEN);
	add_vcap(d, CFG_NOTIFY, VS_VIRTIO_PCI_NOTIFY, VS_VIRTIO_PCI_NOTIFY_MULT * t->ops->nqueues);
	add_vcap(d, CFG_ISR, VS_VIRTIO_PCI_ISR, 1);
	if (t->ops->config_len)
		add_vcap(d, CFG_DEVICE, VS_VIRTIO_PCI_DEVCFG, t->ops->config_len);
	return vs_pci_msix_new(d, t->ops->nqueues + 1, BAR, VS_VIRTIO_PCI_MSIX, VS_VIRTIO_PCI_PBA,
			       send_msi, t);
}

int vs_virtio_pci_new(const struct vs_virtio_pci_env *env, const struct vs_virtio_dev_ops *ops,
		      void *dev, struct vs_virtio_pci **out)
{
	struct vs_virtio_pci *t;
	int r;

	if (!ops->nqueues || ops->nqueues > VS_VIRTIO_MAX_QUEUES || !ops->queue_max ||
	    ops->queue_max > VS_VQ_MAX_SIZE || env->bar_addr % VS_VIRTIO_PCI_BAR_SIZE)
		return -EINVAL;
	t = xzalloc(sizeof(*t));
	t->ops = ops;
	t->dev = dev;
	t->env = *env;
	pthread_mutex_init(&t->lock, NULL);
	for (unsigned q = 0; q < VS_VIRTIO_MAX_QUEUES; q++)
		t->kick[q] = (struct vs_virtio_kick){ .t = t, .q = q, .fd = -1 };
	t->watch_fd = -1;
	reset_locked(t);
	r = setup_config(t);
	if (r >= 0 && env->ioeventfd)
		r = start_io(t);
	if (r >= 0)
		r = vs_pci_add_device(env->pci, &t->pci);
	if (r < 0) {
		vs_virtio_pci_free(t);
		return r;
	}
	/* Place and enable the BAR as firmware would (pci.h). */
	vs_pci_cfg_write(&t->pci, VS_PCI_BAR0, (uint32_t)env->bar_addr, 4);
	vs_pci_cfg_write(&t->pci, VS_PCI_COMMAND, VS_PCI_CMD_MEM | VS_PCI_CMD_MASTER, 2);
	if (!t->bar_mapped_at) {
		vs_virtio_pci_free(t);
		return -EEXIST;
	}
	*out = t;
	return 0;
}

void vs_virtio_pci_free(struct vs_virtio_pci *t)
{
	if (!t)
		return;
	if (t->pci.slot >= 0)
		vs_pci_remove_device(t->env.pci, &t->pci);
	vs_pci_unmap_bars(&t->pci); /* no more doorbells */
	stop_io(t);
	vs_pci_msix_free(&t->pci);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The I/O thread: the watched backend fd is readable. */
static void on_watch(struct vs_evloop *loop, int fd, uint32_t events, void *ctx)
{
	struct vs_virtio_pci *t = ctx;

	(void)loop;
	(void)events;
	pthread_mutex_lock(&t->lock);
	if (t->watch_fd == fd && (t->status & VS_VIRTIO_S_DRIVER_OK) &&
	    !(t->status & VS_VIRTIO_S_DEVICE_NEEDS_RESET))
		t->watch_fn(t->dev, t);
	pthread_mutex_unlock(&t->lock);
}

int vs_virtio_pci_watch(struct vs_virtio_pci *t, int fd,
			void (*fn)(void *dev, struct vs_virtio_pci *t))
{
	int r;

	if (!t->loop)
		return -ENOTSUP;
	if (t->watch_fd == fd)
		return 0;
	if (t->watch_fd >= 0)
		return -EBUSY;
	t->watch_fn = fn;
	t->watch_fd = fd;
	r = vs_evloop_add(t->loop, fd, EPOLLIN, on_watch, t);
	if (r < 0)
		t->watch_fd = -1;
	return r;
}

void vs_virtio_pci_unwatch(struct vs_virtio_pci *t)
{
	if (t->watch_fd < 0 || !t->loop)
		return;
	vs_evloop_del(t->loop, t->watch_fd);
	t->watch_fd = -1;
}

bool vs_virtio_pci_has_io_thread(const struct vs_virtio_pci *t)
{
	return t->loop != NULL;
}
