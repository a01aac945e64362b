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
struct vs_console;

#define VS_MAX_VCPUS 254 /* APIC IDs 0..253; 254 is... the IOAPIC takes ncpus */

struct vs_vcpu {
	struct vs_vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
};

struct vs_vm {
	struct vs_vm_config cfg;
	int kvm_fd;
	int vm_fd;
	struct vs_guest_mem *mem;
	struct vs_iobus pio, mmio;
	struct vs_power power;
	struct vs_serial *serial;
	struct vs_rtc *rtc;
	struct vs_pci_bus *pci;
	struct vs_bzimage bz;
	uint8_t *kernel_file; /* owns the bytes bz points into */
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
};

/* kvm.c */
int vs_kvm_open(struct vs_vm *vm, struct vs_err **err);
int vs_kvm_setup_vm(struct vs_vm *vm, struct vs_err **err);
void vs_kvm_irq_line(void *ctx, unsigned gsi, int level);

/* vcpu.c */
int vs_vcpu_create(struct vs_vm *vm, struct vs_vcpu *vcpu, unsigned id, struct vs_err **err);
int vs_vcpu_setup_boot(struct vs_vcpu *vcpu, const struct vs_boot_plan *plan,
		       struct vs_err **err);
void vs_vcpu_destroy(struct vs_vcpu *vcpu);
void *vs_vcpu_thread(void *arg);

/* vm.c */
void vs_vm_request_stop(struct vs_vm *vm, enum vs_stop_reason why, int status,
			const char *detail);

#endif
