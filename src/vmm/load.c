/* Loading the kernel and initrd a VM boots: both files are opened without
 * blocking and type-checked (a FIFO would hang us), sized, and placed by the
 * boot plan before anything big is read. The kernel is read into memory
 * (the parsed header points into it); the initrd is read once, straight into
 * guest RAM at its planned address, so a too-large initrd is refused without
 * reading a byte of it and a good one costs no copy. */
#include "vmm/internal.h"
#include "vmm/accel.h"
#include "vmm/memory.h"
#include "vmm/arch/x86/vmlinux.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/file.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KERNEL_SIZE (512ULL << 20)
#define MAX_INITRD_SIZE (2ULL << 30)

static int read_kernel(struct vs_vm *vm, struct vs_err **err)
{
	const char *path = vm->cfg.kernel;
	_cleanup_close_ int fd = -1;
	uint64_t size;
	int r;

	if ((r = vs_input_open("kernel", path, O_RDONLY, &fd, &size, err)) < 0)
		return r;
	if (size > MAX_KERNEL_SIZE)
		return vs_err_set(err, -EFBIG, "kernel %s is %llu MiB; the limit is %llu MiB", path,
				  (unsigned long long)(size / VS_MIB), MAX_KERNEL_SIZE / VS_MIB);
	vm->kernel_file = xmalloc(size ? size : 1);
	vm->kernel_file_len = size;
	if ((r = vs_read_at(fd, vm->kernel_file, size, 0)) < 0)
		return vs_err_setsys(err, r, "cannot read kernel %s", path);
	return 0;
}

static int open_initrd(const char *path, int *fd, uint64_t *size, struct vs_err **err)
{
	int r = vs_input_open("initrd", path, O_RDONLY, fd, size, err);

	if (r < 0)
		return r;
	if (*size == 0)
		return vs_err_set(err, -EINVAL, "initrd %s is empty", path);
	if (*size > MAX_INITRD_SIZE)
		return vs_err_set(err, -EFBIG, "initrd %s is %llu MiB; the limit is %llu MiB", path,
				  (unsigned long long)(*size / VS_MIB), MAX_INITRD_SIZE / VS_MIB);
	return 0;
}

int vs_vm_load_kernel(struct vs_vm *vm, struct vs_boot_plan *plan, struct vs_err **err)
{
	_cleanup_close_ int initrd_fd = -1;
	uint64_t initrd_len = 0;
	uint8_t *rd;
	int r;

	if ((r = read_kernel(vm, err)) < 0)
		return r;
	r = vs_bzimage_parse(vm->kernel_file, vm->kernel_file_len, &vm->bz, err);
	if (r < 0)
		return vs_err_wrap(err, r, "%s", vm->cfg.kernel);
	if (vm->cfg.initrd && (r = open_initrd(vm->cfg.initrd, &initrd_fd, &initrd_len, err)) < 0)
		return r;
	r = vs_bzimage_plan(&vm->bz, vs_guest_mem_low(vm->mem), strlen(vm->cfg.cmdline), initrd_len,
			    plan, err);
	if (r < 0)
		return r;
	if (initrd_len) {
		rd = vs_guest_mem_ptr(vm->mem, plan->initrd_addr, initrd_len);
		if (!rd)
			return vs_err_set(err, -ENOMEM, "boot plan does not fit in guest memory");
		if ((r = vs_read_at(initrd_fd, rd, initrd_len, 0)) < 0)
			return vs_err_setsys(err, r, "cannot read initrd %s", vm->cfg.initrd);
	}
	if ((r = vs_bzimage_load(&vm->bz, plan, vm->mem, vm->cfg.cmdline, NULL, err)) < 0)
		return r;
	/* emu: the kernel's XZ payload unpacked here, not by the guest's
	 * decompressor (most of a stock kernel's boot under emu); the
	 * VESSEL_GUEST_DECOMPRESS environment variable keeps the guest's */
	if (vm->accel == &vs_accel_emu && !getenv("VESSEL_GUEST_DECOMPRESS")) {
		r = vs_vmlinux_unpack(&vm->bz, plan, vm->mem, &plan->entry, err);
		if (r < 0 && r != -ENOTSUP)
			return vs_err_wrap(err, r, "%s", vm->cfg.kernel);
	}
	/* The kernel is in guest memory now: the file's bytes (megabytes for a
	 * distribution kernel) need not stay resident for the VM's life. Only
	 * vm->bz's header copy and version string are used from here on. */
	free(vm->kernel_file);
	vm->kernel_file = NULL;
	vm->kernel_file_len = 0;
	vm->bz.file = vm->bz.kernel = NULL;
	vm->bz.file_len = vm->bz.kernel_len = 0;
	return 0;
}
