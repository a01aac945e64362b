/* CVE-2019-5736: run from a sealed memfd copy of ourselves.
 *
 * Before exec (and create/run of a container without its own pid namespace,
 * where container processes could see ours) the runtime re-executes itself from an anonymous
 * memfd sealed against writes, so no process of the container can ever
 * reach the binary on disk through /proc/<pid>/exe of a runtime process:
 * what it would find is the sealed copy, which cannot be written. The check
 * is on the seals themselves, not on an environment variable a caller could
 * set. */
#include "ctr/process.h"
#include "common/cleanup.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define VS_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

bool vs_exe_is_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int seals = fd < 0 ? -1 : fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & VS_SEALS) == VS_SEALS;
}

static int copy_exe(int *out)
{
	_cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int mfd = -1;
	struct stat sb;
	off_t off = 0;

	if (src < 0 || fstat(src, &sb) < 0)
		return -errno;
	mfd = memfd_create("vessel-runc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	while (off < sb.st_size) {
		ssize_t n = sendfile(mfd, src, &off, (size_t)(sb.st_size - off));

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	if (fcntl(mfd, F_ADD_SEALS, VS_SEALS) < 0)
		return -errno;
	*out = steal_fd(mfd);
	return 0;
}

int vs_exec_sealed_copy(char **argv, struct vs_err **err)
{
	int fd = -1, rc;

	if (vs_exe_is_sealed())
		return 0;
	if ((rc = copy_exe(&fd)) < 0)
		return vs_err_setsys(err, rc, "copying the runtime into a sealed memfd");
	fexecve(fd, argv, environ);
	rc = -errno;
	close(fd);
	return vs_err_setsys(err, rc, "re-executing from the sealed memfd");
}
