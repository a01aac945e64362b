/* Registry entries for the devices only the ACPI tables (arch/x86/acpi.c)
 * describe, PC devices every VM has (vm.c's create_devices()):
 *  - acpi-pm: the PM1 blocks (hw/acpi-pm.h), S5 power-off and the
 *    fixed-feature power button; fills vm->acpi_pm for vs_vm_power_button();
 *  - pvpanic: the DSDT's QEMU0001 port (hw/pvpanic.h). */
#include "vmm/device.h"
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "hw/acpi-pm.h"
#include "hw/pvpanic.h"
#include "common/err.h"

static void set_irq(void *ctx, unsigned gsi, int level)
{
	struct vs_vm *vm = ctx;

	vm->accel->irq_line(vm, gsi, level);
}

static int acpi_pm_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	struct vs_irq_line sci = { set_irq, vm, VS_ACPI_SCI_IRQ };
	struct vs_acpi_pm *pm;
	int r;

	(void)opts;
	vs_acpi_pm_new(&sci, &vm->power, &pm);
	if ((r = vs_acpi_pm_attach(pm, &vm->pio)) < 0) {
		vs_acpi_pm_free(pm);
		return vs_err_set(err, r, "ACPI PM: ports 0x%x-0x%x taken", VS_ACPI_PM1A_EVT,
				  VS_ACPI_PM1A_CNT + VS_ACPI_PM1_CNT_LEN - 1);
	}
	vm->acpi_pm = pm;
	*state = pm;
	return 0;
}

static void acpi_pm_unrealize(struct vs_vm *vm, void *state)
{
	vs_acpi_pm_detach(state, &vm->pio);
	if (vm->acpi_pm == state)
		vm->acpi_pm = NULL;
	vs_acpi_pm_free(state);
}

static void acpi_pm_reset(void *state)
{
	vs_acpi_pm_reset(state);
}

const struct vs_device_ops vs_dev_acpi_pm = {
	.name = "acpi-pm",
	.realize = acpi_pm_realize,
	.unrealize = acpi_pm_unrealize,
	.reset = acpi_pm_reset,
};

static int pvpanic_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	int r;

	(void)opts;
	if ((r = vs_pvpanic_attach(&vm->pio, &vm->power)) < 0)
		return vs_err_set(err, r, "pvpanic: port 0x%x taken", VS_PVPANIC_PORT);
	*state = NULL;
	return 0;
}

static void pvpanic_unrealize(struct vs_vm *vm, void *state)
{
	(void)state;
	vs_pvpanic_detach(&vm->pio);
}

const struct vs_device_ops vs_dev_pvpanic = {
	.name = "pvpanic",
	.realize = pvpanic_realize,
	.unrealize = pvpanic_unrealize,
};

void vs_vm_power_button(struct vs_vm *vm)
{
	if (vm->acpi_pm)
		vs_acpi_pm_power_button(vm->acpi_pm);
}
