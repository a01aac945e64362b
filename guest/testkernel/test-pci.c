/* test-pci.c - bus 0 enumeration through configuration mechanism #1 (0xCF8/0xCFC). */
#include "arch.h"
#include "console.h"
#include "tests.h"

#define PCI_CONFIG_ADDR 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_CLASS_BRIDGE_HOST 0x0600

static uint32_t pci_read32(unsigned int dev, unsigned int fn, unsigned int off)
{
	outl(PCI_CONFIG_ADDR, 0x80000000u | (dev << 11) | (fn << 8) | (off & 0xFC));
	return inl(PCI_CONFIG_DATA);
}

int test_pci(const char *arg)
{
	unsigned int found = 0;
	bool host_bridge = false;
	uint32_t id0 = 0, class0 = 0;

	(void)arg;
	for (unsigned int dev = 0; dev < 32; dev++) {
		for (unsigned int fn = 0; fn < 8; fn++) {
			uint32_t id = pci_read32(dev, fn, 0x00), cls;

			if ((id & 0xFFFF) == 0xFFFF) {
				if (fn == 0)
					break;
				continue;
			}
			cls = pci_read32(dev, fn, 0x08) >> 8;
			kprintf("pci: 00:%02x.%u %04x:%04x class %06x\n", dev, fn, id & 0xFFFF,
				id >> 16, cls);
			found++;
			if (dev == 0 && fn == 0) {
				id0 = id;
				class0 = cls;
				host_bridge = (cls >> 8) == PCI_CLASS_BRIDGE_HOST;
			}
			/* Header type bit 7: functions 1-7 exist only on multi-function devices. */
			if (fn == 0 && !(pci_read32(dev, 0, 0x0C) & 0x800000))
				break;
		}
	}
	kprintf("pci: functions=%u\n", found);
	if (!found)
		return test_fail("no PCI function answers on bus 0");
	if (!host_bridge)
		return test_fail("00:00.0 is not a host bridge (id %08x class %06x)", id0, class0);
	return 0;
}
