/* Timers: the LAPIC timer of each vCPU (one-shot, periodic, TSC-deadline;
 * SDM 11.5.4) and the VM's timer thread, which sleeps until the earliest
 * deadline (every LAPIC timer and PIT channel 0) and fires what is due.
 *
 * Every deadline is host CLOCK_MONOTONIC ns. A periodic timer's next
 * deadline is the previous one plus the period (no drift); after a host
 * stall, missed periods collapse into one interrupt (no storm). */
#include "emu/irq.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

/* ---- the LAPIC timer (all with l->lock held) ---------------------------------- */

static uint64_t divisor(const struct emu_lapic *l)
{
	unsigned v = (l->tdcr & 3) | ((l->tdcr >> 1) & 4);

	return 1ULL << ((v + 1) & 7); /* SDM Figure 11-10: 0b111 divides by 1 */
}

/* ns for n ticks of the bus clock through the divider */
static uint64_t counts_to_ns(const struct emu_lapic *l, uint64_t n)
{
	return (uint64_t)((unsigned __int128)n * divisor(l) * 1000000U / EMU_APIC_BUS_KHZ);
}

static uint64_t ns_to_counts(const struct emu_lapic *l, uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * EMU_APIC_BUS_KHZ / 1000000U / divisor(l));
}

static unsigned timer_mode(const struct emu_lapic *l)
{
	return EMU_LVT_TIMER_MODE(l->lvt[EMU_LVT_TIMER]);
}

static void set_deadline(struct emu_lapic *l, uint64_t ns)
{
	atomic_store(&l->deadline_ns, ns);
	if (ns != UINT64_MAX)
		emu_timer_rearm(l->cpu->vm, ns);
}

static void disarm(struct emu_lapic *l)
{
	l->tmict = 0;
	l->period_ns = 0;
	l->tsc_deadline = 0;
	atomic_store(&l->deadline_ns, UINT64_MAX);
}

void emu_lapic_timer_reset(struct emu_lapic *l)
{
	l->lvt[EMU_LVT_TIMER] = EMU_LVT_MASKED;
	l->tdcr = 0;
	l->start_ns = 0;
	disarm(l);
}

void emu_lapic_timer_write_lvt(struct emu_lapic *l, uint32_t val)
{
	unsigned old = timer_mode(l);

	l->lvt[EMU_LVT_TIMER] = val;
	/* SDM 11.5.4.1: switching to or from TSC-deadline mode disarms the timer.
	 * One-shot <-> periodic keeps counting: the new mode applies at expiry. */
	if (old != timer_mode(l) && (old == EMU_TIMER_TSCDL || timer_mode(l) == EMU_TIMER_TSCDL))
		disarm(l);
	else if (timer_mode(l) == EMU_TIMER_PERIODIC && l->tmict)
		l->period_ns = counts_to_ns(l, l->tmict);
	else
		l->period_ns = 0;
}

void emu_lapic_timer_write_tmict(struct emu_lapic *l, uint32_t val)
{
	uint64_t now = emu_host_ns(), len;

	if (timer_mode(l) == EMU_TIMER_TSCDL)
		return; /* TMICT is ignored in TSC-deadline mode */
	l->tmict = val;
	if (!val) {
		disarm(l);
		return;
	}
	len = counts_to_ns(l, val);
	l->start_ns = now;
	l->period_ns = timer_mode(l) == EMU_TIMER_PERIODIC ? len : 0;
	set_deadline(l, now + len);
}

void emu_lapic_timer_write_tdcr(struct emu_lapic *l, uint32_t val)
{
	/* The new divider applies to the next count; a running count keeps
	 * its deadline. */
	l->tdcr = val & 0xb;
}

uint32_t emu_lapic_timer_current(struct emu_lapic *l, uint64_t now)
{
	uint64_t elapsed, len;

	if (timer_mode(l) == EMU_TIMER_TSCDL || !l->tmict)
		return 0;
	if (now < l->start_ns)
		return l->tmict;
	elapsed = now - l->start_ns;
	if (l->period_ns) {
		elapsed %= l->period_ns;
	} else {
		len = counts_to_ns(l, l->tmict);
		if (elapsed >= len || atomic_load(&l->deadline_ns) == UINT64_MAX)
			return 0;
	}
	elapsed = ns_to_counts(l, elapsed);
	return elapsed >= l->tmict ? 0 : l->tmict - (uint32_t)elapsed;
}

void emu_lapic_timer_write_tscdl(struct emu_lapic *l, uint64_t tsc)
{
	if (timer_mode(l) != EMU_TIMER_TSCDL)
		return; /* SDM 11.5.4.1: writes are ignored in other modes */
	l->tsc_deadline = tsc;
	if (!tsc)
		atomic_store(&l->deadline_ns, UINT64_MAX);
	else
		set_deadline(l, emu_guest_tsc_to_host_ns(l->cpu, tsc));
}

uint64_t emu_lapic_timer_read_tscdl(struct emu_lapic *l)
{
	return timer_mode(l) == EMU_TIMER_TSCDL ? l->tsc_deadline : 0;
}

uint64_t emu_lapic_deadline(struct emu_lapic *l)
{
	return atomic_load(&l->deadline_ns);
}

/* The next periodic deadline after d that lies in the future. */
static uint64_t next_period(uint64_t d, uint64_t period, uint64_t now)
{
	d += period;
	if (d <= now)
		d += ((now - d) / period + 1) * period; /* coalesce missed ticks */
	return d;
}

void emu_lapic_timer_check(struct emu_lapic *l, uint64_t now)
{
	uint64_t d = atomic_load(&l->deadline_ns);
	uint32_t lvt;
	bool fire;

	if (d > now)
		return;
	pthread_mutex_lock(&l->lock);
	d = atomic_load(&l->deadline_ns);
	if (d > now) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	lvt = l->lvt[EMU_LVT_TIMER];
	fire = !(lvt & EMU_LVT_MASKED) && emu_lapic_set_irr_locked(l, lvt & 0xff, false);
	if (timer_mode(l) == EMU_TIMER_PERIODIC && l->period_ns) {
		atomic_store(&l->deadline_ns, next_period(d, l->period_ns, now));
	} else {
		atomic_store(&l->deadline_ns, UINT64_MAX);
		l->tsc_deadline = 0;
	}
	pthread_mutex_unlock(&l->lock);
	if (fire)
		emu_cpu_notify(l->cpu, EMU_EV_IRQ);
}

uint64_t emu_guest_tsc_to_host_ns(struct emu_cpu *cpu, uint64_t tsc)
{
	struct emu_vm *vm = cpu->vm;
	uint64_t host_tsc = tsc - cpu->msr.tsc_offset;
	unsigned __int128 ns;

	if ((int64_t)host_tsc < 0)
		return 0; /* before the TSC started: already due */
	/* The first host ns at which emu_tsc_at() reaches host_tsc (round up). */
	ns = ((unsigned __int128)host_tsc * 1000000U + vm->tsc_khz - 1) / vm->tsc_khz;
	ns += vm->tsc_epoch_ns;
	return ns >= UINT64_MAX ? UINT64_MAX - 1 : (uint64_t)ns;
}

/* ---- the timer thread ---------------------------------------------------------------- */

static struct emu_lapic *cpu_lapic(struct emu_vm *vm, unsigned i)
{
	return __atomic_load_n(&vm->cpus[i].lapic, __ATOMIC_ACQUIRE);
}

static uint64_t earliest(struct emu_vm *vm)
{
	uint64_t e = atomic_load(&vm->pit->deadline_ns);

	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct emu_lapic *l = cpu_lapic(vm, i);
		uint64_t d = l ? atomic_load(&l->deadline_ns) : UINT64_MAX;

		if (d < e)
			e = d;
	}
	return e;
}

static void fire_due(struct emu_vm *vm, uint64_t now)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct emu_lapic *l = cpu_lapic(vm, i);

		if (l)
			emu_lapic_timer_check(l, now);
	}
	if (atomic_load(&vm->pit->deadline_ns) <= now)
		emu_pit_timer_check(vm, now);
}

static void sleep_until(struct emu_timer *t, uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000U),
			       .tv_nsec = (long)(ns % 1000000000U) };

	if (ns == UINT64_MAX)
		pthread_cond_wait(&t->cond, &t->lock);
	else
		pthread_cond_timedwait(&t->cond, &t->lock, &ts);
}

static void *timer_main(void *arg)
{
	struct emu_vm *vm = arg;
	struct emu_timer *t = &emu_irqchip_of(vm)->timer;
	uint64_t next;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		/* While we compute, every rearm must signal (see emu_timer_rearm). */
		atomic_store(&t->sleep_until, UINT64_MAX);
		pthread_mutex_unlock(&t->lock);
		fire_due(vm, emu_host_ns());
		pthread_mutex_lock(&t->lock);
		next = earliest(vm);
		atomic_store(&t->sleep_until, next);
		if (t->kicked || t->stop) {
			t->kicked = false;
			continue;
		}
		if (next > emu_host_ns())
			sleep_until(t, next);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* Wakes the thread only when deadline_ns is earlier than what it sleeps
 * for. The deadline was stored before this call: if the thread computed
 * its sleep before that store, it published a later sleep_until and this
 * signals; if after, it saw the new deadline. */
void emu_timer_rearm(struct emu_vm *vm, uint64_t deadline_ns)
{
	struct emu_irqchip *chip = emu_irqchip_of(vm);
	struct emu_timer *t;

	if (!chip || !chip->timer.started)
		return;
	t = &chip->timer;
	if (deadline_ns >= atomic_load(&t->sleep_until))
		return;
	pthread_mutex_lock(&t->lock);
	t->kicked = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

int emu_timer_start(struct emu_vm *vm)
{
	struct emu_timer *t = &emu_irqchip_of(vm)->timer;
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_store(&t->sleep_until, UINT64_MAX);
	t->stop = t->kicked = false;
	/* The timer thread takes no signals: the embedding process decides
	 * which of its threads handle them (vessel's main thread, by signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t->thread, NULL, timer_main, vm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		return -r;
	}
	t->started = true;
	return 0;
}

void emu_timer_stop(struct emu_vm *vm)
{
	struct emu_irqchip *chip = emu_irqchip_of(vm);
	struct emu_timer *t;

	if (!chip || !chip->timer.started)
		return;
	t = &chip->timer;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->started = false;
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}
