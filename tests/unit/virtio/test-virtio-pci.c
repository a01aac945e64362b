/* The virtio modern PCI transport with virtio-rng behind it, driven the way
 * a guest driver does: find the device and its capabilities through config
 * mechanism #1, negotiate features, set up a queue in guest RAM, kick it,
 * and take the interrupt (INTx through the ISR, then MSI-X). Hostile rings
 * set DEVICE_NEEDS_RESET and a reset clears it. */
#include "virtio/pci.h"
#include "virtio/rng.h"
#include "hw/iobus.h"
#include "hw/pci-msix.h"
#include "vmm/memory.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define DESC 0x10000ull
#define AVAIL 0x11000ull
#define USED 0x12000ull
#define BUF 0x20000ull

static struct vs_iobus pio, mmio;
static struct vs_pci_bus *bus;
static struct vs_guest_mem *mem;
static struct vs_dma dma;
static struct vs_virtio_rng *rng;
static int line_level = -1, line_gsi = -1, nmsi;
static uint32_t msi_data;

static void irq_line(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	line_gsi = (int)gsi;
	line_level = level;
}

static void msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	assert_int_equal(addr, 0xfee00000);
	msi_data = data;
	nmsi++;
}

/* The accelerator's ioeventfd registrations, as the fake sees them. */
static uint64_t ioev_addr;
static int ioev_fd = -1, ioev_adds, ioev_dels;

static int fake_ioeventfd(void *ctx, uint64_t addr, unsigned len, int fd, bool add)
{
	(void)ctx;
	assert_int_equal(len, 2);
	if (add) {
		assert_int_equal(ioev_fd, -1); /* one queue: one registration at a time */
		ioev_addr = addr;
		ioev_fd = fd;
		ioev_adds++;
	} else {
		assert_int_equal(addr, ioev_addr);
		assert_int_equal(fd, ioev_fd);
		ioev_fd = -1;
		ioev_dels++;
	}
	return 0;
}

static bool with_io_thread;

static int setup(void **state)
{
	struct vs_virtio_pci_env env = { .mmio = &mmio,
					 .dma = &dma,
					 .irq_line = irq_line,
					 .msi = msi,
					 .bar_addr = VS_VIRTIO_PCI_MMIO_BASE };

	(void)state;
	vs_iobus_init(&pio, "pio");
	vs_iobus_init(&mmio, "mmio");
	assert_int_equal(vs_pci_bus_new(&bus), 0);
	assert_int_equal(vs_pci_bus_attach(bus, &pio, NULL), 0);
	assert_int_equal(vs_guest_mem_new(1 << 20, &mem), 0);
	dma = (struct vs_dma){ .mem = mem };
	env.pci = bus;
	if (with_io_thread)
		env.ioeventfd = fake_ioeventfd;
	ioev_fd = -1;
	ioev_adds = ioev_dels = 0;
	nmsi = 0;
	line_level = line_gsi = -1;
	return vs_virtio_rng_new(&env, &rng);
}

static int teardown(void **state)
{
	(void)state;
	vs_virtio_rng_free(rng);
	vs_pci_bus_free(bus);
	vs_guest_mem_free(mem);
	return 0;
}

static uint32_t cfg_rd(unsigned reg, unsigned len)
{
	uint32_t a = 0x80000000u | (1u << 11) | (reg & ~3u), v = 0;

	vs_iobus_access(&pio, 0xcf8, true, &a, 4);
	vs_iobus_access(&pio, 0xcfc + (reg & 3), false, &v, len);
	return v;
}

static void cfg_wr(unsigned reg, uint32_t v, unsigned len)
{
	uint32_t a = 0x80000000u | (1u << 11) | (reg & ~3u);

	vs_iobus_access(&pio, 0xcf8, true, &a, 4);
	vs_iobus_access(&pio, 0xcfc + (reg & 3), true, &v, len);
}

static uint64_t bar;

static uint32_t rd(uint64_t off, unsigned len)
{
	uint32_t v = 0;

	assert_true(vs_iobus_access(&mmio, bar + off, false, &v, len));
	return v;
}

static void wr(uint64_t off, uint32_t v, unsigned len)
{
	assert_true(vs_iobus_access(&mmio, bar + off, true, &v, len));
}

/* Walks the capability list for the virtio structure of cfg_type; returns
 * its BAR offset (and checks BAR 0), or -1. */
static long find_vcap(uint8_t type, unsigned *cap_at)
{
	for (unsigned off = cfg_rd(0x34, 1); off; off = cfg_rd(off + 1, 1)) {
		if (cfg_rd(off, 1) == 0x09 && cfg_rd(off + 3, 1) == type) {
			assert_int_equal(cfg_rd(off + 4, 1), 0);
			if (cap_at)
				*cap_at = off;
			return (long)cfg_rd(off + 8, 4);
		}
	}
	return -1;
}

static void test_discovery(void **state)
{
	unsigned notify_cap = 0;

	(void)state;
	assert_int_equal(cfg_rd(0, 4), 0x10441af4);
	assert_int_equal(cfg_rd(0x08, 1), 1); /* revision 1: modern */
	assert_int_equal(cfg_rd(0x2e, 2), 0x1044); /* subsystem id */
	assert_int_equal(cfg_rd(0x3d, 1), 1); /* INTA */
	assert_int_equal(cfg_rd(0x3c, 1), VS_PCI_INTX_GSI_BASE + 1);
	assert_true(cfg_rd(0x04, 2) & VS_PCI_CMD_MEM);
	bar = cfg_rd(0x10, 4) & ~0xfu;
	assert_int_equal(bar, VS_VIRTIO_PCI_MMIO_BASE);
	assert_int_equal(find_vcap(1, NULL), VS_VIRTIO_PCI_COMMON);
	assert_int_equal(find_vcap(2, &notify_cap), VS_VIRTIO_PCI_NOTIFY);
	assert_int_equal(cfg_rd(notify_cap + 16, 4), VS_VIRTIO_PCI_NOTIFY_MULT);
	assert_int_equal(find_vcap(3, NULL), VS_VIRTIO_PCI_ISR);
	assert_int_equal(find_vcap(4, NULL), -1); /* rng has no device config */
	/* moving the BAR moves the registers */
	cfg_wr(0x10, 0xd1000000, 4);
	assert_false(vs_iobus_access(&mmio, VS_VIRTIO_PCI_MMIO_BASE, false, &(uint32_t){ 0 }, 4));
	bar = 0xd1000000;
	assert_int_equal(rd(0x12, 2), 1); /* num_queues */
}

/* The driver side of §3.1.1 up to DRIVER_OK, with queue 0 of size 8. */
static void driver_init(uint64_t features)
{
	bar = cfg_rd(0x10, 4) & ~0xfu;
	wr(0x14, 0, 1);
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER, 1);
	wr(0x08, 0, 4);
	wr(0x0c, (uint32_t)features, 4);
	wr(0x08, 1, 4);
	wr(0x0c, (uint32_t)(features >> 32), 4);
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER | VS_VIRTIO_S_FEATURES_OK, 1);
	wr(0x16, 0, 2);
	assert_int_equal(rd(0x18, 2), 64);
	wr(0x18, 8, 2);
	wr(0x20, DESC, 4);
	wr(0x24, 0, 4);
	wr(0x28, AVAIL, 4);
	wr(0x2c, 0, 4);
	wr(0x30, USED, 4);
	wr(0x34, 0, 4);
	wr(0x1c, 1, 2);
	wr(0x14,
	   VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER | VS_VIRTIO_S_FEATURES_OK |
		   VS_VIRTIO_S_DRIVER_OK,
	   1);
}

static void *gpa(uint64_t a)
{
	return vs_guest_mem_ptr(mem, a, 1);
}

static void offer(uint16_t head, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vs_vring_desc d = { addr, len, flags, next };
	uint16_t *avail = gpa(AVAIL);

	memcpy((uint8_t *)gpa(DESC) + 16 * head, &d, sizeof(d));
	avail[2 + avail[1] % 8] = head;
	avail[1]++;
}

static void test_features(void **state)
{
	(void)state;
	bar = cfg_rd(0x10, 4) & ~0xfu;
	wr(0x00, 1, 4);
	assert_true(rd(0x04, 4) & 1); /* VERSION_1 (bit 32) */
	wr(0x00, 0, 4);
	assert_true(rd(0x04, 4) & (1u << VS_VIRTIO_F_EVENT_IDX));
	/* without VERSION_1 FEATURES_OK does not stick */
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER, 1);
	wr(0x08, 1, 4);
	wr(0x0c, 0, 4);
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER | VS_VIRTIO_S_FEATURES_OK, 1);
	assert_false(rd(0x14, 1) & VS_VIRTIO_S_FEATURES_OK);
	/* nor with a bit we did not offer */
	wr(0x14, 0, 1);
	wr(0x08, 1, 4);
	wr(0x0c, 1 | 0x80000000u, 4);
	wr(0x14, VS_VIRTIO_S_FEATURES_OK, 1);
	assert_false(rd(0x14, 1) & VS_VIRTIO_S_FEATURES_OK);
	driver_init(1ull << VS_VIRTIO_F_VERSION_1);
	assert_true(rd(0x14, 1) & VS_VIRTIO_S_FEATURES_OK);
	assert_int_equal(rd(0x1c, 2), 1);
}

static void test_entropy_intx(void **state)
{
	uint8_t *buf = gpa(BUF), zero[32] = { 0 };
	uint16_t *used = gpa(USED);

	(void)state;
	driver_init(1ull << VS_VIRTIO_F_VERSION_1);
	offer(0, BUF, 32, VS_VRING_DESC_F_WRITE, 0);
	wr(VS_VIRTIO_PCI_NOTIFY, 0, 2);
	assert_int_equal(used[1], 1);
	assert_int_equal(*(uint32_t *)((uint8_t *)used + 8), 32);
	assert_memory_not_equal(buf, zero, 32);
	/* INTx: raised on the routed GSI, the ISR says "queue", reading lowers */
	assert_int_equal(line_gsi, VS_PCI_INTX_GSI_BASE + 1);
	assert_int_equal(line_level, 1);
	assert_int_equal(rd(VS_VIRTIO_PCI_ISR, 1), 1);
	assert_int_equal(line_level, 0);
	assert_int_equal(rd(VS_VIRTIO_PCI_ISR, 1), 0);
}

static void test_entropy_msix(void **state)
{
	unsigned cap = 0;

	(void)state;
	for (unsigned off = cfg_rd(0x34, 1); off; off = cfg_rd(off + 1, 1))
		if (cfg_rd(off, 1) == VS_PCI_CAP_ID_MSIX)
			cap = off;
	assert_true(cap);
	assert_int_equal(cfg_rd(cap + 2, 2) & 0x7ff, 1); /* 2 vectors: config + queue */
	driver_init(1ull << VS_VIRTIO_F_VERSION_1 | 1ull << VS_VIRTIO_F_EVENT_IDX);
	cfg_wr(cap + 2, 0x8000, 2);
	wr(VS_VIRTIO_PCI_MSIX + 16 + 0, 0xfee00000, 4);
	wr(VS_VIRTIO_PCI_MSIX + 16 + 8, 0x4242, 4);
	wr(VS_VIRTIO_PCI_MSIX + 16 + 12, 0, 4);
	wr(0x16, 0, 2);
	wr(0x1a, 1, 2);
	assert_int_equal(rd(0x1a, 2), 1);
	wr(0x1a, 7, 2); /* no such vector: reads back NO_VECTOR */
	assert_int_equal(rd(0x1a, 2), VS_PCI_MSIX_NO_VECTOR);
	wr(0x1a, 1, 2);
	offer(0, BUF, 16, VS_VRING_DESC_F_WRITE, 0);
	wr(VS_VIRTIO_PCI_NOTIFY, 0, 2);
	assert_int_equal(nmsi, 1);
	assert_int_equal(msi_data, 0x4242);
	assert_int_equal(line_level, -1); /* no INTx with MSI-X on */
}

static void test_hostile_ring(void **state)
{
	(void)state;
	driver_init(1ull << VS_VIRTIO_F_VERSION_1);
	offer(0, BUF, 16, VS_VRING_DESC_F_WRITE | VS_VRING_DESC_F_NEXT, 0); /* loop */
	wr(VS_VIRTIO_PCI_NOTIFY, 0, 2);
	assert_true(rd(0x14, 1) & VS_VIRTIO_S_DEVICE_NEEDS_RESET);
	assert_int_equal(rd(VS_VIRTIO_PCI_ISR, 1), 2); /* a config change */
	/* kicks are ignored until a reset; the reset clears everything */
	wr(VS_VIRTIO_PCI_NOTIFY, 0, 2);
	wr(0x14, 0, 1);
	assert_int_equal(rd(0x14, 1), 0);
	assert_int_equal(rd(0x1c, 2), 0);
	memset(gpa(AVAIL), 0, 64);
	memset(gpa(USED), 0, 128);
	driver_init(1ull << VS_VIRTIO_F_VERSION_1);
	assert_false(rd(0x14, 1) & VS_VIRTIO_S_DEVICE_NEEDS_RESET);
	offer(1, BUF, 16, VS_VRING_DESC_F_WRITE, 0);
	wr(VS_VIRTIO_PCI_NOTIFY, 0, 2);
	assert_int_equal(((uint16_t *)gpa(USED))[1], 1);
}

static void test_rings_outside_ram(void **state)
{
	(void)state;
	bar = cfg_rd(0x10, 4) & ~0xfu;
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER, 1);
	wr(0x16, 0, 2);
	wr(0x20, 0xfff00000, 4); /* far past 1 MiB of RAM */
	wr(0x1c, 1, 2);
	assert_int_equal(rd(0x1c, 2), 0);
	assert_true(rd(0x14, 1) & VS_VIRTIO_S_DEVICE_NEEDS_RESET);
	/* a queue out of range reads as absent */
	wr(0x16, 5, 2);
	assert_int_equal(rd(0x18, 2), 0);
}

/* With ioeventfds: the doorbell is registered once the queue is enabled,
 * follows the BAR when the guest moves it, goes at reset; a signal on the
 * eventfd (what the accelerator does for the guest's write) has the I/O
 * thread serve the queue. */
static int setup_io(void **state)
{
	with_io_thread = true;
	return setup(state);
}

static int teardown_io(void **state)
{
	int r = teardown(state);

	with_io_thread = false;
	assert_int_equal(ioev_fd, -1); /* freed: deregistered */
	return r;
}

static void test_io_thread(void **state)
{
	uint16_t *used = gpa(USED);
	uint64_t one = 1;

	(void)state;
	driver_init(1ull << VS_VIRTIO_F_VERSION_1);
	assert_int_equal(ioev_adds, 1);
	assert_int_equal(ioev_addr, VS_VIRTIO_PCI_MMIO_BASE + VS_VIRTIO_PCI_NOTIFY);
	offer(0, BUF, 32, VS_VRING_DESC_F_WRITE, 0);
	assert_int_equal(write(ioev_fd, &one, 8), 8);
	for (int i = 0; i < 2000 && __atomic_load_n(&used[1], __ATOMIC_ACQUIRE) != 1; i++)
		usleep(1000);
	assert_int_equal(used[1], 1);
	assert_int_equal(*(uint32_t *)((uint8_t *)used + 8), 32);
	/* the guest moves the BAR: the doorbell moves with it */
	cfg_wr(0x10, 0xd2000000, 4);
	assert_int_equal(ioev_dels, 1);
	assert_int_equal(ioev_addr, 0xd2000000 + VS_VIRTIO_PCI_NOTIFY);
	assert_true(ioev_fd >= 0);
	bar = 0xd2000000;
	wr(0x14, 0, 1); /* reset */
	assert_int_equal(ioev_fd, -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_discovery),
		T(test_features),
		T(test_entropy_intx),
		T(test_entropy_msix),
		T(test_hostile_ring),
		T(test_rings_outside_ram),
		cmocka_unit_test_setup_teardown(test_io_thread, setup_io, teardown_io),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
