/* The console of a foreground `run` (or `exec`) with terminal: true and no
 * --console-socket: we receive the pty master ourselves and copy between it
 * and our stdio, like runc's tty handling; our window-size changes
 * (SIGWINCH) are passed on to the pty. */
#include "ctr/oci-cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

int vs_oci_recv_master(int sock)
{
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Copies what is readable on from to to; false on EOF or error. */
static bool pump(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EINTR;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w < 0 && errno != EINTR)
			return false;
		off += w > 0 ? w : 0;
	}
	return true;
}

static void copy_winsize(int master)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

static void proxy_loop(int master, int sfd)
{
	bool in_open = true;

	for (;;) {
		struct pollfd p[3] = { { .fd = master, .events = POLLIN },
				       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents && !pump(master, STDOUT_FILENO))
			break; /* EIO: every slave fd is closed, the container is done */
		if (p[1].revents && !pump(STDIN_FILENO, master))
			in_open = false;
		if (p[2].revents && read(sfd, &si, sizeof(si)) == sizeof(si))
			copy_winsize(master);
	}
}

void vs_oci_console_proxy(int master)
{
	struct termios saved, raw, osaved;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	bool otty = !tty && tcgetattr(STDOUT_FILENO, &osaved) == 0;
	sigset_t set, old;
	int sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else if (otty) {
		/* our input is not a terminal, our output is: the pty has done
		 * the output processing (\n to \r\n) */
		raw = osaved;
		raw.c_oflag &= ~(tcflag_t)OPOST;
		tcsetattr(STDOUT_FILENO, TCSANOW, &raw);
	}
	copy_winsize(master);
	proxy_loop(master, sfd);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	else if (otty)
		tcsetattr(STDOUT_FILENO, TCSANOW, &osaved);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(master);
}
