/* emu-private declarations: the contract between the parts of the software
 * CPU. Three groups of files own three layers:
 *
 *   core   decode.c, exec*.c, block.c, flags.c: the decoder (legacy
 *          prefixes, REX, ModRM/SIB, the 1-byte, 0F, 0F38, 0F3A maps), the
 *          decoded-block cache, the dispatch loop, lazy flags, and the
 *          instruction handlers. System instructions are decoded here and
 *          call the semantic functions of the "system" layer below.
 *   system cpu.c, mmu.c, except.c, seg.c, msr.c, cpuid.c, emu.c: register
 *          state and modes, paging and the software TLB, memory access slow
 *          paths, exception and interrupt delivery, descriptor tables, MSRs,
 *          CPUID, SYSCALL/SYSRET/IRET/far transfers, HLT and the run loop.
 *   irq    lapic.c, ioapic.c, pic.c, pit.c, kvmclock.c, timer.c: interrupt
 *          controllers, time (TSC, kvm-clock) and the timer thread.
 *
 * Faults: a handler that meets a fault calls emu_raise(), which records the
 * exception and longjmps to the dispatch loop (core), which calls
 * emu_exception_deliver() (system). Handlers therefore read and check all
 * operands before they change architectural state. */
#ifndef VS_EMU_INTERNAL_H
#define VS_EMU_INTERNAL_H

#include "emu/emu.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- architectural constants ---------------------------------------- */

enum emu_gpr {
	EMU_RAX,
	EMU_RCX,
	EMU_RDX,
	EMU_RBX,
	EMU_RSP,
	EMU_RBP,
	EMU_RSI,
	EMU_RDI,
	EMU_R8,
	EMU_R9,
	EMU_R10,
	EMU_R11,
	EMU_R12,
	EMU_R13,
	EMU_R14,
	EMU_R15
};
enum emu_segreg { EMU_ES, EMU_CS, EMU_SS, EMU_DS, EMU_FS, EMU_GS, EMU_NSEG };

enum emu_vector {
	EMU_DE = 0,
	EMU_DB = 1,
	EMU_NMI = 2,
	EMU_BP = 3,
	EMU_OF = 4,
	EMU_BR = 5,
	EMU_UD = 6,
	EMU_NM = 7,
	EMU_DF = 8,
	EMU_TS = 10,
	EMU_NP = 11,
	EMU_SS_FAULT = 12,
	EMU_GP = 13,
	EMU_PF = 14,
	EMU_MF = 16,
	EMU_AC = 17,
	EMU_MC = 18,
	EMU_XM = 19,
};
#define EMU_NO_ERRCODE UINT32_MAX

#define EMU_FLAG_CF (1ULL << 0)
#define EMU_FLAG_PF (1ULL << 2)
#define EMU_FLAG_AF (1ULL << 4)
#define EMU_FLAG_ZF (1ULL << 6)
#define EMU_FLAG_SF (1ULL << 7)
#define EMU_FLAG_TF (1ULL << 8)
#define EMU_FLAG_IF (1ULL << 9)
#define EMU_FLAG_DF (1ULL << 10)
#define EMU_FLAG_OF (1ULL << 11)
#define EMU_FLAG_IOPL (3ULL << 12)
#define EMU_FLAG_NT (1ULL << 14)
#define EMU_FLAG_RF (1ULL << 16)
#define EMU_FLAG_VM (1ULL << 17)
#define EMU_FLAG_AC (1ULL << 18)
#define EMU_FLAG_VIF (1ULL << 19)
#define EMU_FLAG_VIP (1ULL << 20)
#define EMU_FLAG_ID (1ULL << 21)
#define EMU_FLAGS_ARITH \
	(EMU_FLAG_CF | EMU_FLAG_PF | EMU_FLAG_AF | EMU_FLAG_ZF | EMU_FLAG_SF | EMU_FLAG_OF)

#define EMU_CR0_PE (1ULL << 0)
#define EMU_CR0_MP (1ULL << 1)
#define EMU_CR0_EM (1ULL << 2)
#define EMU_CR0_TS (1ULL << 3)
#define EMU_CR0_ET (1ULL << 4)
#define EMU_CR0_NE (1ULL << 5)
#define EMU_CR0_WP (1ULL << 16)
#define EMU_CR0_AM (1ULL << 18)
#define EMU_CR0_PG (1ULL << 31)
#define EMU_CR4_PSE (1ULL << 4)
#define EMU_CR4_PAE (1ULL << 5)
#define EMU_CR4_PGE (1ULL << 7)
#define EMU_CR4_OSFXSR (1ULL << 9)
#define EMU_CR4_OSXMMEXCPT (1ULL << 10)
#define EMU_CR4_FSGSBASE (1ULL << 16)
#define EMU_CR4_OSXSAVE (1ULL << 18)
#define EMU_CR4_SMEP (1ULL << 20)
#define EMU_CR4_SMAP (1ULL << 21)
#define EMU_EFER_SCE (1ULL << 0)
#define EMU_EFER_LME (1ULL << 8)
#define EMU_EFER_LMA (1ULL << 10)
#define EMU_EFER_NXE (1ULL << 11)

/* Segment attributes, packed as descriptor bits 40-47 and 52-55. */
#define EMU_SEG_TYPE(a) ((a)&0xf)
#define EMU_SEG_S (1u << 4)
#define EMU_SEG_DPL(a) (((a) >> 5) & 3)
#define EMU_SEG_P (1u << 7)
#define EMU_SEG_AVL (1u << 8)
#define EMU_SEG_L (1u << 9)
#define EMU_SEG_DB (1u << 10)
#define EMU_SEG_G (1u << 11)

struct emu_seg {
	uint64_t base;
	uint32_t limit; /* byte granular (G already applied) */
	uint16_t sel;
	uint16_t attr;
};

struct emu_dtr {
	uint64_t base;
	uint16_t limit;
};

/* How the decoder must read code; recomputed by emu_update_mode() whenever
 * CR0.PE, EFER.LMA or CS.L/CS.D change. */
enum emu_mode { EMU_MODE_REAL, EMU_MODE_PROT16, EMU_MODE_PROT32, EMU_MODE_LONG64 };

/* ---- decoded instructions (core) ------------------------------------- */

struct emu_cpu;
struct emu_insn;
typedef void (*emu_handler)(struct emu_cpu *cpu, const struct emu_insn *in);

#define EMU_NOREG 0xff
#define EMU_PFX_LOCK (1u << 0)
#define EMU_PFX_REP (1u << 1) /* F3 */
#define EMU_PFX_REPNE (1u << 2) /* F2 */
#define EMU_PFX_OPSZ (1u << 3) /* 66 */
#define EMU_PFX_ADSZ (1u << 4) /* 67 */
#define EMU_PFX_REX (1u << 5) /* any REX: SPL/BPL/SIL/DIL instead of AH..BH */
#define EMU_PFX_REXW (1u << 6)

struct emu_insn {
	emu_handler fn;
	uint64_t rip; /* of this instruction, as the guest sees it */
	uint64_t imm; /* immediate, sign- or zero-extended as the opcode wants;
			* relative branches hold their absolute target */
	uint64_t imm2; /* second immediate (ENTER's level, far pointer selector) */
	int64_t disp; /* memory operand displacement; RIP-relative is folded in */
	uint8_t len;
	uint8_t map; /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A */
	uint8_t opcode;
	uint8_t mod; /* ModRM.mod; 3 = register operand */
	uint8_t reg; /* ModRM.reg with REX.R (or the opcode's low 3 bits + REX.B) */
	uint8_t rm; /* ModRM.rm with REX.B when mod == 3 */
	uint8_t base; /* memory operand: base register or EMU_NOREG */
	uint8_t index; /* index register or EMU_NOREG */
	uint8_t scale; /* log2 */
	uint8_t seg; /* effective segment of the memory operand (enum emu_segreg) */
	uint8_t opsize; /* 1, 2, 4, 8 bytes */
	uint8_t adsize; /* 2, 4, 8 bytes */
	uint8_t pfx; /* EMU_PFX_* */
	uint8_t flags; /* decoder-private */
};

/* ---- lazy arithmetic flags (core) ------------------------------------- */

/* The last flag-setting operation, evaluated only when someone reads a flag. */
struct emu_lazy {
	uint64_t res, src1, src2;
	uint8_t op; /* core-private operation code; 0: arithmetic flags live in cpu->rflags */
	uint8_t size; /* operand size in bytes */
};

/* Full RFLAGS with the arithmetic flags materialized. */
uint64_t emu_get_rflags(struct emu_cpu *cpu);
/* Writes all of RFLAGS (no privilege filtering: callers apply POPF/IRET rules). */
void emu_set_rflags(struct emu_cpu *cpu, uint64_t rflags);

/* ---- software TLB (system fills, core uses inline) -------------------- */

/* 2^12 entries: with 2^8, Linux's O_DIRECT block path spent ~3.5 % of its host
 * time in page walks (docs/emu.md "Software TLB"). */
#define EMU_TLB_BITS 12
#define EMU_TLB_SIZE (1u << EMU_TLB_BITS)
#define EMU_TLB_INVALID 1ULL /* never a page-aligned tag */

/* One entry maps a 4 KiB linear page to host RAM. tag_* hold the page's
 * linear address when the access kind is allowed without a walk (tag_write
 * only when the page is writable, dirty, and holds no decoded code). */
struct emu_tlb_entry {
	uint64_t tag_read;
	uint64_t tag_write;
	uintptr_t addend; /* host address = linear address + addend */
	uint64_t gpa_page;
};

struct emu_tlb {
	struct emu_tlb_entry e[EMU_TLB_SIZE];
};

/* ---- the vCPU and the VM --------------------------------------------- */

struct emu_lapic;
struct emu_block_cache;
struct emu_cpu_sys;

enum emu_run_state { EMU_RUNNABLE, EMU_HALTED, EMU_WAIT_SIPI };

/* Bits of emu_cpu.events: why the dispatch loop must stop and look. */
#define EMU_EV_KICK (1u << 0)
#define EMU_EV_IRQ (1u << 1) /* LAPIC/PIC may have something to deliver */
#define EMU_EV_INIT (1u << 2)
#define EMU_EV_SIPI (1u << 3)
#define EMU_EV_NMI (1u << 4)
#define EMU_EV_TLBFLUSH (1u << 5) /* another vCPU marked a page as code */
#define EMU_EV_MODE (1u << 6) /* mode, paging or IF changed: re-check before next block */

struct emu_cpu {
	/* hot state first */
	uint64_t r[16];
	uint64_t rip;
	uint64_t rflags; /* non-arithmetic bits always; arithmetic bits when lazy.op == 0 */
	struct emu_lazy lazy;
	struct emu_seg seg[EMU_NSEG];
	enum emu_mode mode;
	uint8_t cpl;
	uint8_t tlb_user; /* 1 when cpl == 3: which TLB the access fast path uses */
	struct emu_tlb tlb[2]; /* [0] supervisor accesses, [1] user accesses */
	_Atomic uint32_t events;

	/* control and system registers */
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, xcr0;
	/* Bumped by every TLB flush (mmu.c): the dispatch loop keeps its
	 * code page translations across emu_exec() calls while it holds
	 * (exec.c vpages_keep()). */
	uint64_t tlb_epoch;
	uint64_t dr[8];
	struct emu_dtr gdtr, idtr;
	struct emu_seg ldtr, tr;
	struct {
		uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux, pat;
		uint64_t sysenter_cs, sysenter_esp, sysenter_eip, misc_enable, mtrr_def_type;
		uint64_t apic_base, tsc_offset, spec_ctrl;
		uint64_t kvm_system_time, kvm_wall_clock, kvm_pv_eoi, kvm_steal_time, kvm_async_pf;
	} msr;

	/* x87/SSE state as FXSAVE lays it out (512 bytes), for FXSAVE/FXRSTOR and SSE. */
	_Alignas(16) uint8_t fxsave[512];

	/* the instruction being executed, for faults (core sets, system reads) */
	const struct emu_insn *cur;
	/* exception in flight (system) */
	struct {
		int vector; /* -1: none */
		uint32_t error_code; /* EMU_NO_ERRCODE: none */
		int depth; /* nested delivery: 1 -> #DF, 2 -> shutdown */
	} exc;
	bool irq_shadow; /* STI / MOV SS: no interrupt before the next instruction */
	bool nmi_blocked;

	jmp_buf jmp; /* set by the dispatch loop; emu_raise() jumps here */
	struct emu_exit *exit; /* where emu_cpu_run() reports; set while running */
	bool stop; /* system sets: leave the dispatch loop after this block */

	enum emu_run_state state;
	uint8_t sipi_vector;
	pthread_mutex_t lock; /* guards state/sleep; events are atomic */
	pthread_cond_t wake;

	struct kvm_cpuid_entry2 *cpuid; /* what CPUID returns (emu_cpu_set_cpuid) */
	unsigned ncpuid;

	struct emu_lapic *lapic;
	struct emu_vm *vm;
	unsigned index;
	struct emu_stats stats;
	struct emu_prof *prof; /* NULL unless profiling (prof.c) */
	uint64_t ud_log_next_ns; /* rate limit of the #UD host log line */
	struct emu_cpu_sys *sys; /* system-layer private state (fetch TLB, global bits) */
};

struct emu_pic;
struct emu_ioapic;
struct emu_pit;

struct emu_vm {
	struct emu_vm_config cfg;
	struct emu_ram_region ram[4];
	unsigned nram;
	uint64_t ram_top; /* highest RAM gpa + 1, bounds the code bitmap */
	_Atomic uint8_t *code_pages; /* one bit per 4 KiB page of RAM: holds decoded code */
	struct emu_block_cache *blocks;
	struct emu_cpu *cpus;
	unsigned ncpus;
	struct emu_pic *pic;
	struct emu_ioapic *ioapic;
	struct emu_pit *pit;
	uint32_t tsc_khz;
	uint64_t tsc_epoch_ns; /* host CLOCK_MONOTONIC at TSC 0 */
	pthread_mutex_t irq_lock; /* PIC/IOAPIC/PIT state */
	bool generic_only; /* test seam: the decoder picks no specialized handler (exec-fast.c) */
};

/* ---- system layer: memory ------------------------------------------- */

/* Access kinds for translation and faults. */
enum emu_access { EMU_ACC_READ = 0, EMU_ACC_WRITE = 1, EMU_ACC_FETCH = 2 };

/* Host pointer for guest-physical [gpa, gpa+len) inside one RAM region, or
 * NULL (MMIO, hole, out of range). Used by kvmclock and the fetch path. */
void *emu_phys_ptr(struct emu_vm *vm, uint64_t gpa, uint64_t len);

/* Linear address of seg:off, with the mode's segmentation (long mode: only
 * FS/GS bases; legacy modes: base + limit check, #GP/#SS on violation) and
 * the canonical check in long mode (#GP(0), #SS(0) for SS). */
uint64_t emu_linear(struct emu_cpu *cpu, int seg, uint64_t off, unsigned size, enum emu_access acc);

/* Slow paths of the inline accessors below: walk the page tables, fill the
 * TLB, handle page-crossing accesses, MMIO, the LAPIC/IOAPIC pages, and
 * writes to pages holding code (emu_code_written()). Raise #PF/#GP. */
uint64_t emu_read_slow(struct emu_cpu *cpu, uint64_t lin, unsigned size);
void emu_write_slow(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t val);
/* Reads/writes of 10/16+ bytes (far pointers, descriptor tables, FXSAVE). */
void emu_read_bytes(struct emu_cpu *cpu, uint64_t lin, void *buf, unsigned len);
void emu_write_bytes(struct emu_cpu *cpu, uint64_t lin, const void *buf, unsigned len);

/* Host pointer for an atomic read-modify-write of size bytes at lin (LOCK,
 * XCHG), after the write permission checks; NULL when the access is not to
 * plain RAM or crosses a page (the caller then does read + write). Marks
 * the page dirty and handles code pages like a write. */
void *emu_rmw_ptr(struct emu_cpu *cpu, uint64_t lin, unsigned size);

/* Instruction fetch: host pointer to the code byte at linear address lin
 * (checks NX, U/S, SMEP; raises #PF), its guest-physical address, and how
 * many bytes follow it in the same page. */
const uint8_t *emu_fetch_ptr(struct emu_cpu *cpu, uint64_t lin, uint64_t *gpa, unsigned *avail);

static inline struct emu_tlb_entry *emu_tlb_slot(struct emu_cpu *cpu, uint64_t lin)
{
	return &cpu->tlb[cpu->tlb_user].e[(lin >> 12) & (EMU_TLB_SIZE - 1)];
}

static inline uint64_t emu_load_host(const void *p, unsigned size)
{
	switch (size) {
	case 1:
		return *(const uint8_t *)p;
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

static inline void emu_store_host(void *p, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	default:
		memcpy(p, &v, 8);
		break;
	}
}

/* Linear-address accessors, fast path inline: size is 1, 2, 4 or 8. */
static inline uint64_t emu_read_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	struct emu_tlb_entry *t = emu_tlb_slot(cpu, lin);

	/* one compare: an access crossing into the next page names a page that
	 * lin's slot never holds (the slot index is the page number's low bits) */
	if (__builtin_expect(t->tag_read == ((lin + size - 1) & ~0xfffULL), 1))
		return emu_load_host((const void *)(uintptr_t)(lin + t->addend), size);
	return emu_read_slow(cpu, lin, size);
}

static inline void emu_write_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t v)
{
	struct emu_tlb_entry *t = emu_tlb_slot(cpu, lin);

	if (__builtin_expect(t->tag_write == ((lin + size - 1) & ~0xfffULL), 1))
		emu_store_host((void *)(uintptr_t)(lin + t->addend), size, v);
	else
		emu_write_slow(cpu, lin, size, v);
}

_Noreturn void emu_raise(struct emu_cpu *cpu, int vector, uint32_t error_code); /* below */

/* seg:off accessors. In 64-bit mode with a segment other than FS/GS the
 * linear address is off itself (non-canonical addresses miss the TLB and
 * the slow path raises #GP). */
static inline uint64_t emu_seg_lin(struct emu_cpu *cpu, int seg, uint64_t off, unsigned size,
				   enum emu_access acc)
{
	if (cpu->mode == EMU_MODE_LONG64) {
		/* SDM: a non-canonical stack reference is #SS(0), not #GP(0) */
		if (seg == EMU_SS && (uint64_t)((int64_t)(off << 16) >> 16) != off)
			emu_raise(cpu, EMU_SS_FAULT, 0);
		return seg >= EMU_FS ? off + cpu->seg[seg].base : off;
	}
	return emu_linear(cpu, seg, off, size, acc);
}

static inline uint64_t emu_read(struct emu_cpu *cpu, int seg, uint64_t off, unsigned size)
{
	return emu_read_lin(cpu, emu_seg_lin(cpu, seg, off, size, EMU_ACC_READ), size);
}

static inline void emu_write(struct emu_cpu *cpu, int seg, uint64_t off, unsigned size, uint64_t v)
{
	emu_write_lin(cpu, emu_seg_lin(cpu, seg, off, size, EMU_ACC_WRITE), size, v);
}

/* TLB maintenance: INVLPG, a CR3 load (keeps global pages unless PGE is
 * off), everything (CR0/CR4 paging bits, EFER.NXE, CPL change of meaning). */
void emu_tlb_flush_page(struct emu_cpu *cpu, uint64_t lin);
void emu_tlb_flush_nonglobal(struct emu_cpu *cpu);
void emu_tlb_flush_all(struct emu_cpu *cpu);

/* Code pages: the core marks a page when it decodes a block from it; the
 * system layer then keeps writes to it off the TLB fast path (on every
 * vCPU: EMU_EV_TLBFLUSH) and calls emu_code_written() on each write. */
bool emu_page_is_code(struct emu_vm *vm, uint64_t gpa);
void emu_page_set_code(struct emu_vm *vm, uint64_t gpa);
void emu_page_clear_code(struct emu_vm *vm, uint64_t gpa);

/* ---- system layer: exceptions, modes, system instructions ------------- */

/* Raises an exception at the current instruction (cpu->cur): records it
 * and longjmps to the dispatch loop. error_code is EMU_NO_ERRCODE for
 * vectors without one. For #PF the caller sets cpu->cr2 first. */
_Noreturn void emu_raise(struct emu_cpu *cpu, int vector, uint32_t error_code);
#define emu_raise_ud(cpu) emu_raise((cpu), EMU_UD, EMU_NO_ERRCODE)
#define emu_raise_gp(cpu, code) emu_raise((cpu), EMU_GP, (code))

/* #UD for an opcode emu does not implement: logs one rate-limited host
 * line naming the opcode bytes and RIP, then raises #UD. */
_Noreturn void emu_raise_unimplemented(struct emu_cpu *cpu, const struct emu_insn *in);

/* Called by the dispatch loop after a longjmp: delivers cpu->exc through the
 * IDT (long mode: IST, TSS stack switch; legacy: IVT/IDT), escalating to
 * #DF and to shutdown, or fills cpu->exit for exit_on_exception. */
void emu_exception_deliver(struct emu_cpu *cpu);

/* Software interrupts INT n / INT3 / INTO / INT1: gate DPL checks, then
 * delivery with the return RIP after the instruction. */
void emu_soft_int(struct emu_cpu *cpu, int vector, uint64_t next_rip, bool check_dpl);

/* Sets event bits on cpu (atomically) and wakes it if it sleeps in HLT or
 * wait-for-SIPI. Any thread. emu_cpu_kick() is emu_cpu_notify(EMU_EV_KICK). */
void emu_cpu_notify(struct emu_cpu *cpu, uint32_t events);

/* Recomputes cpu->mode, cpl and tlb_user from CR0, EFER, CS; sets EMU_EV_MODE. */
void emu_update_mode(struct emu_cpu *cpu);

/* Semantic functions the core's system-instruction handlers call. All of
 * them do the privilege checks and raise on failure. "next" is the RIP of
 * the following instruction where the operation needs it. */
uint64_t emu_read_cr(struct emu_cpu *cpu, int n);
void emu_write_cr(struct emu_cpu *cpu, int n, uint64_t val);
uint64_t emu_read_dr(struct emu_cpu *cpu, int n);
void emu_write_dr(struct emu_cpu *cpu, int n, uint64_t val);
uint64_t emu_rdmsr(struct emu_cpu *cpu, uint32_t index);
void emu_wrmsr(struct emu_cpu *cpu, uint32_t index, uint64_t val);
void emu_cpuid(struct emu_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
uint64_t emu_rdtsc(struct emu_cpu *cpu);
void emu_load_seg(struct emu_cpu *cpu, int seg, uint16_t sel); /* MOV/POP Sreg, LxS */
void emu_lgdt(struct emu_cpu *cpu, uint64_t base, uint16_t limit); /* also LIDT via idt=true */
void emu_lidt(struct emu_cpu *cpu, uint64_t base, uint16_t limit);
void emu_lldt(struct emu_cpu *cpu, uint16_t sel);
void emu_ltr(struct emu_cpu *cpu, uint16_t sel);
void emu_invlpg(struct emu_cpu *cpu, uint64_t lin);
void emu_swapgs(struct emu_cpu *cpu);
void emu_clts(struct emu_cpu *cpu);
void emu_lmsw(struct emu_cpu *cpu, uint16_t val);
void emu_far_jmp(struct emu_cpu *cpu, uint16_t sel, uint64_t off);
void emu_far_call(struct emu_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize, uint64_t next);
void emu_far_ret(struct emu_cpu *cpu, unsigned opsize, uint16_t pop_extra);
void emu_iret(struct emu_cpu *cpu, unsigned opsize);
void emu_syscall(struct emu_cpu *cpu, uint64_t next);
void emu_sysret(struct emu_cpu *cpu, unsigned opsize);
void emu_sysenter(struct emu_cpu *cpu);
void emu_sysexit(struct emu_cpu *cpu, unsigned opsize);
void emu_hlt(struct emu_cpu *cpu); /* CPL check; state = HALTED, leaves the loop */
void emu_cli(struct emu_cpu *cpu);
void emu_sti(struct emu_cpu *cpu); /* sets the interrupt shadow */
void emu_popf(struct emu_cpu *cpu, uint64_t val, unsigned opsize); /* CPL/IOPL rules */
/* IOPL / TSS I/O bitmap permission for size bytes at port: #GP(0) if denied.
 * INS/OUTS check it before touching memory; emu_io_in/out check it too. */
void emu_io_check(struct emu_cpu *cpu, uint16_t port, unsigned size);
uint64_t emu_io_in(struct emu_cpu *cpu, uint16_t port, unsigned size); /* IOPL/TSS bitmap */
void emu_io_out(struct emu_cpu *cpu, uint16_t port, unsigned size, uint64_t val);
/* LAR/LSL/VERR/VERW: return false (ZF=0) when the selector does not qualify. */
bool emu_lar(struct emu_cpu *cpu, uint16_t sel, uint32_t *out);
bool emu_lsl(struct emu_cpu *cpu, uint16_t sel, uint32_t *out);
bool emu_verr(struct emu_cpu *cpu, uint16_t sel, bool write);
void emu_xsetbv(struct emu_cpu *cpu, uint32_t index, uint64_t val);
uint64_t emu_xgetbv(struct emu_cpu *cpu, uint32_t index);

/* ---- core: blocks and the dispatch loop ------------------------------- */

/* Runs blocks until cpu->events is non-zero or cpu->stop is set; handles
 * faults (setjmp/longjmp + emu_exception_deliver()). Called by
 * emu_cpu_run() (system) with the vCPU runnable. */
void emu_exec(struct emu_cpu *cpu);

/* Profiling tables (prof.c, emu.h "Profiling"): the profiled dispatch
 * loop adds count to key's entry. */
struct emu_prof_slot {
	uint64_t key, count;
};
struct emu_prof {
	struct emu_prof_slot handlers[EMU_PROF_HANDLER_SLOTS];
	struct emu_prof_slot rips[EMU_PROF_RIP_SLOTS];
	uint64_t handlers_other, rips_other;
};
void emu_prof_add(struct emu_prof_slot *tab, unsigned nslots, uint64_t *other, uint64_t key,
		  uint64_t count);

int emu_blocks_new(struct emu_vm *vm);
void emu_blocks_free(struct emu_vm *vm);
/* A write of len bytes at gpa touched a page marked as code: drop the
 * blocks decoded from it (safe while one of them is executing). */
void emu_code_written(struct emu_cpu *cpu, uint64_t gpa, unsigned len);

/* ---- irq layer --------------------------------------------------------- */

/* The LAPIC timer's bus clock: 1 GHz, as KVM's. CPUID 0x40000010 EBX must
 * advertise it (vmm/arch/x86/cpuid.h VS_APIC_BUS_KHZ has the same value). */
#define EMU_APIC_BUS_KHZ 1000000

/* emu_lapic_new() publishes cpu->lapic (needs cpu->vm, cpu->index). The
 * irqchip's timer thread walks the LAPICs that exist; emu_lapic_free()
 * stops that thread first, so either creation or teardown order is safe.
 * vm->irq_lock is initialized and destroyed by the system layer. */
int emu_lapic_new(struct emu_cpu *cpu);
void emu_lapic_free(struct emu_lapic *lapic);
void emu_lapic_reset(struct emu_lapic *lapic); /* INIT: registers, keeps base and ID */
/* xAPIC page accesses (offset within the 4 KiB page; reads return the
 * 32-bit register shifted by off & 3, writes count only when 16-byte
 * aligned) and x2APIC MSRs 0x800-0x8ff, plus IA32_TSC_DEADLINE (0x6e0).
 * emu_lapic_msr returns false for an MSR access that must #GP. */
uint32_t emu_lapic_mmio_read(struct emu_lapic *lapic, uint32_t off);
void emu_lapic_mmio_write(struct emu_lapic *lapic, uint32_t off, uint32_t val);
bool emu_lapic_msr_read(struct emu_lapic *lapic, uint32_t index, uint64_t *val);
bool emu_lapic_msr_write(struct emu_lapic *lapic, uint32_t index, uint64_t val);
uint64_t emu_lapic_get_base(struct emu_lapic *lapic);
bool emu_lapic_set_base(struct emu_lapic *lapic, uint64_t val); /* false: #GP */
void emu_lapic_set_tpr(struct emu_lapic *lapic, uint8_t cr8); /* MOV CR8 */
uint8_t emu_lapic_get_tpr(struct emu_lapic *lapic);
/* Highest-priority deliverable vector (IRR above PPR), the PIC's vector
 * through LINT0 ExtINT, or -1. ack moves it to ISR (or acks the PIC). */
int emu_lapic_pending(struct emu_lapic *lapic);
void emu_lapic_ack(struct emu_lapic *lapic, int vector);
bool emu_lapic_nmi_pending(struct emu_lapic *lapic); /* consumes it */
/* Deliver to the vCPUs a destination selects (IOAPIC, MSI, IPIs). Sets
 * the target's EMU_EV_IRQ/INIT/SIPI/NMI and wakes it. */
void emu_irq_deliver(struct emu_vm *vm, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
		     bool level, unsigned from_cpu);
/* Host ns of this vCPU's next LAPIC timer event, or UINT64_MAX; the timer
 * check at block boundaries and the HLT sleep use it. */
uint64_t emu_lapic_deadline(struct emu_lapic *lapic);
void emu_lapic_timer_check(struct emu_lapic *lapic, uint64_t now_ns);
void emu_ioapic_mmio(struct emu_vm *vm, uint64_t off, bool write, void *data, unsigned size);
/* Claims ports of the PIC (0x20/0x21/0xA0/0xA1/ELCR 0x4D0/0x4D1) and PIT
 * (0x40-0x43, 0x61); returns false for other ports. */
bool emu_legacy_pio(struct emu_vm *vm, uint16_t port, bool write, void *data, unsigned size);
int emu_irqchip_new(struct emu_vm *vm);
void emu_irqchip_free(struct emu_vm *vm);
/* The PIC's pending vector for LINT0 ExtINT (and its INTA), or -1. */
int emu_pic_intack(struct emu_vm *vm, bool peek);

/* Time: TSC from CLOCK_MONOTONIC scaled to vm->tsc_khz; kvm-clock MSRs. */
uint64_t emu_host_ns(void);
uint64_t emu_tsc_at(struct emu_vm *vm, uint64_t host_ns);
uint64_t emu_tsc_to_ns(struct emu_vm *vm, uint64_t tsc);
bool emu_kvmclock_wrmsr(struct emu_cpu *cpu, uint32_t index, uint64_t val); /* false: #GP */

#endif
