/* test-virtio-blk.c - a minimal virtio-blk driver (virtio 1.2 §5.2) over
 * the modern PCI transport: every 1af4:1042 function on bus 0, in slot
 * order, is vda, vdb, ... For each: negotiate VERSION_1 and the block
 * features, read the capacity and block size, ask for the serial (get-id).
 * A writable disk gets a pattern written to its first and last 8 sectors
 * (each request split over two data descriptors), a flush, and the data
 * read back; write-zeroes clears sectors 16-23 again; sectors 64-71 and
 * 128-255 are written and discarded; code read from sector 32 over a code
 * page that already ran must run as read (DMA reaches emu's code cache); a write past the capacity must fail. A read-only disk (VIRTIO_BLK_F_RO) must refuse a
 * write with VIRTIO_BLK_S_IOERR and keep its data.
 *
 * virtio-blk-bench[:MiB] measures the first disk: sequential 1 MiB writes
 * (then a flush) and reads over MiB (default 256), and 4 KiB random reads,
 * one request in flight, then with BENCH_QD in flight (each completion
 * posts the next: what the device's asynchronous engine is for).
 * virtio-blk-ab[:MiB] runs the same passes on vda and vdb, alternating
 * between them slice by slice, and prints a line for each (bench/blk.py's
 * qcow2/raw comparison in one VM).
 * virtio-blk-bench-user[:MiB] and virtio-blk-ab-user[:MiB]: the same passes
 * with the requests submitted and the used ring polled at CPL3
 * (blk_user_loop, in .text.user; the rings, the request headers and status
 * bytes and the notify register mapped into the user window), so that under
 * KVM-PVM, which runs guest CPL3 natively and emulates CPL0, the device path
 * is timed rather than the emulator; they write a 1 MiB pattern (upat_fill)
 * and check what their reads bring back.
 *
 * The pattern (byte j of sector s on disk k) is
 * ((s * 31 + j + k * 101) & 0xff) ^ 0xa5; tests/integration/vm checks it on
 * the host file. */
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "paging.h"
#include "pgtable.h"
#include "tests.h"
#include "tsc.h"
#include "user-io.h"
#include "user.h"
#include "virtio-pci.h"

#define VIRTIO_BLK_ID 0x1042
#define QSIZE 64 /* room for the benchmark's BENCH_QD requests of 3 descriptors */
#define SECTOR 512
#define NSEC 8
#define F_RO (1u << 5)
#define F_BLK_SIZE (1u << 6)
#define F_FLUSH (1u << 9)
#define F_DISCARD (1u << 13)
#define F_WZ (1u << 14)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WZ 13
#define ST_IOERR 1

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

struct blk_seg {
	uint64_t sector;
	uint32_t num_sectors, flags;
};

/* Queue 0's rings: one set per disk driven at the same time (virtio-blk-ab
 * alternates between two); the disk being driven is the one whose set the
 * ring_* pointers name (use_rings). */
struct ring_set {
	struct desc desc[QSIZE] __attribute__((aligned(4096)));
	uint16_t avail[3 + QSIZE] __attribute__((aligned(4096)));
	uint8_t used[6 + 8 * QSIZE] __attribute__((aligned(4096)));
};
static struct ring_set rings[2];
static struct desc *ring_desc = rings[0].desc;
static uint16_t *ring_avail = rings[0].avail;
static uint8_t *ring_used = rings[0].used;
static struct blk_hdr hdr;
static struct blk_seg seg;
static volatile uint8_t status;
static uint8_t buf[NSEC * SECTOR] __attribute__((aligned(4096)));

struct disk {
	struct vdev d;
	unsigned index;
	uint32_t features;
	uint64_t capacity;
};

static uint8_t pattern(unsigned k, uint64_t s, unsigned j)
{
	return (uint8_t)((s * 31 + j + k * 101) & 0xff) ^ 0xa5;
}

/* §3.1.1 through DRIVER_OK, accepting VERSION_1 and what we use of the
 * offered block features. Returns the final status. */
static uint8_t blk_init(struct disk *k)
{
	uint64_t c = k->d.common;

	w8(c + C_STATUS, 0);
	w8(c + C_STATUS, S_ACK | S_DRIVER);
	mmio_write32(c + C_DFSEL, 1);
	if (!(mmio_read32(c + C_DF) & 1))
		return 0;
	mmio_write32(c + C_DFSEL, 0);
	k->features = mmio_read32(c + C_DF) & (F_RO | F_BLK_SIZE | F_FLUSH | F_DISCARD | F_WZ);
	mmio_write32(c + C_GFSEL, 0);
	mmio_write32(c + C_GF, k->features);
	return vdev_queue0_ready(c, ring_desc, ring_avail, sizeof(rings[0].avail), ring_used,
				 sizeof(rings[0].used), QSIZE);
}

static void use_rings(unsigned set)
{
	ring_desc = rings[set].desc;
	ring_avail = rings[set].avail;
	ring_used = rings[set].used;
}

/* One request: header, data (in two descriptors when split), status.
 * Returns the status byte, or -1 on a timeout. */
static int blk_req(const struct disk *k, uint32_t type, uint64_t sector, void *data, uint32_t len,
		   bool split)
{
	uint16_t idx = ring_avail[1], n = 0;
	volatile uint16_t *used_idx = (volatile uint16_t *)&ring_used[2];
	uint16_t wr = type == T_IN || type == T_GET_ID ? DESC_WRITE : 0;
	uint64_t a = (uintptr_t)data;

	hdr = (struct blk_hdr){ type, 0, sector };
	ring_desc[n] = (struct desc){ (uintptr_t)&hdr, sizeof(hdr), DESC_NEXT, 1 };
	n++;
	if (len && split) {
		ring_desc[n] = (struct desc){ a, len / 2, DESC_NEXT | wr, (uint16_t)(n + 1) };
		n++;
		ring_desc[n] = (struct desc){ a + len / 2, len - len / 2, DESC_NEXT | wr,
					      (uint16_t)(n + 1) };
		n++;
	} else if (len) {
		ring_desc[n] = (struct desc){ a, len, DESC_NEXT | wr, (uint16_t)(n + 1) };
		n++;
	}
	status = 0xff;
	ring_desc[n] = (struct desc){ (uintptr_t)&status, 1, DESC_WRITE, 0 };
	ring_avail[2 + idx % QSIZE] = 0;
	__asm__ volatile("" ::: "memory");
	*(volatile uint16_t *)&ring_avail[1] = (uint16_t)(idx + 1);
	__asm__ volatile("mfence" ::: "memory");
	w16(k->d.notify + r16(k->d.common + C_QNOFF) * k->d.notify_mult, 0);
	for (uint64_t end = rdtsc() + tsc_khz() * 10000; /* 10 s */
	     *used_idx != (uint16_t)(idx + 1) && rdtsc() < end;)
		cpu_pause();
	(void)r8(k->d.isr); /* lowers INTx */
	return *used_idx == (uint16_t)(idx + 1) ? status : -1;
}

static void fill(unsigned k, uint64_t s0)
{
	for (unsigned s = 0; s < NSEC; s++)
		for (unsigned j = 0; j < SECTOR; j++)
			buf[s * SECTOR + j] = pattern(k, s0 + s, j);
}

static int check(unsigned k, uint64_t s0, bool zero)
{
	for (unsigned s = 0; s < NSEC; s++)
		for (unsigned j = 0; j < SECTOR; j++)
			if (buf[s * SECTOR + j] != (zero ? 0 : pattern(k, s0 + s, j)))
				return test_fail("vd%c: sector %lu byte %u reads 0x%x", 'a' + k,
						 (unsigned long)(s0 + s), j, buf[s * SECTOR + j]);
	return 0;
}

/* Writes the pattern at s0, reads it back (after a flush, by the caller). */
static int write_at(const struct disk *k, uint64_t s0)
{
	int st;

	fill(k->index, s0);
	st = blk_req(k, T_OUT, s0, buf, sizeof(buf), true);
	return st == 0 ? 0 :
			 test_fail("vd%c: write at %lu: status %d", 'a' + k->index,
				   (unsigned long)s0, st);
}

static int read_at(const struct disk *k, uint64_t s0, bool split)
{
	int st;

	memset(buf, 0x33, sizeof(buf));
	st = blk_req(k, T_IN, s0, buf, sizeof(buf), split);
	return st == 0 ? 0 :
			 test_fail("vd%c: read at %lu: status %d", 'a' + k->index,
				   (unsigned long)s0, st);
}

static uint8_t code_page[4096] __attribute__((aligned(4096)));

/* mov eax, imm32; ret */
static void put_code(uint8_t *at, uint32_t imm)
{
	memset(at, 0xcc, SECTOR);
	at[0] = 0xb8;
	memcpy(at + 1, &imm, 4);
	at[5] = 0xc3;
}

/* Code read from the disk over code that already ran must run as read: the
 * device's writes to guest RAM reach the CPU's decoded-code cache (emu). */
static int code_from_disk(const struct disk *k)
{
	uint32_t (*fn)(void) = (uint32_t(*)(void))(uintptr_t)code_page;
	uint32_t v;
	int st;

	put_code(buf, 0x600dc0de);
	if ((st = blk_req(k, T_OUT, 32, buf, SECTOR, false)) != 0)
		return test_fail("vd%c: writing code: status %d", 'a' + k->index, st);
	put_code(code_page, 0x0badc0de);
	if ((v = fn()) != 0x0badc0de)
		return test_fail("the code page returned 0x%x before the read", v);
	if ((st = blk_req(k, T_IN, 32, code_page, SECTOR, false)) != 0)
		return test_fail("vd%c: reading code: status %d", 'a' + k->index, st);
	if ((v = fn()) != 0x600dc0de)
		return test_fail("vd%c: code read from the disk returned 0x%x, want 0x600dc0de "
				 "(stale decoded code)",
				 'a' + k->index, v);
	return 0;
}

/* Sectors 64-71 (a 4 KiB block) and 128-255 (a 64 KiB qcow2 cluster):
 * written, then discarded; the host sees a hole and a freed cluster. */
static int discard(const struct disk *k)
{
	static const struct blk_seg segs[2] = { { 64, NSEC, 0 }, { 128, 128, 0 } };
	int st;

	if (write_at(k, 64))
		return -1;
	for (uint64_t s = 128; s < 256; s += NSEC)
		if (write_at(k, s))
			return -1;
	for (unsigned i = 0; i < 2; i++) {
		seg = segs[i];
		if ((st = blk_req(k, T_DISCARD, 0, &seg, sizeof(seg), false)) != 0)
			return test_fail("vd%c: discard: status %d", 'a' + k->index, st);
	}
	return 0;
}

static int writable(const struct disk *k)
{
	uint64_t last = k->capacity - NSEC;
	int st;

	if (write_at(k, 0) || write_at(k, 16) || write_at(k, last))
		return -1;
	if ((st = blk_req(k, T_FLUSH, 0, NULL, 0, false)) != 0)
		return test_fail("vd%c: flush: status %d", 'a' + k->index, st);
	if (read_at(k, 0, false) || check(k->index, 0, false) || read_at(k, last, true) ||
	    check(k->index, last, false))
		return -1;
	if (k->features & F_WZ) {
		seg = (struct blk_seg){ 16, NSEC, 0 };
		if ((st = blk_req(k, T_WZ, 0, &seg, sizeof(seg), false)) != 0)
			return test_fail("vd%c: write-zeroes: status %d", 'a' + k->index, st);
	}
	if (read_at(k, 16, true) || check(k->index, 16, k->features & F_WZ))
		return -1;
	if ((k->features & F_DISCARD) && discard(k) < 0)
		return -1;
	if (code_from_disk(k) < 0)
		return -1;
	st = blk_req(k, T_OUT, k->capacity, buf, SECTOR, false);
	if (st != ST_IOERR)
		return test_fail("vd%c: a write past the end: status %d, want IOERR",
				 'a' + k->index, st);
	kprintf("virtio-blk: vd%c: wrote, flushed and read back sectors 0-7 and %lu-%lu%s\n",
		'a' + k->index, (unsigned long)last, (unsigned long)k->capacity - 1,
		k->features & F_WZ ? "; write-zeroes cleared 16-23" : "");
	if (k->features & F_DISCARD)
		kprintf("virtio-blk: vd%c: discarded 64-71 and 128-255\n", 'a' + k->index);
	return 0;
}

static int read_only(const struct disk *k)
{
	uint8_t first[8];
	int st;

	if (read_at(k, 0, false))
		return -1;
	memcpy(first, buf, sizeof(first));
	st = blk_req(k, T_OUT, 0, buf, SECTOR, false);
	if (st != ST_IOERR)
		return test_fail("vd%c: read-only, but a write got status %d", 'a' + k->index, st);
	if (read_at(k, 0, false) || memcmp(first, buf, sizeof(first)))
		return test_fail("vd%c: read-only, but its data changed", 'a' + k->index);
	kprintf("virtio-blk: vd%c: read-only: write refused (IOERR); sector 0: %02x %02x %02x "
		"%02x %02x %02x %02x %02x\n",
		'a' + k->index, buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7]);
	return 0;
}

static int one_disk(struct disk *k)
{
	char serial[21] = { 0 };
	uint8_t st = blk_init(k);
	int r;

	if (!(st & S_DRV_OK) || !(st & S_FEAT_OK))
		return test_fail("vd%c: driver init failed (status 0x%x)", 'a' + k->index, st);
	k->capacity = mmio_read32(k->d.device) | (uint64_t)mmio_read32(k->d.device + 4) << 32;
	if ((r = blk_req(k, T_GET_ID, 0, serial, 20, false)) != 0)
		return test_fail("vd%c: get-id: status %d", 'a' + k->index, r);
	kprintf("virtio-blk: vd%c: slot %u capacity %lu sectors blk_size %u ro %u serial '%s'\n",
		'a' + k->index, k->d.slot, (unsigned long)k->capacity,
		k->features & F_BLK_SIZE ? mmio_read32(k->d.device + 20) : 0,
		!!(k->features & F_RO), serial);
	if (k->features & F_RO)
		return read_only(k);
	if (k->capacity < 32)
		return test_fail("vd%c: %lu sectors is too small for the test", 'a' + k->index,
				 (unsigned long)k->capacity);
	return writable(k);
}

int test_virtio_blk(const char *arg)
{
	unsigned n = 0;

	(void)arg;
	for (unsigned slot = 0; slot < 32; slot++) {
		struct disk k = { .index = n };

		if (cfg32(slot, 0) != (VIRTIO_BLK_ID << 16 | VIRTIO_VENDOR))
			continue;
		if (vdev_caps(&k.d, slot) < 0 || !k.d.device)
			return test_fail("vd%c: virtio capabilities missing", 'a' + n);
		if (one_disk(&k) < 0)
			return -1;
		w8(k.d.common + C_STATUS, 0); /* reset: the next disk reuses the rings */
		n++;
	}
	if (!n)
		return test_fail("no virtio-blk (1af4:1042) on bus 0");
	kprintf("virtio-blk: %u disk(s)\n", n);
	return 0;
}

/* On the first disk, opened by the host without format= (probed raw): a
 * sector 0 that starts with the qcow2 magic must be refused (IOERR), any
 * other sector 0 accepted. */
int test_virtio_blk_magic(const char *arg)
{
	struct disk k = { 0 };
	uint8_t st;
	int r;

	(void)arg;
	for (unsigned slot = 0; slot < 32 && !k.d.common; slot++)
		if (cfg32(slot, 0) == (VIRTIO_BLK_ID << 16 | VIRTIO_VENDOR) &&
		    vdev_caps(&k.d, slot) < 0)
			return test_fail("virtio capabilities missing");
	if (!k.d.common)
		return test_fail("no virtio-blk (1af4:1042) on bus 0");
	st = blk_init(&k);
	if (!(st & S_DRV_OK))
		return test_fail("driver init failed (status 0x%x)", st);
	memset(buf, 0, SECTOR);
	memcpy(buf, "QFI\xfb", 4);
	if ((r = blk_req(&k, T_OUT, 0, buf, SECTOR, true)) != ST_IOERR)
		return test_fail("a qcow2 header in sector 0 of a probed raw disk: status %d", r);
	memcpy(buf, "QFI\x00", 4);
	if ((r = blk_req(&k, T_OUT, 0, buf, SECTOR, false)) != 0)
		return test_fail("an ordinary sector 0: status %d", r);
	kprintf("virtio-blk: qcow2 magic in sector 0 refused, other data written\n");
	return 0;
}

#define BENCH_BUF 0x2000000ull /* 32 MiB: free RAM under vessel and QEMU */
#define BENCH_CHUNK (1u << 20)
#define BENCH_RAND 20000

/* Bytes per tick to MB/s (10^6 bytes). */
static unsigned long mbps(uint64_t bytes, uint64_t ticks)
{
	return ticks ? (unsigned long)(bytes * tsc_khz() / ticks / 1000) : 0;
}

/* 1 MiB requests of type over [from, to); adds the time taken to *ticks. */
static int seq_part(const struct disk *k, uint32_t type, uint64_t from, uint64_t to,
		    uint64_t *ticks)
{
	uint64_t t0 = rdtsc();
	int st;

	for (uint64_t off = from; off < to; off += BENCH_CHUNK)
		if ((st = blk_req(k, type, off / SECTOR, phys(BENCH_BUF), BENCH_CHUNK, false)))
			return test_fail("vd%c: %s at %lu MiB: status %d", 'a' + k->index,
					 type == T_IN ? "read" : "write",
					 (unsigned long)(off >> 20), st);
	*ticks += rdtsc() - t0;
	return 0;
}

static int bench_flush(const struct disk *k, uint64_t *ticks)
{
	uint64_t t0 = rdtsc();
	int st;

	if ((st = blk_req(k, T_FLUSH, 0, NULL, 0, false)))
		return test_fail("vd%c: flush: status %d", 'a' + k->index, st);
	*ticks += rdtsc() - t0;
	return 0;
}

static int bench_seq(const struct disk *k, uint32_t type, uint64_t bytes, uint64_t *ticks)
{
	*ticks = 0;
	if (seq_part(k, type, 0, bytes, ticks))
		return -1;
	return type == T_OUT ? bench_flush(k, ticks) : 0;
}

#define BENCH_QD 16
static struct blk_hdr qd_hdr[BENCH_QD];
static volatile uint8_t qd_status[BENCH_QD];

static uint64_t next_sector(uint64_t *seed, uint64_t bytes)
{
	*seed ^= *seed << 13, *seed ^= *seed >> 7, *seed ^= *seed << 17;
	return (*seed % (bytes / 4096)) * 8;
}

/* Posts request slot i (descriptors 3i..3i+2: header, a 4 KiB buffer of
 * its own, status), a read at sector; the caller notifies. */
static void qd_post(unsigned i, uint64_t sector)
{
	uint16_t d = (uint16_t)(3 * i), idx = ring_avail[1];

	qd_hdr[i] = (struct blk_hdr){ T_IN, 0, sector };
	qd_status[i] = 0xff;
	ring_desc[d] = (struct desc){ (uintptr_t)&qd_hdr[i], sizeof(qd_hdr[i]), DESC_NEXT,
				      (uint16_t)(d + 1) };
	ring_desc[d + 1] = (struct desc){ BENCH_BUF + 4096ull * i, 4096, DESC_NEXT | DESC_WRITE,
					  (uint16_t)(d + 2) };
	ring_desc[d + 2] = (struct desc){ (uintptr_t)&qd_status[i], 1, DESC_WRITE, 0 };
	ring_avail[2 + idx % QSIZE] = d;
	__asm__ volatile("" ::: "memory");
	*(volatile uint16_t *)&ring_avail[1] = (uint16_t)(idx + 1);
}

static void qd_kick(const struct disk *k)
{
	__asm__ volatile("mfence" ::: "memory");
	w16(k->d.notify + r16(k->d.common + C_QNOFF) * k->d.notify_mult, 0);
}

/* n (>= BENCH_QD) random 4 KiB reads, BENCH_QD in flight, completions in
 * any order. Returns 0 and adds the time taken to *ticks, or -1. */
static int bench_qd(const struct disk *k, uint64_t bytes, unsigned n, uint64_t *seed,
		    uint64_t *ticks)
{
	volatile uint16_t *used_idx = (volatile uint16_t *)&ring_used[2];
	uint16_t seen = *used_idx;
	unsigned issued = 0, done = 0;
	uint64_t t0 = rdtsc(), end = t0 + tsc_khz() * 60000; /* 60 s */

	for (; issued < BENCH_QD; issued++)
		qd_post(issued, next_sector(seed, bytes));
	qd_kick(k);
	while (done < n) {
		uint32_t id;
		unsigned i;

		if (*used_idx == seen) {
			if (rdtsc() > end)
				return test_fail("queue-depth reads: timeout after %u", done);
			cpu_pause();
			continue;
		}
		__asm__ volatile("lfence" ::: "memory");
		memcpy(&id, &ring_used[4 + 8 * (seen % QSIZE)], 4);
		seen++;
		i = id / 3;
		if (id % 3 || i >= BENCH_QD || qd_status[i] != 0)
			return test_fail("queue-depth read: head %u status %d", id,
					 i < BENCH_QD ? qd_status[i] : -1);
		done++;
		(void)r8(k->d.isr); /* lowers INTx */
		if (issued < n) {
			qd_post(i, next_sector(seed, bytes));
			issued++;
			qd_kick(k);
		}
	}
	*ticks += rdtsc() - t0;
	return 0;
}

/* n random 4 KiB reads, one in flight; adds the time taken to *ticks. */
static int rand_part(const struct disk *k, uint64_t bytes, unsigned n, uint64_t *seed,
		     uint64_t *ticks)
{
	uint64_t t0 = rdtsc();
	int st;

	for (unsigned i = 0; i < n; i++)
		if ((st = blk_req(k, T_IN, next_sector(seed, bytes), phys(BENCH_BUF), 4096, false)))
			return test_fail("vd%c: random read: status %d", 'a' + k->index, st);
	*ticks += rdtsc() - t0;
	return 0;
}

/* n requests per tick to IOPS; 0 for a pass not run. */
static unsigned long iops(uint64_t n, uint64_t ticks)
{
	return ticks ? (unsigned long)(n * tsc_khz() * 1000 / ticks) : 0;
}

/* The figures of the four passes (0 for one not run), @nrand random reads
 * in each random pass. */
static void bench_print_n(const char *name, const struct disk *k, uint64_t bytes, uint64_t nrand,
			  const uint64_t t[4])
{
	kprintf("%s: %sMiB=%lu seq-write-MBps=%lu seq-read-MBps=%lu "
		"rand-read-4k-iops=%lu rand-read-4k-qd%u-iops=%lu\n",
		name, k ? (k->index ? "vdb " : "vda ") : "", (unsigned long)(bytes >> 20),
		mbps(bytes, t[0]), mbps(bytes, t[1]), iops(nrand, t[2]), BENCH_QD,
		iops(nrand, t[3]));
}

static void bench_print(const char *name, const struct disk *k, uint64_t bytes, const uint64_t t[4])
{
	bench_print_n(name, k, bytes, BENCH_RAND, t);
}

/* The first disk, or with two the disk at index (vda, vdb): its transport,
 * driver initialised, capacity read, at least mib MiB. */
static int bench_disk(struct disk *k, unsigned index, uint64_t mib)
{
	unsigned n = 0;

	for (unsigned slot = 0; slot < 32 && !k->d.common; slot++)
		if (cfg32(slot, 0) == (VIRTIO_BLK_ID << 16 | VIRTIO_VENDOR) && n++ == index &&
		    vdev_caps(&k->d, slot) < 0)
			return test_fail("virtio capabilities missing");
	k->index = index;
	if (!k->d.common || !(blk_init(k) & S_DRV_OK))
		return test_fail("no working virtio-blk vd%c on bus 0", 'a' + index);
	k->capacity = mmio_read32(k->d.device) | (uint64_t)mmio_read32(k->d.device + 4) << 32;
	if ((mib << 20) > k->capacity * SECTOR)
		return test_fail("vd%c has %lu MiB, %lu wanted", 'a' + index,
				 (unsigned long)(k->capacity >> 11), (unsigned long)mib);
	return 0;
}

/* The size in MiB in the first len bytes of arg (default 256). */
static int bench_mib(const char *name, const char *arg, size_t len, uint64_t *mib)
{
	*mib = 256;
	if (len && (parse_u64(arg, len, mib) || !*mib || *mib > (1ull << 30)))
		return test_fail("%s:%s: not a size in MiB", name, arg);
	return 0;
}

int test_virtio_blk_bench(const char *arg)
{
	struct disk k = { 0 };
	uint64_t mib, bytes, t[4] = { 0 }, seed = 88172645463325252ull;

	if (bench_mib("virtio-blk-bench", arg, strlen(arg), &mib) || bench_disk(&k, 0, mib))
		return -1;
	bytes = mib << 20;
	memset(phys(BENCH_BUF), 0x5a, BENCH_CHUNK);
	if (bench_seq(&k, T_OUT, bytes, &t[0]) || bench_seq(&k, T_IN, bytes, &t[1]) ||
	    rand_part(&k, bytes, BENCH_RAND, &seed, &t[2]) ||
	    bench_qd(&k, bytes, BENCH_RAND, &seed, &t[3]))
		return -1;
	bench_print("virtio-blk-bench", NULL, bytes, t);
	return 0;
}

/* virtio-blk-ab: the four passes of virtio-blk-bench on vda and vdb in
 * alternating slices (AB_SLICE bytes, AB_RAND requests; the disk that goes
 * first alternates too), so that both disks see the machine's load of the
 * same moments: their ratio holds on a loaded host where two separate runs
 * differ by 2x. Both disks read the same random sectors. Each write slice
 * is followed by a flush of its disk, timed with it: one flush of each disk
 * at the end would favour the second, since the first one's flush makes the
 * host device's cache durable for both files. */
#define AB_SLICE (32ull << 20)
#define AB_RAND 1000

static int ab_pass(struct disk k[2], unsigned pass, uint64_t bytes, uint64_t seed[2],
		   uint64_t t[2][4])
{
	uint64_t nslices = pass < 2 ? (bytes + AB_SLICE - 1) / AB_SLICE : BENCH_RAND / AB_RAND;
	int r = 0;

	for (uint64_t s = 0; s < nslices && !r; s++)
		for (unsigned j = 0; j < 2 && !r; j++) {
			unsigned i = j ^ (unsigned)(s & 1);
			uint64_t from = s * AB_SLICE,
				 to = from + AB_SLICE < bytes ? from + AB_SLICE : bytes;

			use_rings(i);
			if (pass < 2)
				r = seq_part(&k[i], pass ? T_IN : T_OUT, from, to, &t[i][pass]);
			else if (pass == 2)
				r = rand_part(&k[i], bytes, AB_RAND, &seed[i], &t[i][2]);
			else
				r = bench_qd(&k[i], bytes, AB_RAND, &seed[i], &t[i][3]);
			if (pass == 0 && !r)
				r = bench_flush(&k[i], &t[i][0]);
		}
	return r;
}

int test_virtio_blk_ab(const char *arg)
{
	struct disk k[2] = { 0 };
	uint64_t mib, t[2][4] = { 0 }, seed[2] = { 88172645463325252ull, 88172645463325252ull };

	if (bench_mib("virtio-blk-ab", arg, strlen(arg), &mib))
		return -1;
	for (unsigned i = 0; i < 2; i++) {
		use_rings(i);
		if (bench_disk(&k[i], i, mib))
			return -1;
	}
	memset(phys(BENCH_BUF), 0x5a, BENCH_CHUNK);
	for (unsigned pass = 0; pass < 4; pass++)
		if (ab_pass(k, pass, mib << 20, seed, t))
			return -1;
	for (unsigned i = 0; i < 2; i++)
		bench_print("virtio-blk-ab", &k[i], mib << 20, t[i]);
	return 0;
}

/* --- the CPL3 request loop (virtio-blk-bench-user, virtio-blk-ab-user) --- */

#define USED_F_NO_NOTIFY 1
#define AVAIL_F_NO_INTERRUPT 1
#define USER_STALL_MS 10000
#define VEC_PF 14
#define USER_FLUSH_HEAD (3 * BENCH_QD) /* the flush chain: header, status */
_Static_assert(USER_FLUSH_HEAD + 2 <= QSIZE, "room for the flush chain");
_Static_assert((QSIZE & (QSIZE - 1)) == 0, "the user loop masks ring indexes");

/* What the loop writes: the headers (their sectors) and status bytes of the
 * request slots and of the flush, and the random seed and kick count it
 * hands back. One page, mapped writable for user mode. */
struct ureq {
	struct blk_hdr hdr[BENCH_QD + 1];
	uint64_t seed, kicks;
	uint8_t status[BENCH_QD + 1];
} __attribute__((aligned(4096)));
static struct ureq ureq;

/* What blk_user_loop is given, all user addresses; mapped read-only. Slot
 * i's chain (descriptors 3i..3i+2, built at CPL0) points at hdr[i], a data
 * buffer and status[i]; the loop only fills in the sector. */
struct ublk {
	volatile uint16_t *avail; /* flags, idx, ring[QSIZE] */
	const volatile uint8_t *used; /* flags, idx, ring[QSIZE] of {u32 id, u32 len} */
	volatile uint16_t *notify;
	volatile struct ureq *rq;
	uint64_t n, sector0, step; /* n requests at sector0 + k * step, */
	uint64_t span; /* or, if span, at random 4 KiB blocks of the first span */
	uint64_t stall_cycles;
	uint16_t qd, flush; /* qd slots in flight; flush: then a flush */
} __attribute__((aligned(64)));

static struct ublk ublk;

/* Window pages (paging.h) of the user mappings. */
#define UPG_BLK_ARGS (UPG_CALLER_FIRST + 0)
#define UPG_BLK_AVAIL (UPG_CALLER_FIRST + 1)
#define UPG_BLK_USED (UPG_CALLER_FIRST + 2)
#define UPG_BLK_REQ (UPG_CALLER_FIRST + 3)
#define UPG_BLK_NOTIFY (UPG_CALLER_FIRST + 4)
_Static_assert(UPG_BLK_NOTIFY <= UPG_CALLER_LAST, "user pages of the bench");

/* What the loop reports as bad (SYS_EXIT %rsi): a used head that is no
 * slot's, or a status other than OK, or a flush that never came back. */
#define UBAD_REQ (1ull << 40)
#define UBAD_FLUSH (2ull << 40)

/* The k-th request's sector; next_sector() at CPL3. */
static inline __attribute__((always_inline)) uint64_t ublk_sector(const struct ublk *b, uint64_t k,
								  uint64_t *seed)
{
	if (!b->span)
		return b->sector0 + k * b->step;
	*seed ^= *seed << 13, *seed ^= *seed >> 7, *seed ^= *seed << 17;
	return (*seed % b->span) * 8;
}

/* Makes chain @head available (one idx store; the entry before idx). */
static inline __attribute__((always_inline)) void ublk_post(const struct ublk *b, uint16_t *aidx,
							    uint16_t head)
{
	b->avail[2 + (*aidx & (QSIZE - 1))] = head;
	__asm__ volatile("" ::: "memory");
	b->avail[1] = ++*aidx;
}

/* idx before the used flags are read (§2.7.7.2), then a notify unless the
 * device said NO_NOTIFY. */
static inline __attribute__((always_inline)) void ublk_kick(const struct ublk *b)
{
	__asm__ volatile("mfence" ::: "memory");
	if (!(b->used[0] & USED_F_NO_NOTIFY)) {
		*b->notify = 0;
		b->rq->kicks++;
	}
}

/* Waits for the used idx to pass *seen; returns the head used, or -1 when
 * nothing came for stall_cycles. */
static inline __attribute__((always_inline)) int64_t ublk_wait(const struct ublk *b, uint16_t *seen)
{
	const volatile uint16_t *used_idx = (const volatile uint16_t *)(b->used + 2);
	uint64_t t0 = user_rdtsc();
	uint32_t id;

	while (*used_idx == *seen) {
		if (user_rdtsc() - t0 > b->stall_cycles)
			return -1;
		__asm__ volatile("pause");
	}
	__asm__ volatile("lfence" ::: "memory");
	id = *(const volatile uint32_t *)(b->used + 4 + 8 * (*seen & (QSIZE - 1)));
	++*seen;
	return id;
}

/* Keeps b->qd of b->n requests in flight (each completion reposts its
 * slot, as bench_qd), then with b->flush a flush; SYS_EXIT(requests
 * completed, UBAD_* | head << 8 | status or 0, TSC cycles). */
USER_TEXT __attribute__((noreturn)) static void blk_user_loop(const struct ublk *b)
{
	volatile struct ureq *rq = b->rq;
	uint16_t aidx = b->avail[1], seen = *(const volatile uint16_t *)(b->used + 2);
	uint64_t sent = 0, done = 0, bad = 0, seed = rq->seed, t0 = user_rdtsc();
	int64_t id = 0;

	for (; sent < b->n && sent < b->qd; sent++) {
		rq->hdr[sent].sector = ublk_sector(b, sent, &seed);
		rq->status[sent] = 0xff;
		ublk_post(b, &aidx, (uint16_t)(3 * sent));
	}
	ublk_kick(b);
	while (done < b->n && (id = ublk_wait(b, &seen)) >= 0) {
		uint64_t i = (uint64_t)id / 3;

		done++;
		if (id % 3 || i >= b->qd || rq->status[i]) {
			bad = UBAD_REQ | (uint64_t)id << 8 | (i < b->qd ? rq->status[i] : 0xff);
			break;
		}
		if (sent < b->n) {
			rq->hdr[i].sector = ublk_sector(b, sent++, &seed);
			rq->status[i] = 0xff;
			ublk_post(b, &aidx, (uint16_t)(3 * i));
			ublk_kick(b);
		}
	}
	if (!bad && done == b->n && b->flush) {
		rq->status[BENCH_QD] = 0xff;
		ublk_post(b, &aidx, USER_FLUSH_HEAD);
		ublk_kick(b);
		id = ublk_wait(b, &seen);
		if (id != USER_FLUSH_HEAD || rq->status[BENCH_QD])
			bad = UBAD_FLUSH | (uint64_t)(id & 0xffff) << 8 | rq->status[BENCH_QD];
	}
	rq->seed = seed;
	__asm__ volatile("syscall; ud2"
			 :
			 : "a"(SYS_EXIT), "D"(done), "S"(bad), "d"(user_rdtsc() - t0)
			 : "rcx", "r11", "memory");
	__builtin_unreachable();
}

/* One pass of the loop: qd slots of type, len bytes each (slot i's data at
 * BENCH_BUF + i * len), then flush if asked. */
struct upass {
	uint32_t type, len;
	uint16_t qd, flush;
	uint64_t n, sector0, span;
};

/* Slot chains for @p, and the flush chain. */
static void ublk_descs(const struct upass *p)
{
	uint16_t wr = p->type == T_IN ? DESC_WRITE : 0;

	for (uint16_t i = 0, d = 0; i < p->qd; i++, d += 3) {
		ureq.hdr[i] = (struct blk_hdr){ p->type, 0, 0 };
		ring_desc[d] = (struct desc){ (uintptr_t)&ureq.hdr[i], sizeof(ureq.hdr[i]),
					      DESC_NEXT, (uint16_t)(d + 1) };
		ring_desc[d + 1] = (struct desc){ BENCH_BUF + (uint64_t)p->len * i, p->len,
						  DESC_NEXT | wr, (uint16_t)(d + 2) };
		ring_desc[d + 2] = (struct desc){ (uintptr_t)&ureq.status[i], 1, DESC_WRITE, 0 };
	}
	ureq.hdr[BENCH_QD] = (struct blk_hdr){ T_FLUSH, 0, 0 };
	ring_desc[USER_FLUSH_HEAD] = (struct desc){ (uintptr_t)&ureq.hdr[BENCH_QD],
						    sizeof(ureq.hdr[0]), DESC_NEXT,
						    USER_FLUSH_HEAD + 1 };
	ring_desc[USER_FLUSH_HEAD + 1] =
		(struct desc){ (uintptr_t)&ureq.status[BENCH_QD], 1, DESC_WRITE, 0 };
}

/* The rings of the disk being driven, ureq, k's queue 0 notify register
 * and ublk (filled from @p) for user mode; returns ublk's user address. */
static uint64_t ublk_map(const struct disk *k, const struct upass *p)
{
	uint64_t c = k->d.common;

	w16(c + C_QSEL, 0);
	ublk.notify = (volatile uint16_t *)user_map_at(
		UPG_BLK_NOTIFY, k->d.notify + (uint64_t)r16(c + C_QNOFF) * k->d.notify_mult,
		PTE_RW);
	ublk.avail = (volatile uint16_t *)user_map_at(UPG_BLK_AVAIL, (uintptr_t)ring_avail, PTE_RW);
	ublk.used = (const volatile uint8_t *)user_map_at(UPG_BLK_USED, (uintptr_t)ring_used, 0);
	ublk.rq = (volatile struct ureq *)user_map_at(UPG_BLK_REQ, (uintptr_t)&ureq, PTE_RW);
	ublk.n = p->n;
	ublk.sector0 = p->sector0;
	ublk.step = p->len / SECTOR;
	ublk.span = p->span;
	ublk.stall_cycles = tsc_khz() * USER_STALL_MS;
	ublk.qd = p->qd;
	ublk.flush = p->flush;
	return user_map_at(UPG_BLK_ARGS, (uintptr_t)&ublk, 0);
}

/* Runs @p on @k at CPL3 (the queue polled: no interrupts asked for); adds
 * the loop's time to *ticks and its kicks to *kicks. *seed in and out. */
static int blk_user(const struct disk *k, const struct upass *p, uint64_t *seed, uint64_t *ticks,
		    uint64_t *kicks)
{
	uint64_t ret[3];
	int r;

	ublk_descs(p);
	ureq.seed = *seed;
	ureq.kicks = 0;
	ring_avail[0] = AVAIL_F_NO_INTERRUPT;
	pg_window_init();
	idt_set_handler(VEC_PF, fault_handler);
	r = user_call((const void *)blk_user_loop, ublk_map(k, p), 0, 0, ret);
	idt_set_handler(VEC_PF, NULL);
	pg_window_fini();
	(void)r8(k->d.isr); /* lowers INTx */
	if (r < 0)
		return test_fail("vd%c: the CPL3 loop did not return by SYS_EXIT", 'a' + k->index);
	if (ret[1] || ret[0] != p->n)
		return test_fail("vd%c: CPL3 %s: %lu of %lu requests, %s head %lu status %lu",
				 'a' + k->index, p->type == T_IN ? "reads" : "writes",
				 (unsigned long)ret[0], (unsigned long)p->n,
				 ret[1] & UBAD_FLUSH ? "flush" : "bad",
				 (unsigned long)(ret[1] >> 8 & 0xffff),
				 (unsigned long)(ret[1] & 0xff));
	*seed = ureq.seed;
	*ticks += ret[2];
	*kicks += ureq.kicks;
	return 0;
}

/* The CPL3 benchmarks write this 1 MiB pattern to every MiB (word w of a
 * MiB is (w + 1) * UPAT_MUL, little-endian; tests/integration/vm checks it
 * on the host file) and check what their reads bring back: the last MiB of
 * the sequential reads, and the last 4 KiB block each slot read at random,
 * against its sector. In 64-bit words: CPL0 is slow under KVM-PVM. */
#define UPAT_MUL 0x9E3779B97F4A7C15ull

static void upat_fill(void)
{
	uint64_t *w = phys(BENCH_BUF);

	for (uint64_t i = 0; i < BENCH_CHUNK / 8; i++)
		w[i] = (i + 1) * UPAT_MUL;
}

/* Whether the len bytes at BENCH_BUF + at hold the pattern from byte off
 * of a MiB (off and len multiples of 8). */
static bool upat_holds(uint64_t at, uint64_t off, uint64_t len)
{
	const uint64_t *w = phys(BENCH_BUF + at);

	for (uint64_t i = 0; i < len / 8; i++)
		if (w[i] != (off / 8 + i + 1) * UPAT_MUL)
			return false;
	return true;
}

/* After random reads with @qd slots: each slot's block is its sector's. */
static int upat_check_slots(const struct disk *k, unsigned qd)
{
	for (unsigned i = 0; i < qd; i++) {
		uint64_t s = ureq.hdr[i].sector;

		if (!upat_holds(4096ull * i, (s * SECTOR) & (BENCH_CHUNK - 1), 4096))
			return test_fail("vd%c: the random read of sector %lu (slot %u) brought "
					 "other data",
					 'a' + k->index, (unsigned long)s, i);
	}
	return 0;
}

/* Pass @pass (0 write+flush, 1 read, 2 random, 3 random QD) of the bench
 * over [from, to) (sequential) or n requests (random) at CPL3; clears the
 * buffers a read pass fills and checks them afterwards. */
static int user_pass(const struct disk *k, unsigned pass, uint64_t bytes, uint64_t from,
		     uint64_t to, unsigned n, uint64_t *seed, uint64_t *ticks, uint64_t *kicks)
{
	struct upass p = { .type = pass ? T_IN : T_OUT, .len = 4096, .qd = 1, .n = n };

	if (pass < 2) {
		p.len = BENCH_CHUNK;
		p.flush = pass == 0;
		p.n = (to - from + BENCH_CHUNK - 1) / BENCH_CHUNK;
		p.sector0 = from / SECTOR;
	} else {
		p.span = bytes / 4096;
		p.qd = pass == 3 ? BENCH_QD : 1;
	}
	if (pass)
		memset(phys(BENCH_BUF), 0, pass == 1 ? BENCH_CHUNK : 4096ull * p.qd);
	if (blk_user(k, &p, seed, ticks, kicks))
		return -1;
	if (pass == 1 && !upat_holds(0, 0, BENCH_CHUNK))
		return test_fail("vd%c: the last MiB read is not the pattern written",
				 'a' + k->index);
	return pass > 1 ? upat_check_slots(k, p.qd) : 0;
}

/* What the CPL3 benchmarks run: MiB[/PASSES[/N]]. PASSES picks passes
 * by letter, in the usual order whatever the letters' order: w (1 MiB
 * writes, then a flush), r (1 MiB reads), k (4 KiB random reads, one in
 * flight), q (the same, BENCH_QD in flight); default all four. N random
 * reads per random pass (default BENCH_RAND, at least BENCH_QD). A pass not
 * run prints 0. bench/blk.py runs short passes in many rounds this way. */
struct ubench {
	uint64_t mib, nrand;
	bool pass[4];
};

static const char ubench_letters[4] = { 'w', 'r', 'k', 'q' };

static int ubench_passes(const char *name, const char *s, size_t n, struct ubench *u)
{
	for (size_t i = 0; i < n; i++) {
		unsigned p = 0;

		while (p < 4 && ubench_letters[p] != s[i])
			p++;
		if (p == 4)
			return test_fail("%s: pass '%c' is none of w, r, k, q", name, s[i]);
		u->pass[p] = true;
	}
	return n ? 0 : test_fail("%s: no pass named", name);
}

/* The first '/' in s, or NULL. */
static const char *slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return s;
	return NULL;
}

static int ubench_args(const char *name, const char *arg, struct ubench *u)
{
	const char *c1 = slash(arg), *c2 = c1 ? slash(c1 + 1) : NULL;
	size_t mlen = c1 ? (size_t)(c1 - arg) : strlen(arg);

	*u = (struct ubench){ .nrand = BENCH_RAND, .pass = { true, true, true, true } };
	if (bench_mib(name, arg, mlen, &u->mib))
		return -1;
	if (c1) {
		u->pass[0] = u->pass[1] = u->pass[2] = u->pass[3] = false;
		if (ubench_passes(name, c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1), u))
			return -1;
	}
	if (c2 && (parse_u64(c2 + 1, strlen(c2 + 1), &u->nrand) || u->nrand < BENCH_QD ||
		   u->nrand > (1u << 30)))
		return test_fail("%s: %s: not a request count from %u", name, c2 + 1, BENCH_QD);
	return 0;
}

static void user_print(const char *name, const struct disk *k, const struct ubench *u,
		       const uint64_t kicks[4])
{
	uint64_t n[4] = { u->mib, u->mib, u->nrand, u->nrand };

	for (unsigned p = 0; p < 4; p++)
		n[p] = u->pass[p] ? n[p] : 0;
	kprintf("%s: %srequests=%lu/%lu/%lu/%lu kicks=%lu/%lu/%lu/%lu data checked\n", name,
		k ? (k->index ? "vdb " : "vda ") : "", (unsigned long)n[0], (unsigned long)n[1],
		(unsigned long)n[2], (unsigned long)n[3], (unsigned long)kicks[0],
		(unsigned long)kicks[1], (unsigned long)kicks[2], (unsigned long)kicks[3]);
}

/* virtio-blk-bench-user[:MiB[/PASSES[/N]]] (ubench_args): virtio-blk-bench's
 * four passes with the requests submitted and the used ring polled at CPL3
 * (blk_user_loop), so that under KVM-PVM (guest CPL3 native, CPL0
 * emulated) the device path is timed rather than the emulator running a
 * CPL0 loop. */
int test_virtio_blk_bench_user(const char *arg)
{
	struct disk k = { 0 };
	uint64_t bytes, t[4] = { 0 }, kicks[4] = { 0 }, seed = 88172645463325252ull;
	struct ubench u;

	if (ubench_args("virtio-blk-bench-user", arg, &u) || bench_disk(&k, 0, u.mib))
		return -1;
	bytes = u.mib << 20;
	upat_fill();
	for (unsigned pass = 0; pass < 4; pass++)
		if (u.pass[pass] && user_pass(&k, pass, bytes, 0, bytes, (unsigned)u.nrand, &seed,
					      &t[pass], &kicks[pass]))
			return -1;
	w8(k.d.common + C_STATUS, 0);
	bench_print_n("virtio-blk-bench-user", NULL, bytes, u.nrand, t);
	user_print("virtio-blk-bench-user", NULL, &u, kicks);
	return 0;
}

/* One pass of virtio-blk-ab-user: slices of AB_SLICE bytes or AB_RAND
 * requests (the last one shorter), alternating between the disks. */
static int ab_user_pass(struct disk k[2], unsigned pass, const struct ubench *u, uint64_t seed[2],
			uint64_t t[2][4], uint64_t kicks[2][4])
{
	uint64_t bytes = u->mib << 20;
	uint64_t nslices = pass < 2 ? (bytes + AB_SLICE - 1) / AB_SLICE :
				      (u->nrand + AB_RAND - 1) / AB_RAND;

	for (uint64_t s = 0; s < nslices; s++)
		for (unsigned j = 0; j < 2; j++) {
			unsigned i = j ^ (unsigned)(s & 1);
			uint64_t from = s * AB_SLICE,
				 to = from + AB_SLICE < bytes ? from + AB_SLICE : bytes;
			uint64_t n = u->nrand - s * AB_RAND < AB_RAND ? u->nrand - s * AB_RAND :
									AB_RAND;

			use_rings(i);
			if (user_pass(&k[i], pass, bytes, from, to, (unsigned)n, &seed[i],
				      &t[i][pass], &kicks[i][pass]))
				return -1;
		}
	return 0;
}

/* virtio-blk-ab-user[:MiB[/PASSES[/N]]]: virtio-blk-ab's alternating
 * slices, each at CPL3 as in virtio-blk-bench-user. */
int test_virtio_blk_ab_user(const char *arg)
{
	struct disk k[2] = { 0 };
	uint64_t t[2][4] = { 0 }, kicks[2][4] = { 0 };
	uint64_t seed[2] = { 88172645463325252ull, 88172645463325252ull };
	struct ubench u;

	if (ubench_args("virtio-blk-ab-user", arg, &u))
		return -1;
	for (unsigned i = 0; i < 2; i++) {
		use_rings(i);
		if (bench_disk(&k[i], i, u.mib))
			return -1;
	}
	upat_fill();
	for (unsigned pass = 0; pass < 4; pass++)
		if (u.pass[pass] && ab_user_pass(k, pass, &u, seed, t, kicks))
			return -1;
	for (unsigned i = 0; i < 2; i++) {
		bench_print_n("virtio-blk-ab-user", &k[i], u.mib << 20, u.nrand, t[i]);
		user_print("virtio-blk-ab-user", &k[i], &u, kicks[i]);
	}
	return 0;
}
