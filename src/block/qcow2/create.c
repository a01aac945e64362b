/* Creating qcow2 images: QEMU's layout (header, refcount table, one refcount
 * block), then the library's own resize and allocation code sizes the L1
 * table and preallocates, so creation shares the tested paths. */
#include "block/qcow2/internal.h"
#include "block/file.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct feature_entry {
	uint8_t type, bit;
	char name[46];
} __attribute__((packed));

static const struct feature_entry features[] = {
	{ 0, 0, "dirty bit" },
	{ 0, 1, "corrupt bit" },
	{ 0, 2, "external data file" },
	{ 0, 3, "compression type" },
	{ 0, 4, "extended L2 entries" },
	{ 1, 0, "lazy refcounts" },
	{ 2, 0, "bitmaps" },
	{ 2, 1, "raw external data" },
};

static size_t put_ext(uint8_t *p, uint32_t type, const void *data, uint32_t len)
{
	*(uint32_t *)p = htobe32(type);
	*(uint32_t *)(p + 4) = htobe32(len);
	memcpy(p + 8, data, len);
	return 8 + VS_ALIGN_UP((size_t)len, 8);
}

static int check_opts(const struct qcow2_create_opts *o, unsigned *cbits, unsigned *rorder,
		      struct vs_err **err)
{
	uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
	unsigned rb = o->refcount_bits ? o->refcount_bits : 16;

	if (cs < 512 || cs > (2 << 20) || (cs & (cs - 1)))
		return vs_err_set(err, -EINVAL,
				  "cluster size must be a power of two between 512 and 2M");
	if (rb > 64 || (rb & (rb - 1)))
		return vs_err_set(err, -EINVAL, "refcount bits must be a power of two up to 64");
	if (o->version == 2 && (rb != 16 || o->compression_type))
		return vs_err_set(err, -EINVAL,
				  "compat=0.10 needs 16 refcount bits and zlib compression");
	if (o->version && o->version != 2 && o->version != 3)
		return vs_err_set(err, -EINVAL, "unknown qcow2 version %u", o->version);
	if (o->backing && strlen(o->backing) > QCOW2_MAX_BACKING_NAME)
		return vs_err_set(err, -EINVAL, "backing file name too long");
	*cbits = (unsigned)__builtin_ctzll(cs);
	*rorder = (unsigned)__builtin_ctz(rb);
	return 0;
}

/* Fills the header cluster; returns -EFBIG if it does not fit. */
static int build_header(uint8_t *c, uint64_t cs, unsigned cbits, unsigned rorder,
			const struct qcow2_create_opts *o)
{
	struct qcow2_disk_header *h = (void *)c;
	unsigned v = o->version ? o->version : 3;
	size_t p = v == 3 ? sizeof(*h) : QCOW2_V2_HEADER_LEN, blen;

	h->magic = htobe32(QCOW2_MAGIC);
	h->version = htobe32(v);
	h->cluster_bits = htobe32(cbits);
	h->refcount_table_offset = htobe64(cs);
	h->refcount_table_clusters = htobe32(1);
	if (v == 3) {
		h->refcount_order = htobe32(rorder);
		h->header_length = htobe32(sizeof(*h));
		h->compression_type = (uint8_t)o->compression_type;
		if (o->compression_type)
			h->incompatible_features = htobe64(QCOW2_INCOMPAT_COMPRESSION);
	}
	blen = o->backing ? strlen(o->backing) : 0;
	if (o->backing_fmt)
		p += put_ext(c + p, QCOW2_EXT_BACKING_FMT, o->backing_fmt,
			     (uint32_t)strlen(o->backing_fmt));
	if (v == 3 && p + 8 + sizeof(features) + 8 + blen <= cs)
		p += put_ext(c + p, QCOW2_EXT_FEATURES, features, sizeof(features));
	p += 8; /* end-of-extensions marker: zeros */
	if (p + blen > cs)
		return -EFBIG;
	if (o->backing) {
		memcpy(c + p, o->backing, blen);
		h->backing_file_offset = htobe64(p);
		h->backing_file_size = htobe32((uint32_t)blen);
	}
	return 0;
}

/* Sets *made once path was truncated or created (from then on a failure
 * leaves a file that is no image: the caller removes it). */
static int write_skeleton(const char *path, const struct qcow2_create_opts *o, bool *made,
			  struct vs_err **err)
{
	unsigned cbits = 0, rorder = 0;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;
	uint64_t cs;
	int r = check_opts(o, &cbits, &rorder, err);

	if (r < 0)
		return r;
	cs = 1ULL << cbits;
	buf = xzalloc(3 * cs);
	if (build_header(buf, cs, cbits, rorder, o) < 0)
		return vs_err_set(err, -EINVAL, "header and backing name do not fit in a cluster");
	*(uint64_t *)(buf + cs) = htobe64(2 * cs);
	r = vs_blk_file_open(path, 0, true, &fd, err); /* locked before truncating */
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return vs_err_setsys(err, -errno, "%s", path);
	*made = S_ISREG(st.st_mode);
	if (*made && ftruncate(fd, 0) < 0)
		return vs_err_setsys(err, -errno, "%s: truncate", path);
	r = vs_pwrite_full(fd, buf, 3 * cs, 0);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: write", path);
	return 0;
}

/* Allocates every L2 table and data cluster (preallocation=metadata+). */
static int preallocate(struct qcow2 *q, enum qcow2_prealloc mode)
{
	uint64_t nclusters = qcow2_size_to_clusters(q, q->blk.size), c = 0, l2off, host;
	int r = 0;

	while (r == 0 && c < nclusters) {
		uint64_t l2i = c & (q->l2_entries - 1),
			 n = VS_MIN(nclusters - c, q->l2_entries - l2i);
		uint64_t *e = xmalloc(n * 8);

		r = qcow2_l2_for_write(q, c >> q->l2_bits, &l2off);
		if (r == 0)
			r = qcow2_alloc_clusters(q, n, &host);
		for (uint64_t i = 0; r == 0 && i < n; i++)
			e[i] = (host + (i << q->cluster_bits)) | QCOW2_OFLAG_COPIED;
		if (r == 0 && mode >= QCOW2_PREALLOC_FALLOC)
			r = -posix_fallocate(q->fd, (off_t)host, (off_t)(n << q->cluster_bits));
		if (r == 0 && mode == QCOW2_PREALLOC_FULL) /* zeros written, as qemu-img */
			r = vs_preallocate(q->fd, host, n << q->cluster_bits, true);
		if (r == 0)
			r = ftruncate(q->fd, (off_t)(host + (n << q->cluster_bits))) < 0 ? -errno :
											   0;
		if (r == 0)
			r = qcow2_l2_set(q, l2off, l2i, e, n);
		free(e);
		c += n;
	}
	return r;
}

static uint64_t backing_size(const char *path, const struct qcow2_create_opts *o,
			     struct vs_err **err, int *r)
{
	_cleanup_free_ char *bpath = NULL;
	const char *slash = strrchr(path, '/');
	struct vs_blk *b = NULL;
	uint64_t size;

	bpath = (o->backing[0] == '/' || !slash) ?
			xstrdup(o->backing) :
			xasprintf("%.*s/%s", (int)(slash - path), path, o->backing);
	*r = vs_blk_open(bpath, o->backing_fmt, VS_BLK_RDONLY | VS_BLK_PROBE, &b, err);
	if (*r < 0)
		return 0;
	size = vs_blk_size(b);
	vs_blk_close(b);
	return size;
}

static int create(const char *path, const struct qcow2_create_opts *o, bool *made,
		  struct vs_err **err)
{
	struct qcow2_create_opts opts = *o;
	struct vs_blk *b = NULL;
	int r = 0;

	if (opts.backing && !opts.size)
		opts.size = backing_size(path, &opts, err, &r);
	if (r < 0)
		return vs_err_wrap(err, r, "%s: backing file", path);
	/* whole sectors, rounded up as qemu-img does (QEMU reads the size
	 * field rounded down: an unaligned tail would be lost) */
	if (opts.size > QCOW2_MAX_SIZE)
		return vs_err_set(err, -EFBIG, "%s: size too large", path);
	opts.size = VS_ALIGN_UP(opts.size, 512);
	r = write_skeleton(path, &opts, made, err);
	if (r < 0)
		return r;
	r = qcow2_open(path, VS_BLK_NO_BACKING, &b, err);
	if (r < 0)
		return r;
	for (uint64_t c = 0; c < 3 && r == 0; c++)
		r = qcow2_refcount_set(to_qcow2(b), c, 1);
	to_qcow2(b)->alloc_end = 3;
	if (r < 0)
		r = vs_err_setsys(err, r, "%s: write refcounts", path);
	if (r == 0)
		r = vs_blk_truncate(b, opts.size, err);
	if (r == 0 && opts.prealloc != QCOW2_PREALLOC_OFF) {
		r = preallocate(to_qcow2(b), opts.prealloc);
		if (r < 0)
			r = vs_err_setsys(err, r, "%s: preallocate", path);
	}
	if (r == 0 && (r = vs_blk_flush(b)) < 0)
		r = vs_err_setsys(err, r, "%s: flush", path);
	vs_blk_close(b);
	return r;
}

int qcow2_create(const char *path, const struct qcow2_create_opts *o, struct vs_err **err)
{
	bool made = false;
	int r = create(path, o, &made, err);

	if (r < 0 && made)
		(void)unlink(path); /* nothing half-created, as qemu-img */
	return r;
}
