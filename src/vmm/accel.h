/* The accelerator interface (DESIGN.md "The VMM has an accelerator
 * interface"): what runs the guest's instructions. kvm (kvm.c, kvm-vcpu.c)
 * uses /dev/kvm; emu (emu-accel.c) uses vessel's software CPU in src/emu.
 * Devices never see which one runs: both dispatch port I/O and MMIO to the
 * VM's buses and take interrupt lines through irq_line, MSIs through msi.
 *
 * Register state crosses this interface in KVM's uapi structs, so the boot
 * state in vcpu.c is built once for both. */
#ifndef VS_VMM_ACCEL_H
#define VS_VMM_ACCEL_H

#include <linux/kvm.h>
#include <stdint.h>

struct vs_vm;
struct vs_vcpu;
struct vs_err;

#define VS_IOEVENTFD_PIO 1u /* a port, else an MMIO address */
#define VS_IOEVENTFD_DATAMATCH 2u

struct vs_ioeventfd {
	uint64_t addr;
	unsigned len;
	unsigned flags; /* VS_IOEVENTFD_* */
	uint64_t datamatch;
	int fd;
};

struct vs_accel_ops {
	const char *name;
	/* Creates the VM over vm->mem (memory map, interrupt controllers,
	 * timers). Returns 0 or -errno with *err set. */
	int (*vm_init)(struct vs_vm *vm, struct vs_err **err);
	void (*vm_destroy)(struct vs_vm *vm);
	/* Fills cpuid (capacity cpuid->nent) with what this accelerator can run. */
	int (*supported_cpuid)(struct vs_vm *vm, struct kvm_cpuid2 *cpuid, struct vs_err **err);
	int (*vcpu_init)(struct vs_vcpu *vcpu, struct vs_err **err);
	void (*vcpu_destroy)(struct vs_vcpu *vcpu);
	uint32_t (*tsc_khz)(struct vs_vcpu *vcpu); /* 0: unknown */
	/* Register access; each returns 0 or -errno. */
	int (*set_cpuid)(struct vs_vcpu *vcpu, struct kvm_cpuid2 *cpuid);
	int (*get_regs)(struct vs_vcpu *vcpu, struct kvm_regs *regs);
	int (*set_regs)(struct vs_vcpu *vcpu, const struct kvm_regs *regs);
	int (*get_sregs)(struct vs_vcpu *vcpu, struct kvm_sregs *sregs);
	int (*set_sregs)(struct vs_vcpu *vcpu, const struct kvm_sregs *sregs);
	int (*set_fpu)(struct vs_vcpu *vcpu, const struct kvm_fpu *fpu);
	/* Returns the number of MSRs set (stops at the first refused one). */
	int (*set_msrs)(struct vs_vcpu *vcpu, const struct kvm_msrs *msrs);
	int (*get_lapic)(struct vs_vcpu *vcpu, struct kvm_lapic_state *lapic);
	int (*set_lapic)(struct vs_vcpu *vcpu, const struct kvm_lapic_state *lapic);
	/* The vCPU thread's loop: runs the guest until vm->stopping, handling
	 * exits, and reports the end through vs_vm_request_stop(). */
	void (*vcpu_loop)(struct vs_vcpu *vcpu);
	/* Any thread: make vcpu_loop look at vm->stopping soon. */
	void (*vcpu_kick)(struct vs_vcpu *vcpu);
	/* Any thread: set the level of interrupt line gsi. */
	void (*irq_line)(struct vs_vm *vm, unsigned gsi, int level);
	/* Any thread: deliver a message-signalled interrupt (a 32-bit write of
	 * data to addr in 0xFEExxxxx, as a device's MSI-X entry says). */
	void (*msi)(struct vs_vm *vm, uint64_t addr, uint32_t data);
	/* Any thread: guest RAM [gpa, gpa+len) was written by a device (DMA);
	 * never called directly, devices use vmm/dma.h. NULL: nothing to do. */
	void (*mem_written)(struct vs_vm *vm, uint64_t gpa, uint64_t len);
	/* A guest write of len (1, 2, 4 or 8) bytes to addr (pio or mmio)
	 * signals the eventfd fd instead of exiting to the bus; with
	 * VS_IOEVENTFD_DATAMATCH only when the value equals datamatch.
	 * Returns 0, -EEXIST for a duplicate, -ENOSPC, or -errno. del
	 * removes exactly what add added; returns 0 or -ENOENT. */
	int (*ioeventfd_add)(struct vs_vm *vm, const struct vs_ioeventfd *ev);
	int (*ioeventfd_del)(struct vs_vm *vm, const struct vs_ioeventfd *ev);
};

extern const struct vs_accel_ops vs_accel_kvm;
extern const struct vs_accel_ops vs_accel_emu;

#endif
