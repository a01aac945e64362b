/* apic.h - the local APIC (xAPIC MMIO), the IOAPIC and the legacy 8259s. */
#ifndef VS_TK_APIC_H
#define VS_TK_APIC_H

#include <stdint.h>

#define LAPIC_BASE 0xFEE00000u
#define IOAPIC_BASE 0xFEC00000u

#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0

#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_TIMER_PERIODIC (1u << 17)
#define LAPIC_TIMER_DIV_1 0xB
#define LAPIC_ICR_BUSY (1u << 12)

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

static inline uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

static inline void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* Software-enables this CPU's LAPIC (spurious vector 0xFF), TPR 0. */
void lapic_enable(void);

/* Sends an IPI (ICR low word @icr_lo) to @apic_id and waits for delivery. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo);

uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);

/* Programs redirection entry @pin: fixed, physical, edge, active high,
 * unmasked, @vector to @apic_id. ioapic_mask() masks it again. */
void ioapic_route(unsigned int pin, unsigned int vector, uint32_t apic_id);
void ioapic_mask(unsigned int pin);

/* Remaps both 8259s to TK_VEC_PIC_BASE and masks every line: ISA interrupts
 * then reach us only through the IOAPIC. Idempotent. */
void pic_disable(void);

#endif
