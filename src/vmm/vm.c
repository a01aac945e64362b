/* VM lifecycle: host checks, KVM VM, RAM, kernel loading, devices, vCPU
 * threads, and the main thread's loop (signals, console input, stop).
 *
 * Map: host checks - create (kvm, memory, boot, devices, vCPUs) - stop
 * requests - run loop - free. */
#include "vmm/vm.h"
#include "vmm/accel.h"
#include "vmm/console.h"
#include "vmm/internal.h"
#include "vmm/memory.h"
#include "vmm/sys.h"
#include "vmm/arch/x86/acpi.h"
#include "vmm/arch/x86/bootparams.h"
#include "vmm/arch/x86/layout.h"
#include "vmm/arch/x86/mptable.h"
#include "hw/pci.h"
#include "vmm/device.h"
#include "virtio/blk.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define CPUID_MAX_ENTRIES 256

static int check_host(const struct vs_vm_config *cfg, struct vs_err **err)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t total = vs_host_mem_total();

	if (cfg->cpus == 0)
		return vs_err_set(err, -EINVAL, "--cpus must be at least 1");
	if (cfg->cpus > VS_MAX_VCPUS)
		return vs_err_set(err, -EINVAL, "--cpus %u is above the limit of %d", cfg->cpus,
				  VS_MAX_VCPUS);
	if (ncpu > 0 && cfg->cpus > (unsigned)ncpu && !cfg->overcommit)
		return vs_err_set(
			err, -EINVAL,
			"--cpus %u is more than this host's %ld CPUs (every VM would slow down); add --overcommit to allow it",
			cfg->cpus, ncpu);
	if (cfg->mem < VS_X86_MIN_MEM)
		return vs_err_set(err, -EINVAL, "--mem must be at least %llu MiB",
				  VS_X86_MIN_MEM / VS_MIB);
	if (cfg->mem > total)
		return vs_err_set(err, -ENOMEM,
				  "--mem %llu MiB is more than this host's %llu MiB of RAM",
				  (unsigned long long)(cfg->mem / VS_MIB),
				  (unsigned long long)(total / VS_MIB));
	return 0;
}

enum vs_accel vs_accel_resolve(enum vs_accel want, const char **why)
{
	const char *w;
	enum vs_accel a = VS_ACCEL_EMU;

	if (want == VS_ACCEL_KVM) {
		w = "--accel kvm";
		a = VS_ACCEL_KVM;
	} else if (want == VS_ACCEL_EMU) {
		w = "--accel emu";
	} else if (!vs_host_has_hw_virt()) {
		w = "auto: the host CPU has no vmx/svm, so its KVM (e.g. the PVM backend) "
		    "cannot run an unmodified kernel's CPL0 code at speed";
	} else if (access("/dev/kvm", R_OK | W_OK) != 0) {
		w = "auto: the host CPU has vmx/svm but /dev/kvm is not usable here";
	} else {
		w = "auto: the host CPU has vmx/svm and /dev/kvm is usable";
		a = VS_ACCEL_KVM;
	}
	if (why)
		*why = w;
	return a;
}

static const struct vs_accel_ops *pick_accel(const struct vs_vm_config *cfg)
{
	return vs_accel_resolve(cfg->accel, NULL) == VS_ACCEL_EMU ? &vs_accel_emu : &vs_accel_kvm;
}

static int get_supported_cpuid(struct vs_vm *vm, struct vs_err **err)
{
	int r;

	vm->cpuid_max = CPUID_MAX_ENTRIES;
	vm->cpuid = xzalloc(sizeof(*vm->cpuid) + vm->cpuid_max * sizeof(vm->cpuid->entries[0]));
	vm->cpuid->nent = vm->cpuid_max - 8; /* room for the leaves we add */
	r = vm->accel->supported_cpuid(vm, vm->cpuid, err);
	return r < 0 ? r : 0;
}

/* The MP table (0xF0000) and the ACPI tables (0xE0000), which describe the
 * same machine; the zero page gets the RSDP's address too (boot protocol
 * 2.14 acpi_rsdp_addr; older kernels find it by scanning the BIOS area). */
static int write_firmware_tables(struct vs_vm *vm, struct vs_err **err)
{
	size_t len = VS_X86_BIOS_END - VS_X86_BIOS_START;
	size_t acpi_len = VS_X86_BIOS_START - VS_X86_ACPI_START;
	uint8_t *bios = vs_guest_mem_ptr(vm->mem, VS_X86_BIOS_START, len);
	uint8_t *acpi = vs_guest_mem_ptr(vm->mem, VS_X86_ACPI_START, acpi_len);
	uint16_t *ebda_seg = vs_guest_mem_ptr(vm->mem, VS_X86_BDA_EBDA_SEG, 2);
	uint8_t *zp = vs_guest_mem_ptr(vm->mem, VS_X86_ZERO_PAGE, VS_ZP_SIZE);
	uint64_t rsdp = VS_X86_ACPI_START;

	if (!bios || !acpi || !ebda_seg || !zp)
		return vs_err_set(err, -ENOMEM, "guest memory too small for firmware tables");
	*ebda_seg = VS_X86_EBDA >> 4;
	if (vs_mptable_build(bios, len, VS_X86_BIOS_START, vm->cfg.cpus) < 0)
		return vs_err_set(err, -ENOSPC, "MP table does not fit for %u vCPUs", vm->cfg.cpus);
	if (vs_acpi_build(acpi, acpi_len, VS_X86_ACPI_START, vm->cfg.cpus) < 0)
		return vs_err_set(err, -ENOSPC, "ACPI tables do not fit for %u vCPUs",
				  vm->cfg.cpus);
	memcpy(zp + VS_ZP_ACPI_RSDP_ADDR, &rsdp, sizeof(rsdp));
	return 0;
}

static void power_request(void *ctx, enum vs_power_event ev, int status)
{
	enum vs_stop_reason why = ev == VS_POWER_EXIT  ? VS_STOP_EXIT_DEVICE :
				  ev == VS_POWER_RESET ? VS_STOP_RESET :
				  ev == VS_POWER_PANIC ? VS_STOP_CRASH :
							 VS_STOP_POWEROFF;

	vs_vm_request_stop(ctx, why, status,
			   ev == VS_POWER_PANIC ? "the guest kernel panicked (pvpanic)" : NULL);
}

/* The PC devices every VM has, then --device and --disk (device.h); each
 * realize names itself in its error message. */
static int create_devices(struct vs_vm *vm, struct vs_err **err)
{
	static const char *const pc[] = { "serial", "rtc",     "pci-host",
					  "legacy", "acpi-pm", "pvpanic" };
	int r;

	vs_iobus_init(&vm->pio, "pio");
	vs_iobus_init(&vm->mmio, "mmio");
	vm->power = (struct vs_power){ power_request, vm };
	for (unsigned i = 0; i < VS_ARRAY_SIZE(pc); i++)
		if ((r = vs_vm_device_add(vm, pc[i], NULL, err)) < 0)
			return r;
	if ((r = vs_vm_devices_add_config(vm, err)) < 0)
		return r;
	return vs_vm_disks_add(vm, err); /* virtio/blk.h: vda, vdb, ... */
}

static int create_vcpus(struct vs_vm *vm, const struct vs_boot_plan *plan, struct vs_err **err)
{
	int r;

	vm->vcpus = xzalloc(vm->cfg.cpus * sizeof(*vm->vcpus));
	for (unsigned i = 0; i < vm->cfg.cpus; i++) {
		vm->vcpus[i].fd = -1;
		vm->nvcpus = i + 1;
		if ((r = vs_vcpu_create(vm, &vm->vcpus[i], i, err)) < 0)
			return r;
		if ((r = vs_vcpu_setup_boot(&vm->vcpus[i], plan, err)) < 0)
			return r;
	}
	return 0;
}

/* VS_MEM_AUTO: huge pages when a disk's data bypasses the host page cache
 * (cache=none, directsync), whose O_DIRECT transfers into guest RAM are
 * 2-3x faster into huge pages here (memory.h); else 4 KiB pages, whose
 * first touch costs less. */
static enum vs_mem_backing mem_backing(const struct vs_vm_config *cfg)
{
	if (cfg->mem_backing != VS_MEM_AUTO)
		return (enum vs_mem_backing)cfg->mem_backing;
	for (unsigned i = 0; i < cfg->ndisks; i++)
		if (cfg->disks[i].cache == VS_DISK_CACHE_NONE ||
		    cfg->disks[i].cache == VS_DISK_CACHE_DIRECTSYNC)
			return VS_MEM_ANON_THP;
	return VS_MEM_ANON;
}

int vs_vm_create(const struct vs_vm_config *cfg, struct vs_vm **out, struct vs_err **err)
{
	struct vs_vm *vm;
	struct vs_boot_plan plan;
	int r;

	if ((r = check_host(cfg, err)) < 0)
		return r;
	vm = xzalloc(sizeof(*vm));
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->accel = pick_accel(cfg);
	pthread_mutex_init(&vm->stop_lock, NULL);
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->wake_fd < 0) {
		r = vs_err_setsys(err, -errno, "eventfd");
		goto err_free;
	}
	r = vs_guest_mem_new_backed(VS_ALIGN_UP(cfg->mem, 4096), mem_backing(cfg), &vm->mem);
	if (r < 0) {
		vs_err_setsys(err, r, "cannot allocate %llu MiB of guest memory",
			      (unsigned long long)(cfg->mem / VS_MIB));
		goto err_free;
	}
	if ((r = vs_vm_load_kernel(vm, &plan, err)) < 0 ||
	    (r = write_firmware_tables(vm, err)) < 0 || (r = vm->accel->vm_init(vm, err)) < 0 ||
	    (r = get_supported_cpuid(vm, err)) < 0 || (r = create_devices(vm, err)) < 0 ||
	    (r = create_vcpus(vm, &plan, err)) < 0)
		goto err_free;
	*out = vm;
	return 0;
err_free:
	vs_vm_free(vm);
	return r;
}

const char *vs_vm_warning(const struct vs_vm *vm)
{
	if (vm->accel != &vs_accel_kvm || vs_host_has_hw_virt() ||
	    vs_bzimage_is_testkernel(&vm->bz))
		return NULL;
	return "this host's KVM has no hardware virtualization (no vmx/svm); an unmodified kernel "
	       "runs its CPL0 code emulated at about 2 MIPS and will boot extremely slowly";
}

#define RESET_AS_CRASH                                  \
	"the guest rebooted before its command exited " \
	"(kernel panic? the kit's kernel reboots on panic)"

void vs_vm_request_stop(struct vs_vm *vm, enum vs_stop_reason why, int status, const char *detail)
{
	uint64_t one = 1;

	if (why == VS_STOP_RESET && vm->cfg.reset_is_crash) {
		why = VS_STOP_CRASH;
		detail = RESET_AS_CRASH;
	}
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->result.reason == VS_STOP_NONE) {
		vm->result.reason = why;
		vm->result.status = status;
		if (detail)
			snprintf(vm->result.detail, sizeof(vm->result.detail), "%s", detail);
	}
	atomic_store(&vm->stopping, true);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->accel->vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_unlock(&vm->stop_lock);
	if (write(vm->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow from this few writes */
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Child side: close every fd but keep[0..n), wait for the parent to die. */
__attribute__((noreturn)) static void hold_until_parent_exits(int *keep, unsigned n, pid_t parent)
{
	unsigned lo = 0;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	qsort(keep, n, sizeof(keep[0]), cmp_int);
	for (unsigned i = 0; i <= n; i++) {
		unsigned hi = i < n ? (unsigned)keep[i] : ~0U;

		if (hi > lo)
			close_range(lo, hi - 1, 0);
		lo = hi + 1;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() == parent)
		for (;;)
			pause();
	_exit(0);
}

void vs_vm_release_after_exit(struct vs_vm *vm)
{
	unsigned n = 0;
	int *keep = xmalloc((vm->nvcpus + 2) * sizeof(*keep));
	pid_t parent = getpid(), pid;

	if (vm->vm_fd >= 0)
		keep[n++] = vm->vm_fd;
	if (vm->kvm_fd >= 0)
		keep[n++] = vm->kvm_fd;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].fd >= 0)
			keep[n++] = vm->vcpus[i].fd;
	if (n == 0) { /* emu: nothing slow to tear down in a kernel */
		free(keep);
		return;
	}
	pid = fork();
	if (pid == 0)
		hold_until_parent_exits(keep, n, parent);
	free(keep);
}

void vs_vm_free(struct vs_vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vs_vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vs_vm_devices_free(vm); /* device.h: before the buses and RAM they use */
	vm->accel->vm_destroy(vm);
	vs_guest_mem_free(vm->mem);
	free(vm->cpuid);
	free(vm->kernel_file);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	pthread_mutex_destroy(&vm->stop_lock);
	free(vm);
}
