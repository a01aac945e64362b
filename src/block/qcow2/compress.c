/* Compressed clusters: zlib (raw deflate, 4 KiB window as QEMU writes it)
 * and zstd, reading any image and writing them for `convert -c`.
 *
 * A compressed cluster's bytes may share host clusters with others; each host
 * cluster's refcount counts the compressed clusters that touch it (the span
 * rounded out to 512-byte sectors, qcow2.txt "Compressed Clusters"). */
#include "block/qcow2/internal.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static int inflate_raw(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	z_stream z = { 0 };
	int r;

	if (inflateInit2(&z, -12) != Z_OK)
		return -ENOMEM;
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)in_len;
	z.next_out = out;
	z.avail_out = (uInt)out_len;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	/* The input runs to the end of its last sector: trailing bytes are
	 * expected, so a full output buffer is success. */
	if ((r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) && z.avail_out == 0)
		return 0;
	return -EIO;
}

static int unzstd(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };
	int r = 0;

	if (!d)
		return -ENOMEM;
	while (ob.pos < ob.size) {
		size_t z = ZSTD_decompressStream(d, &ob, &ib);

		if (ZSTD_isError(z) || (z == 0 && ob.pos < ob.size) ||
		    (ib.pos == ib.size && ob.pos < ob.size)) {
			r = -EIO;
			break;
		}
	}
	ZSTD_freeDCtx(d);
	return r;
}

int qcow2_decompress(const struct qcow2 *q, const uint8_t *in, size_t in_len, uint8_t *out,
		     size_t out_len)
{
	if (q->compression_type == QCOW2_COMPRESS_ZSTD)
		return unzstd(in, in_len, out, out_len);
	return inflate_raw(in, in_len, out, out_len);
}

static int deflate_raw(const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
	z_stream z = { 0 };
	int r;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)in_len;
	z.next_out = out;
	z.avail_out = (uInt)*out_len;
	r = deflate(&z, Z_FINISH);
	*out_len -= z.avail_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -ENOSPC;
}

int qcow2_compress(int type, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
	size_t z;

	if (type != QCOW2_COMPRESS_ZSTD)
		return deflate_raw(in, in_len, out, out_len);
	z = ZSTD_compress(out, *out_len, in, in_len, ZSTD_CLEVEL_DEFAULT);
	if (ZSTD_isError(z))
		return -ENOSPC;
	*out_len = z;
	return 0;
}

int qcow2_read_compressed(struct qcow2 *q, uint64_t l2e, uint8_t *cluster)
{
	uint64_t off, len;
	uint8_t *in;
	int r;

	qcow2_compressed_range(q, l2e, &off, &len);
	if (len > 2 * q->cluster_size + 512)
		return -EIO;
	in = xmalloc(len);
	r = vs_pread_full(q->fd, in, len, off);
	if (r == 0)
		r = qcow2_decompress(q, in, len, cluster, q->cluster_size);
	free(in);
	return r;
}

/* Places len compressed bytes: packed after the previous compressed cluster
 * when they fit in its host cluster, else at the start of a fresh one. */
static int alloc_compressed(struct qcow2 *q, uint64_t len, uint64_t *off)
{
	uint64_t cur = q->zbuf_cursor;
	int r;

	if (cur && qcow2_offset_into_cluster(q, cur) &&
	    qcow2_offset_into_cluster(q, cur) + len <= q->cluster_size) {
		r = qcow2_refcount_update(q, cur, 1, 1);
		if (r < 0)
			return r;
		*off = cur;
	} else {
		r = qcow2_alloc_clusters(q, 1, off);
		if (r < 0)
			return r;
	}
	q->zbuf_cursor = VS_ALIGN_UP(*off + len, 512);
	return 0;
}

static int write_compressed_locked(struct qcow2 *q, const uint8_t *z, size_t zlen, uint64_t guest)
{
	unsigned shift = 62 - (q->cluster_bits - 8);
	uint64_t l1i = guest >> (q->cluster_bits + q->l2_bits), l2off, host, e, nsec, *t;
	uint64_t l2i = (guest >> q->cluster_bits) & (q->l2_entries - 1);
	int r = qcow2_l2_for_write(q, l1i, &l2off);

	if (r == 0)
		r = qcow2_cache_get(q, &q->l2c, l2off, (uint8_t **)&t);
	if (r < 0)
		return r;
	if (qcow2_l2e_type(q, be64toh(t[l2i])) != QCOW2_C_UNALLOC)
		return -EEXIST;
	r = alloc_compressed(q, zlen, &host);
	if (r == 0)
		r = qcow2_file_write(q, QCOW2_OL_DATA, z, zlen, host);
	if (r < 0)
		return r;
	nsec = ((host + zlen - 1) >> 9) - (host >> 9);
	e = QCOW2_OFLAG_COMPRESSED | (nsec << shift) | host;
	return qcow2_l2_set(q, l2off, l2i, &e, 1);
}

int qcow2_write_compressed(struct vs_blk *b, const void *buf, size_t len, uint64_t off)
{
	struct qcow2 *q = to_qcow2(b);
	uint64_t cs = q->cluster_size;
	uint8_t *in = xzalloc(cs), *z = xmalloc(cs);
	size_t zlen = cs - 512; /* must save at least a sector to be worth it */
	int r;

	if (b->ro || qcow2_offset_into_cluster(q, off) || len > cs || off >= b->size) {
		r = b->ro ? -EROFS : -EINVAL;
		goto out;
	}
	memcpy(in, buf, len);
	r = qcow2_compress(q->compression_type, in, cs, z, &zlen);
	if (r == 0) {
		pthread_rwlock_wrlock(&q->layout);
		r = write_compressed_locked(q, z, zlen, off);
		pthread_rwlock_unlock(&q->layout);
	}
	if (r == -ENOSPC || r == -EEXIST)
		r = vs_blk_pwrite(b, buf, VS_MIN(len, b->size - off), off);
out:
	free(in);
	free(z);
	return r;
}

uint64_t qcow2_cluster_size(const struct vs_blk *b)
{
	return ((const struct qcow2 *)b)->cluster_size;
}
