/* terminal: true — a pty allocated inside the container's devpts, its
 * master handed to the --console-socket listener with SCM_RIGHTS (as runc
 * does), its slave made our controlling terminal, stdio and /dev/console. */
#include "ctr/container-internal.h"
#include "ctr/sys.h"
#include "common/cleanup.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

static int send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int vs_console_setup(int console_fd, struct vs_err **err)
{
	_cleanup_close_ int master = -1, slave = -1, con = -1;
	char name[64];
	int rc;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
		return vs_err_setsys(err, -errno, "allocating a pty");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return vs_err_setsys(err, -errno, "opening the pty slave");
	con = open("/dev/console", O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (con >= 0)
		vs_ctr_sys->mount(name, "/dev/console", NULL, MS_BIND,
				  NULL); /* best effort, as crun */
	if ((rc = send_fd(console_fd, master, name)) < 0)
		return vs_err_setsys(err, rc, "sending the pty master to the console socket");
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		return vs_err_setsys(err, -errno, "making the pty our controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return vs_err_setsys(err, -errno, "dup2 of the pty");
	return 0;
}
