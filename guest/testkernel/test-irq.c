/* test-irq.c - an interrupt from the 8250 (THR empty) routed through IOAPIC pin 4.
 *
 * Setting IER.ETBEI while the transmitter is empty raises the THRE interrupt
 * at once (16550A behaviour); reading IIR acknowledges it. */
#include "apic.h"
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "layout.h"
#include "tests.h"
#include "tsc.h"

#define UART_IER (TK_COM1 + 1)
#define UART_IIR (TK_COM1 + 2)
#define UART_MCR (TK_COM1 + 4)
#define UART_IER_ETBEI 0x02
#define UART_MCR_OUT2 0x08
#define UART_IRQ_PIN 4
#define IRQ_TIMEOUT_US 1000000

static volatile unsigned int irqs;
static volatile uint8_t iir_seen;

static void uart_isr(struct isr_frame *f)
{
	(void)f;
	iir_seen = inb(UART_IIR);
	outb(UART_IER, 0);
	irqs++;
	lapic_eoi();
}

int test_irq(const char *arg)
{
	uint32_t ver = ioapic_read(0x01);
	uint64_t end;

	(void)arg;
	kprintf("irq: ioapic id %u version 0x%02x pins %u\n", ioapic_read(0x00) >> 24, ver & 0xFF,
		((ver >> 16) & 0xFF) + 1);
	pic_disable();
	lapic_enable();
	irqs = 0;
	idt_set_handler(TK_VEC_UART, uart_isr);
	ioapic_route(UART_IRQ_PIN, TK_VEC_UART, bsp_apic_id);
	outb(UART_MCR, inb(UART_MCR) | UART_MCR_OUT2);
	end = tsc_deadline(IRQ_TIMEOUT_US);
	cpu_sti();
	outb(UART_IER, UART_IER_ETBEI);
	while (!irqs && rdtsc() < end)
		cpu_pause();
	cpu_cli();
	outb(UART_IER, 0);
	ioapic_mask(UART_IRQ_PIN);
	idt_set_handler(TK_VEC_UART, NULL);
	if (!irqs)
		return test_fail(
			"no interrupt on vector 0x%x within %u ms (IOAPIC pin %u, IER=0x02)",
			TK_VEC_UART, IRQ_TIMEOUT_US / 1000, UART_IRQ_PIN);
	kprintf("irq: vector 0x%x from ioapic pin %u, iir=0x%02x, count=%u\n", TK_VEC_UART,
		UART_IRQ_PIN, iir_seen, irqs);
	return 0;
}
