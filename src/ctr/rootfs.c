/* Building the container's root: see rootfs.h.
 *
 * Map: prepare (propagation, rootfs bind, mounts) | devices | pivot |
 * finish (masked/readonly paths). */
#include "ctr/rootfs.h"
#include "ctr/mount.h"
#include "ctr/spec.h"
#include "ctr/sys.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static unsigned long root_propagation(const struct vs_spec *s)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} t[] = { { "shared", MS_SHARED },	   { "rshared", MS_SHARED | MS_REC },
		  { "slave", MS_SLAVE },	   { "rslave", MS_SLAVE | MS_REC },
		  { "private", MS_PRIVATE },	   { "rprivate", MS_PRIVATE | MS_REC },
		  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC } };

	for (size_t i = 0; s->rootfs_propagation && i < VS_ARRAY_SIZE(t); i++)
		if (strcmp(s->rootfs_propagation, t[i].name) == 0)
			return t[i].flag;
	return MS_SLAVE | MS_REC; /* runc's default */
}

/* shared and unbindable cannot be set on / before the rootfs is bound and
 * pivoted to: pivot_root refuses a shared parent mount (EINVAL) and a bind
 * of an unbindable mount fails. Until then / is rslave (nothing of ours
 * reaches the host); the container's root gets them after the pivot. */
static bool after_pivot(unsigned long flags)
{
	return flags & (MS_SHARED | MS_UNBINDABLE);
}

int vs_rootfs_propagate(const struct vs_spec *s, struct vs_err **err)
{
	unsigned long flags = root_propagation(s);

	if (after_pivot(flags) && vs_ctr_sys->mount(NULL, "/", NULL, flags, NULL) < 0)
		return vs_err_setsys(err, -errno, "setting propagation %s of the container's root",
				     s->rootfs_propagation);
	return 0;
}

static const struct {
	const char *path;
	unsigned major, minor;
} default_devices[] = {
	{ "/dev/null", 1, 3 },	 { "/dev/zero", 1, 5 },	   { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

/* mknod, or (in a user namespace, where mknod is refused) bind the host's
 * node over an empty file. */
static int make_device(int rootfd, const char *path, char type, unsigned major, unsigned minor,
		       unsigned mode, bool userns)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *name = strrchr(dir, '/'), p[32];
	_cleanup_close_ int dfd = -1, fd = -1;
	mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
	int rc;

	*name++ = 0;
	if ((rc = vs_mkdir_in_root(rootfd, *dir ? dir : "/", 0755)) < 0)
		return rc;
	dfd = vs_open_in_root(rootfd, *dir ? dir : "/", O_PATH | O_DIRECTORY);
	if (dfd < 0)
		return dfd;
	if (!userns) {
		unlinkat(dfd, name, 0);
		if (mknodat(dfd, name, fmt | (mode & 07777), makedev(major, minor)) < 0)
			return -errno;
		return fchmodat(dfd, name, mode & 07777, 0) < 0 ? -errno : 0;
	}
	fd = openat(dfd, name, O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
	if (fd < 0)
		return -errno;
	if (vs_ctr_sys->mount(path, vs_fd_path(p, fd), NULL, MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

/* runc leaves /dev alone when the config binds one from the host. */
static bool dev_is_bind(const struct vs_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct vs_spec_mount *m = &s->mounts[i];

		if (strcmp(m->destination, "/dev") != 0)
			continue;
		if (m->type && strcmp(m->type, "bind") == 0)
			return true;
		for (size_t j = 0; j < m->options.n; j++)
			if (strcmp(m->options.v[j], "bind") == 0 ||
			    strcmp(m->options.v[j], "rbind") == 0)
				return true;
	}
	return false;
}

static int setup_devices(int rootfd, const struct vs_spec *s, bool userns, struct vs_err **err)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	_cleanup_close_ int dev = -1;
	int rc;

	for (size_t i = 0; i < VS_ARRAY_SIZE(default_devices); i++)
		if ((rc = make_device(rootfd, default_devices[i].path, 'c',
				      default_devices[i].major, default_devices[i].minor, 0666,
				      userns)) < 0)
			return vs_err_setsys(err, rc, "creating %s", default_devices[i].path);
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct vs_spec_device *d = &s->devices[i];

		if ((rc = make_device(rootfd, d->path, d->type, (unsigned)d->major,
				      (unsigned)d->minor, d->file_mode ? d->file_mode : 0666,
				      userns)) < 0)
			return vs_err_setsys(err, rc, "creating device %s", d->path);
	}
	dev = vs_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
	if (dev < 0)
		return vs_err_setsys(err, dev, "opening /dev in rootfs");
	for (size_t i = 0; i < VS_ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], dev, links[i][1] + 5) < 0 && errno != EEXIST)
			return vs_err_setsys(err, -errno, "creating %s", links[i][1]);
	/* as runc: /dev/core only where the kernel has a /proc/kcore */
	if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dev, "core") < 0 &&
	    errno != EEXIST)
		return vs_err_setsys(err, -errno, "creating /dev/core");
	/* /dev/ptmx -> pts/ptmx when the config mounts a devpts */
	for (size_t i = 0; i < s->n_mounts; i++)
		if (strcmp(s->mounts[i].destination, "/dev/pts") == 0) {
			unlinkat(dev, "ptmx", 0);
			if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
				return vs_err_setsys(err, -errno, "creating /dev/ptmx");
		}
	return 0;
}

int vs_rootfs_prepare(const struct vs_spec *s, const struct vs_rootfs_opts *o, struct vs_err **err)
{
	_cleanup_close_ int rootfd = -1;
	int rc;

	unsigned long prop = root_propagation(s);

	if (vs_ctr_sys->mount(NULL, "/", NULL, after_pivot(prop) ? MS_SLAVE | MS_REC : prop, NULL) <
	    0)
		return vs_err_setsys(err, -errno, "setting propagation of /");
	if (vs_ctr_sys->mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return vs_err_setsys(err, -errno, "bind mount of rootfs %s", o->rootfs);
	rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vs_err_setsys(err, -errno, "opening rootfs %s", o->rootfs);
	for (size_t i = 0; i < s->n_mounts; i++)
		if ((rc = vs_mount_entry(rootfd, &s->mounts[i], o->cgroup_path, err)) < 0)
			return rc;
	if (!dev_is_bind(s))
		if ((rc = setup_devices(rootfd, s, o->userns, err)) < 0)
			return rc;
	return 0;
}

int vs_rootfs_pivot(const struct vs_rootfs_opts *o, struct vs_err **err)
{
	_cleanup_close_ int oldroot = -1, newroot = -1;

	if (o->no_pivot) {
		if (chdir(o->rootfs) < 0 ||
		    vs_ctr_sys->mount(o->rootfs, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
		    chdir("/") < 0)
			return vs_err_setsys(err, -errno, "moving rootfs to /");
		return 0;
	}
	oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	newroot = open(o->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0 || newroot < 0)
		return vs_err_setsys(err, -errno, "opening roots for pivot_root");
	/* pivot_root(".", ".") stacks the old root on top of the new one, so
	 * no directory for it is needed in the image (as runc does). */
	if (fchdir(newroot) < 0 || vs_ctr_sys->pivot_root(".", ".") < 0)
		return vs_err_setsys(err, -errno, "pivot_root to %s", o->rootfs);
	if (fchdir(oldroot) < 0 ||
	    vs_ctr_sys->mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	    vs_ctr_sys->umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return vs_err_setsys(err, -errno, "detaching the old root");
	return 0;
}

static int mask_path(const char *path, struct vs_err **err)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return errno == ENOENT ? 0 : vs_err_setsys(err, -errno, "masking %s", path);
	if (S_ISDIR(sb.st_mode)) {
		if (vs_ctr_sys->mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
			return vs_err_setsys(err, -errno, "masking %s", path);
	} else if (vs_ctr_sys->mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		return vs_err_setsys(err, -errno, "masking %s", path);
	}
	return 0;
}

static int readonly_path(const char *path, struct vs_err **err)
{
	struct statvfs sv;
	unsigned long keep = 0;

	if (vs_ctr_sys->mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : vs_err_setsys(err, -errno, "bind %s", path);
	if (statvfs(path, &sv) == 0)
		keep = ((sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0) |
		       ((sv.f_flag & ST_NODEV) ? MS_NODEV : 0) |
		       ((sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0);
	if (vs_ctr_sys->mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep,
			      NULL) < 0)
		return vs_err_setsys(err, -errno, "making %s read-only", path);
	return 0;
}

int vs_rootfs_finish(const struct vs_spec *s, struct vs_err **err)
{
	int rc;

	for (size_t i = 0; i < s->masked_paths.n; i++)
		if ((rc = mask_path(s->masked_paths.v[i], err)) < 0)
			return rc;
	for (size_t i = 0; i < s->readonly_paths.n; i++)
		if ((rc = readonly_path(s->readonly_paths.v[i], err)) < 0)
			return rc;
	if (s->root_readonly) {
		struct statvfs sv;
		unsigned long keep = 0;

		if (statvfs("/", &sv) == 0)
			keep = ((sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0) |
			       ((sv.f_flag & ST_NODEV) ? MS_NODEV : 0);
		if (vs_ctr_sys->mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep,
				      NULL) < 0)
			return vs_err_setsys(err, -errno, "making the root read-only");
	}
	return 0;
}

/* What a config asks of the mount namespace, named for the refusal. */
static const char *needs_mount_ns(const struct vs_spec *s)
{
	if (s->n_mounts)
		return "mounts";
	if (s->masked_paths.n || s->readonly_paths.n)
		return "maskedPaths/readonlyPaths";
	if (s->root_readonly)
		return "root.readonly";
	if (s->n_devices)
		return "linux.devices";
	if (s->sysctl.n)
		return "linux.sysctl";
	if (s->rootfs_propagation)
		return "linux.rootfsPropagation";
	if (s->process.terminal)
		return "process.terminal";
	return NULL;
}

int vs_rootfs_chroot(const struct vs_spec *s, const char *rootfs, struct vs_err **err)
{
	const char *what = needs_mount_ns(s);

	if (what)
		return vs_err_set(err, -EINVAL,
				  "%s need a mount namespace of the container's own: without one "
				  "they would be made in the host's",
				  what);
	if (chroot(rootfs) < 0 || chdir("/") < 0)
		return vs_err_setsys(err, -errno, "chroot to %s", rootfs);
	return 0;
}
