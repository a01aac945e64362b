/* virtio-net (virtio/net.c) behind the PCI transport, on a datagram
 * socketpair that stands in for a tap (one frame per read/write, the
 * 12-byte header in front), driven as a guest driver would: config space
 * and features; transmit (a split chain reaches the backend as is; short,
 * header-only and un-negotiated GSO chains are dropped, the queue keeps
 * working; many chains from one kick come back in order, in batches, on a
 * ring larger and one smaller than a batch); receive into mergeable buffers (one frame over three, published
 * together, num_buffers set), without MRG_RXBUF (a frame larger than the
 * buffer is dropped, the buffer stays for the next); no buffers: the frame
 * waits until the driver adds one and kicks. MAC parsing. */
#include "virtio/net.h"
#include "virtio/pci.h"
#include "hw/iobus.h"
#include "vmm/memory.h"
#include "common/util.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define RX_DESC 0x10000ull
#define RX_AVAIL 0x11000ull
#define RX_USED 0x12000ull
#define TX_DESC 0x14000ull
#define TX_AVAIL 0x15000ull
#define TX_USED 0x16000ull
#define BUF 0x20000ull
#define QS 8
#define HDR 12

static struct vs_iobus pio, mmio;
static struct vs_pci_bus *bus;
static struct vs_guest_mem *mem;
static struct vs_dma dma;
static struct vs_virtio_net *net;
static int peer = -1;
static uint64_t bar;
static uint16_t tx_next, rx_next;

static void irq_line(void *ctx, unsigned gsi, int level)
{
	(void)ctx, (void)gsi, (void)level;
}

static void msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx, (void)addr, (void)data;
}

/* An accelerator without ioeventfds: the transport still has its I/O
 * thread (the backend fd is watched there), doorbells reach the bus. */
static int no_ioeventfd(void *ctx, uint64_t addr, unsigned len, int fd, bool add)
{
	(void)ctx, (void)addr, (void)len, (void)fd, (void)add;
	return -ENOSYS;
}

static int setup(void **state)
{
	struct vs_virtio_pci_env env = { .mmio = &mmio,
					 .dma = &dma,
					 .irq_line = irq_line,
					 .msi = msi,
					 .ioeventfd = no_ioeventfd };
	struct vs_virtio_net_config cfg = { .mac = { 0x52, 0x54, 0, 1, 2, 3 } };
	int sv[2];

	(void)state;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	peer = sv[1];
	cfg.fd = sv[0];
	vs_iobus_init(&pio, "pio");
	vs_iobus_init(&mmio, "mmio");
	assert_int_equal(vs_pci_bus_new(&bus), 0);
	assert_int_equal(vs_pci_bus_attach(bus, &pio, NULL), 0);
	assert_int_equal(vs_guest_mem_new(1 << 20, &mem), 0);
	dma = (struct vs_dma){ .mem = mem };
	env.pci = bus;
	tx_next = rx_next = 0;
	return vs_virtio_net_new(&env, &cfg, &net);
}

static int teardown(void **state)
{
	(void)state;
	vs_virtio_net_free(net);
	net = NULL;
	vs_pci_bus_free(bus);
	vs_guest_mem_free(mem);
	close(peer);
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

static void queue(unsigned q, uint64_t desc, uint64_t avail, uint64_t used, uint16_t size)
{
	wr(0x16, q, 2);
	wr(0x18, size, 2);
	wr(0x20, (uint32_t)desc, 4);
	wr(0x28, (uint32_t)avail, 4);
	wr(0x30, (uint32_t)used, 4);
	wr(0x1c, 1, 2);
}

/* Negotiates VERSION_1 and the device features in want, the TX queue of
 * tx_size entries. Returns the offered low word. */
static uint32_t driver_init_tx(uint32_t want, uint16_t tx_size)
{
	uint32_t f;

	bar = cfg_rd(0x10) & ~0xfu;
	wr(0x14, 0, 1); /* reset: a test may initialise twice */
	for (uint64_t a = RX_DESC; a <= TX_USED; a += 0x1000)
		memset(gpa(a), 0, 0x1000);
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER, 1);
	wr(0x00, 0, 4);
	f = rd(0x04, 4);
	wr(0x08, 0, 4);
	wr(0x0c, f & want, 4);
	wr(0x08, 1, 4);
	wr(0x0c, 1, 4);
	wr(0x14, VS_VIRTIO_S_ACKNOWLEDGE | VS_VIRTIO_S_DRIVER | VS_VIRTIO_S_FEATURES_OK, 1);
	queue(0, RX_DESC, RX_AVAIL, RX_USED, QS);
	queue(1, TX_DESC, TX_AVAIL, TX_USED, tx_size);
	wr(0x14, 0xf, 1);
	assert_int_equal(rd(0x14, 1), 0xf);
	return f;
}

static uint32_t driver_init(uint32_t want)
{
	return driver_init_tx(want, QS);
}

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct vs_vring_desc d = { addr, len, flags, (uint16_t)(i + 1) };

	memcpy((uint8_t *)gpa(table) + 16 * i, &d, sizeof(d));
}

static void make_avail(uint64_t avail, uint16_t head, unsigned q)
{
	uint16_t *a = gpa(avail);

	a[2 + a[1] % QS] = head;
	__atomic_store_n(&a[1], (uint16_t)(a[1] + 1), __ATOMIC_RELEASE);
	wr(VS_VIRTIO_PCI_NOTIFY + 4 * q, q, 2);
}

static uint16_t used_idx(uint64_t used)
{
	return __atomic_load_n((uint16_t *)gpa(used) + 1, __ATOMIC_ACQUIRE);
}

static uint32_t used_len(uint64_t used, uint16_t i)
{
	uint32_t len;

	memcpy(&len, (uint8_t *)gpa(used) + 4 + 8 * (i % QS) + 4, 4);
	return len;
}

/* Waits up to 2 s for the used idx of the RX queue to reach want. */
static bool wait_rx(uint16_t want)
{
	for (int i = 0; i < 2000 && used_idx(RX_USED) != want; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	return used_idx(RX_USED) == want;
}

/* A TX chain of the given segments (readable), from descriptor 0. */
static void tx(const uint64_t *addr, const uint32_t *len, unsigned n)
{
	uint16_t before = used_idx(TX_USED);

	for (unsigned i = 0; i < n; i++)
		put_desc(TX_DESC, i, addr[i], len[i], i + 1 < n ? VS_VRING_DESC_F_NEXT : 0);
	make_avail(TX_AVAIL, 0, 1);
	assert_int_equal((uint16_t)(used_idx(TX_USED) - before), 1);
	assert_false(rd(0x14, 1) & VS_VIRTIO_S_DEVICE_NEEDS_RESET);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13 + seed);
}

static void test_config(void **state)
{
	uint32_t f = driver_init(~0u);
	uint8_t mac[6];

	(void)state;
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)rd(VS_VIRTIO_PCI_DEVCFG + i, 1);
	assert_memory_equal(mac, ((uint8_t[]){ 0x52, 0x54, 0, 1, 2, 3 }), 6);
	assert_int_equal(rd(VS_VIRTIO_PCI_DEVCFG + 6, 2), 1); /* link up */
	assert_int_equal(cfg_rd(0) >> 16, 0x1041);
	assert_true(f & (1u << VS_VIRTIO_NET_F_MAC));
	assert_true(f & (1u << VS_VIRTIO_NET_F_STATUS));
	assert_true(f & (1u << VS_VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & (1u << VS_VIRTIO_NET_F_CSUM));
	assert_false(f & (1u << VS_VIRTIO_NET_F_GUEST_CSUM)); /* the backend granted no offloads */
}

static void test_tx(void **state)
{
	uint8_t *b = gpa(BUF), got[2048];
	struct vs_virtio_net_stats st;
	uint64_t a[2] = { BUF, BUF + HDR };
	uint32_t l[2] = { HDR, 100 };

	(void)state;
	driver_init(~0u);
	memset(b, 0, HDR);
	fill(b + HDR, 100, 1);
	tx(a, l, 2);
	assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), HDR + 100);
	assert_memory_equal(got, b, HDR + 100);
	/* shorter than header + Ethernet header; a header alone */
	l[0] = 10;
	tx(a, l, 1);
	l[0] = HDR;
	tx(a, l, 1);
	/* GSO TCPv4 that the driver did not negotiate (HOST_TSO4 is not in want below) */
	driver_init(~(1u << VS_VIRTIO_NET_F_HOST_TSO4));
	b[1] = 1;
	l[1] = 100;
	tx(a, l, 2);
	assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), -1);
	vs_virtio_net_stats(net, &st);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.tx_dropped, 3);
	/* the queue still works */
	b[1] = 0;
	tx(a, l, 2);
	assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), HDR + 100);
}

/* n one-buffer frames (header + 60 bytes, each its own pattern) made
 * available on a TX ring of size entries, then one kick: all come back used
 * in order and reach the backend in order. */
static void tx_many(uint16_t size, unsigned n)
{
	uint16_t *avail = gpa(TX_AVAIL);
	uint8_t got[256];

	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (uint16_t)(i % size);
		uint8_t *f = (uint8_t *)gpa(BUF) + 128 * i;

		memset(f, 0, HDR);
		fill(f + HDR, 60, i);
		if (i && d == 0) { /* the ring is full: send what is in it */
			wr(VS_VIRTIO_PCI_NOTIFY + 4, 1, 2);
			assert_int_equal(used_idx(TX_USED), i);
		}
		put_desc(TX_DESC, d, BUF + 128 * i, HDR + 60, 0);
		avail[2 + d] = d;
		__atomic_store_n(&avail[1], (uint16_t)(i + 1), __ATOMIC_RELEASE);
	}
	wr(VS_VIRTIO_PCI_NOTIFY + 4, 1, 2);
	assert_int_equal(used_idx(TX_USED), n);
	for (unsigned i = 0; i < n; i++) {
		uint32_t id;

		memcpy(&id, (uint8_t *)gpa(TX_USED) + 4 + 8 * (i % size), 4);
		assert_int_equal(id, i % size);
		assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), HDR + 60);
		assert_memory_equal(got, (uint8_t *)gpa(BUF) + 128 * i, HDR + 60);
	}
	assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), -1);
}

static void test_tx_batches(void **state)
{
	struct vs_virtio_net_stats st;

	(void)state;
	driver_init_tx(~0u, 64);
	tx_many(64, 40); /* more than one batch of used entries */
	driver_init_tx(~0u, QS);
	tx_many(QS, 2 * QS + 3); /* a ring smaller than a batch, wrapping */
	vs_virtio_net_stats(net, &st);
	assert_int_equal(st.tx_frames, 40 + 2 * QS + 3);
	assert_int_equal(st.tx_dropped, 0);
	assert_false(rd(0x14, 1) & VS_VIRTIO_S_DEVICE_NEEDS_RESET);
}

static void rx_post(uint16_t i, uint32_t len)
{
	put_desc(RX_DESC, i, BUF + 0x1000ull * i, len, VS_VRING_DESC_F_WRITE);
	make_avail(RX_AVAIL, i, 0);
}

static void test_rx_mergeable(void **state)
{
	uint8_t frame[HDR + 1400], got[HDR + 1400];
	uint16_t nbufs;
	size_t off = 0;

	(void)state;
	driver_init(~0u);
	for (uint16_t i = 0; i < 4; i++)
		rx_post(i, 512);
	memset(frame, 0, HDR);
	fill(frame + HDR, 1400, 2);
	assert_int_equal(send(peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_true(wait_rx(3));
	for (uint16_t i = 0; i < 3; i++) {
		uint32_t len = used_len(RX_USED, i);

		assert_int_equal(len, i < 2 ? 512 : sizeof(frame) - 1024);
		memcpy(got + off, gpa(BUF + 0x1000ull * i), len);
		off += len;
	}
	memcpy(&nbufs, got + 10, 2);
	assert_int_equal(nbufs, 3);
	assert_memory_equal(got + HDR, frame + HDR, 1400);
	assert_false(rd(0x14, 1) & VS_VIRTIO_S_DEVICE_NEEDS_RESET);
}

static void test_rx_no_mergeable_too_big(void **state)
{
	uint8_t frame[HDR + 1400] = { 0 };
	uint16_t nbufs;

	(void)state;
	driver_init(~(1u << VS_VIRTIO_NET_F_MRG_RXBUF));
	rx_post(0, 512);
	assert_int_equal(send(peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	fill(frame + HDR, 100, 3);
	assert_int_equal(send(peer, frame, HDR + 100, 0), HDR + 100);
	/* the big one is dropped; the small one takes the buffer */
	assert_true(wait_rx(1));
	assert_int_equal(used_len(RX_USED, 0), HDR + 100);
	assert_memory_equal((uint8_t *)gpa(BUF) + HDR, frame + HDR, 100);
	memcpy(&nbufs, (uint8_t *)gpa(BUF) + 10, 2);
	assert_int_equal(nbufs, 1);
}

static void test_rx_waits_for_buffers(void **state)
{
	uint8_t frame[HDR + 60] = { 0 };
	struct vs_virtio_net_stats st;

	(void)state;
	driver_init(~0u);
	fill(frame + HDR, 60, 4);
	assert_int_equal(send(peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	assert_int_equal(used_idx(RX_USED), 0);
	rx_post(0, 2048); /* the kick delivers the waiting frame */
	assert_true(wait_rx(1));
	assert_memory_equal((uint8_t *)gpa(BUF) + HDR, frame + HDR, 60);
	vs_virtio_net_stats(net, &st);
	assert_int_equal(st.rx_frames, 1);
	assert_int_equal(st.rx_dropped, 0);
	/* and the backend is watched again */
	rx_post(1, 2048);
	assert_int_equal(send(peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_true(wait_rx(2));
}

static void test_parse_mac(void **state)
{
	uint8_t m[6];

	(void)state;
	assert_int_equal(vs_virtio_net_parse_mac("52:54:00:Ab:cD:ef", m), 0);
	assert_memory_equal(m, ((uint8_t[]){ 0x52, 0x54, 0, 0xab, 0xcd, 0xef }), 6);
	assert_int_equal(vs_virtio_net_parse_mac("01:00:5e:00:00:01", m), -EINVAL); /* multicast */
	assert_int_equal(vs_virtio_net_parse_mac("00:00:00:00:00:00", m), -EINVAL);
	assert_int_equal(vs_virtio_net_parse_mac("52:54:00:ab:cd", m), -EINVAL);
	assert_int_equal(vs_virtio_net_parse_mac("52:54:00:ab:cd:efx", m), -EINVAL);
	assert_int_equal(vs_virtio_net_parse_mac("52-54-00-ab-cd-ef", m), -EINVAL);
	assert_int_equal(vs_virtio_net_parse_mac(" 2:54:00:ab:cd:ef", m), -EINVAL);
	assert_int_equal(vs_virtio_net_parse_mac(NULL, m), -EINVAL);
	vs_virtio_net_random_mac(m);
	assert_int_equal(m[0], 0x52);
	assert_int_equal(vs_virtio_net_parse_mac("02:00:00:00:00:01", m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_no_mergeable_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup, teardown),
		cmocka_unit_test(test_parse_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
