/* The config.json mounts list, mounted inside a rootfs. Every destination is
 * resolved with openat2(RESOLVE_IN_ROOT) relative to the rootfs, so a
 * symlink in the image can never point a mount outside it (CVE-2021-30465);
 * the mount is then made on /proc/self/fd/N of the resolved target. */
#ifndef VS_CTR_MOUNT_H
#define VS_CTR_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fs.h" /* vs_open_in_root & co., formerly here */

struct vs_err;
struct vs_strv;
struct vs_spec_mount;

struct vs_mount_opts {
	unsigned long flags; /* MS_* to set */
	unsigned long prop; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) or 0 */
	char *data; /* the filesystem-specific options, comma-joined, or NULL */
	/* MOUNT_ATTR_* set and cleared on the whole tree with mount_setattr(2)
	 * AT_RECURSIVE after the mount ("rro", "rnosuid", ...: runc 1.1) */
	uint64_t rec_set, rec_clr;
	bool bind;
	bool copyup; /* "tmpcopyup": the tmpfs starts with what it covers */
	bool idmap; /* "idmap" (top mount) or "ridmap" (rec_idmap: every submount) */
	bool rec_idmap;
};

/* Splits options into MS_* flags, propagation, recursive attributes and
 * data. Caller frees data. Unknown options go to data, as runc does. */
void vs_mount_parse_options(const struct vs_strv *opts, struct vs_mount_opts *out);

/* The option names vs_mount_parse_options acts on (flags, propagation,
 * recursive attributes, tmpcopyup, idmap, ridmap), for `features`: up to
 * max of them into out; returns how many. */
size_t vs_mount_option_names(const char **out, size_t max);

/* Performs one mount of the list into the rootfs open as rootfd. Relative
 * bind sources are relative to the current directory (the bundle).
 * Recursive attributes need mount_setattr(2) (an error where the kernel
 * lacks it); idmapped binds are made with open_tree + mount_setattr +
 * move_mount, which needs a caller with CAP_SYS_ADMIN over the source's
 * filesystem (an init in the host's user namespace); otherwise an error. */
int vs_mount_entry(int rootfd, const struct vs_spec_mount *m, const char *cgroup_path,
		   struct vs_err **err);

#endif
