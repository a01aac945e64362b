/* Layer unpacking, the stream half: two libarchive readers stacked. The
 * outer one ("raw" format, every compression filter) decompresses the blob;
 * the inner one reads the tar from what the outer yields, through
 * pull_decompressed(), which hashes the decompressed bytes (the diff_id,
 * image-spec config.md "rootfs") and enforces the limits against
 * decompression bombs:
 *   - max_bytes decompressed bytes per layer (default 64 GiB);
 *   - past 256 MiB, at most max_ratio decompressed bytes per compressed byte
 *     (default 4096: gzip cannot exceed ~1032, real zstd layers stay far below);
 *   - max_entries tar entries (default 2^20).
 * What each entry becomes is unpack-entry.c's business. */
#include "image/internal.h"
#include "image/archive-dl.h"
#include "image/unpack.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

#define UNPACK_BUF (256u << 10)
#define RATIO_FLOOR (256ULL << 20)

static const char *pull_bomb(struct unpack_ctx *u)
{
	uint64_t in = (uint64_t)archive_filter_bytes(u->outer, -1);

	if (u->bytes > u->lim.max_bytes)
		return "more than the decompressed size limit";
	if (u->bytes > RATIO_FLOOR && in && u->bytes / in > u->lim.max_ratio)
		return "a decompression ratio past the limit";
	return NULL;
}

static la_ssize_t pull_decompressed(struct archive *inner, void *ctx, const void **buf)
{
	struct unpack_ctx *u = ctx;
	la_ssize_t n;

	if (u->eof)
		return 0;
	n = archive_read_data(u->outer, u->buf, UNPACK_BUF);
	if (n < 0) {
		archive_set_error(inner, EINVAL, "%s", archive_error_string(u->outer));
		return -1;
	}
	if (n == 0)
		u->eof = true;
	u->bytes += (uint64_t)n;
	if ((u->bomb = pull_bomb(u))) {
		archive_set_error(inner, EFBIG, "layer stops: %s", u->bomb);
		return -1;
	}
	vs_sha256_update(u->hash, u->buf, (size_t)n);
	if (u->progress && (u->bytes >> 22) != ((u->bytes - n) >> 22))
		u->progress(u->pctx, "unpacking", (uint64_t)archive_filter_bytes(u->outer, -1),
			    u->total);
	*buf = u->buf;
	return n;
}

static int open_outer(struct unpack_ctx *u, int blobfd, struct vs_err **err)
{
	struct archive_entry *e;

	u->outer = archive_read_new();
	if (!u->outer)
		xoom();
	archive_read_support_filter_all(u->outer);
	archive_read_support_format_raw(u->outer);
	if (archive_read_open_fd(u->outer, blobfd, UNPACK_BUF) != ARCHIVE_OK ||
	    archive_read_next_header(u->outer, &e) != ARCHIVE_OK)
		return vs_err_set(err, -EINVAL, "%s", archive_error_string(u->outer));
	return 0;
}

/* The tar's end: what follows the end-of-archive blocks still counts in
 * the diff_id (it is the digest of the whole uncompressed stream). */
static int drain(struct unpack_ctx *u, struct vs_err **err)
{
	const void *b;

	while (pull_decompressed(u->inner, u, &b) > 0)
		;
	if (u->bomb)
		return vs_err_set(err, -EFBIG, "refused: %s", u->bomb);
	if (!u->eof)
		return vs_err_set(err, -EINVAL, "%s", archive_error_string(u->inner));
	return 0;
}

static int read_entries(struct unpack_ctx *u, struct vs_err **err)
{
	struct archive_entry *e;
	int r, rc;

	while ((r = archive_read_next_header(u->inner, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (++u->entries > u->lim.max_entries)
			return vs_err_set(err, -EFBIG, "refused: more than %llu entries",
					  (unsigned long long)u->lim.max_entries);
		if (u->layer < 0)
			continue; /* hashing only: the next header skips the data */
		if ((rc = unpack_entry(u, e, err)) < 0)
			return rc;
	}
	if (r != ARCHIVE_EOF) {
		if (u->bomb)
			return vs_err_set(err, -EFBIG, "refused: %s", u->bomb);
		return vs_err_set(err, -EINVAL, "%s",
				  archive_error_string(u->inner) ?: "unreadable tar");
	}
	return drain(u, err);
}

static void limits_default(struct vs_image_limits *l, const struct vs_image_limits *in)
{
	*l = in ? *in : (struct vs_image_limits){ 0 };
	if (!l->max_entries)
		l->max_entries = VS_IMAGE_MAX_ENTRIES;
	if (!l->max_bytes)
		l->max_bytes = VS_IMAGE_MAX_BYTES;
	if (!l->max_ratio)
		l->max_ratio = VS_IMAGE_MAX_RATIO;
}

int vs_layer_unpack(int blobfd, int dirfd, const struct vs_image_limits *lim,
		    vs_image_progress_fn *progress, void *pctx, struct vs_unpack_stats *st,
		    struct vs_err **err)
{
	struct unpack_ctx u = { .layer = dirfd, .progress = progress, .pctx = pctx };
	off_t end = lseek(blobfd, 0, SEEK_END);
	int rc;

	limits_default(&u.lim, lim);
	u.total = end > 0 ? (uint64_t)end : 0;
	lseek(blobfd, 0, SEEK_SET);
	u.buf = xmalloc(UNPACK_BUF);
	u.hash = vs_sha256_new();
	rc = open_outer(&u, blobfd, err);
	if (rc == 0) {
		u.inner = archive_read_new();
		archive_read_support_format_tar(u.inner);
		archive_read_support_format_gnutar(u.inner);
		if (archive_read_open(u.inner, &u, NULL, pull_decompressed, NULL) != ARCHIVE_OK)
			rc = vs_err_set(err, -EINVAL, "%s",
					u.bomb ? u.bomb : archive_error_string(u.inner));
		else
			rc = read_entries(&u, err);
	}
	if (rc == 0) {
		st->entries = u.entries;
		st->bytes = u.bytes;
		vs_sha256_final(steal_ptr(u.hash), st->diff_id);
	}
	vs_sha256_free(u.hash);
	archive_read_free(u.inner);
	archive_read_free(u.outer);
	free(u.buf);
	return rc;
}
