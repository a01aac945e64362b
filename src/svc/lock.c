/* The VMM's lock: an OFD write lock (fcntl F_OFD_SETLK) on the whole of
 * <root>/vms/<name>/vmm.lock. OFD locks belong to the open file, survive
 * fork and exec in the inherited fd, and vanish when the last fd closes,
 * also on SIGKILL: the starting CLI takes the lock and hands the fd to the
 * VMM, so the VM counts as running from the first moment to the VMM's end.
 * F_OFD_GETLK lets `ls` test it without taking it. */
#include "svc/internal.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define LOCK_POLL_NS 1000000L

static int lock_cmd(int fd, int cmd, struct flock *fl)
{
	*fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	return fcntl(fd, cmd, fl) < 0 ? -errno : 0;
}

int vs_svc_lock_take(const char *lock_path)
{
	_cleanup_close_ int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct flock fl;
	int r;

	if (fd < 0)
		return -errno;
	r = lock_cmd(fd, F_OFD_SETLK, &fl);
	if (r == -EAGAIN || r == -EACCES)
		return -EBUSY;
	return r < 0 ? r : steal_fd(fd);
}

bool vs_svc_lock_held(const char *lock_path)
{
	_cleanup_close_ int fd = open(lock_path, O_RDONLY | O_CLOEXEC);
	struct flock fl;

	if (fd < 0)
		return false; /* no lock file: never started */
	/* F_WRLCK on a read-only fd is fine for F_OFD_GETLK: it only tests. */
	if (lock_cmd(fd, F_OFD_GETLK, &fl) < 0)
		return false;
	return fl.l_type != F_UNLCK;
}

int vs_svc_lock_wait_free(const char *lock_path, unsigned ms)
{
	struct timespec ts = { .tv_nsec = LOCK_POLL_NS };

	for (unsigned long i = 0; i <= (unsigned long)ms * 1000000 / LOCK_POLL_NS; i++) {
		if (!vs_svc_lock_held(lock_path))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}
