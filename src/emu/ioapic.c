/* The I/O APIC (82093AA-style, version 0x20: 24 pins, EOI register) at
 * 0xFEC00000, the VM's interrupt lines (emu_set_irq: GSI 0-15 also reach
 * the PIC), MSI, the legacy port dispatch, and the irqchip's life cycle.
 *
 * Every function here runs under vm->irq_lock (taken at the entry points). */
#include "emu/irq.h"

#include "common/util.h"

#include <stdlib.h>

#define IOAPIC_VERSION 0x20
#define REDIR_MASKED (1ULL << 16)
#define REDIR_LEVEL (1ULL << 15)
#define REDIR_REMOTE_IRR (1ULL << 14)
#define REDIR_LOGICAL (1ULL << 11)
#define REDIR_WRITABLE 0x1afffULL /* vector, mode, dest mode, polarity, trigger, mask */

void emu_ioapic_reset(struct emu_ioapic *io)
{
	memset(io, 0, sizeof(*io));
	for (unsigned i = 0; i < EMU_IOAPIC_PINS; i++)
		io->redir[i] = REDIR_MASKED;
}

/* Sends pin's message if its entry lets it through. Edges seen while
 * masked are latched and sent on unmask; a level entry waits for EOI
 * (remote IRR) before it sends again. */
static void service(struct emu_vm *vm, unsigned pin)
{
	struct emu_ioapic *io = vm->ioapic;
	uint64_t e = io->redir[pin];
	bool level = e & REDIR_LEVEL;

	if (e & REDIR_MASKED) {
		if (!level)
			io->latched |= 1u << pin;
		return;
	}
	io->latched &= ~(1u << pin);
	if (level) {
		if (e & REDIR_REMOTE_IRR)
			return;
		io->redir[pin] |= REDIR_REMOTE_IRR;
	}
	emu_irq_deliver(vm, (uint32_t)(e >> 56), e & REDIR_LOGICAL, (e >> 8) & 7, (uint8_t)e, level,
			UINT32_MAX);
}

void emu_ioapic_set_irq(struct emu_vm *vm, unsigned pin, int level)
{
	struct emu_ioapic *io = vm->ioapic;
	uint32_t bit;
	bool was;

	if (pin >= EMU_IOAPIC_PINS)
		return;
	bit = 1u << pin;
	was = io->lines & bit;
	/* Lines are logical (asserted = 1): the polarity bit describes the
	 * wire, which our devices never model. */
	if (level)
		io->lines |= bit;
	else
		io->lines &= ~bit;
	if (!level)
		return;
	if ((io->redir[pin] & REDIR_LEVEL) || !was)
		service(vm, pin);
}

static void eoi_locked(struct emu_vm *vm, uint8_t vector)
{
	struct emu_ioapic *io = vm->ioapic;

	for (unsigned pin = 0; pin < EMU_IOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];

		if ((uint8_t)e != vector || !(e & REDIR_LEVEL) || !(e & REDIR_REMOTE_IRR))
			continue;
		io->redir[pin] &= ~REDIR_REMOTE_IRR;
		if (io->lines & (1u << pin))
			service(vm, pin); /* still asserted: the device wants more */
	}
}

void emu_ioapic_eoi(struct emu_vm *vm, uint8_t vector)
{
	if (!vm->ioapic)
		return;
	pthread_mutex_lock(&vm->irq_lock);
	eoi_locked(vm, vector);
	pthread_mutex_unlock(&vm->irq_lock);
}

static uint32_t read_reg(struct emu_ioapic *io, uint32_t sel)
{
	unsigned pin = (sel - 0x10) / 2;

	switch (sel) {
	case 0:
	case 2:
		return io->id << 24;
	case 1:
		return IOAPIC_VERSION | ((EMU_IOAPIC_PINS - 1) << 16);
	default:
		break;
	}
	if (sel < 0x10 || pin >= EMU_IOAPIC_PINS)
		return 0;
	return (uint32_t)(io->redir[pin] >> (sel & 1 ? 32 : 0));
}

static void write_redir_low(struct emu_vm *vm, unsigned pin, uint32_t val)
{
	struct emu_ioapic *io = vm->ioapic;
	uint64_t e = io->redir[pin];

	e = (e & ~REDIR_WRITABLE) | (val & REDIR_WRITABLE);
	if (!(e & REDIR_LEVEL))
		e &= ~REDIR_REMOTE_IRR;
	io->redir[pin] = e;
	if (e & REDIR_MASKED)
		return;
	if ((e & REDIR_LEVEL) ? (io->lines >> pin) & 1 : (io->latched >> pin) & 1)
		service(vm, pin);
}

static void write_reg(struct emu_vm *vm, uint32_t sel, uint32_t val)
{
	struct emu_ioapic *io = vm->ioapic;
	unsigned pin = (sel - 0x10) / 2;

	if (sel == 0) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (sel < 0x10 || pin >= EMU_IOAPIC_PINS)
		return; /* version and arbitration are read-only */
	if (sel & 1)
		io->redir[pin] = (io->redir[pin] & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		write_redir_low(vm, pin, val);
}

void emu_ioapic_mmio(struct emu_vm *vm, uint64_t off, bool write, void *data, unsigned size)
{
	struct emu_ioapic *io = vm->ioapic;
	uint32_t v = 0;

	if (size > 4)
		size = 4;
	if (write)
		memcpy(&v, data, size);
	pthread_mutex_lock(&vm->irq_lock);
	switch (off & 0xff) {
	case 0x00:
		if (write)
			io->regsel = v & 0xff;
		else
			v = io->regsel;
		break;
	case 0x10:
		if (write)
			write_reg(vm, io->regsel, v);
		else
			v = read_reg(io, io->regsel);
		break;
	case 0x40:
		if (write)
			eoi_locked(vm, (uint8_t)v);
		break;
	default:
		v = 0;
		break;
	}
	pthread_mutex_unlock(&vm->irq_lock);
	if (!write)
		memcpy(data, &v, size);
}

/* ---- lines, MSI, legacy ports ---------------------------------------------- */

void emu_set_irq(struct emu_vm *vm, unsigned gsi, int level)
{
	if (!vm->ioapic || gsi >= EMU_IOAPIC_PINS)
		return;
	pthread_mutex_lock(&vm->irq_lock);
	if (gsi < 16)
		emu_pic_set_irq(vm, gsi, level);
	emu_ioapic_set_irq(vm, gsi, level);
	pthread_mutex_unlock(&vm->irq_lock);
}

/* Intel SDM 11.11: address 0xFEE[dest:8][...][RH:1][DM:1]xx, data
 * [trigger:1][level:1]...[mode:3][vector:8]. Address bits 5-11 carry
 * destination bits 8-14 where the guest uses the extended destination ID. */
void emu_msi(struct emu_vm *vm, uint64_t addr, uint32_t data)
{
	uint32_t dest = ((addr >> 12) & 0xff) | (((addr >> 5) & 0x7f) << 8);

	if ((addr >> 20) != 0xfee)
		return;
	emu_irq_deliver(vm, dest, addr & 4, (data >> 8) & 7, (uint8_t)data, false, UINT32_MAX);
}

bool emu_legacy_pio(struct emu_vm *vm, uint16_t port, bool write, void *data, unsigned size)
{
	uint8_t *b = data;
	bool claimed;

	if (!vm->pic)
		return false;
	pthread_mutex_lock(&vm->irq_lock);
	claimed = emu_pic_pio(vm, port, write, b) || emu_pit_pio(vm, port, write, b);
	/* Wider accesses go byte by byte to the following ports (outw 0x4d0). */
	for (unsigned i = 1; claimed && i < size && i < 4; i++)
		if (!emu_pic_pio(vm, (uint16_t)(port + i), write, b + i) &&
		    !emu_pit_pio(vm, (uint16_t)(port + i), write, b + i) && !write)
			b[i] = 0xff;
	pthread_mutex_unlock(&vm->irq_lock);
	return claimed;
}

/* vm->irq_lock, vm->cpus and vm->ncpus are the system layer's: set before. */
int emu_irqchip_new(struct emu_vm *vm)
{
	struct emu_irqchip *chip = xzalloc(sizeof(*chip));
	int r;

	emu_pic_reset(&chip->pic);
	emu_ioapic_reset(&chip->ioapic);
	emu_pit_reset(&chip->pit);
	vm->pic = &chip->pic;
	vm->ioapic = &chip->ioapic;
	vm->pit = &chip->pit;
	r = emu_timer_start(vm);
	if (r < 0) {
		vm->pic = NULL;
		vm->ioapic = NULL;
		vm->pit = NULL;
		free(chip);
		return r;
	}
	return 0;
}

void emu_irqchip_free(struct emu_vm *vm)
{
	struct emu_irqchip *chip = emu_irqchip_of(vm);

	if (!chip)
		return;
	emu_timer_stop(vm);
	vm->pic = NULL;
	vm->ioapic = NULL;
	vm->pit = NULL;
	free(chip);
}
