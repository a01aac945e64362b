/* The virtqueue descriptor walker against a hostile driver: data is a
 * 4-byte header (feature bits, queue size, used length) and then the guest
 * RAM image holding the rings (tests/unit/virtio/vq-harness.h layout).
 * Every popped chain has all its bytes read and written, so ASan sees any
 * iovec outside the RAM buffer; the pop loop is bounded, so a hang is a bug. */
#include "fuzz.h"
#include "../unit/virtio/vq-harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HDR 4

static void touch(const struct vs_vq_elem *e)
{
	volatile uint8_t sink = 0;

	for (unsigned i = 0; i < e->nout + e->nin; i++) {
		uint8_t *p = e->iov[i].iov_base;
		size_t n = e->iov[i].iov_len;

		if (i < e->nout)
			sink ^= p[0] ^ p[n - 1];
		else
			p[0] = p[n - 1] = sink;
	}
}

static void drive(struct vq_harness *h, uint32_t push_len)
{
	struct vs_vq_elem e;
	int r = 0;

	if (vs_vq_elem_init(&e, h->vq.size) < 0)
		return;
	for (unsigned n = 0; n < 2u * h->vq.size + 2; n++) {
		r = vs_vq_pop(&h->vq, &e);
		if (r <= 0)
			break;
		touch(&e);
		if (e.in_len > e.out_len + e.in_len || vs_vq_push(&h->vq, &e, push_len) < 0)
			abort();
		(void)vs_vq_should_notify(&h->vq);
	}
	if (r == 0)
		(void)vs_vq_enable_notify(&h->vq);
	vs_vq_elem_free(&e);
}

int fuzz_vq_one(const uint8_t *data, size_t size)
{
	struct vq_harness h;
	uint8_t *ram;
	unsigned qsize;

	if (size < HDR)
		return 0;
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return -ENOMEM;
	memcpy(ram, data + HDR, size - HDR < RAM_SIZE ? size - HDR : RAM_SIZE);
	/* sizes 1..256 keep the rings inside the fixed layout */
	qsize = 1u + data[1];
	vqh_init(&h, ram, qsize);
	h.vq.event_idx = data[0] & 1;
	h.vq.indirect = data[0] & 2;
	if (vs_vq_enable(&h.vq, &h.dma) == 0)
		drive(&h, data[2] | (uint32_t)data[3] << 8);
	free(ram);
	return 1;
}
