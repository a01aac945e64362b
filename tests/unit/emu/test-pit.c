/* Unit tests of the 8254 PIT (src/emu/pit.c) against host time: Linux's
 * TSC calibration through channel 2 and port 0x61, latch and read-back,
 * access modes, and channel 0 driving GSI 0 in modes 0 and 2. */
#include "irq-fake.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

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

static uint16_t read16(struct fake *f, uint16_t port)
{
	uint8_t lo = in(f, port);

	return (uint16_t)(lo | (in(f, port) << 8));
}

/* arch/x86/kernel/tsc.c pit_calibrate_tsc(): gate on, mode 0, wait for OUT2. */
static void test_channel2_calibration(void **state)
{
	struct fake *f = fake_new(1);
	uint64_t t0, dt;
	unsigned loops = 0;

	(void)state;
	out(f, 0x61, (in(f, 0x61) & ~0x02) | 0x01);
	out(f, 0x43, 0xb0);
	t0 = emu_host_ns();
	out(f, 0x42, 0x9b); /* 11931: 10 ms */
	out(f, 0x42, 0x2e);
	assert_false(in(f, 0x61) & 0x20);
	while (!(in(f, 0x61) & 0x20) && loops++ < 100000000)
		;
	dt = emu_host_ns() - t0;
	/* OUT2 rose, not before the 10 ms count ran out; the upper bound only
	 * catches a wildly wrong rate (a loaded host may deschedule us for tens
	 * of ms between the last low read and the clock read) */
	assert_true(in(f, 0x61) & 0x20);
	assert_true(dt >= 9900000 && dt < 1000000000);
	fake_free(f);
}

static void test_counter_latch_readback(void **state)
{
	struct fake *f = fake_new(1);
	uint16_t a, b;
	uint8_t st;

	(void)state;
	out(f, 0x61, 0x01);
	out(f, 0x43, 0xb4); /* channel 2, lo/hi, mode 2 */
	out(f, 0x42, 0xff);
	out(f, 0x42, 0xff);
	/* live reads go down (quick_pit_calibrate reads the MSB) */
	a = read16(f, 0x42);
	sleep_ms(3);
	b = read16(f, 0x42);
	assert_true(b < a);
	assert_true(a - b >= 3000 && a - b < 30000);
	/* a latched value holds still */
	out(f, 0x43, 0x80);
	sleep_ms(1);
	a = read16(f, 0x42);
	b = read16(f, 0x42);
	assert_true(b < a);
	/* read-back: status then count of channel 2 */
	out(f, 0x43, 0xc8);
	st = in(f, 0x42);
	assert_int_equal(st & 0x3f, 0x34);
	assert_true(st & 0x80); /* OUT high in mode 2 */
	a = read16(f, 0x42); /* the count latched with the status */
	assert_true(a > 0);
	/* gate low freezes the counter */
	out(f, 0x61, 0x00);
	a = read16(f, 0x42);
	sleep_ms(2);
	assert_int_equal(read16(f, 0x42), a);
	/* lobyte-only access */
	out(f, 0x61, 0x01);
	out(f, 0x43, 0x90); /* channel 2, lobyte, mode 0 */
	out(f, 0x42, 0xc8);
	assert_true(in(f, 0x42) <= 0xc8);
	fake_free(f);
}

static void test_channel0_periodic(void **state)
{
	struct fake *f = fake_new(1);
	uint32_t redir[2] = { 0, 0x20 }, sel;
	uint64_t t0, elapsed_ms;
	unsigned n;

	(void)state;
	fake_apic_on(f, 0);
	out(f, 0x21, 0xff); /* PIC masked: count only the IOAPIC's deliveries */
	sel = 0x10; /* IOAPIC pin 0 (ISA IRQ 0 per our MP table), vector 0x20 */
	emu_ioapic_mmio(&f->vm, 0, true, &sel, 4);
	emu_ioapic_mmio(&f->vm, 0x10, true, &redir[1], 4);
	atomic_store(&f->irq_notes[0], 0);
	out(f, 0x43, 0x34); /* channel 0, lo/hi, mode 2: Linux's HZ tick */
	t0 = mono_ns();
	out(f, 0x40, 0xa9); /* 1193: ~1 kHz */
	out(f, 0x40, 0x04);
	/* Ticks keep coming (50 of them within a generous deadline: a loaded
	 * host may hold the timer thread back), and never faster than the
	 * programmed period allows (1193 / 1193182 Hz = 1.0 ms each). */
	while ((n = atomic_load(&f->irq_notes[0])) < 50 && mono_ns() - t0 < 5000000000ULL)
		sleep_ms(5);
	elapsed_ms = (mono_ns() - t0) / 1000000;
	assert_true(n >= 50);
	assert_true(n <= elapsed_ms + 2);
	/* the deadline stays on the grid of whole periods since the load */
	uint64_t d = atomic_load(&f->vm.pit->deadline_ns);
	const struct emu_pit_channel *c = &f->vm.pit->ch[0];
	uint64_t k = ((d - c->load_ns) * 1193182ULL + 500000000ULL) / 1000000000ULL;
	assert_int_equal(k % 1193, 0);
	(void)redir[0];
	fake_free(f);
}

static void test_channel0_oneshot(void **state)
{
	struct fake *f = fake_new(1);
	uint32_t sel = 0x10, low = 0x20;

	(void)state;
	fake_apic_on(f, 0);
	out(f, 0x21, 0xff);
	emu_ioapic_mmio(&f->vm, 0, true, &sel, 4);
	emu_ioapic_mmio(&f->vm, 0x10, true, &low, 4);
	atomic_store(&f->irq_notes[0], 0);
	out(f, 0x43, 0x30); /* mode 0 */
	out(f, 0x40, 0xa9);
	out(f, 0x40, 0x04);
	/* one interrupt ~1 ms later (waited for generously: a loaded host may
	 * hold the timer thread back), and no second one after it */
	for (int i = 0; i < 1000 && atomic_load(&f->irq_notes[0]) == 0; i++)
		sleep_ms(5);
	sleep_ms(30);
	assert_int_equal(atomic_load(&f->irq_notes[0]), 1);
	assert_int_equal(atomic_load(&f->vm.pit->deadline_ns), UINT64_MAX);
	/* the PIC sees IRQ 0 too */
	out(f, 0x20, 0x0a);
	assert_true(in(f, 0x20) & 1);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channel2_calibration),
		cmocka_unit_test(test_counter_latch_readback),
		cmocka_unit_test(test_channel0_periodic),
		cmocka_unit_test(test_channel0_oneshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
