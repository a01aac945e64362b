/* vs_image_export: an image as an OCI archive (a tar of an OCI layout with
 * one manifest), written with libarchive to "<path>.tmp-<pid>" and renamed
 * over path when complete. The blobs go out as they are stored, so their
 * digests are the ones imported. */
#include "image/internal.h"
#include "image/archive-dl.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPORT_BUF (1u << 20)

static int put_header(struct archive *a, const char *name, mode_t type, uint64_t size)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, time(NULL), 0);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : -EIO;
}

static int put_buf(struct archive *a, const char *name, const char *buf, size_t len)
{
	if (put_header(a, name, AE_IFREG, len) < 0)
		return -EIO;
	return archive_write_data(a, buf, len) == (la_ssize_t)len ? 0 : -EIO;
}

static int put_blob(struct vs_image_store *s, struct archive *a, const char *digest)
{
	_cleanup_free_ char *p = store_blob_path(s, digest);
	_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", vs_digest_hex(digest));
	_cleanup_free_ char *buf = xmalloc(EXPORT_BUF);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (put_header(a, name, AE_IFREG, (uint64_t)st.st_size) < 0)
		return -EIO;
	while ((n = read(fd, buf, EXPORT_BUF)) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			return -EIO;
	return n < 0 ? -errno : 0;
}

static char *index_text(struct vs_image_store *s, const struct vs_image_info *img)
{
	_cleanup_free_ char *p = store_blob_path(s, img->digest);
	struct stat st;
	json_t *j;
	char *t;

	if (stat(p, &st) < 0)
		return NULL;
	j = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2, "mediaType",
		      VS_MT_INDEX, "manifests", "mediaType", img->media_type, "digest", img->digest,
		      "size", (json_int_t)st.st_size, "annotations", VS_REF_NAME, img->name);
	t = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return t;
}

static int write_all(struct vs_image_store *s, struct archive *a, const struct vs_image_info *img)
{
	_cleanup_free_ char *index = index_text(s, img);
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int rc;

	if (!index)
		return -ENOENT;
	if ((rc = put_buf(a, "oci-layout", layout, strlen(layout))) < 0 ||
	    (rc = put_header(a, "blobs/", AE_IFDIR, 0)) < 0 ||
	    (rc = put_header(a, "blobs/sha256/", AE_IFDIR, 0)) < 0 ||
	    (rc = put_blob(s, a, img->digest)) < 0 || (rc = put_blob(s, a, img->config_digest)) < 0)
		return rc;
	for (size_t l = 0; l < img->n_layers; l++) {
		bool dup = false;

		for (size_t k = 0; k < l; k++)
			dup |= strcmp(img->layers[k].digest, img->layers[l].digest) == 0;
		if (!dup && (rc = put_blob(s, a, img->layers[l].digest)) < 0)
			return rc;
	}
	if ((rc = put_buf(a, "index.json", index, strlen(index))) < 0)
		return rc;
	return archive_write_close(a) == ARCHIVE_OK ? 0 : -EIO;
}

/* Writes img to tmp, then renames it to path. Under the shared lock. */
static int write_archive(struct vs_image_store *s, const struct vs_image_info *img,
			 const char *path, const char *tmp, struct vs_err **err)
{
	struct archive *a = archive_write_new();
	int rc;

	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		rc = vs_err_set(err, -EIO, "%s: %s", tmp, archive_error_string(a));
		archive_write_free(a);
		return rc;
	}
	rc = write_all(s, a, img);
	if (rc < 0)
		vs_err_set(err, rc, "exporting %s to %s: %s", img->name, path,
			   archive_error_string(a) ?: strerror(-rc));
	archive_write_free(a);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = vs_err_setsys(err, -errno, "renaming %s", tmp);
	return rc;
}

int vs_image_export(struct vs_image_store *s, const char *ref, const char *path,
		    struct vs_err **err)
{
	_cleanup_(vs_image_info_clear) struct vs_image_info img = { 0 };
	_cleanup_free_ char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
	int rc;

	if ((rc = store_lock_shared(s, err)) < 0)
		return rc;
	rc = store_inspect_locked(s, ref, &img, err);
	if (rc == 0)
		rc = write_archive(s, &img, path, tmp, err);
	store_unlock(s);
	if (rc < 0)
		unlink(tmp);
	return rc;
}
