/* The real system calls behind vs_ctr_sys (sys.h). */
#include "ctr/sys.h"

#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static long sys_clone(unsigned long flags)
{
	return syscall(SYS_clone, flags, 0, 0, 0, 0);
}

/* Raw system calls rather than glibc's 2.36 wrappers, so older C libraries
 * (and the static build) work and the kernel's ENOSYS comes through. */
static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr,
			     size_t size)
{
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, size);
}

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
			  unsigned flags)
{
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

const struct vs_ctr_sys vs_ctr_sys_linux = {
	.mount = mount,
	.umount2 = umount2,
	.pivot_root = sys_pivot_root,
	.clone = sys_clone,
	.mount_setattr = sys_mount_setattr,
	.open_tree = sys_open_tree,
	.move_mount = sys_move_mount,
};

const struct vs_ctr_sys *vs_ctr_sys = &vs_ctr_sys_linux;
