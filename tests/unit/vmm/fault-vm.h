/* The fault harness shared by test-vm-faults.c and test-kvm-faults.c: a
 * vs_sys table whose open of /dev/kvm and one chosen ioctl fail on demand,
 * a minimal kernel on disk (fault-kernel.h), and the check that a failed
 * vs_vm_create() gives one line and no VM. Included once per test binary. */
#ifndef VS_TESTS_UNIT_VMM_FAULT_VM_H
#define VS_TESTS_UNIT_VMM_FAULT_VM_H

#include "vmm/vm.h"
#include "vmm/sys.h"
#include "common/err.h"
#include "common/util.h"
#include "fault-kernel.h"
#include "vs-test.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static char kernel_path[] = "/tmp/vessel-test-kernel-XXXXXX";
static int open_errno;
static unsigned long fail_ioctl;
static int fail_errno;

static int fake_open(const char *path, int flags)
{
	if (strcmp(path, "/dev/kvm") == 0 && open_errno) {
		errno = open_errno;
		return -1;
	}
	return vs_sys_default.open(path, flags);
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	if (req == fail_ioctl) {
		errno = fail_errno;
		return -1;
	}
	return vs_sys_default.ioctl(fd, req, arg);
}

static struct vs_sys_ops fake_ops;

static int setup(void **state)
{
	(void)state;
	assert_true(fault_kernel_write(kernel_path));
	fake_ops = vs_sys_default;
	fake_ops.open = fake_open;
	fake_ops.ioctl = fake_ioctl;
	vs_sys = &fake_ops;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vs_sys = &vs_sys_default;
	unlink(kernel_path);
	return 0;
}

__attribute__((unused)) static struct vs_vm_config config(void)
{
	return (struct vs_vm_config){ .kernel = kernel_path,
				      .cmdline = "",
				      .cpus = 1,
				      .accel = VS_ACCEL_KVM,
				      .mem = 64 * VS_MIB,
				      .out_fd = 1 };
}

__attribute__((unused)) static void expect_fail(const struct vs_vm_config *cfg, int code,
						const char *needle)
{
	struct vs_vm *vm = NULL;
	struct vs_err *err = NULL;

	assert_int_equal(vs_vm_create(cfg, &vm, &err), code);
	assert_null(vm);
	assert_non_null(err);
	if (!strstr(err->msg, needle))
		fail_msg("message '%s' lacks '%s'", err->msg, needle);
	assert_null(strchr(err->msg, '\n'));
	vs_err_free(err);
}

#endif
