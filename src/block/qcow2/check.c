/* Consistency check and repair, by QEMU's rules: rebuild every cluster's
 * reference count from the metadata (header, L1/L2 tables of the active image
 * and of each snapshot, refcount structures, snapshot table), compare with the
 * stored refcounts (stored < computed: corruption; stored > computed: leak),
 * then check the COPIED flags of the active tables against the refcounts.
 * "-r leaks" lowers leaked refcounts in place (safe in any order: a leak
 * only ever shrinks). "-r all" rebuilds every refcount block and the table
 * from the tables through commit.c (one atomic header switch), which also
 * replaces missing or zeroed refcount blocks and fixes the COPIED flags.
 * Runs under the exclusive layout lock.
 *
 * Sections: collect references (ck_inc, ck_l1, ck_snapshots) / compare with
 * the stored refcounts (ck_compare) / COPIED flags / flags and entry point. */
#include "block/qcow2/internal.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_MAX_CLUSTERS (1ULL << 27) /* 512 MiB of counters */

struct ck {
	struct qcow2 *q;
	uint32_t *ref; /* computed refcount per cluster of the file */
	uint64_t n;
	struct vs_blk_check_result *res;
	uint64_t *l2buf;
	uint64_t last_host; /* previous data cluster, for fragmentation */
	unsigned said; /* findings printed so far (the first few only) */
};

#define CHECK_SAY_MAX 20
#define ck_say(c, ...) ((c)->said++ < CHECK_SAY_MAX ? vs_warn(__VA_ARGS__) : (void)0)

static void ck_inc(struct ck *c, uint64_t off, uint64_t len)
{
	uint64_t first = off >> c->q->cluster_bits;
	uint64_t last = (off + len - 1) >> c->q->cluster_bits;

	if (!len)
		return;
	for (uint64_t i = first; i <= last; i++) {
		if (i >= c->n) { /* qemu-img's words */
			ck_say(c,
			       "ERROR: counting reference for region exceeding the end of the "
			       "file by one cluster or more: offset 0x%" PRIx64 " size 0x%" PRIx64,
			       off, len);
			c->res->corruptions++;
			return;
		}
		if (c->ref[i] < UINT32_MAX)
			c->ref[i]++;
	}
}

static void ck_data_entry(struct ck *c, uint64_t e, bool active)
{
	struct qcow2 *q = c->q;
	uint64_t off, len, host = e & QCOW2_OFFSET_MASK;

	if (!(e & QCOW2_OFLAG_COMPRESSED) && (e & QCOW2_L2E_RESERVED)) { /* qemu-img's words */
		ck_say(c, "ERROR found l2 entry with reserved bits set: %" PRIx64, e);
		c->res->corruptions++;
	}
	switch (qcow2_l2e_type(q, e)) {
	case QCOW2_C_COMPRESSED:
		if (e & QCOW2_OFLAG_COPIED) {
			qcow2_compressed_range(q, e & ~QCOW2_OFLAG_COPIED, &off, &len);
			ck_say(c,
			       "ERROR: coffset=0x%" PRIx64 ": copied flag must never be set for "
			       "compressed clusters",
			       off);
			c->res->corruptions++;
		}
		qcow2_compressed_range(q, e, &off, &len);
		ck_inc(c, off & ~511ULL, len + (off & 511));
		c->res->compressed_clusters += active;
		c->res->allocated_clusters += active;
		c->res->fragmented_clusters += active; /* by nature, as QEMU counts */
		return;
	case QCOW2_C_NORMAL:
	case QCOW2_C_ZERO:
		if (!host)
			return;
		if (qcow2_offset_into_cluster(q, host)) {
			ck_say(c, "ERROR: unaligned data cluster offset 0x%" PRIx64, host);
			c->res->corruptions++;
			return;
		}
		ck_inc(c, host, q->cluster_size);
		if (active) {
			c->res->allocated_clusters++;
			c->res->fragmented_clusters += c->last_host &&
						       host != c->last_host + q->cluster_size;
			c->last_host = host;
		}
		return;
	default:
		return;
	}
}

static int ck_l1(struct ck *c, const uint64_t *l1, uint64_t n, bool active)
{
	struct qcow2 *q = c->q;
	int r;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;

		if (l1[i] & QCOW2_L1E_RESERVED) { /* the compressed flag among them */
			ck_say(c, "ERROR found L1 entry with reserved bits set: %" PRIx64, l1[i]);
			c->res->corruptions++;
		}
		if (!l2)
			continue;
		if (qcow2_check_table_offset(q, l2) < 0 || (l2 >> q->cluster_bits) >= c->n) {
			ck_say(c, "ERROR: invalid L2 table offset 0x%" PRIx64, l2);
			c->res->corruptions++;
			continue;
		}
		ck_inc(c, l2, q->cluster_size);
		r = vs_pread_full(q->fd, c->l2buf, q->cluster_size, l2);
		if (r < 0)
			return r;
		c->last_host = 0; /* contiguity is counted per L2 table */
		for (uint64_t j = 0; j < q->l2_entries; j++)
			ck_data_entry(c, be64toh(c->l2buf[j]), active);
	}
	return 0;
}

static int ck_snapshots(struct ck *c)
{
	struct qcow2 *q = c->q;
	int r = 0;

	if (q->nb_snapshots)
		ck_inc(c, q->snapshots_offset, q->snapshots_len);
	for (uint32_t i = 0; i < q->nb_snapshots && r == 0; i++) {
		const struct qcow2_snapshot *s = &q->snaps[i];
		uint64_t *l1 = xzalloc(VS_MAX(s->l1_size, 1) * 8ULL);

		ck_inc(c, s->l1_offset, s->l1_size * 8ULL);
		r = vs_pread_full(q->fd, l1, s->l1_size * 8ULL, s->l1_offset);
		for (uint32_t j = 0; j < s->l1_size; j++)
			l1[j] = be64toh(l1[j]);
		if (r == 0)
			r = ck_l1(c, l1, s->l1_size, false);
		free(l1);
	}
	return r;
}

#define BITMAP_DIR_MAX (64ULL << 20)
#define BITMAP_TABLE_MAX (1ULL << 24) /* entries */

/* One bitmap's table and data clusters (qcow2.txt "Bitmap table"). */
static int ck_bitmap_table(struct ck *c, uint64_t off, uint64_t n)
{
	struct qcow2 *q = c->q;
	uint64_t *t;
	int r;

	if (n > BITMAP_TABLE_MAX || qcow2_offset_into_cluster(q, off)) {
		c->res->corruptions++;
		return 0;
	}
	ck_inc(c, off, n * 8);
	t = xmalloc(VS_MAX(n, 1) * 8);
	r = vs_pread_full(q->fd, t, n * 8, off);
	for (uint64_t i = 0; i < n && r == 0; i++)
		ck_inc(c, be64toh(t[i]) & QCOW2_OFFSET_MASK,
		       be64toh(t[i]) & QCOW2_OFFSET_MASK ? q->cluster_size : 0);
	free(t);
	return r;
}

/* Persistent bitmaps count as references only while the autoclear bit says
 * they are valid: a writable open clears it (we do not update bitmaps), and
 * then, as for QEMU, their clusters are leaks for `check -r` to free. */
static int ck_bitmaps(struct ck *c)
{
	struct qcow2 *q = c->q;
	uint64_t len = q->bitmap_dir_size, p = 0;
	uint8_t *d;
	int r;

	if (!(q->autoclear & QCOW2_AUTOCLEAR_BITMAPS) || !q->nb_bitmaps || !len)
		return 0;
	if (len > BITMAP_DIR_MAX || qcow2_offset_into_cluster(q, q->bitmap_dir_off)) {
		c->res->corruptions++;
		return 0;
	}
	ck_inc(c, q->bitmap_dir_off, len);
	d = xmalloc(len);
	r = vs_pread_full(q->fd, d, len, q->bitmap_dir_off);
	for (uint32_t i = 0; i < q->nb_bitmaps && r == 0 && p + 24 <= len; i++) {
		uint64_t toff = be64toh(*(uint64_t *)(d + p));
		uint32_t tsize = be32toh(*(uint32_t *)(d + p + 8));
		uint16_t name = be16toh(*(uint16_t *)(d + p + 18));
		uint32_t extra = be32toh(*(uint32_t *)(d + p + 20));

		r = ck_bitmap_table(c, toff, tsize);
		p = VS_ALIGN_UP(p + 24 + (uint64_t)extra + name, 8);
	}
	free(d);
	return r;
}

static int ck_collect(struct ck *c)
{
	struct qcow2 *q = c->q;
	int r;

	ck_inc(c, 0, q->cluster_size);
	ck_inc(c, q->l1_offset, q->l1_size * 8ULL);
	ck_inc(c, q->rt_offset, (uint64_t)q->rt_clusters << q->cluster_bits);
	for (uint64_t i = 0; i < q->rt_entries; i++)
		if (q->rt[i])
			ck_inc(c, q->rt[i], q->cluster_size);
	r = ck_l1(c, q->l1, q->l1_size, true);
	if (r == 0)
		r = ck_snapshots(c);
	if (r == 0)
		r = ck_bitmaps(c);
	return r;
}

static int ck_one(struct ck *c, uint64_t i, enum vs_blk_repair repair)
{
	uint64_t want = i < c->n ? c->ref[i] : 0, stored;
	int r = qcow2_refcount_get(c->q, i, &stored);

	if (r < 0 || stored == want)
		return r;
	ck_say(c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
	       stored > want ? "Leaked" : "ERROR", i, stored, want);
	if (stored > want)
		c->res->leaks++;
	else
		c->res->corruptions++;
	if (repair == VS_BLK_REPAIR_NONE || (stored < want && repair != VS_BLK_REPAIR_ALL))
		return 0;
	if (qcow2_refcount_set(c->q, i, want) == 0) {
		if (stored > want)
			c->res->leaks_fixed++;
		else
			c->res->corruptions_fixed++;
	}
	return 0;
}

/* Compares every cluster of the file, then the clusters past EOF that some
 * refcount block describes (each distinct block once: hostile tables may
 * repeat one block, which the collection already flagged). */
static int ck_compare(struct ck *c, enum vs_blk_repair repair)
{
	struct qcow2 *q = c->q;
	uint64_t per = 1ULL << q->rb_bits;
	uint8_t *seen = xzalloc(VS_MAX(c->n, 1));
	int r = 0;

	for (uint64_t i = 0; i < c->n && r == 0; i++)
		r = ck_one(c, i, repair);
	for (uint64_t ri = 0; ri < q->rt_entries && r == 0; ri++) {
		uint64_t b = q->rt[ri] >> q->cluster_bits, from = VS_MAX(ri * per, c->n);

		if (!q->rt[ri] || b >= c->n || seen[b] || from >= (ri + 1) * per)
			continue;
		seen[b] = 1;
		for (uint64_t i = from; i < (ri + 1) * per && r == 0; i++)
			r = ck_one(c, i, repair);
	}
	free(seen);
	return r;
}

/* The COPIED flags of the active L1 and L2 tables must say refcount == 1. */
static int ck_copied(struct ck *c)
{
	struct qcow2 *q = c->q;
	uint64_t rc;
	int r;

	for (uint64_t i = 0; i < q->l1_size; i++) {
		uint64_t l2 = q->l1[i] & QCOW2_OFFSET_MASK, bad = 0;

		if (!l2 || qcow2_check_table_offset(q, l2) < 0 || (l2 >> q->cluster_bits) >= c->n)
			continue;
		r = qcow2_refcount_get(q, l2 >> q->cluster_bits, &rc);
		if (r < 0)
			return r;
		if ((rc == 1) != !!(q->l1[i] & QCOW2_OFLAG_COPIED)) {
			ck_say(c,
			       "ERROR OFLAG_COPIED L2 cluster: l1_index=%" PRIu64
			       " refcount=%" PRIu64,
			       i, rc);
			bad++;
		}
		r = vs_pread_full(q->fd, c->l2buf, q->cluster_size, l2);
		for (uint64_t j = 0; r == 0 && j < q->l2_entries; j++) {
			uint64_t e = be64toh(c->l2buf[j]), h = e & QCOW2_OFFSET_MASK;

			if (qcow2_l2e_type(q, e) == QCOW2_C_COMPRESSED || !h)
				continue;
			r = qcow2_refcount_get(q, h >> q->cluster_bits, &rc);
			if (r == 0 && (rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
				ck_say(c,
				       "ERROR OFLAG_COPIED data cluster: l2_entry=%" PRIx64
				       " refcount=%" PRIu64,
				       e, rc);
				bad++;
			}
		}
		if (r < 0)
			return r;
		c->res->corruptions += bad;
	}
	return 0;
}

static int check_locked(struct qcow2 *q, enum vs_blk_repair repair, struct vs_blk_check_result *res,
			struct vs_err **err)
{
	struct ck c = { .q = q, .res = res };
	struct stat st;
	int r;

	if (fstat(q->fd, &st) < 0)
		return vs_err_setsys(err, -errno, "%s", q->blk.filename);
	c.n = qcow2_size_to_clusters(q, (uint64_t)st.st_size);
	if (c.n > CHECK_MAX_CLUSTERS)
		return vs_err_set(err, -EFBIG, "%s: image file too large to check",
				  q->blk.filename);
	c.ref = xzalloc(VS_MAX(c.n, 1) * sizeof(*c.ref));
	c.l2buf = xmalloc(q->cluster_size);
	res->total_clusters = qcow2_size_to_clusters(q, q->blk.size);
	res->corruptions = q->open_fixes;
	r = ck_collect(&c);
	if (r == 0)
		r = ck_compare(&c, repair);
	if (r == 0)
		r = ck_copied(&c);
	for (uint64_t i = c.n; i-- > 0;)
		if (c.ref[i]) {
			res->image_end_offset = (i + 1) << q->cluster_bits;
			break;
		}
	free(c.ref);
	free(c.l2buf);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: check", q->blk.filename);
	return 0;
}

/* After a full repair that left nothing wrong, the dirty (lazy refcounts)
 * and corrupt bits no longer apply: clear them, as QEMU does. */
static int clear_flags(struct qcow2 *q, const struct vs_blk_check_result *res, struct vs_err **err)
{
	uint64_t bits = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT, be;
	int r;

	if (q->version < 3 || !(q->incompat & bits) || res->corruptions > res->corruptions_fixed ||
	    res->leaks > res->leaks_fixed)
		return 0;
	r = qcow2_sync(q);
	be = htobe64(q->incompat & ~bits);
	if (r == 0)
		r = qcow2_header_write_field(q, QCOW2_HDR_OFF_INCOMPAT, &be, 8);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: clear dirty/corrupt bits", q->blk.filename);
	q->incompat &= ~bits;
	return 0;
}

/* Full repair: every refcount structure is rebuilt from the tables (as
 * QEMU's rebuild_refcount_structure), which also replaces missing or zeroed
 * refcount blocks and fixes the COPIED flags, in one atomic switch. */
static int rebuild_locked(struct qcow2 *q, struct vs_blk_check_result *res, struct vs_err **err)
{
	struct qcow2_commit c = { .l1_size = q->l1_size,
				  .nb_snapshots = q->nb_snapshots,
				  .disk_size = q->blk.size };
	uint64_t *l1, file_clusters;
	struct stat st;
	int r = check_locked(q, VS_BLK_REPAIR_NONE, res, err);

	if (r < 0 || (!res->corruptions && !res->leaks))
		return r;
	if (fstat(q->fd, &st) < 0)
		return vs_err_setsys(err, -errno, "%s", q->blk.filename);
	file_clusters = qcow2_size_to_clusters(q, (uint64_t)st.st_size);
	l1 = xzalloc(VS_MAX(q->l1_size, 1) * 8ULL);
	for (uint32_t i = 0; i < q->l1_size; i++) {
		l1[i] = q->l1[i] & QCOW2_OFFSET_MASK;
		if (l1[i] && (qcow2_check_table_offset(q, l1[i]) < 0 ||
			      (l1[i] >> q->cluster_bits) >= file_clusters)) {
			vs_warn("Repairing L1 entry %" PRIu32 ": invalid L2 table offset 0x%" PRIx64
				"; its range now reads as unallocated",
				i, l1[i]);
			l1[i] = 0;
		}
	}
	c.l1 = l1;
	c.repair = true;
	c.snaps = xzalloc(sizeof(*c.snaps) * (q->nb_snapshots + 1ULL));
	if (q->nb_snapshots)
		memcpy(c.snaps, q->snaps, sizeof(*c.snaps) * q->nb_snapshots);
	r = qcow2_commit(q, &c);
	free(l1);
	if (r < 0) {
		free(c.snaps);
		return vs_err_setsys(err, r, "%s: rebuild refcounts", q->blk.filename);
	}
	if (c.dropped)
		vs_warn("Repairing %" PRIu64 " L2 entries that referenced clusters outside the "
			"image: they now read as %s",
			c.dropped, q->version >= 3 ? "zeros" : "unallocated");
	res->leaks_fixed = res->leaks;
	res->corruptions_fixed = res->corruptions;
	q->open_fixes = 0; /* the new refcount structures replaced what open dropped */
	q->rebuild_only = 0; /* and the new snapshot table left out the bad entries */
	return 0;
}

int qcow2_check(struct vs_blk *b, enum vs_blk_repair repair, struct vs_blk_check_result *res,
		struct vs_err **err)
{
	struct qcow2 *q = to_qcow2(b);
	int r;

	memset(res, 0, sizeof(*res));
	if (repair != VS_BLK_REPAIR_NONE && b->ro)
		return vs_err_set(err, -EROFS, "%s: repair needs a writable image", b->filename);
	/* freeing the dropped snapshots' clusters as leaks while the table on
	 * disk still lists them would corrupt the image */
	if (repair == VS_BLK_REPAIR_LEAKS && q->rebuild_only)
		return vs_err_set(
			err, -EINVAL,
			"%s: invalid snapshot table entries or L1 table: repair them with "
			"-r all",
			b->filename);
	pthread_rwlock_wrlock(&q->layout);
	r = b->ro ? 0 : qcow2_meta_flush(q); /* the tables are read from the file */
	if (r < 0)
		r = vs_err_setsys(err, r, "%s: write metadata", b->filename);
	else if (repair == VS_BLK_REPAIR_ALL)
		r = rebuild_locked(q, res, err);
	else
		r = check_locked(q, repair, res, err);
	if (r == 0 && repair == VS_BLK_REPAIR_ALL)
		r = clear_flags(q, res, err);
	qcow2_cache_clear(&q->l2c);
	pthread_rwlock_unlock(&q->layout);
	return r;
}
