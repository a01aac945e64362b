/* Fault injection through the vs_sys table into a real /dev/kvm: KVM ioctls
 * failing midway through VM creation. Each must give its one-line message
 * and release everything (checked under ASan). Suite 'kvm': needs a usable
 * /dev/kvm (test-vm-faults.c has the cases that do not). */
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
