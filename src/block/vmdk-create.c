/* Creating VMDK disks in the five subformats qemu-img writes, with its
 * layout: a sparse extent is a header, the descriptor space (20 sectors,
 * monolithic disks only hold text there), the redundant directory and its
 * tables, the directory and its tables, padded to a grain; flat extents are
 * raw files; split disks ("twoGbMaxExtent") use extents of 2 GiB named
 * BASE-s001.vmdk / BASE-f001.vmdk beside the descriptor. */
#include "block/file.h"
#include "block/vmdk-internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define SPLIT_SECTORS (4194304ull) /* 2 GiB extents, as qemu-img splits */

int vmdk_parse_subformat(const char *s, enum vmdk_subformat *out)
{
	static const char *const names[] = { "monolithicSparse", "monolithicFlat",
					     "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
					     "streamOptimized" };

	for (size_t i = 0; i < VS_ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return *out = (enum vmdk_subformat)i, 0;
	return -EINVAL;
}

static const char *subformat_name(enum vmdk_subformat s)
{
	static const char *const names[] = { "monolithicSparse", "monolithicFlat",
					     "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
					     "streamOptimized" };
	return names[s];
}

static int put_dir(int fd, uint64_t sector, uint64_t n, uint64_t first_gt, uint64_t gt_sectors)
{
	_cleanup_free_ uint32_t *d = xmalloc(n * 4 + 4);

	for (uint64_t i = 0; i < n; i++)
		d[i] = htole32((uint32_t)(first_gt + i * gt_sectors));
	return vs_pwrite_full(fd, d, n * 4, sector * VMDK_SECTOR);
}

int vmdk_sparse_create(int fd, uint64_t sectors, bool stream, bool zeroed_grain, const char *desc)
{
	uint64_t grains = (sectors + VMDK_GRAIN_DEFAULT - 1) / VMDK_GRAIN_DEFAULT;
	uint64_t n_gt = (grains + VMDK_GTES - 1) / VMDK_GTES, gt_sec = VMDK_GTES * 4 / VMDK_SECTOR;
	uint64_t gd_sec = (n_gt * 4 + VMDK_SECTOR - 1) / VMDK_SECTOR;
	uint64_t rgd = 1 + VMDK_DESC_SECTORS, gd = rgd + gd_sec + n_gt * gt_sec;
	uint64_t end = VS_ALIGN_UP(gd + gd_sec + n_gt * gt_sec, (uint64_t)VMDK_GRAIN_DEFAULT);
	struct vmdk_sparse_header h = {
		.magic = htole32(VMDK_MAGIC),
		.version = htole32(stream ? 3 : 1),
		.flags = htole32(VMDK_FLAG_NL_DETECT | VMDK_FLAG_RGD |
				 (zeroed_grain ? VMDK_FLAG_ZERO_GRAIN : 0) |
				 (stream ? VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS : 0)),
		.capacity = htole64(sectors),
		.grain_size = htole64(VMDK_GRAIN_DEFAULT),
		.desc_offset = htole64(1),
		.desc_size = htole64(VMDK_DESC_SECTORS),
		.gtes_per_gt = htole32(VMDK_GTES),
		.rgd_offset = htole64(rgd),
		.gd_offset = htole64(gd),
		.overhead = htole64(end),
		.nl1 = '\n',
		.nonl = ' ',
		.nl2a = '\r',
		.nl2b = '\n',
		.compress = htole16(stream ? VMDK_COMPRESS_DEFLATE : 0),
	};
	int r;

	if (end + (stream ? 1 : 0) > UINT32_MAX)
		return -EFBIG;
	if (ftruncate(fd, 0) < 0 ||
	    ftruncate(fd, (off_t)((end + (stream ? 1 : 0)) * VMDK_SECTOR)) < 0)
		return -errno;
	r = vs_pwrite_full(fd, &h, sizeof(h), 0);
	if (r == 0 && desc)
		r = vs_pwrite_full(fd, desc, strlen(desc), VMDK_SECTOR);
	if (r == 0)
		r = put_dir(fd, rgd, n_gt, rgd + gd_sec, gt_sec);
	if (r == 0)
		r = put_dir(fd, gd, n_gt, gd + gd_sec, gt_sec);
	/* tables and a stream's end-of-stream marker are zeros: the file's holes */
	return r;
}

struct plan {
	struct vmdk_extent *ext;
	size_t n;
	char *desc_path;
	bool monolithic_sparse; /* the descriptor lives in the one extent */
};

/* Names and sizes of the extents of o's subformat for path. */
static void plan_extents(const char *path, const struct vmdk_create_opts *o, struct plan *p)
{
	uint64_t total = (o->size + VMDK_SECTOR - 1) / VMDK_SECTOR;
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t blen = strlen(base);
	bool split = o->sub == VMDK_TWO_GB_SPARSE || o->sub == VMDK_TWO_GB_FLAT;
	bool sparse = o->sub != VMDK_MONOLITHIC_FLAT && o->sub != VMDK_TWO_GB_FLAT;
	uint64_t per = split ? SPLIT_SECTORS : total ? total : 1;
	size_t n = split ? (size_t)((total + per - 1) / per) : 1;

	if (blen > 5 && !strcmp(base + blen - 5, ".vmdk"))
		blen -= 5;
	p->monolithic_sparse = o->sub == VMDK_MONOLITHIC_SPARSE || o->sub == VMDK_STREAM_OPTIMIZED;
	p->n = n ? n : 1;
	p->ext = xzalloc(p->n * sizeof(*p->ext));
	for (size_t i = 0; i < p->n; i++) {
		struct vmdk_extent *e = &p->ext[i];

		e->type = sparse ? VMDK_EXT_SPARSE : VMDK_EXT_FLAT;
		e->sectors = VS_MIN(per, total - i * per);
		if (p->monolithic_sparse)
			e->name = xstrdup(base);
		else if (split)
			e->name = xasprintf("%.*s-%c%03zu.vmdk", (int)blen, base,
					    sparse ? 's' : 'f', i + 1);
		else
			e->name = xasprintf("%.*s-flat.vmdk", (int)blen, base);
		e->path = slash ? xasprintf("%.*s%s", (int)(slash - path + 1), path, e->name) :
				  xstrdup(e->name);
	}
}

static void plan_free(struct plan *p, bool unlink_all)
{
	for (size_t i = 0; i < p->n; i++) {
		if (unlink_all && !p->monolithic_sparse)
			(void)unlink(p->ext[i].path);
		free(p->ext[i].name);
		free(p->ext[i].path);
	}
	free(p->ext);
}

static int write_extent(const struct vmdk_extent *e, const struct vmdk_create_opts *o,
			const char *desc, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	uint64_t bytes = e->sectors * VMDK_SECTOR;
	int r = vs_blk_file_open(e->path, 0, true, &fd, err);

	if (r < 0)
		return r;
	if (e->type == VMDK_EXT_SPARSE)
		r = vmdk_sparse_create(fd, e->sectors, o->sub == VMDK_STREAM_OPTIMIZED,
				       o->zeroed_grain, desc);
	else if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)bytes) < 0)
		r = -errno;
	else if (o->prealloc_falloc || o->prealloc_full)
		r = vs_preallocate(fd, 0, bytes, o->prealloc_full);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	return r < 0 ? vs_err_setsys(err, r, "%s: create extent", e->path) : 0;
}

static int write_descriptor_file(const char *path, const char *desc, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	int r = vs_blk_file_open(path, 0, true, &fd, err);

	if (r < 0)
		return r;
	if (ftruncate(fd, 0) < 0)
		return vs_err_setsys(err, -errno, "%s: truncate", path);
	r = vs_pwrite_full(fd, desc, strlen(desc), 0);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	return r < 0 ? vs_err_setsys(err, r, "%s: write descriptor", path) : 0;
}

/* A snapshot (-b): the parent's CID and, without a size, its size; flat
 * disks cannot have one (qemu-img's words). */
static int parent_of(const char *path, struct vmdk_create_opts *o, uint32_t *pcid,
		     struct vs_err **err)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *ppath =
		o->backing[0] == '/' || !slash ?
			xstrdup(o->backing) :
			xasprintf("%.*s%s", (int)(slash - path + 1), path, o->backing);
	struct vs_blk *b = NULL;
	struct vmdk_info vi;
	int r;

	if (o->sub == VMDK_MONOLITHIC_FLAT || o->sub == VMDK_TWO_GB_FLAT)
		return vs_err_set(err, -EINVAL, "%s: Flat image can't have backing file", path);
	if ((r = vs_blk_open(ppath, "vmdk", VS_BLK_RDONLY | VS_BLK_SHARE, &b, err)) < 0)
		return r;
	vmdk_get_info(b, &vi);
	*pcid = vi.cid;
	if (!o->size)
		o->size = vs_blk_size(b);
	vs_blk_close(b);
	return 0;
}

int vmdk_create(const char *path, const struct vmdk_create_opts *o, struct vs_err **err)
{
	struct plan p = { 0 };
	_cleanup_free_ char *desc = NULL;
	uint32_t cid = 0;
	int r = 0;

	struct vmdk_desc_head h = { .parent_cid = UINT32_MAX,
				    .parent = o->backing,
				    .create_type = subformat_name(o->sub),
				    .adapter = o->adapter_type,
				    .compat6 = o->compat6 };
	struct vmdk_create_opts oo = *o;

	if (o->backing && (r = parent_of(path, &oo, &h.parent_cid, err)) < 0)
		return r;
	if (oo.size > (uint64_t)UINT32_MAX * VMDK_GRAIN_DEFAULT * VMDK_SECTOR / 2)
		return vs_err_set(err, -EINVAL, "%s: VMDK size too large", path);
	if (getrandom(&cid, sizeof(cid), 0) != sizeof(cid))
		cid = (uint32_t)getpid();
	h.cid = cid;
	o = &oo;
	plan_extents(path, o, &p);
	desc = vmdk_desc_write(&h, p.ext, p.n, (o->size + VMDK_SECTOR - 1) / VMDK_SECTOR);
	if (p.monolithic_sparse && strlen(desc) >= VMDK_DESC_SECTORS * VMDK_SECTOR)
		r = vs_err_set(err, -EINVAL, "%s: VMDK descriptor does not fit", path);
	for (size_t i = 0; r == 0 && i < p.n; i++)
		r = write_extent(&p.ext[i], o, p.monolithic_sparse ? desc : NULL, err);
	if (r == 0 && !p.monolithic_sparse)
		r = write_descriptor_file(path, desc, err);
	if (r < 0)
		(void)unlink(path); /* nothing half-created */
	plan_free(&p, r < 0);
	return r;
}
