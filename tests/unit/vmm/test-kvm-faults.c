/* Fault injection through the vs_sys table: /dev/kvm missing or not
 * permitted, KVM ioctls failing midway; plus the config checks. Each must
 * give its one-line message and release everything (checked under ASan). */
#include "vmm/vm.h"
#include "vmm/sys.h"
#include "vmm/arch/x86/bootparams.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char kernel_path[] = "/tmp/vessel-test-kernel-XXXXXX";
static int open_errno;
static unsigned long fail_ioctl;
static int fail_errno;
static int fake_kvm_fd = -1;

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
	uint8_t img[4096 + 4096] = { 0 };
	struct vs_setup_header h = {
		.setup_sects = 1, .boot_flag = VS_BOOT_FLAG, .header = VS_HDRS_MAGIC,
		.version = 0x020f, .loadflags = VS_LOADED_HIGH, .initrd_addr_max = 0x7fffffff,
		.xloadflags = VS_XLF_KERNEL_64, .cmdline_size = 255, .pref_address = 0x100000,
		.init_size = 0x10000,
	};
	int fd = mkstemp(kernel_path);

	(void)state;
	memcpy(img + VS_SETUP_HDR_OFFSET, &h, sizeof(h));
	img[0x201] = 0x6a;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, sizeof(img)), sizeof(img));
	close(fd);
	fake_ops = vs_sys_default;
	fake_ops.open = fake_open;
	fake_ops.ioctl = fake_ioctl;
	vs_sys = &fake_ops;
	fake_kvm_fd = open("/dev/kvm", O_RDWR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vs_sys = &vs_sys_default;
	unlink(kernel_path);
	if (fake_kvm_fd >= 0)
		close(fake_kvm_fd);
	return 0;
}

static struct vs_vm_config config(void)
{
	return (struct vs_vm_config){ .kernel = kernel_path, .cmdline = "", .cpus = 1,
				      .accel = VS_ACCEL_KVM,
				      .mem = 64 * VS_MIB, .out_fd = 1 };
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

static void test_no_kvm(void **state)
{
	struct vs_vm_config cfg = config();

	(void)state;
	open_errno = ENOENT;
	expect_fail(&cfg, -ENOENT, "/dev/kvm does not exist");
	open_errno = EACCES;
	expect_fail(&cfg, -EACCES, "no permission to open /dev/kvm");
	open_errno = 0;
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

static void test_config_errors(void **state)
{
	struct vs_vm_config cfg = config();
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	cfg.cpus = 0;
	expect_fail(&cfg, -EINVAL, "--cpus must be at least 1");
	cfg.cpus = (unsigned)ncpu + 1;
	expect_fail(&cfg, -EINVAL, "--overcommit");
	cfg = config();
	cfg.mem = 1ULL << 50;
	expect_fail(&cfg, -ENOMEM, "more than this host");
	cfg = config();
	cfg.kernel = "/nonexistent/vmlinuz";
	expect_fail(&cfg, -ENOENT, "cannot read kernel /nonexistent/vmlinuz");
	cfg = config();
	cfg.kernel = "/etc/hostname";
	expect_fail(&cfg, -ENOEXEC, "not a bzImage");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_kvm),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_ioctl_failures), /* last: needs /dev/kvm */
	};
	size_t n = VS_ARRAY_SIZE(tests);

	/* cmocka's TAP output marks skip() as "not ok", so leave the case out. */
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("# SKIP: test_ioctl_failures: /dev/kvm is not usable here\n");
		n--;
	}
	return _cmocka_run_group_tests("kvm-faults", tests, n, setup, teardown);
}
