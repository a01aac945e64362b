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

const struct vs_ctr_sys vs_ctr_sys_linux = {
    .mount = mount,
    .umount2 = umount2,
    .pivot_root = sys_pivot_root,
    .clone = sys_clone,
};

const struct vs_ctr_sys *vs_ctr_sys = &vs_ctr_sys_linux;
