/* qcow2 open and close: header, tables, caches, backing chain. */
#include "block/qcow2/internal.h"
#include "block/file.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define L2_CACHE_BYTES (16ULL << 20)
#define RB_CACHE_SLOTS 16

bool qcow2_is(const struct vs_blk *b)
{
	return b && b->ops == &qcow2_ops;
}

struct vs_blk *qcow2_backing(struct vs_blk *b)
{
	return qcow2_is(b) ? to_qcow2(b)->backing : NULL;
}

void qcow2_get_info(struct vs_blk *b, struct qcow2_info *info)
{
	struct qcow2 *q = to_qcow2(b);

	memset(info, 0, sizeof(*info));
	info->version = q->version;
	info->cluster_size = q->cluster_size;
	info->refcount_bits = 1U << q->refcount_order;
	info->compression_type = q->compression_type;
	info->dirty = q->incompat & QCOW2_INCOMPAT_DIRTY;
	info->corrupt = q->incompat & QCOW2_INCOMPAT_CORRUPT;
	info->extended_l2 = q->incompat & QCOW2_INCOMPAT_EXTL2;
	info->lazy_refcounts = q->compat & QCOW2_COMPAT_LAZY;
	info->backing = q->backing_name;
	info->backing_full = q->backing_path;
	info->backing_fmt = q->backing_fmt;
	info->nb_snapshots = q->nb_snapshots;
}

void qcow2_close(struct vs_blk *b)
{
	struct qcow2 *q = to_qcow2(b);

	if (!b)
		return;
	if (q->fd >= 0 && !b->ro)
		(void)qcow2_meta_flush(q); /* held-back L1/L2 updates (io.c) */
	vs_blk_close(q->backing);
	qcow2_cache_destroy(&q->l2c);
	qcow2_cache_destroy(&q->rbc);
	qcow2_snapshots_free(q);
	pthread_rwlock_destroy(&q->layout);
	pthread_mutex_destroy(&q->meta);
	vs_write_gate_destroy(&q->gate);
	if (q->fd >= 0)
		close(q->fd);
	if (q->dfd >= 0)
		close(q->dfd);
	free(q->l1);
	free(q->rt);
	free(q->rel);
	free(q->ol);
	free(q->backing_name);
	free(q->backing_path);
	free(q->backing_fmt);
	free(q->blk.filename);
	free(q);
}

static int load_l1(struct qcow2 *q, struct vs_err **err)
{
	int r;

	q->l1 = xzalloc((q->l1_size ? q->l1_size : 1) * 8ULL);
	if (!q->l1_size)
		return 0;
	r = vs_pread_full(q->fd, q->l1, q->l1_size * 8ULL, q->l1_offset);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read L1 table", q->blk.filename);
	for (uint32_t i = 0; i < q->l1_size; i++)
		q->l1[i] = be64toh(q->l1[i]);
	return 0;
}

/* With repair, an entry pointing past the end of the file is dropped (the
 * rebuild of check -r all replaces every block), as qemu-img check -r does. */
static int load_rt(struct qcow2 *q, uint64_t file_size, bool repair, struct vs_err **err)
{
	int r;

	q->rt_entries = ((uint64_t)q->rt_clusters << q->cluster_bits) / 8;
	q->rt = xmalloc(q->rt_entries * 8);
	r = vs_pread_full(q->fd, q->rt, q->rt_entries * 8, q->rt_offset);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read refcount table", q->blk.filename);
	for (uint64_t i = 0; i < q->rt_entries; i++) {
		uint64_t e = be64toh(q->rt[i]), off = e & QCOW2_OFFSET_MASK;

		q->rt[i] = e;
		if (repair && e == off && !qcow2_offset_into_cluster(q, off) && off >= file_size) {
			vs_warn("Repairing refcount block %" PRIu64 ": offset 0x%" PRIx64
				" is past the end of the file",
				i, off);
			q->rt[i] = 0;
			q->open_fixes++;
			continue;
		}
		if (e != off || qcow2_offset_into_cluster(q, off) || off >= file_size ||
		    (e && off == 0))
			return vs_err_set(err, -EINVAL,
					  "%s: refcount block %" PRIu64 " has an invalid offset",
					  q->blk.filename, i);
	}
	return 0;
}

/* Resolves a backing name relative to the directory of the image. */
static char *backing_path(const char *image, const char *name)
{
	const char *slash = strrchr(image, '/');

	if (name[0] == '/' || !slash)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(slash - image), image, name);
}

static int open_chain(const char *path, unsigned flags, struct qcow2 *child, struct vs_blk **out,
		      struct vs_err **err);

/* Is path one of the files from q up the chain (q and the images it backs)? */
static bool in_chain(const struct qcow2 *q, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false; /* the open reports it */
	for (; q; q = q->child)
		if (q->dev == st.st_dev && q->ino == st.st_ino)
			return true;
	return false;
}

static int open_backing(struct qcow2 *q, unsigned flags, struct vs_err **err)
{
	const char *path = q->backing_path, *fmt = q->backing_fmt;
	unsigned bflags = VS_BLK_RDONLY | (flags & VS_BLK_SHARE);
	int r;

	if (in_chain(q, path))
		return vs_err_set(err, -ELOOP, "Backing file '%s' creates an infinite loop", path);
	if (!fmt) { /* images made before -F was mandatory: probe, as QEMU does */
		r = vs_blk_probe(path, &fmt, err);
		if (r < 0)
			return vs_err_wrap(err, r, "%s: backing file", q->blk.filename);
	}
	if (strcmp(fmt, "qcow2") == 0)
		r = open_chain(path, bflags, q, &q->backing, err);
	else
		r = vs_blk_open(path, fmt, bflags, &q->backing, err);
	if (r == -ELOOP)
		return r; /* one line, not one prefix per level */
	if (r < 0)
		return vs_err_wrap(err, r, "%s: backing file", q->blk.filename);
	return 0;
}

static int check_writable(struct qcow2 *q, unsigned flags, struct vs_err **err)
{
	uint64_t be;

	if ((q->incompat & QCOW2_INCOMPAT_CORRUPT) && !(flags & VS_BLK_REPAIR))
		return vs_err_set(err, -EROFS,
				  "%s: image is marked corrupt; it can only be opened read-only",
				  q->blk.filename);
	/* Autoclear features we do not update (persistent bitmaps) would go
	 * stale once we write: clear their bits, as the spec asks and QEMU does
	 * for what it does not know; QEMU then drops the bitmaps extension and
	 * treats the bitmaps' clusters as leaks. */
	if (q->version >= 3 && q->autoclear) {
		q->autoclear = 0;
		be = 0;
		return qcow2_header_write_field(q, QCOW2_HDR_OFF_AUTOCLEAR, &be, 8);
	}
	return 0;
}

/* Builds the overlap map (overlap.c). Metadata found overlapping other
 * metadata makes a writable open (other than for repair) mark the image
 * corrupt and fail: from then on it opens read-only until check -r all. */
static int check_overlaps(struct qcow2 *q, unsigned flags, struct vs_err **err)
{
	char msg[160];

	qcow2_ol_build(q);
	if (q->blk.ro || (flags & VS_BLK_REPAIR) || !qcow2_ol_conflict(q, msg, sizeof(msg)))
		return 0;
	qcow2_signal_corruption(q, "%s", msg);
	return vs_err_set(err, -EROFS,
			  "%s: %s; image marked as corrupt: it can only be opened read-only "
			  "until repaired (check -r all)",
			  q->blk.filename, msg);
}

static int open_tables(struct qcow2 *q, unsigned flags, struct vs_err **err)
{
	struct stat st;
	uint64_t slots;
	int r;

	if (fstat(q->fd, &st) < 0)
		return vs_err_setsys(err, -errno, "%s", q->blk.filename);
	r = qcow2_header_load(q, err);
	if (r == 0)
		r = qcow2_header_validate_tables(q, (uint64_t)st.st_size, flags & VS_BLK_REPAIR,
						 err);
	if (r == 0)
		r = qcow2_bitmaps_validate(q, err); /* before a writable open clears autoclear */
	if (r == 0 && !q->blk.ro)
		r = check_writable(q, flags, err);
	if (r == 0)
		r = load_l1(q, err);
	if (r == 0)
		r = load_rt(q, (uint64_t)st.st_size, flags & VS_BLK_REPAIR, err);
	if (r == 0)
		r = qcow2_snapshots_load(q, (uint64_t)st.st_size, flags & VS_BLK_REPAIR, err);
	if (r < 0)
		return r;
	slots = VS_MIN(L2_CACHE_BYTES >> q->cluster_bits, (uint64_t)q->l1_size + 8);
	qcow2_cache_init(&q->l2c, (unsigned)VS_MAX(slots, 16), q->cluster_size);
	qcow2_cache_init(&q->rbc, RB_CACHE_SLOTS, q->cluster_size);
	r = qcow2_refcount_init(q);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read refcounts", q->blk.filename);
	q->file_end = (uint64_t)st.st_size;
	r = check_overlaps(q, flags, err);
	if (r < 0)
		return r;
	if (q->backing_name)
		q->backing_path = backing_path(q->blk.filename, q->backing_name);
	if (q->backing_name && !(flags & VS_BLK_NO_BACKING))
		return open_backing(q, flags, err);
	return 0;
}

/* A dirty image (lazy refcounts, not closed cleanly) has stale refcounts:
 * rebuild them before the first write, as QEMU does on open. */
static int repair_dirty(struct qcow2 *q, struct vs_err **err)
{
	struct vs_blk_check_result res;
	int r = qcow2_check(&q->blk, VS_BLK_REPAIR_ALL, &res, err);

	if (r == 0 && (q->incompat & QCOW2_INCOMPAT_DIRTY))
		r = vs_err_set(err, -EIO, "%s: dirty image could not be repaired", q->blk.filename);
	return r;
}

static int open_chain(const char *path, unsigned flags, struct qcow2 *child, struct vs_blk **out,
		      struct vs_err **err)
{
	unsigned depth = child ? child->depth + 1 : 0;
	struct stat st;
	struct qcow2 *q;
	int r;

	if (depth > QCOW2_MAX_CHAIN)
		return vs_err_set(err, -ELOOP, "%s: backing chain deeper than %d", path,
				  QCOW2_MAX_CHAIN);
	q = xzalloc(sizeof(*q));
	q->blk.ops = &qcow2_ops;
	q->blk.filename = xstrdup(path);
	q->blk.ro = flags & VS_BLK_RDONLY;
	q->barriers = !(flags & VS_BLK_UNSAFE);
	q->depth = depth;
	q->child = child;
	pthread_rwlock_init(&q->layout, NULL);
	pthread_mutex_init(&q->meta, NULL);
	vs_write_gate_init(&q->gate, true); /* qcow2 images are regular files */
	q->fd = -1;
	q->dfd = -1;
	r = vs_blk_file_open(path, flags, false, &q->fd, err);
	if (r == 0 && fstat(q->fd, &st) < 0)
		r = vs_err_setsys(err, -errno, "%s", path);
	if (r == 0 && (flags & VS_BLK_DIRECT))
		r = vs_blk_file_open_direct(q->fd, path, q->blk.ro, &q->dfd, err);
	if (r == 0) {
		q->dev = st.st_dev;
		q->ino = st.st_ino;
	}
	if (r < 0) {
		qcow2_close(&q->blk);
		return r;
	}
	r = open_tables(q, flags, err);
	if (r == 0 && !q->blk.ro && (q->incompat & QCOW2_INCOMPAT_DIRTY))
		r = repair_dirty(q, err);
	if (r < 0) {
		qcow2_close(&q->blk);
		return r;
	}
	*out = &q->blk;
	return 0;
}

int qcow2_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err)
{
	return open_chain(path, flags, NULL, out, err);
}
