/* The emu accelerator: vessel's software x86-64 CPU (DESIGN.md "emu").
 *
 * A VM is guest RAM regions (host memory the caller owns), N vCPUs, and the
 * interrupt hardware a guest needs without an in-kernel irqchip: a local
 * APIC per vCPU (xAPIC MMIO at 0xFEE00000 and x2APIC MSRs), an IOAPIC at
 * 0xFEC00000, the 8259 PIC pair, the 8254 PIT, and the kvm-clock MSRs.
 * Everything else (serial, PCI, RTC, virtio) stays with the caller, reached
 * through emu_io_ops on the vCPU's own thread.
 *
 * Register state crosses this interface in KVM's uapi structs (struct
 * kvm_regs, kvm_sregs, kvm_lapic_state, kvm_cpuid2) so src/vmm builds one
 * boot state for either accelerator; emu needs the header, never /dev/kvm.
 *
 * Threading: one host thread per vCPU calls emu_cpu_run(). emu_set_irq(),
 * emu_msi() and emu_cpu_kick() may be called from any thread. */
#ifndef VS_EMU_EMU_H
#define VS_EMU_EMU_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct emu_vm;
struct emu_cpu;

#define EMU_LAPIC_BASE 0xfee00000ULL
#define EMU_IOAPIC_BASE 0xfec00000ULL
#define EMU_MAX_CPUS 254
#define EMU_TSC_KHZ_DEFAULT 2000000 /* 2 GHz, advertised through CPUID 0x40000010 */
/* The decoded-block cache's default budget: a quarter of guest RAM, at
 * least 32 MiB, at most 512 MiB (docs/emu.md "Block cache"). A decoded
 * instruction takes ~14x the bytes of its code, so a quarter of RAM holds
 * the decoded form of far more code than a guest runs between flushes. */
#define EMU_CODE_CACHE_MIN (32ULL << 20)
#define EMU_CODE_CACHE_MAX (512ULL << 20)
#define EMU_CODE_CACHE_DEFAULT(ram_bytes)                            \
	((ram_bytes) / 4 < EMU_CODE_CACHE_MIN ? EMU_CODE_CACHE_MIN : \
	 (ram_bytes) / 4 > EMU_CODE_CACHE_MAX ? EMU_CODE_CACHE_MAX : \
						(ram_bytes) / 4)

struct emu_ram_region {
	uint64_t gpa;
	uint64_t size; /* multiple of 4096 */
	void *hva;
};

struct emu_io_ops {
	/* Port I/O the emu's own PIC, PIT and ELCR do not claim. size is 1, 2
	 * or 4; a read fills data. Called on the vCPU's thread, possibly from
	 * several vCPUs at once. */
	void (*pio)(void *ctx, unsigned cpu, uint16_t port, bool write, void *data, unsigned size);
	/* MMIO outside RAM, the LAPIC page and the IOAPIC page; size 1..8. */
	void (*mmio)(void *ctx, unsigned cpu, uint64_t gpa, bool write, void *data, unsigned size);
};

struct emu_vm_config {
	unsigned ncpus; /* 1..EMU_MAX_CPUS */
	const struct emu_ram_region *ram;
	unsigned nram;
	const struct emu_io_ops *io;
	void *io_ctx;
	uint32_t tsc_khz; /* 0: EMU_TSC_KHZ_DEFAULT */
	/* Budget of the decoded-block cache in bytes (blocks and their
	 * bookkeeping); reaching it flushes the whole cache, as TCG flushes its
	 * translation buffer. 0: EMU_CODE_CACHE_DEFAULT(guest RAM). */
	uint64_t code_cache_bytes;
	/* Tests: every exception ends emu_cpu_run() with EMU_EXIT_EXCEPTION
	 * (vector, error code, CR2; RIP at the faulting instruction) instead of
	 * being delivered through the guest's IDT. */
	bool exit_on_exception;
	/* Call-threaded host code for decoded blocks (docs/emu.md "Call
	 * threading"): EMU_JIT_DEFAULT is on unless the environment has
	 * VESSEL_EMU_JIT=0 (A/B comparisons); tests pick one explicitly. */
	enum emu_jit_mode { EMU_JIT_DEFAULT, EMU_JIT_ON, EMU_JIT_OFF } jit;
};

enum emu_exit_reason {
	EMU_EXIT_KICK, /* emu_cpu_kick() */
	EMU_EXIT_SHUTDOWN, /* triple fault; detail says which exceptions */
	EMU_EXIT_EXCEPTION, /* only with exit_on_exception */
	EMU_EXIT_ERROR, /* the emulator cannot go on; detail says why */
};

struct emu_exit {
	enum emu_exit_reason reason;
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;
	char detail[160];
};

/* Creates the VM. vCPU 0 is runnable (state from emu_cpu_set_*); the others
 * wait for INIT-SIPI-SIPI, as after a real reset. Returns 0 or -errno
 * (-EINVAL for a bad config, -ENOMEM). */
int emu_vm_new(const struct emu_vm_config *cfg, struct emu_vm **out);
void emu_vm_free(struct emu_vm *vm);
struct emu_cpu *emu_vm_cpu(struct emu_vm *vm, unsigned index);

/* The CPUID leaves emu implements, in KVM_GET_SUPPORTED_CPUID's form:
 * fills up to cpuid->nent entries and sets nent. Returns 0 or -E2BIG. The
 * caller shapes topology/hypervisor leaves (vmm/arch/x86/cpuid.c) and hands
 * the result to emu_cpu_set_cpuid(). */
int emu_supported_cpuid(struct kvm_cpuid2 *cpuid);
int emu_cpu_set_cpuid(struct emu_cpu *cpu, const struct kvm_cpuid2 *cpuid);

/* Register state, as KVM_GET/SET_REGS, SREGS, MSRS, LAPIC. set_sregs makes
 * the vCPU runnable (used for APs only in tests). set_msr returns -EINVAL
 * for an MSR emu does not have. */
void emu_cpu_get_regs(struct emu_cpu *cpu, struct kvm_regs *regs);
void emu_cpu_set_regs(struct emu_cpu *cpu, const struct kvm_regs *regs);
void emu_cpu_get_sregs(struct emu_cpu *cpu, struct kvm_sregs *sregs);
int emu_cpu_set_sregs(struct emu_cpu *cpu, const struct kvm_sregs *sregs);
int emu_cpu_get_msr(struct emu_cpu *cpu, uint32_t index, uint64_t *value);
int emu_cpu_set_msr(struct emu_cpu *cpu, uint32_t index, uint64_t value);
void emu_cpu_get_lapic(struct emu_cpu *cpu, struct kvm_lapic_state *state);
/* SSE state in FXSAVE layout (512 bytes: MXCSR at 24, XMM0-15 at 160);
 * set returns -EINVAL for an MXCSR with reserved bits. (simd.c) */
void emu_cpu_get_fxsave(struct emu_cpu *cpu, uint8_t out[512]);
int emu_cpu_set_fxsave(struct emu_cpu *cpu, const uint8_t in[512]);
/* x87/SSE state as KVM_GET/SET_FPU and KVM_GET/SET_XSAVE (standard XSAVE
 * format, components x87 and SSE); set returns -EINVAL for reserved MXCSR
 * bits or XSTATE_BV bits emu does not have. */
void emu_cpu_get_fpu(struct emu_cpu *cpu, struct kvm_fpu *fpu);
int emu_cpu_set_fpu(struct emu_cpu *cpu, const struct kvm_fpu *fpu);
void emu_cpu_get_xsave(struct emu_cpu *cpu, struct kvm_xsave *xsave);
int emu_cpu_set_xsave(struct emu_cpu *cpu, const struct kvm_xsave *xsave);
void emu_cpu_set_lapic(struct emu_cpu *cpu, const struct kvm_lapic_state *state);

/* Runs guest code on the calling thread until the vCPU is kicked, the
 * guest triple-faults, or the emulator meets something it cannot do. HLT
 * sleeps inside (until an interrupt, a timer or a kick). A guest can make
 * this return an exit but never crash or hang the process. Returns 0 with
 * *exit filled. */
int emu_cpu_run(struct emu_cpu *cpu, struct emu_exit *exit);

/* Makes emu_cpu_run() on cpu return EMU_EXIT_KICK soon (at the next
 * instruction-block boundary, or at once when halted). Sticky: a kick
 * before emu_cpu_run() makes it return at once. */
void emu_cpu_kick(struct emu_cpu *cpu);

/* Interrupt lines: GSI 0-23 go to the IOAPIC pins; 0-15 also to the PIC. */
void emu_set_irq(struct emu_vm *vm, unsigned gsi, int level);
/* A message-signalled interrupt (a write of data to addr in 0xFEExxxxx). */
void emu_msi(struct emu_vm *vm, uint64_t addr, uint32_t data);

/* Guest RAM written from outside the guest's CPUs (device DMA, the VMM
 * loading an image, a debugger): drops the decoded code of [gpa, gpa+len)
 * so the vCPUs run the new bytes. Any thread, after the write. Writes by
 * the vCPUs themselves need no call. */
void emu_vm_mem_written(struct emu_vm *vm, uint64_t gpa, uint64_t len);

/* Statistics for benchmarks and tests. */
struct emu_stats {
	uint64_t insns; /* guest instructions retired */
	uint64_t blocks_built; /* decoded blocks translated */
	uint64_t blocks_flushed; /* invalidated by writes to code pages */
	uint64_t cache_flushes; /* whole-cache flushes at the budget, by this vCPU */
	uint64_t insns_user; /* of insns, retired at CPL3 */
	uint64_t blocks_run; /* blocks dispatched */
	uint64_t lookups_slow; /* of blocks_run, missed the per-vCPU cache */
	uint64_t pio, mmio; /* port I/O and MMIO accesses sent to the VMM */
	uint64_t halts; /* HLT executed */
	uint64_t halt_ns; /* host time asleep in HLT */
	uint64_t irqs; /* external interrupts and NMIs delivered */
	uint64_t blocks_jit; /* of blocks_built, given host code (call threading) */
	uint64_t dispatches; /* of blocks_run, started by the dispatch loop; the
			      * others ran on from a predecessor's host code */
	uint64_t chains; /* direct jumps from a block's code into another's made */
};
void emu_cpu_get_stats(struct emu_cpu *cpu, struct emu_stats *stats);

/* Profiling (off by default, and then free: the dispatch loop is chosen
 * once per emu_cpu_run() iteration). On, each vCPU counts instructions
 * per handler function and per decoded block's guest RIP, in fixed-size
 * tables (an entry that finds its table full counts in EMU_PROF_OTHER).
 * emu_cpu_set_profile() before the first run; -ENOMEM if the tables
 * cannot be allocated. emu_cpu_profile() copies the n largest entries of
 * one table, largest first, and returns how many it copied (0 when off).
 * A handler's key is its address in this process. */
enum emu_prof_table { EMU_PROF_HANDLERS, EMU_PROF_GUEST_RIPS };
#define EMU_PROF_OTHER UINT64_MAX
#define EMU_PROF_HANDLER_SLOTS 1024u /* table sizes: at most this many entries + "other" */
#define EMU_PROF_RIP_SLOTS 262144u
struct emu_prof_entry {
	uint64_t key; /* handler address or block's guest RIP; EMU_PROF_OTHER */
	uint64_t count; /* instructions */
};
int emu_cpu_set_profile(struct emu_cpu *cpu, bool on);
size_t emu_cpu_profile(struct emu_cpu *cpu, enum emu_prof_table table, struct emu_prof_entry *out,
		       size_t n);

#endif
