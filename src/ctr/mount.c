/* Mount options, resolution inside the rootfs, and one mount of the list.
 *
 * Map: options (MS_* flags, propagation, runc's recursive attributes) |
 * openat2 resolution | bind (idmapped: helper user namespace, open_tree) |
 * filesystems | tmpcopyup (copy of the covered directory) | recursive
 * attributes (mount_setattr) | mount_entry | cgroup. */
#include "ctr/mount.h"
#include "ctr/cgroup.h"
#include "ctr/ns.h"
#include "ctr/spec.h"
#include "ctr/sys.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/err.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* tmpcopyup: deeper directory trees are refused rather than recursed into */
#define VS_COPYUP_MAX_DEPTH 128

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{ "acl", false, MS_POSIXACL },
	{ "async", true, MS_SYNCHRONOUS },
	{ "atime", true, MS_NOATIME },
	{ "bind", false, MS_BIND },
	{ "defaults", false, 0 },
	{ "dev", true, MS_NODEV },
	{ "diratime", true, MS_NODIRATIME },
	{ "dirsync", false, MS_DIRSYNC },
	{ "exec", true, MS_NOEXEC },
	{ "iversion", false, MS_I_VERSION },
	{ "lazytime", false, MS_LAZYTIME },
	{ "loud", true, MS_SILENT },
	{ "mand", false, MS_MANDLOCK },
	{ "noacl", true, MS_POSIXACL },
	{ "noatime", false, MS_NOATIME },
	{ "nodev", false, MS_NODEV },
	{ "nodiratime", false, MS_NODIRATIME },
	{ "noexec", false, MS_NOEXEC },
	{ "noiversion", true, MS_I_VERSION },
	{ "nolazytime", true, MS_LAZYTIME },
	{ "nomand", true, MS_MANDLOCK },
	{ "norelatime", true, MS_RELATIME },
	{ "nostrictatime", true, MS_STRICTATIME },
	{ "nosuid", false, MS_NOSUID },
	{ "nosymfollow", false, MS_NOSYMFOLLOW },
	{ "rbind", false, MS_BIND | MS_REC },
	{ "relatime", false, MS_RELATIME },
	{ "remount", false, MS_REMOUNT },
	{ "ro", false, MS_RDONLY },
	{ "rw", true, MS_RDONLY },
	{ "silent", false, MS_SILENT },
	{ "strictatime", false, MS_STRICTATIME },
	{ "suid", true, MS_NOSUID },
	{ "symfollow", true, MS_NOSYMFOLLOW },
	{ "sync", false, MS_SYNCHRONOUS },
};

static const struct {
	const char *name;
	unsigned long flag;
} prop_flags[] = {
	{ "private", MS_PRIVATE },	 { "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED },	 { "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE },		 { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* runc 1.1's recAttrFlags (libcontainer/specconv): applied to the whole
 * tree with mount_setattr(2) AT_RECURSIVE once the mount is made. */
static const struct {
	const char *name;
	bool clear;
	uint64_t attr;
} rec_attrs[] = {
	{ "rro", false, MOUNT_ATTR_RDONLY },
	{ "rrw", true, MOUNT_ATTR_RDONLY },
	{ "rnosuid", false, MOUNT_ATTR_NOSUID },
	{ "rsuid", true, MOUNT_ATTR_NOSUID },
	{ "rnodev", false, MOUNT_ATTR_NODEV },
	{ "rdev", true, MOUNT_ATTR_NODEV },
	{ "rnoexec", false, MOUNT_ATTR_NOEXEC },
	{ "rexec", true, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
	{ "rdiratime", true, MOUNT_ATTR_NODIRATIME },
	{ "rrelatime", false, MOUNT_ATTR_RELATIME },
	{ "rnorelatime", true, MOUNT_ATTR_RELATIME },
	{ "rnoatime", false, MOUNT_ATTR_NOATIME },
	{ "ratime", true, MOUNT_ATTR_NOATIME },
	{ "rstrictatime", false, MOUNT_ATTR_STRICTATIME },
	{ "rnostrictatime", true, MOUNT_ATTR_STRICTATIME },
	{ "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

size_t vs_mount_option_names(const char **out, size_t max)
{
	static const char *const special[] = { "tmpcopyup", "idmap", "ridmap" };
	size_t n = 0;

	for (size_t k = 0; k < VS_ARRAY_SIZE(mount_flags) && n < max; k++)
		out[n++] = mount_flags[k].name;
	for (size_t k = 0; k < VS_ARRAY_SIZE(prop_flags) && n < max; k++)
		out[n++] = prop_flags[k].name;
	for (size_t k = 0; k < VS_ARRAY_SIZE(rec_attrs) && n < max; k++)
		out[n++] = rec_attrs[k].name;
	for (size_t k = 0; k < VS_ARRAY_SIZE(special) && n < max; k++)
		out[n++] = special[k];
	return n;
}

static bool apply_rec_attr(const char *o, struct vs_mount_opts *out)
{
	for (size_t k = 0; k < VS_ARRAY_SIZE(rec_attrs); k++) {
		uint64_t a = rec_attrs[k].attr;

		if (strcmp(o, rec_attrs[k].name) != 0)
			continue;
		/* set and clear accumulate as in runc 1.1: given both, the
		 * kernel clears first, so "rro" wins over "rrw" */
		if (rec_attrs[k].clear) {
			out->rec_clr |= a;
		} else {
			out->rec_set |= a;
			/* mount_setattr(2): an atime mode is set only together
			 * with MOUNT_ATTR__ATIME in attr_clr (as runc does) */
			if ((a & MOUNT_ATTR__ATIME) == a)
				out->rec_clr |= MOUNT_ATTR__ATIME;
		}
		return true;
	}
	return false;
}

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
	if (strcmp(o, "tmpcopyup") == 0)
		return out->copyup = true;
	if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) {
		out->rec_idmap = o[0] == 'r';
		return out->idmap = true;
	}
	return apply_rec_attr(o, out);
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
	fd = vs_open_in_root(rootfd, dest, O_RDONLY | O_CREAT | O_NOCTTY | O_NONBLOCK);
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

/* The helper of idmap_userns(), in its new user namespace: sends its pid
 * as the host's /proc (still mounted here) names it, since clone's return
 * value is a pid of the container's namespace, then waits for EOF. */
static void __attribute__((noreturn)) idmap_child(const int sv[2])
{
	char pid[32];
	ssize_t n;

	close(sv[0]);
	n = readlink("/proc/self", pid, sizeof(pid) - 1);
	if (n <= 0 || write(sv[1], pid, (size_t)n) != n)
		_exit(1);
	_exit(read(sv[1], pid, 1) < 0);
}

/* Writes m's maps for the process /proc calls pid; returns its ns fd. */
static int idmap_open_ns(const struct vs_spec_mount *m, const char *pid)
{
	struct vs_spec maps = { .uid_mappings = m->uid_mappings,
				.n_uid_mappings = m->n_uid_mappings,
				.gid_mappings = m->gid_mappings,
				.n_gid_mappings = m->n_gid_mappings };
	struct vs_err *e = NULL;
	char path[64];
	int rc;

	if ((rc = vs_ns_write_idmaps((pid_t)atoi(pid), &maps, &e)) < 0) {
		vs_err_free(e);
		return rc;
	}
	snprintf(path, sizeof(path), "/proc/%s/ns/user", pid);
	rc = open(path, O_RDONLY | O_CLOEXEC);
	return rc < 0 ? -errno : rc;
}

/* A user namespace with m's own mappings, for MOUNT_ATTR_IDMAP: a child is
 * cloned into a new one and waits while its maps are written from here and
 * its ns file is opened (the namespace outlives the child). Returns the ns
 * fd or -errno. */
static int idmap_userns(const struct vs_spec_mount *m)
{
	int sv[2], fd = -EIO, status;
	char pid[32];
	ssize_t n;
	long child;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	child = vs_ctr_sys->clone(CLONE_NEWUSER | SIGCHLD);
	if (child == 0)
		idmap_child(sv);
	if (child < 0) {
		fd = -errno;
	} else if ((n = read(sv[0], pid, sizeof(pid) - 1)) > 0) {
		pid[n] = 0;
		fd = idmap_open_ns(m, pid);
	}
	close(sv[0]);
	close(sv[1]);
	if (child > 0)
		waitpid((pid_t)child, &status, 0);
	return fd;
}

/* The bind of m->source on target (an O_PATH fd), idmapped: open_tree
 * clones the source (its submounts with rbind), mount_setattr attaches the
 * user namespace with the mount's mappings (to every submount with
 * "ridmap"), move_mount puts the tree in place. */
static int bind_idmapped(int target, const struct vs_spec_mount *m, const struct vs_mount_opts *o,
			 struct vs_err **err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
	_cleanup_close_ int tree = -1, userns = -1;
	const char *what = "open_tree";

	if (!m->n_uid_mappings || !m->n_gid_mappings)
		return vs_err_set(err, -EINVAL,
				  "idmapped mounts are not supported: mount %s: only with both "
				  "uidMappings and gidMappings of its own",
				  m->destination);
	tree = vs_ctr_sys->open_tree(AT_FDCWD, m->source,
				     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					     ((o->flags & MS_REC) ? AT_RECURSIVE : 0));
	if (tree >= 0) {
		what = "user namespace for the mappings";
		userns = idmap_userns(m);
		errno = -userns;
	}
	if (userns >= 0) {
		what = "mount_setattr(MOUNT_ATTR_IDMAP)";
		attr.userns_fd = (uint64_t)userns;
		if (vs_ctr_sys->mount_setattr(tree, "",
					      AT_EMPTY_PATH | (o->rec_idmap ? AT_RECURSIVE : 0),
					      &attr, sizeof(attr)) == 0) {
			what = "move_mount";
			if (vs_ctr_sys->move_mount(tree, "", target, "",
						   MOVE_MOUNT_F_EMPTY_PATH |
							   MOVE_MOUNT_T_EMPTY_PATH) == 0)
				return 0;
		}
	}
	return vs_err_setsys(err, -errno, "idmapped mounts are not supported: mount %s: %s%s",
			     m->destination, what,
			     errno == EPERM || errno == EACCES ?
				     " (only in containers without a user namespace of their own)" :
				     "");
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
	if (o->idmap || m->n_uid_mappings || m->n_gid_mappings) {
		if ((rc = bind_idmapped(fd, m, o, err)) < 0)
			return rc;
	} else if (vs_ctr_sys->mount(m->source, vs_fd_path(p, fd), NULL,
				     MS_BIND | (o->flags & MS_REC), NULL) < 0) {
		return vs_err_setsys(err, -errno, "bind mount %s on %s", m->source, m->destination);
	}
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

/* tmpcopyup: owner, mode and times of sb onto dir/name, or onto dir itself
 * when name is NULL (last, so copying into a directory cannot undo them). */
static int copy_meta(int dir, const char *name, const struct stat *sb)
{
	const struct timespec t[2] = { sb->st_atim, sb->st_mtim };

	if (!name)
		return fchown(dir, sb->st_uid, sb->st_gid) < 0 ||
				       fchmod(dir, sb->st_mode & 07777) < 0 ||
				       futimens(dir, t) < 0 ?
			       -errno :
			       0;
	if (fchownat(dir, name, sb->st_uid, sb->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* name was just made by us in the tmpfs: not a symlink unless copied as one */
	if (!S_ISLNK(sb->st_mode) && fchmodat(dir, name, sb->st_mode & 07777, 0) < 0)
		return -errno;
	return utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int copy_file(int from, int to, const char *name)
{
	_cleanup_close_ int in = -1, out = -1;
	ssize_t n;

	/* O_NONBLOCK: an entry swapped for a fifo must not hang the init */
	in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	while ((n = sendfile(out, in, NULL, 1 << 30)) > 0)
		;
	return n < 0 ? -errno : 0;
}

static int copy_dir(int from, int to, int depth);

static int copy_subdir(int from, int to, const char *name, int depth)
{
	_cleanup_close_ int a = -1, b = -1;

	if (mkdirat(to, name, 0700) < 0)
		return -errno;
	a = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	b = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (a < 0 || b < 0)
		return -errno;
	return copy_dir(a, b, depth + 1);
}

/* One entry of the covered directory into the tmpfs, never following a
 * symlink of the image: directories recursively, files' contents, symlinks,
 * device nodes, fifos and sockets as nodes. */
static int copy_entry(int from, int to, const char *name, int depth)
{
	char target[PATH_MAX];
	struct stat sb;
	ssize_t n;
	int rc;

	if (fstatat(from, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISDIR(sb.st_mode)) {
		rc = copy_subdir(from, to, name, depth);
	} else if (S_ISREG(sb.st_mode)) {
		rc = copy_file(from, to, name);
	} else if (S_ISLNK(sb.st_mode)) {
		n = readlinkat(from, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		rc = symlinkat(target, to, name) < 0 ? -errno : 0;
	} else {
		rc = mknodat(to, name, sb.st_mode, sb.st_rdev) < 0 ? -errno : 0;
	}
	return rc < 0 ? rc : copy_meta(to, name, &sb);
}

static int copy_dir(int from, int to, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (depth > VS_COPYUP_MAX_DEPTH)
		return -ELOOP;
	fd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* own offset */
	if (fd < 0 || !(d = fdopendir(fd))) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rc = copy_entry(from, to, de->d_name, depth);
	if (rc == 0 && errno)
		rc = -errno;
	closedir(d);
	return rc;
}

/* A tmpfs with "tmpcopyup" (as runc): it starts with a copy of what the
 * rootfs has at the destination. The directory is opened before the mount,
 * so that fd still reaches the covered contents afterwards; a read-only
 * tmpfs is filled first and made read-only after. */
static int mount_copyup(int rootfd, const struct vs_spec_mount *m, const struct vs_mount_opts *o,
			struct vs_err **err)
{
	struct vs_mount_opts rw = *o;
	_cleanup_close_ int under = -1, top = -1;
	struct stat sb;
	bool existed;
	int rc;

	under = vs_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY);
	existed = under >= 0;
	if (!existed && (rc = make_target(rootfd, m->destination, false)) < 0)
		return vs_err_setsys(err, rc, "creating mount point %s", m->destination);
	if (!existed)
		under = vs_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY);
	if (under < 0 || fstat(under, &sb) < 0)
		return vs_err_setsys(err, under < 0 ? under : -errno, "resolving %s in rootfs",
				     m->destination);
	rw.flags &= ~MS_RDONLY;
	rc = mount_fs(rootfd, m->destination, "tmpfs", m->source ? m->source : "tmpfs", &rw, err);
	if (rc < 0)
		return rc;
	top = vs_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY);
	if (top < 0)
		return vs_err_setsys(err, top, "reopening %s", m->destination);
	/* the root takes the covered directory's owner and mode only where the
	 * image had one (as runc: a mount point made here keeps tmpfs' 1777) */
	if ((rc = copy_dir(under, top, 0)) < 0 || (existed && (rc = copy_meta(top, NULL, &sb)) < 0))
		return vs_err_setsys(err, rc, "tmpcopyup: copying %s into the tmpfs",
				     m->destination);
	if ((o->flags & MS_RDONLY) && (rc = remount_flags(top, MS_RDONLY)) < 0)
		return vs_err_setsys(err, rc, "remounting %s", m->destination);
	return 0;
}

/* The recursive attributes ("rro", ...) on the mount now at dest and every
 * mount under it, as runc 1.1 applies them after the mount. */
static int set_rec_attr(int rootfd, const char *dest, const struct vs_mount_opts *o,
			struct vs_err **err)
{
	struct mount_attr attr = { .attr_set = o->rec_set, .attr_clr = o->rec_clr };
	_cleanup_close_ int fd = -1;

	if (!o->rec_set && !o->rec_clr)
		return 0;
	fd = vs_open_in_root(rootfd, dest, O_PATH);
	if (fd < 0)
		return vs_err_setsys(err, fd, "reopening %s", dest);
	if (vs_ctr_sys->mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) ==
	    0)
		return 0;
	if (errno == ENOSYS)
		return vs_err_set(err, -ENOSYS,
				  "mount %s: recursive mount options (rro, rnosuid, ...) need "
				  "mount_setattr(2), which this kernel lacks (Linux 5.12 or later)",
				  dest);
	return vs_err_setsys(err, -errno, "mount_setattr(AT_RECURSIVE) on %s", dest);
}

/* "cgroup" mounts: cgroup2 on a v2 host; otherwise a tmpfs with the
 * container's own cgroup of each v1 hierarchy bound under its name. */
static int do_cgroup(int rootfd, const struct vs_spec_mount *m, const struct vs_mount_opts *o,
		     const char *cgroup_path, struct vs_err **err);

/* The options that apply to one kind of mount only, refused elsewhere
 * rather than ignored. */
static int check_kind(const struct vs_spec_mount *m, const struct vs_mount_opts *o, bool bind,
		      struct vs_err **err)
{
	if ((o->idmap || m->n_uid_mappings || m->n_gid_mappings) && !bind)
		return vs_err_set(err, -EINVAL,
				  "idmapped mounts are not supported: mount %s: only bind mounts "
				  "can be idmapped",
				  m->destination);
	if (o->copyup && (bind || !m->type || strcmp(m->type, "tmpfs") != 0))
		return vs_err_set(err, -EINVAL, "mount %s: tmpcopyup is only for tmpfs mounts",
				  m->destination);
	return 0;
}

static int mount_kind(int rootfd, const struct vs_spec_mount *m, const struct vs_mount_opts *o,
		      const char *cgroup_path, struct vs_err **err)
{
	bool bind = o->bind || (m->type && strcmp(m->type, "bind") == 0);
	int rc;

	if ((rc = check_kind(m, o, bind, err)) < 0)
		return rc;
	if (bind)
		return do_bind(rootfd, m, o, err);
	if (m->type && strcmp(m->type, "cgroup") == 0)
		return do_cgroup(rootfd, m, o, cgroup_path, err);
	if (!m->type)
		return vs_err_set(err, -EINVAL, "mount %s: no type", m->destination);
	if (o->copyup)
		return mount_copyup(rootfd, m, o, err);
	return mount_fs(rootfd, m->destination, m->type, m->source ? m->source : m->type, o, err);
}

int vs_mount_entry(int rootfd, const struct vs_spec_mount *m, const char *cgroup_path,
		   struct vs_err **err)
{
	struct vs_mount_opts o;
	int rc;

	vs_mount_parse_options(&m->options, &o);
	rc = mount_kind(rootfd, m, &o, cgroup_path, err);
	if (rc == 0)
		rc = set_rec_attr(rootfd, m->destination, &o, err);
	free(o.data);
	return rc;
}

/* Binds the container's own cgroup of each v1 hierarchy at <dest>/<name>. */
static int bind_v1_hierarchies(int rootfd, const char *dest, const char *cgroup_path,
			       unsigned long flags, struct vs_err **err)
{
	struct vs_cgroup *cg = NULL;
	int rc = vs_cgroup_open(VS_CGROUP_FSROOT, cgroup_path, &cg, err);

	for (size_t i = 0; rc == 0 && i < vs_cgroup_n_hier(cg); i++) {
		struct vs_spec_mount b = { .destination = xasprintf("%s/%s", dest,
								    vs_cgroup_hier_name(cg, i)),
					   .source = (char *)vs_cgroup_hier_dir(cg, i) };
		struct vs_mount_opts bo = { .flags = MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC |
						     (flags & MS_RDONLY),
					    .bind = true };

		rc = do_bind(rootfd, &b, &bo, err);
		free(b.destination);
	}
	vs_cgroup_free(cg);
	return rc;
}

static int do_cgroup(int rootfd, const struct vs_spec_mount *m, const struct vs_mount_opts *o,
		     const char *cgroup_path, struct vs_err **err)
{
	struct vs_mount_opts t = { .flags = (o->flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV |
					    MS_NOEXEC };
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
