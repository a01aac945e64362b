/* The type-0 PCI function model (PCI Local Bus 3.0 §6): write masks, BAR
 * sizing and mapping, the capability list, INTx. BAR sizing needs no code:
 * the address bits below the size are read-only (wmask), so writing ~0
 * reads back ~(size-1) plus the type bits, as on hardware. */
#include "hw/pci.h"
#include "hw/pci-msix.h"

#include <errno.h>
#include <string.h>

#define CAP_FIRST 0x40
#define BAR_IO_MASK 0x3u
#define BAR_MEM_MASK 0xfu
#define IO_SPACE_END 0x10000ull
#define IO_BAR_MAX 256

static uint32_t get32(const struct vs_pci_device *dev, unsigned off)
{
	uint32_t v;

	memcpy(&v, &dev->cfg[off], 4);
	return v;
}

static void put(uint8_t *p, uint64_t v, unsigned len)
{
	memcpy(p, &v, len);
}

void vs_pci_init_header(struct vs_pci_device *dev, uint16_t vendor, uint16_t device,
			uint32_t class_code, uint8_t header_type)
{
	memset(dev, 0, sizeof(*dev));
	dev->slot = -1;
	put(&dev->cfg[0x00], vendor, 2);
	put(&dev->cfg[0x02], device, 2);
	dev->cfg[0x09] = class_code & 0xff; /* prog-if */
	dev->cfg[0x0a] = (class_code >> 8) & 0xff;
	dev->cfg[0x0b] = (class_code >> 16) & 0xff;
	dev->cfg[0x0e] = header_type;
}

void vs_pci_device_init(struct vs_pci_device *dev, uint16_t vendor, uint16_t device,
			uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id,
			const struct vs_pci_dev_ops *ops, void *opaque)
{
	vs_pci_init_header(dev, vendor, device, class_code, 0);
	put(&dev->cfg[VS_PCI_SUBSYS_VENDOR], subsys_vendor, 2);
	put(&dev->cfg[VS_PCI_SUBSYS_ID], subsys_id, 2);
	put(&dev->wmask[VS_PCI_COMMAND],
	    VS_PCI_CMD_IO | VS_PCI_CMD_MEM | VS_PCI_CMD_MASTER | VS_PCI_CMD_INTX_OFF, 2);
	dev->wmask[0x0c] = 0xff; /* cache line size */
	dev->wmask[0x0d] = 0xff; /* latency timer */
	dev->wmask[VS_PCI_INTERRUPT_LINE] = 0xff;
	dev->cap_end = CAP_FIRST;
	dev->ops = ops;
	dev->opaque = opaque;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int vs_pci_set_bar(struct vs_pci_device *dev, unsigned bar, uint64_t size, unsigned flags)
{
	bool io = flags & VS_PCI_BAR_IO, wide = flags & VS_PCI_BAR_MEM64;
	uint64_t mask = ~(size - 1);
	unsigned off = VS_PCI_BAR0 + 4 * bar;

	if (bar >= VS_PCI_NUM_BARS || (wide && (io || bar + 1 >= VS_PCI_NUM_BARS)) ||
	    !is_pow2(size) || size < (io ? 4 : 16) || (io && size > IO_BAR_MAX) ||
	    (!wide && size > (1ull << 31)) || dev->bars[bar].size || dev->bars[bar].upper ||
	    (wide && dev->bars[bar + 1].size))
		return -EINVAL;
	dev->bars[bar] = (struct vs_pci_bar){ .size = size, .flags = flags };
	if (wide)
		dev->bars[bar + 1].upper = true;
	put(&dev->cfg[off], flags & (io ? BAR_IO_MASK : BAR_MEM_MASK), 4);
	put(&dev->wmask[off], mask & ~(uint64_t)(io ? BAR_IO_MASK : BAR_MEM_MASK), 4);
	if (wide)
		put(&dev->wmask[off + 4], mask >> 32, 4);
	return 0;
}

int vs_pci_add_cap(struct vs_pci_device *dev, uint8_t id, unsigned len)
{
	unsigned off = (dev->cap_end + 3) & ~3u;

	if (len < 2 || off < CAP_FIRST || off + len > VS_PCI_CFG_SIZE)
		return -ENOSPC;
	dev->cfg[off] = id;
	dev->cfg[off + 1] = 0;
	if (dev->last_cap)
		dev->cfg[dev->last_cap + 1] = (uint8_t)off;
	else
		dev->cfg[VS_PCI_CAP_PTR] = (uint8_t)off;
	dev->cfg[VS_PCI_STATUS] |= VS_PCI_STATUS_CAPS;
	dev->last_cap = off;
	dev->cap_end = off + len;
	return (int)off;
}

void vs_pci_set_wmask(struct vs_pci_device *dev, unsigned off, unsigned len, uint8_t mask)
{
	if (off < VS_PCI_CFG_SIZE && len <= VS_PCI_CFG_SIZE - off)
		memset(&dev->wmask[off], mask, len);
}

void vs_pci_set_intx_pin(struct vs_pci_device *dev, unsigned pin)
{
	dev->cfg[VS_PCI_INTERRUPT_PIN] = pin <= 4 ? (uint8_t)pin : 0;
}

int vs_pci_intx_gsi(const struct vs_pci_device *dev)
{
	unsigned pin = dev->cfg[VS_PCI_INTERRUPT_PIN];

	if (!pin || dev->slot < 0)
		return -1;
	return VS_PCI_INTX_GSI_BASE + (int)(((unsigned)dev->slot + pin - 1) % VS_PCI_INTX_GSIS);
}

bool vs_pci_intx_disabled(const struct vs_pci_device *dev)
{
	return dev->cfg[VS_PCI_COMMAND + 1] & (VS_PCI_CMD_INTX_OFF >> 8);
}

uint32_t vs_pci_cfg_read(const struct vs_pci_device *dev, unsigned off, unsigned len)
{
	uint32_t v = 0;

	if (off < VS_PCI_CFG_SIZE && len <= 4 && len <= VS_PCI_CFG_SIZE - off)
		memcpy(&v, &dev->cfg[off], len);
	return v;
}

/* Where BAR i decodes now, or false: decoding off, the address unset, or
 * a range that does not fit its space. A range ending at the very top (the
 * sizing pattern) counts as unmapped, as in QEMU. */
static bool bar_target(const struct vs_pci_device *dev, unsigned i, uint64_t *addr)
{
	const struct vs_pci_bar *b = &dev->bars[i];
	uint16_t cmd = (uint16_t)vs_pci_cfg_read(dev, VS_PCI_COMMAND, 2);
	bool io = b->flags & VS_PCI_BAR_IO;
	uint64_t a = get32(dev, VS_PCI_BAR0 + 4 * i) & ~(uint64_t)(io ? BAR_IO_MASK : BAR_MEM_MASK);
	uint64_t last;

	if (b->flags & VS_PCI_BAR_MEM64)
		a |= (uint64_t)get32(dev, VS_PCI_BAR0 + 4 * (i + 1)) << 32;
	if (!(cmd & (io ? VS_PCI_CMD_IO : VS_PCI_CMD_MEM)) || !a)
		return false;
	last = a + b->size - 1;
	if (last < a || last == UINT64_MAX)
		return false;
	if (io ? last >= IO_SPACE_END : (!(b->flags & VS_PCI_BAR_MEM64) && last >= UINT32_MAX))
		return false;
	*addr = a;
	return true;
}

static void bar_unmap(struct vs_pci_device *dev, unsigned i)
{
	struct vs_pci_bar *b = &dev->bars[i];

	if (!b->mapped)
		return;
	b->mapped = false;
	if (dev->ops && dev->ops->bar_unmap)
		dev->ops->bar_unmap(dev, i, b->addr, b->size);
}

static void bars_update(struct vs_pci_device *dev)
{
	for (unsigned i = 0; i < VS_PCI_NUM_BARS; i++) {
		struct vs_pci_bar *b = &dev->bars[i];
		uint64_t addr = 0;
		bool on;

		if (!b->size)
			continue;
		on = bar_target(dev, i, &addr);
		if (on == b->mapped && (!on || addr == b->addr))
			continue;
		bar_unmap(dev, i);
		if (!on)
			continue;
		b->mapped = true;
		b->addr = addr;
		if (dev->ops && dev->ops->bar_map)
			dev->ops->bar_map(dev, i, addr, b->size);
	}
}

void vs_pci_unmap_bars(struct vs_pci_device *dev)
{
	for (unsigned i = 0; i < VS_PCI_NUM_BARS; i++)
		bar_unmap(dev, i);
}

static bool overlaps(unsigned off, unsigned len, unsigned start, unsigned end)
{
	return off < end && start < off + len;
}

void vs_pci_cfg_write(struct vs_pci_device *dev, unsigned off, uint32_t val, unsigned len)
{
	if (off >= VS_PCI_CFG_SIZE || len > 4 || len > VS_PCI_CFG_SIZE - off)
		return;
	for (unsigned i = 0; i < len; i++) {
		uint8_t m = dev->wmask[off + i], b = (uint8_t)(val >> (8 * i));

		dev->cfg[off + i] = (uint8_t)((dev->cfg[off + i] & ~m) | (b & m));
	}
	if (overlaps(off, len, VS_PCI_COMMAND, VS_PCI_COMMAND + 2) ||
	    overlaps(off, len, VS_PCI_BAR0, VS_PCI_BAR0 + 4 * VS_PCI_NUM_BARS))
		bars_update(dev);
	if (dev->msix)
		vs_pci_msix_cfg_written(dev->msix, off, len);
	if (dev->ops && dev->ops->cfg_written)
		dev->ops->cfg_written(dev, off, len);
}
