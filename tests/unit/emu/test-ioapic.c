/* Unit tests of the IOAPIC and MSI (src/emu/ioapic.c): registers, edge and
 * level pins with remote IRR and EOI, masking, MSI decoding. */
#include "irq-fake.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A VM whose PIC is masked, as Linux leaves it once it uses the IOAPIC. */
static struct fake *io_new(unsigned ncpus)
{
	struct fake *f = fake_new(ncpus);
	uint8_t mask = 0xff;

	emu_legacy_pio(&f->vm, 0x21, true, &mask, 1);
	emu_legacy_pio(&f->vm, 0xa1, true, &mask, 1);
	return f;
}

static uint32_t io_read(struct fake *f, uint32_t reg)
{
	uint32_t v = reg;

	emu_ioapic_mmio(&f->vm, 0x00, true, &v, 4);
	emu_ioapic_mmio(&f->vm, 0x10, false, &v, 4);
	return v;
}

static void io_write(struct fake *f, uint32_t reg, uint32_t val)
{
	emu_ioapic_mmio(&f->vm, 0x00, true, &reg, 4);
	emu_ioapic_mmio(&f->vm, 0x10, true, &val, 4);
}

static void route(struct fake *f, unsigned pin, uint32_t low, uint8_t dest)
{
	io_write(f, 0x11 + 2 * pin, (uint32_t)dest << 24);
	io_write(f, 0x10 + 2 * pin, low);
}

/* What the CPU does to take an interrupt, then the handler's EOI. */
static void take_and_eoi(struct fake *f, unsigned cpu, int vector)
{
	assert_int_equal(emu_lapic_pending(fake_lapic(f, cpu)), vector);
	emu_lapic_ack(fake_lapic(f, cpu), vector);
	emu_lapic_mmio_write(fake_lapic(f, cpu), 0xb0, 0);
}

static void test_registers(void **state)
{
	struct fake *f = io_new(1);

	(void)state;
	assert_int_equal(io_read(f, 1), 0x170020);
	io_write(f, 0, 0x0a000000);
	assert_int_equal(io_read(f, 0), 0x0a000000);
	assert_int_equal(io_read(f, 0x10), 0x10000); /* masked at reset */
	io_write(f, 1, 0); /* read-only */
	assert_int_equal(io_read(f, 1), 0x170020);
	route(f, 23, 0xa031, 0x01);
	assert_int_equal(io_read(f, 0x10 + 46), 0xa031);
	assert_int_equal(io_read(f, 0x11 + 46), 0x01000000);
	fake_free(f);
}

static void test_edge(void **state)
{
	struct fake *f = io_new(2);

	(void)state;
	fake_apic_on(f, 0);
	fake_apic_on(f, 1);
	route(f, 4, 0x34, 1); /* edge, physical, CPU 1 */
	emu_set_irq(&f->vm, 4, 1);
	assert_true(fake_irr(f, 1, 0x34));
	assert_false(fake_irr(f, 0, 0x34));
	take_and_eoi(f, 1, 0x34);
	emu_set_irq(&f->vm, 4, 1); /* no new edge */
	assert_false(fake_irr(f, 1, 0x34));
	emu_set_irq(&f->vm, 4, 0);
	/* an edge while masked is delivered on unmask */
	route(f, 4, 0x10034, 1);
	emu_set_irq(&f->vm, 4, 1);
	emu_set_irq(&f->vm, 4, 0);
	assert_false(fake_irr(f, 1, 0x34));
	route(f, 4, 0x34, 1);
	assert_true(fake_irr(f, 1, 0x34));
	fake_free(f);
}

static void test_level(void **state)
{
	struct fake *f = io_new(1);

	(void)state;
	fake_apic_on(f, 0);
	route(f, 10, 0x8045, 0); /* level */
	emu_set_irq(&f->vm, 10, 1);
	assert_true(fake_irr(f, 0, 0x45));
	assert_true(io_read(f, 0x10 + 20) & (1u << 14)); /* remote IRR */
	/* TMR marks it level */
	assert_true((emu_lapic_mmio_read(fake_lapic(f, 0), 0x180 + 0x20) >> 5) & 1);
	emu_set_irq(&f->vm, 10, 1);
	take_and_eoi(f, 0, 0x45);
	/* the line is still high: EOI brings it back */
	assert_true(fake_irr(f, 0, 0x45));
	assert_true(io_read(f, 0x10 + 20) & (1u << 14));
	emu_set_irq(&f->vm, 10, 0);
	take_and_eoi(f, 0, 0x45);
	assert_false(fake_irr(f, 0, 0x45));
	assert_false(io_read(f, 0x10 + 20) & (1u << 14));
	/* the IOAPIC's own EOI register (version 0x20) */
	emu_set_irq(&f->vm, 10, 1);
	emu_lapic_ack(fake_lapic(f, 0), 0x45);
	uint32_t v = 0x45;
	emu_ioapic_mmio(&f->vm, 0x40, true, &v, 4);
	assert_true(fake_irr(f, 0, 0x45));
	fake_free(f);
}

static void test_logical_lowest(void **state)
{
	struct fake *f = io_new(2);

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		fake_apic_on(f, i);
		emu_lapic_mmio_write(fake_lapic(f, i), 0xd0, (1u << i) << 24);
	}
	emu_lapic_mmio_write(fake_lapic(f, 0), 0x80, 0x20);
	route(f, 5, 0x900 | 0x51, 0x3); /* lowest priority, logical CPUs 0+1 */
	emu_set_irq(&f->vm, 5, 1);
	assert_true(fake_irr(f, 1, 0x51));
	assert_false(fake_irr(f, 0, 0x51));
	fake_free(f);
}

static void test_msi(void **state)
{
	struct fake *f = io_new(2);

	(void)state;
	fake_apic_on(f, 0);
	fake_apic_on(f, 1);
	emu_msi(&f->vm, 0xfee01000, 0x0061);
	assert_true(fake_irr(f, 1, 0x61));
	emu_msi(&f->vm, 0xfee00000, 0x0400);
	assert_true(emu_lapic_nmi_pending(fake_lapic(f, 0)));
	emu_lapic_mmio_write(fake_lapic(f, 0), 0xd0, 0x02u << 24);
	emu_msi(&f->vm, 0xfee02004, 0x0062); /* logical */
	assert_true(fake_irr(f, 0, 0x62));
	emu_msi(&f->vm, 0xfed00000, 0x0063); /* not an MSI address */
	assert_false(fake_irr(f, 0, 0x63) || fake_irr(f, 1, 0x63));
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers), cmocka_unit_test(test_edge),
		cmocka_unit_test(test_level),	  cmocka_unit_test(test_logical_lowest),
		cmocka_unit_test(test_msi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
