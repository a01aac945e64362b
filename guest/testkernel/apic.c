/* apic.c - LAPIC, IOAPIC and 8259 programming (SDM vol. 3 ch. 11, 82093AA, 8259A). */
#include "apic.h"

#include "arch.h"
#include "layout.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define IOAPIC_MASKED (1u << 16)
#define LAPIC_SVR_ENABLE 0x100
#define ICR_POLL_LIMIT 1000000

static bool pic_done;

void lapic_enable(void)
{
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | TK_VEC_SPURIOUS);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	for (int i = 0; i < ICR_POLL_LIMIT && (lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_BUSY); i++)
		cpu_pause();
}

uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

void ioapic_route(unsigned int pin, unsigned int vector, uint32_t apic_id)
{
	ioapic_write(IOAPIC_REDTBL(pin), IOAPIC_MASKED);
	ioapic_write(IOAPIC_REDTBL(pin) + 1, apic_id << 24);
	ioapic_write(IOAPIC_REDTBL(pin), vector & 0xFF);
}

void ioapic_mask(unsigned int pin)
{
	ioapic_write(IOAPIC_REDTBL(pin), IOAPIC_MASKED);
}

void pic_disable(void)
{
	if (pic_done)
		return;
	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(0xA0, 0x11);
	outb(0x21, TK_VEC_PIC_BASE); /* ICW2: vector base */
	outb(0xA1, TK_VEC_PIC_BASE + 8);
	outb(0x21, 0x04); /* ICW3: slave on IRQ2 */
	outb(0xA1, 0x02);
	outb(0x21, 0x01); /* ICW4: 8086 mode */
	outb(0xA1, 0x01);
	outb(0x21, 0xFF); /* OCW1: mask all */
	outb(0xA1, 0xFF);
	pic_done = true;
}
