/* Unit tests of the 8259 pair (src/emu/pic.c): Linux's init sequence and
 * probes, priorities and nesting, EOI forms, the slave cascade, spurious
 * IRQ 7, ELCR level mode, auto-EOI, poll, and ExtINT through LINT0. */
#include "irq-fake.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void out(struct fake *f, uint16_t port, uint8_t v)
{
	assert_true(emu_legacy_pio(&f->vm, port, true, &v, 1));
}

static uint8_t in(struct fake *f, uint16_t port)
{
	uint8_t v = 0;

	assert_true(emu_legacy_pio(&f->vm, port, false, &v, 1));
	return v;
}

/* arch/x86/kernel/i8259.c init_8259A(): vectors 0x30/0x38 here. */
static struct fake *pic_setup(uint8_t icw4)
{
	struct fake *f = fake_new(1);

	out(f, 0x21, 0xff);
	out(f, 0xa1, 0xff);
	out(f, 0x20, 0x11);
	out(f, 0x21, 0x30);
	out(f, 0x21, 0x04);
	out(f, 0x21, icw4);
	out(f, 0xa0, 0x11);
	out(f, 0xa1, 0x38);
	out(f, 0xa1, 0x02);
	out(f, 0xa1, icw4);
	out(f, 0x21, 0x00);
	out(f, 0xa1, 0x00);
	return f;
}

static void test_probe_and_ports(void **state)
{
	struct fake *f = pic_setup(1);
	uint8_t v = 0;

	(void)state;
	out(f, 0x21, 0xff); /* Linux's probe: the mask reads back */
	assert_int_equal(in(f, 0x21), 0xff);
	out(f, 0x21, 0xfb);
	assert_int_equal(in(f, 0x21), 0xfb);
	assert_false(emu_legacy_pio(&f->vm, 0x3f8, false, &v, 1));
	/* ELCR: IRQ 0-2 are always edge */
	out(f, 0x4d0, 0xff);
	assert_int_equal(in(f, 0x4d0), 0xf8);
	out(f, 0x4d1, 0xff);
	assert_int_equal(in(f, 0x4d1), 0xde);
	fake_free(f);
}

static void test_priority_and_eoi(void **state)
{
	struct fake *f = pic_setup(1);

	(void)state;
	fake_events(f, 0);
	emu_set_irq(&f->vm, 5, 1);
	assert_true(fake_events(f, 0) & EMU_EV_IRQ);
	emu_set_irq(&f->vm, 3, 1);
	assert_int_equal(emu_pic_intack(&f->vm, true), 0x33);
	assert_int_equal(emu_pic_intack(&f->vm, false), 0x33);
	out(f, 0x20, 0x0b); /* OCW3: read ISR */
	assert_int_equal(in(f, 0x20), 0x08);
	out(f, 0x20, 0x0a); /* read IRR */
	assert_int_equal(in(f, 0x20), 0x20);
	/* 5 waits behind 3; 1 nests above it */
	assert_int_equal(emu_pic_intack(&f->vm, true), -1);
	emu_set_irq(&f->vm, 1, 1);
	assert_int_equal(emu_pic_intack(&f->vm, false), 0x31);
	out(f, 0x20, 0x20); /* non-specific EOI: IRQ 1 */
	out(f, 0x20, 0x63); /* specific EOI: IRQ 3 */
	assert_int_equal(emu_pic_intack(&f->vm, false), 0x35);
	out(f, 0x20, 0x20);
	/* nothing left: INTA answers the spurious IRQ 7 without ISR */
	assert_int_equal(emu_pic_intack(&f->vm, true), -1);
	assert_int_equal(emu_pic_intack(&f->vm, false), 0x37);
	out(f, 0x20, 0x0b);
	assert_int_equal(in(f, 0x20), 0);
	/* a masked IRQ is not raised */
	out(f, 0x21, 0x10);
	emu_set_irq(&f->vm, 4, 1);
	assert_int_equal(emu_pic_intack(&f->vm, true), -1);
	out(f, 0x21, 0x00);
	assert_int_equal(emu_pic_intack(&f->vm, true), 0x34);
	fake_free(f);
}

static void test_slave_and_level(void **state)
{
	struct fake *f = pic_setup(1);

	(void)state;
	out(f, 0x4d1, 0x04); /* IRQ 10 level */
	emu_set_irq(&f->vm, 10, 1);
	assert_int_equal(emu_pic_intack(&f->vm, false), 0x3a);
	out(f, 0xa0, 0x0b);
	assert_int_equal(in(f, 0xa0), 0x04);
	out(f, 0x20, 0x0b);
	assert_int_equal(in(f, 0x20), 0x04);
	out(f, 0xa0, 0x20);
	out(f, 0x20, 0x20);
	/* level: still requested while the line is high */
	assert_int_equal(emu_pic_intack(&f->vm, true), 0x3a);
	emu_set_irq(&f->vm, 10, 0);
	out(f, 0xa0, 0x0a);
	assert_int_equal(in(f, 0xa0), 0);
	fake_free(f);
}

static void test_aeoi_and_poll(void **state)
{
	struct fake *f = pic_setup(3); /* ICW4: 8086 mode, auto-EOI */

	(void)state;
	emu_set_irq(&f->vm, 6, 1);
	assert_int_equal(emu_pic_intack(&f->vm, false), 0x36);
	out(f, 0x20, 0x0b);
	assert_int_equal(in(f, 0x20), 0);
	/* poll mode */
	emu_set_irq(&f->vm, 7, 1);
	out(f, 0x20, 0x0c);
	assert_int_equal(in(f, 0x20), 0x87);
	out(f, 0x20, 0x0c);
	assert_int_equal(in(f, 0x20), 0);
	fake_free(f);
}

static void test_extint(void **state)
{
	struct fake *f = pic_setup(1);
	struct emu_lapic *l;

	(void)state;
	l = fake_lapic(f, 0);
	emu_set_irq(&f->vm, 4, 1);
	assert_int_equal(emu_lapic_pending(l), 0x34); /* LINT0 ExtINT at reset on the BSP */
	emu_lapic_ack(l, 0x34);
	out(f, 0x20, 0x0b);
	assert_int_equal(in(f, 0x20), 0x10);
	out(f, 0x20, 0x20);
	/* LINT0 masked: the PIC no longer reaches the CPU */
	emu_lapic_mmio_write(l, 0xf0, 0x1ff);
	emu_lapic_mmio_write(l, 0x350, 0x10700);
	emu_set_irq(&f->vm, 4, 0);
	emu_set_irq(&f->vm, 4, 1);
	assert_int_equal(emu_lapic_pending(l), -1);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_and_ports), cmocka_unit_test(test_priority_and_eoi),
		cmocka_unit_test(test_slave_and_level), cmocka_unit_test(test_aeoi_and_poll),
		cmocka_unit_test(test_extint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
