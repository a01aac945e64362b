/* test-virtio-net.c - a minimal virtio-net driver (virtio 1.2 §5.1) over
 * the modern PCI transport: the first 1af4:1041 function on bus 0.
 *
 * virtio-net[:mrg|nomrg][-q]: negotiate VERSION_1, MAC, STATUS and (unless nomrg)
 * MRG_RXBUF; read the MAC and link status; post receive buffers (512
 * bytes with mergeable buffers, so a full-size frame spans several;
 * 2048 without); send one frame (ethertype 0x88b5, "vessel-net hello"),
 * wait for the host's reply (ethertype 0x88b5, "vessel-net reply" and a
 * patterned payload, 1400 bytes in all), check it, and send it back with
 * "vessel-net echo" in front of the pattern. Other frames (the host's IPv6
 * noise) are skipped and their buffers reposted. Then a TX chain with no
 * room for the header and an empty-header chain must come back used (the
 * device drops them) without breaking the queue. -q is for QEMU 7.2 as the
 * reference device: no malformed chains (it marks itself broken instead,
 * which the spec also allows) and num_buffers 0 accepted without
 * MRG_RXBUF (the spec says 1, as vessel sets).
 *
 * virtio-net-bench[:N]: N (default 200000) 60-byte frames to the host as
 * fast as the ring takes them; prints frames per second.
 *
 * virtio-net-bench-user[:N]: the same frames from a producer loop at CPL3
 * (bench_user_loop, in .text.user): the TX rings, the frame and the notify
 * register's page are mapped into the user window, the loop fills the avail
 * ring, reads the used ring, writes the notify register when the device has
 * not set NO_NOTIFY, and hands its counts back with SYSCALL. Where KVM runs
 * guest CPL3 natively and emulates CPL0 (KVM-PVM), this times the device
 * path rather than the emulator running our loop. The queue is polled, so
 * it asks for no interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT). With ":event-idx"
 * it negotiates VIRTIO_F_EVENT_IDX and kicks when the new avail idx passes
 * the device's avail_event (§2.7.10), as Linux does; used_event stays 0, so
 * the device interrupts once per 65536 frames.
 *
 * virtio-net-udp:tx/N/DSTMAC/SRCIP/DSTIP (DSTMAC as 12 hex digits, IPs
 * dotted): N IPv4/UDP frames of 1514 bytes (1472 bytes of payload, port
 * UDP_PORT both ways, no UDP checksum) to DSTMAC/DSTIP as fast as the ring
 * takes them: a stream a receiver on the host's side counts
 * (bench/net-vm-ctr.py). Prints frames, bytes and the guest's time.
 * virtio-net-udp:rx/N: prints "rx ready", then counts the IPv4/UDP frames
 * to UDP_PORT that arrive until N did or none came for RX_IDLE_MS (the
 * first may take RX_FIRST_MS); prints frames, bytes and the time from the
 * first to the last. Fails if none arrived.
 * tx-user/... and rx-user/N: the same, with the loop at CPL3 (tx-user:
 * bench_user_loop over the UDP frame; rx-user: rx_user_loop, which polls
 * the RX used ring, counts and reposts at CPL3), so that under KVM-PVM the
 * device path is timed rather than the emulator running a CPL0 loop. */
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "paging.h"
#include "pgtable.h"
#include "tests.h"
#include "tsc.h"
#include "user.h"
#include "user-io.h"
#include "virtio-pci.h"

#define VIRTIO_NET_ID 0x1041
#define RXQ_SIZE 32
#define TXQ_SIZE 256
#define HDR_LEN 12
#define F_MAC (1u << 5)
#define F_MRG_RXBUF (1u << 15)
#define F_STATUS (1u << 16)
#define F_EVENT_IDX (1u << 29)
#define ETHERTYPE 0x88b5
#define FRAME_LEN 1400 /* the host's reply, Ethernet header included */
#define USED_F_NO_NOTIFY 1
#define AVAIL_F_NO_INTERRUPT 1
#define VEC_PF 14

struct vq {
	struct desc *desc;
	uint16_t *avail;
	uint8_t *used;
	uint16_t size, last_used;
	unsigned index;
};

static struct desc rx_desc[RXQ_SIZE] __attribute__((aligned(4096)));
static uint16_t rx_avail[3 + RXQ_SIZE] __attribute__((aligned(4096)));
static uint8_t rx_used[6 + 8 * RXQ_SIZE] __attribute__((aligned(4096)));
static struct desc tx_desc[TXQ_SIZE] __attribute__((aligned(4096)));
static uint16_t tx_avail[3 + TXQ_SIZE] __attribute__((aligned(4096)));
static uint8_t tx_used[6 + 8 * TXQ_SIZE] __attribute__((aligned(4096)));
static uint8_t rx_bufs[RXQ_SIZE][2048] __attribute__((aligned(4096)));
static uint8_t tx_buf[HDR_LEN + 2048];
static uint8_t frame[2048];
/* Aligned so that it never straddles a page (it is mapped for user mode). */
static uint8_t bench_frame[HDR_LEN + 60] __attribute__((aligned(128)));

struct nic {
	struct vdev d;
	uint32_t features;
	uint8_t mac[6];
	uint32_t rx_buf_len;
	bool old_num_buffers; /* -q: accept num_buffers 0 without MRG_RXBUF (QEMU 7.2) */
	bool event_idx; /* ask for EVENT_IDX too */
	struct vq rx, tx;
};

static const char hello[] = "vessel-net hello";
static const char reply[] = "vessel-net reply";
static const char echo[] = "vessel-net echo";

static uint8_t pattern(unsigned i)
{
	return (uint8_t)(i * 7 + 3);
}

/* Queue q of size n on the given rings, cleared. Returns 0 if accepted. */
static int queue_setup(uint64_t c, struct vq *vq, unsigned q, uint16_t n)
{
	memset(vq->avail, 0, 2 * (3 + n));
	memset(vq->used, 0, 6 + 8 * n);
	vq->size = n;
	vq->last_used = 0;
	vq->index = q;
	w16(c + C_QSEL, (uint16_t)q);
	if (r16(c + C_QSIZE) < n)
		return -1;
	w16(c + C_QSIZE, n);
	mmio_write32(c + C_QDESC, (uint32_t)(uintptr_t)vq->desc);
	mmio_write32(c + C_QDESC + 4, 0);
	mmio_write32(c + C_QAVAIL, (uint32_t)(uintptr_t)vq->avail);
	mmio_write32(c + C_QAVAIL + 4, 0);
	mmio_write32(c + C_QUSED, (uint32_t)(uintptr_t)vq->used);
	mmio_write32(c + C_QUSED + 4, 0);
	w16(c + C_QENA, 1);
	return 0;
}

static void kick(const struct nic *k, const struct vq *vq)
{
	w16(k->d.notify + (uint64_t)vq->index * k->d.notify_mult, (uint16_t)vq->index);
}

/* Makes descriptor i available (already filled). */
static void post(const struct nic *k, struct vq *vq, uint16_t i, bool notify)
{
	uint16_t idx = vq->avail[1];

	vq->avail[2 + idx % vq->size] = i;
	__asm__ volatile("mfence" ::: "memory");
	*(volatile uint16_t *)&vq->avail[1] = (uint16_t)(idx + 1);
	__asm__ volatile("mfence" ::: "memory");
	if (notify)
		kick(k, vq);
}

static void rx_post(struct nic *k, uint16_t i)
{
	rx_desc[i] = (struct desc){ (uintptr_t)rx_bufs[i], k->rx_buf_len, DESC_WRITE, 0 };
	post(k, &k->rx, i, true);
}

static uint16_t used_idx(const struct vq *vq)
{
	return *(volatile uint16_t *)&vq->used[2];
}

/* Waits up to ms for a used entry; returns 0 with id and len, or -1. */
static int take_used(struct vq *vq, uint64_t ms, uint32_t *id, uint32_t *len)
{
	uint64_t end = rdtsc() + tsc_khz() * ms;
	volatile uint32_t *e;

	while (used_idx(vq) == vq->last_used)
		if (rdtsc() > end)
			return -1;
		else
			cpu_pause();
	__asm__ volatile("lfence" ::: "memory");
	e = (volatile uint32_t *)&vq->used[4 + 8 * (vq->last_used % vq->size)];
	*id = e[0];
	*len = e[1];
	vq->last_used++;
	return 0;
}

/* Sends header + len bytes of frame as one chain of two descriptors
 * (header, then frame). Returns the used length or -1 on a timeout. */
static int send(struct nic *k, const void *data, uint32_t len)
{
	uint32_t id, used;

	memset(tx_buf, 0, HDR_LEN);
	memcpy(tx_buf + HDR_LEN, data, len);
	tx_desc[0] = (struct desc){ (uintptr_t)tx_buf, HDR_LEN, DESC_NEXT, 1 };
	tx_desc[1] = (struct desc){ (uintptr_t)tx_buf + HDR_LEN, len, 0, 0 };
	post(k, &k->tx, 0, true);
	if (take_used(&k->tx, 5000, &id, &used) < 0)
		return -1;
	(void)r8(k->d.isr);
	return id == 0 ? 0 : -1;
}

/* Features, queues, DRIVER_OK. Returns the status. */
static uint8_t nic_init(struct nic *k, bool mrg)
{
	uint64_t c = k->d.common;
	uint32_t want = F_MAC | F_STATUS | (mrg ? F_MRG_RXBUF : 0) |
			(k->event_idx ? F_EVENT_IDX : 0);

	w8(c + C_STATUS, 0);
	w8(c + C_STATUS, S_ACK | S_DRIVER);
	mmio_write32(c + C_DFSEL, 1);
	if (!(mmio_read32(c + C_DF) & 1))
		return 0;
	mmio_write32(c + C_DFSEL, 0);
	k->features = mmio_read32(c + C_DF) & want;
	mmio_write32(c + C_GFSEL, 0);
	mmio_write32(c + C_GF, k->features);
	mmio_write32(c + C_GFSEL, 1);
	mmio_write32(c + C_GF, 1);
	w8(c + C_STATUS, S_ACK | S_DRIVER | S_FEAT_OK);
	if (!(r8(c + C_STATUS) & S_FEAT_OK))
		return 0;
	k->rx = (struct vq){ .desc = rx_desc, .avail = rx_avail, .used = rx_used };
	k->tx = (struct vq){ .desc = tx_desc, .avail = tx_avail, .used = tx_used };
	if (queue_setup(c, &k->rx, 0, RXQ_SIZE) || queue_setup(c, &k->tx, 1, TXQ_SIZE))
		return 0;
	w8(c + C_STATUS, S_ACK | S_DRIVER | S_FEAT_OK | S_DRV_OK);
	return r8(c + C_STATUS);
}

static int find_nic(struct nic *k)
{
	for (unsigned slot = 0; slot < 32; slot++)
		if (cfg32(slot, 0) == (VIRTIO_NET_ID << 16 | VIRTIO_VENDOR))
			return vdev_caps(&k->d, slot) < 0 || !k->d.device ? -2 : 0;
	return -1;
}

static int nic_up(struct nic *k, bool mrg)
{
	uint8_t st;
	int r = find_nic(k);

	if (r == -1)
		return test_fail("no virtio-net (1af4:1041) on bus 0");
	if (r < 0)
		return test_fail("virtio-net: capabilities missing");
	st = nic_init(k, mrg);
	if (!(st & S_DRV_OK))
		return test_fail("driver init failed (status 0x%x)", st);
	for (unsigned i = 0; i < 6; i++)
		k->mac[i] = r8(k->d.device + i);
	k->rx_buf_len = (k->features & F_MRG_RXBUF) ? 512 : 2048;
	return 0;
}

/* Takes one frame (all its buffers), copies it without the header into
 * frame, reposts the buffers. Returns its length, -2 when no frame came
 * within ms, or -1 on a malformed delivery. */
static int receive(struct nic *k, uint64_t ms)
{
	uint32_t id, len, got = 0;
	uint16_t nbufs = 1;
	int bad = 0;

	for (uint16_t b = 0; b < nbufs; b++) {
		if (take_used(&k->rx, b ? 1000 : ms, &id, &len) < 0)
			return b ? test_fail("virtio-net: frame incomplete") : -2;
		if (id >= RXQ_SIZE)
			return test_fail("virtio-net: used id %u of %u", id, RXQ_SIZE);
		if (len > k->rx_buf_len)
			bad = test_fail("virtio-net: used length %u > buffer", len);
		if (b == 0) {
			memcpy(&nbufs, rx_bufs[id] + 10, 2);
			/* §5.1.6.4: 1 without MRG_RXBUF (older QEMU leaves 0) */
			if (!(k->features & F_MRG_RXBUF) && nbufs != 1 &&
			    !(k->old_num_buffers && nbufs == 0))
				bad = test_fail("virtio-net: num_buffers %u without MRG_RXBUF",
						nbufs);
			if (!(k->features & F_MRG_RXBUF))
				nbufs = 1;
			if (len < HDR_LEN || !nbufs || nbufs > RXQ_SIZE)
				bad = test_fail("virtio-net: len %u num_buffers %u", len, nbufs);
		}
		if (!bad) {
			uint32_t skip = b ? 0 : HDR_LEN;
			uint32_t n = len - skip;

			if (got + n > sizeof(frame))
				n = sizeof(frame) - got;
			memcpy(frame + got, rx_bufs[id] + skip, n);
			got += n;
		}
		rx_post(k, (uint16_t)id);
		if (bad)
			return -1;
	}
	(void)r8(k->d.isr);
	kprintf("virtio-net: received %u bytes in %u buffer(s)\n", got, nbufs);
	return (int)got;
}

/* dst, src, ethertype, text */
static uint32_t make_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, const char *text)
{
	uint32_t n = (uint32_t)strlen(text);

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	memcpy(f + 14, text, n);
	return 14 + n < 60 ? 60 : 14 + n;
}

/* Whether the frame just received is the host's reply (else: the host's
 * own traffic). */
static bool is_reply(int n)
{
	return n >= 14 && frame[12] == (ETHERTYPE >> 8) && frame[13] == (ETHERTYPE & 0xff) &&
	       !memcmp(frame + 14, reply, sizeof(reply) - 1);
}

/* Sends the hello (from hf: frame is where replies land) and waits for the
 * host's reply, skipping other frames. The hello goes again after each
 * second without a reply, as a real protocol's would: the host drops the
 * first frames sent into a new tap until linkwatch activates its queue
 * discipline, late on a loaded host. Returns 0. */
static int hello_and_reply(struct nic *k, const uint8_t *hf, uint32_t hlen)
{
	uint64_t again = 0;
	int sends = 0, others = 0, n;

	for (;;) {
		if (rdtsc() >= again) {
			if (sends == 10)
				return test_fail("virtio-net: no reply to %d hellos", sends);
			if (send(k, hf, hlen) < 0)
				return test_fail("virtio-net: the hello frame was not sent");
			sends++;
			again = rdtsc() + tsc_khz() * 1000;
		}
		n = receive(k, 100);
		if (n == -2)
			continue;
		if (n < 0)
			return -1;
		if (is_reply(n))
			break;
		if (++others == 64)
			return test_fail("virtio-net: no reply among 64 frames");
	}
	if (memcmp(frame, k->mac, 6))
		return test_fail("virtio-net: the reply is not addressed to our MAC");
	if (n != FRAME_LEN)
		return test_fail("virtio-net: reply of %d bytes, want %d", n, FRAME_LEN);
	for (unsigned i = 14 + sizeof(reply) - 1; i < FRAME_LEN; i++)
		if (frame[i] != pattern(i))
			return test_fail("virtio-net: reply byte %u is 0x%x, want 0x%x", i,
					 frame[i], pattern(i));
	if (sends > 1)
		kprintf("virtio-net: the hello went %d times\n", sends);
	return 0;
}

/* Chains the device must drop without breaking the queue: a frame shorter
 * than the header, and a header alone. */
static int hostile_tx(struct nic *k)
{
	uint32_t id, len;

	tx_desc[2] = (struct desc){ (uintptr_t)tx_buf, 4, 0, 0 };
	post(k, &k->tx, 2, false);
	tx_desc[3] = (struct desc){ (uintptr_t)tx_buf, HDR_LEN, 0, 0 };
	post(k, &k->tx, 3, true);
	for (int i = 0; i < 2; i++)
		if (take_used(&k->tx, 5000, &id, &len) < 0)
			return test_fail("virtio-net: a malformed TX chain was not returned");
	if (r8(k->d.common + C_STATUS) & S_NEEDS_RESET)
		return test_fail("virtio-net: DEVICE_NEEDS_RESET after short TX chains");
	return 0;
}

int test_virtio_net(const char *arg)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t hf[64] = { 0 };
	struct nic k = { 0 };
	uint8_t src[6];
	uint32_t n;
	size_t alen = strlen(arg);
	bool mrg = strncmp(arg, "nomrg", 5) != 0, qemu = alen && arg[alen - 1] == 'q';

	k.old_num_buffers = qemu;
	if (nic_up(&k, mrg) < 0)
		return -1;
	kprintf("virtio-net: slot %u mac %02x:%02x:%02x:%02x:%02x:%02x status %u features 0x%x\n",
		k.d.slot, k.mac[0], k.mac[1], k.mac[2], k.mac[3], k.mac[4], k.mac[5],
		r16(k.d.device + 6), k.features);
	for (uint16_t i = 0; i < RXQ_SIZE; i++)
		rx_post(&k, i);
	n = make_frame(hf, bcast, k.mac, hello);
	if (hello_and_reply(&k, hf, n) < 0)
		return -1;
	/* Echo: back to the sender, our text over the start of its pattern. */
	memcpy(src, frame + 6, 6);
	memcpy(frame + 6, k.mac, 6);
	memcpy(frame, src, 6);
	memcpy(frame + 14, echo, sizeof(echo) - 1);
	if (send(&k, frame, FRAME_LEN) < 0)
		return test_fail("virtio-net: the echo was not sent");
	if (!qemu && hostile_tx(&k) < 0)
		return -1;
	kprintf("virtio-net: hello sent, reply of %u bytes checked, echo sent\n", FRAME_LEN);
	w8(k.d.common + C_STATUS, 0);
	return 0;
}

#define BENCH_FRAMES 200000
#define BENCH_STALL_MS 5000

/* N, the NIC up, and every TX descriptor pointing at the bench frame. */
static int bench_setup(const char *name, const char *arg, struct nic *k, uint64_t *frames)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	*frames = BENCH_FRAMES;
	if (*arg && (parse_u64(arg, strlen(arg), frames) || !*frames))
		return test_fail("%s:%s: not a frame count", name, arg);
	if (nic_up(k, true) < 0)
		return -1;
	memset(bench_frame, 0, sizeof(bench_frame));
	make_frame(bench_frame + HDR_LEN, bcast, k->mac, "vessel-net bench");
	for (uint16_t i = 0; i < TXQ_SIZE; i++)
		tx_desc[i] = (struct desc){ (uintptr_t)bench_frame, sizeof(bench_frame), 0, 0 };
	return 0;
}

int test_virtio_net_bench(const char *arg)
{
	struct nic k = { 0 };
	uint64_t frames, sent = 0, done = 0, t0, t;
	uint32_t id, len;

	if (bench_setup("virtio-net-bench", arg, &k, &frames) < 0)
		return -1;
	t0 = rdtsc();
	while (done < frames) {
		bool more = false;

		while (sent < frames && sent - done < TXQ_SIZE) {
			post(&k, &k.tx, (uint16_t)(sent % TXQ_SIZE), false);
			sent++;
			more = true;
		}
		if (more && !(*(volatile uint16_t *)&tx_used[0] & USED_F_NO_NOTIFY))
			kick(&k, &k.tx);
		while (used_idx(&k.tx) != k.tx.last_used && take_used(&k.tx, 0, &id, &len) == 0)
			done++;
		if (sent - done == TXQ_SIZE && take_used(&k.tx, BENCH_STALL_MS, &id, &len) == 0)
			done++;
		else if (sent - done == TXQ_SIZE)
			return test_fail("virtio-net-bench: the ring stalled at %lu frames",
					 (unsigned long)done);
	}
	t = rdtsc() - t0;
	kprintf("virtio-net-bench: frames=%lu frames-per-s=%lu\n", (unsigned long)frames,
		(unsigned long)(frames * tsc_khz() * 1000 / (t ? t : 1)));
	w8(k.d.common + C_STATUS, 0);
	return 0;
}

/* --- the CPL3 producer (virtio-net-bench-user) --------------------------- */

/* What bench_user_loop is given, all user addresses; mapped read-only. */
struct ubench {
	volatile uint16_t *avail; /* flags, idx, ring[size] */
	const volatile uint16_t *used; /* flags, idx, ring[size] of {id, len} */
	const volatile uint16_t *avail_event; /* with EVENT_IDX, else NULL */
	volatile uint16_t *notify; /* the TX queue's notify register */
	uint64_t frames, stall_cycles;
	uint16_t size, queue; /* size: a power of two */
} __attribute__((aligned(64)));

/* Window pages (paging.h) of the user mappings. */
#define UPG_ARGS (UPG_CALLER_FIRST + 0)
#define UPG_DESC (UPG_CALLER_FIRST + 1)
#define UPG_AVAIL (UPG_CALLER_FIRST + 2)
#define UPG_USED (UPG_CALLER_FIRST + 3)
#define UPG_FRAME (UPG_CALLER_FIRST + 4)
#define UPG_NOTIFY (UPG_CALLER_FIRST + 5)
_Static_assert(UPG_NOTIFY <= UPG_CALLER_LAST, "user pages of the bench");

/* Keeps up to b->size frames in flight until b->frames came back used (or
 * nothing came back for b->stall_cycles), like bench's CPL0 loop but with
 * one idx store per descriptor and one full barrier per batch (Linux's
 * virtqueue_add/kick_prepare). SYS_EXIT(frames used, notify writes, TSC
 * cycles). */
USER_TEXT __attribute__((noreturn)) static void bench_user_loop(const struct ubench *b)
{
	const uint64_t frames = b->frames;
	const uint16_t size = b->size, mask = (uint16_t)(size - 1);
	uint64_t sent = 0, done = 0, kicks = 0, t0 = user_rdtsc(), seen = t0;

	while (done < frames) {
		uint64_t from = sent;
		uint16_t u;

		while (sent < frames && sent - done < size) {
			b->avail[2 + (sent & mask)] = (uint16_t)(sent & mask);
			__asm__ volatile("" ::: "memory"); /* the entry before idx (x86: TSO) */
			b->avail[1] = (uint16_t)++sent;
		}
		if (sent != from) {
			bool kick;

			/* idx before avail_event or the flags are read (§2.7.7.2),
			 * or a kick is lost */
			__asm__ volatile("mfence" ::: "memory");
			if (b->avail_event) /* vring_need_event(), §2.7.10 */
				kick = (uint16_t)(sent - *b->avail_event - 1) <
				       (uint16_t)(sent - from);
			else
				kick = !(b->used[0] & USED_F_NO_NOTIFY);
			if (kick) {
				*b->notify = b->queue;
				kicks++;
			}
		}
		u = b->used[1];
		if (u != (uint16_t)done) {
			done += (uint16_t)(u - (uint16_t)done);
			seen = user_rdtsc();
		} else if (user_rdtsc() - seen > b->stall_cycles) {
			break;
		} else {
			__asm__ volatile("pause");
		}
	}
	__asm__ volatile("syscall; ud2"
			 :
			 : "a"(SYS_EXIT), "D"(done), "S"(kicks), "d"(user_rdtsc() - t0)
			 : "rcx", "r11", "memory");
	__builtin_unreachable();
}

/* The user address of queue @vq's notify register, mapped writable at
 * window page @page. */
static volatile uint16_t *user_map_notify(const struct nic *k, const struct vq *vq, unsigned page)
{
	uint64_t c = k->d.common;

	w16(c + C_QSEL, (uint16_t)vq->index);
	return (volatile uint16_t *)user_map_at(
		page, k->d.notify + (uint64_t)r16(c + C_QNOFF) * k->d.notify_mult, PTE_RW);
}

/* The TX rings, @tx_frame (which every descriptor points at; it must not
 * straddle a page), the notify register and @b for user mode; @b filled
 * with their user addresses. Returns @b's user address. */
static uint64_t bench_user_map(const struct nic *k, struct ubench *b, uint64_t frames,
			       const void *tx_frame)
{
	b->notify = user_map_notify(k, &k->tx, UPG_NOTIFY);
	b->avail = (volatile uint16_t *)user_map_at(UPG_AVAIL, (uintptr_t)tx_avail, PTE_RW);
	b->used = (const volatile uint16_t *)user_map_at(UPG_USED, (uintptr_t)tx_used, 0);
	/* avail_event: the u16 after used->ring[size] */
	b->avail_event = (k->features & F_EVENT_IDX) ? b->used + 2 + 4 * TXQ_SIZE : NULL;
	(void)user_map_at(UPG_DESC, (uintptr_t)tx_desc, 0);
	(void)user_map_at(UPG_FRAME, (uintptr_t)tx_frame, 0);
	b->frames = frames;
	b->stall_cycles = tsc_khz() * BENCH_STALL_MS;
	b->size = TXQ_SIZE;
	b->queue = (uint16_t)k->tx.index;
	return user_map_at(UPG_ARGS, (uintptr_t)b, 0);
}

/* Runs @fn (in .text.user) at CPL3 with @arg (a user address made by @map
 * after the window is up) and the queues polled: ret[] = SYS_EXIT's three
 * values. Returns 0, or -1 if @fn did not leave by SYS_EXIT. */
static int user_run(const void *fn, uint64_t (*map)(void *ctx), void *ctx, uint64_t ret[3])
{
	int r;

	_Static_assert((TXQ_SIZE & (TXQ_SIZE - 1)) == 0, "the user loops mask ring indexes");
	_Static_assert((RXQ_SIZE & (RXQ_SIZE - 1)) == 0, "the user loops mask ring indexes");
	tx_avail[0] = AVAIL_F_NO_INTERRUPT;
	rx_avail[0] = AVAIL_F_NO_INTERRUPT;
	pg_window_init();
	idt_set_handler(VEC_PF, fault_handler);
	r = user_call(fn, map(ctx), 0, 0, ret);
	idt_set_handler(VEC_PF, NULL);
	pg_window_fini();
	return r;
}

struct tx_user_ctx {
	const struct nic *k;
	uint64_t frames;
	const void *frame;
};

static uint64_t tx_user_map(void *ctx)
{
	static struct ubench b;
	const struct tx_user_ctx *c = ctx;

	return bench_user_map(c->k, &b, c->frames, c->frame);
}

/* bench_user_loop over the TX queue, whose descriptors all point at @tx_frame:
 * ret[] = frames used, notify writes, TSC cycles. Returns 0 or -1 (a
 * failure, reported as @name's). */
static int tx_user(const char *name, const struct nic *k, uint64_t frames, const void *tx_frame,
		   uint64_t ret[3])
{
	struct tx_user_ctx c = { k, frames, tx_frame };

	if (user_run((const void *)bench_user_loop, tx_user_map, &c, ret) < 0)
		return test_fail("%s: the CPL3 loop did not return by SYS_EXIT", name);
	if (ret[0] != frames)
		return test_fail("%s: the ring stalled at %lu frames", name, (unsigned long)ret[0]);
	return 0;
}

/* [N][:event-idx]: copies N into num (at most len bytes); sets *ei. */
static int bench_user_args(const char *arg, char *num, size_t len, bool *ei)
{
	size_t n = 0;

	while (arg[n] && arg[n] != ':')
		n++;
	*ei = arg[n] == ':';
	if (n >= len || (*ei && strncmp(arg + n + 1, "event-idx", 10)))
		return test_fail("virtio-net-bench-user:%s: expected [N][:event-idx]", arg);
	memcpy(num, arg, n);
	num[n] = 0;
	return 0;
}

int test_virtio_net_bench_user(const char *arg)
{
	struct nic k = { 0 };
	uint64_t frames, ret[3];
	char num[24];
	int r;

	if (bench_user_args(arg, num, sizeof(num), &k.event_idx) < 0 ||
	    bench_setup("virtio-net-bench-user", num, &k, &frames) < 0)
		return -1;
	if (k.event_idx && !(k.features & F_EVENT_IDX))
		return test_fail("virtio-net-bench-user: the device does not offer EVENT_IDX");
	r = tx_user("virtio-net-bench-user", &k, frames, bench_frame, ret);
	w8(k.d.common + C_STATUS, 0);
	if (r < 0)
		return -1;
	kprintf("virtio-net-bench-user: frames=%lu frames-per-s=%lu kicks=%lu\n",
		(unsigned long)frames,
		(unsigned long)(frames * tsc_khz() * 1000 / (ret[2] ? ret[2] : 1)),
		(unsigned long)ret[1]);
	return 0;
}

#define UDP_PORT 5201
#define UDP_FRAME_LEN 1514 /* Ethernet 14 + IPv4 20 + UDP 8 + 1472 */
#define RX_FIRST_MS 60000
#define RX_IDLE_MS 2000

/* Aligned so that it lies in one page (it is mapped for user mode). */
static uint8_t udp_frame[HDR_LEN + UDP_FRAME_LEN] __attribute__((aligned(2048)));

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The next '/'-separated field of *s: sets *n to its length, advances *s. */
static const char *field(const char **s, size_t *n)
{
	const char *f = *s;

	*n = 0;
	while (f[*n] && f[*n] != '/')
		(*n)++;
	*s = f[*n] ? f + *n + 1 : f + *n;
	return f;
}

static int parse_mac(const char *f, size_t n, uint8_t *mac)
{
	if (n != 12)
		return -1;
	for (unsigned i = 0; i < 6; i++) {
		int hi = hexval(f[2 * i]), lo = hexval(f[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* a.b.c.d into ip[4] (network order). */
static int parse_ip(const char *f, size_t n, uint8_t *ip)
{
	size_t i = 0;

	for (unsigned k = 0; k < 4; k++) {
		size_t start = i;
		uint64_t v;

		while (i < n && f[i] != '.')
			i++;
		if (i == start || parse_u64(f + start, i - start, &v) || v > 255 ||
		    (k < 3 && i == n) || (k == 3 && i != n))
			return -1;
		ip[k] = (uint8_t)v;
		i++;
	}
	return 0;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The one frame every TX descriptor points at (RFC 791 header checksum). */
static void udp_frame_make(const uint8_t *src_mac, const uint8_t *dst_mac, const uint8_t *sip,
			   const uint8_t *dip)
{
	uint8_t *f = udp_frame + HDR_LEN, *ip = f + 14, *udp = ip + 20;
	uint32_t sum = 0;

	memset(udp_frame, 0, sizeof(udp_frame));
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	put_be16(f + 12, 0x0800);
	ip[0] = 0x45;
	put_be16(ip + 2, UDP_FRAME_LEN - 14);
	put_be16(ip + 6, 0x4000); /* DF: one id for every datagram is allowed */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put_be16(ip + 10, (uint16_t)~sum);
	put_be16(udp, UDP_PORT);
	put_be16(udp + 2, UDP_PORT);
	put_be16(udp + 4, UDP_FRAME_LEN - 14 - 20);
	for (unsigned i = 8; i < UDP_FRAME_LEN - 34; i++)
		udp[i] = pattern(i);
}

static uint64_t tsc_ns(uint64_t ticks)
{
	uint64_t khz = tsc_khz();

	return ticks * 1000000 / (khz ? khz : 1);
}

/* tx-user: the same stream from bench_user_loop at CPL3. */
static int udp_tx_user(struct nic *k, uint64_t frames)
{
	uint64_t ret[3];

	for (uint16_t i = 0; i < TXQ_SIZE; i++)
		tx_desc[i] = (struct desc){ (uintptr_t)udp_frame, sizeof(udp_frame), 0, 0 };
	if (tx_user("virtio-net-udp", k, frames, udp_frame, ret) < 0)
		return -1;
	kprintf("virtio-net-udp: tx frames=%lu bytes=%lu ns=%lu cpl3 kicks=%lu\n",
		(unsigned long)frames, (unsigned long)(frames * UDP_FRAME_LEN),
		(unsigned long)tsc_ns(ret[2]), (unsigned long)ret[1]);
	return 0;
}

static int udp_tx(struct nic *k, uint64_t frames)
{
	uint64_t sent = 0, done = 0, t0, t;
	uint32_t id, len;

	for (uint16_t i = 0; i < TXQ_SIZE; i++)
		tx_desc[i] = (struct desc){ (uintptr_t)udp_frame, sizeof(udp_frame), 0, 0 };
	t0 = rdtsc();
	while (done < frames) {
		bool more = false;

		while (sent < frames && sent - done < TXQ_SIZE) {
			post(k, &k->tx, (uint16_t)(sent % TXQ_SIZE), false);
			sent++;
			more = true;
		}
		if (more && !(*(volatile uint16_t *)&tx_used[0] & USED_F_NO_NOTIFY))
			kick(k, &k->tx);
		while (used_idx(&k->tx) != k->tx.last_used && take_used(&k->tx, 0, &id, &len) == 0)
			done++;
		if (sent - done == TXQ_SIZE && take_used(&k->tx, 5000, &id, &len) == 0)
			done++;
		else if (sent - done == TXQ_SIZE)
			return test_fail("virtio-net-udp: the ring stalled at %lu frames",
					 (unsigned long)done);
	}
	t = rdtsc() - t0;
	kprintf("virtio-net-udp: tx frames=%lu bytes=%lu ns=%lu\n", (unsigned long)frames,
		(unsigned long)(frames * UDP_FRAME_LEN), (unsigned long)tsc_ns(t));
	return 0;
}

/* One received chain: counted when it is an IPv4/UDP frame to UDP_PORT. */
static bool udp_rx_match(uint32_t id, uint32_t len)
{
	const uint8_t *f = rx_bufs[id] + HDR_LEN;

	return id < RXQ_SIZE && len >= HDR_LEN + 14 + 20 + 8 && len <= 2048 && f[12] == 0x08 &&
	       f[13] == 0x00 && f[14 + 9] == 17 && f[14 + 20 + 2] == (UDP_PORT >> 8) &&
	       f[14 + 20 + 3] == (UDP_PORT & 0xff);
}

/* What rx_user_loop is given, all user addresses; mapped read-only. */
struct urx {
	volatile uint16_t *avail; /* flags, idx, ring[size] */
	const volatile uint16_t *used; /* flags, idx, ring[size] of {id, len} */
	volatile uint16_t *notify; /* the RX queue's notify register */
	const volatile uint8_t *bufs; /* rx_bufs: size buffers of RX_BUF bytes */
	uint64_t want, first_cycles, idle_cycles;
	uint16_t size, queue; /* size: a power of two */
} __attribute__((aligned(64)));

#define RX_BUF 2048
#define UPG_RX_ARGS (UPG_CALLER_FIRST + 6)
#define UPG_RX_AVAIL (UPG_CALLER_FIRST + 7)
#define UPG_RX_USED (UPG_CALLER_FIRST + 8)
#define UPG_RX_NOTIFY (UPG_CALLER_FIRST + 9)
#define UPG_RX_BUFS (UPG_CALLER_FIRST + 10)
_Static_assert(UPG_RX_BUFS + sizeof(rx_bufs) / PG_SIZE - 1 <= UPG_CALLER_LAST,
	       "user pages of the RX loop");
_Static_assert(sizeof(rx_bufs[0]) == RX_BUF, "RX buffers");

/* udp_rx_match() at CPL3, on a buffer's header and frame. */
static inline __attribute__((always_inline)) bool user_udp_match(const volatile uint8_t *b,
								 uint32_t len)
{
	const volatile uint8_t *f = b + HDR_LEN;

	return len >= HDR_LEN + 14 + 20 + 8 && len <= RX_BUF && f[12] == 0x08 && f[13] == 0x00 &&
	       f[14 + 9] == 17 && f[14 + 20 + 2] == (UDP_PORT >> 8) &&
	       f[14 + 20 + 3] == (UDP_PORT & 0xff);
}

/* udp_rx's loop at CPL3: polls the RX used ring, counts the UDP frames to
 * UDP_PORT, reposts every buffer (its descriptor is unchanged: id = buffer)
 * and notifies unless the device set NO_NOTIFY, until r->want frames
 * counted or nothing came for r->first_cycles (before the first) or
 * r->idle_cycles. SYS_EXIT(frames, bytes, TSC cycles first to last). */
USER_TEXT __attribute__((noreturn)) static void rx_user_loop(const struct urx *r)
{
	const uint16_t size = r->size, mask = (uint16_t)(size - 1);
	uint64_t frames = 0, bytes = 0, first = 0, last = 0, seen = user_rdtsc();
	uint16_t seen_used = 0, avail = r->avail[1];

	while (frames < r->want) {
		uint16_t u = r->used[1];

		if (u == seen_used) {
			if (user_rdtsc() - seen > (frames ? r->idle_cycles : r->first_cycles))
				break;
			__asm__ volatile("pause");
			continue;
		}
		__asm__ volatile("" ::: "memory"); /* idx before the entries (x86: TSO) */
		do {
			const volatile uint32_t *e =
				(const volatile uint32_t *)(r->used + 2) + 2 * (seen_used++ & mask);
			uint32_t id = e[0], len = e[1];

			if (id >= size)
				continue;
			if (user_udp_match(r->bufs + (uint64_t)id * RX_BUF, len)) {
				last = user_rdtsc();
				first = frames++ ? first : last;
				bytes += len - HDR_LEN;
			}
			r->avail[2 + (avail & mask)] = (uint16_t)id;
			__asm__ volatile("" ::: "memory"); /* the entry before idx */
			r->avail[1] = ++avail;
		} while (frames < r->want && seen_used != u);
		seen = user_rdtsc();
		__asm__ volatile("mfence" ::: "memory"); /* idx before the flags */
		if (!(r->used[0] & USED_F_NO_NOTIFY))
			*r->notify = r->queue;
	}
	__asm__ volatile("syscall; ud2"
			 :
			 : "a"(SYS_EXIT), "D"(frames), "S"(bytes), "d"(last - first)
			 : "rcx", "r11", "memory");
	__builtin_unreachable();
}

struct rx_user_ctx {
	const struct nic *k;
	uint64_t want;
};

static uint64_t rx_user_map(void *ctx)
{
	static struct urx r;
	const struct rx_user_ctx *c = ctx;

	r.notify = user_map_notify(c->k, &c->k->rx, UPG_RX_NOTIFY);
	r.avail = (volatile uint16_t *)user_map_at(UPG_RX_AVAIL, (uintptr_t)rx_avail, PTE_RW);
	r.used = (const volatile uint16_t *)user_map_at(UPG_RX_USED, (uintptr_t)rx_used, 0);
	for (unsigned i = 0; i < sizeof(rx_bufs) / PG_SIZE; i++)
		(void)user_map_at(UPG_RX_BUFS + i, (uintptr_t)rx_bufs + i * PG_SIZE, 0);
	r.bufs = (const volatile uint8_t *)pg_va(UPG_RX_BUFS);
	r.want = c->want;
	r.first_cycles = tsc_khz() * RX_FIRST_MS;
	r.idle_cycles = tsc_khz() * RX_IDLE_MS;
	r.size = RXQ_SIZE;
	r.queue = (uint16_t)c->k->rx.index;
	return user_map_at(UPG_RX_ARGS, (uintptr_t)&r, 0);
}

/* rx-user: udp_rx with its loop at CPL3 (rx_user_loop). */
static int udp_rx_user(struct nic *k, uint64_t want)
{
	struct rx_user_ctx c = { k, want };
	uint64_t ret[3];

	for (uint16_t i = 0; i < RXQ_SIZE; i++)
		rx_post(k, i);
	kprintf("virtio-net-udp: rx ready\n");
	if (user_run((const void *)rx_user_loop, rx_user_map, &c, ret) < 0)
		return test_fail("virtio-net-udp: the CPL3 loop did not return by SYS_EXIT");
	if (!ret[0])
		return test_fail("virtio-net-udp: no UDP frame to port %u arrived", UDP_PORT);
	kprintf("virtio-net-udp: rx frames=%lu bytes=%lu ns=%lu cpl3\n", (unsigned long)ret[0],
		(unsigned long)ret[1], (unsigned long)tsc_ns(ret[2]));
	return 0;
}

static int udp_rx(struct nic *k, uint64_t want)
{
	uint64_t frames = 0, bytes = 0, first = 0, last = 0;
	uint32_t id, len;

	for (uint16_t i = 0; i < RXQ_SIZE; i++)
		rx_post(k, i);
	kprintf("virtio-net-udp: rx ready\n");
	while (frames < want) {
		bool reposted = false;

		if (take_used(&k->rx, frames ? RX_IDLE_MS : RX_FIRST_MS, &id, &len) < 0)
			break;
		do {
			if (udp_rx_match(id, len)) {
				last = rdtsc();
				first = frames++ ? first : last;
				bytes += len - HDR_LEN;
			}
			if (id < RXQ_SIZE) {
				rx_desc[id] = (struct desc){ (uintptr_t)rx_bufs[id], 2048,
							     DESC_WRITE, 0 };
				post(k, &k->rx, (uint16_t)id, false);
				reposted = true;
			}
		} while (frames < want && used_idx(&k->rx) != k->rx.last_used &&
			 take_used(&k->rx, 0, &id, &len) == 0);
		if (reposted && !(*(volatile uint16_t *)&rx_used[0] & USED_F_NO_NOTIFY))
			kick(k, &k->rx);
	}
	if (!frames)
		return test_fail("virtio-net-udp: no UDP frame to port %u arrived", UDP_PORT);
	kprintf("virtio-net-udp: rx frames=%lu bytes=%lu ns=%lu\n", (unsigned long)frames,
		(unsigned long)bytes, (unsigned long)tsc_ns(last - first));
	return 0;
}

int test_virtio_net_udp(const char *arg)
{
	uint8_t dst_mac[6], sip[4], dip[4];
	struct nic k = { 0 };
	const char *f, *s = arg;
	uint64_t frames;
	size_t n;
	bool tx, user;
	int r;

	f = field(&s, &n);
	user = n == 7 && !strncmp(f + 2, "-user", 5);
	tx = (n == 2 || user) && !strncmp(f, "tx", 2);
	if (!tx && !((n == 2 || user) && !strncmp(f, "rx", 2)))
		return test_fail("virtio-net-udp:%s: tx[-user]/N/MAC/SRCIP/DSTIP or rx[-user]/N",
				 arg);
	f = field(&s, &n);
	if (parse_u64(f, n, &frames) || !frames)
		return test_fail("virtio-net-udp:%s: not a frame count", arg);
	if (tx && (f = field(&s, &n), parse_mac(f, n, dst_mac) < 0 ||
					      (f = field(&s, &n), parse_ip(f, n, sip) < 0) ||
					      (f = field(&s, &n), parse_ip(f, n, dip) < 0) || *s))
		return test_fail("virtio-net-udp:%s: tx[-user]/N/MAC/SRCIP/DSTIP", arg);
	if (nic_up(&k, false) < 0)
		return -1;
	kprintf("virtio-net-udp: mac %02x%02x%02x%02x%02x%02x\n", k.mac[0], k.mac[1], k.mac[2],
		k.mac[3], k.mac[4], k.mac[5]);
	if (tx)
		udp_frame_make(k.mac, dst_mac, sip, dip);
	r = tx ? (user ? udp_tx_user(&k, frames) : udp_tx(&k, frames)) :
		 (user ? udp_rx_user(&k, frames) : udp_rx(&k, frames));
	if (r < 0)
		return -1;
	w8(k.d.common + C_STATUS, 0);
	return 0;
}
