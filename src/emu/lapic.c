/* The local APIC of one vCPU: xAPIC registers (MMIO page at 0xFEE00000),
 * x2APIC MSRs 0x800-0x8ff, the APIC base MSR, priorities (TPR/PPR/ISR/IRR),
 * EOI, the ICR (fixed/NMI/INIT/SIPI IPIs) and the routing of interrupt
 * messages to LAPICs (emu_irq_deliver). The timer lives in timer.c.
 *
 * Map: priorities | accept | registers read | registers write | ICR and
 * routing | MMIO and MSRs | base MSR | interrupt acceptance | life cycle
 * and KVM state.
 *
 * SDM vol. 3A ch. 11 ("Advanced Programmable Interrupt Controller"). */
#include "emu/irq.h"

#include "common/util.h"

#include <stdlib.h>

#define APIC_VERSION 0x14
#define APIC_MAXLVT (EMU_LVT_N - 1)
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG (1u << 7)
#define ICR_DELIVERY_BUSY (1u << 12)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_LOGICAL (1u << 11)

/* Writable bits per LVT entry (timer: vector, mask, periodic and TSC-deadline mode). */
static const uint32_t lvt_writable[EMU_LVT_N] = {
	[EMU_LVT_TIMER] = 0x700ff, [EMU_LVT_THERMAL] = 0x107ff, [EMU_LVT_PERF] = 0x107ff,
	[EMU_LVT_LINT0] = 0x1a7ff, [EMU_LVT_LINT1] = 0x1a7ff,	[EMU_LVT_ERROR] = 0x100ff,
};

/* ---- priorities --------------------------------------------------------- */

static int highest(const uint32_t *bits)
{
	for (int i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static bool test_bit(const uint32_t *bits, unsigned v)
{
	return (bits[v / 32] >> (v % 32)) & 1;
}

static void set_bit(uint32_t *bits, unsigned v, bool on)
{
	if (on)
		bits[v / 32] |= 1u << (v % 32);
	else
		bits[v / 32] &= ~(1u << (v % 32));
}

static uint32_t ppr(const struct emu_lapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

static bool sw_enabled(const struct emu_lapic *l)
{
	return (l->svr & EMU_APIC_SVR_ENABLE) != 0;
}

/* ---- accept --------------------------------------------------------------- */

bool emu_lapic_set_irr_locked(struct emu_lapic *l, uint8_t vector, bool level)
{
	if (vector < 16) {
		/* SDM 11.5.3: vectors 0-15 are illegal; the receiver records it. */
		l->esr_pending |= ESR_RECV_ILLEGAL;
		return false;
	}
	set_bit(l->irr, vector, true);
	set_bit(l->tmr, vector, level);
	return true;
}

void emu_lapic_accept(struct emu_lapic *l, unsigned mode, uint8_t vector, bool level)
{
	uint32_t ev = 0;

	pthread_mutex_lock(&l->lock);
	switch (mode) {
	case EMU_DM_FIXED:
	case EMU_DM_LOWEST:
		/* A software-disabled APIC does not accept fixed interrupts. */
		if (sw_enabled(l) && emu_lapic_set_irr_locked(l, vector, level))
			ev = EMU_EV_IRQ;
		break;
	case EMU_DM_NMI:
		atomic_store(&l->nmi, true);
		ev = EMU_EV_NMI;
		break;
	case EMU_DM_INIT:
		ev = EMU_EV_INIT;
		break;
	case EMU_DM_SIPI:
		l->cpu->sipi_vector = vector;
		ev = EMU_EV_SIPI;
		break;
	case EMU_DM_EXTINT:
		ev = EMU_EV_IRQ; /* look at the PIC */
		break;
	default: /* SMI and reserved modes: ignored */
		break;
	}
	pthread_mutex_unlock(&l->lock);
	if (ev)
		emu_cpu_notify(l->cpu, ev);
}

/* ---- registers: read ------------------------------------------------------ */

static uint32_t reg_read(struct emu_lapic *l, uint32_t off)
{
	if (off >= 0x100 && off < 0x280) {
		const uint32_t *a = off < 0x180 ? l->isr : off < 0x200 ? l->tmr : l->irr;

		return a[(off >> 4) & 7];
	}
	if (off >= 0x320 && off <= 0x370)
		return l->lvt[(off - 0x320) >> 4];
	switch (off) {
	case 0x20:
		return emu_lapic_x2apic(l) ? l->id : l->id << 24;
	case 0x30:
		return APIC_VERSION | (APIC_MAXLVT << 16);
	case 0x80:
		return l->tpr;
	case 0xa0:
		return ppr(l);
	case 0xd0:
		return l->ldr;
	case 0xe0:
		return l->dfr;
	case 0xf0:
		return l->svr;
	case 0x280:
		return l->esr;
	case 0x300:
		return l->icr_lo;
	case 0x310:
		return l->icr_hi;
	case 0x380:
		return l->tmict;
	case 0x390:
		return emu_lapic_timer_current(l, emu_host_ns());
	case 0x3e0:
		return l->tdcr;
	default:
		return 0;
	}
}

/* ---- registers: write ----------------------------------------------------- */

/* What a register write leaves to do once the lock is dropped. */
struct after {
	uint32_t notify; /* events for this vCPU */
	int eoi_level; /* vector of a level-triggered EOI, or -1 */
	bool send_icr;
};

static void eoi_locked(struct emu_lapic *l, struct after *a)
{
	int v = highest(l->isr);

	if (v < 0)
		return;
	set_bit(l->isr, (unsigned)v, false);
	if (test_bit(l->tmr, (unsigned)v))
		a->eoi_level = v;
	a->notify |= EMU_EV_IRQ; /* a lower-priority IRR may be deliverable now */
}

static void write_svr(struct emu_lapic *l, uint32_t val)
{
	l->svr = val & 0x3ff;
	if (!sw_enabled(l)) {
		/* SDM 11.4.7.2: software disable masks every LVT entry. */
		for (int i = 0; i < EMU_LVT_N; i++)
			l->lvt[i] |= EMU_LVT_MASKED;
		emu_lapic_timer_write_lvt(l, l->lvt[EMU_LVT_TIMER]);
	}
}

static void write_lvt(struct emu_lapic *l, unsigned i, uint32_t val)
{
	val &= lvt_writable[i];
	if (!sw_enabled(l))
		val |= EMU_LVT_MASKED;
	if (i == EMU_LVT_TIMER)
		emu_lapic_timer_write_lvt(l, val);
	else
		l->lvt[i] = val;
}

static void reg_write(struct emu_lapic *l, uint32_t off, uint32_t val, struct after *a)
{
	if (off >= 0x320 && off <= 0x370) {
		write_lvt(l, (off - 0x320) >> 4, val);
		return;
	}
	switch (off) {
	case 0x20:
		if (!emu_lapic_x2apic(l))
			l->id = val >> 24;
		break;
	case 0x80:
		l->tpr = val & 0xff;
		a->notify |= EMU_EV_IRQ;
		break;
	case 0xb0:
		eoi_locked(l, a);
		break;
	case 0xd0:
		l->ldr = val & 0xff000000;
		break;
	case 0xe0:
		l->dfr = val | 0x0fffffff;
		break;
	case 0xf0:
		write_svr(l, val);
		break;
	case 0x280:
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case 0x300:
		l->icr_lo = val & ~ICR_DELIVERY_BUSY;
		a->send_icr = true;
		break;
	case 0x310:
		l->icr_hi = val & 0xff000000;
		break;
	case 0x380:
		emu_lapic_timer_write_tmict(l, val);
		break;
	case 0x3e0:
		emu_lapic_timer_write_tdcr(l, val);
		break;
	default:
		break; /* read-only or reserved: ignored */
	}
}

/* ---- ICR and routing -------------------------------------------------------- */

/* Does l answer to dest? narrow: an 8-bit destination (xAPIC ICR, IOAPIC,
 * MSI), where 0xff broadcasts. Takes l->lock. */
static bool lapic_match(struct emu_lapic *l, uint32_t dest, bool logical, bool narrow)
{
	bool r;

	pthread_mutex_lock(&l->lock);
	if (!emu_lapic_hw_enabled(l))
		r = false;
	else if ((narrow && dest == 0xff) || dest == 0xffffffff)
		r = true;
	else if (!logical)
		r = dest == l->id;
	else if (emu_lapic_x2apic(l))
		r = (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
	else if ((l->dfr >> 28) == 0xf) /* flat model */
		r = (dest & (l->ldr >> 24)) != 0;
	else /* cluster model */
		r = (dest >> 4) == (l->ldr >> 28) && (dest & (l->ldr >> 24) & 0xf);
	pthread_mutex_unlock(&l->lock);
	return r;
}

static struct emu_lapic *cpu_lapic(struct emu_vm *vm, unsigned i)
{
	return __atomic_load_n(&vm->cpus[i].lapic, __ATOMIC_ACQUIRE);
}

static void deliver(struct emu_vm *vm, uint32_t dest, bool logical, bool narrow, unsigned mode,
		    uint8_t vector, bool level)
{
	struct emu_lapic *lowest = NULL;

	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct emu_lapic *t = cpu_lapic(vm, i);

		if (!t || !lapic_match(t, dest, logical, narrow))
			continue;
		if (mode != EMU_DM_LOWEST) {
			emu_lapic_accept(t, mode, vector, level);
			continue;
		}
		/* Lowest priority: the matching LAPIC with the lowest TPR. */
		if (!lowest || emu_lapic_get_tpr(t) < emu_lapic_get_tpr(lowest))
			lowest = t;
	}
	if (lowest)
		emu_lapic_accept(lowest, mode, vector, level);
}

void emu_irq_deliver(struct emu_vm *vm, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
		     bool level, unsigned from_cpu)
{
	(void)from_cpu;
	deliver(vm, dest, logical, true, mode, vector, level);
}

static void send_icr(struct emu_lapic *l, uint32_t lo, uint32_t hi)
{
	struct emu_vm *vm = l->cpu->vm;
	unsigned mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3;
	uint8_t vector = lo & 0xff;
	bool level = lo & ICR_LEVEL;
	bool x2 = emu_lapic_x2apic(l);

	if (mode == EMU_DM_INIT && level && !(lo & ICR_ASSERT))
		return; /* INIT level de-assert: only synchronizes arbitration IDs */
	if ((mode == EMU_DM_FIXED || mode == EMU_DM_LOWEST) && vector < 16) {
		pthread_mutex_lock(&l->lock);
		l->esr_pending |= ESR_SEND_ILLEGAL;
		pthread_mutex_unlock(&l->lock);
		return;
	}
	if (shorthand == 0) {
		deliver(vm, x2 ? hi : hi >> 24, lo & ICR_LOGICAL, !x2, mode, vector, level);
		return;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct emu_lapic *t = cpu_lapic(vm, i);

		if (!t || (shorthand == 1 && t != l) || (shorthand == 3 && t == l))
			continue;
		emu_lapic_accept(t, mode, vector, level);
	}
}

static void finish(struct emu_lapic *l, const struct after *a)
{
	if (a->send_icr)
		send_icr(l, l->icr_lo, l->icr_hi); /* only this vCPU writes its ICR */
	if (a->eoi_level >= 0)
		emu_ioapic_eoi(l->cpu->vm, (uint8_t)a->eoi_level);
	if (a->notify)
		emu_cpu_notify(l->cpu, a->notify);
}

/* ---- MMIO and MSRs ------------------------------------------------------------ */

uint32_t emu_lapic_mmio_read(struct emu_lapic *l, uint32_t off)
{
	uint32_t v;

	/* Registers sit in the first 4 bytes of each 16-byte slot. In x2APIC
	 * mode (or disabled) the page reads as nothing. */
	if ((off & 0xf) >= 4 || off >= 0x400)
		return 0;
	pthread_mutex_lock(&l->lock);
	v = emu_lapic_hw_enabled(l) && !emu_lapic_x2apic(l) ? reg_read(l, off & 0x3f0) : 0;
	pthread_mutex_unlock(&l->lock);
	return v >> ((off & 3) * 8);
}

void emu_lapic_mmio_write(struct emu_lapic *l, uint32_t off, uint32_t val)
{
	struct after a = { .eoi_level = -1 };

	if ((off & 0xf) != 0 || off >= 0x400)
		return; /* only aligned 32-bit writes reach a register */
	pthread_mutex_lock(&l->lock);
	if (emu_lapic_hw_enabled(l) && !emu_lapic_x2apic(l))
		reg_write(l, off, val, &a);
	pthread_mutex_unlock(&l->lock);
	finish(l, &a);
}

#define MSR_TSC_DEADLINE 0x6e0

static bool x2_readable(uint32_t off)
{
	return off == 0x20 || off == 0x30 || off == 0x80 || off == 0xa0 || off == 0xd0 ||
	       off == 0xf0 || (off >= 0x100 && off <= 0x280) || off == 0x300 ||
	       (off >= 0x320 && off <= 0x390) || off == 0x3e0;
}

bool emu_lapic_msr_read(struct emu_lapic *l, uint32_t index, uint64_t *val)
{
	uint32_t off = (index - 0x800) << 4;

	pthread_mutex_lock(&l->lock);
	if (index == MSR_TSC_DEADLINE) {
		*val = emu_lapic_timer_read_tscdl(l);
		pthread_mutex_unlock(&l->lock);
		return true;
	}
	if (!emu_lapic_x2apic(l) || index < 0x800 || index > 0x8ff || !x2_readable(off)) {
		pthread_mutex_unlock(&l->lock);
		return false;
	}
	*val = reg_read(l, off);
	if (off == 0x300)
		*val |= (uint64_t)l->icr_hi << 32;
	pthread_mutex_unlock(&l->lock);
	return true;
}

/* x2APIC write rules (SDM 11.12.1.2): read-only and non-existent registers,
 * and reserved bits set, #GP. */
static bool x2_write_ok(uint32_t off, uint64_t val)
{
	if (off != 0x300 && (val >> 32))
		return false;
	switch (off) {
	case 0x80:
		return val <= 0xff;
	case 0xb0:
	case 0x280:
		return val == 0;
	case 0xf0:
		return (val & ~0x3ffULL) == 0;
	case 0x3f0:
		return val <= 0xff;
	case 0x300:
	case 0x380:
	case 0x3e0:
		return true;
	default:
		return off >= 0x320 && off <= 0x370;
	}
}

static bool x2_write(struct emu_lapic *l, uint32_t off, uint64_t val, struct after *a)
{
	if (!x2_write_ok(off, val))
		return false;
	if (off == 0x300) {
		l->icr_lo = (uint32_t)val & ~ICR_DELIVERY_BUSY;
		l->icr_hi = (uint32_t)(val >> 32);
		a->send_icr = true;
	} else if (off == 0x3f0) {
		/* SELF IPI: a fixed, edge-triggered interrupt to this LAPIC. */
		if (emu_lapic_set_irr_locked(l, (uint8_t)val, false))
			a->notify |= EMU_EV_IRQ;
	} else {
		reg_write(l, off, (uint32_t)val, a);
	}
	return true;
}

bool emu_lapic_msr_write(struct emu_lapic *l, uint32_t index, uint64_t val)
{
	struct after a = { .eoi_level = -1 };
	bool ok;

	pthread_mutex_lock(&l->lock);
	if (index == MSR_TSC_DEADLINE) {
		emu_lapic_timer_write_tscdl(l, val);
		ok = true;
	} else if (!emu_lapic_x2apic(l) || index < 0x800 || index > 0x8ff) {
		ok = false;
	} else {
		ok = x2_write(l, (index - 0x800) << 4, val, &a);
	}
	pthread_mutex_unlock(&l->lock);
	if (ok)
		finish(l, &a);
	return ok;
}

/* ---- the APIC base MSR ---------------------------------------------------------- */

static void reset_regs_locked(struct emu_lapic *l);

uint64_t emu_lapic_get_base(struct emu_lapic *l)
{
	uint64_t v;

	pthread_mutex_lock(&l->lock);
	v = l->base;
	pthread_mutex_unlock(&l->lock);
	return v;
}

static uint32_t x2_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

bool emu_lapic_set_base(struct emu_lapic *l, uint64_t val)
{
	/* bits 0-7 and 9 reserved; physical address width 52 at most */
	const uint64_t reserved = 0x2ffULL | (~0ULL << 52);
	bool en = val & EMU_APIC_BASE_EN, extd = val & EMU_APIC_BASE_EXTD;
	bool was_en, was_x2;

	if ((val & reserved) || (extd && !en))
		return false;
	pthread_mutex_lock(&l->lock);
	was_en = emu_lapic_hw_enabled(l);
	was_x2 = emu_lapic_x2apic(l);
	/* SDM 11.12.5: x2APIC -> xAPIC and disabled -> x2APIC are invalid. */
	if ((was_x2 && en && !extd) || (!was_en && extd)) {
		pthread_mutex_unlock(&l->lock);
		return false;
	}
	l->base = (val & ~EMU_APIC_BASE_BSP) | (l->base & EMU_APIC_BASE_BSP);
	if (!en && was_en)
		reset_regs_locked(l); /* disabling returns the APIC to its power-up state */
	if (extd && !was_x2)
		l->ldr = x2_ldr(l->id);
	pthread_mutex_unlock(&l->lock);
	return true;
}

void emu_lapic_set_tpr(struct emu_lapic *l, uint8_t cr8)
{
	pthread_mutex_lock(&l->lock);
	l->tpr = (uint32_t)(cr8 & 0xf) << 4;
	pthread_mutex_unlock(&l->lock);
}

uint8_t emu_lapic_get_tpr(struct emu_lapic *l)
{
	uint8_t v;

	pthread_mutex_lock(&l->lock);
	v = (uint8_t)((l->tpr >> 4) & 0xf);
	pthread_mutex_unlock(&l->lock);
	return v;
}

/* ---- interrupt acceptance (the vCPU's own thread) ---------------------------------- */

/* The PIC's INT reaches this LAPIC's LINT0 as ExtINT: on the BSP, when the
 * APIC is hardware-disabled (virtual wire through the APIC's bypass) or
 * LINT0 is unmasked ExtINT, as KVM's kvm_apic_accept_pic_intr. */
static bool accepts_pic(struct emu_lapic *l)
{
	uint32_t lint0;
	bool hw_en;

	if (!l->cpu->vm->pic)
		return false;
	pthread_mutex_lock(&l->lock);
	lint0 = l->lvt[EMU_LVT_LINT0];
	hw_en = emu_lapic_hw_enabled(l);
	pthread_mutex_unlock(&l->lock);
	if (!hw_en)
		return l->cpu->index == 0;
	return !(lint0 & EMU_LVT_MASKED) && EMU_LVT_DM(lint0) == EMU_DM_EXTINT;
}

int emu_lapic_pending(struct emu_lapic *l)
{
	int v;

	l->extint_vector = -1;
	if (accepts_pic(l)) {
		v = emu_pic_intack(l->cpu->vm, true);
		if (v >= 0) {
			l->extint_vector = v;
			return v;
		}
	}
	pthread_mutex_lock(&l->lock);
	v = emu_lapic_hw_enabled(l) ? highest(l->irr) : -1;
	if (v >= 0 && ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		v = -1;
	pthread_mutex_unlock(&l->lock);
	return v;
}

void emu_lapic_ack(struct emu_lapic *l, int vector)
{
	if (vector < 0 || vector > 255)
		return;
	if (vector == l->extint_vector) {
		l->extint_vector = -1;
		emu_pic_intack(l->cpu->vm, false);
		return;
	}
	pthread_mutex_lock(&l->lock);
	set_bit(l->irr, (unsigned)vector, false);
	set_bit(l->isr, (unsigned)vector, true);
	pthread_mutex_unlock(&l->lock);
}

bool emu_lapic_nmi_pending(struct emu_lapic *l)
{
	return atomic_exchange(&l->nmi, false);
}

/* ---- life cycle and KVM state --------------------------------------------------------- */

/* Power-up/INIT register state (SDM 11.4.7.1); keeps base and ID. */
static void reset_regs_locked(struct emu_lapic *l)
{
	l->tpr = l->esr = l->esr_pending = l->icr_lo = l->icr_hi = 0;
	l->ldr = emu_lapic_x2apic(l) ? x2_ldr(l->id) : 0;
	l->dfr = 0xffffffff;
	l->svr = 0xff;
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	memset(l->irr, 0, sizeof(l->irr));
	for (int i = 0; i < EMU_LVT_N; i++)
		l->lvt[i] = EMU_LVT_MASKED;
	/* As KVM (and firmware) leave it: the BSP's LINT0 is the PIC's virtual wire. */
	if (l->cpu->index == 0)
		l->lvt[EMU_LVT_LINT0] = EMU_DM_EXTINT << 8;
	emu_lapic_timer_reset(l);
	atomic_store(&l->nmi, false);
}

void emu_lapic_reset(struct emu_lapic *l)
{
	pthread_mutex_lock(&l->lock);
	reset_regs_locked(l);
	pthread_mutex_unlock(&l->lock);
}

int emu_lapic_new(struct emu_cpu *cpu)
{
	struct emu_lapic *l = xzalloc(sizeof(*l));

	pthread_mutex_init(&l->lock, NULL);
	l->cpu = cpu;
	l->id = cpu->index;
	l->base = EMU_LAPIC_BASE | EMU_APIC_BASE_EN | (cpu->index == 0 ? EMU_APIC_BASE_BSP : 0);
	l->extint_vector = -1;
	reset_regs_locked(l);
	__atomic_store_n(&cpu->lapic, l, __ATOMIC_RELEASE);
	return 0;
}

void emu_lapic_free(struct emu_lapic *l)
{
	if (!l)
		return;
	/* The timer thread walks every LAPIC: stop it before the first goes. */
	emu_timer_stop(l->cpu->vm);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void put32(struct kvm_lapic_state *s, uint32_t off, uint32_t v)
{
	memcpy(&s->regs[off], &v, 4);
}

static uint32_t get32(const struct kvm_lapic_state *s, uint32_t off)
{
	uint32_t v;

	memcpy(&v, &s->regs[off], 4);
	return v;
}

void emu_cpu_get_lapic(struct emu_cpu *cpu, struct kvm_lapic_state *s)
{
	struct emu_lapic *l = cpu->lapic;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&l->lock);
	for (uint32_t off = 0; off < 0x400; off += 0x10)
		put32(s, off, reg_read(l, off));
	pthread_mutex_unlock(&l->lock);
}

/* Loads registers the way a guest write would (masks, side effects) plus
 * the state a guest cannot write (ID in xAPIC mode, ISR, TMR, IRR, ESR). */
void emu_cpu_set_lapic(struct emu_cpu *cpu, const struct kvm_lapic_state *s)
{
	struct emu_lapic *l = cpu->lapic;
	struct after a = { .eoi_level = -1 };

	pthread_mutex_lock(&l->lock);
	l->id = emu_lapic_x2apic(l) ? l->id : get32(s, 0x20) >> 24;
	l->tpr = get32(s, 0x80) & 0xff;
	l->ldr = emu_lapic_x2apic(l) ? x2_ldr(l->id) : get32(s, 0xd0) & 0xff000000;
	l->dfr = get32(s, 0xe0) | 0x0fffffff;
	l->svr = get32(s, 0xf0) & 0x3ff;
	for (unsigned i = 0; i < 8; i++) {
		l->isr[i] = get32(s, 0x100 + i * 16);
		l->tmr[i] = get32(s, 0x180 + i * 16);
		l->irr[i] = get32(s, 0x200 + i * 16);
	}
	l->esr = get32(s, 0x280);
	l->icr_lo = get32(s, 0x300) & ~ICR_DELIVERY_BUSY;
	l->icr_hi = get32(s, 0x310);
	for (unsigned i = 0; i < EMU_LVT_N; i++)
		write_lvt(l, i, get32(s, 0x320 + i * 16));
	emu_lapic_timer_write_tdcr(l, get32(s, 0x3e0));
	emu_lapic_timer_write_tmict(l, get32(s, 0x380));
	pthread_mutex_unlock(&l->lock);
	a.notify = EMU_EV_IRQ;
	finish(l, &a);
}
