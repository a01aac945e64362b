/* The emu VM and its run loop (emu.h): creation of RAM regions, code-page
 * bitmap, block cache, interrupt controllers and vCPUs; emu_cpu_run(),
 * which handles kicks, INIT/SIPI, NMIs and interrupts between blocks,
 * sleeps in HLT and wait-for-SIPI, and otherwise runs the core's
 * emu_exec().
 *
 * Map: events and sleeping; interrupt injection; the run loop; VM creation. */
#include "emu/simd.h"
#include "emu/system.h"
#include "emu/x87.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define MAX_RAM_TOP (1ULL << EMU_PHYS_BITS)
#define APIC_BASE_BSP (1ULL << 8)

/* ---- events and sleeping ---------------------------------------------------- */

void emu_cpu_notify(struct emu_cpu *cpu, uint32_t events)
{
	atomic_fetch_or(&cpu->events, events);
	pthread_mutex_lock(&cpu->lock);
	pthread_cond_broadcast(&cpu->wake);
	pthread_mutex_unlock(&cpu->lock);
}

void emu_cpu_kick(struct emu_cpu *cpu)
{
	emu_cpu_notify(cpu, EMU_EV_KICK);
}

/* Sleeps until an event arrives or the LAPIC timer is due. */
static void sleep_until_event(struct emu_cpu *cpu)
{
	uint64_t deadline = emu_lapic_deadline(cpu->lapic);

	pthread_mutex_lock(&cpu->lock);
	while (!atomic_load(&cpu->events)) {
		if (deadline == UINT64_MAX) {
			pthread_cond_wait(&cpu->wake, &cpu->lock);
			continue;
		}
		if (emu_host_ns() >= deadline)
			break;
		struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000ULL),
				       .tv_nsec = (long)(deadline % 1000000000ULL) };
		pthread_cond_timedwait(&cpu->wake, &cpu->lock, &ts);
	}
	pthread_mutex_unlock(&cpu->lock);
}

static void start_at_sipi(struct emu_cpu *cpu)
{
	struct emu_seg *cs = &cpu->seg[EMU_CS];

	cs->sel = (uint16_t)(cpu->sipi_vector << 8);
	cs->base = (uint64_t)cpu->sipi_vector << 12;
	cs->limit = 0xffff;
	cs->attr = EMU_SEG_P | EMU_SEG_S | 0xb;
	cpu->rip = 0;
	cpu->state = EMU_RUNNABLE;
	emu_update_mode(cpu);
}

static void handle_events(struct emu_cpu *cpu, uint32_t ev)
{
	if (ev & EMU_EV_INIT) {
		emu_cpu_reset(cpu);
		emu_lapic_reset(cpu->lapic);
		cpu->msr.apic_base = emu_lapic_get_base(cpu->lapic);
		cpu->state = cpu->index == 0 ? EMU_RUNNABLE : EMU_WAIT_SIPI;
	}
	if ((ev & EMU_EV_SIPI) && cpu->state == EMU_WAIT_SIPI)
		start_at_sipi(cpu);
	if (ev & EMU_EV_TLBFLUSH)
		emu_tlb_drop_code_writes(cpu);
}

/* ---- interrupt injection ------------------------------------------------------ */

/* Delivers an external event; a fault while doing so is delivered in turn
 * (or escalates), with this frame as the longjmp target. */
static void deliver_guarded(struct emu_cpu *cpu, int vector)
{
	cpu->cur = NULL;
	cpu->stats.irqs++;
	if (setjmp(cpu->jmp)) {
		emu_exception_deliver(cpu);
		return;
	}
	emu_deliver_event(cpu, vector, EMU_NO_ERRCODE, false, true, cpu->rip);
}

/* True when something was delivered or the vCPU may run. */
static void inject(struct emu_cpu *cpu)
{
	int v;

	if (!cpu->nmi_blocked && emu_lapic_nmi_pending(cpu->lapic)) {
		cpu->nmi_blocked = true;
		deliver_guarded(cpu, EMU_NMI);
		return;
	}
	if (!(cpu->rflags & EMU_FLAG_IF))
		return;
	if (cpu->irq_shadow) {
		/* one more instruction before interrupts: look again after it */
		cpu->irq_shadow = false;
		atomic_fetch_or(&cpu->events, EMU_EV_IRQ);
		return;
	}
	v = emu_lapic_pending(cpu->lapic);
	if (v < 0)
		return;
	emu_lapic_ack(cpu->lapic, v);
	deliver_guarded(cpu, v);
}

/* ---- the run loop ------------------------------------------------------------- */

static void check_timer(struct emu_cpu *cpu)
{
	uint64_t now = emu_host_ns();

	if (emu_lapic_deadline(cpu->lapic) <= now)
		emu_lapic_timer_check(cpu->lapic, now);
}

/* One iteration; returns false when emu_cpu_run() must return. */
static bool run_once(struct emu_cpu *cpu)
{
	uint32_t ev = atomic_exchange(&cpu->events, 0);

	if (ev & EMU_EV_KICK) {
		cpu->exit->reason = EMU_EXIT_KICK;
		return false;
	}
	handle_events(cpu, ev);
	if (cpu->state == EMU_WAIT_SIPI) {
		sleep_until_event(cpu);
		return true;
	}
	check_timer(cpu);
	inject(cpu);
	if (cpu->sys->exit_pending)
		return false;
	if (cpu->state == EMU_HALTED) {
		if (!atomic_load(&cpu->events)) {
			uint64_t t0 = emu_host_ns();

			sleep_until_event(cpu);
			cpu->stats.halt_ns += emu_host_ns() - t0;
		}
		return true;
	}
	cpu->stop = false;
	emu_exec(cpu);
	cpu->stop = false;
	return !cpu->sys->exit_pending;
}

int emu_cpu_run(struct emu_cpu *cpu, struct emu_exit *exit)
{
	uint32_t host_mxcsr = emu_host_mxcsr_save(); /* simd.h */

	memset(exit, 0, sizeof(*exit));
	cpu->exit = exit;
	cpu->sys->exit_pending = false;
	emu_this_cpu = cpu;
	while (run_once(cpu))
		;
	emu_this_cpu = NULL;
	cpu->exit = NULL;
	emu_host_mxcsr_restore(host_mxcsr);
	return 0;
}

void emu_cpu_get_stats(struct emu_cpu *cpu, struct emu_stats *stats)
{
	*stats = cpu->stats;
}

struct emu_cpu *emu_vm_cpu(struct emu_vm *vm, unsigned index)
{
	return index < vm->ncpus ? &vm->cpus[index] : NULL;
}

/* ---- VM creation ------------------------------------------------------------- */

static int check_config(const struct emu_vm_config *cfg, uint64_t *top)
{
	*top = 0;
	if (cfg->ncpus < 1 || cfg->ncpus > EMU_MAX_CPUS || cfg->nram < 1 || cfg->nram > 4 ||
	    !cfg->ram)
		return -EINVAL;
	for (unsigned i = 0; i < cfg->nram; i++) {
		const struct emu_ram_region *r = &cfg->ram[i];

		if ((r->gpa | r->size) & 0xfff || !r->size || !r->hva || r->gpa >= MAX_RAM_TOP ||
		    r->size > MAX_RAM_TOP - r->gpa)
			return -EINVAL;
		*top = VS_MAX(*top, r->gpa + r->size);
	}
	return 0;
}

static void cpu_init(struct emu_vm *vm, struct emu_cpu *cpu, unsigned index)
{
	pthread_condattr_t ca;

	cpu->vm = vm;
	cpu->index = index;
	cpu->sys = xzalloc(sizeof(*cpu->sys));
	pthread_mutex_init(&cpu->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cpu->wake, &ca);
	pthread_condattr_destroy(&ca);
	emu_cpu_reset(cpu);
	atomic_store(&cpu->events, 0);
	cpu->state = index == 0 ? EMU_RUNNABLE : EMU_WAIT_SIPI;
	cpu->msr.pat = 0x0007040600070406ULL;
	cpu->msr.misc_enable = 1; /* fast strings */
	emu_fpu_reset(cpu); /* FCW 0x037f, MXCSR 0x1f80 */
	emu_cpu_default_cpuid(cpu);
}

static void cpu_fini(struct emu_cpu *cpu)
{
	if (cpu->lapic)
		emu_lapic_free(cpu->lapic);
	free(cpu->cpuid);
	free(cpu->sys);
	free(cpu->prof); /* prof.c */
	pthread_cond_destroy(&cpu->wake);
	pthread_mutex_destroy(&cpu->lock);
}

static int vm_devices_new(struct emu_vm *vm)
{
	int r;

	if ((r = emu_blocks_new(vm)) < 0)
		return r;
	if ((r = emu_irqchip_new(vm)) < 0)
		return r;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct emu_cpu *cpu = &vm->cpus[i];

		if ((r = emu_lapic_new(cpu)) < 0)
			return r;
		cpu->msr.apic_base = emu_lapic_get_base(cpu->lapic);
	}
	return 0;
}

int emu_vm_new(const struct emu_vm_config *cfg, struct emu_vm **out)
{
	struct emu_vm *vm;
	uint64_t top;
	int r;

	if ((r = check_config(cfg, &top)) < 0)
		return r;
	vm = xzalloc(sizeof(*vm));
	vm->cfg = *cfg;
	memcpy(vm->ram, cfg->ram, cfg->nram * sizeof(*cfg->ram));
	vm->nram = cfg->nram;
	vm->cfg.ram = vm->ram;
	vm->ram_top = top;
	vm->code_pages = xzalloc((size_t)(top >> 15) + 1);
	vm->tsc_khz = cfg->tsc_khz ? cfg->tsc_khz : EMU_TSC_KHZ_DEFAULT;
	vm->tsc_epoch_ns = emu_host_ns();
	pthread_mutex_init(&vm->irq_lock, NULL);
	vm->ncpus = cfg->ncpus;
	vm->cpus = xzalloc(cfg->ncpus * sizeof(*vm->cpus));
	for (unsigned i = 0; i < vm->ncpus; i++)
		cpu_init(vm, &vm->cpus[i], i);
	if ((r = vm_devices_new(vm)) < 0) {
		emu_vm_free(vm);
		return r;
	}
	*out = vm;
	return 0;
}

void emu_vm_free(struct emu_vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; i < vm->ncpus; i++)
		cpu_fini(&vm->cpus[i]);
	emu_irqchip_free(vm);
	emu_blocks_free(vm);
	pthread_mutex_destroy(&vm->irq_lock);
	free(vm->cpus);
	free((void *)vm->code_pages);
	free(vm);
}
