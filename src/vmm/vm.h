/* A microVM: guest RAM, vCPU threads, the PC devices, a Linux kernel booted
 * through the 64-bit boot protocol. One VM per VMM process (DESIGN.md), but
 * nothing here is file-static, so tests may build several. */
#ifndef VS_VMM_VM_H
#define VS_VMM_VM_H

#include "vmm/arch/x86/cpuid.h"

#include <stdbool.h>
#include <stdint.h>

struct vs_err;
struct vs_vm;

enum vs_accel { VS_ACCEL_AUTO, VS_ACCEL_KVM, VS_ACCEL_EMU };

/* Why a VM stopped (the first request wins). */
enum vs_stop_reason {
	VS_STOP_NONE = 0,
	VS_STOP_EXIT_DEVICE, /* guest wrote its status to the exit port */
	VS_STOP_RESET, /* guest asked for a reset (reboot) */
	VS_STOP_POWEROFF, /* guest powered off */
	VS_STOP_CRASH, /* triple fault, emulation failure, internal error */
	VS_STOP_SIGNAL, /* SIGTERM/SIGINT on the VMM */
	VS_STOP_ERROR, /* the VMM itself failed */
	VS_STOP_USER, /* console escape (Ctrl-A x) */
};
#define VS_VM_MAX_DEVICES 16

/* A disk image of the VM: a virtio-blk device (virtio/blk.h), vda, vdb, ...
 * in order. */
/* --disk cache=, with QEMU's meanings (docs/virtio.md); writeback is 0. */
enum vs_disk_cache {
	VS_DISK_CACHE_WRITEBACK,
	VS_DISK_CACHE_NONE,
	VS_DISK_CACHE_UNSAFE,
	VS_DISK_CACHE_DIRECTSYNC,
};

/* --disk aio=, as QEMU's: the disk's asynchronous engine (block/aio.h);
 * auto (0) is io_uring where the host allows it, else threads. */
enum vs_disk_aio {
	VS_DISK_AIO_AUTO,
	VS_DISK_AIO_THREADS,
	VS_DISK_AIO_IO_URING,
};

struct vs_vm_disk {
	char *path; /* absolute in a stored spec */
	char *format; /* "raw" or "qcow2"; NULL (vm run without format=): probed */
	bool ro; /* read-only, and shares the image with other users */
	enum vs_disk_cache cache;
	enum vs_disk_aio aio;
};

#define VS_VM_MAX_DISKS 16

struct vs_vm_config {
	const char *kernel; /* bzImage path */
	const char *initrd; /* NULL: none */
	const char *cmdline;
	unsigned cpus;
	uint64_t mem; /* bytes */
	enum vs_cpu_model cpu_model;
	enum vs_accel accel;
	bool overcommit; /* allow more vCPUs than host CPUs */
	bool console_input; /* forward stdin to the serial port */
	/* Frame the forwarded stdin for the kit's init (vessel.stdin=pipe,
	 * guest/init/cmdline-abi.h): 0xff doubled, VS_STDIN_EOF at its end,
	 * nothing sent before the guest raises the UART's OUT1. */
	bool console_framed;
	/* The guest runs a command that ends the VM through the exit device
	 * (`-- COMMAND`): a reboot before that is a crash, not a clean end. The
	 * kit's kernel reboots on panic (panic=-1), so this is how a kernel
	 * panic, or the init dying, becomes status 124 instead of 0. */
	bool reset_is_crash;
	int out_fd; /* serial output; usually 1 */
	bool trace_boot; /* print the CLOCK_MONOTONIC time of vCPU 0's first KVM_RUN */
	unsigned mem_backing; /* enum vs_mem_backing (vmm/memory.h); 0: VS_MEM_AUTO */
	/* Registry devices to add, "TYPE[,OPTS]" (vmm/device.h), e.g. "virtio-rng". */
	const char *devices[VS_VM_MAX_DEVICES];
	unsigned ndevices;
	/* Disks, added after the devices (vs_vm_disks_add). */
	const struct vs_vm_disk *disks;
	unsigned ndisks;
};

/* How the VM ended, for the CLI to print and turn into an exit status. */
struct vs_vm_result {
	enum vs_stop_reason reason;
	int status; /* exit device value, or signal number for VS_STOP_SIGNAL */
	char detail[200]; /* one line for crashes and errors */
};

/* Validates the config against the host, creates the VM, loads the kernel.
 * Returns 0 or -errno with *err set (one line, for a person). */
int vs_vm_create(const struct vs_vm_config *cfg, struct vs_vm **out, struct vs_err **err);

/* Runs until the guest stops or a signal arrives; fills *res. Returns 0, or
 * -errno with *err set if the VMM itself failed before the guest ran. */
int vs_vm_run(struct vs_vm *vm, struct vs_vm_result *res, struct vs_err **err);

void vs_vm_free(struct vs_vm *vm);

/* Presses the ACPI power button (PM1_STS.PWRBTN_STS and the SCI,
 * hw/acpi-pm.h): what a stock Linux with the ACPI button driver (and
 * systemd-logind, acpid or a handler of KEY_POWER) powers off on. Any
 * thread; a guest that has not enabled the event sees it once it does. */
void vs_vm_power_button(struct vs_vm *vm);

/* Before vs_vm_free() when the process is about to exit: forks a child that
 * keeps only the VM's KVM file descriptors and exits when this process
 * (its creating thread) does, so the kernel's VM teardown (7-20 ms with an
 * in-kernel irqchip: SRCU grace periods) happens after our exit status is
 * out instead of before. Falls back silently to a normal teardown. */
void vs_vm_release_after_exit(struct vs_vm *vm);

/* A one-line warning for the person running the VM, or NULL: today, that an
 * unmodified kernel on a KVM without hardware virtualization (KVM-PVM)
 * will boot extremely slowly (vessel's test guest is exempt). */
const char *vs_vm_warning(const struct vs_vm *vm);

/* True when this host's KVM has hardware virtualization (vmx/svm): unmodified
 * kernels run at native speed. False on the PVM backend our machines have. */
bool vs_host_has_hw_virt(void);

/* The accelerator cfg->accel names; for auto (DESIGN.md): kvm when the host
 * CPU has vmx/svm and /dev/kvm is usable, else emu. *why (may be NULL)
 * gets a static one-line reason for `vessel vm run -v`. */
enum vs_accel vs_accel_resolve(enum vs_accel want, const char **why);

#endif
