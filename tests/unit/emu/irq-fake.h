/* Test-local stand-ins for the system layer, for the irq layer's unit
 * tests (which compile src/emu's irq files directly): a VM of a few vCPUs
 * with 1 MiB of RAM, emu_cpu_notify() that records events, emu_phys_ptr(). */
#ifndef VS_TESTS_EMU_IRQ_FAKE_H
#define VS_TESTS_EMU_IRQ_FAKE_H

#include "emu/irq.h"

#include <stdlib.h>
#include <time.h>

#define FAKE_RAM (1u << 20)

struct fake {
	struct emu_vm vm;
	uint8_t *ram;
	_Atomic unsigned irq_notes[8]; /* EMU_EV_IRQ notifications per vCPU */
};

static struct fake *fake_cur;

void emu_cpu_notify(struct emu_cpu *cpu, uint32_t events)
{
	atomic_fetch_or(&cpu->events, events);
	if ((events & EMU_EV_IRQ) && fake_cur && cpu->index < 8)
		atomic_fetch_add(&fake_cur->irq_notes[cpu->index], 1);
}

void *emu_phys_ptr(struct emu_vm *vm, uint64_t gpa, uint64_t len)
{
	(void)vm;
	if (!fake_cur || gpa >= FAKE_RAM || len > FAKE_RAM - gpa)
		return NULL;
	return fake_cur->ram + gpa;
}

static inline struct fake *fake_new(unsigned ncpus)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->ram = calloc(1, FAKE_RAM);
	f->vm.ncpus = ncpus;
	f->vm.cpus = calloc(ncpus, sizeof(struct emu_cpu));
	f->vm.tsc_khz = EMU_TSC_KHZ_DEFAULT;
	f->vm.tsc_epoch_ns = emu_host_ns();
	pthread_mutex_init(&f->vm.irq_lock, NULL);
	for (unsigned i = 0; i < ncpus; i++) {
		f->vm.cpus[i].vm = &f->vm;
		f->vm.cpus[i].index = i;
		emu_lapic_new(&f->vm.cpus[i]);
	}
	fake_cur = f;
	if (emu_irqchip_new(&f->vm) < 0)
		abort();
	return f;
}

static inline void fake_free(struct fake *f)
{
	emu_irqchip_free(&f->vm);
	for (unsigned i = 0; i < f->vm.ncpus; i++)
		emu_lapic_free(f->vm.cpus[i].lapic);
	free(f->vm.cpus);
	pthread_mutex_destroy(&f->vm.irq_lock);
	free(f->ram);
	free(f);
	fake_cur = NULL;
}

static inline struct emu_lapic *fake_lapic(struct fake *f, unsigned i)
{
	return f->vm.cpus[i].lapic;
}

static inline uint32_t fake_events(struct fake *f, unsigned i)
{
	return atomic_exchange(&f->vm.cpus[i].events, 0);
}

/* Software-enables the LAPIC (SVR bit 8, spurious vector 0xff). */
static inline void fake_apic_on(struct fake *f, unsigned i)
{
	emu_lapic_mmio_write(fake_lapic(f, i), 0xf0, 0x1ff);
}

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* IRR bit of vector v, read through the register page. */
static inline bool fake_irr(struct fake *f, unsigned i, unsigned v)
{
	return (emu_lapic_mmio_read(fake_lapic(f, i), 0x200 + (v / 32) * 16) >> (v % 32)) & 1;
}

static inline bool fake_isr(struct fake *f, unsigned i, unsigned v)
{
	return (emu_lapic_mmio_read(fake_lapic(f, i), 0x100 + (v / 32) * 16) >> (v % 32)) & 1;
}

#endif
