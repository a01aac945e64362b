/* qcow2 header: parse, validate every field before use (hostile images), read
 * header extensions, update single fields in place.
 *
 * We never rewrite the header wholesale, so unknown header extensions and
 * feature bits we do not own survive every operation. */
#include "block/qcow2/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct feature_name {
	uint8_t type; /* 0 incompatible, 1 compatible, 2 autoclear */
	uint8_t bit;
	char name[46];
} __attribute__((packed));
static_assert(sizeof(struct feature_name) == 48, "feature name table entry");

bool qcow2_is_magic(const uint8_t *buf)
{
	return buf[0] == 'Q' && buf[1] == 'F' && buf[2] == 'I' && buf[3] == 0xfb;
}

int qcow2_header_write_field(struct qcow2 *q, unsigned off, const void *be, size_t len)
{
	return vs_pwrite_full(q->fd, be, len, off);
}

/* QEMU's names for the incompatible features we refuse, for images whose
 * feature name table does not name them. */
static const struct {
	uint64_t bit;
	const char *name;
} known_names[] = {
	{ QCOW2_INCOMPAT_DATA_FILE, "external data file" },
	{ QCOW2_INCOMPAT_EXTL2, "extended L2 entries" },
};

/* Lists the unknown incompatible bits by name (the image's feature name
 * table first, then known_names). */
static int unknown_features(struct qcow2 *q, const uint8_t *c, uint64_t len, uint64_t bits,
			    struct vs_err **err)
{
	char names[256] = "";
	size_t used = 0;

	for (uint64_t i = 0; i + sizeof(struct feature_name) <= len;
	     i += sizeof(struct feature_name)) {
		const struct feature_name *f = (const void *)(c + i);

		if (f->type != 0 || f->bit >= 64 || !(bits & (1ULL << f->bit)))
			continue;
		used += (size_t)snprintf(names + used, sizeof(names) - VS_MIN(used, sizeof(names)),
					 "%s%.46s", used ? ", " : "", f->name);
		bits &= ~(1ULL << f->bit);
		if (used >= sizeof(names))
			break;
	}
	for (unsigned i = 0; i < VS_ARRAY_SIZE(known_names); i++) /* no table entry */
		if (bits & known_names[i].bit && used < sizeof(names)) {
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 used ? ", " : "", known_names[i].name);
			bits &= ~known_names[i].bit;
		}
	if (bits)
		snprintf(names + VS_MIN(used, sizeof(names) - 1),
			 sizeof(names) - VS_MIN(used, sizeof(names) - 1), "%sbits 0x%" PRIx64,
			 used ? ", " : "", bits);
	return vs_err_set(err, -ENOTSUP, "%s: unsupported qcow2 feature(s): %s", q->blk.filename,
			  names);
}

#define BACKING_FMT_MAX 16 /* QEMU's sizeof(bs->backing_format) */
#define BITMAPS_EXT_LEN 24
#define MAX_BITMAPS 65535
#define MAX_BITMAP_DIR (65535 * 1024) /* QEMU's QCOW2_MAX_BITMAP_DIRECTORY_SIZE */

/* The bitmaps extension, validated as QEMU does (in its order and words);
 * ignored while the autoclear bit says the bitmaps are stale. */
static int parse_bitmaps_ext(struct qcow2 *q, const uint8_t *e, uint32_t len, struct vs_err **err)
{
	const char *f = q->blk.filename;
	uint32_t n, reserved;
	uint64_t size, off;

	if (len != BITMAPS_EXT_LEN)
		return vs_err_set(err, -EINVAL, "%s: bitmaps_ext: Invalid extension length", f);
	if (!(q->autoclear & QCOW2_AUTOCLEAR_BITMAPS))
		return 0;
	n = be32toh(*(const uint32_t *)e);
	reserved = be32toh(*(const uint32_t *)(e + 4));
	size = be64toh(*(const uint64_t *)(e + 8));
	off = be64toh(*(const uint64_t *)(e + 16));
	if (reserved)
		return vs_err_set(err, -EINVAL, "%s: bitmaps_ext: Reserved field is not zero", f);
	if (n > MAX_BITMAPS)
		return vs_err_set(err, -EINVAL,
				  "%s: bitmaps_ext: Image has %u bitmaps, exceeding the QEMU "
				  "supported maximum of %d",
				  f, n, MAX_BITMAPS);
	if (n == 0)
		return vs_err_set(err, -EINVAL, "%s: found bitmaps extension with zero bitmaps", f);
	if (qcow2_offset_into_cluster(q, off))
		return vs_err_set(err, -EINVAL, "%s: bitmaps_ext: invalid bitmap directory offset",
				  f);
	if (size > MAX_BITMAP_DIR)
		return vs_err_set(err, -EINVAL,
				  "%s: bitmaps_ext: bitmap directory size (%" PRIu64
				  ") exceeds the "
				  "maximum supported size (%d)",
				  f, size, MAX_BITMAP_DIR);
	if (size == 0)
		return vs_err_set(err, -EINVAL, "%s: Requested bitmap directory size is zero", f);
	q->nb_bitmaps = n;
	q->bitmap_dir_size = size;
	q->bitmap_dir_off = off;
	return 0;
}

/* Walks the header extensions in c[start, end). */
static int parse_extensions(struct qcow2 *q, const uint8_t *c, uint64_t start, uint64_t end,
			    uint64_t bad_incompat, struct vs_err **err)
{
	uint64_t p = start;

	while (p + 8 <= end) {
		uint32_t type = be32toh(*(const uint32_t *)(c + p));
		uint32_t len = be32toh(*(const uint32_t *)(c + p + 4));

		p += 8;
		if (type == QCOW2_EXT_END)
			break;
		if (len > end - p)
			return vs_err_set(err, -EINVAL,
					  "%s: header extension 0x%x overruns the header",
					  q->blk.filename, type);
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (len >= BACKING_FMT_MAX) /* qemu-img's words */
				return vs_err_set(err, -EINVAL,
						  "%s: ERROR: ext_backing_format: len=%u too large "
						  "(>=%u)",
						  q->blk.filename, len, BACKING_FMT_MAX);
			free(q->backing_fmt);
			q->backing_fmt = xasprintf("%.*s", (int)len, (const char *)(c + p));
		} else if (type == QCOW2_EXT_CRYPTO) { /* qemu-img's words */
			return vs_err_set(err, -EINVAL,
					  "%s: CRYPTO header extension only expected with LUKS "
					  "encryption method",
					  q->blk.filename);
		} else if (type == QCOW2_EXT_BITMAPS) {
			int r = parse_bitmaps_ext(q, c + p, len, err);

			if (r < 0)
				return r;
		} else if (type == QCOW2_EXT_FEATURES && bad_incompat) {
			return unknown_features(q, c + p, len, bad_incompat, err);
		}
		p += VS_ALIGN_UP((uint64_t)len, 8);
	}
	if (bad_incompat)
		return unknown_features(q, c, 0, bad_incompat, err);
	return 0;
}

static int check_v3_fields(struct qcow2 *q, const struct qcow2_disk_header *h, struct vs_err **err)
{
	const char *f = q->blk.filename;

	q->header_length = be32toh(h->header_length);
	q->incompat = be64toh(h->incompatible_features);
	q->compat = be64toh(h->compatible_features);
	q->autoclear = be64toh(h->autoclear_features);
	q->refcount_order = be32toh(h->refcount_order);
	if (q->header_length < QCOW2_V3_HEADER_LEN || q->header_length > q->cluster_size ||
	    q->header_length % 8)
		return vs_err_set(err, -EINVAL, "%s: invalid header length %u", f,
				  q->header_length);
	if (q->refcount_order > 6)
		return vs_err_set(err, -EINVAL, "%s: invalid refcount order %u", f,
				  q->refcount_order);
	if (q->header_length > offsetof(struct qcow2_disk_header, compression_type))
		q->compression_type = h->compression_type;
	if (q->compression_type > QCOW2_COMPRESS_ZSTD)
		return vs_err_set(err, -ENOTSUP, "%s: unknown compression type %d", f,
				  q->compression_type);
	if (q->compression_type && !(q->incompat & QCOW2_INCOMPAT_COMPRESSION))
		return vs_err_set(err, -EINVAL, "%s: compression type set without its feature bit",
				  f);
	if (!q->compression_type && (q->incompat & QCOW2_INCOMPAT_COMPRESSION))
		return vs_err_set(err, -EINVAL, /* qemu-img's words */
				  "%s: qcow2: Compression type incompatible feature bit must not "
				  "be set",
				  f);
	return 0;
}

static int check_basic_fields(struct qcow2 *q, const struct qcow2_disk_header *h,
			      struct vs_err **err)
{
	const char *f = q->blk.filename;

	if (be32toh(h->magic) != QCOW2_MAGIC)
		return vs_err_set(err, -EINVAL, "%s: not a qcow2 image", f);
	q->version = be32toh(h->version);
	if (q->version != 2 && q->version != 3)
		return vs_err_set(err, -ENOTSUP, "%s: unsupported qcow2 version %u", f, q->version);
	q->cluster_bits = be32toh(h->cluster_bits);
	if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS || q->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return vs_err_set(err, -EINVAL, "%s: invalid cluster bits %u", f, q->cluster_bits);
	q->cluster_size = 1ULL << q->cluster_bits;
	q->blk.cluster_size = q->cluster_size;
	q->l2_bits = q->cluster_bits - 3;
	q->l2_entries = 1ULL << q->l2_bits;
	if (be32toh(h->crypt_method))
		return vs_err_set(err, -ENOTSUP, "%s: unsupported qcow2 feature: encryption (%s)",
				  f,
				  be32toh(h->crypt_method) == 1 ? "AES-CBC" :
				  be32toh(h->crypt_method) == 2 ? "LUKS" :
								  "unknown method");
	/* whole sectors, as QEMU reads it: both then see the same disk */
	q->blk.size = VS_ALIGN_DOWN(be64toh(h->size), 512ULL);
	if (q->blk.size > QCOW2_MAX_SIZE)
		return vs_err_set(err, -EFBIG, "%s: virtual size too large", f);
	q->header_length = QCOW2_V2_HEADER_LEN;
	q->refcount_order = 4;
	return 0;
}

static int read_backing_name(struct qcow2 *q, const struct qcow2_disk_header *h, const uint8_t *c,
			     uint64_t clen, struct vs_err **err)
{
	uint64_t off = be64toh(h->backing_file_offset);
	uint32_t len = be32toh(h->backing_file_size);

	if (!off)
		return 0;
	if (len > QCOW2_MAX_BACKING_NAME) /* qemu-img's words */
		return vs_err_set(err, -EINVAL, "%s: Backing file name too long", q->blk.filename);
	if (len == 0 || len > QCOW2_MAX_BACKING_NAME || off > clen || len > clen - off ||
	    off < q->header_length)
		return vs_err_set(err, -EINVAL, "%s: invalid backing file name location",
				  q->blk.filename);
	if (memchr(c + off, 0, len))
		return vs_err_set(err, -EINVAL, "%s: backing file name contains NUL",
				  q->blk.filename);
	q->backing_name = xasprintf("%.*s", (int)len, (const char *)(c + off));
	return 0;
}

static void load_table_fields(struct qcow2 *q, const struct qcow2_disk_header *h)
{
	q->l1_size = be32toh(h->l1_size);
	q->l1_offset = be64toh(h->l1_table_offset);
	q->rt_offset = be64toh(h->refcount_table_offset);
	q->rt_clusters = be32toh(h->refcount_table_clusters);
	q->nb_snapshots = be32toh(h->nb_snapshots);
	q->snapshots_offset = be64toh(h->snapshots_offset);
	q->rb_bits = q->cluster_bits + 3 - q->refcount_order;
	q->refcount_max = q->refcount_order == 6 ? UINT64_MAX :
						   (1ULL << (1U << q->refcount_order)) - 1;
}

int qcow2_header_load(struct qcow2 *q, struct vs_err **err)
{
	struct qcow2_disk_header h = { 0 };
	_cleanup_free_ uint8_t *c = NULL;
	uint64_t clen, ext_end;
	int r;

	r = vs_pread_full(q->fd, &h, sizeof(h), 0);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read header", q->blk.filename);
	r = check_basic_fields(q, &h, err);
	if (r == 0 && q->version == 3)
		r = check_v3_fields(q, &h, err);
	if (r < 0)
		return r;
	clen = q->cluster_size;
	c = xmalloc(clen);
	r = vs_pread_full(q->fd, c, clen, 0);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read header", q->blk.filename);
	ext_end = be64toh(h.backing_file_offset) ? VS_MIN(be64toh(h.backing_file_offset), clen) :
						   clen;
	if (q->version == 3) {
		r = parse_extensions(q, c, q->header_length, ext_end,
				     q->incompat & ~QCOW2_INCOMPAT_KNOWN, err);
		if (r < 0)
			return r;
	}
	r = read_backing_name(q, &h, c, clen, err);
	if (r < 0)
		return r;
	load_table_fields(q, &h);
	return 0;
}

/* Is [off, off+len) a sane, cluster-aligned extent inside the file? */
static bool extent_ok(const struct qcow2 *q, uint64_t off, uint64_t len, uint64_t file_size)
{
	return off && !qcow2_offset_into_cluster(q, off) && off <= file_size &&
	       len <= file_size - off;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_overlaps(struct qcow2 *q, uint64_t l1_bytes, uint64_t rt_bytes,
			  struct vs_err **err)
{
	uint64_t cs = q->cluster_size;

	if ((l1_bytes && overlaps(q->l1_offset, l1_bytes, 0, cs)) ||
	    overlaps(q->rt_offset, rt_bytes, 0, cs) ||
	    (l1_bytes && overlaps(q->l1_offset, l1_bytes, q->rt_offset, rt_bytes)))
		return vs_err_set(err, -EINVAL, "%s: metadata tables overlap", q->blk.filename);
	return 0;
}

int qcow2_header_validate_tables(struct qcow2 *q, uint64_t file_size, bool repair,
				 struct vs_err **err)
{
	const char *f = q->blk.filename;
	uint64_t l1_bytes = (uint64_t)q->l1_size * 8;
	uint64_t rt_bytes = (uint64_t)q->rt_clusters << q->cluster_bits;
	uint64_t l2_span = q->cluster_size * q->l2_entries;
	uint64_t need = (q->blk.size + l2_span - 1) / l2_span;

	if (l1_bytes > QCOW2_MAX_L1_BYTES)
		return vs_err_set(err, -EFBIG, "%s: L1 table too large (%u entries)", f,
				  q->l1_size);
	if (need > QCOW2_MAX_L1_BYTES / 8) /* qemu-img's words */
		return vs_err_set(err, -EFBIG, "%s: Image is too big", f);
	if (need > q->l1_size)
		return vs_err_set(err, -EINVAL, "%s: L1 table too small for the virtual size", f);
	if (q->l1_size &&
	    !extent_ok(q, q->l1_offset, l1_bytes, repair ? QCOW2_MAX_SIZE : file_size))
		return vs_err_set(err, -EINVAL, "%s: L1 table offset invalid or past EOF", f);
	if (q->l1_size && !extent_ok(q, q->l1_offset, l1_bytes, file_size)) {
		/* repair: the L1 reads as zeros; freeing its clusters as leaks
		 * while the header still points at it is for -r all only */
		q->open_fixes++;
		q->rebuild_only++;
	}
	if (rt_bytes > QCOW2_MAX_RT_BYTES || q->rt_clusters == 0)
		return vs_err_set(err, -EINVAL, "%s: invalid refcount table size", f);
	if (!extent_ok(q, q->rt_offset, rt_bytes, file_size))
		return vs_err_set(err, -EINVAL, "%s: refcount table offset invalid or past EOF", f);
	if (q->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
		return vs_err_set(err, -EINVAL, "%s: too many snapshots (%u)", f, q->nb_snapshots);
	/* QEMU checks the alignment even when there are no snapshots */
	if ((q->nb_snapshots && !extent_ok(q, q->snapshots_offset, 0, file_size)) ||
	    qcow2_offset_into_cluster(q, q->snapshots_offset))
		return vs_err_set(err, -EINVAL, "%s: Snapshot table offset invalid", f);
	return check_overlaps(q, l1_bytes, rt_bytes, err);
}
