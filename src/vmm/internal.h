/* VMM-private declarations shared by vm.c, vcpu.c, kvm.c and run.c. */
#ifndef VS_VMM_INTERNAL_H
#define VS_VMM_INTERNAL_H

#include "hw/iobus.h"
#include "hw/power.h"
#include "vmm/vm.h"
#include "vmm/arch/x86/bzimage.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vs_guest_mem;
struct vs_serial;
struct vs_rtc;
struct vs_pci_bus;
struct vs_acpi_pm;
struct vs_console;
struct vs_pause;
struct vs_accel_ops;
struct emu_vm;
struct emu_cpu;
struct vs_ioevent_table;
struct vs_ioeventfd;
struct vs_device;

/* vCPUs get APIC IDs 0..ncpus-1 and the MP table gives the IOAPIC the ID
 * ncpus (arch/x86/mptable.c); 255 is the xAPIC broadcast ID, so at most 254
 * vCPUs (IDs 0..253, IOAPIC 254). */
#define VS_MAX_VCPUS 254

struct vs_vcpu {
	struct vs_vm *vm;
	unsigned id;
	int fd; /* kvm: the vCPU fd, else -1 */
	struct kvm_run *run; /* kvm: the shared run area */
	size_t run_size;
	struct emu_cpu *emu; /* emu: the software vCPU */
	pthread_t thread;
	bool started;
};

struct vs_vm {
	struct vs_vm_config cfg;
	const struct vs_accel_ops *accel;
	int kvm_fd; /* kvm: /dev/kvm and the VM, else -1 */
	int vm_fd;
	struct emu_vm *emu; /* emu: the software CPU's VM */
	struct vs_ioevent_table *ioevents; /* emu: ioeventfds (kvm keeps its own) */
	struct vs_guest_mem *mem;
	struct vs_iobus pio, mmio;
	struct vs_power power;
	struct vs_serial *serial;
	struct vs_rtc *rtc;
	struct vs_pci_bus *pci;
	struct vs_acpi_pm *acpi_pm; /* devices-acpi.c */
	struct vs_device *devices; /* realized from the registry (device.h) */
	struct vs_bzimage bz;
	uint8_t *kernel_file; /* owns the bytes bz points into, until the kernel is loaded */
	size_t kernel_file_len;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, shaped per vCPU on a copy */
	unsigned cpuid_max;
	struct vs_vcpu *vcpus;
	unsigned nvcpus;

	/* Stop state: the first request wins; wake_fd tells the main loop. */
	pthread_mutex_t stop_lock;
	atomic_bool stopping;
	struct vs_vm_result result;
	int wake_fd;

	/* Pause (pause.c): allocated by the first vs_vm_pause(); vCPUs park at
	 * their loop's kick exit while it asks them to. */
	struct vs_pause *_Atomic pause;
};

/* kvm-vcpu.c: the kvm accelerator's vCPU operations (struct vs_accel_ops) */
int vs_kvm_vcpu_init(struct vs_vcpu *vcpu, struct vs_err **err);
void vs_kvm_vcpu_destroy(struct vs_vcpu *vcpu);
uint32_t vs_kvm_tsc_khz(struct vs_vcpu *vcpu);
int vs_kvm_set_cpuid(struct vs_vcpu *vcpu, struct kvm_cpuid2 *cpuid);
int vs_kvm_get_regs(struct vs_vcpu *vcpu, struct kvm_regs *regs);
int vs_kvm_set_regs(struct vs_vcpu *vcpu, const struct kvm_regs *regs);
int vs_kvm_get_sregs(struct vs_vcpu *vcpu, struct kvm_sregs *sregs);
int vs_kvm_set_sregs(struct vs_vcpu *vcpu, const struct kvm_sregs *sregs);
int vs_kvm_set_fpu(struct vs_vcpu *vcpu, const struct kvm_fpu *fpu);
int vs_kvm_set_msrs(struct vs_vcpu *vcpu, const struct kvm_msrs *msrs);
int vs_kvm_get_lapic(struct vs_vcpu *vcpu, struct kvm_lapic_state *lapic);
int vs_kvm_set_lapic(struct vs_vcpu *vcpu, const struct kvm_lapic_state *lapic);
void vs_kvm_vcpu_loop(struct vs_vcpu *vcpu);
void vs_kvm_vcpu_kick(struct vs_vcpu *vcpu);
/* kvm-io.c: MSI, ioeventfd and DMA verbs of the kvm accelerator */
void vs_kvm_msi(struct vs_vm *vm, uint64_t addr, uint32_t data);
void vs_kvm_mem_written(struct vs_vm *vm, uint64_t gpa, uint64_t len);
int vs_kvm_ioeventfd_add(struct vs_vm *vm, const struct vs_ioeventfd *ev);
int vs_kvm_ioeventfd_del(struct vs_vm *vm, const struct vs_ioeventfd *ev);

/* vcpu.c */
int vs_vcpu_create(struct vs_vm *vm, struct vs_vcpu *vcpu, unsigned id, struct vs_err **err);
int vs_vcpu_setup_boot(struct vs_vcpu *vcpu, const struct vs_boot_plan *plan, struct vs_err **err);
void vs_vcpu_destroy(struct vs_vcpu *vcpu);
void *vs_vcpu_thread(void *arg);
/* Stops the VM as a guest crash: "<what> on vCPU N at rip=0x...". */
void vs_vcpu_crash(struct vs_vcpu *vcpu, const char *what);
/* Port I/O and MMIO from any accelerator, to the VM's buses. */
void vs_vcpu_pio(struct vs_vcpu *vcpu, uint16_t port, bool write, void *data, unsigned size);
void vs_vcpu_mmio(struct vs_vcpu *vcpu, uint64_t gpa, bool write, void *data, unsigned size);

/* load.c: reads and places kernel and initrd (the initrd straight into
 * guest RAM), fills vm->bz and *plan. Returns 0 or -errno with *err set. */
int vs_vm_load_kernel(struct vs_vm *vm, struct vs_boot_plan *plan, struct vs_err **err);

/* pause.c: called by each accelerator's vCPU loop after a kick; parks the
 * vCPU while the VM is paused and returns at resume or stop. */
void vs_vcpu_pause_point(struct vs_vcpu *vcpu);

/* run.c: the vCPU threads, for run.c's loop and serve.c's. Start returns 0,
 * or -errno with *err set when a thread cannot be created (the threads
 * already started are stopped by vs_vm_stop_vcpus(), which the caller runs
 * in both cases). */
int vs_vm_start_vcpus(struct vs_vm *vm, struct vs_err **err);
void vs_vm_stop_vcpus(struct vs_vm *vm);

/* vm.c */
void vs_vm_request_stop(struct vs_vm *vm, enum vs_stop_reason why, int status, const char *detail);

#endif
