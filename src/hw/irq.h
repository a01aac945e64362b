/* How a device raises an interrupt line without knowing the interrupt
 * controller: the VM supplies set_level (KVM_IRQ_LINE for the kvm
 * accelerator; the software IOAPIC/PIC for emu). */
#ifndef VS_HW_IRQ_H
#define VS_HW_IRQ_H

struct vs_irq_line {
	void (*set_level)(void *ctx, unsigned gsi, int level);
	void *ctx;
	unsigned gsi;
};

static inline void vs_irq_set(const struct vs_irq_line *l, int level)
{
	if (l->set_level)
		l->set_level(l->ctx, l->gsi, level);
}

#endif
