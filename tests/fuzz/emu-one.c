/* Fuzz entry for the software CPU: the input is a hostile guest. Its bytes
 * become the code at 0x100000 of a small VM (long mode at CPL0 with an
 * identity map, or real mode as an AP starts), plus the start registers;
 * the guest runs until it stops, faults, or a watchdog kicks it. Whatever
 * the bytes do (page tables, descriptor tables, MSRs, I/O, self-modifying
 * code, REP over MMIO), emu must end with an exit and never crash, hang or
 * read outside guest RAM (ASan/UBSan watch the last part).
 *
 * Input layout: byte 0 = flags (bit 0 real mode, bit 1 deliver exceptions
 * through the guest's IDT instead of exiting on them, bit 2 two vCPUs,
 * bit 3 SSE enabled: CR4.OSFXSR and OSXMMEXCPT),
 * bytes 1..64 = start GPRs (8 x 8 bytes; short inputs leave zeros), the
 * rest = code. */
#include "fuzz.h"
#include "emu/emu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RAM_SIZE (4u << 20)
#define CODE_GPA 0x100000u
#define CODE_MAX (64u << 10)
#define GDT_GPA 0x500u
#define PML4_GPA 0x1000u
#define WATCHDOG_MS 20

static void io_pio(void *ctx, unsigned cpu, uint16_t port, bool write, void *data, unsigned size)
{
	(void)ctx, (void)cpu, (void)port;
	if (!write)
		memset(data, 0xff, size);
}

static void io_mmio(void *ctx, unsigned cpu, uint64_t gpa, bool write, void *data, unsigned size)
{
	(void)ctx, (void)cpu, (void)gpa;
	if (!write)
		memset(data, 0xff, size);
}

static const struct emu_io_ops io = { .pio = io_pio, .mmio = io_mmio };

/* GDT (null, 64-bit code 0x8, data 0x10) and an identity map of 1 GiB in
 * 2 MiB pages; RAM ends at 4 MiB, the rest is MMIO to the guest. */
static void write_tables(uint8_t *ram)
{
	static const uint64_t gdt[] = { 0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL };
	uint64_t *pml4 = (uint64_t *)(ram + PML4_GPA), *pdpt = pml4 + 512, *pd = pml4 + 1024;

	memcpy(ram + GDT_GPA, gdt, sizeof(gdt));
	pml4[0] = (PML4_GPA + 0x1000) | 3;
	pdpt[0] = (PML4_GPA + 0x2000) | 3;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code, bool real)
{
	*s = (struct kvm_segment){ .selector = sel,
				   .type = type,
				   .present = 1,
				   .s = 1,
				   .limit = real ? 0xffff : 0xffffffff,
				   .g = !real,
				   .l = code && !real,
				   .db = !code && !real };
	if (real)
		s->base = (uint64_t)sel << 4;
}

static void set_state(struct emu_cpu *cpu, const uint8_t *data, size_t size, bool real, bool sse)
{
	struct kvm_regs regs = { .rflags = 2 };
	struct kvm_sregs sregs;
	uint64_t gpr[8] = { 0 };

	memcpy(gpr, data + 1, size > 1 ? (size - 1 < 64 ? size - 1 : 64) : 0);
	regs.rax = gpr[0], regs.rbx = gpr[1], regs.rcx = gpr[2], regs.rdx = gpr[3];
	regs.rsi = gpr[4], regs.rdi = gpr[5], regs.rbp = gpr[6], regs.r8 = gpr[7];
	regs.rsp = 0x80000;
	emu_cpu_get_sregs(cpu, &sregs);
	if (real) {
		/* 0xffff:0x10 is 0x100000, the highest code real mode reaches */
		seg(&sregs.cs, 0xffff, 0xb, true, true);
		seg(&sregs.ds, 0, 0x3, false, true);
		sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
		sregs.cr0 = 0x10;
		sregs.cr4 = sregs.efer = 0;
		regs.rip = CODE_GPA - 0xffff0;
	} else {
		seg(&sregs.cs, 0x8, 0xb, true, false);
		seg(&sregs.ds, 0x10, 0x3, false, false);
		sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
		sregs.gdt.base = GDT_GPA;
		sregs.gdt.limit = 3 * 8 - 1;
		sregs.cr0 = 0x80000011;
		sregs.cr3 = PML4_GPA;
		sregs.cr4 = 0x20;
		sregs.efer = 0x500;
		regs.rip = CODE_GPA;
	}
	if (sse)
		sregs.cr4 |= 0x600;
	emu_cpu_set_sregs(cpu, &sregs);
	emu_cpu_set_regs(cpu, &regs);
}

struct watchdog {
	struct emu_vm *vm;
	unsigned ncpus;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += WATCHDOG_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&w->lock);
	while (!w->done && pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
		;
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->ncpus; i++)
		emu_cpu_kick(emu_vm_cpu(w->vm, i));
	return NULL;
}

/* Runs vCPU 0 until any exit; vCPU 1 (if any) waits for a SIPI the guest
 * may send, on its own thread. */
static void *run_cpu(void *arg)
{
	struct emu_exit ex;

	emu_cpu_run(arg, &ex);
	return NULL;
}

int fuzz_emu_one(const uint8_t *data, size_t size)
{
	uint8_t flags = size ? data[0] : 0;
	size_t code = size > 65 ? size - 65 : 0;
	struct emu_ram_region ram = { .gpa = 0, .size = RAM_SIZE };
	struct emu_vm_config cfg = { .ncpus = flags & 4 ? 2 : 1,
				     .ram = &ram,
				     .nram = 1,
				     .io = &io,
				     .exit_on_exception = !(flags & 2) };
	struct watchdog w = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	pthread_t dog, ap;
	struct emu_exit ex;
	int r;

	ram.hva = calloc(1, RAM_SIZE);
	if (!ram.hva)
		return -12;
	write_tables(ram.hva);
	memcpy((uint8_t *)ram.hva + CODE_GPA, data + 65, code < CODE_MAX ? code : CODE_MAX);
	if ((r = emu_vm_new(&cfg, &w.vm)) < 0) {
		free(ram.hva);
		return r;
	}
	w.ncpus = cfg.ncpus;
	set_state(emu_vm_cpu(w.vm, 0), data, size, flags & 1, flags & 8);
	pthread_create(&dog, NULL, watchdog_main, &w);
	if (cfg.ncpus > 1)
		pthread_create(&ap, NULL, run_cpu, emu_vm_cpu(w.vm, 1));
	emu_cpu_run(emu_vm_cpu(w.vm, 0), &ex);
	pthread_mutex_lock(&w.lock);
	w.done = true;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	pthread_join(dog, NULL); /* kicks every vCPU on its way out */
	if (cfg.ncpus > 1)
		pthread_join(ap, NULL);
	emu_vm_free(w.vm);
	free(ram.hva);
	return 1;
}
