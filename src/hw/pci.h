/* PCI: root bus 0 behind configuration mechanism #1 (ports 0xCF8 address,
 * 0xCFC-0xCFF data) and a type-0 device model (pci-dev.c): config space
 * with per-bit write masks, BARs that size the standard way (write ~0, read
 * back) and call the device to map or unmap them when the guest programs
 * them or toggles decoding, a capability-list builder, INTx, and MSI-X
 * (hw/pci-msix.h). Slot 0 is the host bridge.
 *
 * Locking: config reads and writes run under the bus lock, so a device's
 * bar_map/bar_unmap/cfg_written callbacks do too; they may change the I/O
 * buses (vs_iobus add/move/remove) but must not access config space. */
#ifndef VS_HW_PCI_H
#define VS_HW_PCI_H

#include "hw/power.h"

#include <stdbool.h>
#include <stdint.h>

#define VS_PCI_CONFIG_ADDR 0xcf8
#define VS_PCI_CONFIG_DATA 0xcfc
#define VS_PCI_MAX_SLOTS 32
#define VS_PCI_CFG_SIZE 256
#define VS_PCI_NUM_BARS 6

#define VS_PCI_HOST_VENDOR 0x8086
#define VS_PCI_HOST_DEVICE 0x0d57
#define VS_PCI_CLASS_HOST_BRIDGE 0x060000

/* Type-0 header offsets (PCI Local Bus 3.0 §6.1) */
#define VS_PCI_COMMAND 0x04
#define VS_PCI_STATUS 0x06
#define VS_PCI_BAR0 0x10
#define VS_PCI_SUBSYS_VENDOR 0x2c
#define VS_PCI_SUBSYS_ID 0x2e
#define VS_PCI_CAP_PTR 0x34
#define VS_PCI_INTERRUPT_LINE 0x3c
#define VS_PCI_INTERRUPT_PIN 0x3d
#define VS_PCI_CMD_IO 0x0001
#define VS_PCI_CMD_MEM 0x0002
#define VS_PCI_CMD_MASTER 0x0004
#define VS_PCI_CMD_INTX_OFF 0x0400
#define VS_PCI_STATUS_INTX 0x0008
#define VS_PCI_STATUS_CAPS 0x0010
#define VS_PCI_CAP_ID_VNDR 0x09
#define VS_PCI_CAP_ID_MSIX 0x11

/* BAR kinds for vs_pci_set_bar() */
#define VS_PCI_BAR_MEM32 0x0
#define VS_PCI_BAR_IO 0x1
#define VS_PCI_BAR_MEM64 0x4
#define VS_PCI_BAR_PREFETCH 0x8

/* INTx: slot s, pin p (1 = INTA .. 4 = INTD) raises IOAPIC pin
 * VS_PCI_INTX_GSI_BASE + (s + p - 1) % VS_PCI_INTX_GSIS, which is what the
 * MP table tells the guest. */
#define VS_PCI_INTX_GSI_BASE 16
#define VS_PCI_INTX_GSIS 8

struct vs_pci_bus;
struct vs_pci_device;
struct vs_pci_msix;
struct vs_iobus;

struct vs_pci_dev_ops {
	/* BAR bar starts (map) or stops (unmap) decoding at [addr, addr+size):
	 * the guest wrote its address or toggled the command register. A move
	 * is an unmap of the old address, then a map of the new. Optional. */
	void (*bar_map)(struct vs_pci_device *dev, unsigned bar, uint64_t addr, uint64_t size);
	void (*bar_unmap)(struct vs_pci_device *dev, unsigned bar, uint64_t addr, uint64_t size);
	/* After a guest write to [off, off+len) was applied. Optional. */
	void (*cfg_written)(struct vs_pci_device *dev, unsigned off, unsigned len);
};

struct vs_pci_bar {
	uint64_t size; /* power of two; 0: unused (or the upper half of a 64-bit BAR) */
	unsigned flags; /* VS_PCI_BAR_* */
	bool upper; /* the upper half of the 64-bit BAR before it */
	bool mapped;
	uint64_t addr; /* where it decodes while mapped */
};

/* A function's configuration space. Bits whose wmask bit is clear are
 * read-only to the guest. */
struct vs_pci_device {
	uint8_t cfg[VS_PCI_CFG_SIZE];
	uint8_t wmask[VS_PCI_CFG_SIZE];
	struct vs_pci_bar bars[VS_PCI_NUM_BARS];
	unsigned cap_end; /* first free byte for the next capability */
	unsigned last_cap; /* offset of the last capability, 0: none */
	const struct vs_pci_dev_ops *ops;
	struct vs_pci_msix *msix; /* set by vs_pci_msix_new() */
	int slot; /* -1 until added to a bus */
	void *opaque;
};

int vs_pci_bus_new(struct vs_pci_bus **out);
void vs_pci_bus_free(struct vs_pci_bus *bus);
/* Registers 0xCF8-0xCFF; a byte write to 0xCF9 with bit 2 set is a reset
 * request through power (which must outlive the bus). */
int vs_pci_bus_attach(struct vs_pci_bus *bus, struct vs_iobus *pio, const struct vs_power *power);

/* Adds dev at the first free slot (not owned) and routes its INTx pin.
 * Returns the slot or -ENOSPC. */
int vs_pci_add_device(struct vs_pci_bus *bus, struct vs_pci_device *dev);

/* Takes dev off the bus (its slot reads all-ones again). */
void vs_pci_remove_device(struct vs_pci_bus *bus, struct vs_pci_device *dev);

/* Fills the standard type-0 header fields (read-only: the host bridge). */
void vs_pci_init_header(struct vs_pci_device *dev, uint16_t vendor, uint16_t device,
			uint32_t class_code, uint8_t header_type);

/* A guest-programmable type-0 function: the header plus write masks for
 * command, cache line, latency and interrupt line. */
void vs_pci_device_init(struct vs_pci_device *dev, uint16_t vendor, uint16_t device,
			uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id,
			const struct vs_pci_dev_ops *ops, void *opaque);

/* Declares BAR bar of size bytes (a power of two, >= 16 for memory, >= 4
 * for I/O; I/O at most 256). A 64-bit BAR takes bar and bar+1. Returns 0
 * or -EINVAL. Before the device is added. */
int vs_pci_set_bar(struct vs_pci_device *dev, unsigned bar, uint64_t size, unsigned flags);

/* Appends a capability of len bytes (>= 2: id and next are filled) to the
 * list, 4-aligned. Returns its config offset or -ENOSPC. The caller fills
 * the body and marks guest-writable bits with vs_pci_set_wmask(). */
int vs_pci_add_cap(struct vs_pci_device *dev, uint8_t id, unsigned len);
void vs_pci_set_wmask(struct vs_pci_device *dev, unsigned off, unsigned len, uint8_t mask);

/* Sets the interrupt pin (1 = INTA .. 4 = INTD; 0 none). Before adding. */
void vs_pci_set_intx_pin(struct vs_pci_device *dev, unsigned pin);
/* The GSI the function's INTx raises, or -1 without a pin or a slot. */
int vs_pci_intx_gsi(const struct vs_pci_device *dev);
/* Whether the guest disabled INTx (command bit 10). */
bool vs_pci_intx_disabled(const struct vs_pci_device *dev);

/* Config access as the guest sees it (len 1, 2 or 4, inside the space).
 * vs_pci_cfg_write applies the write masks, remaps BARs and calls the
 * device. The bus calls these under its lock. */
uint32_t vs_pci_cfg_read(const struct vs_pci_device *dev, unsigned off, unsigned len);
void vs_pci_cfg_write(struct vs_pci_device *dev, unsigned off, uint32_t val, unsigned len);

/* Unmaps every BAR (calling bar_unmap): device removal or VM reset. */
void vs_pci_unmap_bars(struct vs_pci_device *dev);

#endif
