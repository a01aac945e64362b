/* The client side of a container's pty (svc/ctr-mon-io.h's protocol), for
 * `run -t` and `attach`: our terminal in raw mode, our input (with -i) and
 * window-size changes (SIGWINCH) sent to the monitor, the container's
 * output copied to ours. Ctrl-P Ctrl-Q detaches, as docker's default
 * detach keys; the container goes on. */
#include "cli/ctr-cmds.h"
#include "svc/ctr-mon-io.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define KEY_CTRL_P 0x10
#define KEY_CTRL_Q 0x11

struct attach {
	int sock;
	bool input, pending_p; /* a Ctrl-P held back: the first of the detach keys? */
	void (*on_signal)(int sig, void *ctx);
	void *ctx;
};

void ctr_attach_send_winsize(int sock)
{
	char pkt[1 + sizeof(struct winsize)] = { VS_MON_WINSZ };
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	memcpy(pkt + 1, &ws, sizeof(ws));
	send(sock, pkt, sizeof(pkt), MSG_NOSIGNAL);
}

/* Our input to the container, minus the detach keys. Returns 1 on detach,
 * 0, or -1 when stdin is done. */
static int input(struct attach *a)
{
	char in[VS_MON_PKT_MAX / 2], pkt[VS_MON_PKT_MAX] = { VS_MON_IN };
	ssize_t n = read(STDIN_FILENO, in, sizeof(in));
	size_t k = 1;

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0) {
		/* the end of our input: the terminal's end-of-file for the container */
		pkt[1] = CEOF;
		send(a->sock, pkt, 2, MSG_NOSIGNAL);
		return -1;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (a->pending_p && in[i] == KEY_CTRL_Q)
			return 1;
		if (a->pending_p)
			pkt[k++] = KEY_CTRL_P;
		a->pending_p = in[i] == KEY_CTRL_P;
		if (!a->pending_p)
			pkt[k++] = in[i];
	}
	if (k > 1)
		send(a->sock, pkt, k, MSG_NOSIGNAL);
	return 0;
}

/* The container's output to ours; false at EOF (the monitor is done). */
static bool output(int sock)
{
	char buf[VS_MON_PKT_MAX];
	ssize_t n = recv(sock, buf, sizeof(buf), 0);

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));

		if (w < 0 && errno != EINTR)
			break; /* our output is gone: go on draining */
		off += w > 0 ? w : 0;
	}
	return true;
}

static void on_signal(struct attach *a, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH)
		ctr_attach_send_winsize(a->sock);
	else if (a->on_signal)
		a->on_signal((int)si.ssi_signo, a->ctx);
}

static int loop(struct attach *a, int sfd)
{
	bool in_open = a->input;

	for (;;) {
		struct pollfd p[3] = { { .fd = a->sock, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN },
				       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
		int r;

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			return -errno;
		if (p[0].revents && !output(a->sock))
			return 0;
		if (p[1].revents)
			on_signal(a, sfd);
		if (p[2].revents && (r = input(a)) != 0) {
			if (r > 0)
				return 1;
			in_open = false;
		}
	}
}

int ctr_attach_loop(int sock, bool with_input, void (*fwd)(int sig, void *ctx), void *ctx)
{
	struct attach a = { .sock = sock, .input = with_input, .on_signal = fwd, .ctx = ctx };
	struct termios saved, raw, osaved;
	bool tty = with_input && tcgetattr(STDIN_FILENO, &saved) == 0;
	bool otty = !tty && tcgetattr(STDOUT_FILENO, &osaved) == 0;
	sigset_t set, old;
	int sfd, r;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	if (fwd) {
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGQUIT);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else if (otty) {
		/* the container's pty has done the output processing (\n to \r\n) */
		raw = osaved;
		raw.c_oflag &= ~(tcflag_t)OPOST;
		tcsetattr(STDOUT_FILENO, TCSANOW, &raw);
	}
	ctr_attach_send_winsize(sock);
	r = loop(&a, sfd);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	else if (otty)
		tcsetattr(STDOUT_FILENO, TCSANOW, &osaved);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
