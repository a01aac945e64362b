/* The system calls that change mounts or create namespaces, behind a table
 * that unit tests replace to record calls or inject failures (STYLE.md:
 * "mount/clone go through an overridable sys_* table"). */
#ifndef VS_CTR_SYS_H
#define VS_CTR_SYS_H

#include <stddef.h>

struct mount_attr;

struct vs_ctr_sys {
	/* each returns 0 (clone: the child pid, 0 in the child) or -1 with errno */
	int (*mount)(const char *source, const char *target, const char *type, unsigned long flags,
		     const void *data);
	int (*umount2)(const char *target, int flags);
	int (*pivot_root)(const char *new_root, const char *put_old);
	long (*clone)(unsigned long flags); /* fork-like: no new stack */
	/* the new mount API (Linux 5.2/5.12); -1 with ENOSYS on older kernels */
	int (*mount_setattr)(int dfd, const char *path, unsigned flags, struct mount_attr *attr,
			     size_t size);
	int (*open_tree)(int dfd, const char *path, unsigned flags); /* an fd */
	int (*move_mount)(int from_dfd, const char *from, int to_dfd, const char *to,
			  unsigned flags);
};

/* The table in use; tests point it at their own and restore it. */
extern const struct vs_ctr_sys *vs_ctr_sys;
extern const struct vs_ctr_sys vs_ctr_sys_linux;

#endif
