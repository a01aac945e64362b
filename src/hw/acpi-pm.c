/* ACPI PM1a event and control blocks (acpi-pm.h). One I/O range covers
 * both, [0x600, 0x606): PM1_STS at +0, PM1_EN at +2, PM1_CNT at +4. The
 * OSPM uses 16-bit accesses (the FADT says so through the GAS access
 * size); byte accesses work too. */
#include "hw/acpi-pm.h"
#include "hw/iobus.h"
#include "common/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PM_RANGE_LEN (VS_ACPI_PM1_EVT_LEN + VS_ACPI_PM1_CNT_LEN)
#define OFF_STS 0
#define OFF_EN 2
#define OFF_CNT 4
/* Status bits this machine can set; the rest of PM1_STS reads 0. */
#define PM1_STS_IMPL (VS_ACPI_PM1_PWRBTN | VS_ACPI_PM1_WAK)
#define PM1_EN_IMPL 0x4721 /* TMR, GBL, PWRBTN, SLPBTN, RTC, PCIEXP_WAKE_DIS */
/* SLP_EN is write-only; SCI_EN stays set (no SMI_CMD: ACPI mode only). */
#define PM1_CNT_KEEP (VS_ACPI_PM1_SLP_TYP_MASK)

struct vs_acpi_pm {
	pthread_mutex_t lock; /* vCPU threads and the button's caller */
	uint16_t sts, en, cnt;
	bool sci; /* the level last driven */
	struct vs_irq_line irq;
	struct vs_power power;
};

/* Drives the SCI from status & enable (lock held). */
static void update_sci(struct vs_acpi_pm *pm)
{
	bool level = (pm->sts & pm->en) != 0;

	if (level != pm->sci) {
		pm->sci = level;
		vs_irq_set(&pm->irq, level);
	}
}

static uint8_t reg_byte(const struct vs_acpi_pm *pm, unsigned off)
{
	uint16_t v = off < OFF_EN ? pm->sts : off < OFF_CNT ? pm->en : pm->cnt | VS_ACPI_PM1_SCI_EN;

	return (uint8_t)(v >> (8 * (off & 1)));
}

static void pm_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vs_acpi_pm *pm = opaque;
	uint8_t *b = data;

	memset(data, 0xff, len);
	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < len && off + i < PM_RANGE_LEN; i++)
		b[i] = reg_byte(pm, (unsigned)off + i);
	pthread_mutex_unlock(&pm->lock);
}

/* PM1_CNT written with SLP_EN: enter the sleep state SLP_TYP names. Only
 * S5 exists; returns true when the machine must power off. */
static bool write_cnt(struct vs_acpi_pm *pm, uint16_t v)
{
	unsigned typ = (v & VS_ACPI_PM1_SLP_TYP_MASK) >> VS_ACPI_PM1_SLP_TYP_SHIFT;

	pm->cnt = v & PM1_CNT_KEEP;
	return (v & VS_ACPI_PM1_SLP_EN) && typ == VS_ACPI_S5_TYP;
}

static void pm_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vs_acpi_pm *pm = opaque;
	const uint8_t *b = data;
	bool off_now = false;

	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < len && off + i < PM_RANGE_LEN; i++) {
		unsigned o = (unsigned)off + i, shift = 8 * (o & 1);
		uint16_t bits = (uint16_t)(b[i] << shift), keep = (uint16_t)(0xff00u >> shift);

		if (o < OFF_EN) /* write 1 to clear */
			pm->sts &= (uint16_t)~bits;
		else if (o < OFF_CNT)
			pm->en = (uint16_t)(((pm->en & keep) | bits) & PM1_EN_IMPL);
		else /* SLP_EN never sticks in cnt, so only a write that sets it acts */
			off_now |= write_cnt(pm, (uint16_t)((pm->cnt & keep) | bits));
	}
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (off_now)
		vs_power_request(&pm->power, VS_POWER_OFF, 0);
}

static const struct vs_io_ops pm_ops = { .read = pm_read, .write = pm_write };

void vs_acpi_pm_new(const struct vs_irq_line *sci, const struct vs_power *power,
		    struct vs_acpi_pm **out)
{
	struct vs_acpi_pm *pm = xzalloc(sizeof(*pm));

	pthread_mutex_init(&pm->lock, NULL);
	pm->irq = *sci;
	pm->power = *power;
	*out = pm;
}

int vs_acpi_pm_attach(struct vs_acpi_pm *pm, struct vs_iobus *pio)
{
	return vs_iobus_register(pio, VS_ACPI_PM1A_EVT, PM_RANGE_LEN, &pm_ops, pm);
}

void vs_acpi_pm_detach(struct vs_acpi_pm *pm, struct vs_iobus *pio)
{
	(void)pm;
	vs_iobus_remove(pio, VS_ACPI_PM1A_EVT);
}

void vs_acpi_pm_free(struct vs_acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

void vs_acpi_pm_reset(struct vs_acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts = pm->en = pm->cnt = 0;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void vs_acpi_pm_power_button(struct vs_acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= VS_ACPI_PM1_PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}
