/* Private to the irq layer (lapic.c, ioapic.c, pic.c, pit.c, timer.c,
 * kvmclock.c): the device state and the calls between the devices.
 *
 * Locks, in the order they may nest:
 *   vm->irq_lock     PIC, IOAPIC and PIT state (emu_set_irq, port I/O,
 *                    IOAPIC MMIO, the PIT timer)
 *   lapic->lock      one LAPIC's registers (its vCPU, IPIs and device
 *                    interrupts from other threads, the timer thread)
 *   cpu->lock        taken inside emu_cpu_notify()
 *   timer->lock      the timer thread's sleep
 * A LAPIC never calls out (EOI broadcast, IPIs, notify) with its lock held. */
#ifndef VS_EMU_IRQ_H
#define VS_EMU_IRQ_H

#include "emu/internal.h"

#include <stddef.h>

/* ---- local APIC ------------------------------------------------------- */

enum emu_lvt {
	EMU_LVT_TIMER,
	EMU_LVT_THERMAL,
	EMU_LVT_PERF,
	EMU_LVT_LINT0,
	EMU_LVT_LINT1,
	EMU_LVT_ERROR,
	EMU_LVT_N
};

#define EMU_LVT_MASKED (1u << 16)
#define EMU_LVT_LEVEL (1u << 15)
#define EMU_LVT_DM(v) (((v) >> 8) & 7)
#define EMU_LVT_TIMER_MODE(v) (((v) >> 17) & 3)
enum { EMU_TIMER_ONESHOT = 0, EMU_TIMER_PERIODIC = 1, EMU_TIMER_TSCDL = 2 };

/* Delivery modes (ICR, LVT, IOAPIC, MSI). */
enum {
	EMU_DM_FIXED = 0,
	EMU_DM_LOWEST = 1,
	EMU_DM_SMI = 2,
	EMU_DM_NMI = 4,
	EMU_DM_INIT = 5,
	EMU_DM_SIPI = 6,
	EMU_DM_EXTINT = 7
};

#define EMU_APIC_BASE_BSP (1ULL << 8)
#define EMU_APIC_BASE_EXTD (1ULL << 10)
#define EMU_APIC_BASE_EN (1ULL << 11)
#define EMU_APIC_SVR_ENABLE (1u << 8)

struct emu_lapic {
	pthread_mutex_t lock; /* everything below unless a field says otherwise */
	struct emu_cpu *cpu;
	uint64_t base; /* IA32_APIC_BASE */
	uint32_t id; /* = vCPU index; xAPIC shows it in bits 24-31 */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending; /* ESR reads esr; a write latches esr_pending */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[EMU_LVT_N];
	uint32_t isr[8], tmr[8], irr[8];
	/* timer: count = tmict at start_ns, one count per divisor ns (1 GHz bus) */
	uint32_t tmict, tdcr;
	uint64_t start_ns;
	uint64_t period_ns; /* periodic mode; 0 otherwise */
	uint64_t tsc_deadline; /* IA32_TSC_DEADLINE as the guest wrote it (0: disarmed) */
	_Atomic uint64_t deadline_ns; /* host ns of next expiry or UINT64_MAX; read lock-free */
	_Atomic bool nmi; /* NMI pending */
	int extint_vector; /* vCPU thread only: the PIC vector emu_lapic_pending() returned */
};

static inline bool emu_lapic_x2apic(const struct emu_lapic *l)
{
	return (l->base & EMU_APIC_BASE_EXTD) != 0;
}

static inline bool emu_lapic_hw_enabled(const struct emu_lapic *l)
{
	return (l->base & EMU_APIC_BASE_EN) != 0;
}

/* Accept an interrupt message (lapic.c). Takes the LAPIC lock; notifies. */
void emu_lapic_accept(struct emu_lapic *l, unsigned mode, uint8_t vector, bool level);
/* With the lock held: sets IRR (and TMR for level); false when the vector
 * is illegal (ESR records it). */
bool emu_lapic_set_irr_locked(struct emu_lapic *l, uint8_t vector, bool level);

/* LAPIC timer (timer.c); all with l->lock held. The write functions arm or
 * disarm and wake the timer thread when the deadline moves earlier. */
void emu_lapic_timer_reset(struct emu_lapic *l);
void emu_lapic_timer_write_lvt(struct emu_lapic *l, uint32_t val);
void emu_lapic_timer_write_tmict(struct emu_lapic *l, uint32_t val);
void emu_lapic_timer_write_tdcr(struct emu_lapic *l, uint32_t val);
uint32_t emu_lapic_timer_current(struct emu_lapic *l, uint64_t now_ns);
void emu_lapic_timer_write_tscdl(struct emu_lapic *l, uint64_t tsc);
uint64_t emu_lapic_timer_read_tscdl(struct emu_lapic *l);

/* ---- IOAPIC, PIC, PIT -------------------------------------------------- */

#define EMU_IOAPIC_PINS 24

struct emu_ioapic {
	uint32_t id;
	uint32_t regsel;
	uint32_t lines; /* bit per pin: the input level */
	uint32_t latched; /* edge seen while masked: delivered on unmask */
	uint64_t redir[EMU_IOAPIC_PINS];
};

struct emu_pic_chip {
	uint8_t irr, isr, imr, last; /* last: input levels, for edge detection */
	uint8_t base; /* ICW2 vector base */
	uint8_t prio; /* lowest-priority IRQ + 1 (rotation) */
	uint8_t init; /* next ICW expected: 0 none, 2, 3, 4 */
	uint8_t elcr, elcr_mask;
	bool icw4, single, aeoi, rotate_aeoi, sfnm, read_isr, poll, smm;
};

struct emu_pic {
	struct emu_pic_chip c[2]; /* master, slave (on master IRQ 2) */
	bool output; /* master INT: LINT0 of every LAPIC */
};

struct emu_pit_channel {
	uint32_t count; /* initial count; 65536 for 0 */
	uint64_t load_ns; /* host ns the count started (or 0: not counting) */
	uint64_t fired; /* periods fired since load_ns (channel 0 timer) */
	uint16_t latch;
	uint8_t latched; /* bytes of latch still to read (0, 1, 2) */
	uint8_t status;
	bool status_latched;
	uint8_t mode, rw, bcd; /* rw: 1 lobyte, 2 hibyte, 3 lo then hi */
	bool wflip, rflip; /* next byte is the high byte */
	uint8_t wlow;
	bool gate;
	bool null_count;
	uint16_t frozen; /* the count while the gate is low */
};

struct emu_pit {
	struct emu_pit_channel ch[3];
	bool speaker; /* port 0x61 bit 1 */
	_Atomic uint64_t deadline_ns; /* channel 0's next edge, UINT64_MAX: none */
};

struct emu_timer {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool stop, kicked;
	_Atomic uint64_t sleep_until; /* what the thread waits for; UINT64_MAX while computing */
};

/* One allocation per VM; vm->pic, ->ioapic and ->pit point into it. */
struct emu_irqchip {
	struct emu_pic pic;
	struct emu_ioapic ioapic;
	struct emu_pit pit;
	struct emu_timer timer;
};

static inline struct emu_irqchip *emu_irqchip_of(struct emu_vm *vm)
{
	if (!vm->pic)
		return NULL;
	return (struct emu_irqchip *)((char *)vm->pic - offsetof(struct emu_irqchip, pic));
}

/* With vm->irq_lock held: */
void emu_pic_set_irq(struct emu_vm *vm, unsigned irq, int level);
void emu_ioapic_set_irq(struct emu_vm *vm, unsigned pin, int level);
void emu_pic_reset(struct emu_pic *pic);
void emu_ioapic_reset(struct emu_ioapic *io);
void emu_pit_reset(struct emu_pit *pit);
bool emu_pic_pio(struct emu_vm *vm, uint16_t port, bool write, uint8_t *data);
bool emu_pit_pio(struct emu_vm *vm, uint16_t port, bool write, uint8_t *data);

/* Takes vm->irq_lock: a LAPIC EOI of a level-triggered vector. */
void emu_ioapic_eoi(struct emu_vm *vm, uint8_t vector);
/* Takes vm->irq_lock: fires channel 0 when due. */
void emu_pit_timer_check(struct emu_vm *vm, uint64_t now_ns);

/* Timer thread (timer.c): a deadline somewhere moved to deadline_ns. */
void emu_timer_rearm(struct emu_vm *vm, uint64_t deadline_ns);
int emu_timer_start(struct emu_vm *vm);
void emu_timer_stop(struct emu_vm *vm);

/* kvm-clock's pvclock scale for a TSC of khz (kvmclock.c). */
void emu_kvmclock_scale(uint32_t khz, uint32_t *mul, int8_t *shift);

/* Host ns at which the guest TSC of cpu reads tsc (saturating). */
uint64_t emu_guest_tsc_to_host_ns(struct emu_cpu *cpu, uint64_t tsc);

#endif
