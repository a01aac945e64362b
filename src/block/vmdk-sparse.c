/* VMDK hosted sparse extents: a header ("KDMV"), a grain directory (and its
 * redundant copy) of grain table offsets, grain tables of sector offsets of
 * grains (0: unallocated, 1: a zero grain when the header says so), grains.
 * streamOptimized extents hold deflate-compressed grains behind 12-byte
 * markers (the grain's sector and the compressed size) and end with an
 * end-of-stream marker.
 *
 * Writes as VDI's (vdi.c): a new grain's data goes past the end of the file
 * at once; its table entry changes in memory and reaches the file at a flush
 * or close (fdatasync, the dirty tables and their redundant copies, the
 * directories, fdatasync), so a writer killed before a flush leaves the image
 * as at the last flush with unreferenced bytes at its end. A grain of a
 * compressed extent is rewritten whole at a new place (the old one is left
 * unreferenced), as VMware's stream format has no in-place update.
 *
 * Everything read from the file is checked before use: the header's sizes,
 * the directories inside the file, tables inside the file, grains no more
 * than 64 MiB past its end, compressed sizes bounded by the grain size. */
#include "block/vmdk-internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include "common/log.h"

#include <endian.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MARKER_LEN 12u /* u64 sector, u32 size */

static void header_to_host(struct vmdk_sparse_header *h)
{
	h->magic = le32toh(h->magic);
	h->version = le32toh(h->version);
	h->flags = le32toh(h->flags);
	h->capacity = le64toh(h->capacity);
	h->grain_size = le64toh(h->grain_size);
	h->desc_offset = le64toh(h->desc_offset);
	h->desc_size = le64toh(h->desc_size);
	h->gtes_per_gt = le32toh(h->gtes_per_gt);
	h->rgd_offset = le64toh(h->rgd_offset);
	h->gd_offset = le64toh(h->gd_offset);
	h->overhead = le64toh(h->overhead);
	h->compress = le16toh(h->compress);
}

static int read_dir(int fd, uint64_t sector, uint64_t n, uint64_t file_size, uint32_t **out)
{
	int r;

	if (sector > file_size / VMDK_SECTOR || n * 4 > file_size - sector * VMDK_SECTOR)
		return -EINVAL;
	*out = xmalloc(n * 4 + 4);
	r = vs_pread_full(fd, *out, n * 4, sector * VMDK_SECTOR);
	for (uint64_t i = 0; r == 0 && i < n; i++)
		(*out)[i] = le32toh((*out)[i]);
	return r;
}

/* The footer of a stream whose header leaves the directory for the end. */
static int read_footer(int fd, uint64_t file_size, struct vmdk_sparse_header *h)
{
	int r;

	if (file_size < 3 * VMDK_SECTOR + sizeof(*h))
		return -EINVAL;
	r = vs_pread_full(fd, h, sizeof(*h), file_size - 2 * VMDK_SECTOR);
	if (r < 0)
		return r;
	header_to_host(h);
	return h->magic == VMDK_MAGIC && h->gd_offset != VMDK_GD_AT_END ? 0 : -EINVAL;
}

static int check_header(const struct vmdk_sparse_header *h, const struct vmdk_extent *e,
			const char *why[1])
{
	if (h->magic != VMDK_MAGIC)
		*why = "not a VMDK sparse extent (bad magic)";
	else if (h->version < 1 || h->version > 3)
		*why = "unsupported VMDK version";
	else if (h->grain_size < 1 || h->grain_size > VMDK_MAX_GRAIN)
		*why = "unsupported VMDK grain size";
	else if (h->gtes_per_gt < 1 || h->gtes_per_gt > 8 * VMDK_GTES)
		*why = "unsupported VMDK grain table size";
	else if (h->capacity < e->sectors || h->capacity > (UINT64_MAX >> 10))
		*why = "VMDK extent larger than its header's capacity";
	else if ((h->flags & VMDK_FLAG_COMPRESSED) && h->compress != VMDK_COMPRESS_DEFLATE)
		*why = "unsupported VMDK compression";
	else if ((h->flags & VMDK_FLAG_COMPRESSED) && !(h->flags & VMDK_FLAG_MARKERS))
		*why = "unsupported VMDK (compressed grains without markers)";
	else
		return 0;
	return -EINVAL;
}

int vmdk_sparse_load(struct vmdk_extent *e, uint64_t file_size, struct vs_err **err)
{
	struct vmdk_sparse_header h;
	const char *why = NULL;
	uint64_t per_gt;
	uint8_t tail[VMDK_SECTOR];
	int r;

	r = vs_pread_full(e->fd, &h, sizeof(h), 0);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read header", e->path);
	header_to_host(&h);
	if (h.magic == VMDK_MAGIC && h.gd_offset == VMDK_GD_AT_END &&
	    read_footer(e->fd, file_size, &h) < 0)
		why = "VMDK stream without a valid footer";
	if (!why && check_header(&h, e, &why) == 0) {
		e->grain = h.grain_size;
		e->gtes = h.gtes_per_gt;
		per_gt = e->grain * e->gtes;
		e->n_gd = (h.capacity + per_gt - 1) / per_gt;
		e->compressed = h.flags & VMDK_FLAG_COMPRESSED;
		e->markers = h.flags & VMDK_FLAG_MARKERS;
		e->zeroed_grain = h.flags & VMDK_FLAG_ZERO_GRAIN;
		e->gd_off = h.gd_offset;
		e->rgd_off = (h.flags & VMDK_FLAG_RGD) ? h.rgd_offset : 0;
		if (read_dir(e->fd, e->gd_off, e->n_gd, file_size, &e->gd) < 0 ||
		    (e->rgd_off && read_dir(e->fd, e->rgd_off, e->n_gd, file_size, &e->rgd) < 0))
			why = "VMDK grain directory past the end of the file";
	}
	if (why)
		return vs_err_set(err, -EINVAL, "%s: %s", e->path, why);
	e->size = file_size;
	e->gt = xzalloc(e->n_gd * sizeof(*e->gt) + 1);
	e->gt_dirty = xzalloc(e->n_gd + 1);
	e->next = VS_ALIGN_UP(file_size, (uint64_t)VMDK_SECTOR) / VMDK_SECTOR;
	if (e->markers && file_size >= VMDK_SECTOR &&
	    vs_pread_full(e->fd, tail, sizeof(tail), file_size - VMDK_SECTOR) == 0 &&
	    vs_buf_is_zero(tail, sizeof(tail))) {
		e->next--; /* new grains overwrite the end-of-stream marker */
		e->eos = true;
	}
	e->info.cluster_size = e->grain * VMDK_SECTOR;
	e->info.compressed = e->compressed;
	return 0;
}

static uint64_t size_of(const struct vmdk_extent *e)
{
	return __atomic_load_n(&e->size, __ATOMIC_RELAXED);
}

static void grown_to(struct vmdk_extent *e, uint64_t end)
{
	if (end > e->size)
		__atomic_store_n(&e->size, end, __ATOMIC_RELAXED);
}

/* Grain table i, loaded on first use (lock held); NULL in *gt if absent. */
static int gt_get(struct vmdk_extent *e, uint64_t i, uint32_t **gt)
{
	uint64_t size;

	*gt = NULL;
	if (i >= e->n_gd)
		return -EIO;
	if (e->gt[i] || !e->gd[i]) {
		*gt = e->gt[i];
		return 0;
	}
	size = size_of(e);
	if ((uint64_t)e->gd[i] * VMDK_SECTOR + e->gtes * 4ull > size)
		return -EIO; /* a table past the end of the file */
	return read_dir(e->fd, e->gd[i], e->gtes, size, &e->gt[i]) < 0 ? -EIO : (*gt = e->gt[i], 0);
}

/* The table entry of the grain holding extent sector s (lock held). */
static int entry_of(struct vmdk_extent *e, uint64_t s, uint32_t **slot)
{
	uint64_t g = s / e->grain;
	uint32_t *gt;
	int r = gt_get(e, g / e->gtes, &gt);

	*slot = gt ? &gt[g % e->gtes] : NULL;
	return r;
}

static bool is_data(const struct vmdk_extent *e, uint32_t v)
{
	return v > 1 || (v == 1 && !e->zeroed_grain);
}

static int host_of(struct vmdk_extent *e, uint32_t v, uint64_t *host)
{
	*host = (uint64_t)v * VMDK_SECTOR;
	return *host > size_of(e) + VMDK_MAX_PAST_EOF ? -EIO : 0;
}

/* A compressed grain, inflated into buf (grain bytes). */
static int read_compressed(struct vmdk_extent *e, uint32_t v, uint8_t *buf)
{
	uint64_t gbytes = e->grain * VMDK_SECTOR, host;
	uint8_t m[MARKER_LEN];
	_cleanup_free_ uint8_t *z = NULL;
	uLongf out = gbytes;
	uint32_t size;
	int r = host_of(e, v, &host);

	if (r == 0)
		r = vs_pread_full(e->fd, m, sizeof(m), host);
	if (r < 0)
		return r;
	memcpy(&size, m + 8, 4);
	size = le32toh(size);
	if (size == 0 || size > gbytes + gbytes / 8 + 1024)
		return -EIO; /* more than deflate could ever need */
	z = xmalloc(size);
	r = vs_pread_full(e->fd, z, size, host + MARKER_LEN);
	if (r < 0)
		return r;
	if (uncompress(buf, &out, z, size) != Z_OK)
		return -EIO;
	memset(buf + out, 0, gbytes - out);
	return 0;
}

/* What an unallocated grain reads as: the parent's data (within its size),
 * or zeros (no parent, or a zero grain). */
static int parent_read(struct vmdk *v, struct vmdk_extent *e, uint32_t val, uint8_t *buf,
		       uint64_t in, uint64_t n)
{
	uint64_t off = e->start * VMDK_SECTOR + in, psize = v->parent ? vs_blk_size(v->parent) : 0;
	uint64_t k = off < psize ? VS_MIN(n, psize - off) : 0;

	memset(buf + k, 0, n - k);
	if (val == 1 || !k) /* a zero grain hides the parent */
		return 0;
	return vs_blk_pread(v->parent, buf, k, off);
}

int vmdk_sparse_read(struct vmdk *v, struct vmdk_extent *e, uint8_t *buf, uint64_t sector,
		     uint64_t in, uint64_t n)
{
	uint64_t gbytes = e->grain * VMDK_SECTOR, host;
	_cleanup_free_ uint8_t *g = NULL;
	uint32_t *slot, val;
	int r;

	pthread_mutex_lock(&v->lock);
	r = entry_of(e, sector, &slot);
	val = slot ? *slot : 0;
	pthread_mutex_unlock(&v->lock);
	if (r < 0)
		return r;
	if (!is_data(e, val))
		return parent_read(v, e, val, buf, in, n);
	if (!e->compressed) {
		r = host_of(e, val, &host);
		return r < 0 ? r : vs_pread_full(e->fd, buf, n, host + in % gbytes);
	}
	g = xmalloc(gbytes);
	r = read_compressed(e, val, g);
	if (r == 0)
		memcpy(buf, g + in % gbytes, n);
	return r;
}

/* A zeroed table at the end of the file for directory slot i (lock held). */
static int gt_alloc(struct vmdk_extent *e, uint64_t i, uint32_t **gt)
{
	uint64_t sectors = VS_ALIGN_UP(e->gtes * 4ull, (uint64_t)VMDK_SECTOR) / VMDK_SECTOR;

	if (e->compressed || e->next + sectors * 2 > UINT32_MAX)
		return -ENOSPC; /* a stream's tables are all laid out at creation */
	e->gt[i] = xzalloc(e->gtes * 4ull);
	e->gd[i] = (uint32_t)e->next;
	e->next += sectors;
	if (e->rgd) {
		e->rgd[i] = (uint32_t)e->next;
		e->next += sectors;
	}
	e->gt_dirty[i] = 1;
	e->gd_dirty = true;
	*gt = e->gt[i];
	return 0;
}

/* A new plain grain at the end of the file holding buf at in (lock held). */
static int grain_alloc(struct vmdk_extent *e, uint32_t *slot, const uint8_t *buf, uint64_t in,
		       uint64_t n)
{
	uint64_t gbytes = e->grain * VMDK_SECTOR, host = e->next * VMDK_SECTOR;
	uint64_t size = e->size;
	int r = 0;

	if (e->next + e->grain > UINT32_MAX)
		return -ENOSPC; /* table entries are 32-bit sector numbers */
	if (host < size) /* not past the end: the rest must read as zeros */
		r = vs_pwrite_zeros(e->fd, host, gbytes);
	if (r == 0)
		r = vs_pwrite_full(e->fd, buf, n, host + in);
	if (r == 0 && size < host + gbytes && ftruncate(e->fd, (off_t)(host + gbytes)) < 0)
		r = -errno;
	if (r < 0)
		return r;
	grown_to(e, host + gbytes);
	*slot = (uint32_t)e->next;
	e->next += e->grain;
	return 0;
}

/* Rewrites a compressed grain whole at the end of the file (lock held). */
static int grain_compressed(struct vmdk *v, struct vmdk_extent *e, uint32_t *slot, uint64_t sector,
			    const uint8_t *buf, uint64_t in, uint64_t n)
{
	uint64_t gbytes = e->grain * VMDK_SECTOR, lba = sector / e->grain * e->grain;
	_cleanup_free_ uint8_t *g = xzalloc(gbytes);
	uLongf zlen = compressBound(gbytes);
	_cleanup_free_ uint8_t *z = xzalloc(MARKER_LEN + zlen + VMDK_SECTOR);
	uint64_t total;
	uint32_t size;
	int r = 0;

	if (is_data(e, *slot))
		r = read_compressed(e, *slot, g);
	else if (v->parent)
		r = parent_read(v, e, *slot, g, lba * VMDK_SECTOR, gbytes);
	if (r < 0)
		return r;
	memcpy(g + in, buf, n);
	if (compress(z + MARKER_LEN, &zlen, g, gbytes) != Z_OK)
		return -EIO;
	lba = htole64(lba);
	size = htole32((uint32_t)zlen);
	memcpy(z, &lba, 8);
	memcpy(z + 8, &size, 4);
	total = VS_ALIGN_UP(MARKER_LEN + zlen, (uint64_t)VMDK_SECTOR);
	if (e->next + total / VMDK_SECTOR > UINT32_MAX)
		return -ENOSPC;
	r = vs_pwrite_full(e->fd, z, total, e->next * VMDK_SECTOR);
	if (r < 0)
		return r;
	grown_to(e, e->next * VMDK_SECTOR + total);
	*slot = (uint32_t)e->next;
	e->next += total / VMDK_SECTOR;
	return 0;
}

int vmdk_sparse_write(struct vmdk *v, struct vmdk_extent *e, const uint8_t *buf, uint64_t sector,
		      uint64_t in, uint64_t n)
{
	uint64_t gbytes = e->grain * VMDK_SECTOR, g = sector / e->grain, host = 0;
	uint32_t *slot, *gt;
	int r;

	pthread_mutex_lock(&v->lock);
	r = gt_get(e, g / e->gtes, &gt);
	if (r == 0 && !gt)
		r = gt_alloc(e, g / e->gtes, &gt);
	slot = gt ? &gt[g % e->gtes] : NULL;
	if (r == 0 && e->compressed) {
		r = grain_compressed(v, e, slot, sector, buf, in % gbytes, n);
		e->gt_dirty[g / e->gtes] = 1;
	} else if (r == 0 && !is_data(e, *slot) && v->parent && *slot != 1 && n < gbytes) {
		/* a snapshot's new grain starts as the parent's */
		_cleanup_free_ uint8_t *whole = xmalloc(gbytes);

		r = parent_read(v, e, 0, whole, in - in % gbytes, gbytes);
		memcpy(whole + in % gbytes, buf, n);
		if (r == 0)
			r = grain_alloc(e, slot, whole, 0, gbytes);
		e->gt_dirty[g / e->gtes] |= r == 0;
	} else if (r == 0 && !is_data(e, *slot)) {
		r = grain_alloc(e, slot, buf, in % gbytes, n);
		e->gt_dirty[g / e->gtes] |= r == 0;
	} else if (r == 0) {
		r = host_of(e, *slot, &host);
		host += in % gbytes;
	}
	pthread_mutex_unlock(&v->lock);
	if (r < 0 || !host)
		return r;
	return vs_pwrite_full(e->fd, buf, n, host); /* an allocated grain, in place */
}

int vmdk_sparse_zero(struct vmdk *v, struct vmdk_extent *e, uint64_t off, uint64_t len,
		     bool discard)
{
	uint64_t gbytes = e->grain * VMDK_SECTOR, in = off % gbytes, host;
	uint32_t *slot, val;
	int r;

	if (v->parent) { /* unreferencing a grain would show the parent's data */
		_cleanup_free_ uint8_t *z = discard ? NULL : xzalloc(len);

		return discard ? 0 : vmdk_sparse_write(v, e, z, off / VMDK_SECTOR, off, len);
	}
	pthread_mutex_lock(&v->lock);
	r = entry_of(e, off / VMDK_SECTOR, &slot);
	val = slot ? *slot : 0;
	if (r == 0 && is_data(e, val) && len == gbytes) {
		/* a whole grain: unreferenced, and a hole in the file */
		*slot = e->zeroed_grain ? 1 : 0;
		e->gt_dirty[off / VMDK_SECTOR / e->grain / e->gtes] = 1;
		if (!e->compressed && host_of(e, val, &host) == 0)
			(void)fallocate(e->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)host, (off_t)gbytes);
		val = 0;
	}
	pthread_mutex_unlock(&v->lock);
	if (r < 0 || !is_data(e, val) || discard)
		return r;
	if (e->compressed) {
		_cleanup_free_ uint8_t *z = xzalloc(len);

		return vmdk_sparse_write(v, e, z, off / VMDK_SECTOR, off, len);
	}
	r = host_of(e, val, &host);
	return r < 0 ? r : vs_zero_range(e->fd, host + in, len);
}

static int grain_class(const struct vmdk_extent *e, uint32_t val)
{
	return val == 0 ? 0 : !is_data(e, val) ? 1 : e->compressed ? 2 : 3;
}

int vmdk_sparse_status(struct vmdk *v, struct vmdk_extent *e, uint64_t off, uint64_t len,
		       struct vs_blk_status *st)
{
	uint64_t gbytes = e->grain * VMDK_SECTOR, end = off + len, at, host = 0;
	uint32_t *slot, first;
	int cls, r;

	pthread_mutex_lock(&v->lock);
	r = entry_of(e, off / VMDK_SECTOR, &slot);
	first = slot ? *slot : 0;
	cls = grain_class(e, first);
	at = (off / gbytes + 1) * gbytes;
	/* following grains of the same kind (data: contiguous in the file) */
	for (int i = 0; r == 0 && at < end && i < 65536; i++, at += gbytes) {
		uint32_t *s2, val;

		if (entry_of(e, at / VMDK_SECTOR, &s2) < 0)
			break;
		val = s2 ? *s2 : 0;
		if (grain_class(e, val) != cls ||
		    (cls == 3 && val != first + (at / gbytes - off / gbytes) * e->grain))
			break;
	}
	pthread_mutex_unlock(&v->lock);
	if (r < 0)
		return r;
	st->len = VS_MIN(at, end) - off;
	if (cls == 0 && v->parent) { /* the parent's, whatever it holds there */
		st->flags = VS_BLK_ST_DATA;
		st->depth = 1;
		return 0;
	}
	st->flags = cls == 0 ? VS_BLK_ST_ZERO :
		    cls == 1 ? VS_BLK_ST_ZERO | VS_BLK_ST_ALLOCATED :
		    cls == 2 ? VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_COMPRESSED :
			       VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET;
	if (cls == 3 && host_of(e, first, &host) == 0)
		st->host_offset = host + off % gbytes;
	return 0;
}

static int write_table(struct vmdk_extent *e, const uint32_t *t, uint64_t n, uint64_t sector)
{
	_cleanup_free_ uint32_t *le = xmalloc(n * 4 + 4);
	int r;

	for (uint64_t i = 0; i < n; i++)
		le[i] = htole32(t[i]);
	r = vs_pwrite_full(e->fd, le, n * 4, sector * VMDK_SECTOR);
	if (r == 0)
		grown_to(e, sector * VMDK_SECTOR + n * 4);
	return r;
}

int vmdk_sparse_flush(struct vmdk *v, struct vmdk_extent *e)
{
	bool any = e->gd_dirty;
	int r = 0;

	for (uint64_t i = 0; i < e->n_gd && !any; i++)
		any = e->gt_dirty[i];
	if (!any)
		return 0;
	if (v->barriers && fdatasync(e->fd) < 0) /* the grains first */
		return -errno;
	for (uint64_t i = 0; i < e->n_gd && r == 0; i++) {
		if (!e->gt_dirty[i])
			continue;
		r = write_table(e, e->gt[i], e->gtes, e->gd[i]);
		if (r == 0 && e->rgd && e->rgd[i])
			r = write_table(e, e->gt[i], e->gtes, e->rgd[i]);
		e->gt_dirty[i] = r < 0;
	}
	if (r == 0 && e->gd_dirty) {
		r = write_table(e, e->gd, e->n_gd, e->gd_off);
		if (r == 0 && e->rgd)
			r = write_table(e, e->rgd, e->n_gd, e->rgd_off);
		e->gd_dirty = r < 0;
	}
	if (r == 0 && e->markers) { /* the stream ends with its marker again */
		r = vs_pwrite_zeros(e->fd, e->next * VMDK_SECTOR, VMDK_SECTOR);
		e->eos = r == 0;
		grown_to(e, (e->next + 1) * VMDK_SECTOR);
	}
	return r;
}

void vmdk_sparse_free(struct vmdk_extent *e)
{
	for (uint64_t i = 0; e->gt && i < e->n_gd; i++)
		free(e->gt[i]);
	free(e->gt);
	free(e->gt_dirty);
	free(e->gd);
	free(e->rgd);
}

int vmdk_sparse_check(struct vmdk *v, struct vmdk_extent *e, struct vs_blk_check_result *res)
{
	struct stat st;
	uint64_t size = fstat(e->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	uint32_t *gt;
	int said = 0;

	pthread_mutex_lock(&v->lock);
	for (uint64_t i = 0; i < e->n_gd; i++) {
		if (gt_get(e, i, &gt) < 0) {
			res->corruptions++;
			if (said++ < 20)
				vs_warn("ERROR: grain table %" PRIu64 " of %s points after EOF", i,
					e->path);
			continue;
		}
		for (uint64_t k = 0; gt && k < e->gtes; k++) {
			if (!is_data(e, gt[k]) || (uint64_t)gt[k] * VMDK_SECTOR < size)
				continue;
			res->corruptions++;
			if (said++ < 20) /* qemu-img's words */
				vs_warn("ERROR: cluster offset for sector %" PRIu64
					" points after EOF",
					e->start + (i * e->gtes + k) * e->grain);
		}
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}
