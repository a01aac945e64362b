/* qcow2 data path: read, write (with allocation and copy-on-write), discard,
 * write-zeroes, block status, flush.
 *
 * Sections: read / allocating write (steps 1-4 below) / fast overwrite /
 * discard and write-zeroes / block status, barriers and the ops table.
 *
 * Crash-safe ordering. For every allocating request:
 *   1. refcounts of the new clusters are raised (a new refcount block is
 *      written before the refcount-table entry that points at it; a new L2
 *      table is written before the L1 entry that points at it);
 *   2. guest data, completed from the old content (backing file, compressed
 *      or shared cluster) where the request covers part of a cluster, is
 *      written into the new clusters;
 *   3. the L2 entries are switched to the new clusters;
 *   4. only then are refcounts of the clusters no longer referenced dropped.
 *
 * cache=unsafe (VS_BLK_UNSAFE): every step is a pwrite when it happens, so
 * a killed process leaves at worst leaked clusters; a power loss may not.
 *
 * cache=writeback-safe (the default): steps 1 and 2 are written at once;
 * step 3 only changes the cached L2 table (marked dirty) or the in-memory L1
 * (l1_dirty), and step 4 is queued (q->rel). The next metadata flush (every
 * flush(), close, and before snapshot, check and resize) then does:
 * fdatasync (steps 1-2 of every request since the last one are durable),
 * write the dirty L2 tables and the L1, fdatasync (the switch is durable),
 * then drop the queued references. A dirty L2 table evicted from the cache
 * is written after an fdatasync too. The kernel may write dirty pages back
 * in any order, yet every order leaves an image without corruption: between
 * flushes the file holds the metadata of the last flush plus refcounts for
 * clusters nothing references yet (leaks). Requests between two flushes cost
 * no fdatasync at all; a flush costs two instead of one when metadata is
 * pending. A killed process, like a power loss, loses the requests after the
 * last completed flush (their clusters leak); flush() makes everything
 * acknowledged before it durable. Refcount table growth and L1 growth are
 * rare and use barriers (qcow2_barrier) inline. */
#include "block/qcow2/internal.h"
#include "block/file.h"
#include "common/io.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define WRITE_BATCH_BYTES (32ULL << 20) /* bound the clusters one request allocates */
#define RELEASE_MAX 65536 /* held-back releases that force a metadata flush */

static int read_backing(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t bsize = q->backing ? vs_blk_size(q->backing) : 0, n;

	if (off >= bsize) {
		memset(buf, 0, len);
		return 0;
	}
	n = VS_MIN(len, bsize - off);
	if (n < len)
		memset(buf + n, 0, len - n);
	return vs_blk_pread(q->backing, buf, n, off);
}

/* Guest data of an allocated cluster: on the O_DIRECT twin when aligned
 * (a refusal falls back to the page cache). */
static int qcow2_data_read(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t host)
{
	struct iovec v = { buf, len };
	int r = -EINVAL;

	if (q->dfd >= 0 && vs_blk_direct_ok(&v, 1, host))
		r = vs_pread_full(q->dfd, buf, len, host);
	return r == -EINVAL ? vs_pread_full(q->fd, buf, len, host) : r;
}

/* An overwrite in place (the fast path), likewise. */
static int qcow2_data_overwrite(struct qcow2 *q, const uint8_t *buf, uint64_t len, uint64_t host)
{
	struct iovec v = { (void *)buf, len };
	int r = -EINVAL;

	if (q->dfd >= 0 && vs_blk_direct_ok(&v, 1, host) &&
	    (r = qcow2_pre_write(q, QCOW2_OL_DATA, host, len)) == 0)
		r = vs_pwrite_full(q->dfd, buf, len, host);
	if (r != -EINVAL)
		return r;
	vs_write_gate_enter(&q->gate, len);
	r = qcow2_file_write(q, QCOW2_OL_DATA, buf, len, host);
	vs_write_gate_leave(&q->gate, len);
	return r;
}

static int read_one(struct qcow2 *q, const struct qcow2_map *m, uint8_t *buf, uint64_t off)
{
	uint8_t *c;
	int r;

	switch (m->type) {
	case QCOW2_C_NORMAL:
		return qcow2_data_read(q, buf, m->len, m->host);
	case QCOW2_C_ZERO:
		memset(buf, 0, m->len);
		return 0;
	case QCOW2_C_UNALLOC:
		return read_backing(q, buf, m->len, off);
	case QCOW2_C_COMPRESSED:
		c = xmalloc(q->cluster_size);
		r = qcow2_read_compressed(q, m->l2e, c);
		if (r == 0)
			memcpy(buf, c + qcow2_offset_into_cluster(q, off), m->len);
		free(c);
		return r;
	}
	return -EIO;
}

/* Reads guest bytes; with meta, takes q->meta around each lookup (the
 * caller holds the layout lock shared), else the caller holds it exclusive.
 * Bytes past the virtual size read as zeros. */
static int read_range(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t off, bool meta)
{
	struct qcow2_map m;
	int r;

	while (len) {
		if (off >= q->blk.size) {
			memset(buf, 0, len);
			return 0;
		}
		if (meta)
			pthread_mutex_lock(&q->meta);
		r = qcow2_map_get(q, off, VS_MIN(len, q->blk.size - off), &m);
		if (meta)
			pthread_mutex_unlock(&q->meta);
		if (r == 0)
			r = read_one(q, &m, buf, off);
		if (r < 0)
			return r;
		buf += m.len;
		off += m.len;
		len -= m.len;
	}
	return 0;
}

static int qcow2_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off)
{
	struct qcow2 *q = to_qcow2(b);
	int r;

	pthread_rwlock_rdlock(&q->layout);
	r = read_range(q, buf, len, off, true);
	pthread_rwlock_unlock(&q->layout);
	return r;
}

/* block.h vs_blk_map_io: allocated clusters of this image only, and for a
 * write only those with refcount 1 (an overwrite in place, write_fast's
 * case), after the overlap check. Never waits for the layout lock: a
 * request that finds it taken goes through qcow2_pread/pwrite. */
static int qcow2_map_io(struct vs_blk *b, uint64_t off, uint64_t len, bool write,
			struct vs_blk_io_map *m)
{
	struct qcow2 *q = to_qcow2(b);
	struct qcow2_map cm;
	int r;

	if (pthread_rwlock_tryrdlock(&q->layout) != 0)
		return -ENOTSUP;
	pthread_mutex_lock(&q->meta);
	r = qcow2_map_get(q, off, len, &cm);
	pthread_mutex_unlock(&q->meta);
	if (r == 0 && (cm.type != QCOW2_C_NORMAL || (write && !cm.copied)))
		r = -ENOTSUP;
	if (r == 0 && write && qcow2_pre_write(q, QCOW2_OL_DATA, cm.host, cm.len) < 0)
		r = -ENOTSUP; /* the driver's own path reports it */
	pthread_rwlock_unlock(&q->layout);
	if (r < 0)
		return -ENOTSUP;
	*m = (struct vs_blk_io_map){ .fd = q->fd, .dfd = q->dfd, .host = cm.host, .len = cm.len };
	return 0;
}

/* Drops the reference an L2 entry held (steps 4 above). */
static int release_entry(struct qcow2 *q, uint64_t e)
{
	switch (qcow2_l2e_type(q, e)) {
	case QCOW2_C_COMPRESSED:
		return qcow2_free_compressed(q, e);
	case QCOW2_C_NORMAL:
	case QCOW2_C_ZERO:
		if (e & QCOW2_OFFSET_MASK)
			return qcow2_free_clusters(q, e & QCOW2_OFFSET_MASK, 1);
		return 0;
	default:
		return 0;
	}
}

struct alloc_req {
	const uint8_t *buf;
	uint64_t off, len; /* guest range written by this step */
	uint64_t l2off, l2i, n;
	uint64_t old[]; /* n old entries */
};

/* Does the old mapping of [off, off+len) (one entry e) read as zeros? */
static bool old_reads_zero(const struct qcow2 *q, uint64_t e, uint64_t off)
{
	enum qcow2_ctype t = qcow2_l2e_type(q, e);

	return t == QCOW2_C_ZERO ||
	       (t == QCOW2_C_UNALLOC && (!q->backing || off >= vs_blk_size(q->backing)));
}

/* Step 2: data into the new clusters at host, head and tail filled from the
 * old content. A fill that would be zeros is skipped when the clusters are
 * fresh (never written: past everything allocated, so a hole of the file). */
static int alloc_write_data(struct qcow2 *q, struct alloc_req *a, uint64_t host, bool fresh)
{
	uint64_t cs = q->cluster_size, in = qcow2_offset_into_cluster(q, a->off);
	uint64_t end = a->off + a->len, tail = (cs - qcow2_offset_into_cluster(q, end)) & (cs - 1);
	uint8_t *head_buf = NULL, *tail_buf = NULL;
	uint64_t at = host, total = 0;
	struct iovec iov[3];
	int niov = 0, r = 0;

	if (in && fresh && old_reads_zero(q, a->old[0], a->off - in))
		at += in, in = 0;
	if (tail && fresh && old_reads_zero(q, a->old[a->n - 1], end))
		tail = 0;
	if (in) {
		head_buf = xmalloc(in);
		r = read_range(q, head_buf, in, a->off - in, false);
		iov[niov++] = (struct iovec){ head_buf, in };
	}
	iov[niov++] = (struct iovec){ (void *)a->buf, a->len };
	if (tail && r == 0) {
		tail_buf = xmalloc(tail);
		r = read_range(q, tail_buf, tail, end, false);
		iov[niov++] = (struct iovec){ tail_buf, tail };
	}
	for (int i = 0; i < niov; i++)
		total += iov[i].iov_len;
	if (r == 0)
		r = qcow2_pre_write(q, QCOW2_OL_DATA, at, total);
	if (r == 0) {
		ssize_t w;

		vs_io_hook_write(iov, niov, at);
		w = pwritev(q->fd, iov, niov, (off_t)at);

		if (w < 0)
			r = -errno;
		else if ((uint64_t)w != total) /* short: redo piecewise */
			for (int i = 0, o = 0; i < niov && r == 0; o += (int)iov[i++].iov_len)
				r = vs_pwrite_full(q->fd, iov[i].iov_base, iov[i].iov_len,
						   at + (uint64_t)o);
	}
	free(head_buf);
	free(tail_buf);
	return r;
}

/* Counts the clusters from the start of the request that need allocation. */
static uint64_t count_alloc(struct qcow2 *q, const uint64_t *t, struct alloc_req *a, uint64_t max)
{
	uint64_t n = 0;

	while (n < max) {
		uint64_t e = be64toh(t[a->l2i + n]);

		if (qcow2_l2e_type(q, e) == QCOW2_C_NORMAL && (e & QCOW2_OFLAG_COPIED))
			break;
		a->old[n++] = e;
	}
	return n;
}

/* Steps 3 and 4: point the L2 entries at the new clusters, then drop the
 * references the old entries held. The old entries are re-read from the
 * table: filling the head and tail may have used the cache. */
static int publish(struct qcow2 *q, const struct alloc_req *a, uint64_t host)
{
	uint64_t *nw = xmalloc(a->n * 8), *old = xmalloc(a->n * 8), *t;
	int r = qcow2_cache_get(q, &q->l2c, a->l2off, (uint8_t **)&t);

	for (uint64_t i = 0; r == 0 && i < a->n; i++) {
		nw[i] = (host + (i << q->cluster_bits)) | QCOW2_OFLAG_COPIED;
		old[i] = be64toh(t[a->l2i + i]);
	}
	if (r == 0)
		r = qcow2_l2_set(q, a->l2off, a->l2i, nw, a->n);
	for (uint64_t i = 0; i < a->n && r == 0; i++)
		r = qcow2_release(q, old[i], false);
	free(nw);
	free(old);
	return r;
}

/* One allocating step under the exclusive layout lock: *done bytes written. */
static int write_alloc(struct qcow2 *q, const uint8_t *buf, uint64_t len, uint64_t off,
		       uint64_t *done)
{
	uint64_t cs = q->cluster_size, in = qcow2_offset_into_cluster(q, off), host, max;
	uint64_t fresh_from, l2i = (off >> q->cluster_bits) & (q->l2_entries - 1), *t;
	struct alloc_req *a;
	int r;

	max = VS_MIN((in + len + cs - 1) >> q->cluster_bits, q->l2_entries - l2i);
	max = VS_MIN(max, VS_MAX(WRITE_BATCH_BYTES >> q->cluster_bits, 1));
	a = xmalloc(sizeof(*a) + max * 8);
	a->l2i = l2i;
	r = qcow2_l2_for_write(q, off >> (q->cluster_bits + q->l2_bits), &a->l2off);
	if (r == 0)
		r = qcow2_cache_get(q, &q->l2c, a->l2off, (uint8_t **)&t);
	if (r < 0)
		goto out;
	a->n = count_alloc(q, t, a, max);
	if (a->n == 0) { /* allocated meanwhile: plain overwrite of one cluster */
		*done = VS_MIN(len, cs - in);
		r = qcow2_l2e_valid(q, be64toh(t[l2i]));
		if (r == 0)
			r = qcow2_file_write(q, QCOW2_OL_DATA, buf, *done,
					     (be64toh(t[l2i]) & QCOW2_OFFSET_MASK) + in);
		goto out;
	}
	fresh_from = q->alloc_end;
	r = qcow2_alloc_data(q, a->n, &host, &a->n); /* step 1; may give fewer */
	if (r < 0)
		goto out;
	a->buf = buf;
	a->off = off;
	a->len = VS_MIN(len, (a->n << q->cluster_bits) - in);
	r = alloc_write_data(q, a, host, (host >> q->cluster_bits) >= fresh_from);
	if (r < 0)
		goto out;
	r = publish(q, a, host); /* steps 3 and 4 */
	if (r == 0 && q->nrel >= RELEASE_MAX)
		r = qcow2_meta_flush(q);
	*done = a->len;
out:
	free(a);
	return r;
}

static int write_fast(struct qcow2 *q, const uint8_t *buf, uint64_t len, uint64_t off,
		      uint64_t *done)
{
	struct qcow2_map m;
	int r;

	*done = 0;
	pthread_rwlock_rdlock(&q->layout);
	pthread_mutex_lock(&q->meta);
	r = qcow2_map_get(q, off, len, &m);
	pthread_mutex_unlock(&q->meta);
	if (r == 0 && m.type == QCOW2_C_NORMAL && m.copied) {
		r = qcow2_data_overwrite(q, buf, m.len, m.host);
		*done = m.len;
	}
	pthread_rwlock_unlock(&q->layout);
	return r;
}

static int qcow2_write_locked(struct qcow2 *q, const uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t done;
	int r;

	while (len) {
		r = write_alloc(q, buf, len, off, &done);
		if (r < 0)
			return r;
		buf += done;
		off += done;
		len -= done;
	}
	return 0;
}

static int qcow2_pwrite(struct vs_blk *b, const void *vbuf, size_t len, uint64_t off)
{
	struct qcow2 *q = to_qcow2(b);
	const uint8_t *buf = vbuf;
	uint64_t done;
	int r;

	while (len) {
		r = write_fast(q, buf, len, off, &done);
		if (r == 0 && done == 0) {
			pthread_rwlock_wrlock(&q->layout);
			r = write_alloc(q, buf, len, off, &done);
			pthread_rwlock_unlock(&q->layout);
		}
		if (r < 0)
			return r;
		buf += done;
		off += done;
		len -= done;
	}
	return 0;
}

/* The entry that makes a cluster read as zeros (zero) or as the backing file
 * (discard); -ENOTSUP if version 2 cannot express it (backing file). */
static int unmapped_entry(const struct qcow2 *q, bool zero, uint64_t *e)
{
	if (q->version >= 3) {
		*e = (zero || q->backing) ? QCOW2_OFLAG_ZERO : 0;
		return 0;
	}
	*e = 0;
	return q->backing ? -ENOTSUP : 0;
}

/* Frees the host cluster of an old entry and, with punch, punches it out of
 * the file if nothing references it any more (thin provisioning). */
static int release_now(struct qcow2 *q, uint64_t e, bool punch)
{
	uint64_t rc, h = e & QCOW2_OFFSET_MASK;
	int r = release_entry(q, e);

	if (r == 0 && punch && qcow2_l2e_type(q, e) == QCOW2_C_NORMAL &&
	    qcow2_refcount_get(q, h >> q->cluster_bits, &rc) == 0 && rc == 0) {
		vs_io_hook_punch(h, q->cluster_size);
		(void)fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)h,
				(off_t)q->cluster_size);
	}
	return r;
}

int qcow2_release(struct qcow2 *q, uint64_t e, bool punch)
{
	if (qcow2_l2e_type(q, e) != QCOW2_C_COMPRESSED && !(e & QCOW2_OFFSET_MASK))
		return 0;
	if (!q->barriers)
		return release_now(q, e, punch);
	if (q->nrel == q->rel_cap) {
		q->rel_cap = q->rel_cap ? q->rel_cap * 2 : 64;
		q->rel = xrealloc(q->rel, q->rel_cap * sizeof(*q->rel));
	}
	q->rel[q->nrel++] = (struct qcow2_release){ e, punch };
	return 0;
}

/* Unmaps n whole clusters at off (inside one L2 table). */
static int unmap_clusters(struct qcow2 *q, uint64_t off, uint64_t n, bool zero)
{
	uint64_t l1i = off >> (q->cluster_bits + q->l2_bits), l2off, e, *t, *old, *nw;
	uint64_t l2i = (off >> q->cluster_bits) & (q->l2_entries - 1);
	int r = unmapped_entry(q, zero, &e);

	if (r < 0)
		return r;
	if (e == 0 && !(q->l1[l1i] & QCOW2_OFFSET_MASK))
		return 0;
	r = qcow2_l2_for_write(q, l1i, &l2off);
	if (r == 0)
		r = qcow2_cache_get(q, &q->l2c, l2off, (uint8_t **)&t);
	if (r < 0)
		return r;
	old = xmalloc(n * 8);
	nw = xmalloc(n * 8);
	for (uint64_t i = 0; i < n; i++) {
		old[i] = be64toh(t[l2i + i]);
		nw[i] = e;
	}
	r = qcow2_l2_set(q, l2off, l2i, nw, n);
	for (uint64_t i = 0; i < n && r == 0; i++)
		r = qcow2_release(q, old[i], true);
	free(old);
	free(nw);
	return r;
}

static int write_zero_bytes(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint8_t *z = xzalloc(q->cluster_size);
	int r = 0;

	while (r == 0 && len) {
		uint64_t n = VS_MIN(len, q->cluster_size);

		r = qcow2_write_locked(q, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return r;
}

/* Unmaps the whole clusters of [off, off+len) (the last cluster of the image
 * counts as whole up to the virtual size); the partial clusters at the edges
 * get zeros written (zero) or are left alone (discard). */
static int unmap_range(struct qcow2 *q, uint64_t off, uint64_t len, bool zero)
{
	uint64_t cs = q->cluster_size, end = off + len, a = VS_ALIGN_UP(off, cs);
	uint64_t z = end == q->blk.size ? VS_ALIGN_UP(end, cs) : VS_ALIGN_DOWN(end, cs);
	int r = 0;

	if (a >= z)
		return zero ? write_zero_bytes(q, off, len) : 0;
	if (zero && off < a)
		r = write_zero_bytes(q, off, a - off);
	while (r == 0 && a < z) {
		uint64_t in_tbl = q->l2_entries - ((a >> q->cluster_bits) & (q->l2_entries - 1));
		uint64_t n = VS_MIN((z - a) >> q->cluster_bits, in_tbl);

		r = unmap_clusters(q, a, n, zero);
		if (r == 0 && q->nrel >= RELEASE_MAX)
			r = qcow2_meta_flush(q);
		if (r == -ENOTSUP)
			r = zero ? write_zero_bytes(q, a, VS_MIN(n << q->cluster_bits, end - a)) :
				   0;
		a += n << q->cluster_bits;
	}
	if (r == 0 && zero && z < end)
		r = write_zero_bytes(q, z, end - z);
	return r;
}

int qcow2_zero_locked(struct qcow2 *q, uint64_t off, uint64_t len)
{
	return unmap_range(q, off, len, true);
}

static int unmap_under_lock(struct vs_blk *b, uint64_t off, uint64_t len, bool zero)
{
	struct qcow2 *q = to_qcow2(b);
	int r;

	pthread_rwlock_wrlock(&q->layout);
	r = unmap_range(q, off, len, zero);
	pthread_rwlock_unlock(&q->layout);
	return r;
}

static int qcow2_discard(struct vs_blk *b, uint64_t off, uint64_t len)
{
	return unmap_under_lock(b, off, len, false);
}

static int qcow2_write_zeroes(struct vs_blk *b, uint64_t off, uint64_t len)
{
	return unmap_under_lock(b, off, len, true);
}

static int status_backing(struct qcow2 *q, uint64_t off, uint64_t len, struct vs_blk_status *st)
{
	uint64_t bsize = q->backing ? vs_blk_size(q->backing) : 0;
	int r;

	if (off >= bsize) {
		st->len = len;
		st->flags = VS_BLK_ST_ZERO;
		return 0;
	}
	r = vs_blk_block_status(q->backing, off, VS_MIN(len, bsize - off), st);
	if (r < 0)
		return r;
	st->flags &= ~(VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET | VS_BLK_ST_COMPRESSED);
	st->depth++;
	return 0;
}

static int qcow2_block_status(struct vs_blk *b, uint64_t off, uint64_t len,
			      struct vs_blk_status *st)
{
	struct qcow2 *q = to_qcow2(b);
	struct qcow2_map m;
	int r;

	pthread_rwlock_rdlock(&q->layout);
	pthread_mutex_lock(&q->meta);
	r = qcow2_map_get(q, off, len, &m);
	pthread_mutex_unlock(&q->meta);
	pthread_rwlock_unlock(&q->layout);
	if (r < 0)
		return r;
	st->len = m.len;
	switch (m.type) {
	case QCOW2_C_NORMAL:
		st->flags = VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET;
		st->host_offset = m.host;
		return 0;
	case QCOW2_C_ZERO:
		st->flags = VS_BLK_ST_ZERO | VS_BLK_ST_ALLOCATED;
		return 0;
	case QCOW2_C_COMPRESSED:
		st->flags = VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_COMPRESSED;
		return 0;
	default:
		return status_backing(q, off, m.len, st);
	}
}

int qcow2_sync(struct qcow2 *q)
{
	vs_io_hook_sync();
	return fdatasync(q->fd) < 0 ? -errno : 0;
}

int qcow2_barrier(struct qcow2 *q)
{
	return q->barriers ? qcow2_sync(q) : 0;
}

/* With barriers: 1. fdatasync (refcounts, data and new tables written so
 * far are durable), 2. the held-back L2 tables and L1, 3. fdatasync (the
 * switch is durable), 4. the replaced references are dropped. *synced says
 * whether step 3 ran. */
static int meta_flush(struct qcow2 *q, bool *synced)
{
	size_t n = q->nrel;
	int r;

	*synced = false;
	if (!q->l2c.ndirty && !q->l1_dirty && !n)
		return 0;
	r = qcow2_sync(q);
	if (r == 0)
		r = qcow2_cache_write_dirty(q, &q->l2c);
	if (r == 0 && q->l1_dirty)
		r = qcow2_l1_write(q, 0, q->l1_size);
	if (r == 0)
		r = qcow2_sync(q);
	if (r < 0)
		return r;
	q->l1_dirty = false;
	*synced = true;
	q->nrel = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = release_now(q, q->rel[i].l2e, q->rel[i].punch);
	return r;
}

int qcow2_meta_flush(struct qcow2 *q)
{
	bool synced;

	return meta_flush(q, &synced);
}

static int qcow2_flush(struct vs_blk *b)
{
	struct qcow2 *q = to_qcow2(b);
	bool synced;
	int r;

	pthread_rwlock_wrlock(&q->layout);
	r = meta_flush(q, &synced);
	pthread_rwlock_unlock(&q->layout);
	return r == 0 && !synced ? qcow2_sync(q) : r;
}

const struct vs_blk_ops qcow2_ops = {
	.name = "qcow2",
	.pread = qcow2_pread,
	.pwrite = qcow2_pwrite,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.block_status = qcow2_block_status,
	.truncate = qcow2_truncate,
	.check = qcow2_check,
	.close = qcow2_close,
	.map_io = qcow2_map_io,
};
