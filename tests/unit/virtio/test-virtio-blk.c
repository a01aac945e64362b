/* virtio-blk (virtio/blk.c) behind the PCI transport, on a raw file, driven
 * as a guest driver would: config space (capacity, blk_size, seg_max),
 * features (RO), read, write, flush, get-id, write-zeroes and discard; and
 * requests that are well-formed for the queue but wrong for the device
 * (short header, no room for data, a length not a multiple of 512, a range
 * past the end, an unknown type, a write to a read-only disk) fail alone
 * with a status while the device keeps working. */
#include "virtio/blk.h"
#include "virtio/pci.h"
#include "hw/iobus.h"
#include "vmm/memory.h"
#include "vmm/vm.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define DESC 0x10000ull
#define AVAIL 0x11000ull
#define USED 0x12000ull
#define HDR 0x13000ull
#define STATUS 0x13100ull
#define BUF 0x20000ull
#define QS 8
#define DISK_SIZE (1u << 20)

static struct vs_iobus pio, mmio;
static struct vs_pci_bus *bus;
static struct vs_guest_mem *mem;
static struct vs_dma dma;
static struct vs_virtio_blk *blk;
static char path[64];
static uint64_t bar;

static void irq_line(void *ctx, unsigned gsi, int level)
{
	(void)ctx, (void)gsi, (void)level;
}

static void msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx, (void)addr, (void)data;
}

static int open_disk(bool ro, enum vs_disk_cache cache)
{
	struct vs_virtio_pci_env env = { .mmio = &mmio,
					 .dma = &dma,
					 .irq_line = irq_line,
					 .msi = msi,
					 .bar_addr = VS_VIRTIO_PCI_MMIO_BASE };
	struct vs_vm_disk d = { .path = path, .format = (char *)"raw", .ro = ro, .cache = cache };
	struct vs_err *err = NULL;
	int fd, r;

	snprintf(path, sizeof(path), "/tmp/vs-test-blk-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, DISK_SIZE) < 0 || pwrite(fd, "base", 4, 0) != 4)
		return -1;
	close(fd);
	vs_iobus_init(&pio, "pio");
	vs_iobus_init(&mmio, "mmio");
	assert_int_equal(vs_pci_bus_new(&bus), 0);
	assert_int_equal(vs_pci_bus_attach(bus, &pio, NULL), 0);
	assert_int_equal(vs_guest_mem_new(1 << 20, &mem), 0);
	dma = (struct vs_dma){ .mem = mem };
	env.pci = bus;
	r = vs_virtio_blk_new(&env, &d, &blk, &err);
	vs_err_free(err);
	return r;
}

static int setup_rw(void **state)
{
	(void)state;
	return open_disk(false, VS_DISK_CACHE_WRITEBACK);
}

static int setup_ro(void **state)
{
	(void)state;
	return open_disk(true, VS_DISK_CACHE_WRITEBACK);
}

static int setup_directsync(void **state)
{
	(void)state;
	return open_disk(false, VS_DISK_CACHE_DIRECTSYNC);
}

static int teardown(void **state)
{
	(void)state;
	vs_virtio_blk_free(blk);
	vs_pci_bus_free(bus);
	vs_guest_mem_free(mem);
	unlink(path);
	return 0;
}

static uint32_t cfg_rd(unsigned reg)
{
	uint32_t a = 0x80000000u | (1u << 11) | reg, v = 0;

	vs_iobus_access(&pio, 0xcf8, true, &a, 4);
	vs_iobus_access(&pio, 0xcfc, false, &v, 4);
	return v;
}

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

static void *gpa(uint64_t a)
{
	return vs_guest_mem_ptr(mem, a, 1);
}

static uint32_t driver_init(void)
{
	uint32_t f;

	bar = cfg_rd(0x10) & ~0xfu;
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER, 1);
	wr(0x00, 0, 4);
	f = rd(0x04, 4);
	wr(0x08, 0, 4);
	wr(0x0c, f & ~((1u << VS_VIRTIO_F_EVENT_IDX) | (1u << VS_VIRTIO_F_INDIRECT_DESC)), 4);
	wr(0x08, 1, 4);
	wr(0x0c, 1, 4);
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER | VS_VIRTIO_S_FEATURES_OK, 1);
	wr(0x16, 0, 2);
	wr(0x18, QS, 2);
	wr(0x20, DESC, 4);
	wr(0x28, AVAIL, 4);
	wr(0x30, USED, 4);
	wr(0x1c, 1, 2);
	wr(0x14, 0xf, 1);
	return f;
}

/* A chain of n descriptors (addr, len, writable) from head 0, kicked;
 * returns the status byte at STATUS (0xee if the device did not set it). */
struct seg {
	uint64_t addr;
	uint32_t len;
	bool w;
};

/* Requests complete on the engine's workers: wait (up to 10 s) until the
 * used index reaches idx. */
static void wait_used(uint16_t idx)
{
	volatile uint16_t *used = gpa(USED);

	for (int i = 0; i < 10000 && used[1] != idx; i++)
		usleep(1000);
}

static int submit(const struct seg *s, unsigned n)
{
	uint16_t *avail = gpa(AVAIL), *used = gpa(USED), before = used[1];

	for (unsigned i = 0; i < n; i++) {
		struct vs_vring_desc d = { s[i].addr, s[i].len,
					   (uint16_t)((s[i].w ? VS_VRING_DESC_F_WRITE : 0) |
						      (i + 1 < n ? VS_VRING_DESC_F_NEXT : 0)),
					   (uint16_t)(i + 1) };

		memcpy((uint8_t *)gpa(DESC) + 16 * i, &d, sizeof(d));
	}
	*(uint8_t *)gpa(STATUS) = 0xee;
	avail[2 + avail[1] % QS] = 0;
	avail[1]++;
	wr(VS_VIRTIO_PCI_NOTIFY, 0, 2);
	wait_used(before + 1);
	assert_int_equal((uint16_t)(used[1] - before), 1);
	assert_false(rd(0x14, 1) & VS_VIRTIO_S_DEVICE_NEEDS_RESET);
	return *(uint8_t *)gpa(STATUS);
}

static int req(uint32_t type, uint64_t sector, uint64_t buf, uint32_t len, bool dev_writes)
{
	uint32_t h[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
	struct seg s[3] = { { HDR, 16, false }, { buf, len, dev_writes }, { STATUS, 1, true } };

	memcpy(gpa(HDR), h, sizeof(h));
	if (!len) {
		s[1] = s[2];
		return submit(s, 2);
	}
	return submit(s, 3);
}

static uint32_t last_used_len(void)
{
	uint16_t *used = gpa(USED);
	uint32_t len;

	memcpy(&len, (uint8_t *)used + 4 + 8 * ((used[1] - 1) % QS) + 4, 4);
	return len;
}

static void file_read(void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static void test_config_and_rw(void **state)
{
	uint8_t *b = gpa(BUF), host[1024];
	uint32_t f = driver_init();
	char id[20];

	(void)state;
	assert_int_equal(rd(0x2000, 4), DISK_SIZE / 512); /* capacity, low half */
	assert_int_equal(rd(0x2004, 4), 0);
	assert_int_equal(rd(0x2000 + 20, 4), 512); /* blk_size */
	assert_int_equal(rd(0x2000 + 12, 4), 254); /* seg_max */
	assert_true(f & (1u << VS_VIRTIO_BLK_F_FLUSH));
	assert_false(f & (1u << VS_VIRTIO_BLK_F_RO));
	memset(b, 0x5c, 1024);
	assert_int_equal(req(VS_VIRTIO_BLK_T_OUT, 3, BUF, 1024, false), VS_VIRTIO_BLK_S_OK);
	assert_int_equal(req(VS_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VS_VIRTIO_BLK_S_OK);
	file_read(host, sizeof(host), 3 * 512);
	assert_memory_equal(host, b, 1024);
	memset(b, 0, 1024);
	assert_int_equal(req(VS_VIRTIO_BLK_T_IN, 0, BUF, 512, true), VS_VIRTIO_BLK_S_OK);
	assert_memory_equal(b, "base", 4);
	/* the used length covers the data and the status */
	assert_int_equal(last_used_len(), 513);
	assert_int_equal(req(VS_VIRTIO_BLK_T_GET_ID, 0, BUF, 20, true), VS_VIRTIO_BLK_S_OK);
	memcpy(id, b, sizeof(id));
	assert_memory_equal(id, strrchr(path, '/') + 1, strlen(strrchr(path, '/') + 1));
}

static void test_zeroes_and_discard(void **state)
{
	uint32_t seg[4] = { 3, 0, 2, 0 }; /* sector 3, 2 sectors, flags 0 */
	uint8_t host[1024], zero[1024] = { 0 };

	(void)state;
	driver_init();
	memset(gpa(BUF), 0x77, 2048);
	assert_int_equal(req(VS_VIRTIO_BLK_T_OUT, 2, BUF, 2048, false), VS_VIRTIO_BLK_S_OK);
	memcpy(gpa(BUF + 4096), seg, sizeof(seg));
	assert_int_equal(req(VS_VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF + 4096, 16, false),
			 VS_VIRTIO_BLK_S_OK);
	file_read(host, sizeof(host), 3 * 512);
	assert_memory_equal(host, zero, sizeof(zero));
	file_read(host, 512, 2 * 512);
	assert_int_equal(host[0], 0x77);
	seg[0] = 5;
	memcpy(gpa(BUF + 4096), seg, sizeof(seg));
	assert_int_equal(req(VS_VIRTIO_BLK_T_DISCARD, 0, BUF + 4096, 16, false),
			 VS_VIRTIO_BLK_S_OK);
	/* flags other than unmap, and unmap on a discard: unsupported */
	seg[3] = 2;
	memcpy(gpa(BUF + 4096), seg, sizeof(seg));
	assert_int_equal(req(VS_VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF + 4096, 16, false),
			 VS_VIRTIO_BLK_S_UNSUPP);
	/* a segment past the end */
	seg[0] = DISK_SIZE / 512 - 1;
	seg[3] = 0;
	memcpy(gpa(BUF + 4096), seg, sizeof(seg));
	assert_int_equal(req(VS_VIRTIO_BLK_T_DISCARD, 0, BUF + 4096, 16, false),
			 VS_VIRTIO_BLK_S_IOERR);
}

static void test_bad_requests_fail_alone(void **state)
{
	uint32_t cap = DISK_SIZE / 512;
	struct seg shorthdr[2] = { { HDR, 8, false }, { STATUS, 1, true } };
	struct seg split[4] = { { HDR, 16, false },
				{ BUF, 100, true },
				{ BUF + 512, 412, true },
				{ STATUS, 1, true } };
	uint32_t h[4] = { VS_VIRTIO_BLK_T_IN, 0, 1, 0 };

	(void)state;
	driver_init();
	assert_int_equal(req(VS_VIRTIO_BLK_T_IN, cap, BUF, 512, true), VS_VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(VS_VIRTIO_BLK_T_IN, cap - 1, BUF, 1024, true), VS_VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(VS_VIRTIO_BLK_T_OUT, UINT64_MAX / 256, BUF, 512, false),
			 VS_VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(VS_VIRTIO_BLK_T_IN, 0, BUF, 100, true), VS_VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(99, 0, BUF, 512, true), VS_VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(submit(shorthdr, 2), VS_VIRTIO_BLK_S_IOERR);
	/* a read into a data area split over two descriptors works */
	memcpy(gpa(HDR), h, sizeof(h));
	assert_int_equal(submit(split, 4), VS_VIRTIO_BLK_S_OK);
	/* and after all that the device still reads */
	assert_int_equal(req(VS_VIRTIO_BLK_T_IN, 0, BUF, 512, true), VS_VIRTIO_BLK_S_OK);
	assert_memory_equal(gpa(BUF), "base", 4);
}

static void test_read_only(void **state)
{
	uint32_t f = driver_init();
	uint32_t seg[4] = { 0, 0, 1, 0 };
	uint8_t host[4];

	(void)state;
	assert_true(f & (1u << VS_VIRTIO_BLK_F_RO));
	memset(gpa(BUF), 0x11, 512);
	assert_int_equal(req(VS_VIRTIO_BLK_T_OUT, 0, BUF, 512, false), VS_VIRTIO_BLK_S_IOERR);
	memcpy(gpa(BUF + 4096), seg, sizeof(seg));
	assert_int_equal(req(VS_VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF + 4096, 16, false),
			 VS_VIRTIO_BLK_S_IOERR);
	file_read(host, 4, 0);
	assert_memory_equal(host, "base", 4);
	assert_int_equal(req(VS_VIRTIO_BLK_T_IN, 0, BUF, 512, true), VS_VIRTIO_BLK_S_OK);
	assert_memory_equal(gpa(BUF), "base", 4);
	assert_int_equal(req(VS_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VS_VIRTIO_BLK_S_OK);
}

/* CONFIG_WCE (§5.2.5): writeback is 1 for cache=writeback, 0 for
 * directsync; the driver may change it, a reset restores the mode's. */
static void test_write_cache_writeback(void **state)
{
	uint32_t f = driver_init();

	(void)state;
	assert_true(f & (1u << VS_VIRTIO_BLK_F_CONFIG_WCE));
	assert_int_equal(rd(0x2000 + 32, 1), 1);
	wr(0x2000 + 32, 0, 1);
	assert_int_equal(rd(0x2000 + 32, 1), 0);
	memset(gpa(BUF), 0x11, 512);
	assert_int_equal(req(VS_VIRTIO_BLK_T_OUT, 0, BUF, 512, false), VS_VIRTIO_BLK_S_OK);
	wr(0x14, 0, 1); /* reset */
	assert_int_equal(rd(0x2000 + 32, 1), 1);
}

static void test_write_cache_directsync(void **state)
{
	uint8_t host[512];

	(void)state;
	driver_init();
	assert_int_equal(rd(0x2000 + 32, 1), 0);
	memset(gpa(BUF), 0x22, 512);
	assert_int_equal(req(VS_VIRTIO_BLK_T_OUT, 1, BUF, 512, false), VS_VIRTIO_BLK_S_OK);
	file_read(host, sizeof(host), 512);
	assert_memory_equal(host, gpa(BUF), 512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_and_rw, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_zeroes_and_discard, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests_fail_alone, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(test_write_cache_writeback, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_write_cache_directsync, setup_directsync,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
