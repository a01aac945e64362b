/* Registry entry for the ACPI PM1 blocks (hw/acpi-pm.h), a PC device every
 * VM has (vm.c's create_devices()): the S5 power-off and the fixed-feature
 * power button behind the FADT that arch/x86/acpi.c writes. Fills
 * vm->acpi_pm for vs_vm_power_button(). */
#include "vmm/device.h"
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "hw/acpi-pm.h"
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

void vs_vm_power_button(struct vs_vm *vm)
{
	if (vm->acpi_pm)
		vs_acpi_pm_power_button(vm->acpi_pm);
}
