/* Metadata overlap checks (QEMU's qcow2_check_metadata_overlap, "cached"
 * mode) and the end-of-file bound on writes.
 *
 * q->ol maps every cluster that holds metadata (header, active L1, active
 * L2 tables, refcount table, refcount blocks, snapshot table, snapshots' L1
 * tables) to the roles it plays, sorted by cluster. It is built on open and
 * kept exact: tables add their clusters when they are allocated, and a
 * cluster whose refcount drops to 0 leaves the map. Every write to the file
 * asks qcow2_pre_write first: a data write must overlap no metadata, a
 * metadata write only its own kind; a write that would hit other metadata,
 * or land past the end of the file plus QCOW2_EOF_SLACK, marks the image
 * corrupt and fails, and the image is read-only from then on, as QEMU does
 * ("Preventing invalid write on metadata (overlaps with ...)").
 *
 * Locking: changed under the exclusive layout lock (or by the sole owner);
 * read under either. */
#include "block/qcow2/internal.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* QEMU's metadata_ol_names, in bit order. */
static const char *const ol_names[] = {
	"qcow2_header",	  "active L1 table", "active L2 table",	  "refcount table",
	"refcount block", "snapshot table",  "inactive L1 table",
};
static_assert(VS_ARRAY_SIZE(ol_names) == QCOW2_OL_NBITS, "one name per overlap bit");

const char *qcow2_ol_name(unsigned mask)
{
	return mask ? ol_names[__builtin_ctz(mask)] : "data";
}

/* Index of the first entry with cluster >= c. */
static size_t ol_lower(const struct qcow2 *q, uint64_t c)
{
	size_t lo = 0, hi = q->nol;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->ol[mid].cluster < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void ol_set(struct qcow2 *q, uint64_t c, unsigned type)
{
	size_t i = ol_lower(q, c);

	if (i < q->nol && q->ol[i].cluster == c) {
		q->ol[i].mask |= type;
		return;
	}
	if (q->nol == q->ol_cap) {
		q->ol_cap = q->ol_cap ? q->ol_cap * 2 : 64;
		q->ol = xrealloc(q->ol, q->ol_cap * sizeof(*q->ol));
	}
	memmove(&q->ol[i + 1], &q->ol[i], (q->nol - i) * sizeof(*q->ol));
	q->ol[i] = (struct qcow2_ol_ent){ c, type };
	q->nol++;
}

static void ol_unset(struct qcow2 *q, uint64_t c, unsigned type)
{
	size_t i = ol_lower(q, c);

	if (i >= q->nol || q->ol[i].cluster != c)
		return;
	q->ol[i].mask &= ~type;
	if (q->ol[i].mask)
		return;
	memmove(&q->ol[i], &q->ol[i + 1], (q->nol - i - 1) * sizeof(*q->ol));
	q->nol--;
}

void qcow2_ol_add(struct qcow2 *q, uint64_t off, uint64_t len, unsigned type)
{
	if (!len)
		return;
	for (uint64_t c = off >> q->cluster_bits; c <= (off + len - 1) >> q->cluster_bits; c++)
		ol_set(q, c, type);
}

void qcow2_ol_del(struct qcow2 *q, uint64_t off, uint64_t len, unsigned type)
{
	if (!len)
		return;
	for (uint64_t c = off >> q->cluster_bits; c <= (off + len - 1) >> q->cluster_bits; c++)
		ol_unset(q, c, type);
}

void qcow2_ol_forget(struct qcow2 *q, uint64_t cluster)
{
	if (q->nol && cluster <= q->ol[q->nol - 1].cluster)
		ol_unset(q, cluster, QCOW2_OL_ALL);
}

unsigned qcow2_ol_overlap(const struct qcow2 *q, unsigned ign, uint64_t off, uint64_t len)
{
	uint64_t first, last;
	unsigned hit = 0;

	if (!len)
		return 0;
	first = off >> q->cluster_bits;
	last = (off + len - 1) >> q->cluster_bits;
	for (size_t i = ol_lower(q, first); i < q->nol && q->ol[i].cluster <= last; i++)
		hit |= q->ol[i].mask & ~ign;
	return hit & -hit; /* the first role in QEMU's order */
}

void qcow2_signal_corruption(struct qcow2 *q, const char *fmt, ...)
{
	uint64_t be;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (__atomic_exchange_n(&q->corrupt_seen, true, __ATOMIC_SEQ_CST))
		return;
	vs_warn("qcow2: Marking image as corrupt: %s; further corruption events will be "
		"suppressed",
		msg);
	if (q->version >= 3 && !q->blk.ro) {
		q->incompat |= QCOW2_INCOMPAT_CORRUPT;
		be = htobe64(q->incompat);
		(void)qcow2_header_write_field(q, QCOW2_HDR_OFF_INCOMPAT, &be, 8);
		(void)qcow2_sync(q);
	}
	q->blk.ro = true; /* no more writes from this handle, flushes included */
}

/* The highest offset a write may reach: the file's end (or what we have
 * allocated past it) plus the slack. */
static uint64_t write_limit(const struct qcow2 *q)
{
	return VS_MAX(q->file_end, q->alloc_end << q->cluster_bits) + QCOW2_EOF_SLACK;
}

int qcow2_pre_write(struct qcow2 *q, unsigned ign, uint64_t off, uint64_t len)
{
	unsigned hit;

	if (__atomic_load_n(&q->corrupt_seen, __ATOMIC_RELAXED))
		return -EIO;
	hit = qcow2_ol_overlap(q, ign, off, len);
	if (hit) {
		qcow2_signal_corruption(q,
					"Preventing invalid write on metadata (overlaps with %s)",
					qcow2_ol_name(hit));
		return -EIO;
	}
	if ((ign == QCOW2_OL_DATA || ign == QCOW2_OL_ACTIVE_L2) &&
	    (off > write_limit(q) || len > write_limit(q) - off)) {
		qcow2_signal_corruption(q,
					"Preventing invalid write at offset 0x%" PRIx64
					" (%s), past the end of the file",
					off, ign ? "L2 table" : "data");
		return -EIO;
	}
	return 0;
}

int qcow2_file_write(struct qcow2 *q, unsigned ign, const void *buf, size_t len, uint64_t off)
{
	int r = qcow2_pre_write(q, ign, off, len);

	return r < 0 ? r : vs_pwrite_full(q->fd, buf, len, off);
}

/* ---- building the map on open ---- */

static int cmp_ent(const void *a, const void *b)
{
	const struct qcow2_ol_ent *x = a, *y = b;

	return x->cluster < y->cluster ? -1 : x->cluster > y->cluster;
}

/* Sorts the appended entries and merges duplicates (their roles OR'ed). */
static void ol_merge(struct qcow2 *q)
{
	size_t n = 0;

	qsort(q->ol, q->nol, sizeof(*q->ol), cmp_ent);
	for (size_t i = 0; i < q->nol; i++) {
		if (n && q->ol[n - 1].cluster == q->ol[i].cluster)
			q->ol[n - 1].mask |= q->ol[i].mask;
		else
			q->ol[n++] = q->ol[i];
	}
	q->nol = n;
}

static void ol_append(struct qcow2 *q, uint64_t off, uint64_t len, unsigned type)
{
	if (!len)
		return;
	for (uint64_t c = off >> q->cluster_bits; c <= (off + len - 1) >> q->cluster_bits; c++) {
		if (q->nol == q->ol_cap) {
			q->ol_cap = q->ol_cap ? q->ol_cap * 2 : 64;
			q->ol = xrealloc(q->ol, q->ol_cap * sizeof(*q->ol));
		}
		q->ol[q->nol++] = (struct qcow2_ol_ent){ c, type };
	}
}

void qcow2_ol_build(struct qcow2 *q)
{
	q->nol = 0;
	ol_append(q, 0, q->cluster_size, QCOW2_OL_HEADER);
	ol_append(q, q->l1_offset, q->l1_size * 8ULL, QCOW2_OL_ACTIVE_L1);
	for (uint32_t i = 0; i < q->l1_size; i++) {
		uint64_t l2 = q->l1[i] & QCOW2_OFFSET_MASK;

		if (l2 && !qcow2_offset_into_cluster(q, l2))
			ol_append(q, l2, q->cluster_size, QCOW2_OL_ACTIVE_L2);
	}
	ol_append(q, q->rt_offset, (uint64_t)q->rt_clusters << q->cluster_bits,
		  QCOW2_OL_REFCOUNT_TABLE);
	for (uint64_t i = 0; i < q->rt_entries; i++)
		if (q->rt[i] & QCOW2_OFFSET_MASK)
			ol_append(q, q->rt[i] & QCOW2_OFFSET_MASK, q->cluster_size,
				  QCOW2_OL_REFCOUNT_BLOCK);
	ol_append(q, q->snapshots_offset, q->snapshots_len, QCOW2_OL_SNAPSHOT_TABLE);
	for (uint32_t i = 0; i < q->nb_snapshots; i++)
		ol_append(q, q->snaps[i].l1_offset, q->snaps[i].l1_size * 8ULL,
			  QCOW2_OL_INACTIVE_L1);
	ol_merge(q);
}

int qcow2_ol_conflict(const struct qcow2 *q, char *msg, size_t len)
{
	for (size_t i = 0; i < q->nol; i++) {
		unsigned m = q->ol[i].mask, who, other;

		if (!(m & (m - 1)))
			continue;
		/* name the refcount structure, which is what writes would go through */
		who = (m & QCOW2_OL_REFCOUNT_BLOCK) ? QCOW2_OL_REFCOUNT_BLOCK :
		      (m & QCOW2_OL_REFCOUNT_TABLE) ? QCOW2_OL_REFCOUNT_TABLE :
						      (m & (m - 1)) & -(m & (m - 1));
		other = (m & ~who) & -(m & ~who);
		snprintf(msg, len, "%s at offset 0x%" PRIx64 " overlaps with %s",
			 qcow2_ol_name(who), q->ol[i].cluster << q->cluster_bits,
			 qcow2_ol_name(other));
		return 1;
	}
	return 0;
}
