/* Path resolution confined to a directory, and tree removal: the safe file
 * helpers shared by the container runtime (src/ctr, the rootfs and its
 * mounts) and the image store (src/image, the layer unpacker).
 *
 * Two confinements:
 * - "in root" (RESOLVE_IN_ROOT): the directory acts as "/", symlinks are
 *   followed but never leave it (what a container's own view needs);
 * - "beneath" (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): no symlink is
 *   followed at all and ".." may not climb out; what an unpacker needs, for
 *   which a path through a symlink is hostile input, not a thing to follow. */
#ifndef VS_COMMON_FS_H
#define VS_COMMON_FS_H

#include <stddef.h>

/* Opens path inside the directory rootfd as if rootfd were "/", following
 * symlinks only within it. Returns an fd or -errno. */
int vs_open_in_root(int rootfd, const char *path, int flags);

/* mkdir -p of path inside rootfd (resolved as above). 0 or -errno. */
int vs_mkdir_in_root(int rootfd, const char *path, unsigned mode);

/* Opens path (relative, "" or "." for dirfd itself) beneath dirfd without
 * following any symlink, trailing one included when flags has O_NOFOLLOW or
 * O_PATH without following. Returns an fd or -errno (-ELOOP: a symlink on
 * the way, -EXDEV: the path leaves dirfd). */
int vs_open_beneath(int dirfd, const char *path, int flags);

/* mkdir -p beneath dirfd, never through a symlink; missing directories get
 * mode. Returns an O_PATH|O_DIRECTORY fd of the last one, or -errno
 * (-ENOTDIR/-ELOOP when a component exists and is not a directory). */
int vs_mkdir_beneath(int dirfd, const char *path, unsigned mode);

/* Removes name in dirfd and, for a directory, everything under it, without
 * following symlinks (depth-limited). Absent is success. 0 or -errno. */
int vs_rm_rf_at(int dirfd, const char *name);

/* The path of our own executable into self (a rebuilt binary's new file,
 * not " (deleted)") and of the executable name beside it into out.
 * 0, or -errno (-ENOENT: there is none, or it is not executable). */
int vs_exe_sibling(const char *name, char *self, size_t self_size, char *out, size_t out_size);

/* "/proc/self/fd/N" into buf (at least 32 bytes). */
const char *vs_fd_path(char *buf, int fd);

#endif
