/* The container's filesystem view, built inside its mount namespace by the
 * init process: propagation, the rootfs bind, the mounts list, devices,
 * pivot_root, then masked and read-only paths. */
#ifndef VS_CTR_ROOTFS_H
#define VS_CTR_ROOTFS_H

#include <stdbool.h>

struct vs_err;
struct vs_spec;

struct vs_rootfs_opts {
	const char *rootfs; /* absolute host path */
	const char *cgroup_path; /* for "cgroup" mounts */
	bool no_pivot; /* --no-pivot: move the rootfs over / and chroot */
	bool userns; /* in a new user namespace: bind devices, no mknod */
};

/* Everything before the pivot: propagation, rootfs bind, mounts, devices. */
int vs_rootfs_prepare(const struct vs_spec *s, const struct vs_rootfs_opts *o, struct vs_err **err);

/* pivot_root into the rootfs and detach the old root. */
int vs_rootfs_pivot(const struct vs_rootfs_opts *o, struct vs_err **err);

/* After the pivot: masked paths, read-only paths, readonly root. */
int vs_rootfs_finish(const struct vs_spec *s, struct vs_err **err);

/* Last, after the pivot and the masked/readonly binds: rootfsPropagation shared/rshared/unbindable/runbindable
 * on the container's root (the others are set on / before the bind). */
int vs_rootfs_propagate(const struct vs_spec *s, struct vs_err **err);

/* A container without a mount namespace of its own shares the runtime's
 * (runtime spec): its root is a chroot into rootfs and nothing is mounted,
 * since every mount would be the host's. A config that needs mounts,
 * masks, devices, sysctls (/proc), a read-only root, a propagation or a
 * console is refused in one line (runc 1.1 makes those mounts in the host's
 * namespace and leaves them there). */
int vs_rootfs_chroot(const struct vs_spec *s, const char *rootfs, struct vs_err **err);

#endif
