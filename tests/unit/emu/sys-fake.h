/* Test harness of the emu system layer's unit tests, which compile the
 * system and irq sources directly: test-local stand-ins for the core
 * (lazy flags, emu_exec, the block cache), a VM with 8 MiB of RAM at 0, and
 * a 64-bit long-mode machine (GDT, IDT, TSS, identity page tables). */
#ifndef VS_TESTS_EMU_SYS_FAKE_H
#define VS_TESTS_EMU_SYS_FAKE_H

#include "emu/system.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#define RAM_SIZE (8u << 20)
#define GDT 0x1000
#define IDT 0x2000
#define TSS 0x3000
#define PML4 0x10000
#define PDPT 0x11000
#define PD 0x12000
#define PT 0x13000 /* 4 KiB pages for 0-2 MiB */
#define RSP0 0x9000
#define IST1 0xa000
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28
#define SEL_TSS 0x30

static __attribute__((unused)) void (*fake_exec_hook)(struct emu_cpu *cpu);
static __attribute__((unused)) unsigned fake_code_writes;
static __attribute__((unused)) uint64_t fake_code_written_gpa;
static unsigned fake_mmio_count;
static uint64_t fake_mmio_gpa;
static uint64_t fake_mmio_data;
static bool fake_mmio_write;
static struct emu_vm *fake_kick_vm; /* an OUT to port 0x500 kicks the vCPU */
static uint32_t fake_port500;

/* ---- the core, faked (unless the test links the real one) --------------------- */
#ifndef SYS_FAKE_REAL_CORE

uint64_t emu_get_rflags(struct emu_cpu *cpu)
{
	return cpu->rflags;
}

void emu_set_rflags(struct emu_cpu *cpu, uint64_t rflags)
{
	cpu->lazy.op = 0;
	cpu->rflags = rflags;
}

void emu_exec(struct emu_cpu *cpu)
{
	if (fake_exec_hook)
		fake_exec_hook(cpu);
	else
		cpu->stop = true;
}

int emu_blocks_new(struct emu_vm *vm)
{
	(void)vm;
	return 0;
}

void emu_blocks_free(struct emu_vm *vm)
{
	(void)vm;
}

void emu_code_written(struct emu_cpu *cpu, uint64_t gpa, unsigned len)
{
	(void)cpu;
	(void)len;
	fake_code_writes++;
	fake_code_written_gpa = gpa;
}

#endif

static void fake_mmio(void *ctx, unsigned cpu, uint64_t gpa, bool write, void *data, unsigned size)
{
	(void)ctx;
	(void)cpu;
	fake_mmio_count++;
	fake_mmio_gpa = gpa;
	fake_mmio_write = write;
	if (write)
		memcpy(&fake_mmio_data, data, size);
	else
		memset(data, 0x5a, size);
}

static void fake_pio(void *ctx, unsigned cpu, uint16_t port, bool write, void *data, unsigned size)
{
	(void)ctx;
	if (!write)
		memset(data, 0xa5, size);
	if (write && port == 0x500 && fake_kick_vm) {
		memcpy(&fake_port500, data, size);
		emu_cpu_kick(emu_vm_cpu(fake_kick_vm, cpu));
	}
}

static const struct emu_io_ops fake_io = { .pio = fake_pio, .mmio = fake_mmio };

/* ---- the machine ------------------------------------------------------------ */

struct machine {
	struct emu_vm *vm;
	struct emu_cpu *cpu;
	uint8_t *ram;
	struct emu_exit exit;
};

static inline void put64(struct machine *m, uint64_t gpa, uint64_t v)
{
	memcpy(m->ram + gpa, &v, 8);
}

static inline uint64_t get64(struct machine *m, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, m->ram + gpa, 8);
	return v;
}

static inline struct machine *machine_new(unsigned ncpus, bool exit_on_exception)
{
	struct machine *m = calloc(1, sizeof(*m));
	struct emu_ram_region r;
	struct emu_vm_config cfg = { .ncpus = ncpus,
				     .ram = &r,
				     .nram = 1,
				     .io = &fake_io,
				     .exit_on_exception = exit_on_exception };

	m->ram = aligned_alloc(4096, RAM_SIZE);
	memset(m->ram, 0, RAM_SIZE);
	r = (struct emu_ram_region){ .gpa = 0, .size = RAM_SIZE, .hva = m->ram };
	assert_int_equal(emu_vm_new(&cfg, &m->vm), 0);
	m->cpu = emu_vm_cpu(m->vm, 0);
	m->cpu->exit = &m->exit;
	fake_kick_vm = m->vm;
	fake_port500 = 0;
	fake_exec_hook = NULL;
	fake_code_writes = fake_mmio_count = 0;
	return m;
}

static inline void machine_free(struct machine *m)
{
	emu_vm_free(m->vm);
	free(m->ram);
	free(m);
}

/* A long-mode interrupt/trap gate. */
static inline void set_gate(struct machine *m, unsigned vec, uint64_t handler, unsigned dpl,
			    unsigned ist, bool trap)
{
	uint64_t lo = (handler & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | ((uint64_t)ist << 32) |
		      ((uint64_t)(trap ? 0xf : 0xe) << 40) | ((uint64_t)dpl << 45) | (1ULL << 47) |
		      ((handler >> 16) & 0xffff) << 48;

	put64(m, IDT + vec * 16, lo);
	put64(m, IDT + vec * 16 + 8, handler >> 32);
}

static inline void load_seg_raw(struct emu_cpu *cpu, int s, uint16_t sel, uint16_t attr)
{
	cpu->seg[s] = (struct emu_seg){ .base = 0, .limit = 0xffffffff, .sel = sel, .attr = attr };
}

/* Long mode, CPL0, identity map of the 8 MiB (first 2 MiB as 4 KiB pages),
 * everything user-accessible and writable. */
static inline void setup_long(struct machine *m)
{
	struct emu_cpu *cpu = m->cpu;

	put64(m, GDT + 0x08, 0x00af9b000000ffffULL);
	put64(m, GDT + 0x10, 0x00cf93000000ffffULL);
	put64(m, GDT + 0x18, 0x00cf9b000000ffffULL);
	put64(m, GDT + 0x20, 0x00cff3000000ffffULL);
	put64(m, GDT + 0x28, 0x00affb000000ffffULL);
	put64(m, GDT + 0x30, 0x0000890000000067ULL | ((uint64_t)TSS << 16));
	put64(m, GDT + 0x38, 0);
	put64(m, TSS + 4, RSP0);
	put64(m, TSS + 36, IST1);
	put64(m, PML4, PDPT | 7);
	put64(m, PDPT, PD | 7);
	put64(m, PD, PT | 7);
	for (unsigned i = 1; i < 4; i++)
		put64(m, PD + 8 * i, ((uint64_t)i << 21) | 0x87);
	for (unsigned i = 0; i < 512; i++)
		put64(m, PT + 8 * i, ((uint64_t)i << 12) | 7);
	cpu->gdtr = (struct emu_dtr){ GDT, 0x3f };
	cpu->idtr = (struct emu_dtr){ IDT, 0xfff };
	cpu->tr = (struct emu_seg){ .base = TSS, .limit = 0x67, .sel = SEL_TSS, .attr = 0x8b };
	load_seg_raw(cpu, EMU_CS, SEL_CODE64, 0x29b | EMU_SEG_G);
	for (int s = 0; s < EMU_NSEG; s++)
		if (s != EMU_CS)
			load_seg_raw(cpu, s, SEL_DATA, 0xc93);
	cpu->cr0 = EMU_CR0_PE | EMU_CR0_PG | EMU_CR0_WP | EMU_CR0_ET;
	cpu->cr4 = EMU_CR4_PAE | EMU_CR4_PGE;
	cpu->cr3 = PML4;
	cpu->efer = EMU_EFER_LME | EMU_EFER_LMA | EMU_EFER_NXE | EMU_EFER_SCE;
	cpu->rflags = 2;
	cpu->r[EMU_RSP] = 0x8000;
	cpu->rip = 0x5000;
	cpu->state = EMU_RUNNABLE;
	emu_tlb_flush_all(cpu);
	emu_update_mode(cpu);
}

/* Runs stmt; returns the vector it raised, or -1. */
#define CATCH(cpu, stmt)                        \
	({                                      \
		volatile int r_ = -1;           \
		(cpu)->exc.vector = -1;         \
		(cpu)->exc.depth = 0;           \
		if (setjmp((cpu)->jmp) == 0) {  \
			stmt;                   \
		} else {                        \
			r_ = (cpu)->exc.vector; \
		}                               \
		r_;                             \
	})

/* Raises vector/err the way a handler would and delivers it, as the
 * dispatch loop does (re-entering on nested faults). */
static inline void raise_and_deliver(struct emu_cpu *cpu, int vector, uint32_t err)
{
	cpu->exc.vector = -1;
	cpu->exc.depth = 0;
	cpu->cur = NULL;
	if (setjmp(cpu->jmp) == 0)
		emu_raise(cpu, vector, err);
	else
		emu_exception_deliver(cpu);
}

#endif
