/* The device registry and a VM's device list: the PC devices realized
 * from the registry answer on their ports, a second host bridge or COM1 is
 * refused with one line, unknown types are named, and
 * freeing unregisters everything (the ports read all-ones again). */
#include "vmm/device.h"
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "vmm/memory.h"
#include "hw/iobus.h"
#include "common/err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void fake_irq_line(struct vs_vm *vm, unsigned gsi, int level)
{
	(void)vm;
	(void)gsi;
	(void)level;
}

static const struct vs_accel_ops fake_accel = { .name = "fake", .irq_line = fake_irq_line };

static struct vs_vm vm;

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	vm.accel = &fake_accel;
	vm.cfg.out_fd = -1;
	vs_iobus_init(&vm.pio, "pio");
	vs_iobus_init(&vm.mmio, "mmio");
	return vs_guest_mem_new(16 << 20, &vm.mem);
}

static int teardown(void **state)
{
	(void)state;
	vs_vm_devices_free(&vm);
	vs_guest_mem_free(vm.mem);
	return 0;
}

static uint32_t pci_id(void)
{
	uint32_t a = 0x80000000u, v = 0;

	vs_iobus_access(&vm.pio, 0xcf8, true, &a, 4);
	vs_iobus_access(&vm.pio, 0xcfc, false, &v, 4);
	return v;
}

static void test_registry(void **state)
{
	unsigned n = 0;

	(void)state;
	for (const struct vs_device_ops *t; (t = vs_device_type(n)); n++) {
		assert_non_null(t->name);
		assert_non_null(t->realize);
		assert_ptr_equal(vs_device_lookup(t->name), t);
	}
	assert_true(n >= 4);
	assert_null(vs_device_lookup("no-such-device"));
}

static void test_pc_devices(void **state)
{
	struct vs_err *err = NULL;
	uint8_t b = 0;

	(void)state;
	assert_int_equal(pci_id(), 0xffffffff);
	assert_int_equal(vs_vm_device_add(&vm, "serial", NULL, &err), 0);
	assert_int_equal(vs_vm_device_add(&vm, "rtc", NULL, &err), 0);
	assert_int_equal(vs_vm_device_add(&vm, "pci-host", NULL, &err), 0);
	assert_int_equal(vs_vm_device_add(&vm, "legacy", NULL, &err), 0);
	assert_null(err);
	assert_non_null(vm.serial);
	assert_non_null(vm.rtc);
	assert_non_null(vm.pci);
	/* they answer */
	assert_int_equal(pci_id(), 0x0d578086);
	assert_true(vs_iobus_access(&vm.pio, 0x3fd, false, &b, 1)); /* LSR */
	assert_true(b & 0x20); /* THR empty */
	assert_true(vs_iobus_access(&vm.pio, 0x71, false, &b, 1));
	/* no keyboard controller: the i8042 ports read as an empty bus, so a
	 * guest's probe gives up at once (it took Linux ~1 s of timeouts) */
	assert_true(vs_iobus_access(&vm.pio, 0x64, false, &b, 1));
	assert_int_equal(b, 0xff);
	assert_true(vs_iobus_access(&vm.pio, 0x60, false, &b, 1));
	assert_int_equal(b, 0xff);
	/* a second host bridge or COM1 is refused, nothing half-made */
	assert_int_equal(vs_vm_device_add(&vm, "pci-host", NULL, &err), -EEXIST);
	assert_non_null(strstr(err->msg, "PCI host bridge"));
	vs_err_free(err);
	err = NULL;
	assert_int_equal(vs_vm_device_add(&vm, "serial", NULL, &err), -EEXIST);
	assert_non_null(strstr(err->msg, "0x3f8"));
	vs_err_free(err);
	err = NULL;
	assert_int_equal(vs_vm_device_add(&vm, "virtio-nothing", NULL, &err), -ENOENT);
	assert_string_equal(err->msg, "no device type 'virtio-nothing'");
	vs_err_free(err);
	vs_vm_devices_reset(&vm);
	/* freeing unregisters: the ports are gone, the fields cleared */
	vs_vm_devices_free(&vm);
	assert_null(vm.devices);
	assert_null(vm.serial);
	assert_null(vm.pci);
	assert_int_equal(pci_id(), 0xffffffff);
	assert_false(vs_iobus_access(&vm.pio, 0x3fd, false, &b, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test_setup_teardown(test_pc_devices, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
