/* Resizing: growing the L1 table and the virtual size; shrinking only when
 * nothing is allocated past the new end. */
#include "block/qcow2/internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Moves the L1 table to fresh clusters with at least min_entries entries:
 * the new table is written in full, then the header switches to it (one
 * 12-byte write of l1_size + l1_table_offset), then the old one is freed. */
int qcow2_grow_l1(struct qcow2 *q, uint64_t min_entries)
{
	uint64_t bytes = min_entries * 8, clusters, off, old_off = q->l1_offset;
	uint64_t old_size = q->l1_size, *t;
	uint8_t hdr[12];
	int r;

	if (min_entries <= q->l1_size)
		return 0;
	if (bytes > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	clusters = qcow2_size_to_clusters(q, bytes);
	r = qcow2_alloc_clusters(q, clusters, &off);
	if (r < 0)
		return r;
	t = xzalloc(clusters << q->cluster_bits);
	for (uint64_t i = 0; i < old_size; i++)
		t[i] = htobe64(q->l1[i]);
	r = qcow2_file_write(q, QCOW2_OL_ACTIVE_L1, t, clusters << q->cluster_bits, off);
	free(t);
	if (r == 0)
		r = qcow2_barrier(q); /* the table before the header points at it */
	if (r < 0)
		return r;
	qcow2_put_be32(hdr, (uint32_t)min_entries);
	qcow2_put_be64(hdr + 4, off);
	r = qcow2_header_write_field(q, QCOW2_HDR_OFF_L1, hdr, sizeof(hdr));
	if (r == 0)
		r = qcow2_barrier(q); /* the switch before the old table's release */
	if (r < 0)
		return r;
	q->l1 = xrealloc(q->l1, bytes);
	memset(q->l1 + old_size, 0, (min_entries - old_size) * 8);
	qcow2_ol_del(q, old_off, old_size * 8, QCOW2_OL_ACTIVE_L1);
	qcow2_ol_add(q, off, clusters << q->cluster_bits, QCOW2_OL_ACTIVE_L1);
	q->l1_size = (uint32_t)min_entries;
	q->l1_offset = off;
	if (!old_size)
		return 0;
	return qcow2_refcount_update(q, old_off, old_size * 8, -1);
}

static int tail_is_empty(struct qcow2 *q, uint64_t from, bool *empty)
{
	struct qcow2_map m;
	int r;

	*empty = true;
	while (from < q->blk.size) {
		r = qcow2_map_get(q, from, q->blk.size - from, &m);
		if (r < 0)
			return r;
		if (m.type != QCOW2_C_UNALLOC) {
			*empty = false;
			return 0;
		}
		from += m.len;
	}
	return 0;
}

static int resize_locked(struct qcow2 *q, uint64_t size, struct vs_err **err)
{
	uint64_t span = q->cluster_size * q->l2_entries, be, old, bsize;
	const char *f = q->blk.filename;
	bool empty;
	int r;

	if (size > QCOW2_MAX_SIZE)
		return vs_err_set(err, -EFBIG, "%s: size too large", f);
	r = qcow2_meta_flush(q); /* grow_l1 copies the L1 as the file has it */
	if (r < 0)
		return vs_err_setsys(err, r, "%s: write metadata", f);
	if (size < q->blk.size) {
		if (q->nb_snapshots)
			return vs_err_set(err, -ENOTSUP,
					  "%s: cannot shrink an image that has snapshots", f);
		r = tail_is_empty(q, size, &empty);
		if (r < 0)
			return vs_err_setsys(err, r, "%s: read L2 table", f);
		if (!empty)
			return vs_err_set(err, -ENOTSUP,
					  "%s: cannot shrink: data is allocated past the new size",
					  f);
	}
	r = qcow2_grow_l1(q, (size + span - 1) / span);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: grow L1 table", f);
	be = htobe64(size);
	r = qcow2_header_write_field(q, QCOW2_HDR_OFF_SIZE, &be, 8);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: write header", f);
	old = q->blk.size;
	q->blk.size = size;
	/* Growing over a larger backing file must not expose its tail. */
	bsize = q->backing ? vs_blk_size(q->backing) : 0;
	if (size > old && bsize > old) {
		r = qcow2_zero_locked(q, old, VS_MIN(size, bsize) - old);
		if (r < 0)
			return vs_err_setsys(err, r, "%s: zero the grown area", f);
	}
	return 0;
}

int qcow2_truncate(struct vs_blk *b, uint64_t size, struct vs_err **err)
{
	struct qcow2 *q = to_qcow2(b);
	int r;

	pthread_rwlock_wrlock(&q->layout);
	r = resize_locked(q, size, err);
	pthread_rwlock_unlock(&q->layout);
	return r;
}
