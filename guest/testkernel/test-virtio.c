/* test-virtio.c - a minimal virtio 1.x PCI driver (virtio 1.2 §4.1) for the
 * entropy device: find 1af4:1044 on bus 0, read its vendor capabilities,
 * negotiate VERSION_1, set up one split virtqueue, read random bytes
 * twice, check the INTx ISR; switch the queue to an MSI-X vector and take
 * that interrupt through the LAPIC; then offer a descriptor outside RAM and
 * check the device answers DEVICE_NEEDS_RESET (and works again after a
 * reset). */
#include "apic.h"
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "layout.h"
#include "tests.h"
#include "tsc.h"
#include "virtio-pci.h"

#define VIRTIO_RNG_ID 0x1044
#define QSIZE 8
#define BUF_LEN 64

static struct desc ring_desc[QSIZE] __attribute__((aligned(4096)));
static uint16_t ring_avail[3 + QSIZE] __attribute__((aligned(4096)));
static uint8_t ring_used[6 + 8 * QSIZE] __attribute__((aligned(4096)));
static uint8_t bufs[2][BUF_LEN];

static int find_device(struct vdev *d)
{
	for (unsigned slot = 0; slot < 32; slot++)
		if (cfg32(slot, 0) == (VIRTIO_RNG_ID << 16 | VIRTIO_VENDOR))
			return vdev_caps(d, slot);
	return -1;
}

/* §3.1.1 through DRIVER_OK with queue 0. Returns the final status. */
static uint8_t driver_init(const struct vdev *d)
{
	uint64_t c = d->common;

	w8(c + C_STATUS, 0);
	w8(c + C_STATUS, S_ACK | S_DRIVER);
	mmio_write32(c + C_DFSEL, 1);
	if (!(mmio_read32(c + C_DF) & 1))
		return 0; /* no VERSION_1 */
	mmio_write32(c + C_GFSEL, 0);
	mmio_write32(c + C_GF, 0);
	return vdev_queue0_ready(c, ring_desc, ring_avail, sizeof(ring_avail), ring_used,
				 sizeof(ring_used), QSIZE);
}

/* Offers [addr, addr+len) device-writable; waits for it to come back.
 * Returns the used length, or -1 on a timeout. */
static int64_t request(const struct vdev *d, uint64_t addr, uint32_t len)
{
	uint16_t idx = ring_avail[1];
	volatile uint16_t *used_idx = (volatile uint16_t *)&ring_used[2];
	uint32_t used_len;

	ring_desc[idx % QSIZE] = (struct desc){ addr, len, DESC_WRITE, 0 };
	ring_avail[2 + idx % QSIZE] = idx % QSIZE;
	__asm__ volatile("" ::: "memory");
	*(volatile uint16_t *)&ring_avail[1] = (uint16_t)(idx + 1);
	__asm__ volatile("mfence" ::: "memory");
	w16(d->notify + r16(d->common + C_QNOFF) * d->notify_mult, 0);
	for (int i = 0; i < 100000 && *used_idx != (uint16_t)(idx + 1); i++)
		udelay(10);
	if (*used_idx != (uint16_t)(idx + 1))
		return -1;
	used_len = *(volatile uint32_t *)&ring_used[4 + 8 * (idx % QSIZE) + 4];
	return used_len;
}

static bool all_zero(const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static volatile unsigned msis;

static void virtio_isr(struct isr_frame *f)
{
	(void)f;
	msis++;
	lapic_eoi();
}

/* MSI-X (PCI 3.0 §6.8.2): enable, program table entry 1 to our vector on
 * the BSP, make it queue 0's vector, and take one interrupt. */
static int msix(const struct vdev *d)
{
	unsigned cap = 0;
	uint64_t table, e;
	uint32_t bir_off;

	for (unsigned off = cfg8(d->slot, 0x34); off; off = cfg8(d->slot, off + 1))
		if (cfg8(d->slot, off) == 0x11)
			cap = off;
	if (!cap)
		return test_fail("no MSI-X capability");
	bir_off = cfg32(d->slot, cap + 4);
	table = bar_addr(d->slot, bir_off & 7) + (bir_off & ~7u);
	cfg32_write(d->slot, cap, cfg32(d->slot, cap) | 0x80000000u); /* control bit 15 */
	e = table + 16;
	mmio_write32(e + 0, 0xFEE00000u | (bsp_apic_id << 12));
	mmio_write32(e + 4, 0);
	mmio_write32(e + 8, TK_VEC_VIRTIO);
	mmio_write32(e + 12, 0); /* unmask */
	w16(d->common + C_CVEC, 0xFFFF);
	w16(d->common + C_QSEL, 0);
	w16(d->common + C_QVEC, 1);
	if (r16(d->common + C_QVEC) != 1)
		return test_fail("queue vector 1 not accepted (reads 0x%x)",
				 r16(d->common + C_QVEC));
	pic_disable();
	lapic_enable();
	msis = 0;
	idt_set_handler(TK_VEC_VIRTIO, virtio_isr);
	cpu_sti();
	if (request(d, (uintptr_t)bufs[1], BUF_LEN) != BUF_LEN)
		return test_fail("no entropy with MSI-X on");
	for (int i = 0; i < 100000 && !msis; i++)
		udelay(10);
	cpu_cli();
	idt_set_handler(TK_VEC_VIRTIO, NULL);
	kprintf("virtio-rng: MSI-X vector 0x%x: %u interrupt(s), isr 0x%x\n", TK_VEC_VIRTIO, msis,
		r8(d->isr));
	if (msis != 1)
		return test_fail("%u MSI-X interrupts for one request, want 1", msis);
	/* back to INTx for what follows */
	cfg32_write(d->slot, cap, cfg32(d->slot, cap) & ~0x80000000u);
	return 0;
}

static int hostile(const struct vdev *d)
{
	uint8_t st;

	/* A buffer far outside RAM: the device must refuse, not crash. */
	(void)request(d, 0xFFFFFFFFF000ull, BUF_LEN);
	st = r8(d->common + C_STATUS);
	kprintf("virtio-rng: after a descriptor outside RAM: status 0x%x, isr 0x%x\n", st,
		r8(d->isr));
	if (!(st & S_NEEDS_RESET))
		return test_fail("no DEVICE_NEEDS_RESET after a descriptor outside RAM (0x%x)", st);
	st = driver_init(d);
	if (st & S_NEEDS_RESET || !(st & S_DRV_OK))
		return test_fail("reset did not recover the device (status 0x%x)", st);
	memset(bufs[0], 0, BUF_LEN);
	if (request(d, (uintptr_t)bufs[0], BUF_LEN) != BUF_LEN || all_zero(bufs[0], BUF_LEN))
		return test_fail("no entropy after the reset");
	return 0;
}

int test_virtio_rng(const char *arg)
{
	struct vdev d = { 0 };
	uint8_t st, isr;

	(void)arg;
	if (find_device(&d) < 0)
		return test_fail("no virtio-rng (1af4:1044) with its capabilities on bus 0");
	kprintf("virtio-rng: slot %u common 0x%lx notify 0x%lx x%u isr 0x%lx irq %u\n", d.slot,
		(unsigned long)d.common, (unsigned long)d.notify, d.notify_mult,
		(unsigned long)d.isr, cfg8(d.slot, 0x3C));
	st = driver_init(&d);
	if (!(st & S_DRV_OK) || !(st & S_FEAT_OK))
		return test_fail("driver init failed (status 0x%x)", st);
	for (int i = 0; i < 2; i++) {
		int64_t n = request(&d, (uintptr_t)bufs[i], BUF_LEN);

		if (n != BUF_LEN)
			return test_fail("request %d: used length %ld, want %d", i, (long)n,
					 BUF_LEN);
	}
	kprintf("virtio-rng: %02x %02x %02x %02x %02x %02x %02x %02x ...\n", bufs[0][0], bufs[0][1],
		bufs[0][2], bufs[0][3], bufs[0][4], bufs[0][5], bufs[0][6], bufs[0][7]);
	if (all_zero(bufs[0], BUF_LEN) || !memcmp(bufs[0], bufs[1], BUF_LEN))
		return test_fail("the bytes do not look random");
	isr = r8(d.isr);
	if (isr != 1 || r8(d.isr) != 0)
		return test_fail("ISR 0x%x: want 1 (queue interrupt), then 0 after reading", isr);
	if (msix(&d) < 0)
		return -1;
	return hostile(&d);
}
