/* virtio-net (virtio/net.c) behind its PCI transport against a hostile
 * driver: data is a 4-byte header and then guest RAM from 0x10000.
 *   [0] bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 MRG_RXBUF, bit 3 CSUM +
 *       HOST_TSO4, bit 4: the backend's frames carry a TCPv4 GSO header
 *   [1] queue size - 1 (both queues)
 *   [2] first backend frame: 64 * [2] bytes, [3] second: 256 * [3] bytes
 * RX rings at +0x0/+0x1000/+0x2000, TX rings at +0x3000/+0x4000/+0x5000,
 * buffers from +0x8000 (tests/fuzz/gen-net-corpus.py). The backend is a
 * datagram socketpair: the two frames wait in it before DRIVER_OK; the TX
 * queue is kicked (served on this thread), then the RX queue, and the I/O
 * thread moves the frames into whatever buffers the RX ring offers. ASan
 * sees any access outside the RAM buffer. */
#include "fuzz.h"
#include "../unit/virtio/vq-harness.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "hw/iobus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR 4
#define TX_OFF 0x3000

static void no_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx, (void)gsi, (void)level;
}

static void no_msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx, (void)addr, (void)data;
}

/* The transport gets its I/O thread; doorbells reach the bus (this thread). */
static int no_ioeventfd(void *ctx, uint64_t addr, unsigned len, int fd, bool add)
{
	(void)ctx, (void)addr, (void)len, (void)fd, (void)add;
	return -ENOSYS;
}

static void mmio_wr(struct vs_iobus *mmio, uint64_t addr, uint32_t v, unsigned len)
{
	vs_iobus_access(mmio, addr, true, &v, len);
}

static void queue(struct vs_iobus *mmio, uint64_t bar, unsigned q, unsigned qsize, uint64_t off)
{
	mmio_wr(mmio, bar + 0x16, q, 2);
	mmio_wr(mmio, bar + 0x18, qsize, 2);
	mmio_wr(mmio, bar + 0x20, (uint32_t)(DESC_GPA + off), 4);
	mmio_wr(mmio, bar + 0x28, (uint32_t)(AVAIL_GPA + off), 4);
	mmio_wr(mmio, bar + 0x30, (uint32_t)(USED_GPA + off), 4);
	mmio_wr(mmio, bar + 0x1c, 1, 2);
}

static void init(struct vs_iobus *mmio, uint64_t bar, unsigned flags, unsigned qsize)
{
	uint32_t f = 1u << VS_VIRTIO_NET_F_MAC;

	if (flags & 1)
		f |= 1u << VS_VIRTIO_F_EVENT_IDX;
	if (flags & 2)
		f |= 1u << VS_VIRTIO_F_INDIRECT_DESC;
	if (flags & 4)
		f |= 1u << VS_VIRTIO_NET_F_MRG_RXBUF;
	if (flags & 8)
		f |= 1u << VS_VIRTIO_NET_F_CSUM | 1u << VS_VIRTIO_NET_F_HOST_TSO4;
	mmio_wr(mmio, bar + 0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER, 1);
	mmio_wr(mmio, bar + 0x08, 0, 4);
	mmio_wr(mmio, bar + 0x0c, f, 4);
	mmio_wr(mmio, bar + 0x08, 1, 4);
	mmio_wr(mmio, bar + 0x0c, 1, 4);
	mmio_wr(mmio, bar + 0x14, 0xb, 1);
	queue(mmio, bar, 0, qsize, 0);
	queue(mmio, bar, 1, qsize, TX_OFF);
}

/* Two frames from the backend, waiting before the driver is ready. */
static void backend_frames(int peer, const uint8_t *h)
{
	static uint8_t frame[VS_VIRTIO_NET_HDR_LEN + 65535];
	size_t len[2] = { 64u * h[2], 256u * h[3] };

	for (unsigned i = 0; i < 2; i++) {
		memset(frame, 0xa5, sizeof(frame));
		memset(frame, 0, VS_VIRTIO_NET_HDR_LEN);
		if (h[0] & 16)
			frame[1] = 1; /* GSO TCPv4 */
		if (len[i] > sizeof(frame))
			len[i] = sizeof(frame);
		if (len[i])
			(void)send(peer, frame, len[i], MSG_DONTWAIT);
	}
}

/* Waits (at most 50 ms) for the I/O thread to take what the backend holds. */
static void settle(int devfd)
{
	for (int i = 0; i < 50; i++) {
		int n = 0;

		if (ioctl(devfd, FIONREAD, &n) < 0 || n == 0)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

static void drive(struct vs_iobus *mmio, int peer, int devfd, const uint8_t *h)
{
	uint64_t bar = VS_VIRTIO_PCI_MMIO_BASE;
	uint8_t sink[512];

	init(mmio, bar, h[0], 1u + h[1]);
	backend_frames(peer, h);
	mmio_wr(mmio, bar + 0x14, 0xf, 1);
	mmio_wr(mmio, bar + VS_VIRTIO_PCI_NOTIFY + VS_VIRTIO_PCI_NOTIFY_MULT, 1, 2); /* TX */
	mmio_wr(mmio, bar + VS_VIRTIO_PCI_NOTIFY, 0, 2); /* RX: buffers are there */
	settle(devfd);
	while (recv(peer, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		; /* what the guest sent */
}

int fuzz_net_one(const uint8_t *data, size_t size)
{
	static struct vs_iobus pio, mmio;
	struct vq_harness h;
	struct vs_pci_bus *bus = NULL;
	struct vs_virtio_net *net = NULL;
	struct vs_virtio_net_config cfg = { .mac = { 0x52, 0x54, 0, 0, 0, 1 } };
	uint8_t *ram;
	int sv[2], r;

	if (size < HDR)
		return 0;
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(ram);
		return -errno;
	}
	memcpy(ram, data + HDR, size - HDR < RAM_SIZE ? size - HDR : RAM_SIZE);
	vqh_init(&h, ram, 1u + data[1]);
	vs_iobus_init(&pio, "pio");
	vs_iobus_init(&mmio, "mmio");
	cfg.fd = sv[0];
	r = vs_pci_bus_new(&bus);
	if (r >= 0) {
		struct vs_virtio_pci_env env = { .pci = bus,
						 .mmio = &mmio,
						 .dma = &h.dma,
						 .irq_line = no_irq,
						 .msi = no_msi,
						 .ioeventfd = no_ioeventfd,
						 .bar_addr = VS_VIRTIO_PCI_MMIO_BASE };

		r = vs_virtio_net_new(&env, &cfg, &net); /* owns sv[0] from here */
	} else {
		close(sv[0]);
	}
	if (r >= 0)
		drive(&mmio, sv[1], sv[0], data);
	vs_virtio_net_free(net);
	vs_pci_bus_free(bus);
	close(sv[1]);
	free(ram);
	return r < 0 ? r : 1;
}
