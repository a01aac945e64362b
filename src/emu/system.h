/* Private helpers of the emu "system" layer (cpu.c, mmu.c, except.c, seg.c,
 * xfer.c, msr.c, cpuid.c, emu.c). Nothing outside these files includes it. */
#ifndef VS_EMU_SYSTEM_H
#define VS_EMU_SYSTEM_H

#include "emu/internal.h"

#include <stdbool.h>
#include <stdint.h>

/* Guest physical address width we advertise (CPUID 0x80000008) and check
 * page-table entries and CR3 against. */
#define EMU_PHYS_BITS 40
#define EMU_PHYS_MASK ((1ULL << EMU_PHYS_BITS) - 1)
#define EMU_PAGE_MASK (~0xfffULL)

/* System-private per-vCPU state, hung off emu_cpu.sys. */
#define EMU_TI_GLOBAL 1u /* from a global page */
#define EMU_TI_WRITE 2u /* writable and dirty (tag_write may still be off: code page) */
#define EMU_TI_LISTED 4u /* the index is in emu_cpu_sys.ng (kept when the entry dies) */
struct emu_itlb_entry {
	uint64_t tag; /* linear page when fetch is allowed, else EMU_TLB_INVALID */
	uintptr_t addend;
	uint64_t gpa_page;
};

struct emu_cpu_sys {
	struct emu_itlb_entry itlb[2][EMU_TLB_SIZE]; /* fetch TLB, [0] supervisor, [1] user */
	uint8_t info[2][EMU_TLB_SIZE]; /* EMU_TI_* of the data/fetch entry */
	uint8_t shift[2][EMU_TLB_SIZE]; /* page size of the mapping the entry came from */
	unsigned nlarge; /* entries from pages > 4 KiB since the last full flush */
	/* Every index that may hold a non-global entry (filled so since the
	 * last flush of non-global entries, EMU_TI_LISTED), so that a CR3
	 * load clears those instead of scanning both TLBs. */
	uint16_t ng[2][EMU_TLB_SIZE];
	unsigned nng[2];
	uint64_t mtrr_fixed[11]; /* MTRRfix64K_00000 .. MTRRfix4K_F8000, stored only */
	uint64_t mtrr_var[16]; /* PHYSBASE0/PHYSMASK0 .. 7 */
	bool exit_pending; /* cpu->exit holds a result for emu_cpu_run() to return */
	bool delivering_ext; /* an external interrupt/NMI is being delivered */
};

/* Marks *exit as the result and makes the dispatch loop stop. */
void emu_sys_exit(struct emu_cpu *cpu, enum emu_exit_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The emulator cannot go on: EMU_EXIT_ERROR and a longjmp out of the handler. */
_Noreturn void emu_sys_fatal(struct emu_cpu *cpu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Implicit supervisor-mode accesses (descriptor tables, TSS, IDT) by linear
 * address, whatever the CPL. Raise #PF like any access. */
uint64_t emu_sys_read(struct emu_cpu *cpu, uint64_t lin, unsigned size);
void emu_sys_write(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t val);

/* Stack: push/pop with the current stack width (64-bit mode: 8-byte RSP;
 * otherwise SS.B picks ESP or SP). emu_stack_addr() gives the linear
 * address of SS:(rsp + delta) as the stack width wraps it. */
unsigned emu_stack_width(struct emu_cpu *cpu);
uint64_t emu_stack_wrap(struct emu_cpu *cpu, uint64_t rsp);
void emu_set_rsp(struct emu_cpu *cpu, uint64_t rsp);

/* Descriptors (seg.c). A descriptor's two (or four, long-mode system) words. */
struct emu_desc {
	uint32_t lo, hi;
	uint32_t hi2; /* bits 63:32 of the base of a 16-byte system descriptor */
};
/* Reads the descriptor sel names (GDT or LDT); false when it lies beyond
 * the table's limit (the caller raises with its own vector). */
bool emu_desc_read(struct emu_cpu *cpu, uint16_t sel, bool sys16, struct emu_desc *d);
void emu_desc_to_seg(const struct emu_desc *d, uint16_t sel, struct emu_seg *s);
void emu_desc_set_accessed(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d);
/* Loads CS from a checked code descriptor, RPL forced to cpl. The caller
 * loads SS for that CPL and then calls emu_update_mode(). */
void emu_load_cs(struct emu_cpu *cpu, uint16_t sel, const struct emu_desc *d, unsigned cpl);
/* Checks a code-segment descriptor as a control-transfer target: #GP(sel)
 * or #NP(sel). Returns the target CPL. */
unsigned emu_check_code_target(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d,
			       bool interrupt);
/* Flat segments for SYSCALL/SYSRET/SYSENTER. */
void emu_seg_flat(struct emu_seg *s, uint16_t sel, unsigned dpl, bool code, bool l64);
/* Real-mode style load: base = sel << 4. */
void emu_seg_real(struct emu_seg *s, uint16_t sel);
/* After a return to an outer privilege: null data segments the new CPL may not use. */
void emu_seg_fix_outer(struct emu_cpu *cpu);

static inline bool emu_is_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static inline bool emu_prot(const struct emu_cpu *cpu)
{
	return cpu->cr0 & EMU_CR0_PE;
}

/* Sets IF-related bits of RFLAGS and asks the run loop to look for interrupts. */
void emu_flags_changed(struct emu_cpu *cpu, uint64_t old_rflags);

/* Interrupt/exception delivery (except.c). soft: INT n (DPL check);
 * ext: external interrupt or NMI. */
void emu_deliver_event(struct emu_cpu *cpu, int vector, uint32_t error_code, bool soft, bool ext,
		       uint64_t ret_rip);

/* mmu.c */
void emu_tlb_drop_code_writes(struct emu_cpu *cpu);
void emu_mmu_reset(struct emu_cpu *cpu);
/* The vCPU running on this thread (for emu_page_set_code), or NULL. */
extern __thread struct emu_cpu *emu_this_cpu;

/* cpuid.c: installs emu_supported_cpuid()'s table (APIC ID = index) */
void emu_cpu_default_cpuid(struct emu_cpu *cpu);

/* cpu.c */
void emu_cpu_reset(struct emu_cpu *cpu); /* INIT state: real mode at F000:FFF0 */

#endif
