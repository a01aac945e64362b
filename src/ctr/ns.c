/* Namespaces: see ns.h. */
#include "ctr/ns.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

int vs_ns_clone_flags(const struct vs_spec *s)
{
	int flags = 0;

	for (size_t i = 0; i < s->n_namespaces; i++)
		if (!s->namespaces[i].path)
			flags |= s->namespaces[i].type;
	return flags;
}

/* /proc/self/ns/<name> for a CLONE_NEW* type */
static const char *proc_ns_name(int type)
{
	switch (type) {
	case CLONE_NEWNET:
		return "net";
	case CLONE_NEWNS:
		return "mnt";
	default:
		return vs_ns_type_name(type);
	}
}

int vs_ns_open(const char *path, int type, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	char self[64];
	struct statfs sfs;
	int rc;

	/* O_PATH first: opening a FIFO (or a device) for reading could block
	 * or have effects; only an nsfs file is then opened for setns */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return vs_err_setsys(err, -errno, "opening %s namespace %s", vs_ns_type_name(type),
				     path);
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC)
		return vs_err_set(err, -EINVAL, "%s namespace path %s is not a namespace file",
				  vs_ns_type_name(type), path);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	rc = open(self, O_RDONLY | O_CLOEXEC);
	if (rc < 0)
		return vs_err_setsys(err, -errno, "opening %s namespace %s", vs_ns_type_name(type),
				     path);
	if (ioctl(rc, NS_GET_NSTYPE) != type) {
		close(rc);
		return vs_err_set(err, -EINVAL, "%s is not a %s namespace", path,
				  vs_ns_type_name(type));
	}
	return rc;
}

int vs_ns_is_runtimes(const char *path, int type)
{
	char self[64];
	struct stat a, b;

	snprintf(self, sizeof(self), "/proc/self/ns/%s", proc_ns_name(type));
	if (stat(path, &a) < 0 || stat(self, &b) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int join_one(const struct vs_spec_ns *ns, struct vs_err **err)
{
	_cleanup_close_ int fd = vs_ns_open(ns->path, ns->type, err);

	if (fd < 0)
		return fd;
	if (setns(fd, ns->type) < 0)
		return vs_err_setsys(err, -errno, "joining %s namespace %s",
				     vs_ns_type_name(ns->type), ns->path);
	return 0;
}

int vs_ns_join(const struct vs_spec *s, int only, struct vs_err **err)
{
	const struct vs_spec_ns *u = vs_spec_find_ns(s, CLONE_NEWUSER);
	int rc;

	if (only) {
		const struct vs_spec_ns *ns = vs_spec_find_ns(s, only);

		return ns && ns->path ? join_one(ns, err) : 0;
	}
	if (u && u->path && (rc = join_one(u, err)) < 0)
		return rc;
	for (size_t i = 0; i < s->n_namespaces; i++) {
		const struct vs_spec_ns *ns = &s->namespaces[i];

		if (!ns->path || ns->type == CLONE_NEWUSER || ns->type == CLONE_NEWPID)
			continue;
		if ((rc = join_one(ns, err)) < 0)
			return rc;
	}
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct vs_spec_idmap *m, size_t n,
		     struct vs_err **err)
{
	char path[64], buf[4096];
	size_t len = 0;
	_cleanup_close_ int fd = -1;

	for (size_t i = 0; i < n && len < sizeof(buf) - 40; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
					m[i].container_id, m[i].host_id, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return vs_err_setsys(err, -errno, "writing %s", path);
	return 0;
}

static int deny_setgroups(pid_t pid)
{
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "deny", 4) != 4)
		return -errno;
	return 0;
}

int vs_ns_write_idmaps(pid_t pid, const struct vs_spec *s, struct vs_err **err)
{
	int rc;

	if ((rc = write_map(pid, "uid_map", s->uid_mappings, s->n_uid_mappings, err)) < 0)
		return rc;
	/* unprivileged, gid_map is writable only once setgroups is denied
	 * (user_namespaces(7)); the container then keeps its groups */
	if (geteuid() != 0 && (rc = deny_setgroups(pid)) < 0)
		return vs_err_setsys(err, rc, "writing /proc/%d/setgroups", (int)pid);
	return write_map(pid, "gid_map", s->gid_mappings, s->n_gid_mappings, err);
}
