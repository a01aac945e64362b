/* PCI root bus with configuration mechanism #1 (ports 0xCF8 address,
 * 0xCFC-0xCFF data). Slot 0 is the host bridge; virtio devices will take
 * further slots through vs_pci_add_device(). */
#ifndef VS_HW_PCI_H
#define VS_HW_PCI_H

#include "hw/power.h"

#include <stdint.h>

#define VS_PCI_CONFIG_ADDR 0xcf8
#define VS_PCI_CONFIG_DATA 0xcfc
#define VS_PCI_MAX_SLOTS   32
#define VS_PCI_CFG_SIZE	   256

#define VS_PCI_HOST_VENDOR 0x8086
#define VS_PCI_HOST_DEVICE 0x0d57
#define VS_PCI_CLASS_HOST_BRIDGE 0x060000

struct vs_pci_bus;
struct vs_iobus;

/* A device's configuration space; cfg_write may be NULL (read-only header). */
struct vs_pci_device {
	uint8_t cfg[VS_PCI_CFG_SIZE];
	void (*cfg_write)(struct vs_pci_device *dev, unsigned off, uint32_t val, unsigned len);
	void *opaque;
};

int vs_pci_bus_new(struct vs_pci_bus **out);
void vs_pci_bus_free(struct vs_pci_bus *bus);
/* Registers 0xCF8-0xCFF; a byte write to 0xCF9 with bit 2 set is a reset
 * request through power (which must outlive the bus). */
int vs_pci_bus_attach(struct vs_pci_bus *bus, struct vs_iobus *pio, const struct vs_power *power);

/* Adds dev at the first free slot (not owned). Returns the slot or -ENOSPC. */
int vs_pci_add_device(struct vs_pci_bus *bus, struct vs_pci_device *dev);

/* Fills the standard type-0 header fields. */
void vs_pci_init_header(struct vs_pci_device *dev, uint16_t vendor, uint16_t device,
			uint32_t class_code, uint8_t header_type);

#endif
