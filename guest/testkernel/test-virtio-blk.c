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
 *
 * The pattern (byte j of sector s on disk k) is
 * ((s * 31 + j + k * 101) & 0xff) ^ 0xa5; tests/integration/vm checks it on
 * the host file. */
#include "arch.h"
#include "console.h"
#include "tests.h"
#include "tsc.h"
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

static void bench_print(const char *name, const struct disk *k, uint64_t bytes, const uint64_t t[4])
{
	kprintf("%s: %sMiB=%lu seq-write-MBps=%lu seq-read-MBps=%lu "
		"rand-read-4k-iops=%lu rand-read-4k-qd%u-iops=%lu\n",
		name, k ? (k->index ? "vdb " : "vda ") : "", (unsigned long)(bytes >> 20),
		mbps(bytes, t[0]), mbps(bytes, t[1]),
		(unsigned long)(BENCH_RAND * tsc_khz() * 1000 / (t[2] ? t[2] : 1)), BENCH_QD,
		(unsigned long)(BENCH_RAND * tsc_khz() * 1000 / (t[3] ? t[3] : 1)));
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

static int bench_mib(const char *name, const char *arg, uint64_t *mib)
{
	*mib = 256;
	if (*arg && (parse_u64(arg, strlen(arg), mib) || !*mib || *mib > (1ull << 30)))
		return test_fail("%s:%s: not a size in MiB", name, arg);
	return 0;
}

int test_virtio_blk_bench(const char *arg)
{
	struct disk k = { 0 };
	uint64_t mib, bytes, t[4] = { 0 }, seed = 88172645463325252ull;

	if (bench_mib("virtio-blk-bench", arg, &mib) || bench_disk(&k, 0, mib))
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

	if (bench_mib("virtio-blk-ab", arg, &mib))
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
