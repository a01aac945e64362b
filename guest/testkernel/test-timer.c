/* test-timer.c - LAPIC timer in periodic mode: do interrupts come at the programmed rate?
 *
 * The rate is the median of the TSC intervals between consecutive ones of
 * TIMER_TICKS interrupts, so start-up latency does not count. 100 Hz rather
 * than 1 kHz: where KVM emulates CPL0 (~2 MIPS), a vCPU thread preempted on a
 * loaded host for more than one period loses (coalesces) ticks; 10 ms periods
 * make that rare, and the median ignores the few intervals that span one. */
#include "apic.h"
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "layout.h"
#include "tests.h"
#include "tsc.h"

#define TIMER_HZ 100
#define TIMER_TICKS 25
#define TIMER_TOLERANCE_PCT 25
#define TIMER_TIMEOUT_US 3000000

static volatile unsigned int ticks;
static volatile uint64_t tick_tsc[TIMER_TICKS];

static void timer_isr(struct isr_frame *f)
{
	uint64_t now = rdtsc();

	(void)f;
	if (ticks < TIMER_TICKS)
		tick_tsc[ticks] = now;
	ticks++;
	lapic_eoi();
}

static void timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0);
	cpu_cli();
	idt_set_handler(TK_VEC_TIMER, NULL);
}

/* The median of the TIMER_TICKS - 1 intervals (insertion sort: 24 values). */
static uint64_t median_interval(void)
{
	uint64_t d[TIMER_TICKS - 1];
	int i, j;

	for (i = 0; i < TIMER_TICKS - 1; i++) {
		uint64_t v = tick_tsc[i + 1] - tick_tsc[i];

		for (j = i; j > 0 && d[j - 1] > v; j--)
			d[j] = d[j - 1];
		d[j] = v;
	}
	return d[(TIMER_TICKS - 1) / 2];
}

int test_timer(const char *arg)
{
	uint64_t khz = tsc_khz(), bus = apic_bus_khz(), end, rate_mhz, elapsed;
	uint32_t count = (uint32_t)(bus * 1000 / TIMER_HZ);

	(void)arg;
	kprintf("timer: tsc_khz=%lu (%s) apic_bus_khz=%lu (%s)\n", khz, tsc_khz_source, bus,
		apic_khz_source);
	kprintf("timer: programmed %u Hz (initial count %u, divide 1), %u ticks\n", TIMER_HZ, count,
		TIMER_TICKS);
	pic_disable();
	lapic_enable();
	ticks = 0;
	idt_set_handler(TK_VEC_TIMER, timer_isr);
	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_1);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | TK_VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, count);
	end = tsc_deadline(TIMER_TIMEOUT_US);
	cpu_sti();
	while (ticks < TIMER_TICKS && rdtsc() < end)
		cpu_pause();
	timer_stop();
	if (ticks < TIMER_TICKS)
		return test_fail("only %u of %u interrupts in %u ms", ticks, TIMER_TICKS,
				 TIMER_TIMEOUT_US / 1000);
	elapsed = median_interval();
	if (!elapsed)
		return test_fail("TSC did not advance between interrupts");
	/* millihertz, for three decimals without floating point */
	rate_mhz = khz * 1000000 / elapsed;
	kprintf("timer: measured %lu.%03lu Hz (median interval %lu us over %u ticks, %lu us)\n",
		rate_mhz / 1000, rate_mhz % 1000, elapsed * 1000 / khz, TIMER_TICKS,
		(tick_tsc[TIMER_TICKS - 1] - tick_tsc[0]) * 1000 / khz);
	if (rate_mhz < (uint64_t)TIMER_HZ * (100 - TIMER_TOLERANCE_PCT) * 10 ||
	    rate_mhz > (uint64_t)TIMER_HZ * (100 + TIMER_TOLERANCE_PCT) * 10)
		return test_fail("rate %lu Hz is not within %u%% of %u Hz", rate_mhz / 1000,
				 TIMER_TOLERANCE_PCT, TIMER_HZ);
	return 0;
}
