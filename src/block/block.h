/* The block interface: one API over raw and qcow2 images.
 *
 * A vs_blk is opened with an explicit format ("raw", "qcow2", "vdi", "vmdk",
 * "vhdx"); probing
 * happens only when the caller passes VS_BLK_PROBE. Reads and writes take any
 * offset and length inside the virtual size. All calls are safe from several
 * threads at once (drivers lock their own metadata). */
#ifndef VS_BLOCK_BLOCK_H
#define VS_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iovec;
struct vs_err;
struct vs_blk;

/* vs_blk_open() flags */
#define VS_BLK_RDONLY 0x1u /* open read-only */
#define VS_BLK_PROBE 0x2u /* fmt may be NULL: guess it from the content */
#define VS_BLK_NO_BACKING 0x4u /* do not open backing files (info, check) */
#define VS_BLK_REPAIR 0x8u /* writable even if dirty or marked corrupt (check -r) */
/* cache=unsafe: no write barriers between dependent metadata updates. The
 * default (cache=writeback-safe) orders them with fdatasync so that a power
 * loss, not only a killed process, leaves a consistent image (docs/img.md). */
#define VS_BLK_UNSAFE 0x10u
/* force-share (qemu-img -U): read-only opens that do not keep others from
 * writing (block/file.h: image locks). */
#define VS_BLK_SHARE 0x20u
/* cache=none/directsync: guest data bypasses the host page cache (O_DIRECT
 * on a second file description, used for requests whose buffers, offset
 * and length are sector-aligned; the rest, and qcow2 metadata, go through
 * the page cache). vs_blk_open fails with -EINVAL and says so when the
 * file system refuses O_DIRECT. */
#define VS_BLK_DIRECT 0x40u

/* Block status flags (vs_blk_status.flags) */
#define VS_BLK_ST_DATA 0x1u /* reads return stored data (from some layer) */
#define VS_BLK_ST_ZERO 0x2u /* reads return zeros */
#define VS_BLK_ST_ALLOCATED 0x4u /* the top layer decides the content */
#define VS_BLK_ST_COMPRESSED 0x8u /* stored compressed in the top layer */
#define VS_BLK_ST_OFFSET 0x10u /* host_offset is valid */

struct vs_blk_status {
	uint64_t len; /* bytes from the query offset with the same status */
	unsigned flags; /* VS_BLK_ST_* */
	uint64_t host_offset; /* offset in the top file, if VS_BLK_ST_OFFSET */
	int depth; /* 0: top layer, n: n-th backing file (data/zero only) */
};

/* `check` (qemu-img check's findings; a format's clusters are its
 * allocation units: VDI blocks, VMDK grains, VHDX payload blocks). */
enum vs_blk_repair { VS_BLK_REPAIR_NONE, VS_BLK_REPAIR_LEAKS, VS_BLK_REPAIR_ALL };

struct vs_blk_check_result {
	uint64_t corruptions, leaks;
	uint64_t corruptions_fixed, leaks_fixed;
	uint64_t check_errors;
	uint64_t allocated_clusters, total_clusters, fragmented_clusters, compressed_clusters;
	uint64_t image_end_offset;
};

/* Where a piece of guest data lies in a host file (vs_blk_map_io). */
struct vs_blk_io_map {
	int fd; /* the file, through the page cache */
	int dfd; /* its O_DIRECT twin (VS_BLK_DIRECT), or -1 */
	uint64_t host; /* the byte offset in fd/dfd of the queried byte */
	uint64_t len; /* bytes from the query offset that lie contiguously there */
};

/* A driver: every op returns 0 or -errno. Ranges are pre-checked by image.c. */
struct vs_blk_ops {
	const char *name;
	int (*pread)(struct vs_blk *b, void *buf, size_t len, uint64_t off);
	int (*pwrite)(struct vs_blk *b, const void *buf, size_t len, uint64_t off);
	/* Optional: one vectored call (else vec.c calls pread/pwrite per
	 * segment). The whole range is inside the image. */
	int (*preadv)(struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off);
	int (*pwritev)(struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off);
	int (*flush)(struct vs_blk *b);
	int (*discard)(struct vs_blk *b, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct vs_blk *b, uint64_t off, uint64_t len);
	int (*block_status)(struct vs_blk *b, uint64_t off, uint64_t len, struct vs_blk_status *st);
	int (*truncate)(struct vs_blk *b, uint64_t size, struct vs_err **err);
	/* Optional (NULL: the format has no consistency check, as raw). */
	int (*check)(struct vs_blk *b, enum vs_blk_repair repair, struct vs_blk_check_result *res,
		     struct vs_err **err);
	void (*close)(struct vs_blk *b);
	/* Optional (NULL: never): vs_blk_map_io. */
	int (*map_io)(struct vs_blk *b, uint64_t off, uint64_t len, bool write,
		      struct vs_blk_io_map *m);
};

/* The common part of every open image; drivers embed it first. */
struct vs_blk {
	const struct vs_blk_ops *ops;
	uint64_t size; /* virtual size in bytes */
	bool ro;
	char *filename;
	uint64_t cluster_size; /* allocation unit for `info` (0: none, as raw) */
};

/* For the drivers of block-mapped formats (VDI, VHDX): runs the statement
 * after it for each piece of [off, off+len) inside one unit-byte block,
 * with blk (the block's index), in (the offset in it) and n (the piece's
 * length) declared as uint64_t. */
#define VS_BLK_FOR_EACH_PIECE(off, len, unit, blk, in, n)                                     \
	for (uint64_t blk, in, n, _o = (off), _e = (off) + (len), _u = (unit);                \
	     _o < _e && ((blk = _o / _u), (in = _o % _u), (n = VS_MIN(_e - _o, _u - in)), 1); \
	     _o += n)

/* Opens path as fmt (vs_blk_format_known; NULL only with VS_BLK_PROBE).
 * Returns 0 and *out, or -errno with *err saying why in one line. */
int vs_blk_open(const char *path, const char *fmt, unsigned flags, struct vs_blk **out,
		struct vs_err **err);

/* True if name is a format vs_blk_open knows (inline: the VM spec parser
 * checks names without linking the block layer). */
static inline bool vs_blk_format_known(const char *name)
{
	static const char *const known[] = { "raw", "qcow2", "vdi", "vmdk", "vhdx" };

	for (size_t i = 0; name && i < sizeof(known) / sizeof(known[0]); i++)
		if (__builtin_strcmp(name, known[i]) == 0)
			return true;
	return false;
}

/* Guesses a file's format from its first bytes: "qcow2" or "raw".
 * Returns 0 and *fmt (a static string), or -errno. */
int vs_blk_probe(const char *path, const char **fmt, struct vs_err **err);

/* Closes and frees b (NULL is a no-op). Does not flush: call vs_blk_flush. */
void vs_blk_close(struct vs_blk *b);

/* Data path. Each returns 0 or -errno; -EINVAL if the range passes the end,
 * -EROFS for writes to a read-only image. Short I/O never succeeds. */
int vs_blk_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off);
int vs_blk_pwrite(struct vs_blk *b, const void *buf, size_t len, uint64_t off);
int vs_blk_flush(struct vs_blk *b);
int vs_blk_discard(struct vs_blk *b, uint64_t off, uint64_t len);
int vs_blk_write_zeroes(struct vs_blk *b, uint64_t off, uint64_t len);

/* Vectored data path (block/vec.c): the iovecs are read or written in order
 * from off, as one request of their total length (range-checked as a whole
 * before anything moves). Synchronous on the caller's thread: one driver
 * call (raw: preadv/pwritev) or one per segment. The asynchronous engine
 * (block/aio.h) runs these on its workers. */
int vs_blk_preadv(struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off);
int vs_blk_pwritev(struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off);

/* For engines that move guest data themselves (block/aio.h, io_uring):
 * where the bytes from off (at most len, inside the image) lie in a host
 * file, so that reading or writing m->len bytes at m->host in m->fd (or
 * m->dfd for O_DIRECT-aligned buffers) is exactly vs_blk_preadv/pwritev of
 * them. For a write, the driver has done what must precede it (raw: drops
 * its extent cache; qcow2: the overlap check) and the data goes to a
 * cluster that is allocated, not shared and not compressed. Returns 0, or
 * -ENOTSUP when the piece needs the driver's own path (unallocated, zero,
 * compressed or shared clusters, a backing file, metadata busy, or a format
 * without the op): the caller then uses vs_blk_preadv/pwritev for the whole
 * request. The mapping stays valid until a discard or write-zeroes of the
 * same range: the caller keeps those from running while it moves data. */
int vs_blk_map_io(struct vs_blk *b, uint64_t off, uint64_t len, bool write,
		  struct vs_blk_io_map *m);

/* Status of [off, off+len): fills *st for the first extent (st->len ≥ 1). */
int vs_blk_block_status(struct vs_blk *b, uint64_t off, uint64_t len, struct vs_blk_status *st);

/* Consistency check with the format's rules; with repair, b must have been
 * opened VS_BLK_REPAIR. Returns 0 (findings in *res), -ENOTSUP if the format
 * has no check, or -errno with *err. */
int vs_blk_check(struct vs_blk *b, enum vs_blk_repair repair, struct vs_blk_check_result *res,
		 struct vs_err **err);

/* Changes the virtual size. Returns 0 or -errno with *err. */
int vs_blk_truncate(struct vs_blk *b, uint64_t size, struct vs_err **err);

uint64_t vs_blk_size(const struct vs_blk *b);
const char *vs_blk_format(const struct vs_blk *b);

#endif
