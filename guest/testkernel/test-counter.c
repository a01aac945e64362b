/* test-counter.c - a guest that keeps running until it is asked to power off,
 * for the VMM's control-plane tests (pause/resume, console, stop).
 *
 * "counter" or "counter:MS": prints "counter: N" every MS milliseconds
 * (default 200), sleeping in HLT between LAPIC timer ticks (so an idle
 * counter costs the host almost nothing), and polls vessel's power button
 * (port 0x504, docs/vm.md) at every tick. When the button reads as pressed
 * it prints "counter: power button" and exits with status 0 (a VMM
 * without the button: the port reads 0xff, which is not a press). Never PASSes
 * or FAILs otherwise. */
#include "apic.h"
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "layout.h"
#include "tests.h"
#include "tsc.h"

#define COUNTER_TICK_HZ 50
#define COUNTER_DEFAULT_MS 200
#define POWER_BUTTON_PORT 0x504
#define POWER_BUTTON_PRESSED 0x01

static volatile uint64_t ticks;

static void counter_isr(struct isr_frame *f)
{
	(void)f;
	ticks++;
	lapic_eoi();
}

/* A VMM without the button leaves the port unmapped, and an unmapped port
 * reads 0xff (a floating bus): only exactly 0x01 is a press. */
static int button_pressed(void)
{
	return inb(POWER_BUTTON_PORT) == POWER_BUTTON_PRESSED;
}

int test_counter(const char *arg)
{
	uint64_t ms = COUNTER_DEFAULT_MS, n = 0, next;
	uint32_t count = (uint32_t)(apic_bus_khz() * 1000 / COUNTER_TICK_HZ);

	if (arg[0] && (parse_u64(arg, strlen(arg), &ms) || ms == 0))
		return test_fail("counter:MS wants a period in milliseconds");
	kprintf("counter: every %lu ms\n", ms);
	pic_disable();
	lapic_enable();
	idt_set_handler(TK_VEC_TIMER, counter_isr);
	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_1);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | TK_VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, count);
	next = tsc_deadline(ms * 1000);
	for (;;) {
		/* sti; hlt: the STI shadow keeps the tick from slipping in between */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (button_pressed()) {
			kprintf("counter: power button\n");
			tk_exit(0);
		}
		if (rdtsc() >= next) {
			kprintf("counter: %lu\n", n++);
			next = tsc_deadline(ms * 1000);
		}
	}
}
