/* Unit tests for PCI configuration mechanism #1 and the 0xCF9 reset port. */
#include "hw/iobus.h"
#include "hw/pci.h"
#include "hw/power.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static int resets;

static void request(void *ctx, enum vs_power_event why, int status)
{
	(void)ctx;
	(void)status;
	if (why == VS_POWER_RESET)
		resets++;
}

static uint32_t cfg_read(struct vs_iobus *bus, unsigned slot, unsigned reg)
{
	uint32_t a = 0x80000000u | (slot << 11) | reg, v = 0;

	vs_iobus_access(bus, 0xcf8, true, &a, 4);
	vs_iobus_access(bus, 0xcfc, false, &v, 4);
	return v;
}

static void test_host_bridge(void **state)
{
	struct vs_power power = { request, NULL };
	struct vs_pci_bus *pci;
	struct vs_iobus bus;
	uint32_t a = 0x80000000u, v;
	uint16_t w;
	uint8_t b;

	(void)state;
	vs_iobus_init(&bus, "pio");
	assert_int_equal(vs_pci_bus_new(&pci), 0);
	assert_int_equal(vs_pci_bus_attach(pci, &bus, &power), 0);
	assert_int_equal(cfg_read(&bus, 0, 0), (VS_PCI_HOST_DEVICE << 16) | VS_PCI_HOST_VENDOR);
	assert_int_equal(cfg_read(&bus, 0, 8) >> 8, VS_PCI_CLASS_HOST_BRIDGE);
	assert_int_equal(cfg_read(&bus, 1, 0), 0xffffffff);
	assert_int_equal(cfg_read(&bus, 31, 0), 0xffffffff);
	/* the address register reads back */
	vs_iobus_access(&bus, 0xcf8, false, &v, 4);
	assert_int_equal(v, 0x80000000u | (31 << 11));
	/* 16-bit access at 0xCFE reads the device ID */
	vs_iobus_access(&bus, 0xcf8, true, &a, 4);
	vs_iobus_access(&bus, 0xcfe, false, &w, 2);
	assert_int_equal(w, VS_PCI_HOST_DEVICE);
	/* disabled address: all-ones */
	a = 0;
	vs_iobus_access(&bus, 0xcf8, true, &a, 4);
	vs_iobus_access(&bus, 0xcfc, false, &v, 4);
	assert_int_equal(v, 0xffffffff);
	/* reset control */
	b = 0x02;
	vs_iobus_access(&bus, 0xcf9, true, &b, 1);
	assert_int_equal(resets, 0);
	b = 0x06;
	vs_iobus_access(&bus, 0xcf9, true, &b, 1);
	assert_int_equal(resets, 1);
	vs_pci_bus_free(pci);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_bridge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
