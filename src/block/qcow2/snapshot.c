/* Internal snapshots in QEMU's format (qcow2.txt "Snapshots").
 *
 * Sections: table load / table write / create, apply, delete, list.
 *
 * Refcount model (QEMU's): a cluster's refcount counts the L1 tables that
 * reach it, so taking a snapshot adds one to every L2 table and every data
 * cluster of the active tree, and the active tree loses its COPIED flags.
 * Create, apply and delete only describe the new state (active L1, snapshot
 * table, disk size); commit.c writes it beside the old one and switches the
 * header to it in one write, so a process killed at any moment (or a power
 * loss) leaves either the old image or the new one. */
#include "block/qcow2/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct snap_disk {
	uint64_t l1_table_offset;
	uint32_t l1_size;
	uint16_t id_str_size;
	uint16_t name_size;
	uint32_t date_sec;
	uint32_t date_nsec;
	uint64_t vm_clock_nsec;
	uint32_t vm_state_size;
	uint32_t extra_data_size;
} __attribute__((packed));
static_assert(sizeof(struct snap_disk) == 40, "snapshot entry header");

#define SNAP_TABLE_MAX (64ULL << 20)
#define SNAP_EXTRA_OURS 24

/* ---- table load ---- */

static void snap_clear(struct qcow2_snapshot *s)
{
	free(s->id);
	free(s->name);
}

void qcow2_snapshots_free(struct qcow2 *q)
{
	for (uint32_t i = 0; q->snaps && i < q->nb_snapshots; i++)
		snap_clear(&q->snaps[i]);
	free(q->snaps);
	q->snaps = NULL;
}

static int read_extra(struct qcow2 *q, struct qcow2_snapshot *s, uint64_t off)
{
	uint64_t ex[3] = { 0, 0, UINT64_MAX };
	int r = vs_pread_full(q->fd, ex, VS_MIN(s->extra_size, sizeof(ex)), off);

	if (r < 0)
		return r;
	if (s->extra_size >= 8)
		s->vm_state_size = be64toh(ex[0]);
	s->disk_size = s->extra_size >= 16 ? be64toh(ex[1]) : q->blk.size;
	s->icount = s->extra_size >= 24 ? be64toh(ex[2]) : UINT64_MAX;
	return 0;
}

/* Reads the entry at *off and moves *off past it. Returns 0, 1 for an
 * entry whose L1 table or extra data is invalid (*off is still right), or
 * -errno. */
static int read_one(struct qcow2 *q, struct qcow2_snapshot *s, uint64_t *off, uint64_t fsize)
{
	struct snap_disk d;
	uint64_t strings;
	bool bad;
	int r = vs_pread_full(q->fd, &d, sizeof(d), *off);

	if (r < 0)
		return r;
	s->l1_offset = be64toh(d.l1_table_offset);
	s->l1_size = be32toh(d.l1_size);
	s->date_sec = be32toh(d.date_sec);
	s->date_nsec = be32toh(d.date_nsec);
	s->vm_clock_nsec = be64toh(d.vm_clock_nsec);
	s->vm_state_size = be32toh(d.vm_state_size);
	s->extra_size = be32toh(d.extra_data_size);
	bad = s->extra_size > QCOW2_MAX_SNAP_EXTRA || s->l1_size > QCOW2_MAX_L1_BYTES / 8 ||
	      qcow2_offset_into_cluster(q, s->l1_offset) || s->l1_offset > fsize ||
	      s->l1_size * 8ULL > fsize - s->l1_offset;
	r = bad ? 0 : read_extra(q, s, *off + sizeof(d));
	if (r < 0)
		return r;
	strings = *off + sizeof(d) + s->extra_size;
	s->id = xzalloc(be16toh(d.id_str_size) + 1U);
	s->name = xzalloc(be16toh(d.name_size) + 1U);
	r = vs_pread_full(q->fd, s->id, be16toh(d.id_str_size), strings);
	if (r == 0)
		r = vs_pread_full(q->fd, s->name, be16toh(d.name_size),
				  strings + be16toh(d.id_str_size));
	*off = VS_ALIGN_UP(strings + be16toh(d.id_str_size) + be16toh(d.name_size), 8);
	return r < 0 ? r : bad;
}

static bool overlaps_fixed(const struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t rt_len = (uint64_t)q->rt_clusters << q->cluster_bits;

	return len &&
	       (off < q->cluster_size || (off < q->rt_offset + rt_len && q->rt_offset < off + len));
}

int qcow2_snapshots_load(struct qcow2 *q, uint64_t file_size, bool repair, struct vs_err **err)
{
	uint64_t off = q->snapshots_offset;
	uint32_t kept = 0, n = q->nb_snapshots;
	int r;

	if (!q->nb_snapshots)
		return 0;
	q->snaps = xzalloc(sizeof(*q->snaps) * q->nb_snapshots);
	for (uint32_t i = 0; i < n; i++) {
		r = read_one(q, &q->snaps[kept], &off, file_size);
		/* the last entry's padding to 8 bytes may pass EOF (QEMU leaves the
		 * file unaligned when the table is the last thing in it) */
		if (r >= 0 &&
		    (off - q->snapshots_offset > SNAP_TABLE_MAX || off > VS_ALIGN_UP(file_size, 8)))
			r = -EFBIG;
		if (r > 0 && repair) { /* check -r all writes the table without it */
			vs_warn("Discarding invalid snapshot table entry %u (ID '%s', name '%s'): "
				"its L1 table or extra data is invalid",
				i, q->snaps[kept].id, q->snaps[kept].name);
			snap_clear(&q->snaps[kept]);
			memset(&q->snaps[kept], 0, sizeof(q->snaps[kept]));
			q->open_fixes++;
			q->rebuild_only++;
			continue;
		}
		if (r == -EFBIG && repair) { /* the rest cannot be found: dropped too */
			vs_warn("Discarding snapshot table entries %u to %u: the table runs past "
				"the end of the file",
				i, n - 1);
			snap_clear(&q->snaps[kept]);
			memset(&q->snaps[kept], 0, sizeof(q->snaps[kept]));
			q->open_fixes += n - i;
			q->rebuild_only += n - i;
			off = VS_MIN(off, VS_ALIGN_UP(file_size, 8)); /* the old table's extent */
			break;
		}
		if (r != 0) {
			q->nb_snapshots = kept + 1; /* what to free (the rest is zeroed) */
			return vs_err_set(err, r == -EIO ? r : -EINVAL,
					  "%s: snapshot table entry %u is invalid", q->blk.filename,
					  i);
		}
		kept++;
	}
	q->nb_snapshots = kept;
	q->snapshots_len = off - q->snapshots_offset;
	if (overlaps_fixed(q, q->snapshots_offset, q->snapshots_len))
		return vs_err_set(err, -EINVAL, "%s: snapshot table overlaps other metadata",
				  q->blk.filename);
	for (uint32_t i = 0; i < q->nb_snapshots; i++)
		if (overlaps_fixed(q, q->snaps[i].l1_offset, q->snaps[i].l1_size * 8ULL))
			return vs_err_set(err, -EINVAL,
					  "%s: snapshot %u's L1 table overlaps the header or "
					  "refcount table",
					  q->blk.filename, i);
	return 0;
}

/* ---- table write ---- */

static uint64_t entry_size(const struct qcow2_snapshot *s)
{
	return VS_ALIGN_UP(
		sizeof(struct snap_disk) + SNAP_EXTRA_OURS + strlen(s->id) + strlen(s->name), 8);
}

uint8_t *qcow2_snapshot_table_build(const struct qcow2_snapshot *s, uint32_t n, uint64_t *len)
{
	uint64_t total = 0, p = 0;
	uint8_t *t;

	for (uint32_t i = 0; i < n; i++)
		total += entry_size(&s[i]);
	t = xzalloc(total ? total : 1);
	for (uint32_t i = 0; i < n; i++, s++) {
		struct snap_disk *d = (void *)(t + p);
		uint64_t *ex = (void *)(t + p + sizeof(*d));

		d->l1_table_offset = htobe64(s->l1_offset);
		d->l1_size = htobe32(s->l1_size);
		d->id_str_size = htobe16((uint16_t)strlen(s->id));
		d->name_size = htobe16((uint16_t)strlen(s->name));
		d->date_sec = htobe32(s->date_sec);
		d->date_nsec = htobe32(s->date_nsec);
		d->vm_clock_nsec = htobe64(s->vm_clock_nsec);
		d->vm_state_size = htobe32((uint32_t)VS_MIN(s->vm_state_size, UINT32_MAX));
		d->extra_data_size = htobe32(SNAP_EXTRA_OURS);
		ex[0] = htobe64(s->vm_state_size);
		ex[1] = htobe64(s->disk_size);
		ex[2] = htobe64(s->icount);
		memcpy(t + p + sizeof(*d) + SNAP_EXTRA_OURS, s->id, strlen(s->id));
		memcpy(t + p + sizeof(*d) + SNAP_EXTRA_OURS + strlen(s->id), s->name,
		       strlen(s->name));
		p += entry_size(s);
	}
	*len = total;
	return t;
}

/* ---- create, apply, delete, list ---- */

static struct qcow2_snapshot *snap_find(struct qcow2 *q, const char *name)
{
	for (uint32_t i = 0; i < q->nb_snapshots; i++)
		if (strcmp(q->snaps[i].name, name) == 0)
			return &q->snaps[i];
	for (uint32_t i = 0; i < q->nb_snapshots; i++)
		if (strcmp(q->snaps[i].id, name) == 0)
			return &q->snaps[i];
	return NULL;
}

static char *next_id(struct qcow2 *q)
{
	unsigned long max = 0;

	for (uint32_t i = 0; i < q->nb_snapshots; i++)
		max = VS_MAX(max, strtoul(q->snaps[i].id, NULL, 10));
	return xasprintf("%lu", max + 1);
}

/* The active L1 without flags (commit recomputes them). */
static uint64_t *active_l1(const struct qcow2 *q, uint64_t n)
{
	uint64_t *t = xzalloc(VS_MAX(n, 1) * 8);

	for (uint64_t i = 0; i < n && i < q->l1_size; i++)
		t[i] = q->l1[i] & QCOW2_OFFSET_MASK;
	return t;
}

/* A shallow copy of the table (the strings stay shared), minus entry skip. */
static struct qcow2_snapshot *table_copy(const struct qcow2 *q, uint32_t skip, uint32_t extra)
{
	struct qcow2_snapshot *t = xzalloc(sizeof(*t) * (q->nb_snapshots + extra + 1ULL));

	for (uint32_t i = 0, j = 0; i < q->nb_snapshots; i++)
		if (i != skip)
			t[j++] = q->snaps[i];
	return t;
}

static int create_locked(struct qcow2 *q, const char *name, struct vs_err **err)
{
	uint32_t n = q->nb_snapshots;
	struct qcow2_snapshot *snaps, *s;
	uint64_t **sl1, *l1;
	struct qcow2_commit c;
	struct timespec ts;
	int r;

	if (snap_find(q, name))
		return vs_err_set(err, -EEXIST, "snapshot '%s' already exists", name);
	if (n >= QCOW2_MAX_SNAPSHOTS || strlen(name) > UINT16_MAX)
		return vs_err_set(err, -EFBIG, "too many snapshots or name too long");
	snaps = table_copy(q, UINT32_MAX, 1);
	s = &snaps[n];
	clock_gettime(CLOCK_REALTIME, &ts);
	*s = (struct qcow2_snapshot){ .id = next_id(q),
				      .name = xstrdup(name),
				      .date_sec = (uint32_t)ts.tv_sec,
				      .date_nsec = (uint32_t)ts.tv_nsec,
				      .disk_size = q->blk.size,
				      .icount = UINT64_MAX,
				      .l1_size = q->l1_size };
	l1 = active_l1(q, q->l1_size);
	sl1 = xzalloc(sizeof(*sl1) * (n + 1ULL));
	sl1[n] = l1; /* the snapshot's L1: a copy of the active one */
	c = (struct qcow2_commit){ .l1 = l1,
				   .l1_size = q->l1_size,
				   .snaps = snaps,
				   .snap_l1 = sl1,
				   .nb_snapshots = n + 1,
				   .disk_size = q->blk.size };
	r = qcow2_commit(q, &c);
	free(l1);
	free(sl1);
	if (r < 0) {
		snap_clear(s);
		free(snaps);
		return vs_err_setsys(err, r, "%s: create snapshot", q->blk.filename);
	}
	return 0;
}

static int read_l1(struct qcow2 *q, const struct qcow2_snapshot *s, uint64_t n, uint64_t **out)
{
	uint64_t *t = xzalloc(VS_MAX(n, 1) * 8ULL);
	int r = vs_pread_full(q->fd, t, s->l1_size * 8ULL, s->l1_offset);

	for (uint32_t i = 0; i < s->l1_size; i++)
		t[i] = be64toh(t[i]) & QCOW2_OFFSET_MASK;
	if (r < 0) {
		free(t);
		return r;
	}
	*out = t;
	return 0;
}

/* The active L1 becomes a copy of the snapshot's (kept at least as large as
 * now, and large enough for the snapshot's disk size). */
static int apply_locked(struct qcow2 *q, struct qcow2_snapshot *s)
{
	uint64_t span = q->cluster_size * q->l2_entries, n;
	_cleanup_free_ uint64_t *l1 = NULL;
	struct qcow2_commit c;
	int r;

	if (s->disk_size > QCOW2_MAX_SIZE)
		return -EFBIG;
	n = VS_MAX(VS_MAX(q->l1_size, s->l1_size), (s->disk_size + span - 1) / span);
	if (n * 8 > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	r = read_l1(q, s, n, &l1);
	if (r < 0)
		return r;
	c = (struct qcow2_commit){ .l1 = l1,
				   .l1_size = (uint32_t)n,
				   .snaps = table_copy(q, UINT32_MAX, 0),
				   .nb_snapshots = q->nb_snapshots,
				   .disk_size = s->disk_size };
	r = qcow2_commit(q, &c);
	if (r < 0)
		free(c.snaps);
	return r;
}

static int delete_locked(struct qcow2 *q, struct qcow2_snapshot *s)
{
	struct qcow2_snapshot gone = *s;
	_cleanup_free_ uint64_t *l1 = active_l1(q, q->l1_size);
	struct qcow2_commit c = { .l1 = l1,
				  .l1_size = q->l1_size,
				  .snaps = table_copy(q, (uint32_t)(s - q->snaps), 0),
				  .nb_snapshots = q->nb_snapshots - 1,
				  .disk_size = q->blk.size };
	int r = qcow2_commit(q, &c);

	if (r < 0) {
		free(c.snaps);
		return r;
	}
	snap_clear(&gone);
	return 0;
}

static int snapshot_op(struct vs_blk *b, const char *name, int op, struct vs_err **err)
{
	struct qcow2 *q = to_qcow2(b);
	struct qcow2_snapshot *s;
	int r;

	if (b->ro)
		return vs_err_set(err, -EROFS, "%s: image is read-only", b->filename);
	pthread_rwlock_wrlock(&q->layout);
	if (op == 0) {
		r = create_locked(q, name, err);
	} else if (!(s = snap_find(q, name))) {
		r = vs_err_set(err, -ENOENT, "%s: no snapshot '%s'", b->filename, name);
	} else {
		r = op == 1 ? apply_locked(q, s) : delete_locked(q, s);
		if (r < 0)
			vs_err_setsys(err, r, "%s: %s snapshot '%s'", b->filename,
				      op == 1 ? "apply" : "delete", name);
	}
	q->zbuf_cursor = 0;
	pthread_rwlock_unlock(&q->layout);
	return r;
}

int qcow2_snapshot_create(struct vs_blk *b, const char *name, struct vs_err **err)
{
	return snapshot_op(b, name, 0, err);
}

int qcow2_snapshot_apply(struct vs_blk *b, const char *name, struct vs_err **err)
{
	return snapshot_op(b, name, 1, err);
}

int qcow2_snapshot_delete(struct vs_blk *b, const char *name, struct vs_err **err)
{
	return snapshot_op(b, name, 2, err);
}

int qcow2_snapshot_list(struct vs_blk *b, struct qcow2_snapshot_info **out, size_t *n)
{
	struct qcow2 *q = to_qcow2(b);
	struct qcow2_snapshot_info *l;

	pthread_rwlock_rdlock(&q->layout);
	l = xzalloc(sizeof(*l) * (q->nb_snapshots + 1));
	for (uint32_t i = 0; i < q->nb_snapshots; i++) {
		const struct qcow2_snapshot *s = &q->snaps[i];

		l[i] = (struct qcow2_snapshot_info){
			.id = xstrdup(s->id),
			.name = xstrdup(s->name),
			.vm_state_size = s->vm_state_size,
			.date_sec = s->date_sec,
			.date_nsec = s->date_nsec,
			.vm_clock_nsec = s->vm_clock_nsec,
			.disk_size = s->disk_size,
			.icount = s->icount,
		};
	}
	*n = q->nb_snapshots;
	pthread_rwlock_unlock(&q->layout);
	*out = l;
	return 0;
}

void qcow2_snapshot_list_free(struct qcow2_snapshot_info *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].id);
		free(s[i].name);
	}
	free(s);
}
