/* Unit tests for the PCI function model: BAR sizing (32/64-bit memory and
 * I/O), map/unmap on address writes and command toggles, the capability
 * list, INTx routing, and MSI-X masking with pending bits. */
#include "hw/iobus.h"
#include "hw/pci.h"
#include "hw/pci-msix.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

struct event {
	char what; /* 'm' map, 'u' unmap */
	unsigned bar;
	uint64_t addr, size;
};

static struct event events[16];
static unsigned nevents;

static void on_map(struct vs_pci_device *dev, unsigned bar, uint64_t addr, uint64_t size)
{
	(void)dev;
	if (nevents < 16)
		events[nevents++] = (struct event){ 'm', bar, addr, size };
}

static void on_unmap(struct vs_pci_device *dev, unsigned bar, uint64_t addr, uint64_t size)
{
	(void)dev;
	if (nevents < 16)
		events[nevents++] = (struct event){ 'u', bar, addr, size };
}

static const struct vs_pci_dev_ops ops = { .bar_map = on_map, .bar_unmap = on_unmap };

static struct vs_pci_device dev;

static int setup(void **state)
{
	(void)state;
	nevents = 0;
	vs_pci_device_init(&dev, 0x1af4, 0x1044, 0xff0000, 0x1af4, 0x44, &ops, NULL);
	assert_int_equal(vs_pci_set_bar(&dev, 0, 0x1000, VS_PCI_BAR_MEM32), 0);
	assert_int_equal(vs_pci_set_bar(&dev, 1, 0x40, VS_PCI_BAR_IO), 0);
	assert_int_equal(vs_pci_set_bar(&dev, 2, 0x4000, VS_PCI_BAR_MEM64 | VS_PCI_BAR_PREFETCH),
			 0);
	return 0;
}

static uint32_t rd(unsigned off)
{
	return vs_pci_cfg_read(&dev, off, 4);
}

static void wr(unsigned off, uint32_t v)
{
	vs_pci_cfg_write(&dev, off, v, 4);
}

static void test_bar_sizing(void **state)
{
	(void)state;
	assert_int_equal(rd(0x10), 0x0); /* mem32, unset */
	assert_int_equal(rd(0x14), 0x1); /* I/O */
	assert_int_equal(rd(0x18), 0xc); /* mem64 prefetchable */
	wr(0x10, 0xffffffff);
	wr(0x14, 0xffffffff);
	wr(0x18, 0xffffffff);
	wr(0x1c, 0xffffffff);
	wr(0x20, 0xffffffff);
	assert_int_equal(rd(0x10), 0xfffff000);
	assert_int_equal(rd(0x14), 0xffffffc1);
	assert_int_equal(rd(0x18), 0xffffc00c);
	assert_int_equal(rd(0x1c), 0xffffffff);
	assert_int_equal(rd(0x20), 0); /* unused BAR: read-only zero */
	/* the header's read-only fields stay */
	wr(0x00, 0);
	assert_int_equal(rd(0x00), 0x10441af4);
	assert_int_equal(nevents, 0); /* decoding is off: nothing mapped */
}

static void test_bad_bars(void **state)
{
	(void)state;
	assert_int_equal(vs_pci_set_bar(&dev, 0, 0x1000, 0), -EINVAL); /* taken */
	assert_int_equal(vs_pci_set_bar(&dev, 3, 0x1000, 0), -EINVAL); /* 64-bit upper half */
	assert_int_equal(vs_pci_set_bar(&dev, 4, 0x1001, 0), -EINVAL);
	assert_int_equal(vs_pci_set_bar(&dev, 4, 8, 0), -EINVAL);
	assert_int_equal(vs_pci_set_bar(&dev, 4, 0x1000, VS_PCI_BAR_IO), -EINVAL);
	assert_int_equal(vs_pci_set_bar(&dev, 5, 0x1000, VS_PCI_BAR_MEM64), -EINVAL);
	assert_int_equal(vs_pci_set_bar(&dev, 6, 0x1000, 0), -EINVAL);
	assert_int_equal(vs_pci_set_bar(&dev, 4, 0x1000, 0), 0);
}

static void expect(unsigned i, char what, unsigned bar, uint64_t addr, uint64_t size)
{
	assert_true(i < nevents);
	assert_int_equal(events[i].what, what);
	assert_int_equal(events[i].bar, bar);
	assert_int_equal(events[i].addr, addr);
	assert_int_equal(events[i].size, size);
}

static void test_mapping(void **state)
{
	(void)state;
	wr(0x10, 0xd0000000);
	wr(0x14, 0x6000);
	wr(0x18, 0x0);
	wr(0x1c, 0x1); /* 0x1_0000_0000 */
	assert_int_equal(nevents, 0);
	vs_pci_cfg_write(&dev, VS_PCI_COMMAND, VS_PCI_CMD_MEM, 2);
	assert_int_equal(nevents, 2);
	expect(0, 'm', 0, 0xd0000000, 0x1000);
	expect(1, 'm', 2, 0x100000000ull, 0x4000);
	vs_pci_cfg_write(&dev, VS_PCI_COMMAND, VS_PCI_CMD_MEM | VS_PCI_CMD_IO, 2);
	assert_int_equal(nevents, 3);
	expect(2, 'm', 1, 0x6000, 0x40);
	/* moving a mapped BAR: unmap old, map new */
	wr(0x10, 0xd0010000);
	assert_int_equal(nevents, 5);
	expect(3, 'u', 0, 0xd0000000, 0x1000);
	expect(4, 'm', 0, 0xd0010000, 0x1000);
	/* writing the same address again changes nothing */
	wr(0x10, 0xd0010000);
	assert_int_equal(nevents, 5);
	/* sizing while decoding: the all-ones pattern is unmapped, not mapped */
	wr(0x10, 0xffffffff);
	assert_int_equal(nevents, 6);
	expect(5, 'u', 0, 0xd0010000, 0x1000);
	wr(0x10, 0xd0010000);
	assert_int_equal(nevents, 7);
	/* an I/O BAR past 64 KiB is not mapped */
	wr(0x14, 0x10000);
	expect(7, 'u', 1, 0x6000, 0x40);
	assert_int_equal(nevents, 8);
	/* memory decode off: both memory BARs go */
	vs_pci_cfg_write(&dev, VS_PCI_COMMAND, VS_PCI_CMD_IO, 2);
	assert_int_equal(nevents, 10);
	expect(8, 'u', 0, 0xd0010000, 0x1000);
	expect(9, 'u', 2, 0x100000000ull, 0x4000);
	vs_pci_cfg_write(&dev, VS_PCI_COMMAND, VS_PCI_CMD_MEM, 2);
	vs_pci_unmap_bars(&dev);
	assert_int_equal(nevents, 14);
}

static void test_capabilities(void **state)
{
	int a, b, c;
	unsigned off, n = 0;
	uint8_t ids[4];

	(void)state;
	assert_int_equal(vs_pci_cfg_read(&dev, VS_PCI_STATUS, 2) & VS_PCI_STATUS_CAPS, 0);
	a = vs_pci_add_cap(&dev, VS_PCI_CAP_ID_VNDR, 16);
	b = vs_pci_add_cap(&dev, VS_PCI_CAP_ID_VNDR, 5); /* next one 4-aligned */
	c = vs_pci_add_cap(&dev, VS_PCI_CAP_ID_VNDR, 20);
	assert_int_equal(a, 0x40);
	assert_int_equal(b, 0x50);
	assert_int_equal(c, 0x58);
	assert_int_equal(vs_pci_add_cap(&dev, VS_PCI_CAP_ID_VNDR, 200), -ENOSPC);
	assert_true(vs_pci_cfg_read(&dev, VS_PCI_STATUS, 2) & VS_PCI_STATUS_CAPS);
	/* walk it as a guest does */
	for (off = vs_pci_cfg_read(&dev, VS_PCI_CAP_PTR, 1); off;
	     off = vs_pci_cfg_read(&dev, off + 1, 1)) {
		assert_true(n < 4);
		ids[n++] = (uint8_t)vs_pci_cfg_read(&dev, off, 1);
	}
	assert_int_equal(n, 3);
	assert_int_equal(ids[2], VS_PCI_CAP_ID_VNDR);
	/* capability bytes are read-only unless marked */
	vs_pci_cfg_write(&dev, (unsigned)a + 4, 0xab, 1);
	assert_int_equal(vs_pci_cfg_read(&dev, (unsigned)a + 4, 1), 0);
	vs_pci_set_wmask(&dev, (unsigned)a + 4, 1, 0xff);
	vs_pci_cfg_write(&dev, (unsigned)a + 4, 0xab, 1);
	assert_int_equal(vs_pci_cfg_read(&dev, (unsigned)a + 4, 1), 0xab);
	/* the next pointer is not guest-writable */
	vs_pci_cfg_write(&dev, (unsigned)a + 1, 0, 1);
	assert_int_equal(vs_pci_cfg_read(&dev, (unsigned)a + 1, 1), b);
}

static void test_intx_and_bus(void **state)
{
	struct vs_pci_bus *bus;
	struct vs_iobus pio;
	uint32_t a, v;

	(void)state;
	vs_pci_set_intx_pin(&dev, 1);
	assert_int_equal(vs_pci_intx_gsi(&dev), -1); /* no slot yet */
	vs_iobus_init(&pio, "pio");
	assert_int_equal(vs_pci_bus_new(&bus), 0);
	assert_int_equal(vs_pci_bus_attach(bus, &pio, NULL), 0);
	assert_int_equal(vs_pci_add_device(bus, &dev), 1);
	assert_int_equal(vs_pci_intx_gsi(&dev), VS_PCI_INTX_GSI_BASE + 1);
	/* through configuration mechanism #1: line and pin */
	a = 0x80000000u | (1 << 11) | VS_PCI_INTERRUPT_LINE;
	vs_iobus_access(&pio, 0xcf8, true, &a, 4);
	vs_iobus_access(&pio, 0xcfc, false, &v, 4);
	assert_int_equal(v & 0xffff, 0x0100 | (VS_PCI_INTX_GSI_BASE + 1));
	/* BAR sizing through the bus */
	a = 0x80000000u | (1 << 11) | 0x10;
	vs_iobus_access(&pio, 0xcf8, true, &a, 4);
	v = 0xffffffff;
	vs_iobus_access(&pio, 0xcfc, true, &v, 4);
	vs_iobus_access(&pio, 0xcfc, false, &v, 4);
	assert_int_equal(v, 0xfffff000);
	assert_false(vs_pci_intx_disabled(&dev));
	vs_pci_cfg_write(&dev, VS_PCI_COMMAND, VS_PCI_CMD_INTX_OFF, 2);
	assert_true(vs_pci_intx_disabled(&dev));
	vs_pci_bus_free(bus);
}

static uint64_t sent_addr;
static uint32_t sent_data;
static int nsent;

static void send(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	sent_addr = addr;
	sent_data = data;
	nsent++;
}

static void tbl_write(struct vs_pci_msix *m, unsigned vec, unsigned field, uint32_t v)
{
	assert_true(vs_pci_msix_write(m, 0x800 + vec * 16 + field, &v, 4));
}

static void test_msix(void **state)
{
	struct vs_pci_msix *m;
	unsigned cap;
	uint32_t v;
	uint64_t pba;

	(void)state;
	nsent = 0;
	assert_int_equal(vs_pci_msix_new(&dev, 3, 0, 0x800, 0x900, send, NULL), 0);
	assert_int_equal(vs_pci_msix_new(&dev, 3, 0, 0x800, 0x900, send, NULL), -EINVAL);
	m = dev.msix;
	cap = vs_pci_cfg_read(&dev, VS_PCI_CAP_PTR, 1);
	assert_int_equal(vs_pci_cfg_read(&dev, cap, 1), VS_PCI_CAP_ID_MSIX);
	assert_int_equal(vs_pci_cfg_read(&dev, cap + 2, 2), 2); /* table size - 1 */
	assert_int_equal(vs_pci_cfg_read(&dev, cap + 4, 4), 0x800);
	assert_int_equal(vs_pci_cfg_read(&dev, cap + 8, 4), 0x900);
	/* disabled: the device must use INTx */
	assert_int_equal(vs_pci_msix_notify(m, 0), -ENODEV);
	vs_pci_cfg_write(&dev, cap + 2, 0x8000, 2);
	assert_true(vs_pci_msix_enabled(m));
	/* vectors start masked: notify leaves them pending */
	assert_true(vs_pci_msix_read(m, 0x800 + 12, &v, 4));
	assert_int_equal(v, 1);
	tbl_write(m, 1, 0, 0xfee00000);
	tbl_write(m, 1, 4, 0);
	tbl_write(m, 1, 8, 0x41);
	assert_int_equal(vs_pci_msix_notify(m, 1), 1);
	assert_int_equal(nsent, 0);
	assert_true(vs_pci_msix_pending(m, 1));
	assert_true(vs_pci_msix_read(m, 0x900, &pba, 8));
	assert_int_equal(pba, 2);
	/* unmasking delivers the pending message and clears the bit */
	tbl_write(m, 1, 12, 0);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent_addr, 0xfee00000);
	assert_int_equal(sent_data, 0x41);
	assert_false(vs_pci_msix_pending(m, 1));
	assert_int_equal(vs_pci_msix_notify(m, 1), 0);
	assert_int_equal(nsent, 2);
	/* function mask: pending, then delivered when cleared */
	vs_pci_cfg_write(&dev, cap + 2, 0xc000, 2);
	assert_int_equal(vs_pci_msix_notify(m, 1), 1);
	assert_int_equal(nsent, 2);
	vs_pci_cfg_write(&dev, cap + 2, 0x8000, 2);
	assert_int_equal(nsent, 3);
	/* out of range, unaligned and PBA writes are refused or dropped */
	assert_int_equal(vs_pci_msix_notify(m, 3), -EINVAL);
	v = 0xffffffff;
	assert_true(vs_pci_msix_write(m, 0x900, &v, 4));
	assert_true(vs_pci_msix_write(m, 0x801, &v, 2));
	assert_true(vs_pci_msix_read(m, 0x800, &v, 4));
	assert_int_equal(v, 0); /* vector 0 untouched by the dropped writes */
	assert_false(vs_pci_msix_read(m, 0x700, &v, 4));
	assert_false(vs_pci_msix_write(m, 0x930, &v, 4));
	/* reset masks everything and disables */
	vs_pci_msix_reset(m);
	assert_false(vs_pci_msix_enabled(m));
	assert_int_equal(vs_pci_cfg_read(&dev, cap + 2, 2), 2);
	vs_pci_msix_free(&dev);
	assert_null(dev.msix);
}

static void test_msix_bad_layout(void **state)
{
	(void)state;
	assert_int_equal(vs_pci_msix_new(&dev, 0, 0, 0, 0x800, send, NULL), -EINVAL);
	assert_int_equal(vs_pci_msix_new(&dev, 4, 1, 0, 0x800, send, NULL), -EINVAL); /* I/O BAR */
	assert_int_equal(vs_pci_msix_new(&dev, 4, 0, 0xff8, 0x800, send, NULL), -EINVAL);
	assert_int_equal(vs_pci_msix_new(&dev, 4, 0, 0x800, 0x810, send, NULL), -EINVAL);
	assert_int_equal(vs_pci_msix_new(&dev, 4, 0, 0x804, 0x900, send, NULL), -EINVAL);
	assert_int_equal(vs_pci_msix_new(&dev, 4, 5, 0, 0x800, send, NULL), -EINVAL);
	assert_null(dev.msix);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bar_sizing),	 T(test_bad_bars),     T(test_mapping),
		T(test_capabilities),	 T(test_intx_and_bus), T(test_msix),
		T(test_msix_bad_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
