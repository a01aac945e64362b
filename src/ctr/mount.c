/* Mount options, resolution inside the rootfs, and one mount of the list.
 *
 * Map: options | openat2 resolution | mount_entry (bind, filesystems,
 * cgroup). */
#include "ctr/mount.h"
#include "ctr/cgroup.h"
#include "ctr/cgroup-internal.h"
#include "ctr/spec.h"
#include "ctr/sys.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

static const struct {
	const char *name;
	unsigned long flag;
} prop_flags[] = {
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static bool apply_flag(const char *o, struct vs_mount_opts *out)
{
	for (size_t k = 0; k < VS_ARRAY_SIZE(mount_flags); k++) {
		if (strcmp(o, mount_flags[k].name) != 0)
			continue;
		if (mount_flags[k].clear)
			out->flags &= ~mount_flags[k].flag;
		else
			out->flags |= mount_flags[k].flag;
		return true;
	}
	for (size_t k = 0; k < VS_ARRAY_SIZE(prop_flags); k++) {
		if (strcmp(o, prop_flags[k].name) == 0) {
			out->prop = prop_flags[k].flag;
			return true;
		}
	}
	/* options that only other runtimes act on */
	return strcmp(o, "tmpcopyup") == 0 || strcmp(o, "rro") == 0 || strcmp(o, "idmap") == 0;
}

void vs_mount_parse_options(const struct vs_strv *opts, struct vs_mount_opts *out)
{
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < opts->n; i++) {
		const char *o = opts->v[i];

		if (apply_flag(o, out))
			continue;
		out->data = xrealloc(out->data, len + strlen(o) + 2);
		if (len)
			out->data[len++] = ',';
		strcpy(out->data + len, o);
		len += strlen(o);
	}
	out->bind = out->flags & MS_BIND;
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

/* Creates the mount point: a directory, or an empty file when a bind
 * source is not a directory. */
static int make_target(int rootfd, const char *dest, bool file)
{
	_cleanup_free_ char *parent = xstrdup(dest);
	char *slash = strrchr(parent, '/');
	int rc, fd;

	if (!file)
		return vs_mkdir_in_root(rootfd, dest, 0755);
	*slash = 0;
	if ((rc = vs_mkdir_in_root(rootfd, *parent ? parent : "/", 0755)) < 0)
		return rc;
	fd = vs_open_in_root(rootfd, dest, O_RDONLY | O_CREAT | O_NOCTTY);
	if (fd == -EISDIR || fd == -ENXIO || fd == -EACCES)
		return 0; /* exists as a dir/device/unreadable: mount will say */
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int remount_flags(int fd, unsigned long flags)
{
	struct statvfs sv;
	char p[32];
	unsigned long keep = 0;

	/* A remount must repeat the locked flags or the kernel refuses it. */
	if (fstatvfs(fd, &sv) == 0)
		keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME |
				    ST_RELATIME);
	keep = ((keep & ST_NOSUID) ? MS_NOSUID : 0) | ((keep & ST_NODEV) ? MS_NODEV : 0) |
	       ((keep & ST_NOEXEC) ? MS_NOEXEC : 0) | ((keep & ST_NOATIME) ? MS_NOATIME : 0) |
	       ((keep & ST_NODIRATIME) ? MS_NODIRATIME : 0) |
	       ((keep & ST_RELATIME) ? MS_RELATIME : 0);
	if (vs_ctr_sys->mount(NULL, vs_fd_path(p, fd), NULL, MS_BIND | MS_REMOUNT | keep | flags,
			      NULL) < 0)
		return -errno;
	return 0;
}

static int do_bind(int rootfd, const struct vs_spec_mount *m, const struct vs_mount_opts *o,
		   struct vs_err **err)
{
	struct stat sb;
	_cleanup_close_ int fd = -1;
	char p[32];
	int rc;

	if (!m->source || stat(m->source, &sb) < 0)
		return vs_err_setsys(err, m->source ? -errno : -EINVAL, "bind mount source %s",
				     m->source ? m->source : "(none)");
	if ((rc = make_target(rootfd, m->destination, !S_ISDIR(sb.st_mode))) < 0)
		return vs_err_setsys(err, rc, "creating mount point %s", m->destination);
	fd = vs_open_in_root(rootfd, m->destination, O_PATH);
	if (fd < 0)
		return vs_err_setsys(err, fd, "resolving %s in rootfs", m->destination);
	if (vs_ctr_sys->mount(m->source, vs_fd_path(p, fd), NULL, MS_BIND | (o->flags & MS_REC),
			      NULL) < 0)
		return vs_err_setsys(err, -errno, "bind mount %s on %s", m->source, m->destination);
	close(fd);
	fd = vs_open_in_root(rootfd, m->destination, O_PATH); /* now the mount's root */
	if (fd < 0)
		return vs_err_setsys(err, fd, "reopening %s", m->destination);
	if ((o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) &&
	    (rc = remount_flags(fd, o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT))) < 0)
		return vs_err_setsys(err, rc, "remounting %s", m->destination);
	if (o->prop && vs_ctr_sys->mount(NULL, vs_fd_path(p, fd), NULL, o->prop, NULL) < 0)
		return vs_err_setsys(err, -errno, "setting propagation of %s", m->destination);
	return 0;
}

static int mount_fs(int rootfd, const char *dest, const char *type, const char *src,
		    const struct vs_mount_opts *o, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	char p[32];
	int rc;

	if ((rc = make_target(rootfd, dest, false)) < 0)
		return vs_err_setsys(err, rc, "creating mount point %s", dest);
	fd = vs_open_in_root(rootfd, dest, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return vs_err_setsys(err, fd, "resolving %s in rootfs", dest);
	rc = vs_ctr_sys->mount(src, vs_fd_path(p, fd), type, o->flags, o->data);
	if (rc < 0 && errno == EPERM && strcmp(type, "sysfs") == 0)
		/* sysfs needs a network namespace we own; runc falls back too */
		rc = vs_ctr_sys->mount("/sys", p, NULL, MS_BIND | MS_REC, NULL);
	if (rc < 0)
		return vs_err_setsys(err, -errno, "mount %s (%s) on %s", src, type, dest);
	if (o->prop) {
		close(fd);
		fd = vs_open_in_root(rootfd, dest, O_PATH);
		if (fd < 0 || vs_ctr_sys->mount(NULL, vs_fd_path(p, fd), NULL, o->prop, NULL) < 0)
			return vs_err_setsys(err, fd < 0 ? fd : -errno, "setting propagation of %s",
					     dest);
	}
	return 0;
}

/* "cgroup" mounts: cgroup2 on a v2 host; otherwise a tmpfs with the
 * container's own cgroup of each v1 hierarchy bound under its name. */
static int do_cgroup(int rootfd, const struct vs_spec_mount *m, const struct vs_mount_opts *o,
		     const char *cgroup_path, struct vs_err **err);

int vs_mount_entry(int rootfd, const struct vs_spec_mount *m, const char *cgroup_path,
		   struct vs_err **err)
{
	struct vs_mount_opts o;
	int rc;

	vs_mount_parse_options(&m->options, &o);
	if (o.bind || (m->type && strcmp(m->type, "bind") == 0))
		rc = do_bind(rootfd, m, &o, err);
	else if (m->type && strcmp(m->type, "cgroup") == 0)
		rc = do_cgroup(rootfd, m, &o, cgroup_path, err);
	else if (!m->type)
		rc = vs_err_set(err, -EINVAL, "mount %s: no type", m->destination);
	else
		rc = mount_fs(rootfd, m->destination, m->type, m->source ? m->source : m->type, &o,
			      err);
	free(o.data);
	return rc;
}

/* Binds the container's own cgroup of each v1 hierarchy at <dest>/<name>. */
static int bind_v1_hierarchies(int rootfd, const char *dest, const char *cgroup_path,
			       unsigned long flags, struct vs_err **err)
{
	struct vs_cgroup *cg = NULL;
	int rc = vs_cgroup_open(VS_CGROUP_FSROOT, cgroup_path, &cg, err);

	for (size_t i = 0; rc == 0 && i < cg->n; i++) {
		struct vs_spec_mount b = {.destination = xasprintf("%s/%s", dest, cg->h[i].name),
					  .source = cg->h[i].dir};
		struct vs_mount_opts bo = {.flags = MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC |
						    (flags & MS_RDONLY),
					   .bind = true};

		rc = do_bind(rootfd, &b, &bo, err);
		free(b.destination);
	}
	vs_cgroup_free(cg);
	return rc;
}

static int do_cgroup(int rootfd, const struct vs_spec_mount *m, const struct vs_mount_opts *o,
		     const char *cgroup_path, struct vs_err **err)
{
	struct vs_mount_opts t = {.flags =
				      (o->flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC};
	char data[] = "mode=755";
	_cleanup_close_ int fd = -1;
	int rc;

	if (access(VS_CGROUP_FSROOT "/cgroup.controllers", F_OK) == 0)
		return mount_fs(rootfd, m->destination, "cgroup2", "cgroup2", o, err);
	t.data = data;
	if ((rc = mount_fs(rootfd, m->destination, "tmpfs", "tmpfs", &t, err)) < 0)
		return rc;
	if (cgroup_path &&
	    (rc = bind_v1_hierarchies(rootfd, m->destination, cgroup_path, o->flags, err)) < 0)
		return rc;
	if (!(o->flags & MS_RDONLY))
		return 0;
	fd = vs_open_in_root(rootfd, m->destination, O_PATH);
	if (fd < 0 || (rc = remount_flags(fd, MS_RDONLY)) < 0)
		return vs_err_setsys(err, fd < 0 ? fd : rc, "remounting %s", m->destination);
	return 0;
}
