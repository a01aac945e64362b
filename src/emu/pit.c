/* The 8254 PIT (ports 0x40-0x43) and port 0x61 (channel 2 gate, speaker,
 * OUT2, refresh toggle). Counters are computed from host time, never
 * ticked: a channel holds its initial count and the host ns it started.
 * Channel 0's OUT drives GSI 0 (PIC IRQ 0 and IOAPIC pin 0, as our MP
 * table routes ISA IRQ 0); the timer thread fires it (emu_pit_timer_check).
 *
 * Intel 82C54 datasheet: modes 0-5, counter latch, read-back, lobyte/
 * hibyte access. BCD counting is accepted but counts in binary.
 * Everything here runs under vm->irq_lock. */
#include "emu/irq.h"

#define PIT_HZ 1193182ULL
#define NS 1000000000ULL
#define REFRESH_NS 15085 /* port 0x61 bit 4 toggles every 15.085 us */
#define RW_LATCH 0
#define RW_LO 1
#define RW_HI 2
#define RW_LOHI 3

static uint64_t ticks_to_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * NS + PIT_HZ - 1) / PIT_HZ);
}

static uint64_t ticks(const struct emu_pit_channel *c, uint64_t now)
{
	if (now <= c->load_ns)
		return 0;
	return (uint64_t)((unsigned __int128)(now - c->load_ns) * PIT_HZ / NS);
}

static bool counting(const struct emu_pit_channel *c)
{
	return c->load_ns && c->gate;
}

static uint16_t counter(const struct emu_pit_channel *c, uint64_t now)
{
	uint64_t t, p;

	if (!counting(c))
		return c->frozen;
	t = ticks(c, now);
	switch (c->mode) {
	case 2:
		return (uint16_t)(c->count - t % c->count);
	case 3: /* counts down by two, twice per period */
		p = t % c->count;
		p %= (c->count + 1) / 2;
		return (uint16_t)((c->count - 2 * p) & ~1ULL);
	default: /* 0, 1, 4, 5: down once, then wraps */
		return (uint16_t)(c->count - t);
	}
}

static bool output(const struct emu_pit_channel *c, uint64_t now)
{
	uint64_t t;

	if (!c->load_ns)
		return c->mode != 0; /* mode 0 goes low on the control word */
	if (!c->gate)
		return c->mode != 0 || c->frozen == 0;
	t = ticks(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return t >= c->count;
	case 2:
		return t % c->count != c->count - 1;
	case 3:
		return t % c->count < (c->count + 1) / 2;
	default:
		return t != c->count; /* 4, 5: low for one tick at terminal count */
	}
}

static bool periodic(const struct emu_pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

/* ---- channel 0 and GSI 0 ---------------------------------------------------------- */

static void irq0(struct emu_vm *vm, int level)
{
	emu_pic_set_irq(vm, 0, level);
	emu_ioapic_set_irq(vm, 0, level);
}

/* Channel 0's next interrupt edge after the periods already fired. */
static void arm0(struct emu_vm *vm)
{
	struct emu_pit_channel *c = &vm->pit->ch[0];
	uint64_t d = UINT64_MAX;

	if (counting(c) && (periodic(c) || c->fired == 0))
		d = c->load_ns + ticks_to_ns((c->fired + 1) * c->count);
	atomic_store(&vm->pit->deadline_ns, d);
	if (d != UINT64_MAX)
		emu_timer_rearm(vm, d);
}

void emu_pit_timer_check(struct emu_vm *vm, uint64_t now)
{
	struct emu_pit_channel *c;

	if (!vm->pit)
		return;
	pthread_mutex_lock(&vm->irq_lock);
	c = &vm->pit->ch[0];
	if (atomic_load(&vm->pit->deadline_ns) > now || !counting(c)) {
		pthread_mutex_unlock(&vm->irq_lock);
		return;
	}
	if (periodic(c)) {
		/* one edge however many periods passed (coalesced), phase kept */
		c->fired = ticks(c, now) / c->count;
		irq0(vm, 1);
		irq0(vm, 0);
	} else {
		c->fired = 1;
		irq0(vm, 1); /* mode 0: OUT stays high until reprogrammed */
		if (c->mode != 0 && c->mode != 1)
			irq0(vm, 0);
	}
	arm0(vm);
	pthread_mutex_unlock(&vm->irq_lock);
}

/* ---- ports ------------------------------------------------------------------------ */

static void load(struct emu_vm *vm, unsigned n, uint32_t v)
{
	struct emu_pit_channel *c = &vm->pit->ch[n];

	c->count = v ? v : 65536;
	c->load_ns = emu_host_ns();
	c->fired = 0;
	c->null_count = false;
	c->frozen = (uint16_t)c->count;
	if (n == 0) {
		if (c->mode == 0 || c->mode == 1)
			irq0(vm, 0);
		arm0(vm);
	}
}

static void write_count(struct emu_vm *vm, unsigned n, uint8_t val)
{
	struct emu_pit_channel *c = &vm->pit->ch[n];

	switch (c->rw) {
	case RW_LO:
		load(vm, n, val);
		break;
	case RW_HI:
		load(vm, n, (uint32_t)val << 8);
		break;
	default:
		if (!c->wflip) {
			c->wlow = val;
			c->wflip = true;
		} else {
			c->wflip = false;
			load(vm, n, c->wlow | ((uint32_t)val << 8));
		}
		break;
	}
}

static uint8_t status(const struct emu_pit_channel *c, uint64_t now)
{
	return (uint8_t)((output(c, now) << 7) | (c->null_count << 6) | (c->rw << 4) |
			 (c->mode << 1) | c->bcd);
}

static void latch(struct emu_pit_channel *c, uint64_t now)
{
	if (c->latched)
		return; /* a second latch before the read is ignored */
	c->latch = counter(c, now);
	c->latched = c->rw == RW_LOHI ? 2 : 1;
}

static void control(struct emu_vm *vm, uint8_t val)
{
	unsigned sc = val >> 6, rw = (val >> 4) & 3;
	uint64_t now = emu_host_ns();
	struct emu_pit_channel *c;

	if (sc == 3) { /* read-back: bits 1-3 select, 5 = !count, 4 = !status */
		for (unsigned n = 0; n < 3; n++) {
			c = &vm->pit->ch[n];
			if (!(val & (2u << n)))
				continue;
			if (!(val & 0x10) && !c->status_latched) {
				c->status = status(c, now);
				c->status_latched = true;
			}
			if (!(val & 0x20))
				latch(c, now);
		}
		return;
	}
	c = &vm->pit->ch[sc];
	if (rw == RW_LATCH) {
		latch(c, now);
		return;
	}
	c->frozen = counter(c, now);
	c->rw = (uint8_t)rw;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 6, 7 are aliases of 2, 3 */
	c->bcd = val & 1;
	c->wflip = c->rflip = false;
	c->null_count = true;
	c->load_ns = 0; /* stopped until the count is written */
	c->latched = 0;
	if (sc == 0) {
		if (c->mode == 0)
			irq0(vm, 0);
		arm0(vm);
	}
}

static uint8_t read_count(struct emu_pit_channel *c)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched) {
		v = c->latch;
		c->latched--;
		if (c->rw == RW_HI || (c->rw == RW_LOHI && c->latched == 0))
			return (uint8_t)(v >> 8);
		return (uint8_t)v;
	}
	v = counter(c, emu_host_ns());
	if (c->rw == RW_LO)
		return (uint8_t)v;
	if (c->rw == RW_HI)
		return (uint8_t)(v >> 8);
	c->rflip = !c->rflip;
	return c->rflip ? (uint8_t)v : (uint8_t)(v >> 8);
}

/* Port 0x61: bit 0 gate 2, bit 1 speaker data, bit 4 refresh, bit 5 OUT2. */
static void write_61(struct emu_pit *pit, uint8_t val)
{
	struct emu_pit_channel *c = &pit->ch[2];
	bool gate = val & 1;
	uint64_t now = emu_host_ns();

	pit->speaker = val & 2;
	if (gate == c->gate)
		return;
	if (!gate) {
		c->frozen = counter(c, now);
	} else if (c->load_ns) {
		c->load_ns = now; /* a rising gate (re)starts the count */
		c->fired = 0;
	}
	c->gate = gate;
}

static uint8_t read_61(struct emu_pit *pit)
{
	uint64_t now = emu_host_ns();
	const struct emu_pit_channel *c = &pit->ch[2];

	return (uint8_t)(c->gate | (pit->speaker << 1) | (((now / REFRESH_NS) & 1) << 4) |
			 (output(c, now) << 5));
}

bool emu_pit_pio(struct emu_vm *vm, uint16_t port, bool write, uint8_t *data)
{
	struct emu_pit *pit = vm->pit;

	if (port == 0x61) {
		if (write)
			write_61(pit, *data);
		else
			*data = read_61(pit);
		return true;
	}
	if (port < 0x40 || port > 0x43)
		return false;
	if (port == 0x43) {
		if (write)
			control(vm, *data);
		else
			*data = 0xff; /* the control word is write-only */
		return true;
	}
	if (write)
		write_count(vm, port - 0x40u, *data);
	else
		*data = read_count(&pit->ch[port - 0x40u]);
	return true;
}

void emu_pit_reset(struct emu_pit *pit)
{
	memset(pit, 0, sizeof(*pit));
	for (unsigned n = 0; n < 3; n++) {
		pit->ch[n].gate = n != 2;
		pit->ch[n].rw = RW_LOHI;
		pit->ch[n].count = 65536;
	}
	atomic_store(&pit->deadline_ns, UINT64_MAX);
}
