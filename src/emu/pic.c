/* The 8259A PIC pair (master at 0x20/0x21, slave at 0xA0/0xA1 cascaded on
 * master IRQ 2) and the ELCR at 0x4D0/0x4D1 (level/edge per IRQ). The
 * master's INT drives LINT0 of the LAPICs (ExtINT, the "virtual wire").
 *
 * Intel 8259A datasheet: ICW1-4, OCW1-3, fully nested mode with rotation,
 * special mask mode, poll mode, automatic EOI, spurious IRQ 7.
 * Everything here runs under vm->irq_lock. */
#include "emu/irq.h"

#define ICW1_INIT 0x10
#define ICW1_ICW4 0x01
#define ICW1_SINGLE 0x02
#define OCW3_SEL 0x08
#define OCW3_POLL 0x04

static void chip_reset(struct emu_pic_chip *c)
{
	uint8_t base = c->base, elcr = c->elcr, elcr_mask = c->elcr_mask;

	memset(c, 0, sizeof(*c));
	c->base = base;
	c->elcr = elcr;
	c->elcr_mask = elcr_mask;
}

void emu_pic_reset(struct emu_pic *pic)
{
	memset(pic, 0, sizeof(*pic));
	pic->c[0].base = 0x08; /* the BIOS's real-mode bases */
	pic->c[1].base = 0x70;
	pic->c[0].elcr_mask = 0xf8; /* IRQ 0-2 are always edge */
	pic->c[1].elcr_mask = 0xde; /* IRQ 8 and 13 too */
}

/* Priority rank of IRQ i: 0 is the highest (rotation moves IRQ prio). */
static unsigned rank(const struct emu_pic_chip *c, unsigned i)
{
	return (i - c->prio) & 7;
}

/* The highest-priority IRQ set in bits, or -1. */
static int top(const struct emu_pic_chip *c, uint8_t bits)
{
	for (unsigned r = 0; r < 8; r++) {
		unsigned i = (r + c->prio) & 7;

		if (bits & (1u << i))
			return (int)i;
	}
	return -1;
}

/* The IRQ this chip would raise INT for, or -1 (datasheet: an IRR bit
 * goes out when it outranks every in-service IRQ; special mask mode lets
 * lower ones through; special fully nested lets the slave's IRQ 2 nest). */
static int chip_irq(const struct emu_pic_chip *c, bool master)
{
	int irq = top(c, c->irr & ~c->imr);
	uint8_t isr = c->isr;
	int in;

	if (irq < 0)
		return -1;
	if (c->smm)
		isr &= ~c->imr;
	if (master && c->sfnm)
		isr &= ~(1u << 2);
	in = top(c, isr);
	if (in >= 0 && rank(c, (unsigned)in) <= rank(c, (unsigned)irq))
		return -1;
	return irq;
}

static void update(struct emu_vm *vm)
{
	struct emu_pic *pic = vm->pic;
	bool out;

	/* The slave's INT is a pulse on master IRQ 2, as an edge each time. */
	if (chip_irq(&pic->c[1], false) >= 0)
		pic->c[0].irr |= 1u << 2;
	out = chip_irq(&pic->c[0], true) >= 0;
	if (out && !pic->output && vm->ncpus)
		emu_cpu_notify(&vm->cpus[0], EMU_EV_IRQ);
	pic->output = out;
}

static void chip_set_irq(struct emu_pic_chip *c, unsigned irq, int level)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (c->elcr & bit) {
		/* level-triggered: IRR follows the line */
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->last & bit)) {
		c->irr |= bit; /* rising edge */
	}
	if (level)
		c->last |= bit;
	else
		c->last &= (uint8_t)~bit;
}

void emu_pic_set_irq(struct emu_vm *vm, unsigned irq, int level)
{
	if (irq >= 16)
		return;
	chip_set_irq(&vm->pic->c[irq >> 3], irq & 7, level);
	update(vm);
}

/* INTA: IRR -> ISR (or auto-EOI). Returns the IRQ acknowledged. */
static void chip_ack(struct emu_pic_chip *c, unsigned irq)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (c->aeoi) {
		if (c->rotate_aeoi)
			c->prio = (uint8_t)((irq + 1) & 7);
	} else {
		c->isr |= bit;
	}
	if (!(c->elcr & bit))
		c->irr &= (uint8_t)~bit; /* a level IRQ stays requested while its line is high */
}

/* The vector INTA would return; with ack, performs the INTA. */
static int intack_locked(struct emu_vm *vm, bool peek)
{
	struct emu_pic *pic = vm->pic;
	int irq = chip_irq(&pic->c[0], true), irq2;

	if (!pic->output && peek)
		return -1;
	if (irq < 0) /* the request went away: the 8259 answers IRQ 7 (spurious) */
		return peek ? -1 : pic->c[0].base + 7;
	if (irq != 2) {
		if (!peek)
			chip_ack(&pic->c[0], (unsigned)irq);
		return pic->c[0].base + irq;
	}
	irq2 = chip_irq(&pic->c[1], false);
	if (!peek) {
		chip_ack(&pic->c[0], 2);
		if (irq2 >= 0)
			chip_ack(&pic->c[1], (unsigned)irq2);
	}
	return pic->c[1].base + (irq2 >= 0 ? irq2 : 7);
}

int emu_pic_intack(struct emu_vm *vm, bool peek)
{
	int v;

	if (!vm->pic)
		return -1;
	pthread_mutex_lock(&vm->irq_lock);
	v = intack_locked(vm, peek);
	if (!peek)
		update(vm);
	pthread_mutex_unlock(&vm->irq_lock);
	return v;
}

/* ---- ports -------------------------------------------------------------------- */

static void write_icw1(struct emu_pic_chip *c, uint8_t val)
{
	chip_reset(c);
	/* ICW1 resets the edge detector and clears IMR (datasheet: "the
	 * interrupt mask register is cleared"), IRQ 7 gets the lowest priority. */
	c->icw4 = val & ICW1_ICW4;
	c->single = val & ICW1_SINGLE;
	c->init = 2;
}

static void write_ocw2(struct emu_pic_chip *c, uint8_t val)
{
	unsigned cmd = val >> 5;
	int irq;

	switch (cmd) {
	case 0:
		c->rotate_aeoi = false;
		break;
	case 4:
		c->rotate_aeoi = true;
		break;
	case 1:
	case 5: /* non-specific EOI (and rotate) */
		irq = top(c, c->isr);
		if (irq < 0)
			break;
		c->isr &= (uint8_t) ~(1u << irq);
		if (cmd == 5)
			c->prio = (uint8_t)((irq + 1) & 7);
		break;
	case 3:
	case 7: /* specific EOI (and rotate) */
		c->isr &= (uint8_t) ~(1u << (val & 7));
		if (cmd == 7)
			c->prio = (uint8_t)(((val & 7) + 1) & 7);
		break;
	case 6:
		c->prio = (uint8_t)(((val & 7) + 1) & 7);
		break;
	default:
		break;
	}
}

static void write_ocw3(struct emu_pic_chip *c, uint8_t val)
{
	if (val & OCW3_POLL)
		c->poll = true;
	if (val & 2)
		c->read_isr = val & 1;
	if (val & 0x40)
		c->smm = (val >> 5) & 1;
}

static void write_data(struct emu_pic_chip *c, uint8_t val)
{
	switch (c->init) {
	case 2:
		c->base = val & 0xf8;
		c->init = c->single ? (c->icw4 ? 4 : 0) : 3;
		break;
	case 3:
		c->init = c->icw4 ? 4 : 0;
		break; /* ICW3: our cascade is fixed */
	case 4:
		c->aeoi = val & 2;
		c->sfnm = val & 0x10;
		c->init = 0;
		break;
	default:
		c->imr = val;
		break;
	}
}

/* Poll mode (OCW3 P): the read acknowledges like INTA and returns
 * 0x80 | IRQ, or 0 when nothing is pending. */
static uint8_t poll_read(struct emu_vm *vm, unsigned chip)
{
	struct emu_pic_chip *c = &vm->pic->c[chip];
	int irq = chip_irq(c, chip == 0);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_ack(c, (unsigned)irq);
	if (chip == 0 && irq == 2) {
		int irq2 = chip_irq(&vm->pic->c[1], false);

		if (irq2 >= 0)
			chip_ack(&vm->pic->c[1], (unsigned)irq2);
	}
	return (uint8_t)(0x80 | irq);
}

static uint8_t chip_read(struct emu_vm *vm, unsigned chip, bool data_port)
{
	struct emu_pic_chip *c = &vm->pic->c[chip];

	if (c->poll)
		return poll_read(vm, chip);
	if (data_port)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void chip_write(struct emu_pic_chip *c, bool data_port, uint8_t val)
{
	if (data_port)
		write_data(c, val);
	else if (val & ICW1_INIT)
		write_icw1(c, val);
	else if (val & OCW3_SEL)
		write_ocw3(c, val);
	else
		write_ocw2(c, val);
}

bool emu_pic_pio(struct emu_vm *vm, uint16_t port, bool write, uint8_t *data)
{
	struct emu_pic_chip *c;

	if (port == 0x4d0 || port == 0x4d1) {
		c = &vm->pic->c[port & 1];
		if (write)
			c->elcr = *data & c->elcr_mask;
		else
			*data = c->elcr;
		if (write)
			update(vm);
		return true;
	}
	if ((port & ~0x81u) != 0x20)
		return false; /* only 0x20, 0x21, 0xa0, 0xa1 */
	if (write)
		chip_write(&vm->pic->c[port >> 7], port & 1, *data);
	else
		*data = chip_read(vm, port >> 7, port & 1);
	update(vm);
	return true;
}
