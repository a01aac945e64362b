/* The config.json mounts list, mounted inside a rootfs. Every destination is
 * resolved with openat2(RESOLVE_IN_ROOT) relative to the rootfs, so a
 * symlink in the image can never point a mount outside it (CVE-2021-30465);
 * the mount is then made on /proc/self/fd/N of the resolved target. */
#ifndef VS_CTR_MOUNT_H
#define VS_CTR_MOUNT_H

#include <stdbool.h>

struct vs_err;
struct vs_strv;
struct vs_spec_mount;

struct vs_mount_opts {
	unsigned long flags; /* MS_* to set */
	unsigned long prop;  /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) or 0 */
	char *data;	     /* the filesystem-specific options, comma-joined, or NULL */
	bool bind;
};

/* Splits options into MS_* flags, propagation and data. Caller frees data.
 * Unknown options go to data, as runc does. */
void vs_mount_parse_options(const struct vs_strv *opts, struct vs_mount_opts *out);

/* Opens path inside the directory rootfd as if rootfd were "/", following
 * symlinks only within it. Returns an fd or -errno. */
int vs_open_in_root(int rootfd, const char *path, int flags);

/* mkdir -p of path inside rootfd (resolved as above). 0 or -errno. */
int vs_mkdir_in_root(int rootfd, const char *path, unsigned mode);

/* Performs one mount of the list into the rootfs open as rootfd. Relative
 * bind sources are relative to the current directory (the bundle). */
int vs_mount_entry(int rootfd, const struct vs_spec_mount *m, const char *cgroup_path,
		   struct vs_err **err);

/* "/proc/self/fd/N" into buf (at least 32 bytes). */
const char *vs_fd_path(char *buf, int fd);

#endif
