/* Unit tests of the local APIC (src/emu/lapic.c, timer.c): reset state,
 * IPIs and destinations, priorities and EOI, x2APIC MSR rules, the APIC
 * base MSR, and the timer in its three modes against real time. */
#include "irq-fake.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

static uint64_t emu_test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct emu_lapic *L(struct fake *f, unsigned i)
{
	return fake_lapic(f, i);
}

static void test_reset_state(void **state)
{
	struct fake *f = fake_new(2);

	(void)state;
	assert_int_equal(emu_lapic_mmio_read(L(f, 1), 0x20), 1u << 24);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x30), 0x50014);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0xf0), 0xff);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0xe0), 0xffffffff);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x320), 0x10000);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x350), 0x700); /* BSP: ExtINT */
	assert_int_equal(emu_lapic_mmio_read(L(f, 1), 0x350), 0x10000);
	assert_int_equal(emu_lapic_get_base(L(f, 0)), 0xfee00900);
	assert_int_equal(emu_lapic_get_base(L(f, 1)), 0xfee00800);
	/* sub-register reads see the register shifted */
	assert_int_equal(emu_lapic_mmio_read(L(f, 1), 0x23), 1);
	fake_free(f);
}

static void test_fixed_ipi_eoi(void **state)
{
	struct fake *f = fake_new(2);

	(void)state;
	fake_apic_on(f, 0);
	fake_apic_on(f, 1);
	fake_events(f, 1);
	emu_lapic_mmio_write(L(f, 0), 0x310, 1u << 24);
	emu_lapic_mmio_write(L(f, 0), 0x300, 0x40);
	assert_true(fake_irr(f, 1, 0x40));
	assert_false(fake_irr(f, 0, 0x40));
	assert_true(fake_events(f, 1) & EMU_EV_IRQ);
	assert_int_equal(emu_lapic_pending(L(f, 1)), 0x40);
	emu_lapic_ack(L(f, 1), 0x40);
	assert_true(fake_isr(f, 1, 0x40));
	assert_false(fake_irr(f, 1, 0x40));
	assert_int_equal(emu_lapic_pending(L(f, 1)), -1);
	assert_int_equal(emu_lapic_mmio_read(L(f, 1), 0xa0), 0x40); /* PPR = ISR class */
	emu_lapic_mmio_write(L(f, 1), 0xb0, 0);
	assert_false(fake_isr(f, 1, 0x40));
	/* ICR delivery status reads idle */
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x300) & (1u << 12), 0);
	fake_free(f);
}

static void test_priorities(void **state)
{
	struct fake *f = fake_new(1);
	struct emu_lapic *l;

	(void)state;
	l = L(f, 0);
	fake_apic_on(f, 0);
	emu_lapic_accept(l, EMU_DM_FIXED, 0x31, false);
	emu_lapic_accept(l, EMU_DM_FIXED, 0x51, false);
	assert_int_equal(emu_lapic_pending(l), 0x51);
	emu_lapic_ack(l, 0x51);
	/* 0x31 is below the in-service class 0x50 */
	assert_int_equal(emu_lapic_pending(l), -1);
	emu_lapic_accept(l, EMU_DM_FIXED, 0x61, false);
	assert_int_equal(emu_lapic_pending(l), 0x61); /* nests above 0x51 */
	emu_lapic_ack(l, 0x61);
	emu_lapic_mmio_write(l, 0xb0, 0); /* EOI clears the highest: 0x61 */
	assert_false(fake_isr(f, 0, 0x61));
	assert_true(fake_isr(f, 0, 0x51));
	emu_lapic_mmio_write(l, 0xb0, 0);
	/* TPR blocks classes at or below it */
	emu_lapic_mmio_write(l, 0x80, 0x30);
	assert_int_equal(emu_lapic_mmio_read(l, 0xa0), 0x30);
	assert_int_equal(emu_lapic_pending(l), -1);
	emu_lapic_set_tpr(l, 2); /* MOV CR8 */
	assert_int_equal(emu_lapic_mmio_read(l, 0x80), 0x20);
	assert_int_equal(emu_lapic_get_tpr(l), 2);
	assert_int_equal(emu_lapic_pending(l), 0x31);
	fake_free(f);
}

static void test_destinations(void **state)
{
	struct fake *f = fake_new(3);

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		fake_apic_on(f, i);
		emu_lapic_mmio_write(L(f, i), 0xd0, (1u << i) << 24); /* flat logical */
	}
	/* logical flat: CPUs 0 and 2 */
	emu_lapic_mmio_write(L(f, 1), 0x310, 0x05u << 24);
	emu_lapic_mmio_write(L(f, 1), 0x300, 0x800 | 0x41);
	assert_true(fake_irr(f, 0, 0x41) && fake_irr(f, 2, 0x41));
	assert_false(fake_irr(f, 1, 0x41));
	/* shorthand self */
	emu_lapic_mmio_write(L(f, 1), 0x300, (1u << 18) | 0x42);
	assert_true(fake_irr(f, 1, 0x42));
	assert_false(fake_irr(f, 0, 0x42));
	/* all excluding self */
	emu_lapic_mmio_write(L(f, 2), 0x300, (3u << 18) | 0x43);
	assert_true(fake_irr(f, 0, 0x43) && fake_irr(f, 1, 0x43));
	assert_false(fake_irr(f, 2, 0x43));
	/* physical broadcast 0xff */
	emu_lapic_mmio_write(L(f, 0), 0x310, 0xffu << 24);
	emu_lapic_mmio_write(L(f, 0), 0x300, 0x44);
	assert_true(fake_irr(f, 0, 0x44) && fake_irr(f, 1, 0x44) && fake_irr(f, 2, 0x44));
	/* cluster model: cluster 1 member bit 0 */
	emu_lapic_mmio_write(L(f, 2), 0xe0, 0x0fffffff);
	emu_lapic_mmio_write(L(f, 2), 0xd0, 0x11u << 24);
	emu_irq_deliver(&f->vm, 0x11, true, EMU_DM_FIXED, 0x45, false, UINT32_MAX);
	assert_true(fake_irr(f, 2, 0x45));
	fake_free(f);
}

static void test_init_sipi_nmi(void **state)
{
	struct fake *f = fake_new(2);

	(void)state;
	fake_events(f, 1);
	emu_lapic_mmio_write(L(f, 0), 0x310, 1u << 24);
	emu_lapic_mmio_write(L(f, 0), 0x300, 0xc500); /* INIT, level assert */
	assert_int_equal(fake_events(f, 1), EMU_EV_INIT);
	emu_lapic_mmio_write(L(f, 0), 0x300, 0x8500); /* INIT de-assert: nothing */
	assert_int_equal(fake_events(f, 1), 0);
	emu_lapic_mmio_write(L(f, 0), 0x300, 0x4608); /* SIPI vector 8 */
	assert_int_equal(fake_events(f, 1), EMU_EV_SIPI);
	assert_int_equal(f->vm.cpus[1].sipi_vector, 8);
	emu_lapic_mmio_write(L(f, 0), 0x300, 0x4400); /* NMI */
	assert_int_equal(fake_events(f, 1), EMU_EV_NMI);
	assert_true(emu_lapic_nmi_pending(L(f, 1)));
	assert_false(emu_lapic_nmi_pending(L(f, 1)));
	fake_free(f);
}

static void test_illegal_and_disabled(void **state)
{
	struct fake *f = fake_new(2);

	(void)state;
	fake_apic_on(f, 0);
	emu_lapic_mmio_write(L(f, 0), 0x310, 1u << 24);
	emu_lapic_mmio_write(L(f, 0), 0x300, 0x05); /* vector 5: send illegal */
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x280), 0);
	emu_lapic_mmio_write(L(f, 0), 0x280, 0);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x280), 1u << 5);
	/* CPU 1 is software-disabled: fixed interrupts are dropped and LVT stays masked */
	emu_lapic_mmio_write(L(f, 0), 0x300, 0x50);
	assert_false(fake_irr(f, 1, 0x50));
	emu_lapic_mmio_write(L(f, 1), 0x370, 0xfe);
	assert_int_equal(emu_lapic_mmio_read(L(f, 1), 0x370), 0x100fe);
	/* disabling masks every LVT */
	emu_lapic_mmio_write(L(f, 0), 0x370, 0xfe);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x370), 0xfe);
	emu_lapic_mmio_write(L(f, 0), 0xf0, 0xff);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x370), 0x100fe);
	fake_free(f);
}

static void test_x2apic(void **state)
{
	struct fake *f = fake_new(2);
	uint64_t v;

	(void)state;
	/* invalid transitions */
	assert_false(emu_lapic_set_base(L(f, 1), 0xfee00400)); /* EXTD without EN */
	assert_false(emu_lapic_msr_read(L(f, 1), 0x802, &v)); /* not in x2APIC mode */
	for (unsigned i = 0; i < 2; i++) {
		assert_true(emu_lapic_set_base(L(f, i), 0xfee00c00));
		assert_true(emu_lapic_msr_write(L(f, i), 0x80f, 0x1ff));
	}
	assert_int_equal(emu_lapic_get_base(L(f, 0)), 0xfee00d00); /* BSP bit kept */
	assert_false(emu_lapic_set_base(L(f, 1), 0xfee00800)); /* x2APIC -> xAPIC */
	assert_int_equal(emu_lapic_mmio_read(L(f, 1), 0x20), 0); /* no MMIO in x2APIC mode */
	assert_true(emu_lapic_msr_read(L(f, 1), 0x802, &v));
	assert_int_equal(v, 1);
	assert_true(emu_lapic_msr_read(L(f, 1), 0x80d, &v));
	assert_int_equal(v, 2); /* cluster 0, bit 1 */
	/* #GP: read-only, write-only, reserved, non-zero EOI, DFR */
	assert_false(emu_lapic_msr_write(L(f, 1), 0x802, 5));
	assert_false(emu_lapic_msr_read(L(f, 1), 0x80b, &v));
	assert_false(emu_lapic_msr_write(L(f, 1), 0x80b, 1));
	assert_false(emu_lapic_msr_read(L(f, 1), 0x80e, &v));
	assert_false(emu_lapic_msr_write(L(f, 1), 0x808, 0x100));
	assert_false(emu_lapic_msr_read(L(f, 1), 0x83f, &v));
	/* 64-bit ICR: fixed IPI to APIC ID 1 */
	assert_true(emu_lapic_msr_write(L(f, 0), 0x830, (1ULL << 32) | 0x61));
	assert_true(fake_irr(f, 1, 0) == false);
	assert_int_equal(emu_lapic_pending(L(f, 1)), 0x61);
	assert_true(emu_lapic_msr_read(L(f, 0), 0x830, &v));
	assert_int_equal(v, (1ULL << 32) | 0x61);
	/* self IPI */
	assert_true(emu_lapic_msr_write(L(f, 0), 0x83f, 0x62));
	assert_int_equal(emu_lapic_pending(L(f, 0)), 0x62);
	emu_lapic_ack(L(f, 0), 0x62);
	assert_true(emu_lapic_msr_write(L(f, 0), 0x80b, 0));
	assert_int_equal(emu_lapic_pending(L(f, 0)), -1);
	/* disable, then back to xAPIC: registers reset */
	assert_true(emu_lapic_set_base(L(f, 1), 0xfee00000));
	assert_true(emu_lapic_set_base(L(f, 1), 0xfee00800));
	assert_int_equal(emu_lapic_mmio_read(L(f, 1), 0xf0), 0xff);
	assert_false(emu_lapic_set_base(L(f, 1), 0xfee00000 | 0x400)); /* disabled -> x2 */
	fake_free(f);
}

static void test_state_roundtrip(void **state)
{
	struct fake *f = fake_new(1);
	struct kvm_lapic_state s;
	uint32_t v;

	(void)state;
	emu_cpu_get_lapic(&f->vm.cpus[0], &s);
	memcpy(&v, &s.regs[0x360], 4);
	v = (v & ~0x700u) | (EMU_DM_NMI << 8);
	memcpy(&s.regs[0x360], &v, 4);
	v = 0x1ff;
	memcpy(&s.regs[0xf0], &v, 4);
	emu_cpu_set_lapic(&f->vm.cpus[0], &s);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x360), 0x10400);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0x350), 0x700);
	assert_int_equal(emu_lapic_mmio_read(L(f, 0), 0xf0), 0x1ff);
	fake_free(f);
}

/* ---- timer ---------------------------------------------------------------------- */

static bool wait_irr(struct fake *f, unsigned v, unsigned max_ms)
{
	for (unsigned i = 0; i < max_ms * 10; i++) {
		if (fake_irr(f, 0, v))
			return true;
		struct timespec ts = { 0, 100000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

static void test_timer_oneshot(void **state)
{
	struct fake *f = fake_new(1);
	struct emu_lapic *l;
	uint64_t t0, dt;
	uint32_t c1, c2;

	(void)state;
	l = L(f, 0);
	fake_apic_on(f, 0);
	emu_lapic_mmio_write(l, 0x3e0, 0xb); /* divide by 1: 1 count per ns */
	emu_lapic_mmio_write(l, 0x320, 0xec); /* one-shot, vector 0xec */
	t0 = emu_host_ns();
	emu_lapic_mmio_write(l, 0x380, 20000000); /* 20 ms */
	c1 = emu_lapic_mmio_read(l, 0x390);
	sleep_ms(2);
	c2 = emu_lapic_mmio_read(l, 0x390);
	assert_true(c1 <= 20000000 && c2 < c1 && c2 > 10000000);
	assert_true(wait_irr(f, 0xec, 500));
	dt = emu_host_ns() - t0;
	assert_true(dt >= 20000000 && dt < 120000000);
	assert_int_equal(emu_lapic_mmio_read(l, 0x390), 0);
	assert_int_equal(emu_lapic_deadline(l), UINT64_MAX);
	fake_free(f);
}

static void test_timer_periodic(void **state)
{
	struct fake *f = fake_new(1);
	struct emu_lapic *l;
	uint64_t start, d;
	unsigned n;

	(void)state;
	l = L(f, 0);
	fake_apic_on(f, 0);
	emu_lapic_mmio_write(l, 0x3e0, 0x3); /* divide by 16 */
	emu_lapic_mmio_write(l, 0x320, 0x200ed); /* periodic */
	atomic_store(&f->irq_notes[0], 0);
	emu_lapic_mmio_write(l, 0x380, 125000); /* 2 ms */
	start = l->start_ns;
	/* Interrupts keep coming (25 of them within a generous deadline: a
	 * loaded host, or ASan, may hold the timer thread back), and never
	 * faster than one per programmed period. */
	while ((n = atomic_load(&f->irq_notes[0])) < 25 &&
	       emu_test_now_ns() - start < 5000000000ULL)
		sleep_ms(5);
	assert_true(n >= 25);
	assert_true(n <= (emu_test_now_ns() - start) / 2000000 + 2);
	/* no drift: every deadline stays on the start + k * period grid */
	d = emu_lapic_deadline(l);
	assert_int_equal((d - start) % 2000000, 0);
	fake_free(f);
}

static void test_timer_coalesce(void **state)
{
	struct fake *f = fake_new(1);
	struct emu_lapic *l;
	uint64_t d, now;

	(void)state;
	l = L(f, 0);
	fake_apic_on(f, 0);
	emu_lapic_mmio_write(l, 0x3e0, 0xb);
	emu_lapic_mmio_write(l, 0x320, 0x200ee);
	emu_lapic_mmio_write(l, 0x380, 1000000000u); /* 1 s: the thread stays idle */
	d = emu_lapic_deadline(l);
	atomic_store(&f->irq_notes[0], 0);
	now = d + 10500000000ULL; /* 10.5 periods late */
	emu_lapic_timer_check(l, now);
	assert_int_equal(atomic_load(&f->irq_notes[0]), 1);
	assert_int_equal(emu_lapic_deadline(l), d + 11000000000ULL);
	emu_lapic_timer_check(l, now);
	assert_int_equal(atomic_load(&f->irq_notes[0]), 1);
	fake_free(f);
}

static void test_timer_tsc_deadline(void **state)
{
	struct fake *f = fake_new(1);
	struct emu_lapic *l;
	uint64_t v, tsc;

	(void)state;
	l = L(f, 0);
	fake_apic_on(f, 0);
	/* ignored outside TSC-deadline mode */
	assert_true(emu_lapic_msr_write(l, 0x6e0, 12345));
	assert_true(emu_lapic_msr_read(l, 0x6e0, &v));
	assert_int_equal(v, 0);
	emu_lapic_mmio_write(l, 0x320, 0x400ef);
	tsc = emu_tsc_at(&f->vm, emu_host_ns()) + 2000000 * 5; /* 5 ms at 2 GHz */
	assert_true(emu_lapic_msr_write(l, 0x6e0, tsc));
	assert_true(emu_lapic_msr_read(l, 0x6e0, &v));
	assert_int_equal(v, tsc);
	assert_int_equal(emu_lapic_mmio_read(l, 0x390), 0);
	assert_false(fake_irr(f, 0, 0xef));
	assert_true(wait_irr(f, 0xef, 500));
	assert_true(emu_tsc_at(&f->vm, emu_host_ns()) >= tsc);
	assert_true(emu_lapic_msr_read(l, 0x6e0, &v));
	assert_int_equal(v, 0); /* disarmed after it fired */
	/* leaving TSC-deadline mode disarms */
	assert_true(emu_lapic_msr_write(l, 0x6e0, tsc + 1000000000ULL));
	emu_lapic_mmio_write(l, 0x320, 0xef);
	assert_int_equal(emu_lapic_deadline(l), UINT64_MAX);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),    cmocka_unit_test(test_fixed_ipi_eoi),
		cmocka_unit_test(test_priorities),     cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_init_sipi_nmi),  cmocka_unit_test(test_illegal_and_disabled),
		cmocka_unit_test(test_x2apic),	       cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_timer_oneshot),  cmocka_unit_test(test_timer_periodic),
		cmocka_unit_test(test_timer_coalesce), cmocka_unit_test(test_timer_tsc_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
