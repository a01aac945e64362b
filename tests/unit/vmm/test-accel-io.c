/* The accelerators' device verbs: ioeventfds (the emu table and KVM's, the
 * latter signalled by a real guest write under /dev/kvm), MSI delivery and
 * the DMA hook reaching the accelerator. kvm cases skip without /dev/kvm. */
#include "vmm/accel.h"
#include "vmm/dma.h"
#include "vmm/internal.h"
#include "vmm/ioevent.h"
#include "vmm/memory.h"
#include "emu/emu.h"
#include "hw/iobus.h"

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
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

static uint64_t counter(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void test_table(void **state)
{
	struct vs_ioevent_table *t;
	int a = eventfd(0, EFD_NONBLOCK), b = eventfd(0, EFD_NONBLOCK);
	struct vs_ioeventfd any = { .addr = 0x6000, .len = 2, .flags = VS_IOEVENTFD_PIO, .fd = a };
	struct vs_ioeventfd two = { .addr = 0xd0000000,
				    .len = 4,
				    .flags = VS_IOEVENTFD_DATAMATCH,
				    .datamatch = 2,
				    .fd = b };
	uint32_t v = 7;

	(void)state;
	assert_int_equal(vs_ioevent_table_new(&t), 0);
	assert_int_equal(vs_ioevent_add(t, &any), 0);
	assert_int_equal(vs_ioevent_add(t, &any), -EEXIST);
	assert_int_equal(vs_ioevent_add(t, &two), 0);
	any.len = 3;
	assert_int_equal(vs_ioevent_add(t, &any), -EINVAL);
	any.len = 2;
	/* wrong space, wrong length, wrong value: not consumed */
	assert_false(vs_ioevent_signal(t, false, 0x6000, &v, 2));
	assert_false(vs_ioevent_signal(t, true, 0x6000, &v, 4));
	assert_false(vs_ioevent_signal(t, false, 0xd0000000, &v, 4));
	assert_true(vs_ioevent_signal(t, true, 0x6000, &v, 2));
	assert_true(vs_ioevent_signal(t, true, 0x6000, &v, 2));
	assert_int_equal(counter(a), 2);
	v = 2;
	assert_true(vs_ioevent_signal(t, false, 0xd0000000, &v, 4));
	assert_int_equal(counter(b), 1);
	assert_int_equal(vs_ioevent_del(t, &two), 0);
	assert_int_equal(vs_ioevent_del(t, &two), -ENOENT);
	assert_false(vs_ioevent_signal(t, false, 0xd0000000, &v, 4));
	vs_ioevent_table_free(t);
	close(a);
	close(b);
}

static uint64_t written_gpa, written_len;

static void fake_mem_written(struct vs_vm *vm, uint64_t gpa, uint64_t len)
{
	(void)vm;
	written_gpa = gpa;
	written_len = len;
}

/* vs_dma_write reaches the accelerator's hook; a write outside RAM neither
 * copies nor reports. */
static void test_dma_reaches_accel(void **state)
{
	struct vs_accel_ops ops = { .name = "fake", .mem_written = fake_mem_written };
	struct vs_vm vm = { .accel = &ops };
	struct vs_guest_mem *mem;
	struct vs_dma dma;
	char buf[4] = "abc";

	(void)state;
	assert_int_equal(vs_guest_mem_new(1 << 20, &mem), 0);
	vm.mem = mem;
	vs_vm_dma(&vm, &dma);
	assert_int_equal(vs_dma_write(&dma, 0x1000, buf, 4), 0);
	assert_int_equal(written_gpa, 0x1000);
	assert_int_equal(written_len, 4);
	assert_memory_equal(vs_dma_ptr(&dma, 0x1000, 4), "abc", 4);
	written_len = 0;
	assert_int_equal(vs_dma_write(&dma, (1 << 20) - 2, buf, 4), -EFAULT);
	assert_int_equal(vs_dma_read(&dma, UINT64_MAX - 1, buf, 4), -EFAULT);
	assert_int_equal(written_len, 0);
	vs_guest_mem_free(mem);
}

#define RAM_BYTES 0x10000 /* the MMIO address 0xd0000 lies above it */

/* A real-mode guest at 0x1000: out 0x6000 (ioeventfd), a write to MMIO
 * 0xd0000000 (ioeventfd with datamatch), then an out to 0x6004 that exits. */
static const uint8_t guest_code[] = {
	0xba, 0x00, 0x60, /* mov dx, 0x6000 */
	0xb8, 0x01, 0x00, /* mov ax, 1 */
	0xee, /* out dx, al */
	0xb8, 0x00, 0xd0, /* mov ax, 0xd000 */
	0x8e, 0xc0, /* mov es, ax */
	0x66, 0xb8, 0x02, 0x00, 0x00, 0x00, /* mov eax, 2 */
	0x26, 0x66, 0xa3, 0x00, 0x00, /* mov es:[0], eax: gpa 0xd0000 */
	0xba, 0x04, 0x60, /* mov dx, 0x6004 */
	0xee, /* out dx, al */
	0xf4, /* hlt */
};

struct kvm_fixture {
	struct vs_vm vm;
	int vcpu;
	struct kvm_run *run;
	uint8_t *ram;
};

static int kvm_fixture_init(struct kvm_fixture *f)
{
	struct kvm_userspace_memory_region reg = { .memory_size = RAM_BYTES };
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = 0x1000, .rflags = 2 };

	memset(f, 0, sizeof(*f));
	f->vm.accel = &vs_accel_kvm;
	f->vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (f->vm.kvm_fd < 0)
		return -1;
	f->vm.vm_fd = ioctl(f->vm.kvm_fd, KVM_CREATE_VM, 0);
	assert_true(f->vm.vm_fd >= 0);
	assert_int_equal(ioctl(f->vm.vm_fd, KVM_CREATE_IRQCHIP, 0), 0);
	f->ram = mmap(NULL, reg.memory_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		      0);
	assert_true(f->ram != MAP_FAILED);
	reg.userspace_addr = (uintptr_t)f->ram;
	assert_int_equal(ioctl(f->vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &reg), 0);
	memcpy(f->ram + 0x1000, guest_code, sizeof(guest_code));
	f->vcpu = ioctl(f->vm.vm_fd, KVM_CREATE_VCPU, 0);
	assert_true(f->vcpu >= 0);
	f->run = mmap(NULL, (size_t)ioctl(f->vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0),
		      PROT_READ | PROT_WRITE, MAP_SHARED, f->vcpu, 0);
	assert_true(f->run != MAP_FAILED);
	assert_int_equal(ioctl(f->vcpu, KVM_GET_SREGS, &s), 0);
	s.cs.base = 0;
	s.cs.selector = 0;
	assert_int_equal(ioctl(f->vcpu, KVM_SET_SREGS, &s), 0);
	assert_int_equal(ioctl(f->vcpu, KVM_SET_REGS, &r), 0);
	return 0;
}

static void kvm_fixture_fini(struct kvm_fixture *f)
{
	close(f->vcpu);
	close(f->vm.vm_fd);
	close(f->vm.kvm_fd);
	munmap(f->ram, RAM_BYTES);
}

static void test_kvm_ioeventfd(void **state)
{
	struct kvm_fixture f;
	int a = eventfd(0, EFD_NONBLOCK), b = eventfd(0, EFD_NONBLOCK);
	struct vs_ioeventfd pio = { .addr = 0x6000, .len = 1, .flags = VS_IOEVENTFD_PIO, .fd = a };
	struct vs_ioeventfd mmio = {
		.addr = 0xd0000, .len = 4, .flags = VS_IOEVENTFD_DATAMATCH, .datamatch = 2, .fd = b
	};
	int exits = 0;

	(void)state;
	if (kvm_fixture_init(&f) < 0) {
		printf("# SKIP: no /dev/kvm (%s)\n", strerror(errno));
		skip();
	}
	assert_int_equal(f.vm.accel->ioeventfd_add(&f.vm, &pio), 0);
	assert_int_equal(f.vm.accel->ioeventfd_add(&f.vm, &pio), -EEXIST);
	assert_int_equal(f.vm.accel->ioeventfd_add(&f.vm, &mmio), 0);
	for (;;) {
		assert_int_equal(ioctl(f.vcpu, KVM_RUN, 0), 0);
		exits++;
		if (f.run->exit_reason == KVM_EXIT_IO && f.run->io.port == 0x6004)
			break;
		/* nothing else may reach user space: both writes were eventfds */
		fail_msg("exit %u (port 0x%x)", f.run->exit_reason, f.run->io.port);
	}
	assert_int_equal(exits, 1);
	assert_int_equal(counter(a), 1);
	assert_int_equal(counter(b), 1);
	assert_int_equal(f.vm.accel->ioeventfd_del(&f.vm, &mmio), 0);
	assert_int_equal(f.vm.accel->ioeventfd_del(&f.vm, &mmio), -ENOENT);
	/* the MSI verb takes a well-formed message without failing the VM */
	f.vm.accel->msi(&f.vm, 0xfee00000, 0x30);
	kvm_fixture_fini(&f);
	close(a);
	close(b);
}

/* emu: the same guest through the software CPU and emu-accel's exit path;
 * port 0x6004 is a device on the VM's bus that records the value and kicks
 * the vCPU out of emu_cpu_run. */
struct stop_port {
	struct vs_vcpu *vcpu;
	uint8_t last;
	int writes;
};

static void stop_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct stop_port *p = opaque;

	(void)off;
	(void)len;
	p->last = *(const uint8_t *)data;
	p->writes++;
	emu_cpu_kick(p->vcpu->emu);
}

static const struct vs_io_ops stop_ops = { .write = stop_write };

static void emu_start(struct vs_vcpu *vcpu)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = 0x1000, .rflags = 2 };

	assert_int_equal(vcpu->vm->accel->get_sregs(vcpu, &s), 0);
	s.cs.base = 0;
	s.cs.selector = 0;
	assert_int_equal(vcpu->vm->accel->set_sregs(vcpu, &s), 0);
	assert_int_equal(vcpu->vm->accel->set_regs(vcpu, &r), 0);
}

static void emu_run_until_stop(struct vs_vcpu *vcpu, struct stop_port *p)
{
	struct emu_exit ex;
	int n = p->writes;

	for (int i = 0; i < 100 && p->writes == n; i++) {
		assert_int_equal(emu_cpu_run(vcpu->emu, &ex), 0);
		assert_int_equal(ex.reason, EMU_EXIT_KICK);
	}
	assert_int_equal(p->writes, n + 1);
}

static void test_emu_ioeventfd_and_dma(void **state)
{
	struct vs_vm vm = { .accel = &vs_accel_emu, .cfg = { .cpus = 1 } };
	struct vs_vcpu vcpu = { .vm = &vm, .id = 0, .fd = -1 };
	struct stop_port port = { .vcpu = &vcpu };
	int a = eventfd(0, EFD_NONBLOCK), b = eventfd(0, EFD_NONBLOCK);
	struct vs_ioeventfd pio = { .addr = 0x6000, .len = 1, .flags = VS_IOEVENTFD_PIO, .fd = a };
	struct vs_ioeventfd mmio = {
		.addr = 0xd0000, .len = 4, .flags = VS_IOEVENTFD_DATAMATCH, .datamatch = 2, .fd = b
	};
	struct vs_dma dma;
	uint8_t *code;

	(void)state;
	vm.vcpus = &vcpu;
	vs_iobus_init(&vm.pio, "pio");
	vs_iobus_init(&vm.mmio, "mmio");
	assert_int_equal(vs_iobus_register(&vm.pio, 0x6004, 1, &stop_ops, &port), 0);
	assert_int_equal(vs_guest_mem_new(RAM_BYTES, &vm.mem), 0);
	assert_int_equal(vm.accel->vm_init(&vm, NULL), 0);
	assert_int_equal(vm.accel->vcpu_init(&vcpu, NULL), 0);
	assert_int_equal(vm.accel->ioeventfd_add(&vm, &pio), 0);
	assert_int_equal(vm.accel->ioeventfd_add(&vm, &mmio), 0);
	vs_vm_dma(&vm, &dma);
	assert_int_equal(vs_dma_write(&dma, 0x1000, guest_code, sizeof(guest_code)), 0);
	emu_start(&vcpu);
	emu_run_until_stop(&vcpu, &port);
	assert_int_equal(counter(a), 1);
	assert_int_equal(counter(b), 1);
	assert_int_equal(port.last, 2);

	/* A device rewrites the code the vCPU already ran (al = 2 -> 9): the
	 * software CPU must run the new bytes, not its decoded copy. */
	code = vs_dma_ptr(&dma, 0x1000, sizeof(guest_code));
	assert_int_equal(code[14], 2);
	assert_int_equal(vs_dma_write(&dma, 0x1000 + 14, (const uint8_t[]){ 9 }, 1), 0);
	emu_start(&vcpu);
	emu_run_until_stop(&vcpu, &port);
	assert_int_equal(port.last, 9);

	vm.accel->vcpu_destroy(&vcpu);
	vm.accel->vm_destroy(&vm);
	vs_guest_mem_free(vm.mem);
	close(a);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_dma_reaches_accel),
		cmocka_unit_test(test_kvm_ioeventfd),
		cmocka_unit_test(test_emu_ioeventfd_and_dma),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
