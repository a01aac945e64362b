/* Guest → host cluster mapping through the L1 and L2 tables, and the
 * allocation of L2 tables (copy-on-write of tables shared with snapshots).
 * Callers hold q->meta. Offsets read from tables are validated on use. */
#include "block/qcow2/internal.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Does the cluster at off hold the header, the L1 or the refcount table?
 * Tables and data found there would let writes destroy metadata. */
static bool hits_fixed_metadata(const struct qcow2 *q, uint64_t off)
{
	return off < q->cluster_size ||
	       (off >= q->l1_offset && off < q->l1_offset + q->l1_size * 8ULL) ||
	       (off >= q->rt_offset && off < q->rt_offset + q->rt_entries * 8);
}

int qcow2_check_table_offset(const struct qcow2 *q, uint64_t off)
{
	if (!off || qcow2_offset_into_cluster(q, off) || off > QCOW2_MAX_SIZE ||
	    hits_fixed_metadata(q, off))
		return -EIO;
	return 0;
}

enum qcow2_ctype qcow2_l2e_type(const struct qcow2 *q, uint64_t l2e)
{
	if (l2e & QCOW2_OFLAG_COMPRESSED)
		return QCOW2_C_COMPRESSED;
	if (q->version >= 3 && (l2e & QCOW2_OFLAG_ZERO))
		return QCOW2_C_ZERO;
	if (l2e & QCOW2_OFFSET_MASK)
		return QCOW2_C_NORMAL;
	return QCOW2_C_UNALLOC;
}

/* Do entries a and b (b one cluster after a) continue the same extent? */
static bool same_extent(const struct qcow2 *q, uint64_t a, uint64_t b)
{
	enum qcow2_ctype t = qcow2_l2e_type(q, a);

	if (t != qcow2_l2e_type(q, b) || t == QCOW2_C_COMPRESSED)
		return false;
	if (t != QCOW2_C_NORMAL)
		return true;
	return (b & QCOW2_OFFSET_MASK) == (a & QCOW2_OFFSET_MASK) + q->cluster_size &&
	       (a & QCOW2_OFLAG_COPIED) == (b & QCOW2_OFLAG_COPIED);
}

int qcow2_l2e_valid(const struct qcow2 *q, uint64_t e)
{
	uint64_t h = e & QCOW2_OFFSET_MASK;

	if (qcow2_l2e_type(q, e) == QCOW2_C_NORMAL &&
	    (qcow2_offset_into_cluster(q, h) || hits_fixed_metadata(q, h)))
		return -EIO;
	return 0;
}

int qcow2_map_get(struct qcow2 *q, uint64_t off, uint64_t len, struct qcow2_map *m)
{
	uint64_t l1i = off >> (q->cluster_bits + q->l2_bits);
	uint64_t l2i = (off >> q->cluster_bits) & (q->l2_entries - 1);
	uint64_t in = qcow2_offset_into_cluster(q, off), l2off, e0, n = 1;
	uint64_t want = (in + len + q->cluster_size - 1) >> q->cluster_bits;
	const uint64_t *t;
	int r;

	memset(m, 0, sizeof(*m));
	l2off = l1i < q->l1_size ? q->l1[l1i] & QCOW2_OFFSET_MASK : 0;
	if (!l2off) {
		n = q->l2_entries - l2i;
		m->type = QCOW2_C_UNALLOC;
		m->len = VS_MIN(len, (n << q->cluster_bits) - in);
		return 0;
	}
	if (qcow2_check_table_offset(q, l2off) < 0)
		return -EIO;
	r = qcow2_cache_get(q, &q->l2c, l2off, (uint8_t **)&t);
	if (r < 0)
		return r;
	e0 = be64toh(t[l2i]);
	if (qcow2_l2e_valid(q, e0) < 0)
		return -EIO;
	while (n < want && l2i + n < q->l2_entries &&
	       same_extent(q, be64toh(t[l2i + n - 1]), be64toh(t[l2i + n])))
		n++;
	m->l2e = e0;
	m->type = qcow2_l2e_type(q, e0);
	m->copied = e0 & QCOW2_OFLAG_COPIED;
	m->host = (e0 & QCOW2_OFFSET_MASK) + in;
	m->len = VS_MIN(len, (n << q->cluster_bits) - in);
	return 0;
}

int qcow2_l1_write(struct qcow2 *q, uint64_t first, uint64_t n)
{
	uint64_t *be = xmalloc(n * 8);
	int r;

	for (uint64_t i = 0; i < n; i++)
		be[i] = htobe64(q->l1[first + i]);
	r = qcow2_file_write(q, QCOW2_OL_ACTIVE_L1, be, n * 8, q->l1_offset + first * 8);
	free(be);
	return r;
}

int qcow2_l2_set(struct qcow2 *q, uint64_t l2_off, uint64_t first, const uint64_t *entries,
		 uint64_t n)
{
	uint64_t *t;
	int r = qcow2_cache_get(q, &q->l2c, l2_off, (uint8_t **)&t);

	if (r < 0)
		return r;
	for (uint64_t i = 0; i < n; i++)
		t[first + i] = htobe64(entries[i]);
	if (q->barriers) { /* written by the next metadata flush (io.c) */
		qcow2_cache_set_dirty(&q->l2c, l2_off);
		return 0;
	}
	return qcow2_file_write(q, QCOW2_OL_ACTIVE_L2, t + first, n * 8, l2_off + first * 8);
}

/* Copies the table at old (or zeros) into a fresh cluster and points the L1
 * entry at it; then drops the reference to old. The new table's content is
 * written at once: the L1 entry (held back with barriers) may only reach the
 * file after an fdatasync that follows it. */
static int l2_new_table(struct qcow2 *q, uint64_t l1i, uint64_t old)
{
	uint8_t *copy = NULL, *t;
	uint64_t off;
	int r;

	if (old) {
		r = qcow2_cache_get(q, &q->l2c, old, &t);
		if (r < 0)
			return r;
		copy = xmalloc(q->cluster_size);
		memcpy(copy, t, q->cluster_size);
	}
	r = qcow2_alloc_clusters(q, 1, &off);
	if (r == 0)
		r = qcow2_cache_new(q, &q->l2c, off, &t);
	if (r == 0) {
		if (copy)
			memcpy(t, copy, q->cluster_size);
		r = qcow2_pre_write(q, QCOW2_OL_ACTIVE_L2, off, q->cluster_size);
		if (r == 0)
			r = vs_pwrite_full(q->fd, t, q->cluster_size, off);
	}
	free(copy);
	if (r < 0)
		return r;
	if (old)
		qcow2_ol_del(q, old, q->cluster_size, QCOW2_OL_ACTIVE_L2);
	qcow2_ol_add(q, off, q->cluster_size, QCOW2_OL_ACTIVE_L2);
	q->l1[l1i] = off | QCOW2_OFLAG_COPIED;
	if (q->barriers)
		q->l1_dirty = true;
	else
		r = qcow2_l1_write(q, l1i, 1);
	if (r < 0 || !old)
		return r;
	return qcow2_release(q, old, false);
}

int qcow2_l2_for_write(struct qcow2 *q, uint64_t l1_index, uint64_t *l2_off)
{
	uint64_t e, off;
	int r;

	if (l1_index >= q->l1_size)
		return -EIO;
	e = q->l1[l1_index];
	off = e & QCOW2_OFFSET_MASK;
	if (off && qcow2_check_table_offset(q, off) < 0)
		return -EIO;
	if (off && (e & QCOW2_OFLAG_COPIED)) { /* updated in place: may it be written? */
		r = qcow2_pre_write(q, QCOW2_OL_ACTIVE_L2, off, q->cluster_size);
		if (r < 0)
			return r;
	}
	if (!off || !(e & QCOW2_OFLAG_COPIED)) {
		r = l2_new_table(q, l1_index, off);
		if (r < 0)
			return r;
	}
	*l2_off = q->l1[l1_index] & QCOW2_OFFSET_MASK;
	return 0;
}
