/* Where an import's files come from. A tar (OCI archive, docker-archive) is
 * read once: every regular file is hashed as it is copied into the import's
 * work directory under its sha256 ("staged"), so blobs are checked without
 * a second read; symlinks and hard links between its files are remembered
 * by name. Names are only lookup keys here, never paths on disk. A layout
 * directory is read on demand, file by file, beneath it (no symlinks).
 *
 * Map: staging a stream | a tar's file table (scan, links) | lookups and
 * staging by name or digest | reading staged files | classifying a tar. */
#include "image/internal.h"
#include "image/archive-dl.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BUF (1u << 20)
#define MAX_LINKS 40

/* Copies from fd (or from archive a when fd < 0) into a new staged file,
 * hashing; renames it to its digest. */
static int stage_stream(struct imp_src *src, struct archive *a, int fd, char *digest,
			uint64_t *size, struct vs_err **err)
{
	_cleanup_free_ char *buf = xmalloc(COPY_BUF);
	_cleanup_close_ int out = openat(src->tmpfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	struct vs_sha256 *h = vs_sha256_new();
	char p[32];
	ssize_t n;

	*size = 0;
	if (out < 0)
		return vs_sha256_free(h), vs_err_setsys(err, -errno, "staging in %s", src->tmp);
	while ((n = a ? archive_read_data(a, buf, COPY_BUF) : read(fd, buf, COPY_BUF)) > 0) {
		vs_sha256_update(h, buf, (size_t)n);
		if (write(out, buf, (size_t)n) != n)
			return vs_sha256_free(h),
			       vs_err_setsys(err, -errno, "staging in %s", src->tmp);
		*size += (uint64_t)n;
		if (src->opts->progress && a && (*size >> 22) != ((*size - n) >> 22))
			src->opts->progress(src->opts->progress_ctx, "reading",
					    (uint64_t)archive_filter_bytes(a, -1), 0);
	}
	if (n < 0)
		return vs_sha256_free(h), vs_err_set(err, -EIO, "reading: %s",
						     a ? archive_error_string(a) : strerror(errno));
	vs_sha256_final(h, digest);
	if (linkat(AT_FDCWD, vs_fd_path(p, out), src->tmpfd, vs_digest_hex(digest),
		   AT_SYMLINK_FOLLOW) < 0 &&
	    errno != EEXIST)
		return vs_err_setsys(err, -errno, "staging %s", digest);
	return 0;
}

static struct imp_file *find(struct imp_src *src, const char *name)
{
	for (size_t i = 0; i < src->n_files; i++)
		if (strcmp(src->files[i].name, name) == 0)
			return &src->files[i];
	return NULL;
}

static struct imp_file *add_file(struct imp_src *src, char *name)
{
	struct imp_file *f = find(src, name);

	if (f) { /* a later entry of the same name replaces it, as tar does */
		free(f->name);
		free(f->link);
	} else {
		src->files = xrealloc(src->files, (src->n_files + 1) * sizeof(*f));
		f = &src->files[src->n_files++];
	}
	memset(f, 0, sizeof(*f));
	f->name = name;
	return f;
}

/* A link's target as an archive name: a symlink's relative to the link's
 * directory, ".." resolved lexically (names are keys here, not paths), NULL
 * when it climbs above the archive's top. */
static char *link_name(const char *name, const char *target, bool sym)
{
	const char *slash = strrchr(name, '/');
	_cleanup_free_ char *joined = NULL;
	char *out, *o, *save = NULL;

	if (sym && target[0] != '/' && slash)
		joined = xasprintf("%.*s/%s", (int)(slash - name), name, target);
	else
		joined = xstrdup(target);
	o = out = xzalloc(strlen(joined) + 1);
	for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (o == out) {
				free(out);
				return NULL;
			}
			while (o > out && *--o != '/')
				;
			*o = 0;
			continue;
		}
		o += sprintf(o, "%s%s", o == out ? "" : "/", c);
	}
	return out;
}

static int scan_entry(struct imp_src *src, struct archive *a, struct archive_entry *e,
		      struct vs_err **err)
{
	bool abs;
	char *name = vs_layer_path_clean(archive_entry_pathname(e) ?: "", &abs);
	const char *hl = archive_entry_hardlink(e);
	unsigned type = archive_entry_filetype(e);
	struct imp_file *f;

	if (!name)
		return 0; /* a name with "..": nothing any format looks up */
	if (!hl && type != AE_IFREG && type != AE_IFLNK) {
		free(name);
		return 0;
	}
	f = add_file(src, name);
	if (hl || type == AE_IFLNK) {
		f->link = link_name(name, hl ?: archive_entry_symlink(e) ?: "", !hl);
		return 0;
	}
	return stage_stream(src, a, -1, f->digest, &f->size, err);
}

int src_scan_tar(struct imp_src *src, const char *path, struct vs_err **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	uint64_t count = 0, max = src->opts->limits.max_entries ?: VS_IMAGE_MAX_ENTRIES;
	int r, rc = 0;

	if (!a)
		xoom();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_filename(a, path, COPY_BUF) != ARCHIVE_OK)
		rc = vs_err_set(err, -EINVAL, "%s: %s", path, archive_error_string(a));
	while (rc == 0 &&
	       ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN))
		rc = ++count > max ? vs_err_set(err, -EFBIG, "%s: more than %llu entries", path,
						(unsigned long long)max) :
				     scan_entry(src, a, e, err);
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = vs_err_set(err, -EINVAL, "%s: %s", path, archive_error_string(a));
	archive_read_free(a);
	return rc;
}

/* A tar's file by name, links followed (bounded). */
static struct imp_file *lookup(struct imp_src *src, const char *name)
{
	struct imp_file *f = find(src, name);

	for (int i = 0; f && f->link && i < MAX_LINKS; i++)
		f = find(src, f->link);
	return f && !f->link ? f : NULL;
}

static int stage_from_dir(struct imp_src *src, const char *name, char *digest, uint64_t *size,
			  struct vs_err **err)
{
	_cleanup_close_ int fd = vs_open_beneath(src->dirfd, name, O_RDONLY | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return vs_err_setsys(err, fd, "%s", name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return vs_err_set(err, -EINVAL, "%s: not a regular file", name);
	return stage_stream(src, NULL, fd, digest, size, err);
}

int src_stage(struct imp_src *src, const char *name, char *digest, uint64_t *size,
	      struct vs_err **err)
{
	struct imp_file *f;

	if (src->dirfd >= 0)
		return stage_from_dir(src, name, digest, size, err);
	if (!(f = lookup(src, name)))
		return vs_err_set(err, -ENOENT, "the archive has no file %s", name);
	memcpy(digest, f->digest, VS_DIGEST_LEN);
	*size = f->size;
	return 0;
}

int src_stage_blob(struct imp_src *src, const char *want, int64_t want_size, struct vs_err **err)
{
	_cleanup_free_ char *name = NULL;
	char got[VS_DIGEST_LEN];
	uint64_t size;
	int rc;

	if (!vs_digest_valid(want))
		return vs_err_set(err, -EINVAL, "unsupported or malformed digest '%.80s'", want);
	name = xasprintf("blobs/sha256/%s", vs_digest_hex(want));
	if ((rc = src_stage(src, name, got, &size, err)) < 0)
		return vs_err_wrap(err, rc, "blob %s", want);
	if (strcmp(got, want) != 0)
		return vs_err_set(err, -EINVAL, "blob %s is corrupt: its content hashes to %s",
				  want, got);
	if (want_size >= 0 && (uint64_t)want_size != size)
		return vs_err_set(err, -EINVAL, "blob %s is %llu bytes, its descriptor says %lld",
				  want, (unsigned long long)size, (long long)want_size);
	return 0;
}

int src_read(struct imp_src *src, const char *digest, char **buf, size_t *len, struct vs_err **err)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", src->tmp, vs_digest_hex(digest));
	uint8_t *b = NULL;
	int rc = vs_read_file(p, VS_IMAGE_MAX_META, &b, len);

	if (rc < 0)
		return vs_err_setsys(err, rc, "reading %s", digest);
	*buf = (char *)b;
	return 0;
}

int src_read_json(struct imp_src *src, const char *digest, json_t **out, struct vs_err **err)
{
	_cleanup_free_ char *buf = NULL;
	json_error_t je;
	size_t len;
	int rc;

	if ((rc = src_read(src, digest, &buf, &len, err)) < 0)
		return rc;
	*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return vs_err_set(err, -EINVAL, "%s: not JSON: %s", digest, je.text);
	return 0;
}

int src_put(struct imp_src *src, const void *buf, size_t len, char *digest, struct vs_err **err)
{
	struct vs_sha256 *h = vs_sha256_new();
	_cleanup_close_ int fd = -1;

	vs_sha256_update(h, buf, len);
	vs_sha256_final(h, digest);
	fd = openat(src->tmpfd, vs_digest_hex(digest), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return vs_err_setsys(err, -errno, "staging %s", digest);
	return 0;
}

void src_clear(struct imp_src *src)
{
	for (size_t i = 0; i < src->n_files; i++) {
		free(src->files[i].name);
		free(src->files[i].link);
	}
	free(src->files);
	src->files = NULL;
	src->n_files = 0;
	if (src->dirfd >= 0)
		close(src->dirfd);
	src->dirfd = -1;
}

static bool image_name(const char *n)
{
	size_t hex = strspn(n, "0123456789abcdef");

	return strcmp(n, "oci-layout") == 0 || strcmp(n, "index.json") == 0 ||
	       strcmp(n, "manifest.json") == 0 || strcmp(n, "repositories") == 0 ||
	       strcmp(n, "blobs") == 0 || strncmp(n, "blobs/", 6) == 0 ||
	       (hex == 64 && (n[64] == 0 || n[64] == '/' || n[64] == '.'));
}

int src_tar_is_image(const char *path, bool *image, struct vs_err **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r = ARCHIVE_FATAL, seen = 0;

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	*image = false;
	if (archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK)
		while (!*image && seen < 8 &&
		       ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)) {
			bool abs;
			_cleanup_free_ char *n =
				vs_layer_path_clean(archive_entry_pathname(e) ?: "", &abs);

			if (n && *n) {
				*image = image_name(n);
				seen++;
			}
		}
	if (seen == 0 && r != ARCHIVE_EOF) {
		r = vs_err_set(err, -EINVAL, "%s: not a tar archive (%s)", path,
			       archive_error_string(a) ?: "unreadable");
		archive_read_free(a);
		return r;
	}
	archive_read_free(a);
	return 0;
}

int src_stage_path(struct imp_src *src, const char *path, char *digest, uint64_t *size,
		   struct vs_err **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vs_err_setsys(err, -errno, "%s", path);
	return stage_stream(src, NULL, fd, digest, size, err);
}

const char *src_layer_media_type(struct imp_src *src, const char *digest)
{
	_cleanup_close_ int fd = openat(src->tmpfd, vs_digest_hex(digest), O_RDONLY | O_CLOEXEC);
	unsigned char m[4] = { 0 };

	if (fd < 0 || read(fd, m, sizeof(m)) != sizeof(m))
		return VS_MT_LAYER;
	if (m[0] == 0x1f && m[1] == 0x8b)
		return VS_MT_LAYER_GZ;
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return VS_MT_LAYER_ZST;
	return VS_MT_LAYER;
}
