/* The raw driver: a file (or block device) read and written in place.
 * Allocation status comes from SEEK_DATA/SEEK_HOLE. */
#include "block/block.h"
#include "block/file.h"
#include "block/raw.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Extents learned from SEEK_DATA/SEEK_HOLE: each pair of lseeks describes
 * a whole data or hole extent, often longer than the query (convert asks
 * per 2 MiB chunk), and lseek's extent walk costs ext4 ~60 us. A few recent
 * extents are kept; every change to the file through this handle drops
 * them (raw images are not shared with writers: the image locks). */
#define RAW_EXTENTS 4
struct raw_extent {
	uint64_t start, end; /* end == 0: empty slot */
	bool data;
};

struct raw {
	struct vs_blk blk;
	int fd;
	int dfd; /* O_DIRECT twin (VS_BLK_DIRECT), else -1 */
	struct vs_write_gate gate;
	pthread_mutex_t ext_lock;
	struct raw_extent ext[RAW_EXTENTS];
	unsigned ext_next;
	bool ext_any; /* some slot is filled (read without the lock: writes skip it) */
};

static struct raw *to_raw(struct vs_blk *b)
{
	return (struct raw *)b;
}

static void ext_forget(struct raw *r)
{
	if (!__atomic_load_n(&r->ext_any, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&r->ext_lock);
	memset(r->ext, 0, sizeof(r->ext));
	__atomic_store_n(&r->ext_any, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&r->ext_lock);
}

static void ext_learn(struct raw *r, uint64_t start, uint64_t end, bool data)
{
	pthread_mutex_lock(&r->ext_lock);
	r->ext[r->ext_next++ % RAW_EXTENTS] = (struct raw_extent){ start, end, data };
	__atomic_store_n(&r->ext_any, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&r->ext_lock);
}

/* Fills *st from a known extent holding off; false if none does. */
static bool ext_lookup(struct raw *r, uint64_t off, uint64_t len, struct vs_blk_status *st)
{
	bool hit = false;

	pthread_mutex_lock(&r->ext_lock);
	for (unsigned i = 0; i < RAW_EXTENTS && !hit; i++) {
		const struct raw_extent *e = &r->ext[i];

		if (off < e->start || off >= e->end)
			continue;
		st->len = VS_MIN(e->end - off, len);
		st->flags = (e->data ? VS_BLK_ST_DATA : VS_BLK_ST_ZERO) | VS_BLK_ST_ALLOCATED |
			    VS_BLK_ST_OFFSET;
		hit = true;
	}
	pthread_mutex_unlock(&r->ext_lock);
	return hit;
}

static int raw_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off)
{
	return vs_pread_full(to_raw(b)->fd, buf, len, off);
}

static int raw_pwrite(struct vs_blk *b, const void *buf, size_t len, uint64_t off)
{
	struct raw *r = to_raw(b);
	int ret;

	ext_forget(r);
	vs_write_gate_enter(&r->gate, len);
	ret = vs_pwrite_full(r->fd, buf, len, off);
	vs_write_gate_leave(&r->gate, len);
	return ret;
}

/* Aligned requests on the O_DIRECT twin; a refusal (EINVAL: the device's
 * logical block is larger than a sector) falls back to the page cache. */
static int raw_preadv(struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off)
{
	struct raw *r = to_raw(b);
	int ret = -EINVAL;

	if (r->dfd >= 0 && vs_blk_direct_ok(iov, n, off))
		ret = vs_preadv_full(r->dfd, iov, n, off);
	if (ret == -EINVAL)
		ret = vs_preadv_full(r->fd, iov, n, off);
	return ret;
}

static int raw_pwritev(struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off)
{
	struct raw *r = to_raw(b);
	uint64_t len = 0;
	int ret = -EINVAL;

	ext_forget(r);
	if (r->dfd >= 0 && vs_blk_direct_ok(iov, n, off))
		ret = vs_pwritev_full(r->dfd, iov, n, off);
	if (ret != -EINVAL)
		return ret;
	for (unsigned i = 0; i < n; i++)
		len += iov[i].iov_len;
	vs_write_gate_enter(&r->gate, len);
	ret = vs_pwritev_full(r->fd, iov, n, off);
	vs_write_gate_leave(&r->gate, len);
	return ret;
}

static int raw_flush(struct vs_blk *b)
{
	return fdatasync(to_raw(b)->fd) < 0 ? -errno : 0;
}

static int raw_discard(struct vs_blk *b, uint64_t off, uint64_t len)
{
	ext_forget(to_raw(b));
	if (fallocate(to_raw(b)->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      (off_t)len) < 0 &&
	    errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

static int raw_write_zeroes(struct vs_blk *b, uint64_t off, uint64_t len)
{
	ext_forget(to_raw(b));
	return vs_zero_range(to_raw(b)->fd, off, len);
}

/* A raw file holds the guest's bytes in place. Writes through the page
 * cache skip the write gate: io_uring queues buffered writes to one file
 * itself (io-wq hashes them by inode). */
static int raw_map_io(struct vs_blk *b, uint64_t off, uint64_t len, bool write,
		      struct vs_blk_io_map *m)
{
	struct raw *r = to_raw(b);

	if (write)
		ext_forget(r);
	*m = (struct vs_blk_io_map){ .fd = r->fd, .dfd = r->dfd, .host = off, .len = len };
	return 0;
}

static int raw_block_status(struct vs_blk *b, uint64_t off, uint64_t len, struct vs_blk_status *st)
{
	struct raw *r = to_raw(b);
	off_t data, hole;

	st->depth = 0;
	st->host_offset = off;
	if (ext_lookup(r, off, len, st))
		return 0;
	data = lseek(r->fd, (off_t)off, SEEK_DATA);
	if (data < 0 && errno == ENXIO)
		data = (off_t)b->size; /* a hole up to EOF */
	else if (data < 0)
		goto all_data;
	if ((uint64_t)data > off) {
		ext_learn(r, off, (uint64_t)data, false);
		st->len = VS_MIN((uint64_t)data - off, len);
		st->flags = VS_BLK_ST_ZERO | VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET;
		return 0;
	}
	hole = lseek(r->fd, (off_t)off, SEEK_HOLE);
	if (hole < 0 || (uint64_t)hole <= off)
		goto all_data;
	ext_learn(r, off, (uint64_t)hole, true);
	st->len = VS_MIN((uint64_t)hole - off, len);
	st->flags = VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET;
	return 0;
all_data:
	st->len = len;
	st->flags = VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET;
	return 0;
}

static int raw_truncate(struct vs_blk *b, uint64_t size, struct vs_err **err)
{
	ext_forget(to_raw(b));
	if (ftruncate(to_raw(b)->fd, (off_t)size) < 0)
		return vs_err_setsys(err, -errno, "%s: resize", b->filename);
	b->size = size;
	return 0;
}

static void raw_close(struct vs_blk *b)
{
	vs_write_gate_destroy(&to_raw(b)->gate);
	pthread_mutex_destroy(&to_raw(b)->ext_lock);
	close(to_raw(b)->fd);
	if (to_raw(b)->dfd >= 0)
		close(to_raw(b)->dfd);
	free(b->filename);
	free(b);
}

static const struct vs_blk_ops raw_ops = {
	.name = "raw",
	.pread = raw_pread,
	.pwrite = raw_pwrite,
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.block_status = raw_block_status,
	.truncate = raw_truncate,
	.close = raw_close,
	.map_io = raw_map_io,
};

int raw_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int dfd = -1;
	struct stat stb;
	struct raw *r;
	off_t end;
	int ret;

	ret = vs_blk_file_open(path, flags, false, &fd, err);
	if (ret < 0)
		return ret;
	if (fstat(fd, &stb) < 0)
		return vs_err_setsys(err, -errno, "%s", path);
	end = lseek(fd, 0, SEEK_END); /* also right for block devices */
	if (end < 0)
		return vs_err_setsys(err, -errno, "%s: size", path);
	if ((flags & VS_BLK_DIRECT) &&
	    (ret = vs_blk_file_open_direct(fd, path, flags & VS_BLK_RDONLY, &dfd, err)) < 0)
		return ret;
	r = xzalloc(sizeof(*r));
	r->blk.ops = &raw_ops;
	/* whole sectors, as QEMU sees a raw file: the tail reads as zeros */
	r->blk.size = VS_ALIGN_UP((uint64_t)end, 512ULL);
	r->blk.ro = flags & VS_BLK_RDONLY;
	r->blk.filename = xstrdup(path);
	r->fd = steal_fd(fd);
	r->dfd = steal_fd(dfd);
	vs_write_gate_init(&r->gate, S_ISREG(stb.st_mode));
	pthread_mutex_init(&r->ext_lock, NULL);
	*out = &r->blk;
	return 0;
}

int raw_create(const char *path, uint64_t size, bool falloc, bool full, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r = vs_blk_file_open(path, 0, true, &fd, err);

	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return vs_err_setsys(err, -errno, "%s", path);
	if (S_ISBLK(st.st_mode)) /* the device is the disk: nothing to size */
		return 0;
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)
		r = vs_err_setsys(err, -errno, "%s: set size", path);
	else if ((falloc || full) && size && (r = vs_preallocate(fd, 0, size, full)) < 0)
		r = vs_err_setsys(err, r, "%s: preallocation failed", path);
	if (r < 0)
		(void)unlink(path); /* nothing half-created, as qemu-img */
	return r;
}
