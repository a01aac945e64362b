/* A guest RAM image for virtqueue tests and the fuzz harness: one region at
 * RAM_GPA, rings laid out at fixed offsets, DMA writes recorded. */
#ifndef VS_TESTS_VQ_HARNESS_H
#define VS_TESTS_VQ_HARNESS_H

#include "virtio/queue.h"
#include "vmm/memory.h"

#include <stdint.h>
#include <string.h>

#define RAM_GPA 0x10000ull
#define RAM_SIZE 0x40000ull
#define QSIZE 8
#define DESC_GPA (RAM_GPA + 0x0)
#define AVAIL_GPA (RAM_GPA + 0x1000)
#define USED_GPA (RAM_GPA + 0x2000)
#define DATA_GPA (RAM_GPA + 0x8000)

struct vq_harness {
	uint8_t *ram;
	struct vs_guest_mem mem;
	struct vs_dma dma;
	uint64_t written_lo, written_hi; /* span of reported DMA writes to data */
	unsigned nwritten, ndata;
	struct vs_vq vq;
};

static inline void vqh_written(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vq_harness *h = ctx;

	h->nwritten++;
	if (gpa < DATA_GPA)
		return; /* the rings */
	if (!h->ndata++ || gpa < h->written_lo)
		h->written_lo = gpa;
	if (h->ndata == 1 || gpa + len > h->written_hi)
		h->written_hi = gpa + len;
}

static inline void vqh_init(struct vq_harness *h, uint8_t *ram, unsigned size)
{
	memset(h, 0, sizeof(*h));
	h->ram = ram;
	h->mem.nregions = 1;
	h->mem.regions[0] = (struct vs_mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram };
	h->dma = (struct vs_dma){ .mem = &h->mem, .written = vqh_written, .ctx = h };
	h->vq.size = (uint16_t)size;
	h->vq.desc_gpa = DESC_GPA;
	h->vq.avail_gpa = AVAIL_GPA;
	h->vq.used_gpa = USED_GPA;
}

static inline void *vqh_at(struct vq_harness *h, uint64_t gpa)
{
	return h->ram + (gpa - RAM_GPA);
}

#endif
