/* Input files: non-blocking open, type check, size, full reads. */
#include "common/file.h"
#include "common/cleanup.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *type_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

int vs_input_open(const char *what, const char *path, int flags, int *fd, uint64_t *size,
		  struct vs_err **err)
{
	_cleanup_close_ int f = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	uint64_t n;

	if (f < 0)
		return vs_err_setsys(err, -errno, "cannot read %s %s", what, path);
	if (fstat(f, &st) < 0)
		return vs_err_setsys(err, -errno, "cannot read %s %s", what, path);
	if (S_ISREG(st.st_mode)) {
		n = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(f, BLKGETSIZE64, &n) < 0)
			return vs_err_setsys(err, -errno, "cannot read %s %s", what, path);
	} else {
		return vs_err_set(err, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
				  "%s %s is %s, not a regular file or block device", what, path,
				  type_name(st.st_mode));
	}
	/* Only the open had to be non-blocking; reads of these types do not
	 * honour it anyway, but leave the fd as callers expect it. */
	if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) < 0)
		return vs_err_setsys(err, -errno, "cannot read %s %s", what, path);
	*size = n;
	*fd = steal_fd(f);
	return 0;
}

int vs_read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}
