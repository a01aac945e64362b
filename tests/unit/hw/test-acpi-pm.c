/* Unit tests for the ACPI PM1 blocks (hw/acpi-pm.h): the S5 power-off
 * through PM1_CNT, the power button's status/enable/SCI logic with
 * write-1-to-clear status, byte accesses, and reset. */
#include "hw/acpi-pm.h"
#include "hw/iobus.h"
#include "hw/power.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

struct fixture {
	struct vs_iobus bus;
	struct vs_acpi_pm *pm;
	int sci, sci_changes;
	unsigned sci_gsi;
	int poweroffs, others;
};

static void request(void *ctx, enum vs_power_event why, int status)
{
	struct fixture *f = ctx;

	(void)status;
	if (why == VS_POWER_OFF)
		f->poweroffs++;
	else
		f->others++;
}

static void set_level(void *ctx, unsigned gsi, int level)
{
	struct fixture *f = ctx;

	f->sci = level;
	f->sci_gsi = gsi;
	f->sci_changes++;
}

static int setup(void **state)
{
	static struct fixture f;
	struct vs_irq_line sci = { set_level, &f, VS_ACPI_SCI_IRQ };
	struct vs_power power = { request, &f };

	memset(&f, 0, sizeof(f));
	vs_iobus_init(&f.bus, "pio");
	vs_acpi_pm_new(&sci, &power, &f.pm);
	assert_int_equal(vs_acpi_pm_attach(f.pm, &f.bus), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vs_acpi_pm_detach(f->pm, &f->bus);
	vs_acpi_pm_free(f->pm);
	return 0;
}

static uint16_t rd16(struct fixture *f, uint16_t port)
{
	uint16_t v = 0;

	assert_true(vs_iobus_access(&f->bus, port, false, &v, 2));
	return v;
}

static void wr16(struct fixture *f, uint16_t port, uint16_t v)
{
	assert_true(vs_iobus_access(&f->bus, port, true, &v, 2));
}

#define STS VS_ACPI_PM1A_EVT
#define EN (VS_ACPI_PM1A_EVT + 2)
#define CNT VS_ACPI_PM1A_CNT

static void test_s5_powers_off(void **state)
{
	struct fixture *f = *state;
	uint16_t s5 = VS_ACPI_S5_TYP << VS_ACPI_PM1_SLP_TYP_SHIFT;

	assert_int_equal(rd16(f, CNT) & VS_ACPI_PM1_SCI_EN, VS_ACPI_PM1_SCI_EN);
	/* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN (hwsleep.c) */
	wr16(f, CNT, s5 | VS_ACPI_PM1_SCI_EN);
	assert_int_equal(f->poweroffs, 0);
	assert_int_equal(rd16(f, CNT) & VS_ACPI_PM1_SLP_TYP_MASK, s5);
	assert_int_equal(rd16(f, CNT) & VS_ACPI_PM1_SLP_EN, 0); /* write-only */
	/* another sleep type (S1, S3: not advertised) does nothing */
	wr16(f, CNT, (3 << VS_ACPI_PM1_SLP_TYP_SHIFT) | VS_ACPI_PM1_SLP_EN);
	assert_int_equal(f->poweroffs, 0);
	wr16(f, CNT, s5 | VS_ACPI_PM1_SLP_EN | VS_ACPI_PM1_SCI_EN);
	assert_int_equal(f->poweroffs, 1);
	assert_int_equal(f->others, 0);
}

static void test_s5_byte_write(void **state)
{
	struct fixture *f = *state;
	uint8_t hi =
		(uint8_t)(((VS_ACPI_S5_TYP << VS_ACPI_PM1_SLP_TYP_SHIFT) | VS_ACPI_PM1_SLP_EN) >>
			  8);
	uint8_t lo = VS_ACPI_PM1_SCI_EN;

	assert_true(vs_iobus_access(&f->bus, CNT, true, &lo, 1));
	assert_int_equal(f->poweroffs, 0);
	assert_true(vs_iobus_access(&f->bus, CNT + 1, true, &hi, 1));
	assert_int_equal(f->poweroffs, 1);
}

static void test_power_button(void **state)
{
	struct fixture *f = *state;

	/* a press before the OSPM enables the event is latched, SCI low */
	vs_acpi_pm_power_button(f->pm);
	assert_int_equal(rd16(f, STS) & VS_ACPI_PM1_PWRBTN, VS_ACPI_PM1_PWRBTN);
	assert_int_equal(f->sci, 0);
	/* enabling it raises the SCI on IRQ 9 */
	wr16(f, EN, VS_ACPI_PM1_PWRBTN);
	assert_int_equal(rd16(f, EN), VS_ACPI_PM1_PWRBTN);
	assert_int_equal(f->sci, 1);
	assert_int_equal(f->sci_gsi, VS_ACPI_SCI_IRQ);
	/* writing 0 to status changes nothing; writing 1 clears and lowers */
	wr16(f, STS, 0);
	assert_int_equal(f->sci, 1);
	wr16(f, STS, VS_ACPI_PM1_PWRBTN);
	assert_int_equal(rd16(f, STS) & VS_ACPI_PM1_PWRBTN, 0);
	assert_int_equal(f->sci, 0);
	/* a second press while enabled: SCI again; disabling lowers it */
	vs_acpi_pm_power_button(f->pm);
	assert_int_equal(f->sci, 1);
	wr16(f, EN, 0);
	assert_int_equal(f->sci, 0);
	assert_int_equal(f->poweroffs, 0);
	/* reset: status and enables cleared */
	wr16(f, EN, VS_ACPI_PM1_PWRBTN);
	assert_int_equal(f->sci, 1);
	vs_acpi_pm_reset(f->pm);
	assert_int_equal(f->sci, 0);
	assert_int_equal(rd16(f, STS), 0);
	assert_int_equal(rd16(f, EN), 0);
}

static void test_byte_and_dword_access(void **state)
{
	struct fixture *f = *state;
	uint8_t b = VS_ACPI_PM1_PWRBTN >> 8;
	uint32_t d = 0;

	/* PM1_EN high byte alone */
	assert_true(vs_iobus_access(&f->bus, EN + 1, true, &b, 1));
	assert_int_equal(rd16(f, EN), VS_ACPI_PM1_PWRBTN);
	vs_acpi_pm_power_button(f->pm);
	assert_int_equal(f->sci, 1);
	/* one dword read covers STS and EN */
	assert_true(vs_iobus_access(&f->bus, STS, false, &d, 4));
	assert_int_equal(d, (uint32_t)VS_ACPI_PM1_PWRBTN << 16 | VS_ACPI_PM1_PWRBTN);
	/* status byte write-1-to-clear */
	assert_true(vs_iobus_access(&f->bus, STS + 1, true, &b, 1));
	assert_int_equal(f->sci, 0);
	/* unimplemented enable bits read 0 */
	wr16(f, EN, 0xffff);
	assert_int_equal(rd16(f, EN) & 0x8000, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_s5_powers_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s5_byte_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_button, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_and_dword_access, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
