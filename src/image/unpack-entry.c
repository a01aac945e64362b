/* One tar entry onto a layer directory (image-spec layer.md):
 * - names are cleaned ("./" and "." dropped); absolute paths and ".."
 *   components are refused, and so is any path whose directories are not
 *   real directories of this layer (a symlink on the way: every lookup is
 *   openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
 * - ".wh.NAME" becomes an OverlayFS whiteout (a 0:0 character device NAME),
 *   ".wh..wh..opq" the opaque xattr on its directory; other ".wh..wh."
 *   names (aufs bookkeeping) are skipped;
 * - hard links must name an entry already in this layer;
 * - owner, mode (set after chown, which clears set-id bits), mtime and
 *   xattrs are kept, except trusted.overlay.* from the tarball, which would
 *   let a layer forge overlay metadata (dropped).
 * A directory's mtime is the tarball's at its entry; entries added under it
 * later move it (as with tar without --delay-directory-restore). */
#include "image/internal.h"
#include "image/archive-dl.h"
#include "image/unpack.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OVL_OPAQUE "trusted.overlay.opaque"

char *vs_layer_path_clean(const char *p, bool *abs)
{
	size_t n = strlen(p);
	char *out = xmalloc(n + 1), *o = out;

	*abs = p[0] == '/';
	if (n >= PATH_MAX) {
		free(out);
		return NULL;
	}
	while (*p) {
		const char *c = p;
		size_t len;

		while (*c == '/')
			c++;
		len = strcspn(c, "/");
		p = c + len;
		if (len == 0 || (len == 1 && c[0] == '.'))
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			free(out);
			return NULL;
		}
		if (o != out)
			*o++ = '/';
		memcpy(o, c, len);
		o += len;
	}
	*o = 0;
	return out;
}

/* The entry's name for a message: one line, bounded. */
static const char *shown(const char *raw, char *buf, size_t len)
{
	size_t i = 0;

	for (; raw && raw[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)raw[i] < 0x20 ? '?' : raw[i];
	buf[i] = 0;
	return buf;
}

static int set_xattrs(int pfd, const char *base, struct archive_entry *e, bool lnk)
{
	char path[64 + NAME_MAX];
	const char *name;
	const void *val;
	size_t size;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pfd, base);
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (strncmp(name, "trusted.overlay.", 16) == 0)
			continue;
		if (lsetxattr(path, name, val, size, 0) < 0 && errno != ENOTSUP &&
		    !(lnk && errno == EPERM))
			return -errno;
	}
	return 0;
}

static int set_meta(int pfd, const char *base, int fd, struct archive_entry *e)
{
	bool lnk = archive_entry_filetype(e) == AE_IFLNK;
	uid_t uid = (uid_t)archive_entry_uid(e);
	gid_t gid = (gid_t)archive_entry_gid(e);
	mode_t mode = archive_entry_perm(e) & 07777;
	struct timespec t[2] = {
		{ archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
		{ archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
	};
	int rc;

	/* unprivileged, files stay ours (a rootless store); as root, a failed chown is an error */
	if ((fd >= 0 ? fchown(fd, uid, gid) : fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW)) &&
	    (errno != EPERM || geteuid() == 0))
		return -errno;
	if ((rc = set_xattrs(pfd, base, e, lnk)) < 0)
		return rc;
	if (!lnk && (fd >= 0 ? fchmod(fd, mode) : fchmodat(pfd, base, mode, 0)) < 0)
		return -errno;
	if (!archive_entry_mtime_is_set(e))
		return 0;
	if (archive_entry_atime_is_set(e))
		t[0] = (struct timespec){ archive_entry_atime(e), archive_entry_atime_nsec(e) };
	if (fd >= 0)
		return futimens(fd, t) < 0 ? -errno : 0;
	return utimensat(pfd, base, t, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int write_file(struct unpack_ctx *u, int pfd, const char *base, struct archive_entry *e)
{
	_cleanup_close_ int fd = -1;
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while ((r = archive_read_data_block(u->inner, &buf, &size, &off)) == ARCHIVE_OK) {
		for (size_t done = 0; done < size;) {
			ssize_t n = pwrite(fd, (const char *)buf + done, size - done, off + done);

			if (n < 0)
				return -errno;
			done += (size_t)n;
		}
	}
	if (r != ARCHIVE_EOF)
		return -EIO;
	if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
		return -errno;
	return set_meta(pfd, base, fd, e);
}

static int make_node(struct unpack_ctx *u, int pfd, const char *base, struct archive_entry *e)
{
	unsigned type = archive_entry_filetype(e);
	struct stat st;
	int rc = 0;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(type == AE_IFDIR && S_ISDIR(st.st_mode)) && (rc = vs_rm_rf_at(pfd, base)) < 0)
		return rc;
	switch (type) {
	case AE_IFREG:
		return write_file(u, pfd, base, e);
	case AE_IFDIR:
		rc = mkdirat(pfd, base, 0700) < 0 && errno != EEXIST ? -errno : 0;
		break;
	case AE_IFLNK:
		rc = symlinkat(archive_entry_symlink(e) ?: "", pfd, base) < 0 ? -errno : 0;
		break;
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		rc = mknodat(pfd, base, type | 0600, archive_entry_rdev(e)) < 0 ? -errno : 0;
		break;
	default: /* sockets and the unknown: nothing a layer needs */
		return 0;
	}
	return rc < 0 ? rc : set_meta(pfd, base, -1, e);
}

/* Splits path into its parent (in place) and returns the last component. */
static const char *split(char *path, const char **parent)
{
	char *slash = strrchr(path, '/');

	if (!slash) {
		*parent = "";
		return path;
	}
	*slash = 0;
	*parent = path;
	return slash + 1;
}

static int hard_link(struct unpack_ctx *u, int pfd, const char *base, const char *raw,
		     const char *target, struct vs_err **err)
{
	char b1[256], b2[256];
	bool abs;
	_cleanup_free_ char *t = vs_layer_path_clean(target, &abs);
	_cleanup_close_ int tpfd = -1;
	const char *tparent, *tbase;

	if (!t || abs || !*t)
		return vs_err_set(err, -EINVAL, "refused: hard link '%s' to '%s' outside the layer",
				  shown(raw, b1, sizeof(b1)), shown(target, b2, sizeof(b2)));
	tbase = split(t, &tparent);
	tpfd = vs_open_beneath(u->layer, tparent, O_PATH | O_DIRECTORY);
	if (tpfd >= 0 && vs_rm_rf_at(pfd, base) == 0 && linkat(tpfd, tbase, pfd, base, 0) == 0)
		return 0;
	return vs_err_set(err, -EINVAL,
			  "refused: hard link '%s' to '%s', not an entry of the layer",
			  shown(raw, b1, sizeof(b1)), shown(target, b2, sizeof(b2)));
}

static int whiteout(int pfd, const char *name, const char *raw, struct vs_err **err)
{
	char b[256];
	int rc;

	if (strcmp(name, WH_OPAQUE) == 0) {
		char p[32];

		if (setxattr(vs_fd_path(p, pfd), OVL_OPAQUE, "y", 1, 0) < 0)
			return vs_err_setsys(err, -errno, "opaque directory '%s'",
					     shown(raw, b, sizeof(b)));
		return 0;
	}
	if (strncmp(name, WH_META, strlen(WH_META)) == 0)
		return 0;
	name += strlen(WH_PREFIX);
	if (!*name)
		return vs_err_set(err, -EINVAL, "refused: empty whiteout '%s'",
				  shown(raw, b, sizeof(b)));
	if ((rc = vs_rm_rf_at(pfd, name)) < 0 || mknodat(pfd, name, S_IFCHR, makedev(0, 0)) < 0 ||
	    fchownat(pfd, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
		return vs_err_setsys(err, rc < 0 ? rc : -errno, "whiteout '%s'",
				     shown(raw, b, sizeof(b)));
	return 0;
}

int unpack_entry(struct unpack_ctx *u, struct archive_entry *e, struct vs_err **err)
{
	const char *raw = archive_entry_pathname(e), *parent, *base, *hl;
	char b[256];
	bool abs = false;
	_cleanup_free_ char *path = raw ? vs_layer_path_clean(raw, &abs) : NULL;
	_cleanup_close_ int pfd = -1;
	int rc;

	if (!path)
		return vs_err_set(err, -EINVAL,
				  "refused: entry '%s' has a '..' component or no name",
				  shown(raw, b, sizeof(b)));
	if (abs)
		return vs_err_set(err, -EINVAL, "refused: entry '%s' is an absolute path",
				  shown(raw, b, sizeof(b)));
	if (!*path)
		return 0; /* "./": the layer's root itself */
	base = split(path, &parent);
	pfd = vs_mkdir_beneath(u->layer, parent, 0755);
	if (pfd == -ENOTDIR || pfd == -ELOOP || pfd == -EXDEV)
		return vs_err_set(err, -EINVAL,
				  "refused: entry '%s' goes through a symlink or a non-directory",
				  shown(raw, b, sizeof(b)));
	if (pfd < 0)
		return vs_err_setsys(err, pfd, "entry '%s'", shown(raw, b, sizeof(b)));
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
		return whiteout(pfd, base, raw, err);
	if ((hl = archive_entry_hardlink(e)))
		return hard_link(u, pfd, base, raw, hl, err);
	if ((rc = make_node(u, pfd, base, e)) == 0)
		return 0;
	if (u->bomb)
		return vs_err_set(err, -EFBIG, "refused: %s", u->bomb);
	if (rc == -EIO)
		return vs_err_set(err, rc, "entry '%s': %s", shown(raw, b, sizeof(b)),
				  archive_error_string(u->inner) ?: "unreadable data");
	return vs_err_setsys(err, rc, "entry '%s'", shown(raw, b, sizeof(b)));
	return 0;
}
