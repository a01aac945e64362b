/* Fault injection through the vs_sys table into a real /dev/kvm: KVM ioctls
 * failing midway through VM creation. Each must give its one-line message
 * and release everything (checked under ASan). Suite 'kvm': needs a usable
 * /dev/kvm (test-vm-faults.c has the cases that do not). */
#include "vmm/vm.h"
#include "vmm/sys.h"
#include "common/err.h"
#include "common/util.h"
#include "fault-kernel.h"
#include "vs-test.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
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

static struct vs_vm_config config(void)
{
	return (struct vs_vm_config){ .kernel = kernel_path,
				      .cmdline = "",
				      .cpus = 1,
				      .accel = VS_ACCEL_KVM,
				      .mem = 64 * VS_MIB,
				      .out_fd = 1 };
}

static void expect_fail(const struct vs_vm_config *cfg, int code, const char *needle)
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

static void test_ioctl_failures(void **state)
{
	static const struct {
		unsigned long req;
		const char *needle;
	} cases[] = {
		{ KVM_CREATE_VM, "KVM_CREATE_VM" },
		{ KVM_CREATE_IRQCHIP, "KVM_CREATE_IRQCHIP" },
		{ KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION" },
		{ KVM_CREATE_VCPU, "KVM_CREATE_VCPU" },
		{ KVM_SET_CPUID2, "setting CPUID of vCPU 0" },
		{ KVM_SET_SREGS, "vCPU 0: setting segment registers" },
		{ KVM_SET_REGS, "vCPU 0: setting registers" },
	};
	struct vs_vm_config cfg = config();

	(void)state;
	for (size_t i = 0; i < VS_ARRAY_SIZE(cases); i++) {
		fail_ioctl = cases[i].req;
		fail_errno = EMFILE;
		expect_fail(&cfg, -EMFILE, cases[i].needle);
	}
	fail_ioctl = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioctl_failures),
	};

	if (access("/dev/kvm", R_OK | W_OK) != 0)
		return vs_test_skip_all("/dev/kvm is not usable here");
	return vs_test_run("kvm-faults", tests, VS_ARRAY_SIZE(tests), NULL, setup, teardown);
}
