/* PCI bus 0 behind configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2).
 * Only bus 0 exists; accesses to other buses or empty slots read all-ones.
 * The function model itself (masks, BARs, capabilities) is pci-dev.c. */
#include "hw/pci.h"
#include "hw/iobus.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#define CFG_ADDR_ENABLE 0x80000000u
/* A byte access to 0xCF9 is the reset control register, not config space. */
#define RESET_CONTROL_OFF 1
#define RESET_CONTROL_CPU 0x04

struct vs_pci_bus {
	pthread_mutex_t lock;
	uint32_t addr; /* last value written to 0xCF8 */
	const struct vs_power *power;
	struct vs_pci_device host_bridge;
	struct vs_pci_device *slots[VS_PCI_MAX_SLOTS];
};

int vs_pci_bus_new(struct vs_pci_bus **out)
{
	struct vs_pci_bus *bus = xzalloc(sizeof(*bus));

	pthread_mutex_init(&bus->lock, NULL);
	vs_pci_init_header(&bus->host_bridge, VS_PCI_HOST_VENDOR, VS_PCI_HOST_DEVICE,
			   VS_PCI_CLASS_HOST_BRIDGE, 0);
	bus->host_bridge.slot = 0;
	bus->slots[0] = &bus->host_bridge;
	*out = bus;
	return 0;
}

void vs_pci_bus_free(struct vs_pci_bus *bus)
{
	if (!bus)
		return;
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

int vs_pci_add_device(struct vs_pci_bus *bus, struct vs_pci_device *dev)
{
	int gsi, r = -ENOSPC;

	pthread_mutex_lock(&bus->lock);
	for (int i = 1; i < VS_PCI_MAX_SLOTS; i++) {
		if (!bus->slots[i]) {
			bus->slots[i] = dev;
			dev->slot = i;
			gsi = vs_pci_intx_gsi(dev);
			dev->cfg[VS_PCI_INTERRUPT_LINE] = gsi < 0 ? 0xff : (uint8_t)gsi;
			r = i;
			break;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return r;
}

void vs_pci_remove_device(struct vs_pci_bus *bus, struct vs_pci_device *dev)
{
	pthread_mutex_lock(&bus->lock);
	if (dev->slot > 0 && dev->slot < VS_PCI_MAX_SLOTS && bus->slots[dev->slot] == dev)
		bus->slots[dev->slot] = NULL;
	dev->slot = -1;
	pthread_mutex_unlock(&bus->lock);
}

/* Decodes the latched address; NULL when it selects nothing. Lock held. */
static struct vs_pci_device *selected(struct vs_pci_bus *bus, unsigned *reg)
{
	uint32_t a = bus->addr;
	unsigned busno = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 0x7;

	if (!(a & CFG_ADDR_ENABLE) || busno != 0 || fn != 0)
		return NULL;
	*reg = a & 0xfc;
	return bus->slots[slot];
}

static void data_read(struct vs_pci_bus *bus, uint64_t off, void *data, unsigned len)
{
	struct vs_pci_device *dev;
	unsigned reg = 0;

	memset(data, 0xff, len);
	dev = selected(bus, &reg);
	if (dev && len <= 4 && reg + off + len <= VS_PCI_CFG_SIZE) {
		uint32_t v = vs_pci_cfg_read(dev, reg + (unsigned)off, len);

		memcpy(data, &v, len);
	}
}

static void data_write(struct vs_pci_bus *bus, uint64_t off, const void *data, unsigned len)
{
	struct vs_pci_device *dev;
	unsigned reg = 0;
	uint32_t v = 0;

	dev = selected(bus, &reg);
	if (!dev || len > 4 || reg + off + len > VS_PCI_CFG_SIZE)
		return;
	memcpy(&v, data, len);
	vs_pci_cfg_write(dev, reg + (unsigned)off, v, len);
}

static void pci_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vs_pci_bus *bus = opaque;

	pthread_mutex_lock(&bus->lock);
	if (off < 4) {
		uint32_t a = bus->addr;

		memset(data, 0, len);
		if (off + len <= 4)
			memcpy(data, (uint8_t *)&a + off, len);
	} else {
		data_read(bus, off - 4, data, len);
	}
	pthread_mutex_unlock(&bus->lock);
}

static void pci_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vs_pci_bus *bus = opaque;

	if (off == RESET_CONTROL_OFF && len == 1) {
		if ((*(const uint8_t *)data & RESET_CONTROL_CPU) && bus->power)
			vs_power_request(bus->power, VS_POWER_RESET, 0);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (off == 0 && len == 4)
		memcpy(&bus->addr, data, 4);
	else if (off >= 4)
		data_write(bus, off - 4, data, len);
	pthread_mutex_unlock(&bus->lock);
}

static const struct vs_io_ops pci_ops = { .read = pci_read, .write = pci_write };

int vs_pci_bus_attach(struct vs_pci_bus *bus, struct vs_iobus *pio, const struct vs_power *power)
{
	bus->power = power;
	return vs_iobus_register(pio, VS_PCI_CONFIG_ADDR, 8, &pci_ops, bus);
}
