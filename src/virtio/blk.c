/* virtio-blk (virtio 1.2 §5.2), see blk.h.
 * Map: the chain as header, data and status; each request type; the queue
 * loop; config space; creation; the VM's disks. */
#include "virtio/blk.h"
#include "virtio/pci.h"
#include "block/block.h"
#include "block/qcow2.h"
#include "vmm/vm.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BLK_QUEUE_SIZE 256
#define SECTOR 512u
#define HDR_LEN 16
#define SEG_MAX (BLK_QUEUE_SIZE - 2) /* header and status take two */
#define DISCARD_SEG_MAX 32
#define DISCARD_SECTORS (1u << 22) /* per segment: 2 GiB */

struct vs_virtio_blk {
	struct vs_virtio_pci *transport;
	struct vs_dma dma;
	struct vs_blk *img;
	bool ro;
	bool probed_raw; /* format guessed as raw: refuse writes that would make it look like qcow2 */
	uint64_t capacity; /* in 512-byte sectors */
	char id[VS_VIRTIO_BLK_ID_BYTES];
	struct vs_vq_elem elem;
	struct iovec *data; /* the data part of the current request */
	unsigned ndata;
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

/* Sets blk->data to the bytes [skip, skip+len) of iov[0..n). */
static void iov_slice(struct vs_virtio_blk *blk, const struct iovec *iov, unsigned n, size_t skip,
		      size_t len)
{
	blk->ndata = 0;
	for (unsigned i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		blk->data[blk->ndata++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, l };
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

static uint64_t data_len(const struct vs_virtio_blk *blk)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < blk->ndata; i++)
		n += blk->data[i].iov_len;
	return n;
}

/* A raw image whose format was probed must not start to look like qcow2,
 * or the next probe would open it as one, with the guest's choice of
 * backing file (QEMU restricts block 0 the same way). */
static bool write_would_change_format(const struct vs_virtio_blk *blk, uint64_t sector)
{
	uint8_t magic[4];

	return blk->probed_raw && sector == 0 &&
	       iov_gather(blk->data, blk->ndata, 0, magic, sizeof(magic)) == sizeof(magic) &&
	       qcow2_is_magic(magic);
}

/* IN and OUT: returns the status. */
static uint8_t do_rw(struct vs_virtio_blk *blk, const struct blk_hdr *h)
{
	const struct vs_vq_elem *e = &blk->elem;

	if (h->type == VS_VIRTIO_BLK_T_IN)
		iov_slice(blk, e->iov + e->nout, e->nin, 0, e->in_len - 1);
	else
		iov_slice(blk, e->iov, e->nout, HDR_LEN, e->out_len - HDR_LEN);
	if (!range_ok(blk, h->sector, data_len(blk)))
		return VS_VIRTIO_BLK_S_IOERR;
	if (h->type == VS_VIRTIO_BLK_T_IN)
		return vs_blk_preadv(blk->img, blk->data, blk->ndata, h->sector * SECTOR) < 0 ?
			       VS_VIRTIO_BLK_S_IOERR :
			       VS_VIRTIO_BLK_S_OK;
	if (blk->ro || write_would_change_format(blk, h->sector) ||
	    vs_blk_pwritev(blk->img, blk->data, blk->ndata, h->sector * SECTOR) < 0)
		return VS_VIRTIO_BLK_S_IOERR;
	return VS_VIRTIO_BLK_S_OK;
}

/* The id, NUL-padded to 20 bytes, in as much of it as the buffer takes. */
static uint8_t do_get_id(struct vs_virtio_blk *blk)
{
	const struct vs_vq_elem *e = &blk->elem;
	uint64_t room = e->in_len - 1;
	size_t done = 0;

	iov_slice(blk, e->iov + e->nout, e->nin, 0,
		  room < sizeof(blk->id) ? room : sizeof(blk->id));
	for (unsigned i = 0; i < blk->ndata; i++) {
		memcpy(blk->data[i].iov_base, blk->id + done, blk->data[i].iov_len);
		done += blk->data[i].iov_len;
	}
	return VS_VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: an array of segments after the header. */
static uint8_t do_ranges(struct vs_virtio_blk *blk, uint32_t type)
{
	const struct vs_vq_elem *e = &blk->elem;
	uint64_t nbytes = e->out_len - HDR_LEN;
	struct blk_seg s;

	if (blk->ro)
		return VS_VIRTIO_BLK_S_IOERR;
	if (nbytes == 0 || nbytes % sizeof(s) || nbytes / sizeof(s) > DISCARD_SEG_MAX)
		return VS_VIRTIO_BLK_S_UNSUPP;
	for (uint64_t off = HDR_LEN; off < e->out_len; off += sizeof(s)) {
		uint64_t at, len;
		int r;

		iov_gather(e->iov, e->nout, off, &s, sizeof(s));
		if (s.num_sectors > DISCARD_SECTORS || (s.flags & ~1u) ||
		    (type == VS_VIRTIO_BLK_T_DISCARD && s.flags))
			return VS_VIRTIO_BLK_S_UNSUPP;
		if (!range_ok(blk, s.sector, (uint64_t)s.num_sectors * SECTOR))
			return VS_VIRTIO_BLK_S_IOERR;
		at = s.sector * SECTOR;
		len = (uint64_t)s.num_sectors * SECTOR;
		r = type == VS_VIRTIO_BLK_T_DISCARD ? vs_blk_discard(blk->img, at, len) :
						      vs_blk_write_zeroes(blk->img, at, len);
		if (r < 0)
			return VS_VIRTIO_BLK_S_IOERR;
	}
	return VS_VIRTIO_BLK_S_OK;
}

static uint8_t dispatch(struct vs_virtio_blk *blk, const struct blk_hdr *h)
{
	switch (h->type) {
	case VS_VIRTIO_BLK_T_IN:
	case VS_VIRTIO_BLK_T_OUT:
		return do_rw(blk, h);
	case VS_VIRTIO_BLK_T_FLUSH:
		return vs_blk_flush(blk->img) < 0 ? VS_VIRTIO_BLK_S_IOERR : VS_VIRTIO_BLK_S_OK;
	case VS_VIRTIO_BLK_T_GET_ID:
		return do_get_id(blk);
	case VS_VIRTIO_BLK_T_DISCARD:
	case VS_VIRTIO_BLK_T_WRITE_ZEROES:
		return do_ranges(blk, h->type);
	default:
		return VS_VIRTIO_BLK_S_UNSUPP;
	}
}

/* One popped chain: the status is the last device-writable byte. Returns
 * the used length: the whole writable part (the status is its last byte,
 * and reporting untouched bytes as written is harmless), or 0 when the
 * chain has no room for a status. */
static uint32_t handle(struct vs_virtio_blk *blk)
{
	const struct vs_vq_elem *e = &blk->elem;
	const struct iovec *last;
	struct blk_hdr h;
	uint8_t st = VS_VIRTIO_BLK_S_IOERR;

	if (e->in_len == 0)
		return 0;
	if (vs_vq_elem_check(e, HDR_LEN, 1) == 0) {
		iov_gather(e->iov, e->nout, 0, &h, sizeof(h));
		st = dispatch(blk, &h);
	}
	last = &e->iov[e->nout + e->nin - 1];
	((uint8_t *)last->iov_base)[last->iov_len - 1] = st;
	return (uint32_t)e->in_len;
}

static void blk_notify(void *dev, struct vs_virtio_pci *t, unsigned q, struct vs_vq *vq)
{
	struct vs_virtio_blk *blk = dev;
	int r;

	do {
		vs_vq_disable_notify(vq);
		while ((r = vs_vq_pop(vq, &blk->elem)) > 0)
			vs_vq_push(vq, &blk->elem, handle(blk));
	} while (r == 0 && vs_vq_enable_notify(vq));
	if (r < 0)
		vs_virtio_pci_needs_reset(t);
	else
		vs_virtio_pci_queue_done(t, q);
}

static uint64_t blk_features(void *dev)
{
	struct vs_virtio_blk *blk = dev;
	uint64_t f = (1ull << VS_VIRTIO_BLK_F_SEG_MAX) | (1ull << VS_VIRTIO_BLK_F_BLK_SIZE) |
		     (1ull << VS_VIRTIO_BLK_F_FLUSH);

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
	memcpy(c + 34, &nq, 2);
	memcpy(c + 36, &dsec, 4); /* max_discard_sectors */
	memcpy(c + 40, &dseg, 4); /* max_discard_seg */
	memcpy(c + 44, &one, 4); /* discard_sector_alignment */
	memcpy(c + 48, &dsec, 4); /* max_write_zeroes_sectors */
	memcpy(c + 52, &dseg, 4); /* max_write_zeroes_seg */
	c[56] = 0; /* write_zeroes_may_unmap: no (zeroes are written) */
	memcpy(data, c + off, len);
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
	.queue_notify = blk_notify,
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

static int open_image(struct vs_virtio_blk *blk, const struct vs_vm_disk *d, struct vs_err **err)
{
	unsigned flags = d->ro ? VS_BLK_RDONLY | VS_BLK_SHARE : 0;
	const char *fmt = d->format;
	int r;

	if (!fmt) {
		if ((r = vs_blk_probe(d->path, &fmt, err)) < 0)
			return r;
		blk->probed_raw = strcmp(fmt, "raw") == 0;
	}
	if ((r = vs_blk_open(d->path, fmt, flags, &blk->img, err)) < 0)
		return r;
	blk->ro = d->ro;
	blk->capacity = vs_blk_size(blk->img) / SECTOR;
	set_id(blk, d->path);
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
	blk->data = xzalloc(BLK_QUEUE_SIZE * sizeof(*blk->data));
	if ((r = open_image(blk, disk, err)) < 0)
		goto fail;
	if ((r = vs_vq_elem_init(&blk->elem, BLK_QUEUE_SIZE)) < 0 ||
	    (r = vs_virtio_pci_new_placed(&e, &vs_virtio_blk_ops, blk, &blk->transport)) < 0) {
		vs_err_setsys(err, r, "disk %s: virtio-blk", disk->path);
		goto fail;
	}
	*out = blk;
	return 0;
fail:
	vs_virtio_blk_free(blk);
	return r;
}

void vs_virtio_blk_free(struct vs_virtio_blk *blk)
{
	if (!blk)
		return;
	vs_virtio_pci_free(blk->transport);
	if (blk->img && !blk->ro)
		vs_blk_flush(blk->img);
	vs_blk_close(blk->img);
	vs_vq_elem_free(&blk->elem);
	free(blk->data);
	free(blk);
}

struct vs_virtio_pci *vs_virtio_blk_transport(struct vs_virtio_blk *blk)
{
	return blk->transport;
}
