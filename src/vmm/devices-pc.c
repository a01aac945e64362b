/* Registry entries for the PC devices every VM has: COM1, the CMOS RTC,
 * the PCI host bridge (with 0xCF9 reset) and the legacy ports (exit device,
 * port 0x80...). vm.c's create_devices() adds them first; each realize
 * fills its vm field (vm->serial, vm->rtc, vm->pci) for run.c. */
#include "vmm/device.h"
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "vmm/memory.h"
#include "hw/legacy.h"
#include "hw/pci.h"
#include "hw/rtc.h"
#include "hw/serial.h"
#include "common/err.h"

#include <errno.h>
#include <stddef.h>

static void set_irq(void *ctx, unsigned gsi, int level)
{
	struct vs_vm *vm = ctx;

	vm->accel->irq_line(vm, gsi, level);
}

static int serial_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	struct vs_irq_line irq = { set_irq, vm, VS_SERIAL_COM1_IRQ };
	struct vs_serial *s;
	int r;

	(void)opts;
	r = vs_serial_new(vm->cfg.out_fd, &irq, &s);
	if (r < 0)
		return vs_err_setsys(err, r, "serial port");
	r = vs_serial_attach(s, &vm->pio, VS_SERIAL_COM1_BASE);
	if (r < 0) {
		vs_serial_free(s);
		return vs_err_set(err, r, "serial port: ports 0x%x-0x%x taken", VS_SERIAL_COM1_BASE,
				  VS_SERIAL_COM1_BASE + VS_SERIAL_NREGS - 1);
	}
	vm->serial = s;
	*state = s;
	return 0;
}

static void serial_unrealize(struct vs_vm *vm, void *state)
{
	vs_iobus_remove(&vm->pio, VS_SERIAL_COM1_BASE);
	if (vm->serial == state)
		vm->serial = NULL;
	vs_serial_free(state);
}

const struct vs_device_ops vs_dev_serial = {
	.name = "serial",
	.realize = serial_realize,
	.unrealize = serial_unrealize,
};

static int rtc_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	struct vs_rtc *rtc;
	int r;

	(void)opts;
	r = vs_rtc_new(vs_guest_mem_low(vm->mem), vs_guest_mem_high(vm->mem), &rtc);
	if (r < 0)
		return vs_err_setsys(err, r, "RTC");
	r = vs_rtc_attach(rtc, &vm->pio);
	if (r < 0) {
		vs_rtc_free(rtc);
		return vs_err_set(err, r, "RTC: ports 0x%x-0x%x taken", VS_RTC_PORT,
				  VS_RTC_PORT + 1);
	}
	vm->rtc = rtc;
	*state = rtc;
	return 0;
}

static void rtc_unrealize(struct vs_vm *vm, void *state)
{
	vs_iobus_remove(&vm->pio, VS_RTC_PORT);
	if (vm->rtc == state)
		vm->rtc = NULL;
	vs_rtc_free(state);
}

const struct vs_device_ops vs_dev_rtc = {
	.name = "rtc",
	.realize = rtc_realize,
	.unrealize = rtc_unrealize,
};

static int pci_host_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	struct vs_pci_bus *bus;
	int r;

	(void)opts;
	if (vm->pci)
		return vs_err_set(err, -EEXIST, "PCI host bridge: the VM has one");
	vs_pci_bus_new(&bus);
	r = vs_pci_bus_attach(bus, &vm->pio, &vm->power);
	if (r < 0) {
		vs_pci_bus_free(bus);
		return vs_err_set(err, r, "PCI host bridge: ports 0xcf8-0xcff taken");
	}
	vm->pci = bus;
	*state = bus;
	return 0;
}

static void pci_host_unrealize(struct vs_vm *vm, void *state)
{
	vs_iobus_remove(&vm->pio, VS_PCI_CONFIG_ADDR);
	if (vm->pci == state)
		vm->pci = NULL;
	vs_pci_bus_free(state);
}

const struct vs_device_ops vs_dev_pci_host = {
	.name = "pci-host",
	.realize = pci_host_realize,
	.unrealize = pci_host_unrealize,
};

static int legacy_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	int r;

	(void)opts;
	r = vs_legacy_attach(&vm->pio, &vm->power);
	if (r < 0)
		return vs_err_set(err, r, "legacy ports: taken");
	*state = NULL;
	return 0;
}

const struct vs_device_ops vs_dev_legacy = {
	.name = "legacy",
	.realize = legacy_realize,
	/* The legacy ports have no state; they go with the bus. */
};
