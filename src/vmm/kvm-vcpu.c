/* The kvm accelerator, vCPU side: KVM_CREATE_VCPU and its run area,
 * register access through the KVM ioctls, and the KVM_RUN loop with its
 * exits (port I/O, MMIO, shutdown, system events, errors).
 *
 * Map: create/destroy - register access - exits - loop and kick. */
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "vmm/sys.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int vs_kvm_vcpu_init(struct vs_vcpu *vcpu, struct vs_err **err)
{
	struct vs_vm *vm = vcpu->vm;
	int r, size;

	r = vs_sys_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (void *)(long)vcpu->id);
	if (r < 0)
		return vs_err_setsys(err, r, "KVM_CREATE_VCPU %u", vcpu->id);
	vcpu->fd = r;
	size = vs_sys_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	vcpu->run = size > 0 ? vs_sys->mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
					    vcpu->fd, 0) :
			       MAP_FAILED;
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return vs_err_setsys(err, size < 0 ? size : -errno, "mapping vCPU %u's run area",
				     vcpu->id);
	}
	vcpu->run_size = size;
	return 0;
}

void vs_kvm_vcpu_destroy(struct vs_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

uint32_t vs_kvm_tsc_khz(struct vs_vcpu *vcpu)
{
	int r = vs_sys_ioctl(vcpu->fd, KVM_GET_TSC_KHZ, NULL);

	return r > 0 ? (uint32_t)r : 0;
}

int vs_kvm_set_cpuid(struct vs_vcpu *vcpu, struct kvm_cpuid2 *cpuid)
{
	return vs_sys_ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
}

int vs_kvm_get_regs(struct vs_vcpu *vcpu, struct kvm_regs *regs)
{
	return vs_sys_ioctl(vcpu->fd, KVM_GET_REGS, regs);
}

int vs_kvm_set_regs(struct vs_vcpu *vcpu, const struct kvm_regs *regs)
{
	return vs_sys_ioctl(vcpu->fd, KVM_SET_REGS, (void *)regs);
}

int vs_kvm_get_sregs(struct vs_vcpu *vcpu, struct kvm_sregs *sregs)
{
	return vs_sys_ioctl(vcpu->fd, KVM_GET_SREGS, sregs);
}

int vs_kvm_set_sregs(struct vs_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	return vs_sys_ioctl(vcpu->fd, KVM_SET_SREGS, (void *)sregs);
}

int vs_kvm_set_fpu(struct vs_vcpu *vcpu, const struct kvm_fpu *fpu)
{
	return vs_sys_ioctl(vcpu->fd, KVM_SET_FPU, (void *)fpu);
}

int vs_kvm_set_msrs(struct vs_vcpu *vcpu, const struct kvm_msrs *msrs)
{
	return vs_sys_ioctl(vcpu->fd, KVM_SET_MSRS, (void *)msrs);
}

int vs_kvm_get_lapic(struct vs_vcpu *vcpu, struct kvm_lapic_state *lapic)
{
	return vs_sys_ioctl(vcpu->fd, KVM_GET_LAPIC, lapic);
}

int vs_kvm_set_lapic(struct vs_vcpu *vcpu, const struct kvm_lapic_state *lapic)
{
	return vs_sys_ioctl(vcpu->fd, KVM_SET_LAPIC, (void *)lapic);
}

static void handle_io(struct vs_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		vs_vcpu_pio(vcpu, run->io.port, is_write, data, run->io.size);
}

static void handle_mmio(struct vs_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned len = VS_MIN(run->mmio.len, (uint32_t)sizeof(run->mmio.data));

	vs_vcpu_mmio(vcpu, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data, len);
}

static void handle_system_event(struct vs_vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vs_vm_request_stop(vcpu->vm, VS_STOP_POWEROFF, 0, NULL);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vs_vm_request_stop(vcpu->vm, VS_STOP_RESET, 0, NULL);
		break;
	default:
		vs_vcpu_crash(vcpu, "guest crash event");
	}
}

/* One exit. Returns false when the vCPU must stop. */
static bool handle_exit(struct vs_vcpu *vcpu)
{
	char what[96];

	switch (vcpu->run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		vs_vcpu_crash(vcpu, "guest triple fault (shutdown)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error (suberror %u%s)",
			 vcpu->run->internal.suberror,
			 vcpu->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				 ": instruction emulation failed" :
				 "");
		vs_vcpu_crash(vcpu, what);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "KVM entry failure (reason 0x%llx)",
			 (unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
		vs_vcpu_crash(vcpu, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit %u", vcpu->run->exit_reason);
		vs_vcpu_crash(vcpu, what);
		return false;
	}
}

void vs_kvm_vcpu_loop(struct vs_vcpu *vcpu)
{
	struct vs_vm *vm = vcpu->vm;
	sigset_t kick;

	/* Only this thread's kick signal is unblocked; SIGINT/SIGTERM go to the
	 * main thread's signalfd. */
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	while (!atomic_load(&vm->stopping)) {
		int r = vs_sys->ioctl(vcpu->fd, KVM_RUN, NULL);

		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vs_vcpu_pause_point(vcpu);
				continue; /* kicked, or an AP woken by INIT/SIPI */
			}
			vs_vm_request_stop(vm, VS_STOP_ERROR, -errno, "KVM_RUN failed");
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
}

/* immediate_exit makes a KVM_RUN that has not entered yet return at once;
 * the signal interrupts one that has. */
void vs_kvm_vcpu_kick(struct vs_vcpu *vcpu)
{
	if (vcpu->run)
		vcpu->run->immediate_exit = 1;
	if (vcpu->started)
		pthread_kill(vcpu->thread, SIGUSR1);
}
