/* The ACPI fixed hardware of vessel's machine (ACPI 6.4 §4.8): the PM1a
 * event block (PM1_STS, PM1_EN) and control block (PM1_CNT) on I/O ports,
 * as a PC chipset has them, and the SCI on ISA IRQ 9. The FADT built in
 * vmm/arch/x86/acpi.c points at these ports.
 *  - Writing SLP_TYP = VS_ACPI_S5_TYP with SLP_EN to PM1_CNT is the soft-off
 *    state S5 (the DSDT's \_S5 carries that value): the machine powers off.
 *    Other sleep types are not advertised and are ignored.
 *  - vs_acpi_pm_power_button() sets PM1_STS.PWRBTN_STS, the fixed-feature
 *    power button: the SCI is asserted (level) while any status bit is set
 *    whose enable bit is set, as the spec's SCI logic says (§4.8.3.1).
 * Reset is not here: the FADT's reset register is port 0xCF9 (hw/pci.c). */
#ifndef VS_HW_ACPI_PM_H
#define VS_HW_ACPI_PM_H

#include "hw/irq.h"
#include "hw/power.h"

#include <stdint.h>

#define VS_ACPI_PM1A_EVT 0x600 /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define VS_ACPI_PM1_EVT_LEN 4
#define VS_ACPI_PM1A_CNT 0x604
#define VS_ACPI_PM1_CNT_LEN 2
#define VS_ACPI_SCI_IRQ 9
#define VS_ACPI_S5_TYP 5 /* the SLP_TYP value of \_S5 */

/* PM1_STS / PM1_EN bits (§4.8.3.1) */
#define VS_ACPI_PM1_TMR 0x0001
#define VS_ACPI_PM1_GBL 0x0020
#define VS_ACPI_PM1_PWRBTN 0x0100
#define VS_ACPI_PM1_WAK 0x8000 /* status only */
/* PM1_CNT bits (§4.8.3.2.1) */
#define VS_ACPI_PM1_SCI_EN 0x0001
#define VS_ACPI_PM1_SLP_TYP_SHIFT 10
#define VS_ACPI_PM1_SLP_TYP_MASK 0x1c00
#define VS_ACPI_PM1_SLP_EN 0x2000

struct vs_iobus;
struct vs_acpi_pm;

/* sci and power are copied; power's context must outlive the device. */
void vs_acpi_pm_new(const struct vs_irq_line *sci, const struct vs_power *power,
		    struct vs_acpi_pm **out);
/* Registers both blocks. Returns 0 or -errno (-EEXIST: a port is taken). */
int vs_acpi_pm_attach(struct vs_acpi_pm *pm, struct vs_iobus *pio);
void vs_acpi_pm_detach(struct vs_acpi_pm *pm, struct vs_iobus *pio);
void vs_acpi_pm_free(struct vs_acpi_pm *pm);
/* Back to power-on state: no status, nothing enabled, SCI low. */
void vs_acpi_pm_reset(struct vs_acpi_pm *pm);

/* Presses the power button (any thread): the guest's OSPM sees a
 * PWRBTN_STS event once it has enabled it. */
void vs_acpi_pm_power_button(struct vs_acpi_pm *pm);

#endif
