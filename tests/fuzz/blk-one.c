/* virtio-blk (virtio/blk.c) behind its PCI transport against a hostile
 * driver: data is a 2-byte header (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC,
 * bit 2 read-only disk; queue size - 1) and then guest RAM from 0x10000 with
 * the rings at the vq harness's offsets (tests/unit/virtio/vq-harness.h).
 * The driver side is set up through the BAR like a guest would, the queue is
 * kicked once, and the device serves whatever chains the rings hold against
 * a 64 KiB raw disk (an unlinked temporary file). ASan sees any access
 * outside the RAM buffer; a request that escapes the disk's range fails in
 * the block layer's range check, which aborts the harness if it is missed. */
#include "fuzz.h"
#include "../unit/virtio/vq-harness.h"
#include "virtio/blk.h"
#include "virtio/pci.h"
#include "hw/iobus.h"
#include "vmm/vm.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR 2
#define DISK_SIZE 65536

static void no_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx, (void)gsi, (void)level;
}

static void no_msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx, (void)addr, (void)data;
}

/* A fresh disk: an O_TMPFILE reopened through /proc (nothing to clean up). */
static int make_disk(char *path, size_t len)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	if (fd < 0 || ftruncate(fd, DISK_SIZE) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

static void mmio_wr(struct vs_iobus *mmio, uint64_t addr, uint32_t v, unsigned len)
{
	vs_iobus_access(mmio, addr, true, &v, len);
}

static void drive(struct vs_iobus *mmio, uint64_t bar, unsigned flags, unsigned qsize)
{
	uint32_t f = 1u << VS_VIRTIO_BLK_F_FLUSH;

	if (flags & 1)
		f |= 1u << VS_VIRTIO_F_EVENT_IDX;
	if (flags & 2)
		f |= 1u << VS_VIRTIO_F_INDIRECT_DESC;
	mmio_wr(mmio, bar + 0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER, 1);
	mmio_wr(mmio, bar + 0x08, 0, 4);
	mmio_wr(mmio, bar + 0x0c, f, 4);
	mmio_wr(mmio, bar + 0x08, 1, 4);
	mmio_wr(mmio, bar + 0x0c, 1, 4);
	mmio_wr(mmio, bar + 0x14, 0xb, 1);
	mmio_wr(mmio, bar + 0x16, 0, 2);
	mmio_wr(mmio, bar + 0x18, qsize, 2);
	mmio_wr(mmio, bar + 0x20, DESC_GPA, 4);
	mmio_wr(mmio, bar + 0x28, AVAIL_GPA, 4);
	mmio_wr(mmio, bar + 0x30, USED_GPA, 4);
	mmio_wr(mmio, bar + 0x1c, 1, 2);
	mmio_wr(mmio, bar + 0x14, 0xf, 1);
	mmio_wr(mmio, bar + VS_VIRTIO_PCI_NOTIFY, 0, 2);
	mmio_wr(mmio, bar + VS_VIRTIO_PCI_NOTIFY, 0, 2); /* a second kick finds nothing new */
}

int fuzz_blk_one(const uint8_t *data, size_t size)
{
	static struct vs_iobus pio, mmio;
	struct vq_harness h;
	struct vs_pci_bus *bus = NULL;
	struct vs_virtio_blk *blk = NULL;
	struct vs_err *err = NULL;
	char path[64];
	uint8_t *ram;
	int fd, r;

	if (size < HDR)
		return 0;
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return -ENOMEM;
	memcpy(ram, data + HDR, size - HDR < RAM_SIZE ? size - HDR : RAM_SIZE);
	vqh_init(&h, ram, 1u + data[1]);
	fd = make_disk(path, sizeof(path));
	vs_iobus_init(&pio, "pio");
	vs_iobus_init(&mmio, "mmio");
	r = fd < 0 ? fd : vs_pci_bus_new(&bus);
	if (r >= 0) {
		struct vs_virtio_pci_env env = { .pci = bus,
						 .mmio = &mmio,
						 .dma = &h.dma,
						 .irq_line = no_irq,
						 .msi = no_msi,
						 .bar_addr = VS_VIRTIO_PCI_MMIO_BASE };
		struct vs_vm_disk d = { .path = path, .format = (char *)"raw", .ro = data[0] & 4 };

		r = vs_virtio_blk_new(&env, &d, &blk, &err);
	}
	if (r >= 0)
		drive(&mmio, VS_VIRTIO_PCI_MMIO_BASE, data[0], 1u + data[1]);
	vs_virtio_blk_free(blk);
	vs_pci_bus_free(bus);
	vs_err_free(err);
	if (fd >= 0)
		close(fd);
	free(ram);
	return r < 0 ? r : 1;
}
