/* `vessel vm console NAME` on this terminal: stdin in raw mode (when it is a
 * terminal), keyboard bytes to the VM's console socket, console output to
 * stdout. Ctrl-A d detaches (the VM keeps running), Ctrl-A Ctrl-A sends a
 * Ctrl-A; the VM stopping ends the session. */
#include "cli/vm-cmds.h"
#include "vmm/console.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DETACH_KEY 'd'

/* Filters keyboard input in place; returns the bytes to send, sets *detach. */
static size_t filter(bool *escape, uint8_t *buf, size_t len, bool *detach)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (*escape) {
			*escape = false;
			if (b == DETACH_KEY) {
				*detach = true;
				return out;
			}
			if (b != VS_CONSOLE_ESCAPE)
				continue; /* unknown escape: dropped */
		} else if (b == VS_CONSOLE_ESCAPE) {
			*escape = true;
			continue;
		}
		buf[out++] = b;
	}
	return out;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* One round of the shuttle: returns 1 to go on, 0 when detached, -1 when the VM is gone. */
static int shuttle(int sock, struct pollfd *p, bool *escape)
{
	uint8_t buf[4096];
	bool detach = false;
	ssize_t n;

	if (poll(p, 2, -1) < 0)
		return errno == EINTR ? 1 : -1;
	if (p[1].revents & (POLLIN | POLLHUP)) {
		n = read(sock, buf, sizeof(buf));
		if (n <= 0 || write_all(STDOUT_FILENO, buf, n) < 0)
			return -1;
	}
	if (p[0].revents & (POLLIN | POLLHUP)) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0) {
			p[0].fd = -1; /* stdin closed: keep showing output */
			return 1;
		}
		n = filter(escape, buf, n, &detach);
		if (n && write_all(sock, buf, n) < 0)
			return -1;
		if (detach)
			return 0;
	}
	return 1;
}

int vm_console_attach(int sock, const char *name)
{
	struct vs_console con;
	struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
			       { .fd = sock, .events = POLLIN } };
	bool escape = false;
	int r;

	signal(SIGPIPE, SIG_IGN); /* the VM stopping ends the session, not this process */
	if (vs_console_open(&con, STDIN_FILENO) < 0)
		memset(&con, 0, sizeof(con));
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "vessel: attached to %s (Ctrl-A d detaches)\r\n", name);
	while ((r = shuttle(sock, p, &escape)) > 0)
		;
	vs_console_restore(&con);
	if (r == 0)
		fprintf(stderr, "\r\nvessel: detached from %s; it keeps running\n", name);
	else
		fprintf(stderr, "\r\nvessel: %s stopped\n", name);
	return 0;
}
