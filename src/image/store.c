/* The store's directory, its lock, index.json and the import work
 * directories (layout in image.h). */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"

const char *vs_image_default_root(void)
{
	const char *r = getenv("VESSEL_ROOT");

	return r && *r ? r : "/var/lib/vessel";
}

static int mkdir_p(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int write_layout(int dirfd)
{
	_cleanup_close_ int fd =
		openat(dirfd, "oci-layout", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	return write(fd, OCI_LAYOUT, strlen(OCI_LAYOUT)) < 0 ? -errno : 0;
}

int vs_image_store_open(const char *root, struct vs_image_store **out, struct vs_err **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/images", root);
	static const char *const subs[] = { "blobs/sha256", "layers", "tmp" };
	struct vs_image_store *s;
	int rc;

	for (size_t i = 0; i < VS_ARRAY_SIZE(subs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, subs[i]);

		if ((rc = mkdir_p(p)) < 0)
			return vs_err_setsys(err, rc, "creating %s", p);
	}
	s = xzalloc(sizeof(*s));
	s->lockfd = -1;
	s->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 || (rc = write_layout(s->dirfd)) < 0) {
		rc = s->dirfd < 0 ? -errno : rc;
		vs_image_store_free(s);
		return vs_err_setsys(err, rc, "opening %s", dir);
	}
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		rc = -errno;
		vs_image_store_free(s);
		return vs_err_setsys(err, rc, "opening %s/lock", dir);
	}
	s->dir = steal_ptr(dir);
	*out = s;
	return 0;
}

void vs_image_store_free(struct vs_image_store *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->dir);
	free(s);
}

static int lock_as(struct vs_image_store *s, int how, struct vs_err **err)
{
	while (flock(s->lockfd, how) < 0)
		if (errno != EINTR)
			return vs_err_setsys(err, -errno, "locking %s", s->dir);
	return 0;
}

int store_lock(struct vs_image_store *s, struct vs_err **err)
{
	return lock_as(s, LOCK_EX, err);
}

int store_lock_shared(struct vs_image_store *s, struct vs_err **err)
{
	return lock_as(s, LOCK_SH, err);
}

void store_unlock(struct vs_image_store *s)
{
	flock(s->lockfd, LOCK_UN);
}

char *store_blob_path(struct vs_image_store *s, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", s->dir, vs_digest_hex(digest));
}

char *store_layer_path(struct vs_image_store *s, const char *diff_id)
{
	return xasprintf("%s/layers/%s", s->dir, vs_digest_hex(diff_id));
}

/* One attempt: a fresh directory and its locked lock file. -EAGAIN when a
 * prune removed it between our mkdir and our flock (the lock file we hold
 * is no longer linked). */
static int tmp_try(struct vs_image_store *s, char **path, int *lockfd, struct vs_err **err)
{
	unsigned int r = 0;
	_cleanup_free_ char *p = NULL, *lk = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (getrandom(&r, sizeof(r), 0) < 0)
		r = (unsigned int)vs_now_ns();
	p = xasprintf("%s/tmp/%d-%08x", s->dir, (int)getpid(), r);
	if (mkdir(p, 0700) < 0)
		return vs_err_setsys(err, -errno, "creating %s", p);
	lk = xasprintf("%s/.lock", p);
	fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT)
		return -EAGAIN;
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
		int rc = -errno;

		rmdir(p);
		return vs_err_setsys(err, rc, "locking %s", p);
	}
	if (st.st_nlink == 0)
		return -EAGAIN;
	*lockfd = steal_fd(fd);
	*path = steal_ptr(p);
	return 0;
}

int store_tmp_new(struct vs_image_store *s, char **path, int *lockfd, struct vs_err **err)
{
	int rc;

	/* a prune only takes a directory whose lock it holds, so a few tries
	 * always win */
	for (int i = 0; i < 16; i++)
		if ((rc = tmp_try(s, path, lockfd, err)) != -EAGAIN)
			return rc;
	return vs_err_set(err, -EAGAIN,
			  "creating a work directory under %s/tmp: removed "
			  "by concurrent prunes 16 times",
			  s->dir);
}

static json_t *empty_index(void)
{
	return json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", VS_MT_INDEX,
			 "manifests");
}

int store_index_read(struct vs_image_store *s, json_t **out, struct vs_err **err)
{
	_cleanup_free_ char *p = xasprintf("%s/index.json", s->dir);
	json_error_t je;
	json_t *j;

	if (access(p, F_OK) < 0 && errno == ENOENT) {
		*out = empty_index();
		return 0;
	}
	j = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return vs_err_set(err, -EINVAL, "%s: %s", p, je.text);
	if (!json_is_array(json_object_get(j, "manifests"))) {
		json_decref(j);
		return vs_err_set(err, -EINVAL, "%s: no manifests array", p);
	}
	*out = j;
	return 0;
}

int store_index_write(struct vs_image_store *s, json_t *index, struct vs_err **err)
{
	_cleanup_free_ char *tmp = xasprintf("%s/index.json.tmp", s->dir);
	_cleanup_free_ char *dst = xasprintf("%s/index.json", s->dir);
	_cleanup_free_ char *text = json_dumps(index, JSON_INDENT(1) | JSON_SORT_KEYS);
	_cleanup_close_ int fd = -1;
	size_t len = text ? strlen(text) : 0;

	if (!text)
		xoom();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		return vs_err_setsys(err, -(errno ? errno : EIO), "writing %s", tmp);
	if (rename(tmp, dst) < 0)
		return vs_err_setsys(err, -errno, "renaming %s", tmp);
	return 0;
}

int store_blob_read(struct vs_image_store *s, const char *digest, char **buf, size_t *len,
		    struct vs_err **err)
{
	_cleanup_free_ char *p = store_blob_path(s, digest);
	uint8_t *b = NULL;
	int rc = vs_read_file(p, VS_IMAGE_MAX_META, &b, len);

	if (rc < 0)
		return vs_err_setsys(err, rc, "reading blob %s", digest);
	*buf = (char *)b;
	return 0;
}
