/* Unit tests of kvm-clock (src/emu/kvmclock.c): the pvclock scale for
 * several TSC frequencies, the time info a guest reads against host
 * CLOCK_MONOTONIC, the version protocol, the wall clock. */
#include "irq-fake.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

struct pvti {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

/* What Linux's pvclock_scale_delta() computes. */
static uint64_t scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

static void test_scale(void **state)
{
	static const uint32_t khz[] = { 2000000, 1000000, 2893421, 3600000, 100000, 4000000 };

	(void)state;
	for (unsigned i = 0; i < sizeof(khz) / sizeof(khz[0]); i++) {
		uint32_t mul;
		int8_t shift;
		uint64_t ticks = (uint64_t)khz[i] * 1000 * 3600; /* one hour */
		uint64_t ns;

		emu_kvmclock_scale(khz[i], &mul, &shift);
		assert_true(mul >= 0x80000000u);
		ns = scale(ticks, mul, shift);
		/* within 2 us per hour of the exact 3600 s */
		assert_true(ns <= 3600000000000ULL && 3600000000000ULL - ns < 2000);
	}
}

static void test_system_time(void **state)
{
	struct fake *f = fake_new(1);
	struct emu_cpu *cpu = &f->vm.cpus[0];
	struct pvti *p = (struct pvti *)(f->ram + 0x2000);
	uint64_t tsc, guest_ns, host_ns;

	(void)state;
	f->vm.tsc_khz = 2893421; /* an odd frequency: mul/shift are not exact */
	sleep_ms(5);
	assert_true(emu_kvmclock_wrmsr(cpu, 0x4b564d01, 0x2000)); /* not enabled */
	assert_int_equal(p->version, 0);
	assert_true(emu_kvmclock_wrmsr(cpu, 0x4b564d01, 0x2001));
	assert_int_equal(cpu->msr.kvm_system_time, 0x2001);
	assert_int_equal(p->version & 1, 0);
	assert_true(p->version != 0);
	assert_true(p->flags & 1);
	sleep_ms(20);
	host_ns = emu_host_ns();
	tsc = emu_tsc_at(&f->vm, host_ns);
	guest_ns = p->system_time + scale(tsc - p->tsc_timestamp, p->mul, p->shift);
	host_ns -= f->vm.tsc_epoch_ns;
	assert_true(guest_ns <= host_ns + 1000 && host_ns <= guest_ns + 1000);
	/* the legacy MSR number works too, and rewrites bump the version by 2 */
	uint32_t v = p->version;
	assert_true(emu_kvmclock_wrmsr(cpu, 0x12, 0x2001));
	assert_int_equal(p->version, v + 2);
	/* outside RAM: accepted, nothing written */
	assert_true(emu_kvmclock_wrmsr(cpu, 0x12, 0xfffff000ULL | 1));
	assert_false(emu_kvmclock_wrmsr(cpu, 0x10, 0));
	fake_free(f);
}

static void test_wall_clock(void **state)
{
	struct fake *f = fake_new(1);
	uint32_t *w = (uint32_t *)(f->ram + 0x3000);
	struct timespec rt;
	uint64_t boot;

	(void)state;
	sleep_ms(10);
	assert_true(emu_kvmclock_wrmsr(&f->vm.cpus[0], 0x4b564d00, 0x3000));
	clock_gettime(CLOCK_REALTIME, &rt);
	boot = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec -
	       (emu_host_ns() - f->vm.tsc_epoch_ns);
	assert_int_equal(w[0] & 1, 0);
	uint64_t got = (uint64_t)w[1] * 1000000000ULL + w[2];
	assert_true(got <= boot + 5000000 && boot <= got + 5000000);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_system_time),
		cmocka_unit_test(test_wall_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
