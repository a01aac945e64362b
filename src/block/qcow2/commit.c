/* Atomic metadata commits, for operations that change many refcounts at once
 * (snapshot create / apply / delete, the refcount rebuild of check -r all).
 *
 * Changing refcounts in place cannot be made crash safe for these: QEMU's
 * rule ties each COPIED flag of the active tables to its cluster's refcount
 * (set iff refcount == 1), the two live in different clusters, so every
 * in-place order passes through states that `qemu-img check` calls corrupt.
 * Instead the new state is built beside the old one: the caller describes
 * the new active L1 and the new snapshot list; we compute every cluster's
 * refcount from that graph (QEMU's counting: per L1 table that reaches it),
 * copy the active L2 tables whose COPIED flags change, and write a new active
 * L1, new snapshot L1s, the copied L2 tables, the snapshot table, refcount
 * blocks and a refcount table that describe the whole new state (the old
 * metadata's clusters get refcount 0) into clusters neither state uses: the
 * lowest hole that holds them, else past the end of everything (a repair:
 * right after what the tables reference and the old metadata).
 * Then fdatasync, then one write of header bytes 24..71 (size, L1, refcount
 * table and snapshot table fields: one sector, so atomic for process death
 * and for power loss), then fdatasync again before any freed cluster can be
 * reused. Killed before the header write, the image is the old one (the new
 * clusters are unreferenced and have refcount 0: not even leaks); after it,
 * the new one. Freed clusters are punched out of the file, and the file is
 * cut after the last cluster the new state uses.
 *
 * Sections: reference counting of the new graph / layout of the new area /
 * writing / entry point. */
#include "block/qcow2/internal.h"
#include "common/io.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMIT_MAX_CLUSTERS (1ULL << 27) /* 512 MiB of counters, as check */

struct commit {
	struct qcow2 *q;
	struct qcow2_commit *c;
	uint32_t *ref; /* refcounts of clusters [0, e) in the new state */
	uint64_t e; /* clusters counted: everything either state uses is below */
	uint64_t area; /* first cluster of the new area: e, or a hole below it */
	uint64_t *l2buf;
	uint64_t *copy_l1i; /* active L1 indexes whose L2 table is copied */
	uint64_t ncopy;
	/* layout of the new area, in clusters */
	uint64_t l1_at, *snap_l1_at, copy_at, table_at, table_len, rb_at, nrb, rt_at, nrt;
	uint64_t end; /* past the new area */
	uint64_t *rt; /* new refcount table, host-endian, nrt clusters' worth */
};

/* ---- reference counting of the new graph ---- */

static int ref_add(struct commit *m, uint64_t off, uint64_t len)
{
	uint64_t first = off >> m->q->cluster_bits, last;

	if (!len)
		return 0;
	last = (off + len - 1) >> m->q->cluster_bits;
	if (last >= m->e)
		return -EIO; /* a reference past everything in use: corrupt */
	for (uint64_t i = first; i <= last; i++)
		if (m->ref[i] < UINT32_MAX)
			m->ref[i]++;
	return 0;
}

/* Does L2 entry e reference clusters outside [0, e) or misplaced ones? */
static bool ref_outside(const struct commit *m, uint64_t e)
{
	struct qcow2 *q = m->q;
	uint64_t off, len, h = e & QCOW2_OFFSET_MASK;

	switch (qcow2_l2e_type(q, e)) {
	case QCOW2_C_COMPRESSED:
		qcow2_compressed_range(q, e, &off, &len);
		return ((off + len - 1) >> q->cluster_bits) >= m->e;
	case QCOW2_C_NORMAL:
	case QCOW2_C_ZERO:
		return h && (qcow2_l2e_valid(q, e) < 0 || (h >> q->cluster_bits) >= m->e);
	default:
		return false;
	}
}

static int ref_entry(struct commit *m, uint64_t e)
{
	struct qcow2 *q = m->q;
	uint64_t off, len, h = e & QCOW2_OFFSET_MASK;

	if (ref_outside(m, e))
		return m->c->repair ? 0 : -EIO;
	switch (qcow2_l2e_type(q, e)) {
	case QCOW2_C_COMPRESSED:
		qcow2_compressed_range(q, e, &off, &len);
		return ref_add(m, off & ~511ULL, len + (off & 511));
	case QCOW2_C_NORMAL:
	case QCOW2_C_ZERO:
		return h ? ref_add(m, h, q->cluster_size) : 0;
	default:
		return 0;
	}
}

/* Reads the L2 table at l2; 1 (with repair) when it lies outside the file. */
static int read_table(struct commit *m, uint64_t l2)
{
	struct qcow2 *q = m->q;

	if (qcow2_check_table_offset(q, l2) < 0 || (l2 >> q->cluster_bits) >= m->e)
		return m->c->repair ? 1 : -EIO;
	return vs_pread_full(q->fd, m->l2buf, q->cluster_size, l2);
}

/* Counts the tables and clusters reached from one L1 table (host-endian). */
static int ref_tree(struct commit *m, const uint64_t *l1, uint64_t n)
{
	int r = 0;

	for (uint64_t i = 0; i < n && r == 0; i++) {
		uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;

		if (!l2)
			continue;
		r = read_table(m, l2);
		if (r > 0) { /* repair: a table outside the file is skipped */
			r = 0;
			continue;
		}
		r = r ?: ref_add(m, l2, m->q->cluster_size);
		for (uint64_t j = 0; j < m->q->l2_entries && r == 0; j++)
			r = ref_entry(m, be64toh(m->l2buf[j]));
	}
	return r;
}

static int ref_snapshots(struct commit *m)
{
	const struct qcow2_commit *c = m->c;
	struct qcow2 *q = m->q;
	int r = 0;

	for (uint32_t i = 0; i < c->nb_snapshots && r == 0; i++) {
		const struct qcow2_snapshot *s = &c->snaps[i];
		uint64_t *l1 = c->snap_l1 ? c->snap_l1[i] : NULL;

		if (l1) {
			r = ref_tree(m, l1, s->l1_size);
			continue;
		}
		l1 = xzalloc(VS_MAX(s->l1_size, 1) * 8ULL);
		r = ref_add(m, s->l1_offset, s->l1_size * 8ULL);
		if (r == 0)
			r = vs_pread_full(q->fd, l1, s->l1_size * 8ULL, s->l1_offset);
		for (uint32_t j = 0; j < s->l1_size; j++)
			l1[j] = be64toh(l1[j]);
		if (r == 0)
			r = ref_tree(m, l1, s->l1_size);
		free(l1);
	}
	return r;
}

/* The COPIED flag an entry of an active L2 table must carry; with repair,
 * an entry referencing clusters outside the file reads as zeros instead. */
static uint64_t want_flags(const struct commit *m, uint64_t e)
{
	struct qcow2 *q = m->q;
	uint64_t h = e & QCOW2_OFFSET_MASK;
	enum qcow2_ctype t = qcow2_l2e_type(q, e);

	if (m->c->repair && ref_outside(m, e))
		return q->version >= 3 ? QCOW2_OFLAG_ZERO : 0;
	if (m->c->repair && t == QCOW2_C_COMPRESSED) /* never COPIED (qcow2.txt) */
		e &= ~QCOW2_OFLAG_COPIED;
	else if (m->c->repair) /* reserved bits are zero (qcow2.txt) */
		e &= ~QCOW2_L2E_RESERVED;
	if (t == QCOW2_C_COMPRESSED || !h || (t != QCOW2_C_NORMAL && t != QCOW2_C_ZERO))
		return e;
	return m->ref[h >> q->cluster_bits] == 1 ? e | QCOW2_OFLAG_COPIED : e & ~QCOW2_OFLAG_COPIED;
}

/* Active L2 tables whose COPIED flags are wrong for the new refcounts are
 * copied (changing them in place would change the old state too). */
static int pick_copies(struct commit *m)
{
	const struct qcow2_commit *c = m->c;
	struct qcow2 *q = m->q;
	int r;

	m->copy_l1i = xmalloc(sizeof(*m->copy_l1i) * VS_MAX(c->l1_size, 1));
	for (uint64_t i = 0; i < c->l1_size; i++) {
		uint64_t l2 = c->l1[i] & QCOW2_OFFSET_MASK;
		bool differs = false;

		if (!l2)
			continue;
		r = read_table(m, l2);
		if (r > 0)
			continue;
		if (r < 0)
			return r;
		for (uint64_t j = 0; j < q->l2_entries && !differs; j++)
			differs = want_flags(m, be64toh(m->l2buf[j])) != be64toh(m->l2buf[j]);
		if (differs) {
			m->copy_l1i[m->ncopy++] = i;
			m->ref[l2 >> q->cluster_bits]--;
		}
	}
	return 0;
}

static int ref_graph(struct commit *m)
{
	int r = ref_add(m, 0, m->q->cluster_size);

	if (r == 0)
		r = ref_snapshots(m);
	if (r == 0)
		r = ref_tree(m, m->c->l1, m->c->l1_size);
	for (uint64_t i = 0; i < m->e && r == 0; i++)
		if (m->ref[i] > m->q->refcount_max)
			r = -ERANGE; /* e.g. refcount_bits=1 cannot share a cluster */
	return r == 0 ? pick_copies(m) : r;
}

/* ---- layout of the new area ---- */

/* Does refcount block range ri need a block (some cluster has a refcount)?
 * The new area is [m->area, end). */
static bool range_used(const struct commit *m, uint64_t ri, uint64_t end)
{
	uint64_t per = 1ULL << m->q->rb_bits, lo = ri * per, hi = (ri + 1) * per;

	if (lo < end && hi > m->area)
		return true; /* every cluster of the new area has refcount 1 */
	for (uint64_t c = lo; c < VS_MIN(hi, m->e); c++)
		if (m->ref[c])
			return true;
	return false;
}

/* The new state's refcount of cluster c (once the area is laid out). */
static uint64_t new_refcount(const struct commit *m, uint64_t c)
{
	if (c >= m->area && c < m->end)
		return 1;
	return c < m->e ? m->ref[c] : 0;
}

/* Sizes the refcount blocks and table so that they describe everything up
 * to and including themselves (grows until it is a fixed point). */
static int layout_refcounts(struct commit *m, uint64_t at)
{
	struct qcow2 *q = m->q;
	uint64_t per_table = q->cluster_size / 8, nranges;

	m->nrb = 0;
	m->nrt = 1;
	for (;;) {
		uint64_t end = at + m->nrb + m->nrt, nrb = 0, nrt;

		nranges = ((VS_MAX(end, m->e) - 1) >> q->rb_bits) + 1;
		for (uint64_t ri = 0; ri < nranges; ri++)
			nrb += range_used(m, ri, end);
		nrt = (nranges + per_table - 1) / per_table;
		if (nrb <= m->nrb && nrt <= m->nrt)
			break;
		m->nrb = VS_MAX(m->nrb, nrb);
		m->nrt = VS_MAX(m->nrt, nrt);
	}
	if ((m->nrt << q->cluster_bits) > QCOW2_MAX_RT_BYTES)
		return -EFBIG;
	m->rb_at = at;
	m->rt_at = at + m->nrb;
	m->end = m->rt_at + m->nrt;
	m->rt = xzalloc(m->nrt << q->cluster_bits);
	for (uint64_t ri = 0, k = 0; ri < nranges; ri++)
		if (range_used(m, ri, m->end) && k < m->nrb)
			m->rt[ri] = (m->rb_at + k++) << q->cluster_bits;
	return 0;
}

/* Places the new L1s and L2 copies (setting the new snapshots' l1_offset),
 * then the snapshot table. */
static void layout(struct commit *m, uint64_t table_bytes)
{
	struct qcow2_commit *c = m->c;
	struct qcow2 *q = m->q;
	uint64_t at = m->area;

	m->l1_at = at;
	at += qcow2_size_to_clusters(q, c->l1_size * 8ULL);
	m->snap_l1_at = xzalloc(sizeof(*m->snap_l1_at) * (c->nb_snapshots + 1ULL));
	for (uint32_t i = 0; i < c->nb_snapshots; i++) {
		if (!c->snap_l1 || !c->snap_l1[i] || !c->snaps[i].l1_size)
			continue;
		m->snap_l1_at[i] = at;
		c->snaps[i].l1_offset = at << q->cluster_bits;
		at += qcow2_size_to_clusters(q, c->snaps[i].l1_size * 8ULL);
	}
	m->copy_at = at;
	at += m->ncopy;
	m->table_at = at;
	m->table_len = c->nb_snapshots ? table_bytes : 0;
	at += qcow2_size_to_clusters(q, m->table_len);
}

/* ---- writing ---- */

static int write_l1(struct commit *m, const uint64_t *l1, uint64_t n, uint64_t at)
{
	uint64_t *t = xzalloc(VS_MAX(n, 1) * 8);
	int r;

	for (uint64_t i = 0; i < n; i++)
		t[i] = htobe64(l1[i]);
	r = n ? vs_pwrite_full(m->q->fd, t, n * 8, at << m->q->cluster_bits) : 0;
	free(t);
	return r;
}

/* The new active L1: copied tables at copy_at.., COPIED from refcounts. */
static uint64_t *new_active_l1(const struct commit *m)
{
	const struct qcow2_commit *c = m->c;
	uint64_t *l1 = xzalloc(VS_MAX(c->l1_size, 1) * 8ULL);

	for (uint64_t i = 0; i < c->l1_size; i++) {
		uint64_t l2 = c->l1[i] & QCOW2_OFFSET_MASK;

		if (l2 && (l2 >> m->q->cluster_bits) >= m->e)
			l2 = 0; /* repair (ref_graph failed otherwise): outside the file */
		l1[i] = l2 && m->ref[l2 >> m->q->cluster_bits] == 1 ? l2 | QCOW2_OFLAG_COPIED : l2;
	}
	for (uint64_t k = 0; k < m->ncopy; k++)
		l1[m->copy_l1i[k]] = ((m->copy_at + k) << m->q->cluster_bits) | QCOW2_OFLAG_COPIED;
	return l1;
}

static int write_copies(struct commit *m)
{
	struct qcow2 *q = m->q;
	int r = 0;

	for (uint64_t k = 0; k < m->ncopy && r == 0; k++) {
		r = read_table(m, m->c->l1[m->copy_l1i[k]] & QCOW2_OFFSET_MASK);
		for (uint64_t j = 0; j < q->l2_entries && r == 0; j++) {
			uint64_t e = be64toh(m->l2buf[j]);

			m->c->dropped += m->c->repair && ref_outside(m, e);
			m->l2buf[j] = htobe64(want_flags(m, e));
		}
		if (r == 0)
			r = vs_pwrite_full(q->fd, m->l2buf, q->cluster_size,
					   (m->copy_at + k) << q->cluster_bits);
	}
	return r;
}

static int write_refcounts(struct commit *m)
{
	struct qcow2 *q = m->q;
	uint64_t per = 1ULL << q->rb_bits, nent = (m->nrt << q->cluster_bits) / 8;
	uint8_t *b = xmalloc(q->cluster_size);
	int r = 0;

	for (uint64_t ri = 0; ri < nent && r == 0; ri++) {
		if (!m->rt[ri])
			continue;
		memset(b, 0, q->cluster_size);
		for (uint64_t i = 0, c = ri * per; i < per && c < VS_MAX(m->end, m->e); i++, c++)
			qcow2_rb_entry_put(b, i, q->refcount_order, new_refcount(m, c));
		r = vs_pwrite_full(q->fd, b, q->cluster_size, m->rt[ri]);
	}
	free(b);
	for (uint64_t i = 0; i < nent; i++)
		m->rt[i] = htobe64(m->rt[i]);
	if (r == 0)
		r = vs_pwrite_full(q->fd, m->rt, nent * 8, m->rt_at << q->cluster_bits);
	for (uint64_t i = 0; i < nent; i++)
		m->rt[i] = be64toh(m->rt[i]);
	return r;
}

static int write_header(struct commit *m)
{
	const struct qcow2_commit *c = m->c;
	struct qcow2 *q = m->q;
	uint8_t h[48] = { 0 }; /* header bytes 24..71 */
	uint64_t l1_off = c->l1_size ? m->l1_at << q->cluster_bits : q->l1_offset;
	int r = qcow2_sync(q);

	static_assert(QCOW2_HDR_OFF_SNAP + 12 - QCOW2_HDR_OFF_SIZE == sizeof(h), "header span");
	qcow2_put_be64(h, c->disk_size); /* crypt_method (h + 8) stays 0 */
	qcow2_put_be32(h + (QCOW2_HDR_OFF_L1 - QCOW2_HDR_OFF_SIZE), c->l1_size);
	qcow2_put_be64(h + (QCOW2_HDR_OFF_L1 + 4 - QCOW2_HDR_OFF_SIZE), l1_off);
	qcow2_put_be64(h + (QCOW2_HDR_OFF_RT - QCOW2_HDR_OFF_SIZE), m->rt_at << q->cluster_bits);
	qcow2_put_be32(h + (QCOW2_HDR_OFF_RT + 8 - QCOW2_HDR_OFF_SIZE), (uint32_t)m->nrt);
	qcow2_put_be32(h + (QCOW2_HDR_OFF_SNAP - QCOW2_HDR_OFF_SIZE), c->nb_snapshots);
	qcow2_put_be64(h + (QCOW2_HDR_OFF_SNAP + 4 - QCOW2_HDR_OFF_SIZE),
		       m->table_len ? m->table_at << q->cluster_bits : 0);
	if (r == 0)
		r = qcow2_header_write_field(q, QCOW2_HDR_OFF_SIZE, h, sizeof(h));
	if (r == 0)
		r = qcow2_sync(q);
	return r;
}

static int write_all(struct commit *m, const uint64_t *l1, const uint8_t *table)
{
	const struct qcow2_commit *c = m->c;
	int r = write_l1(m, l1, c->l1_size, m->l1_at);

	for (uint32_t i = 0; i < c->nb_snapshots && r == 0; i++)
		if (m->snap_l1_at[i])
			r = write_l1(m, c->snap_l1[i], c->snaps[i].l1_size, m->snap_l1_at[i]);
	if (r == 0)
		r = write_copies(m);
	if (r == 0 && m->table_len)
		r = vs_pwrite_full(m->q->fd, table, m->table_len,
				   m->table_at << m->q->cluster_bits);
	if (r == 0)
		r = write_refcounts(m);
	return r == 0 ? write_header(m) : r;
}

/* Where a repair writes the new metadata: after the last cluster the tables
 * reference and after the old metadata the new state drops (the old state
 * stays intact until the header switches), not after whatever the corrupt
 * refcounts claim, so the image does not grow by their garbage. */
static uint64_t repair_area_start(const struct commit *m)
{
	struct qcow2 *q = m->q;
	uint64_t at = 1, bits = q->cluster_bits;

	for (uint64_t i = m->e; i-- > 1;)
		if (m->ref[i]) {
			at = i + 1;
			break;
		}
	at = VS_MAX(at, (q->l1_offset + q->l1_size * 8ULL + q->cluster_size - 1) >> bits);
	at = VS_MAX(at, (q->rt_offset >> bits) + q->rt_clusters);
	at = VS_MAX(at, (q->snapshots_offset + q->snapshots_len + q->cluster_size - 1) >> bits);
	for (uint32_t i = 0; i < q->l1_size; i++) /* copied tables live on until then */
		if ((q->l1[i] & QCOW2_OFFSET_MASK) >> bits < m->e)
			at = VS_MAX(at, ((q->l1[i] & QCOW2_OFFSET_MASK) >> bits) + 1);
	for (uint64_t i = 0; i < q->rt_entries; i++)
		if (q->rt[i] && (q->rt[i] >> bits) < m->e)
			at = VS_MAX(at, (q->rt[i] >> bits) + 1);
	return VS_MIN(at, m->e);
}

/* ---- entry point ---- */

/* Past the last cluster the new state uses. */
static uint64_t used_end(const struct commit *m)
{
	uint64_t end = m->end;

	for (uint64_t c = m->e; c-- > end;)
		if (m->ref[c])
			return c + 1;
	return end;
}

/* The in-memory state follows the file; freed clusters leave the file. */
static void adopt(struct commit *m, uint64_t *l1)
{
	struct qcow2_commit *c = m->c;
	struct qcow2 *q = m->q;

	free(q->l1);
	q->l1 = l1;
	q->l1_offset = c->l1_size ? m->l1_at << q->cluster_bits : q->l1_offset;
	q->l1_size = c->l1_size;
	free(q->rt);
	q->rt = steal_ptr(m->rt);
	q->rt_entries = (m->nrt << q->cluster_bits) / 8;
	q->rt_offset = m->rt_at << q->cluster_bits;
	q->rt_clusters = (uint32_t)m->nrt;
	free(q->snaps);
	q->snaps = c->snaps;
	q->nb_snapshots = c->nb_snapshots;
	q->snapshots_offset = m->table_len ? m->table_at << q->cluster_bits : 0;
	q->snapshots_len = m->table_len;
	q->blk.size = c->disk_size;
	q->alloc_end = used_end(m);
	q->free_hint = 1;
	q->zbuf_cursor = 0;
	qcow2_cache_clear(&q->l2c);
	qcow2_cache_clear(&q->rbc);
	qcow2_ol_build(q);
	for (uint64_t i = 1, run = 0; i <= m->e; i++) {
		if (i < m->e && !new_refcount(m, i)) {
			run++;
			continue;
		}
		if (run) {
			vs_io_hook_punch((i - run) << q->cluster_bits, run << q->cluster_bits);
			(void)fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)((i - run) << q->cluster_bits),
					(off_t)(run << q->cluster_bits));
		}
		run = 0;
	}
}

/* Lays out the new area from cluster area on: L1s, copies, snapshot table
 * (*table, rebuilt: it holds the new snapshots' L1 offsets), refcounts. */
static int plan_at(struct commit *m, uint64_t area, uint8_t **table, uint64_t *tlen)
{
	const struct qcow2_commit *c = m->c;

	free(*table);
	free(m->snap_l1_at);
	free(m->rt);
	m->rt = NULL;
	m->area = area;
	free(qcow2_snapshot_table_build(c->snaps, c->nb_snapshots, tlen));
	layout(m, *tlen); /* sets offsets the table holds: build it again */
	*table = qcow2_snapshot_table_build(c->snaps, c->nb_snapshots, tlen);
	return layout_refcounts(m, m->table_at + qcow2_size_to_clusters(m->q, m->table_len));
}

/* The lowest run of n clusters below e that neither the old state (stored
 * refcount 0, no metadata there) nor the new one uses; 0 if there is none.
 * Writing there leaves the old state intact until the header switches. */
static uint64_t find_hole(struct commit *m, uint64_t n)
{
	struct qcow2 *q = m->q;
	uint64_t run = 0, rc;

	for (uint64_t c = 1; c < m->e; c++) {
		if (m->ref[c] || qcow2_refcount_get(q, c, &rc) < 0 || rc ||
		    qcow2_ol_overlap(q, QCOW2_OL_DATA, c << q->cluster_bits, q->cluster_size)) {
			run = 0;
			continue;
		}
		if (++run == n)
			return c + 1 - n;
	}
	return 0;
}

/* Plans the new area after everything (always possible), then moves it into
 * the lowest hole that holds it: there it needs at most as many refcount
 * blocks, and repeated commits (snapshot create/delete) reuse the space the
 * previous ones freed instead of pushing the end of the file out. */
static int plan(struct commit *m, uint8_t **table, uint64_t *tlen)
{
	uint64_t n, hole;
	int r = plan_at(m, m->c->repair ? repair_area_start(m) : m->e, table, tlen);

	if (r < 0 || m->c->repair)
		return r;
	n = m->end - m->area;
	hole = find_hole(m, n);
	if (!hole)
		return 0;
	r = plan_at(m, hole, table, tlen);
	if (r == 0 && m->end - m->area <= n)
		return 0;
	return plan_at(m, m->e, table, tlen);
}

int qcow2_commit(struct qcow2 *q, struct qcow2_commit *c)
{
	struct commit m = { .q = q, .c = c };
	uint64_t *l1 = NULL, table_bytes = 0;
	uint8_t *table = NULL;
	struct stat st;
	int r;

	r = qcow2_meta_flush(q); /* the tables are read from the file */
	if (r < 0)
		return r;
	if (fstat(q->fd, &st) < 0)
		return -errno;
	/* A repair counts references inside the file only: the stored refcounts
	 * (which alloc_end comes from) are what it replaces. */
	m.e = qcow2_size_to_clusters(q, (uint64_t)st.st_size);
	if (!c->repair)
		m.e = VS_MAX(m.e, q->alloc_end);
	if (m.e > COMMIT_MAX_CLUSTERS)
		return -EFBIG;
	m.ref = xzalloc(m.e * sizeof(*m.ref));
	m.l2buf = xmalloc(q->cluster_size);
	r = ref_graph(&m);
	if (r == 0)
		r = plan(&m, &table, &table_bytes);
	if (r == 0) {
		l1 = new_active_l1(&m);
		r = write_all(&m, l1, table);
	}
	if (r > 0)
		r = -EIO; /* a table that was readable for the plan is not any more */
	if (r == 0)
		adopt(&m, steal_ptr(l1));
	/* Past the new metadata nothing is referenced any more (the switch is
	 * durable): give the space back. */
	if (r == 0 && (uint64_t)st.st_size > (q->alloc_end << q->cluster_bits) &&
	    ftruncate(q->fd, (off_t)(q->alloc_end << q->cluster_bits)) == 0)
		q->file_end = q->alloc_end << q->cluster_bits;
	free(l1);
	free(table);
	free(m.rt);
	free(m.ref);
	free(m.l2buf);
	free(m.copy_l1i);
	free(m.snap_l1_at);
	return r;
}
