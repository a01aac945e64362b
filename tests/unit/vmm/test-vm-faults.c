/* Fault injection through the vs_sys table without needing KVM: /dev/kvm
 * missing or not permitted, the config checks, a vCPU thread that cannot be
 * created (emu). Each must give its one-line message and release everything
 * (checked under ASan). test-kvm-faults.c (suite 'kvm') fails KVM ioctls. */
#include "vmm/vm.h"
#include "vmm/sys.h"
#include "common/err.h"
#include "common/util.h"
#include "fault-vm.h"
#include "vs-test.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int thread_fail_at = -1; /* the pthread_create call that fails */
static int thread_calls;

static int fake_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
			       void *arg)
{
	if (thread_calls++ == thread_fail_at)
		return EAGAIN;
	return pthread_create(t, attr, fn, arg);
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

/* Regression (issue 11 item 14): vs_vm_run() turned a failed pthread_create
 * into a guest result; its contract says -errno with *err set. The vCPUs
 * already started are stopped and joined. */
static void test_vcpu_thread_failure(void **state)
{
	struct vs_vm_config cfg = config();
	struct vs_vm_result res = { 0 };
	struct vs_err *err = NULL;
	struct vs_vm *vm = NULL;

	(void)state;
	cfg.accel = VS_ACCEL_EMU;
	cfg.cpus = 2;
	cfg.overcommit = true;
	fake_ops.pthread_create = fake_pthread_create;
	for (int fail = 0; fail < 2; fail++) {
		thread_calls = 0;
		thread_fail_at = fail;
		assert_int_equal(vs_vm_create(&cfg, &vm, &err), 0);
		assert_int_equal(vs_vm_run(vm, &res, &err), -EAGAIN);
		assert_non_null(err);
		assert_non_null(strstr(err->msg, "cannot start the thread of vCPU"));
		assert_int_equal(err->msg[strlen("cannot start the thread of vCPU ")], '0' + fail);
		vs_err_free(err);
		err = NULL;
		vs_vm_free(vm);
	}
	fake_ops.pthread_create = vs_sys_default.pthread_create;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_kvm),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_vcpu_thread_failure),
	};

	return vs_test_run("vm-faults", tests, VS_ARRAY_SIZE(tests), NULL, setup, teardown);
}
