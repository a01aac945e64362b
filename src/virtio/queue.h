/* Split virtqueues (virtio 1.2 §2.7) over guest RAM, for a device.
 *
 * The transport configures a queue (size and the three ring addresses the
 * driver wrote) and enables it; the device pops descriptor chains as
 * iovec lists (driver-readable "out" parts first, then device-writable "in"
 * parts), fills the in parts, pushes the chain to the used ring and asks
 * whether to interrupt the driver. Everything the guest supplies (ring
 * addresses, avail idx, heads, descriptor addresses, lengths, next links,
 * indirect tables) is validated against guest RAM with overflow-checked
 * arithmetic; a queue the driver corrupted is marked broken and refuses all
 * further work (the transport then sets DEVICE_NEEDS_RESET, §2.1.2). The
 * walk is bounded by the queue size, so it never loops.
 *
 * Threading: one thread at a time per queue (the device's I/O thread). The
 * rings are shared with the driver on other CPUs: accesses use the barriers
 * of virtio 1.2 §2.7.7 and §2.7.13. */
#ifndef VS_VIRTIO_QUEUE_H
#define VS_VIRTIO_QUEUE_H

#include "vmm/dma.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define VS_VQ_MAX_SIZE 32768 /* virtio 1.2 §2.7: Queue Size at most 32768 */

/* Descriptor flags (virtio 1.2 §2.7.5) */
#define VS_VRING_DESC_F_NEXT 1
#define VS_VRING_DESC_F_WRITE 2
#define VS_VRING_DESC_F_INDIRECT 4
/* Ring flags (§2.7.6, §2.7.8) */
#define VS_VRING_AVAIL_F_NO_INTERRUPT 1
#define VS_VRING_USED_F_NO_NOTIFY 1

/* The largest total a single chain may describe: the used ring's len is
 * 32-bit, and no device wants a bigger request. */
#define VS_VQ_MAX_TOTAL 0x7fffffffu

struct vs_vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vs_vring_desc) == 16, "virtio 1.2 §2.7.5");

struct vs_vring_used_elem {
	uint32_t id;
	uint32_t len;
};
_Static_assert(sizeof(struct vs_vring_used_elem) == 8, "virtio 1.2 §2.7.8");

struct vs_vq {
	/* Set by the transport before vs_vq_enable(). */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */

	/* State, owned by the queue. */
	bool enabled;
	bool broken; /* the driver broke the ring: refuse everything */
	const struct vs_dma *dma;
	struct vs_vring_desc *desc; /* host views of the validated rings */
	uint16_t *avail; /* flags, idx, ring[size], used_event */
	uint8_t *used; /* flags, idx, ring[size], avail_event */
	uint16_t last_avail; /* next avail slot the device reads */
	/* avail->idx as last read: chains up to it are popped without reading
	 * idx again, a line the driver writes for every chain it adds. */
	uint16_t shadow_avail;
	uint16_t used_idx; /* our copy of used->idx */
	uint16_t signalled_used; /* used idx at the last interrupt (EVENT_IDX) */
	bool signalled_valid;
};

/* One popped chain. iov[0..nout) are driver-readable, iov[nout..nout+nin)
 * device-writable; gpa[i] is the guest address of iov[i]. */
struct vs_vq_elem {
	uint16_t head;
	unsigned nout, nin;
	uint64_t out_len, in_len;
	unsigned cap; /* entries in iov and gpa */
	struct iovec *iov;
	uint64_t *gpa;
};

/* Validates the rings the transport set (size 1..32768, alignment 16/2/4,
 * each ring wholly in guest RAM) and enables the queue. Returns 0 or
 * -EINVAL (the queue stays disabled). dma must outlive the queue. */
int vs_vq_enable(struct vs_vq *vq, const struct vs_dma *dma);
/* Back to the reset state (addresses and size kept; not enabled). */
void vs_vq_reset(struct vs_vq *vq);

/* Allocates elem for chains of up to cap segments (use the queue size). */
int vs_vq_elem_init(struct vs_vq_elem *elem, unsigned cap);
void vs_vq_elem_free(struct vs_vq_elem *elem);

/* Takes the next available chain. Returns 1 with *elem filled, 0 when the
 * ring is empty, -EIO when the queue is (now) broken: avail idx more than
 * the size ahead, a head or next out of range, a loop or a chain longer
 * than the queue, an address outside RAM, a bad or nested indirect table,
 * a readable part after a writable one, an empty or oversized total. */
int vs_vq_pop(struct vs_vq *vq, struct vs_vq_elem *elem);

/* Returns the chain to the driver with len bytes written into its in
 * parts (clamped to in_len), reporting those bytes and the used entry as
 * DMA writes. Returns 0 or -EIO on a broken queue. */
int vs_vq_push(struct vs_vq *vq, const struct vs_vq_elem *elem, uint32_t len);

/* Batched returns, for a device that hands several chains back at once
 * (virtio-net's mergeable RX buffers: the driver must see them together,
 * §5.1.6.4). vs_vq_fill writes the used entry `at` places after those
 * already published, with len bytes written (clamped to in_len, reported
 * as DMA); vs_vq_flush publishes n filled entries. Return 0 or -EIO on a
 * broken queue. */
int vs_vq_fill(struct vs_vq *vq, const struct vs_vq_elem *elem, uint32_t len, unsigned at);
int vs_vq_flush(struct vs_vq *vq, unsigned n);

/* Gives back the last n popped chains unused (not pushed): the next pops
 * return them again. For a device that found it cannot use them yet. */
void vs_vq_unpop(struct vs_vq *vq, unsigned n);

/* Whether the driver wants an interrupt for what was pushed since the last
 * call that returned true (§2.7.7.2, EVENT_IDX §2.7.10). */
bool vs_vq_should_notify(struct vs_vq *vq);

/* Notification suppression for the device side (§2.7.7.2): disable while
 * draining, enable before sleeping. vs_vq_enable_notify returns true when
 * more chains arrived meanwhile (drain again). */
void vs_vq_disable_notify(struct vs_vq *vq);
bool vs_vq_enable_notify(struct vs_vq *vq);

/* A device-level check: the chain has at least min_out readable and
 * min_in writable bytes. Returns 0 or -EINVAL (the device fails just
 * that request, e.g. a read-only buffer where it must write). */
int vs_vq_elem_check(const struct vs_vq_elem *elem, uint64_t min_out, uint64_t min_in);

#endif
