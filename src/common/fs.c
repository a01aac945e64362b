/* Confined path resolution (openat2) and tree removal; see fs.h. Moved
 * from src/ctr/mount.c so that the image unpacker shares it. */
#include "common/fs.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* rm -rf refuses trees deeper than this rather than recursing further */
#define VS_FS_RM_MAX_DEPTH 512

int vs_exe_sibling(const char *name, char *self, size_t self_size, char *out, size_t out_size)
{
	ssize_t n = readlink("/proc/self/exe", self, self_size - 1);
	char *slash, *deleted;

	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	self[n] = 0;
	if ((deleted = strstr(self, " (deleted)")) && !deleted[10])
		*deleted = 0;
	if (!(slash = strrchr(self, '/')))
		return -ENOENT;
	if ((size_t)snprintf(out, out_size, "%.*s/%s", (int)(slash - self), self, name) >= out_size)
		return -ENAMETOOLONG;
	return access(out, X_OK) == 0 ? 0 : -errno;
}

const char *vs_fd_path(char *buf, int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

int vs_open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? 0644 : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static int mkdir_in_root_depth(int rootfd, const char *path, unsigned mode, int depth);

/* Makes the missing component at the end of p (whose parent exists). A
 * dangling symlink is followed: its target, taken inside the root, is
 * created instead (depth-limited against loops). */
static int mkdir_component(int rootfd, char *p, unsigned mode, int depth)
{
	char *last = strrchr(p, '/'), target[4096];
	const char *name = last ? last + 1 : p;
	_cleanup_close_ int parent = -1;
	_cleanup_free_ char *next = NULL;
	ssize_t n;

	if (last)
		*last = 0;
	parent = vs_open_in_root(rootfd, last ? (*p ? p : "/") : "/", O_PATH | O_DIRECTORY);
	if (last)
		*last = '/';
	if (parent < 0)
		return parent;
	if (mkdirat(parent, name, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	n = readlinkat(parent, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	if (depth > 40)
		return -ELOOP;
	target[n] = 0;
	if (target[0] == '/' || !last)
		next = xstrdup(target);
	else
		next = xasprintf("%.*s/%s", (int)(last - p), p, target);
	return mkdir_in_root_depth(rootfd, next, mode, depth + 1);
}

static int mkdir_in_root_depth(int rootfd, const char *path, unsigned mode, int depth)
{
	_cleanup_free_ char *p = xstrdup(path);
	char *s = p;

	for (;;) {
		char *slash;
		int fd, rc;

		while (*s == '/')
			s++;
		if (!*s)
			return 0;
		slash = strchr(s, '/');
		if (slash)
			*slash = 0;
		fd = vs_open_in_root(rootfd, p, O_PATH | O_DIRECTORY);
		if (fd == -ENOENT) {
			if ((rc = mkdir_component(rootfd, p, mode, depth)) < 0)
				return rc;
			fd = vs_open_in_root(rootfd, p, O_PATH | O_DIRECTORY);
		}
		if (fd < 0)
			return fd;
		close(fd);
		if (!slash)
			return 0;
		*slash = '/';
		s = slash + 1;
	}
}

int vs_mkdir_in_root(int rootfd, const char *path, unsigned mode)
{
	int fd = vs_open_in_root(rootfd, path, O_PATH | O_DIRECTORY);

	if (fd >= 0) { /* the common case: it is already there */
		close(fd);
		return 0;
	}
	return mkdir_in_root_depth(rootfd, path, mode, 0);
}

int vs_open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? 0600 : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!*path)
		path = ".";
	fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

int vs_mkdir_beneath(int dirfd, const char *path, unsigned mode)
{
	_cleanup_free_ char *p = xstrdup(path);
	int cur = vs_open_beneath(dirfd, ".", O_PATH | O_DIRECTORY);
	char *save = NULL;

	for (char *c = strtok_r(p, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
		int next;

		if (strcmp(c, ".") == 0)
			continue;
		if (mkdirat(cur, c, mode) < 0 && errno != EEXIST) {
			next = -errno;
		} else {
			next = vs_open_beneath(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW);
			if (next == -ENOTDIR || next == -ELOOP)
				next = -ENOTDIR;
		}
		close(cur);
		cur = next;
	}
	return cur;
}

static int rm_rf_depth(int dirfd, const char *name, int depth);

static int rm_children(int fd, int depth)
{
	struct dirent *de;
	DIR *d = fdopendir(fd);
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rc = rm_rf_depth(dirfd(d), de->d_name, depth + 1);
	if (rc == 0 && errno)
		rc = -errno;
	closedir(d);
	return rc;
}

static int rm_rf_depth(int dirfd, const char *name, int depth)
{
	int fd, rc;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > VS_FS_RM_MAX_DEPTH)
		return -ELOOP;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((rc = rm_children(fd, depth)) < 0)
		return rc;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int vs_rm_rf_at(int dirfd, const char *name)
{
	return rm_rf_depth(dirfd, name, 0);
}
