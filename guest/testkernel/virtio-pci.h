/* virtio-pci.h - what the test guest's virtio drivers share (virtio 1.2
 * §4.1): PCI config access, BAR addresses, the common-config layout, MMIO
 * accessors and a device's structures found through its capabilities. */
#ifndef VS_TK_VIRTIO_PCI_H
#define VS_TK_VIRTIO_PCI_H

#include "arch.h"
#include "lib.h"

#define PCI_CONFIG_ADDR 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define VIRTIO_VENDOR 0x1AF4

/* common config (§4.1.4.3) */
#define C_DFSEL 0x00
#define C_DF 0x04
#define C_GFSEL 0x08
#define C_GF 0x0C
#define C_STATUS 0x14
#define C_CVEC 0x10
#define C_QSEL 0x16
#define C_QSIZE 0x18
#define C_QVEC 0x1A
#define C_QENA 0x1C
#define C_QNOFF 0x1E
#define C_QDESC 0x20
#define C_QAVAIL 0x28
#define C_QUSED 0x30
#define S_ACK 1
#define S_DRIVER 2
#define S_DRV_OK 4
#define S_FEAT_OK 8
#define S_NEEDS_RESET 0x40
#define DESC_NEXT 1
#define DESC_WRITE 2

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vdev {
	unsigned slot;
	uint64_t common, notify, isr, device; /* device: its config, 0 if none */
	uint32_t notify_mult;
};

static inline uint32_t cfg32(unsigned slot, unsigned off)
{
	outl(PCI_CONFIG_ADDR, 0x80000000u | (slot << 11) | (off & 0xFC));
	return inl(PCI_CONFIG_DATA);
}

static inline void cfg32_write(unsigned slot, unsigned off, uint32_t v)
{
	outl(PCI_CONFIG_ADDR, 0x80000000u | (slot << 11) | (off & 0xFC));
	outl(PCI_CONFIG_DATA, v);
}

static inline uint8_t cfg8(unsigned slot, unsigned off)
{
	return (uint8_t)(cfg32(slot, off) >> (8 * (off & 3)));
}

static inline void w8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)phys(a) = v;
}
static inline void w16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)phys(a) = v;
}
static inline uint8_t r8(uint64_t a)
{
	return *(volatile uint8_t *)phys(a);
}
static inline uint16_t r16(uint64_t a)
{
	return *(volatile uint16_t *)phys(a);
}

static inline uint64_t bar_addr(unsigned slot, unsigned bar)
{
	uint32_t lo = cfg32(slot, 0x10 + 4 * bar);
	uint64_t a = lo & ~0xFu;

	if ((lo & 0x6) == 0x4)
		a |= (uint64_t)cfg32(slot, 0x14 + 4 * bar) << 32;
	return a;
}

/* Fills d from the vendor capabilities of the function in slot. Returns 0
 * when common, notify and ISR were all found. */
static inline int vdev_caps(struct vdev *d, unsigned slot)
{
	d->slot = slot;
	for (unsigned off = cfg8(slot, 0x34); off; off = cfg8(slot, off + 1)) {
		uint64_t at;

		if (cfg8(slot, off) != 0x09)
			continue;
		at = bar_addr(slot, cfg8(slot, off + 4)) + cfg32(slot, off + 8);
		switch (cfg8(slot, off + 3)) {
		case 1:
			d->common = at;
			break;
		case 2:
			d->notify = at;
			d->notify_mult = cfg32(slot, off + 16);
			break;
		case 3:
			d->isr = at;
			break;
		case 4:
			d->device = at;
			break;
		}
	}
	return d->common && d->notify && d->isr ? 0 : -1;
}

/* The end of §3.1.1 once the driver has written its low feature word:
 * VERSION_1 in the high word, FEATURES_OK, then queue 0 of at least qsize
 * entries on the given rings (cleared here), enabled, and DRIVER_OK.
 * Returns the final status (0 when the device refused a step). */
static inline uint8_t vdev_queue0_ready(uint64_t c, void *desc, void *avail, unsigned avail_len,
					void *used, unsigned used_len, uint16_t qsize)
{
	mmio_write32(c + C_GFSEL, 1);
	mmio_write32(c + C_GF, 1);
	w8(c + C_STATUS, S_ACK | S_DRIVER | S_FEAT_OK);
	if (!(r8(c + C_STATUS) & S_FEAT_OK))
		return 0;
	memset(avail, 0, avail_len);
	memset(used, 0, used_len);
	w16(c + C_QSEL, 0);
	if (r16(c + C_QSIZE) < qsize)
		return 0;
	w16(c + C_QSIZE, qsize);
	mmio_write32(c + C_QDESC, (uint32_t)(uintptr_t)desc);
	mmio_write32(c + C_QDESC + 4, 0);
	mmio_write32(c + C_QAVAIL, (uint32_t)(uintptr_t)avail);
	mmio_write32(c + C_QAVAIL + 4, 0);
	mmio_write32(c + C_QUSED, (uint32_t)(uintptr_t)used);
	mmio_write32(c + C_QUSED + 4, 0);
	w16(c + C_QENA, 1);
	w8(c + C_STATUS, S_ACK | S_DRIVER | S_FEAT_OK | S_DRV_OK);
	return r8(c + C_STATUS);
}

#endif
