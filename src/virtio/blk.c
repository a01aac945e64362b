/* virtio-blk (virtio 1.2 §5.2), see blk.h.
 * Map: the chain as header, data and status; each request type; the queue
 * loop; config space; creation; the VM's disks. */
#include "virtio/blk.h"
#include "virtio/pci.h"
#include "block/aio.h"
#include "block/block.h"
#include "block/qcow2.h"
#include "vmm/spec.h"
#include "vmm/vm.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BLK_QUEUE_SIZE 256
#define SECTOR 512u
#define HDR_LEN 16
#define SEG_MAX (BLK_QUEUE_SIZE - 2) /* header and status take two */
#define DISCARD_SEG_MAX 32
#define DISCARD_SECTORS (1u << 22) /* per segment: 2 GiB */
#define CONFIG_WRITEBACK 32 /* the writeback byte of struct virtio_blk_config */
#define BLK_WORKERS 8 /* the engine's threads per disk (block/aio.h) */

/* One request in flight: its chain, the data part of it, the engine's
 * request. Kept on a free list (at most the queue size of them exist). */
struct blk_req {
	struct vs_blk_req io;
	struct vs_virtio_blk *blk;
	struct vs_vq_elem elem;
	struct iovec *data; /* the data part of the chain */
	unsigned ndata;
	struct vs_blk_range ranges[DISCARD_SEG_MAX];
	uint8_t *status; /* the chain's last writable byte */
	struct blk_req *next_free;
};

struct vs_virtio_blk {
	struct vs_virtio_pci *transport;
	struct vs_dma dma;
	struct vs_blk *img;
	struct vs_blk_aio *aio;
	char *path; /* as given, for messages */
	bool ro;
	bool probed_raw; /* format guessed as raw: refuse writes that would make it look like qcow2 */
	bool wce_default; /* the cache mode's write cache (writeback field) */
	uint8_t wce; /* the writeback field as the driver left it */
	uint64_t capacity; /* in 512-byte sectors */
	char id[VS_VIRTIO_BLK_ID_BYTES];
	/* Under the transport lock: */
	struct blk_req *free_reqs;
	unsigned inflight; /* submitted to the engine, not pushed yet */
	bool closing; /* free() started: take no new requests */
	pthread_cond_t drained; /* inflight reached 0 (waits on the transport lock) */
};

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_seg { /* discard and write-zeroes (§5.2.6) */
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

#define ST_ASYNC 0xff /* the request went to the engine: its callback completes it */

/* Copies len bytes at byte offset skip of iov[0..n) into dst; returns the
 * bytes copied. */
static size_t iov_gather(const struct iovec *iov, unsigned n, size_t skip, void *dst, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, c;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		c = l - skip < len - done ? l - skip : len - done;
		memcpy((uint8_t *)dst + done, (uint8_t *)iov[i].iov_base + skip, c);
		done += c;
		skip = 0;
	}
	return done;
}

/* Sets rq->data to the bytes [skip, skip+len) of iov[0..n). */
static void iov_slice(struct blk_req *rq, const struct iovec *iov, unsigned n, size_t skip,
		      size_t len)
{
	rq->ndata = 0;
	for (unsigned i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		rq->data[rq->ndata++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, l };
		len -= l;
		skip = 0;
	}
}

/* [sector, +bytes) within the capacity, bytes a whole number of sectors. */
static bool range_ok(const struct vs_virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	return bytes % SECTOR == 0 && sector <= blk->capacity &&
	       bytes / SECTOR <= blk->capacity - sector;
}

static uint64_t data_len(const struct blk_req *rq)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < rq->ndata; i++)
		n += rq->data[i].iov_len;
	return n;
}

/* A raw image whose format was probed must not start to look like qcow2,
 * or the next probe would open it as one, with the guest's choice of
 * backing file (QEMU restricts block 0 the same way). */
static bool write_would_change_format(const struct vs_virtio_blk *blk, const struct blk_req *rq,
				      uint64_t sector)
{
	uint8_t magic[4];

	return blk->probed_raw && sector == 0 &&
	       iov_gather(rq->data, rq->ndata, 0, magic, sizeof(magic)) == sizeof(magic) &&
	       qcow2_is_magic(magic);
}

/* ---- requests in flight ---- */

/* Transport lock held. */
static struct blk_req *req_get(struct vs_virtio_blk *blk)
{
	struct blk_req *rq = blk->free_reqs;

	if (rq) {
		blk->free_reqs = rq->next_free;
		return rq;
	}
	rq = xzalloc(sizeof(*rq));
	rq->blk = blk;
	rq->data = xzalloc(BLK_QUEUE_SIZE * sizeof(*rq->data));
	if (vs_vq_elem_init(&rq->elem, BLK_QUEUE_SIZE) < 0) {
		free(rq->data);
		free(rq);
		return NULL;
	}
	return rq;
}

static void req_put(struct vs_virtio_blk *blk, struct blk_req *rq)
{
	rq->next_free = blk->free_reqs;
	blk->free_reqs = rq;
}

/* Transport lock held: the status byte, then the chain back to the driver
 * (the used length is the whole writable part: the status is its last
 * byte, and reporting untouched bytes as written is harmless). */
static void finish(struct vs_virtio_blk *blk, struct blk_req *rq, uint8_t st)
{
	struct vs_virtio_pci *t = blk->transport;

	if (rq->status)
		*rq->status = st;
	vs_vq_push(&t->vq[0], &rq->elem, (uint32_t)rq->elem.in_len);
	req_put(blk, rq);
}

/* The engine's callback, on one of its workers. A reset or free waits for
 * inflight to reach 0, so the queue is still the one rq came from, or
 * disabled (then vs_vq_push refuses). */
static void req_done(struct vs_blk_req *io, int ret)
{
	struct blk_req *rq = io->opaque;
	struct vs_virtio_blk *blk = rq->blk;
	struct vs_virtio_pci *t = blk->transport;

	pthread_mutex_lock(&t->lock);
	finish(blk, rq, ret < 0 ? VS_VIRTIO_BLK_S_IOERR : VS_VIRTIO_BLK_S_OK);
	vs_virtio_pci_queue_done(t, 0);
	if (--blk->inflight == 0)
		pthread_cond_broadcast(&blk->drained);
	pthread_mutex_unlock(&t->lock);
}

/* Transport lock held: hands rq->io (op and buffers set) to the engine. */
static uint8_t submit(struct vs_virtio_blk *blk, struct blk_req *rq)
{
	rq->io.done = req_done;
	rq->io.opaque = rq;
	blk->inflight++;
	vs_blk_aio_submit(blk->aio, &rq->io);
	return ST_ASYNC;
}

/* ---- each request type ---- */

/* IN and OUT straight between guest memory and the image. */
static uint8_t do_rw(struct vs_virtio_blk *blk, struct blk_req *rq, const struct blk_hdr *h)
{
	const struct vs_vq_elem *e = &rq->elem;
	bool in = h->type == VS_VIRTIO_BLK_T_IN;

	if (in)
		iov_slice(rq, e->iov + e->nout, e->nin, 0, e->in_len - 1);
	else
		iov_slice(rq, e->iov, e->nout, HDR_LEN, e->out_len - HDR_LEN);
	if (!range_ok(blk, h->sector, data_len(rq)))
		return VS_VIRTIO_BLK_S_IOERR;
	if (!in && (blk->ro || write_would_change_format(blk, rq, h->sector)))
		return VS_VIRTIO_BLK_S_IOERR;
	rq->io = (struct vs_blk_req){ .op = in ? VS_BLK_OP_READ : VS_BLK_OP_WRITE,
				      .iov = rq->data,
				      .niov = rq->ndata,
				      .off = h->sector * SECTOR };
	return submit(blk, rq);
}

/* The id, NUL-padded to 20 bytes, in as much of it as the buffer takes. */
static uint8_t do_get_id(struct vs_virtio_blk *blk, struct blk_req *rq)
{
	const struct vs_vq_elem *e = &rq->elem;
	uint64_t room = e->in_len - 1;
	size_t done = 0;

	iov_slice(rq, e->iov + e->nout, e->nin, 0, room < sizeof(blk->id) ? room : sizeof(blk->id));
	for (unsigned i = 0; i < rq->ndata; i++) {
		memcpy(rq->data[i].iov_base, blk->id + done, rq->data[i].iov_len);
		done += rq->data[i].iov_len;
	}
	return VS_VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: an array of segments after the header, all
 * checked before any goes to the engine. */
static uint8_t do_ranges(struct vs_virtio_blk *blk, struct blk_req *rq, uint32_t type)
{
	const struct vs_vq_elem *e = &rq->elem;
	uint64_t nbytes = e->out_len - HDR_LEN;
	unsigned n = 0;
	struct blk_seg s;

	if (blk->ro)
		return VS_VIRTIO_BLK_S_IOERR;
	if (nbytes == 0 || nbytes % sizeof(s) || nbytes / sizeof(s) > DISCARD_SEG_MAX)
		return VS_VIRTIO_BLK_S_UNSUPP;
	for (uint64_t off = HDR_LEN; off < e->out_len; off += sizeof(s)) {
		iov_gather(e->iov, e->nout, off, &s, sizeof(s));
		if (s.num_sectors > DISCARD_SECTORS || (s.flags & ~1u) ||
		    (type == VS_VIRTIO_BLK_T_DISCARD && s.flags))
			return VS_VIRTIO_BLK_S_UNSUPP;
		if (!range_ok(blk, s.sector, (uint64_t)s.num_sectors * SECTOR))
			return VS_VIRTIO_BLK_S_IOERR;
		rq->ranges[n++] = (struct vs_blk_range){ s.sector * SECTOR,
							 (uint64_t)s.num_sectors * SECTOR };
	}
	rq->io = (struct vs_blk_req){ .op = type == VS_VIRTIO_BLK_T_DISCARD ?
						    VS_BLK_OP_DISCARD :
						    VS_BLK_OP_WRITE_ZEROES,
				      .ranges = rq->ranges,
				      .nranges = n };
	return submit(blk, rq);
}

static uint8_t do_flush(struct vs_virtio_blk *blk, struct blk_req *rq)
{
	rq->io = (struct vs_blk_req){ .op = VS_BLK_OP_FLUSH };
	return submit(blk, rq);
}

static uint8_t dispatch(struct vs_virtio_blk *blk, struct blk_req *rq, const struct blk_hdr *h)
{
	switch (h->type) {
	case VS_VIRTIO_BLK_T_IN:
	case VS_VIRTIO_BLK_T_OUT:
		return do_rw(blk, rq, h);
	case VS_VIRTIO_BLK_T_FLUSH:
		return do_flush(blk, rq);
	case VS_VIRTIO_BLK_T_GET_ID:
		return do_get_id(blk, rq);
	case VS_VIRTIO_BLK_T_DISCARD:
	case VS_VIRTIO_BLK_T_WRITE_ZEROES:
		return do_ranges(blk, rq, h->type);
	default:
		return VS_VIRTIO_BLK_S_UNSUPP;
	}
}

/* One popped chain: the status is the last device-writable byte; a chain
 * with no room for one is returned with nothing written. Requests that
 * fail their checks (or need no I/O) complete here, the rest on the
 * engine's workers. Transport lock held. */
static void handle(struct vs_virtio_blk *blk, struct blk_req *rq)
{
	const struct vs_vq_elem *e = &rq->elem;
	const struct iovec *last;
	struct blk_hdr h;
	uint8_t st = VS_VIRTIO_BLK_S_IOERR;

	rq->status = NULL;
	if (e->in_len == 0) {
		finish(blk, rq, st);
		return;
	}
	last = &e->iov[e->nout + e->nin - 1];
	rq->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (vs_vq_elem_check(e, HDR_LEN, 1) == 0) {
		iov_gather(e->iov, e->nout, 0, &h, sizeof(h));
		st = dispatch(blk, rq, &h);
	}
	if (st != ST_ASYNC)
		finish(blk, rq, st);
}

/* Pops every available chain and starts it; never waits for I/O, so a
 * vCPU that kicks without an ioeventfd is not held up either. */
static void blk_notify(void *dev, struct vs_virtio_pci *t, unsigned q, struct vs_vq *vq)
{
	struct vs_virtio_blk *blk = dev;
	struct blk_req *rq = NULL;
	int r = 0;

	/* the chains of one kick: one submission, after the lock (blk_notified) */
	vs_blk_aio_plug(blk->aio);
	if (blk->closing)
		return;
	do {
		vs_vq_disable_notify(vq);
		while ((rq = req_get(blk)) && (r = vs_vq_pop(vq, &rq->elem)) > 0)
			handle(blk, rq);
		if (rq)
			req_put(blk, rq);
	} while (rq && r == 0 && vs_vq_enable_notify(vq));
	if (r < 0)
		vs_virtio_pci_needs_reset(t);
	else
		vs_virtio_pci_queue_done(t, q);
}

static void blk_notified(void *dev, unsigned q)
{
	struct vs_virtio_blk *blk = dev;

	(void)q;
	vs_blk_aio_unplug(blk->aio);
}

/* The driver reset the device (transport lock held, queues already
 * reset): wait until no request touches guest memory any more (§2.4). */
static void blk_reset(void *dev)
{
	struct vs_virtio_blk *blk = dev;

	while (blk->inflight)
		pthread_cond_wait(&blk->drained, &blk->transport->lock);
	blk->wce = blk->wce_default;
	if (blk->aio) /* NULL while the transport is made, before the engine */
		vs_blk_aio_set_writethrough(blk->aio, !blk->wce);
}

static uint64_t blk_features(void *dev)
{
	struct vs_virtio_blk *blk = dev;
	uint64_t f = (1ull << VS_VIRTIO_BLK_F_SEG_MAX) | (1ull << VS_VIRTIO_BLK_F_BLK_SIZE) |
		     (1ull << VS_VIRTIO_BLK_F_FLUSH) | (1ull << VS_VIRTIO_BLK_F_CONFIG_WCE);

	if (blk->ro)
		return f | (1ull << VS_VIRTIO_BLK_F_RO);
	return f | (1ull << VS_VIRTIO_BLK_F_DISCARD) | (1ull << VS_VIRTIO_BLK_F_WRITE_ZEROES);
}

/* struct virtio_blk_config (§5.2.4), little-endian like the host. */
static void blk_config_read(void *dev, unsigned off, void *data, unsigned len)
{
	struct vs_virtio_blk *blk = dev;
	uint8_t c[VS_VIRTIO_BLK_CONFIG_LEN] = { 0 };
	uint32_t seg_max = SEG_MAX, blk_size = SECTOR, one = 1, dsec = DISCARD_SECTORS,
		 dseg = DISCARD_SEG_MAX;
	uint16_t nq = 1;

	memcpy(c + 0, &blk->capacity, 8);
	memcpy(c + 12, &seg_max, 4);
	memcpy(c + 20, &blk_size, 4);
	c[CONFIG_WRITEBACK] = blk->wce;
	memcpy(c + 34, &nq, 2);
	memcpy(c + 36, &dsec, 4); /* max_discard_sectors */
	memcpy(c + 40, &dseg, 4); /* max_discard_seg */
	memcpy(c + 44, &one, 4); /* discard_sector_alignment */
	memcpy(c + 48, &dsec, 4); /* max_write_zeroes_sectors */
	memcpy(c + 52, &dseg, 4); /* max_write_zeroes_seg */
	c[56] = 0; /* write_zeroes_may_unmap: no (zeroes are written) */
	memcpy(data, c + off, len);
}

/* The driver may turn the write cache off or on (§5.2.5.1, CONFIG_WCE):
 * off, every write is made durable before it completes. */
static void blk_config_write(void *dev, unsigned off, const void *data, unsigned len)
{
	struct vs_virtio_blk *blk = dev;

	if (off != CONFIG_WRITEBACK || len != 1)
		return;
	blk->wce = *(const uint8_t *)data ? 1 : 0;
	vs_blk_aio_set_writethrough(blk->aio, !blk->wce);
}

const struct vs_virtio_dev_ops vs_virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VS_VIRTIO_ID_BLK,
	.pci_class = 0x010000, /* mass storage, SCSI: as QEMU's virtio-blk-pci */
	.nqueues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.features = blk_features,
	.config_len = VS_VIRTIO_BLK_CONFIG_LEN,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.queue_notify = blk_notify,
	.queue_notified = blk_notified,
	.reset = blk_reset,
};

/* The serial (get-id): the image's file name, at most 20 bytes. */
static void set_id(struct vs_virtio_blk *blk, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	size_t n = strlen(base);

	/* NUL-padded, not terminated when it is 20 bytes long (§5.2.6) */
	memcpy(blk->id, base, n < sizeof(blk->id) ? n : sizeof(blk->id));
}

/* cache= as QEMU: none and directsync bypass the host page cache;
 * directsync and a guest-disabled write cache complete writes only once
 * durable; unsafe ignores flushes (and qcow2 skips its write barriers). */
static unsigned open_flags(const struct vs_vm_disk *d)
{
	unsigned f = d->ro ? VS_BLK_RDONLY | VS_BLK_SHARE : 0;

	if (d->cache == VS_DISK_CACHE_NONE || d->cache == VS_DISK_CACHE_DIRECTSYNC)
		f |= VS_BLK_DIRECT;
	if (d->cache == VS_DISK_CACHE_UNSAFE)
		f |= VS_BLK_UNSAFE;
	return f;
}

static int open_image(struct vs_virtio_blk *blk, const struct vs_vm_disk *d, struct vs_err **err)
{
	const char *fmt = d->format;
	int r;

	if (!fmt) {
		if ((r = vs_blk_probe(d->path, &fmt, err)) < 0)
			return r;
		blk->probed_raw = strcmp(fmt, "raw") == 0;
	}
	if ((r = vs_blk_open(d->path, fmt, open_flags(d), &blk->img, err)) < 0)
		return r;
	blk->ro = d->ro;
	blk->capacity = vs_blk_size(blk->img) / SECTOR;
	blk->wce_default = d->cache != VS_DISK_CACHE_DIRECTSYNC;
	blk->wce = blk->wce_default;
	set_id(blk, d->path);
	return 0;
}

/* The disk's engine (aio=; auto: io_uring unless the host refuses it),
 * completing on the transport's I/O thread. */
static int open_engine(struct vs_virtio_blk *blk, const struct vs_vm_disk *d, struct vs_err **err)
{
	static const enum vs_blk_aio_kind kinds[] = { [VS_DISK_AIO_AUTO] = VS_BLK_AIO_AUTO,
						      [VS_DISK_AIO_THREADS] = VS_BLK_AIO_THREADS,
						      [VS_DISK_AIO_IO_URING] =
							      VS_BLK_AIO_IO_URING };
	struct vs_blk_aio_opts o = { .kind = kinds[d->aio],
				     .max_workers = BLK_WORKERS,
				     .loop = blk->transport->loop };
	const char *why;
	int r;

	if (d->cache == VS_DISK_CACHE_UNSAFE)
		o.flags |= VS_BLK_AIO_NO_FLUSH;
	if (!blk->wce)
		o.flags |= VS_BLK_AIO_WRITETHROUGH;
	r = vs_blk_aio_open(blk->img, &o, &blk->aio, &why);
	if (r < 0)
		return vs_err_setsys(err, r, "disk %s: aio=%s", d->path,
				     vs_blk_aio_kind_name(o.kind));
	vs_info("disk %s: aio=%s%s%s%s", d->path, vs_blk_aio_kind_name(vs_blk_aio_kind(blk->aio)),
		why ? " (" : "", why ? why : "", why ? ")" : "");
	return 0;
}

int vs_virtio_blk_new(const struct vs_virtio_pci_env *env, const struct vs_vm_disk *disk,
		      struct vs_virtio_blk **out, struct vs_err **err)
{
	struct vs_virtio_blk *blk = xzalloc(sizeof(*blk));
	struct vs_virtio_pci_env e = *env;
	int r;

	blk->dma = *env->dma;
	e.dma = &blk->dma;
	pthread_cond_init(&blk->drained, NULL);
	blk->path = xstrdup(disk->path);
	if ((r = open_image(blk, disk, err)) < 0)
		goto fail;
	if ((r = vs_virtio_pci_new_placed(&e, &vs_virtio_blk_ops, blk, &blk->transport)) < 0) {
		vs_err_setsys(err, r, "disk %s: virtio-blk", disk->path);
		goto fail;
	}
	/* after the transport, whose I/O thread runs the completions; the
	 * guest cannot send requests before the VM runs */
	if ((r = open_engine(blk, disk, err)) < 0)
		goto fail;
	*out = blk;
	return 0;
fail:
	vs_virtio_blk_free(blk);
	return r;
}

/* No new requests, then the ones in flight complete or are cancelled
 * (their callbacks need the transport and its I/O thread), then the
 * transport and the image go. */
void vs_virtio_blk_free(struct vs_virtio_blk *blk)
{
	struct blk_req *rq;

	if (!blk)
		return;
	if (blk->transport) {
		pthread_mutex_lock(&blk->transport->lock);
		blk->closing = true;
		pthread_mutex_unlock(&blk->transport->lock);
	}
	if (blk->aio) {
		uint64_t ring, sync, pool;

		vs_blk_aio_cancel(blk->aio);
		vs_blk_aio_counts(blk->aio, &ring, &sync, &pool);
		vs_info("disk %s: %" PRIu64 " requests on io_uring, %" PRIu64
			" O_DIRECT writes mapped for the pool, %" PRIu64 " on the pool",
			blk->path, ring, sync, pool);
	}
	vs_blk_aio_free(blk->aio);
	vs_virtio_pci_free(blk->transport);
	if (blk->img && !blk->ro)
		vs_blk_flush(blk->img);
	vs_blk_close(blk->img);
	while ((rq = blk->free_reqs)) {
		blk->free_reqs = rq->next_free;
		vs_vq_elem_free(&rq->elem);
		free(rq->data);
		free(rq);
	}
	pthread_cond_destroy(&blk->drained);
	free(blk->path);
	free(blk);
}

struct vs_virtio_pci *vs_virtio_blk_transport(struct vs_virtio_blk *blk)
{
	return blk->transport;
}
