/* Harness of the emu core's unit tests: a real emu VM (the library, with
 * the system and irq layers) with 4 MiB of RAM, set up in 64-bit long mode
 * (identity-mapped 2 MiB pages), 32-bit protected mode or real mode, that
 * runs a code snippet until it executes UD2 (exit_on_exception). */
#ifndef VS_TESTS_EMU_CORE_HARNESS_H
#define VS_TESTS_EMU_CORE_HARNESS_H

#include "emu/emu.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define H_RAM (4u << 20)
#define H_PML4 0x1000
#define H_PDPT 0x2000
#define H_PD 0x3000
#define H_GDT 0x4000
#define H_CODE 0x10000
#define H_DATA 0x20000
#define H_STACK 0x80000
#define H_FLAGS_ARITH 0x8d5u /* OF SF ZF AF PF CF */

enum h_mode { H_LONG, H_PROT32, H_REAL };

struct h {
	struct emu_vm *vm;
	struct emu_cpu *cpu;
	uint8_t *ram;
	struct kvm_regs regs;
	struct emu_exit exit;
	enum h_mode mode;
	uint32_t port_out[4]; /* last OUT value per port 0x80..0x83 */
};

static void h_pio(void *ctx, unsigned cpu, uint16_t port, bool write, void *data, unsigned size)
{
	struct h *h = ctx;

	(void)cpu;
	if (write && port >= 0x80 && port < 0x84)
		memcpy(&h->port_out[port - 0x80], data, size);
	else if (!write)
		memset(data, 0x5a, size);
}

static void h_mmio(void *ctx, unsigned cpu, uint64_t gpa, bool write, void *data, unsigned size)
{
	(void)ctx, (void)cpu, (void)gpa, (void)write;
	memset(data, 0xff, size);
}

static const struct emu_io_ops h_io = { .pio = h_pio, .mmio = h_mmio };

static void h_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool l, bool db)
{
	*s = (struct kvm_segment){ .base = 0,
				   .limit = 0xffffffff,
				   .selector = sel,
				   .type = type,
				   .present = 1,
				   .s = 1,
				   .l = l,
				   .db = db,
				   .g = 1 };
}

static void h_tables(struct h *h)
{
	uint64_t *pml4 = (uint64_t *)(h->ram + H_PML4), *pdpt = (uint64_t *)(h->ram + H_PDPT);
	uint64_t *pd = (uint64_t *)(h->ram + H_PD), *gdt = (uint64_t *)(h->ram + H_GDT);

	pml4[0] = H_PDPT | 3;
	pdpt[0] = H_PD | 3;
	pd[0] = 0x0 | 0x83;
	pd[1] = 0x200000 | 0x83;
	gdt[1] = 0x00af9b000000ffffULL; /* 0x08 code64 */
	gdt[2] = 0x00cf93000000ffffULL; /* 0x10 data */
	gdt[3] = 0x00cf9b000000ffffULL; /* 0x18 code32 */
}

static void h_sregs(struct h *h, enum h_mode mode)
{
	struct kvm_sregs s;

	emu_cpu_get_sregs(h->cpu, &s);
	s.gdt.base = H_GDT;
	s.gdt.limit = 0x1f;
	if (mode == H_REAL) {
		s.cr0 = 0x10;
		s.efer = 0;
		s.cr4 = 0;
		struct kvm_segment *segs[] = { &s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss };
		for (unsigned i = 0; i < 6; i++) {
			h_seg(segs[i], 0, i ? 3 : 0xb, false, false);
			segs[i]->base = i ? 0 : H_CODE;
			segs[i]->selector = i ? 0 : H_CODE >> 4;
			segs[i]->limit = 0xffff;
			segs[i]->g = 0;
		}
	} else {
		bool lm = mode == H_LONG;

		s.cr0 = 0x80000031; /* PG NE ET PE */
		s.cr3 = H_PML4;
		s.cr4 = 0x20; /* PAE */
		s.efer = lm ? 0x501 : 0; /* SCE LME LMA */
		if (!lm)
			s.cr0 = 0x31; /* 32-bit tests run without paging */
		h_seg(&s.cs, lm ? 0x08 : 0x18, 0xb, lm, !lm);
		h_seg(&s.ds, 0x10, 3, false, true);
		s.es = s.fs = s.gs = s.ss = s.ds;
	}
	assert_int_equal(emu_cpu_set_sregs(h->cpu, &s), 0);
}

static void h_init(struct h *h, enum h_mode mode)
{
	struct emu_ram_region ram;
	struct emu_vm_config cfg = { .ncpus = 1,
				     .ram = &ram,
				     .nram = 1,
				     .io = &h_io,
				     .io_ctx = h,
				     .exit_on_exception = true };

	memset(h, 0, sizeof(*h));
	h->ram = aligned_alloc(4096, H_RAM);
	assert_non_null(h->ram);
	memset(h->ram, 0, H_RAM);
	ram = (struct emu_ram_region){ .gpa = 0, .size = H_RAM, .hva = h->ram };
	assert_int_equal(emu_vm_new(&cfg, &h->vm), 0);
	h->cpu = emu_vm_cpu(h->vm, 0);
	h->mode = mode;
	h_tables(h);
	h_sregs(h, mode);
	h->regs.rflags = 2;
	h->regs.rsp = mode == H_REAL ? 0x7000 : H_STACK;
}

static void h_free(struct h *h)
{
	emu_vm_free(h->vm);
	free(h->ram);
}

/* Copies code to H_CODE (real mode: the same, reached as 1000:0000), runs
 * it from there with h->regs until an exception exit, reads back regs. */
static void h_run(struct h *h, const void *code, size_t len)
{
	memcpy(h->ram + H_CODE, code, len);
	emu_vm_mem_written(h->vm, H_CODE, len);
	h->regs.rip = h->mode == H_REAL ? 0 : H_CODE;
	emu_cpu_set_regs(h->cpu, &h->regs);
	assert_int_equal(emu_cpu_run(h->cpu, &h->exit), 0);
	emu_cpu_get_regs(h->cpu, &h->regs);
}

/* Runs code that must end at its UD2 (the last two bytes). */
static inline void h_run_ud2(struct h *h, const void *code, size_t len)
{
	h_run(h, code, len);
	if (h->exit.reason != EMU_EXIT_EXCEPTION || h->exit.vector != 6)
		fail_msg("exit %d vector %d at %#llx (%s)", h->exit.reason, h->exit.vector,
			 (unsigned long long)h->regs.rip, h->exit.detail);
	assert_int_equal(h->regs.rip, (h->mode == H_REAL ? 0 : H_CODE) + len - 2);
}

#define UD2 0x0f, 0x0b

#endif
