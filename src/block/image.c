/* Format probing and the generic front of the block interface: range checks,
 * read-only checks, then the driver's op. */
#include "block/block.h"
#include "block/file.h"
#include "block/qcow2.h"
#include "block/raw.h"
#include "block/vdi.h"
#include "block/vhdx.h"
#include "block/vmdk.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int vs_blk_probe(const char *path, const char **fmt, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	uint8_t magic[512] = { 0 };
	int r;

	r = vs_blk_file_open_nolock(path, &fd, err);
	if (r < 0)
		return r;
	r = vs_pread_full(fd, magic, sizeof(magic), 0);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read", path);
	if (qcow2_is_magic(magic))
		*fmt = "qcow2";
	else if (vdi_is_magic(magic, sizeof(magic)))
		*fmt = "vdi";
	else if (vmdk_is_magic(magic, sizeof(magic)))
		*fmt = "vmdk";
	else if (vhdx_is_magic(magic, sizeof(magic)))
		*fmt = "vhdx";
	else
		*fmt = "raw";
	return 0;
}

int vs_blk_open(const char *path, const char *fmt, unsigned flags, struct vs_blk **out,
		struct vs_err **err)
{
	int r;

	if (!fmt) {
		if (!(flags & VS_BLK_PROBE))
			return vs_err_set(err, -EINVAL, "%s: no image format given", path);
		r = vs_blk_probe(path, &fmt, err);
		if (r < 0)
			return r;
	}
	if (strcmp(fmt, "raw") == 0)
		return raw_open(path, flags, out, err);
	if (strcmp(fmt, "qcow2") == 0)
		return qcow2_open(path, flags, out, err);
	if (strcmp(fmt, "vdi") == 0)
		return vdi_open(path, flags, out, err);
	if (strcmp(fmt, "vmdk") == 0)
		return vmdk_open(path, flags, out, err);
	if (strcmp(fmt, "vhdx") == 0)
		return vhdx_open(path, flags, out, err);
	return vs_err_set(err, -EINVAL, "%s: unknown image format '%s'", path, fmt);
}

void vs_blk_close(struct vs_blk *b)
{
	if (b)
		b->ops->close(b);
}

static int check_range(const struct vs_blk *b, uint64_t off, uint64_t len)
{
	if (off > b->size || len > b->size - off)
		return -EINVAL;
	return 0;
}

int vs_blk_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off)
{
	int r = check_range(b, off, len);

	if (r < 0 || len == 0)
		return r;
	return b->ops->pread(b, buf, len, off);
}

int vs_blk_pwrite(struct vs_blk *b, const void *buf, size_t len, uint64_t off)
{
	int r = check_range(b, off, len);

	if (r < 0 || len == 0)
		return r;
	if (b->ro)
		return -EROFS;
	return b->ops->pwrite(b, buf, len, off);
}

int vs_blk_flush(struct vs_blk *b)
{
	return b->ro ? 0 : b->ops->flush(b);
}

int vs_blk_discard(struct vs_blk *b, uint64_t off, uint64_t len)
{
	int r = check_range(b, off, len);

	if (r < 0 || len == 0)
		return r;
	if (b->ro)
		return -EROFS;
	return b->ops->discard(b, off, len);
}

int vs_blk_write_zeroes(struct vs_blk *b, uint64_t off, uint64_t len)
{
	int r = check_range(b, off, len);

	if (r < 0 || len == 0)
		return r;
	if (b->ro)
		return -EROFS;
	return b->ops->write_zeroes(b, off, len);
}

int vs_blk_block_status(struct vs_blk *b, uint64_t off, uint64_t len, struct vs_blk_status *st)
{
	int r = check_range(b, off, len);

	if (r < 0)
		return r;
	if (len == 0)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	return b->ops->block_status(b, off, len, st);
}

int vs_blk_truncate(struct vs_blk *b, uint64_t size, struct vs_err **err)
{
	if (b->ro)
		return vs_err_set(err, -EROFS, "%s: image is read-only", b->filename);
	return b->ops->truncate(b, size, err);
}

int vs_blk_check(struct vs_blk *b, enum vs_blk_repair repair, struct vs_blk_check_result *res,
		 struct vs_err **err)
{
	memset(res, 0, sizeof(*res));
	if (!b->ops->check)
		return -ENOTSUP;
	return b->ops->check(b, repair, res, err);
}

uint64_t vs_blk_size(const struct vs_blk *b)
{
	return b->size;
}

const char *vs_blk_format(const struct vs_blk *b)
{
	return b->ops->name;
}

int vs_blk_map_io(struct vs_blk *b, uint64_t off, uint64_t len, bool write, struct vs_blk_io_map *m)
{
	if (!b->ops->map_io || len == 0 || check_range(b, off, len) < 0 || (write && b->ro))
		return -ENOTSUP;
	return b->ops->map_io(b, off, len, write, m);
}
