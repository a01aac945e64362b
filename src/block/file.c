/* Opening image files: file type checks and QEMU-compatible locks (file.h). */
#include "block/file.h"
#include "block/block.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOCK_PERM_BASE 100 /* QEMU's RAW_LOCK_PERM_BASE */
#define LOCK_SHARED_BASE 200 /* QEMU's RAW_LOCK_SHARED_BASE */

/* QEMU's BLK_PERM_* bits, in bit order, with the names its messages use. */
#define PERM_READ 0x1u
#define PERM_WRITE 0x2u
#define PERM_WRITE_UNCHANGED 0x4u
#define PERM_RESIZE 0x8u
#define PERM_ALL 0xfu
static const char *const perm_names[] = { "consistent read", "write", "write unchanged", "resize" };

/* Opens without blocking (a FIFO would wait for a writer), checks the type,
 * then makes I/O blocking again. */
static int open_checked(const char *path, int oflags, int *out, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int fl;

	fd = open(path, oflags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return vs_err_setsys(err, -errno, "Could not open '%s'", path);
	if (fstat(fd, &st) < 0)
		return vs_err_setsys(err, -errno, "Could not open '%s'", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return vs_err_set(err, -EINVAL,
				  "Could not open '%s': not a regular file or block device", path);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return vs_err_setsys(err, -errno, "Could not open '%s'", path);
	*out = steal_fd(fd);
	return 0;
}

/* 0, 1 (locking unsupported here: go on without, as QEMU's locking=auto),
 * or -errno. */
static int lock_byte(int fd, unsigned off)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOLCK || errno == EOPNOTSUPP)
		return 1;
	return -errno;
}

/* Does another open file description hold a lock on byte off? */
static bool byte_taken(int fd, unsigned off)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };

	return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

/* QEMU's raw_apply_lock_bytes then raw_check_lock_bytes: take our bytes
 * first, then look for conflicts, so two racing openers cannot both pass. */
static int take_locks(int fd, const char *path, unsigned perm, unsigned shared, struct vs_err **err)
{
	int r;

	for (unsigned i = 0; i < VS_ARRAY_SIZE(perm_names); i++) {
		r = (perm & (1u << i)) ? lock_byte(fd, LOCK_PERM_BASE + i) : 0;
		if (r == 0 && !(shared & (1u << i)))
			r = lock_byte(fd, LOCK_SHARED_BASE + i);
		if (r > 0)
			return 0;
		if (r < 0)
			return vs_err_setsys(err, r, "Could not open '%s': lock", path);
	}
	for (unsigned i = 0; i < VS_ARRAY_SIZE(perm_names); i++) {
		if ((perm & (1u << i)) && byte_taken(fd, LOCK_SHARED_BASE + i))
			return vs_err_set(err, -EAGAIN,
					  "Could not open '%s': Failed to get \"%s\" lock. Is "
					  "another process using the image [%s]?",
					  path, perm_names[i], path);
		if (!(shared & (1u << i)) && byte_taken(fd, LOCK_PERM_BASE + i))
			return vs_err_set(err, -EAGAIN,
					  "Could not open '%s': Failed to get shared \"%s\" lock. "
					  "Is another process using the image [%s]?",
					  path, perm_names[i], path);
	}
	return 0;
}

int vs_blk_file_open(const char *path, unsigned flags, bool create, int *out, struct vs_err **err)
{
	bool ro = flags & VS_BLK_RDONLY;
	unsigned perm = ro ? PERM_READ : PERM_READ | PERM_WRITE | PERM_RESIZE;
	unsigned shared = PERM_READ | PERM_WRITE_UNCHANGED;
	_cleanup_close_ int fd = -1;
	int r;

	if ((flags & VS_BLK_SHARE) && !ro)
		return vs_err_set(err, -EINVAL,
				  "%s: force-share=on can only be used with read-only images",
				  path);
	if (flags & VS_BLK_SHARE)
		shared = PERM_ALL;
	r = open_checked(path, ro ? O_RDONLY : O_RDWR | (create ? O_CREAT : 0), &fd, err);
	if (r == 0)
		r = take_locks(fd, path, perm, shared, err);
	if (r < 0)
		return r;
	*out = steal_fd(fd);
	return 0;
}

int vs_blk_file_open_nolock(const char *path, int *fd, struct vs_err **err)
{
	return open_checked(path, O_RDONLY, fd, err);
}

void vs_blk_file_status(int fd, struct vs_blk_status *st)
{
	off_t at = (off_t)st->host_offset, data = lseek(fd, at, SEEK_DATA), hole;

	if (data < 0 && errno == ENXIO) { /* a hole up to the end of the file */
		st->flags |= VS_BLK_ST_ZERO;
		return;
	}
	if (data < 0)
		return;
	if (data > at) {
		st->len = VS_MIN(st->len, (uint64_t)(data - at));
		st->flags |= VS_BLK_ST_ZERO;
		return;
	}
	hole = lseek(fd, at, SEEK_HOLE);
	if (hole > at)
		st->len = VS_MIN(st->len, (uint64_t)(hole - at));
}

int vs_blk_file_open_direct(int fd, const char *path, bool ro, int *dfd, struct vs_err **err)
{
	char proc[64];
	int d;

	/* Through /proc: the same inode even if path was renamed meanwhile. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	d = open(proc, (ro ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (d < 0 && errno == EINVAL)
		return vs_err_set(err, -EINVAL,
				  "Could not open '%s': the file system does not support O_DIRECT "
				  "(cache=none and cache=directsync need it; use cache=writeback)",
				  path);
	if (d < 0)
		return vs_err_setsys(err, -errno, "Could not open '%s' with O_DIRECT", path);
	*dfd = d;
	return 0;
}

#define DIRECT_ALIGN 512u /* the logical sector; EINVAL makes callers fall back */

bool vs_blk_direct_ok(const struct iovec *iov, unsigned n, uint64_t off)
{
	if (off % DIRECT_ALIGN)
		return false;
	for (unsigned i = 0; i < n; i++)
		if ((uintptr_t)iov[i].iov_base % DIRECT_ALIGN || iov[i].iov_len % DIRECT_ALIGN)
			return false;
	return true;
}
