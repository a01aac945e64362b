/* Refcount table and blocks: lookups, updates, cluster allocation, and growth
 * of the refcount structures themselves.
 *
 * Sections: entry access / lookup and update / allocation / new refcount
 * blocks and table growth.
 *
 * Every update is written through to the file right away, before the caller
 * publishes any pointer to the clusters (see the ordering rules in io.c). New
 * refcount blocks are written before the table entry that points at them; a
 * grown table is written in full before the header switches to it; with
 * barriers (io.c), an fdatasync separates each of these steps. A crash
 * between steps leaks clusters, never loses a reference. */
#include "block/qcow2/internal.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- entry access (refcount_order 0..6, sub-byte entries LSB first) ---- */

static uint64_t rb_entry_get(const uint8_t *b, uint64_t i, unsigned order)
{
	switch (order) {
	case 3:
		return b[i];
	case 4:
		return be16toh(((const uint16_t *)b)[i]);
	case 5:
		return be32toh(((const uint32_t *)b)[i]);
	case 6:
		return be64toh(((const uint64_t *)b)[i]);
	default: {
		unsigned bits = 1U << order, shift = (unsigned)((i << order) & 7);

		return (b[(i << order) >> 3] >> shift) & ((1U << bits) - 1);
	}
	}
}

void qcow2_rb_entry_put(uint8_t *b, uint64_t i, unsigned order, uint64_t v)
{
	switch (order) {
	case 3:
		b[i] = (uint8_t)v;
		break;
	case 4:
		((uint16_t *)b)[i] = htobe16((uint16_t)v);
		break;
	case 5:
		((uint32_t *)b)[i] = htobe32((uint32_t)v);
		break;
	case 6:
		((uint64_t *)b)[i] = htobe64(v);
		break;
	default: {
		unsigned bits = 1U << order, shift = (unsigned)((i << order) & 7);
		uint8_t mask = (uint8_t)(((1U << bits) - 1) << shift);
		uint8_t *p = &b[(i << order) >> 3];

		*p = (uint8_t)((*p & ~mask) | ((v << shift) & mask));
	}
	}
}

/* Byte range [*lo, *hi) of a block that holds entries [first, last]. */
static void rb_bytes(uint64_t first, uint64_t last, unsigned order, uint64_t *lo, uint64_t *hi)
{
	*lo = (first << order) >> 3;
	*hi = (((last + 1) << order) + 7) >> 3;
}

/* ---- lookup and update ---- */

/* Finds the refcount block covering cluster; *blk = 0 if there is none. */
static int rb_locate(struct qcow2 *q, uint64_t cluster, uint64_t *blk)
{
	uint64_t ri = cluster >> q->rb_bits;

	*blk = 0;
	if (ri >= q->rt_entries)
		return 0;
	*blk = q->rt[ri] & QCOW2_OFFSET_MASK;
	if (*blk && qcow2_offset_into_cluster(q, *blk))
		return -EIO; /* validated at open; a corrupt entry is an I/O error */
	return 0;
}

int qcow2_refcount_get(struct qcow2 *q, uint64_t cluster, uint64_t *rc)
{
	uint64_t blk;
	uint8_t *b;
	int r = rb_locate(q, cluster, &blk);

	*rc = 0;
	if (r < 0 || !blk)
		return r;
	r = qcow2_cache_get(q, &q->rbc, blk, &b);
	if (r < 0)
		return r;
	*rc = rb_entry_get(b, cluster & ((1ULL << q->rb_bits) - 1), q->refcount_order);
	return 0;
}

/* Applies delta (or sets rc when set is true) to clusters [first, last] that
 * all lie in one refcount block, writing the changed bytes through. */
static int rb_update_run(struct qcow2 *q, uint64_t first, uint64_t last, int delta, bool set,
			 uint64_t rc)
{
	uint64_t mask = (1ULL << q->rb_bits) - 1, blk, lo, hi;
	uint8_t *b;
	int r = rb_locate(q, first, &blk);

	if (r < 0)
		return r;
	if (!blk)
		return (delta > 0 || (set && rc)) ? -EIO : 0;
	r = qcow2_cache_get(q, &q->rbc, blk, &b);
	if (r < 0)
		return r;
	for (uint64_t c = first; c <= last; c++) {
		uint64_t old = rb_entry_get(b, c & mask, q->refcount_order), v = rc;

		if (!set) {
			if ((delta < 0 && old < (uint64_t)-delta) ||
			    (delta > 0 && old > q->refcount_max - (uint64_t)delta))
				return -ERANGE;
			v = old + (uint64_t)(int64_t)delta;
		}
		qcow2_rb_entry_put(b, c & mask, q->refcount_order, v);
		if (v == 0 && c < q->free_hint)
			q->free_hint = c;
		if (v == 0)
			qcow2_ol_forget(q, c);
		if (v == 0 && q->zbuf_cursor && (q->zbuf_cursor - 1) >> q->cluster_bits == c)
			q->zbuf_cursor = 0; /* never pack into a cluster that may be reused */
	}
	rb_bytes(first & mask, last & mask, q->refcount_order, &lo, &hi);
	return qcow2_file_write(q, QCOW2_OL_REFCOUNT_BLOCK, b + lo, hi - lo, blk + lo);
}

static int refcount_apply(struct qcow2 *q, uint64_t first, uint64_t n, int delta, bool set,
			  uint64_t rc)
{
	uint64_t c = first, end = first + n;
	int r;

	while (c < end) {
		uint64_t block_end = ((c >> q->rb_bits) + 1) << q->rb_bits;
		uint64_t last = VS_MIN(end, block_end) - 1;

		r = rb_update_run(q, c, last, delta, set, rc);
		if (r < 0)
			return r;
		c = last + 1;
	}
	return 0;
}

int qcow2_refcount_update(struct qcow2 *q, uint64_t off, uint64_t nbytes, int delta)
{
	uint64_t first = off >> q->cluster_bits;
	uint64_t last = (off + nbytes - 1) >> q->cluster_bits;

	if (!nbytes)
		return 0;
	return refcount_apply(q, first, last - first + 1, delta, false, 0);
}

int qcow2_refcount_set(struct qcow2 *q, uint64_t cluster, uint64_t rc)
{
	return refcount_apply(q, cluster, 1, 0, true, rc);
}

int qcow2_free_clusters(struct qcow2 *q, uint64_t off, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		qcow2_cache_drop(&q->l2c, off + (i << q->cluster_bits));
	return qcow2_refcount_update(q, off, n << q->cluster_bits, -1);
}

void qcow2_compressed_range(const struct qcow2 *q, uint64_t l2e, uint64_t *off, uint64_t *len)
{
	unsigned shift = 62 - (q->cluster_bits - 8);
	uint64_t coff = l2e & ((1ULL << shift) - 1);
	uint64_t nsec = ((l2e >> shift) & ((1ULL << (q->cluster_bits - 8)) - 1)) + 1;

	*off = coff;
	*len = nsec * 512 - (coff & 511);
}

int qcow2_free_compressed(struct qcow2 *q, uint64_t l2e)
{
	uint64_t off, len;

	qcow2_compressed_range(q, l2e, &off, &len);
	return qcow2_refcount_update(q, off & ~511ULL, len + (off & 511), -1);
}

/* ---- allocation ---- */

/* Metadata the allocator must never hand out, whatever refcounts say. */
static bool is_fixed_metadata(const struct qcow2 *q, uint64_t c)
{
	uint64_t off = c << q->cluster_bits;

	return c == 0 ||
	       (q->l1_size && off >= q->l1_offset && off < q->l1_offset + q->l1_size * 8ULL) ||
	       (off >= q->rt_offset && off < q->rt_offset + q->rt_entries * 8);
}

/* Finds n free contiguous clusters at or after free_hint. */
static int find_free(struct qcow2 *q, uint64_t n, uint64_t *start)
{
	uint64_t c = VS_MAX(q->free_hint, 1), run = 0, first = 0, first_free = UINT64_MAX;
	uint64_t rc;
	int r;

	for (; run < n; c++) {
		if (c >= q->alloc_end) {
			if (!run)
				first = c;
			break;
		}
		r = qcow2_refcount_get(q, c, &rc);
		if (r < 0)
			return r;
		if (rc || is_fixed_metadata(q, c)) {
			run = 0;
			continue;
		}
		if (!run)
			first = c;
		first_free = VS_MIN(first_free, c);
		run++;
	}
	*start = first;
	q->free_hint = first_free < first ? first_free : first + n;
	return 0;
}

static int grow_table(struct qcow2 *q, uint64_t need_ri);

/* Makes sure the refcount block for range ri exists. Sets *changed if it had
 * to allocate (which may consume clusters a caller picked). */
static int ensure_block(struct qcow2 *q, uint64_t ri, bool *changed)
{
	uint64_t c = ri << q->rb_bits, off, be;
	uint8_t *b;
	int r;

	if (ri < q->rt_entries && q->rt[ri])
		return 0;
	*changed = true;
	if (ri >= q->rt_entries)
		return grow_table(q, ri);
	/* No block: every cluster of the range has refcount 0, so the block can
	 * describe itself from the range's first cluster. */
	if (is_fixed_metadata(q, c))
		return -EIO;
	off = c << q->cluster_bits;
	r = qcow2_cache_new(q, &q->rbc, off, &b);
	if (r < 0)
		return r;
	qcow2_rb_entry_put(b, 0, q->refcount_order, 1);
	r = qcow2_file_write(q, QCOW2_OL_REFCOUNT_BLOCK, b, q->cluster_size, off);
	if (r == 0)
		r = qcow2_barrier(q); /* the block before the table entry */
	if (r < 0) {
		qcow2_cache_drop(&q->rbc, off);
		return r;
	}
	be = htobe64(off);
	r = qcow2_file_write(q, QCOW2_OL_REFCOUNT_TABLE, &be, 8, q->rt_offset + ri * 8);
	if (r < 0)
		return r;
	q->rt[ri] = off;
	qcow2_ol_add(q, off, q->cluster_size, QCOW2_OL_REFCOUNT_BLOCK);
	q->alloc_end = VS_MAX(q->alloc_end, c + 1);
	return 0;
}

static bool has_block(const struct qcow2 *q, uint64_t c)
{
	uint64_t ri = c >> q->rb_bits;

	return ri < q->rt_entries && q->rt[ri];
}

/* Picks n contiguous clusters at alloc_end followed by the refcount blocks
 * that their ranges lack, for runs longer than a refcount block covers.
 * Order: refcounts of new blocks in existing blocks, new blocks (describing
 * themselves where they fall in their own range), then table entries. */
static int alloc_tail(struct qcow2 *q, uint64_t n, uint64_t *start)
{
	uint64_t s, k = 0, m, end, *blk = NULL;
	int r = 0;

	for (;;) {
		s = q->alloc_end;
		for (;;) {
			end = s + n + k;
			m = 0;
			for (uint64_t ri = s >> q->rb_bits; ri <= (end - 1) >> q->rb_bits; ri++)
				m += !(ri < q->rt_entries && q->rt[ri]);
			if (m <= k)
				break;
			k = m;
		}
		if (((end - 1) >> q->rb_bits) < q->rt_entries)
			break;
		r = grow_table(q, (end - 1) >> q->rb_bits);
		if (r < 0)
			return r;
	}
	blk = xzalloc(sizeof(*blk) * (k + 1));
	for (uint64_t j = 0, ri = s >> q->rb_bits; ri <= (end - 1) >> q->rb_bits; ri++)
		if (!q->rt[ri])
			blk[j++] = ri;
	for (uint64_t j = 0; j < m && r == 0; j++) { /* block clusters in covered ranges */
		uint64_t c = s + n + j;

		if (has_block(q, c))
			r = refcount_apply(q, c, 1, 1, false, 0);
	}
	for (uint64_t j = 0; j < m && r == 0; j++) {
		uint64_t off = (s + n + j) << q->cluster_bits;
		uint8_t *b;

		r = qcow2_cache_new(q, &q->rbc, off, &b);
		if (r < 0)
			break;
		for (uint64_t i = 0; i < m; i++)
			if (((s + n + i) >> q->rb_bits) == blk[j])
				qcow2_rb_entry_put(b, (s + n + i) & ((1ULL << q->rb_bits) - 1),
						   q->refcount_order, 1);
		r = qcow2_file_write(q, QCOW2_OL_REFCOUNT_BLOCK, b, q->cluster_size, off);
	}
	if (r == 0 && m)
		r = qcow2_barrier(q); /* the blocks before the table entries */
	for (uint64_t j = 0; j < m && r == 0; j++) {
		uint64_t off = (s + n + j) << q->cluster_bits, be = htobe64(off);

		r = qcow2_file_write(q, QCOW2_OL_REFCOUNT_TABLE, &be, 8, q->rt_offset + blk[j] * 8);
		if (r == 0)
			q->rt[blk[j]] = off;
		if (r == 0)
			qcow2_ol_add(q, off, q->cluster_size, QCOW2_OL_REFCOUNT_BLOCK);
	}
	free(blk);
	q->alloc_end = VS_MAX(q->alloc_end, s + n + m);
	*start = s;
	return r;
}

int qcow2_alloc_clusters(struct qcow2 *q, uint64_t n, uint64_t *off)
{
	uint64_t start;
	bool changed;
	int r;

	do {
		r = find_free(q, n, &start);
		if (r < 0)
			return r;
		if (((start + n) << q->cluster_bits) > QCOW2_MAX_SIZE)
			return -EFBIG;
		changed = false;
		if (n > 1 && (!has_block(q, start) || !has_block(q, start + n - 1) ||
			      (n >> q->rb_bits) > 0)) {
			r = alloc_tail(q, n, &start);
			if (r < 0)
				return r;
			break;
		}
		r = ensure_block(q, start >> q->rb_bits, &changed);
		if (r < 0)
			return r;
	} while (changed);
	r = refcount_apply(q, start, n, 1, false, 0);
	if (r < 0)
		return r;
	q->alloc_end = VS_MAX(q->alloc_end, start + n);
	*off = start << q->cluster_bits;
	return 0;
}

int qcow2_alloc_data(struct qcow2 *q, uint64_t max, uint64_t *off, uint64_t *got)
{
	uint64_t c, rc, n = 1;
	int r = qcow2_alloc_clusters(q, 1, off);

	if (r < 0)
		return r;
	for (c = (*off >> q->cluster_bits) + 1; n < max; c++, n++) {
		if (!has_block(q, c) || is_fixed_metadata(q, c))
			break;
		if (c < q->alloc_end) {
			r = qcow2_refcount_get(q, c, &rc);
			if (r < 0 || rc)
				break;
		}
	}
	r = n > 1 ? refcount_apply(q, (*off >> q->cluster_bits) + 1, n - 1, 1, false, 0) : 0;
	if (r < 0)
		return r;
	q->alloc_end = VS_MAX(q->alloc_end, c);
	if (q->free_hint == (*off >> q->cluster_bits) + 1)
		q->free_hint = c;
	*got = n;
	return 0;
}

/* ---- table growth ---- */

struct rt_area {
	uint64_t start; /* first cluster of the new area */
	uint64_t nblocks; /* block slots at the area's head */
	uint64_t ranges; /* of which are used, for ranges first_ri.. */
	uint64_t tclusters;
	uint64_t entries;
};

/* Sizes an area [blocks][table] past everything in use, such that the
 * blocks describe the whole area and the table covers need_ri. */
static void size_area(struct qcow2 *q, uint64_t need_ri, struct rt_area *a)
{
	uint64_t per_cluster = q->cluster_size / 8;

	a->start = VS_MAX(q->alloc_end, q->rt_entries << q->rb_bits);
	a->nblocks = 1;
	a->tclusters = 1;
	for (;;) {
		uint64_t end = a->start + a->nblocks + a->tclusters;
		uint64_t last_ri = (end - 1) >> q->rb_bits;
		uint64_t entries = VS_MAX(VS_MAX(need_ri, last_ri) + 1, q->rt_entries);
		uint64_t tcl = (entries + per_cluster - 1) / per_cluster;

		a->ranges = last_ri - (a->start >> q->rb_bits) + 1;
		if (a->ranges <= a->nblocks && tcl <= a->tclusters)
			break;
		a->nblocks = VS_MAX(a->nblocks, a->ranges);
		a->tclusters = VS_MAX(a->tclusters, tcl);
	}
	a->entries = a->tclusters * per_cluster;
}

static bool area_used(const struct rt_area *a, uint64_t c)
{
	return c - a->start < a->ranges || c >= a->start + a->nblocks;
}

static int write_area_blocks(struct qcow2 *q, const struct rt_area *a)
{
	uint64_t end = a->start + a->nblocks + a->tclusters, mask = (1ULL << q->rb_bits) - 1;
	uint8_t *b = xmalloc(q->cluster_size);
	int r = 0;

	for (uint64_t k = 0; k < a->ranges && r == 0; k++) {
		uint64_t ri = (a->start >> q->rb_bits) + k;

		memset(b, 0, q->cluster_size);
		for (uint64_t c = a->start; c < end; c++)
			if ((c >> q->rb_bits) == ri && area_used(a, c))
				qcow2_rb_entry_put(b, c & mask, q->refcount_order, 1);
		r = qcow2_file_write(q, QCOW2_OL_REFCOUNT_BLOCK, b, q->cluster_size,
				     (a->start + k) << q->cluster_bits);
	}
	free(b);
	return r;
}

static int grow_table(struct qcow2 *q, uint64_t need_ri)
{
	struct rt_area a;
	uint64_t *t, old_off = q->rt_offset, old_cl = q->rt_clusters, first_ri;
	uint8_t hdr[12];
	int r;

	size_area(q, need_ri, &a);
	if ((a.tclusters << q->cluster_bits) > QCOW2_MAX_RT_BYTES)
		return -EFBIG;
	r = write_area_blocks(q, &a);
	if (r < 0)
		return r;
	t = xzalloc(a.entries * 8);
	memcpy(t, q->rt, q->rt_entries * 8);
	first_ri = a.start >> q->rb_bits;
	for (uint64_t k = 0; k < a.ranges; k++)
		t[first_ri + k] = (a.start + k) << q->cluster_bits;
	for (uint64_t i = 0; i < a.entries; i++)
		t[i] = htobe64(t[i]);
	r = qcow2_file_write(q, QCOW2_OL_REFCOUNT_TABLE, t, a.entries * 8,
			     (a.start + a.nblocks) << q->cluster_bits);
	if (r == 0)
		r = qcow2_barrier(q); /* blocks and table before the header */
	if (r == 0) {
		qcow2_put_be64(hdr, (a.start + a.nblocks) << q->cluster_bits);
		qcow2_put_be32(hdr + 8, (uint32_t)a.tclusters);
		r = qcow2_header_write_field(q, QCOW2_HDR_OFF_RT, hdr, sizeof(hdr));
	}
	if (r == 0)
		r = qcow2_barrier(q); /* the switch before the old table's release */
	if (r < 0) {
		free(t);
		return r;
	}
	for (uint64_t i = 0; i < a.entries; i++)
		t[i] = be64toh(t[i]);
	free(q->rt);
	q->rt = t;
	q->rt_entries = a.entries;
	q->rt_offset = (a.start + a.nblocks) << q->cluster_bits;
	q->rt_clusters = (uint32_t)a.tclusters;
	q->alloc_end = a.start + a.nblocks + a.tclusters;
	qcow2_ol_del(q, old_off, old_cl << q->cluster_bits, QCOW2_OL_REFCOUNT_TABLE);
	for (uint64_t k = 0; k < a.ranges; k++)
		qcow2_ol_add(q, (a.start + k) << q->cluster_bits, q->cluster_size,
			     QCOW2_OL_REFCOUNT_BLOCK);
	qcow2_ol_add(q, q->rt_offset, (uint64_t)q->rt_clusters << q->cluster_bits,
		     QCOW2_OL_REFCOUNT_TABLE);
	return qcow2_refcount_update(q, old_off, old_cl << q->cluster_bits, -1);
}

/* Sets alloc_end past the file's end and past the last cluster with a
 * nonzero refcount, so that clusters beyond it can be handed out unseen. */
int qcow2_refcount_init(struct qcow2 *q)
{
	struct stat st;
	uint64_t rc, ri = q->rt_entries;
	unsigned scanned = 0;
	int r;

	if (fstat(q->fd, &st) < 0)
		return -errno;
	q->alloc_end = qcow2_size_to_clusters(q, (uint64_t)st.st_size);
	q->free_hint = 1;
	while (ri-- > 0) {
		uint64_t base = ri << q->rb_bits, n = 1ULL << q->rb_bits;

		if (!(q->rt[ri] & QCOW2_OFFSET_MASK))
			continue;
		/* Used clusters past EOF only come from a crash between the
		 * refcount update and the data write: the last blocks suffice,
		 * and the bound keeps hostile tables from costing a scan each. */
		if (scanned++ == 2)
			return 0;
		while (n-- > 0) {
			r = qcow2_refcount_get(q, base + n, &rc);
			if (r < 0)
				return r;
			if (rc) {
				q->alloc_end = VS_MAX(q->alloc_end, base + n + 1);
				return 0;
			}
		}
	}
	return 0;
}
