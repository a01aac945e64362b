/* Split virtqueues (virtio 1.2 §2.7): validation of everything the driver
 * wrote, descriptor chain walking (direct and indirect), the used ring and
 * notification suppression (EVENT_IDX, §2.7.10).
 *
 * Ring layout (§2.7.2): desc[size] (16 bytes each, 16-aligned); avail =
 * flags, idx, ring[size], used_event (2-aligned); used = flags, idx,
 * {id,len}[size], avail_event (4-aligned). */
#include "virtio/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2 /* in uint16_t units */
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4 /* in bytes */

static uint64_t desc_bytes(unsigned size)
{
	return 16ull * size;
}

static uint64_t avail_bytes(unsigned size)
{
	return 6ull + 2ull * size;
}

static uint64_t used_bytes(unsigned size)
{
	return 6ull + 8ull * size;
}

int vs_vq_enable(struct vs_vq *vq, const struct vs_dma *dma)
{
	unsigned n = vq->size;

	vq->enabled = false;
	if (!n || n > VS_VQ_MAX_SIZE)
		return -EINVAL;
	if (vq->desc_gpa % 16 || vq->avail_gpa % 2 || vq->used_gpa % 4)
		return -EINVAL;
	vq->desc = vs_dma_ptr(dma, vq->desc_gpa, desc_bytes(n));
	vq->avail = vs_dma_ptr(dma, vq->avail_gpa, avail_bytes(n));
	vq->used = vs_dma_ptr(dma, vq->used_gpa, used_bytes(n));
	if (!vq->desc || !vq->avail || !vq->used)
		return -EINVAL;
	vq->dma = dma;
	vq->last_avail = 0;
	vq->shadow_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->broken = false;
	vq->enabled = true;
	return 0;
}

void vs_vq_reset(struct vs_vq *vq)
{
	vq->enabled = false;
	vq->broken = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->last_avail = 0;
	vq->shadow_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
}

int vs_vq_elem_init(struct vs_vq_elem *elem, unsigned cap)
{
	memset(elem, 0, sizeof(*elem));
	elem->iov = calloc(cap, sizeof(*elem->iov));
	elem->gpa = calloc(cap, sizeof(*elem->gpa));
	if (!elem->iov || !elem->gpa) {
		vs_vq_elem_free(elem);
		return -ENOMEM;
	}
	elem->cap = cap;
	return 0;
}

void vs_vq_elem_free(struct vs_vq_elem *elem)
{
	free(elem->iov);
	free(elem->gpa);
	elem->iov = NULL;
	elem->gpa = NULL;
	elem->cap = 0;
}

static uint16_t avail_idx(const struct vs_vq *vq)
{
	/* Acquire: the ring entries we read next were written before idx
	 * (§2.7.13.3 the driver's write barrier pairs with this). */
	return __atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
}

static uint16_t *used_u16(const struct vs_vq *vq, uint64_t off)
{
	return (uint16_t *)(vq->used + off);
}

static uint64_t avail_event_off(const struct vs_vq *vq)
{
	return USED_RING + 8ull * vq->size;
}

/* Chain walk state: one pop. */
struct walk {
	struct vs_vq *vq;
	struct vs_vq_elem *e;
	bool seen_write;
};

/* Appends one descriptor's buffer. Readable parts must all precede the
 * writable ones (§2.7.4.2); zero-length buffers are refused, as QEMU does. */
static int add_seg(struct walk *w, const struct vs_vring_desc *d)
{
	struct vs_vq_elem *e = w->e;
	unsigned i = e->nout + e->nin;
	void *p;

	if (d->flags & VS_VRING_DESC_F_WRITE)
		w->seen_write = true;
	else if (w->seen_write)
		return -EIO;
	if (!d->len || i >= e->cap)
		return -EIO;
	p = vs_dma_ptr(w->vq->dma, d->addr, d->len);
	if (!p)
		return -EIO;
	if (e->out_len + e->in_len + d->len > VS_VQ_MAX_TOTAL)
		return -EIO;
	e->iov[i] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	e->gpa[i] = d->addr;
	if (d->flags & VS_VRING_DESC_F_WRITE) {
		e->nin++;
		e->in_len += d->len;
	} else {
		e->nout++;
		e->out_len += d->len;
	}
	return 0;
}

static int walk_table(struct walk *w, const struct vs_vring_desc *table, uint32_t n, uint16_t i,
		      bool nested);

/* An indirect descriptor (§2.7.5.3): a table of n = len/16 descriptors,
 * walked from entry 0. No nesting, no NEXT beside INDIRECT. */
static int walk_indirect(struct walk *w, const struct vs_vring_desc *d, bool nested)
{
	const struct vs_vring_desc *table;

	if (nested || !w->vq->indirect || (d->flags & VS_VRING_DESC_F_NEXT))
		return -EIO;
	if (!d->len || d->len % sizeof(*table) || d->len / sizeof(*table) > VS_VQ_MAX_SIZE)
		return -EIO;
	table = vs_dma_ptr(w->vq->dma, d->addr, d->len);
	if (!table)
		return -EIO;
	return walk_table(w, table, d->len / sizeof(*table), 0, true);
}

/* Walks a chain through table[0..n) from entry i. At most n descriptors are
 * visited, so loops end as errors. Each descriptor is copied once out of
 * guest memory before use: the driver cannot change it under us. */
static int walk_table(struct walk *w, const struct vs_vring_desc *table, uint32_t n, uint16_t i,
		      bool nested)
{
	struct vs_vring_desc d;
	uint32_t count = 0;
	int r;

	for (;;) {
		if (i >= n || ++count > n)
			return -EIO;
		memcpy(&d, (const void *)&table[i], sizeof(d));
		if (d.flags & VS_VRING_DESC_F_INDIRECT)
			return walk_indirect(w, &d, nested);
		r = add_seg(w, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VS_VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

static int broken(struct vs_vq *vq)
{
	vq->broken = true;
	return -EIO;
}

int vs_vq_pop(struct vs_vq *vq, struct vs_vq_elem *elem)
{
	struct walk w = { .vq = vq, .e = elem };
	uint16_t idx, head;

	if (!vq->enabled || vq->broken)
		return -EIO;
	if (vq->shadow_avail == vq->last_avail) {
		idx = avail_idx(vq);
		if ((uint16_t)(idx - vq->last_avail) > vq->size)
			return broken(vq); /* §2.7.13.3: at most size chains outstanding */
		if (idx == vq->last_avail)
			return 0;
		vq->shadow_avail = idx;
	}
	head = __atomic_load_n(&vq->avail[AVAIL_RING + vq->last_avail % vq->size],
			       __ATOMIC_RELAXED);
	elem->head = head;
	elem->nout = elem->nin = 0;
	elem->out_len = elem->in_len = 0;
	if (walk_table(&w, vq->desc, vq->size, head, false) < 0)
		return broken(vq);
	if (!elem->out_len && !elem->in_len)
		return broken(vq);
	vq->last_avail++;
	if (vq->event_idx) {
		/* Keep notifications coming for what follows (as QEMU does). */
		__atomic_store_n(used_u16(vq, avail_event_off(vq)), vq->last_avail,
				 __ATOMIC_RELAXED);
		vs_dma_done(vq->dma, vq->used_gpa + avail_event_off(vq), 2);
	}
	return 1;
}

/* Reports the first len bytes of elem's writable parts as DMA writes. */
static void report_written(const struct vs_vq *vq, const struct vs_vq_elem *elem, uint32_t len)
{
	for (unsigned i = elem->nout; len && i < elem->nout + elem->nin; i++) {
		uint32_t n = elem->iov[i].iov_len < len ? (uint32_t)elem->iov[i].iov_len : len;

		vs_dma_done(vq->dma, elem->gpa[i], n);
		len -= n;
	}
}

int vs_vq_push(struct vs_vq *vq, const struct vs_vq_elem *elem, uint32_t len)
{
	struct vs_vring_used_elem u;
	uint64_t off;

	if (!vq->enabled || vq->broken)
		return -EIO;
	if (len > elem->in_len)
		len = (uint32_t)elem->in_len;
	report_written(vq, elem, len);
	u = (struct vs_vring_used_elem){ .id = elem->head, .len = len };
	off = USED_RING + 8ull * (vq->used_idx % vq->size);
	memcpy(vq->used + off, &u, sizeof(u));
	vs_dma_done(vq->dma, vq->used_gpa + off, sizeof(u));
	vq->used_idx++;
	/* Release: the data and the used entry are visible before idx
	 * (§2.7.8.2 "write barrier before updating idx"). */
	__atomic_store_n(used_u16(vq, USED_IDX), vq->used_idx, __ATOMIC_RELEASE);
	vs_dma_done(vq->dma, vq->used_gpa + USED_IDX, 2);
	return 0;
}

int vs_vq_fill(struct vs_vq *vq, const struct vs_vq_elem *elem, uint32_t len, unsigned at)
{
	struct vs_vring_used_elem u;
	uint64_t off;

	if (!vq->enabled || vq->broken || at >= vq->size)
		return -EIO;
	if (len > elem->in_len)
		len = (uint32_t)elem->in_len;
	report_written(vq, elem, len);
	u = (struct vs_vring_used_elem){ .id = elem->head, .len = len };
	off = USED_RING + 8ull * ((uint16_t)(vq->used_idx + at) % vq->size);
	memcpy(vq->used + off, &u, sizeof(u));
	vs_dma_done(vq->dma, vq->used_gpa + off, sizeof(u));
	return 0;
}

int vs_vq_flush(struct vs_vq *vq, unsigned n)
{
	if (!vq->enabled || vq->broken || n > vq->size)
		return -EIO;
	vq->used_idx = (uint16_t)(vq->used_idx + n);
	/* Release: the data and the used entries are visible before idx. */
	__atomic_store_n(used_u16(vq, USED_IDX), vq->used_idx, __ATOMIC_RELEASE);
	vs_dma_done(vq->dma, vq->used_gpa + USED_IDX, 2);
	return 0;
}

void vs_vq_unpop(struct vs_vq *vq, unsigned n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

bool vs_vq_should_notify(struct vs_vq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx, event;
	bool valid = vq->signalled_valid;

	if (!vq->enabled)
		return false;
	/* Full barrier: our used idx store before we read the driver's
	 * suppression fields (§2.7.7.2), or an interrupt could be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx) {
		uint16_t flags = __atomic_load_n(&vq->avail[AVAIL_FLAGS], __ATOMIC_RELAXED);

		return !(flags & VS_VRING_AVAIL_F_NO_INTERRUPT);
	}
	vq->signalled_used = now;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	event = __atomic_load_n(&vq->avail[AVAIL_RING + vq->size], __ATOMIC_RELAXED);
	/* vring_need_event(): event lies in (old, now] (§2.7.10). */
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

static void set_used_flags(struct vs_vq *vq, uint16_t flags)
{
	__atomic_store_n(used_u16(vq, USED_FLAGS), flags, __ATOMIC_RELAXED);
	vs_dma_done(vq->dma, vq->used_gpa + USED_FLAGS, 2);
}

void vs_vq_disable_notify(struct vs_vq *vq)
{
	/* With EVENT_IDX, leaving avail_event behind suppresses notifications. */
	if (vq->enabled && !vq->event_idx)
		set_used_flags(vq, VS_VRING_USED_F_NO_NOTIFY);
}

bool vs_vq_enable_notify(struct vs_vq *vq)
{
	if (!vq->enabled || vq->broken)
		return false;
	if (vq->event_idx) {
		__atomic_store_n(used_u16(vq, avail_event_off(vq)), vq->last_avail,
				 __ATOMIC_RELAXED);
		vs_dma_done(vq->dma, vq->used_gpa + avail_event_off(vq), 2);
	} else {
		set_used_flags(vq, 0);
	}
	/* Full barrier: our flag/event store before we re-read avail idx, or a
	 * chain made meanwhile would sit unnoticed (§2.7.7.2). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_idx(vq) != vq->last_avail;
}

int vs_vq_elem_check(const struct vs_vq_elem *elem, uint64_t min_out, uint64_t min_in)
{
	return elem->out_len >= min_out && elem->in_len >= min_in ? 0 : -EINVAL;
}
