/* The VMDK driver: a descriptor (a text file, or text inside a sparse
 * extent) names extents, each sparse (vmdk-sparse.c), flat (a raw file at an
 * offset) or zero; the disk is their concatenation. This file opens them and
 * routes each request to the extents it spans. */
#include "block/file.h"
#include "block/vmdk-internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DESC_MAGIC "# Disk DescriptorFile"

static struct vmdk *to_vmdk(struct vs_blk *b)
{
	return (struct vmdk *)b;
}

bool vmdk_is_magic(const uint8_t *buf, size_t len)
{
	uint32_t m;

	if (len >= 4) {
		memcpy(&m, buf, 4);
		if (le32toh(m) == VMDK_MAGIC)
			return true;
	}
	return len >= strlen(DESC_MAGIC) && !memcmp(buf, DESC_MAGIC, strlen(DESC_MAGIC));
}

/* The extent holding byte off (extents are sorted and contiguous). */
static struct vmdk_extent *extent_at(struct vmdk *v, uint64_t off)
{
	size_t lo = 0, hi = v->n_ext;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (v->ext[mid].start * VMDK_SECTOR <= off)
			lo = mid;
		else
			hi = mid;
	}
	return &v->ext[lo];
}

static uint64_t piece_len(const struct vmdk_extent *e, uint64_t in, uint64_t left)
{
	uint64_t n = VS_MIN(left, e->sectors * VMDK_SECTOR - in);

	if (e->type == VMDK_EXT_SPARSE)
		n = VS_MIN(n, e->grain * VMDK_SECTOR - in % (e->grain * VMDK_SECTOR));
	return n;
}

static int vmdk_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off)
{
	struct vmdk *v = to_vmdk(b);
	uint8_t *p = buf;
	int r = 0;

	while (len && r == 0) {
		struct vmdk_extent *e = extent_at(v, off);
		uint64_t in = off - e->start * VMDK_SECTOR, n = piece_len(e, in, len);

		if (e->type == VMDK_EXT_ZERO)
			memset(p, 0, n);
		else if (e->type == VMDK_EXT_FLAT)
			r = vs_pread_full(e->fd, p, n, e->flat_offset * VMDK_SECTOR + in);
		else
			r = vmdk_sparse_read(v, e, p, in / VMDK_SECTOR, in, n);
		p += n, off += n, len -= n;
	}
	return r;
}

static int vmdk_pwrite(struct vs_blk *b, const void *buf, size_t len, uint64_t off)
{
	struct vmdk *v = to_vmdk(b);
	const uint8_t *p = buf;
	int r = 0;

	while (len && r == 0) {
		struct vmdk_extent *e = extent_at(v, off);
		uint64_t in = off - e->start * VMDK_SECTOR, n = piece_len(e, in, len);

		if (e->ro || e->type == VMDK_EXT_ZERO)
			r = -EROFS;
		else if (e->type == VMDK_EXT_FLAT)
			r = vs_pwrite_full(e->fd, p, n, e->flat_offset * VMDK_SECTOR + in);
		else
			r = vmdk_sparse_write(v, e, p, in / VMDK_SECTOR, in, n);
		p += n, off += n, len -= n;
	}
	return r;
}

static int zero_range(struct vs_blk *b, uint64_t off, uint64_t len, bool discard)
{
	struct vmdk *v = to_vmdk(b);
	int r = 0;

	while (len && r == 0) {
		struct vmdk_extent *e = extent_at(v, off);
		uint64_t in = off - e->start * VMDK_SECTOR, n = piece_len(e, in, len);

		if (e->type == VMDK_EXT_SPARSE && !e->ro)
			r = vmdk_sparse_zero(v, e, in, n, discard);
		else if (e->type == VMDK_EXT_FLAT && !e->ro && discard)
			(void)fallocate(e->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)(e->flat_offset * VMDK_SECTOR + in), (off_t)n);
		else if (e->type == VMDK_EXT_FLAT && !e->ro)
			r = vs_zero_range(e->fd, e->flat_offset * VMDK_SECTOR + in, n);
		off += n, len -= n;
	}
	return r;
}

static int vmdk_discard(struct vs_blk *b, uint64_t off, uint64_t len)
{
	return zero_range(b, off, len, true);
}

static int vmdk_write_zeroes(struct vs_blk *b, uint64_t off, uint64_t len)
{
	return zero_range(b, off, len, false);
}

static int vmdk_block_status(struct vs_blk *b, uint64_t off, uint64_t len, struct vs_blk_status *st)
{
	struct vmdk *v = to_vmdk(b);
	struct vmdk_extent *e = extent_at(v, off);
	uint64_t in = off - e->start * VMDK_SECTOR, n = VS_MIN(len, e->sectors * VMDK_SECTOR - in);

	st->depth = 0;
	if (e->type == VMDK_EXT_SPARSE)
		return vmdk_sparse_status(v, e, in, n, st);
	st->len = n;
	if (e->type == VMDK_EXT_ZERO) {
		st->flags = VS_BLK_ST_ZERO | VS_BLK_ST_ALLOCATED;
		return 0;
	}
	st->flags = VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET;
	st->host_offset = e->flat_offset * VMDK_SECTOR + in;
	vs_blk_file_status(e->fd, st); /* as QEMU: holes of a flat file read as zeros */
	return 0;
}

static int flush_all(struct vmdk *v, bool sync)
{
	int r = 0;

	pthread_mutex_lock(&v->lock);
	for (size_t i = 0; i < v->n_ext && r == 0; i++)
		if (v->ext[i].type == VMDK_EXT_SPARSE && !v->ext[i].ro)
			r = vmdk_sparse_flush(v, &v->ext[i]);
	pthread_mutex_unlock(&v->lock);
	for (size_t i = 0; i < v->n_ext && r == 0 && sync; i++)
		if (v->ext[i].fd >= 0 && !v->ext[i].ro) {
			vs_io_hook_sync();
			if (fdatasync(v->ext[i].fd) < 0)
				r = -errno;
		}
	return r;
}

static int vmdk_flush(struct vs_blk *b)
{
	return flush_all(to_vmdk(b), true);
}

static int vmdk_truncate(struct vs_blk *b, uint64_t size, struct vs_err **err)
{
	(void)size; /* as qemu-img (the descriptor and tables would change) */
	return vs_err_set(err, -ENOTSUP, "%s: Image format driver does not support resize",
			  b->filename);
}

static int vmdk_check(struct vs_blk *b, enum vs_blk_repair repair, struct vs_blk_check_result *res,
		      struct vs_err **err)
{
	struct vmdk *v = to_vmdk(b);

	(void)err;
	if (repair != VS_BLK_REPAIR_NONE)
		return -ENOTSUP; /* qemu-img cannot repair VMDK either */
	for (size_t i = 0; i < v->n_ext; i++)
		if (v->ext[i].type == VMDK_EXT_SPARSE)
			vmdk_sparse_check(v, &v->ext[i], res);
	return 0;
}

static void vmdk_close(struct vs_blk *b)
{
	struct vmdk *v = to_vmdk(b);

	if (!b->ro)
		(void)flush_all(v, false); /* held-back tables (vmdk-sparse.c) */
	for (size_t i = 0; i < v->n_ext; i++) {
		struct vmdk_extent *e = &v->ext[i];
		bool shared = false;

		for (size_t k = 0; k < i && !shared; k++)
			shared = v->ext[k].fd == e->fd;
		if (e->fd >= 0 && !shared && e->fd != v->desc_fd)
			close(e->fd);
		vmdk_sparse_free(e);
		free(e->name);
		free(e->path);
	}
	if (v->desc_fd >= 0)
		close(v->desc_fd);
	pthread_mutex_destroy(&v->lock);
	free(v->ext);
	free(v->infos);
	free(v->desc_text);
	free(v->create_type);
	vs_blk_close(v->parent);
	free(v->parent_hint);
	free(v->parent_path);
	free(b->filename);
	free(v);
}

static const struct vs_blk_ops vmdk_ops = {
	.name = "vmdk",
	.pread = vmdk_pread,
	.pwrite = vmdk_pwrite,
	.flush = vmdk_flush,
	.discard = vmdk_discard,
	.write_zeroes = vmdk_write_zeroes,
	.block_status = vmdk_block_status,
	.truncate = vmdk_truncate,
	.check = vmdk_check,
	.close = vmdk_close,
};

bool vmdk_is(const struct vs_blk *b)
{
	return b && b->ops == &vmdk_ops;
}

struct vs_blk *vmdk_parent(struct vs_blk *b)
{
	return vmdk_is(b) ? to_vmdk(b)->parent : NULL;
}

void vmdk_get_info(struct vs_blk *b, struct vmdk_info *info)
{
	struct vmdk *v = to_vmdk(b);

	info->cid = v->cid;
	info->parent_cid = v->parent_cid;
	info->parent = v->parent_hint;
	info->parent_full = v->parent_path;
	info->create_type = v->create_type;
	info->n_extents = v->n_ext;
	info->extents = v->infos;
}

/* The descriptor: the whole file, or the text inside a sparse extent. A
 * sparse file is a disk of its own (its embedded text gives only the CIDs
 * and create type: qemu-img ignores its extent lines). */
static int read_descriptor(struct vmdk *v, int fd, uint64_t size, const char *dir,
			   struct vs_err **err)
{
	struct vmdk_sparse_header h;
	uint64_t off = 0, len = size;
	bool sparse;
	int r = vs_pread_full(fd, &h, sizeof(h), 0);

	if (r < 0)
		return vs_err_setsys(err, r, "%s: read", v->blk.filename);
	sparse = le32toh(h.magic) == VMDK_MAGIC;
	if (sparse) {
		off = le64toh(h.desc_offset) * VMDK_SECTOR;
		len = le64toh(h.desc_size) * VMDK_SECTOR;
		if (off > size || len > size - off)
			return vs_err_set(err, -EINVAL,
					  "%s: VMDK descriptor past the end of the file",
					  v->blk.filename);
	}
	if (len > VMDK_MAX_DESC)
		return vs_err_set(err, -EFBIG, "%s: VMDK descriptor too large", v->blk.filename);
	v->desc_text = xzalloc(len + 1);
	r = vs_pread_full(fd, v->desc_text, len, off);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read descriptor", v->blk.filename);
	r = vmdk_desc_parse(v, v->desc_text, dir, v->blk.filename, sparse, err);
	if (r < 0 || !sparse)
		return r;
	if (!*v->create_type) {
		free(v->create_type);
		v->create_type = xstrdup("monolithicSparse");
	}
	v->ext = xzalloc(sizeof(*v->ext));
	v->n_ext = 1;
	v->ext[0] = (struct vmdk_extent){ .type = VMDK_EXT_SPARSE,
					  .fd = -1,
					  .sectors = le64toh(h.capacity),
					  .name = xstrdup(v->blk.filename),
					  .path = xstrdup(v->blk.filename) };
	if (!v->ext[0].sectors || v->ext[0].sectors > (UINT64_MAX >> 10))
		return vs_err_set(err, -EINVAL, "%s: invalid VMDK capacity", v->blk.filename);
	return 0;
}

static int open_extent(struct vmdk_extent *e, int self_fd, unsigned flags, struct vs_err **err)
{
	struct stat a, b;
	int r;

	e->info.size = e->sectors * VMDK_SECTOR;
	/* qemu-img's names: the descriptor's type, "" for the file holding it */
	e->info.format = e->type == VMDK_EXT_SPARSE ? "SPARSE" :
			 e->type == VMDK_EXT_FLAT   ? "FLAT" :
						      "ZERO";
	if (e->type == VMDK_EXT_ZERO)
		return 0;
	/* the file itself (a monolithic sparse disk) shares the open description */
	if (stat(e->path, &a) == 0 && fstat(self_fd, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino) {
		e->fd = self_fd;
		e->info.format = "";
	} else if ((r = vs_blk_file_open(e->path, flags | (e->ro ? VS_BLK_RDONLY : 0), false,
					 &e->fd, err)) < 0)
		return r;
	e->ro = e->ro || (flags & VS_BLK_RDONLY);
	if (fstat(e->fd, &a) < 0)
		return vs_err_setsys(err, -errno, "%s", e->path);
	if (e->type == VMDK_EXT_SPARSE) {
		if (S_ISBLK(a.st_mode))
			return vs_err_set(err, -EINVAL, "%s: a sparse VMDK extent must be a file",
					  e->path);
		return vmdk_sparse_load(e, (uint64_t)a.st_size, err);
	}
	return 0;
}

static void make_infos(struct vmdk *v)
{
	v->infos = xzalloc(v->n_ext * sizeof(*v->infos) + 1);
	for (size_t i = 0; i < v->n_ext; i++) {
		v->infos[i] = v->ext[i].info;
		v->infos[i].filename = v->ext[i].path ? v->ext[i].path : "";
	}
}

/* A snapshot's parent, read-only, as qcow2 opens its backing file (a chain
 * at most 16 deep: a loop is refused, not followed). */
static int open_parent(struct vmdk *v, unsigned flags, struct vs_err **err)
{
	static __thread int depth;
	int r;

	if (depth >= 16)
		return vs_err_set(err, -ELOOP, "%s: VMDK parent chain deeper than 16 (a loop?)",
				  v->blk.filename);
	depth++;
	r = vs_blk_open(v->parent_path, "vmdk", VS_BLK_RDONLY | (flags & VS_BLK_SHARE), &v->parent,
			err);
	depth--;
	return r;
}

static int open_all(struct vmdk *v, int fd, unsigned flags, struct vs_err **err)
{
	const char *slash = strrchr(v->blk.filename, '/');
	_cleanup_free_ char *dir =
		slash ? strndup(v->blk.filename, (size_t)(slash - v->blk.filename) + 1) :
			xstrdup("");
	struct stat st;
	int r;

	if (!dir)
		xoom();
	if (fstat(fd, &st) < 0)
		return vs_err_setsys(err, -errno, "%s", v->blk.filename);
	r = read_descriptor(v, fd, (uint64_t)st.st_size, dir, err);
	for (size_t i = 0; r == 0 && i < v->n_ext; i++)
		r = open_extent(&v->ext[i], fd, flags, err);
	if (r < 0)
		return r;
	v->blk.size = (v->ext[v->n_ext - 1].start + v->ext[v->n_ext - 1].sectors) * VMDK_SECTOR;
	for (size_t i = 0; i < v->n_ext && !v->blk.cluster_size; i++)
		v->blk.cluster_size = v->ext[i].info.cluster_size;
	make_infos(v);
	if (v->parent_hint) {
		v->parent_path = v->parent_hint[0] == '/' ? xstrdup(v->parent_hint) :
							    xasprintf("%s%s", dir, v->parent_hint);
		if (!(flags & VS_BLK_NO_BACKING))
			return open_parent(v, flags, err);
	}
	return 0;
}

int vmdk_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err)
{
	struct vmdk *v;
	int r;

	v = xzalloc(sizeof(*v));
	v->desc_fd = -1;
	r = vs_blk_file_open(path, flags, false, &v->desc_fd, err);
	if (r < 0) {
		free(v);
		return r;
	}
	v->blk.ops = &vmdk_ops;
	v->blk.filename = xstrdup(path);
	v->blk.ro = flags & VS_BLK_RDONLY;
	v->barriers = !(flags & VS_BLK_UNSAFE);
	pthread_mutex_init(&v->lock, NULL);
	r = open_all(v, v->desc_fd, flags, err);
	if (r < 0) {
		v->blk.ro = true; /* nothing to flush */
		vmdk_close(&v->blk);
		return r;
	}
	*out = &v->blk;
	return 0;
}
