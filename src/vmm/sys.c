/* The default system-call table and the ioctl wrapper. */
#include "vmm/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

static int sys_open(const char *path, int flags)
{
	return open(path, flags);
}

static int sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static int sys_memfd_create(const char *name, unsigned flags)
{
	return memfd_create(name, flags);
}

const struct vs_sys_ops vs_sys_default = {
	.open = sys_open,
	.ioctl = sys_ioctl,
	.mmap = mmap,
	.memfd_create = sys_memfd_create,
	.pthread_create = pthread_create,
};

const struct vs_sys_ops *vs_sys = &vs_sys_default;

int vs_sys_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = vs_sys->ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}
