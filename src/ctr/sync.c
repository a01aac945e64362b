/* Fixed-size messages between the runtime and the container's init. */
#include "ctr/sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int vs_sync_send(int fd, enum vs_sync_type type, int code, const char *msg)
{
	struct vs_sync_msg m = { .type = type, .code = code };
	ssize_t n;

	if (msg)
		snprintf(m.msg, sizeof(m.msg), "%s", msg);
	do
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(m) ? 0 : -EIO;
}

int vs_sync_recv(int fd, struct vs_sync_msg *m)
{
	ssize_t n;

	do
		n = recv(fd, m, sizeof(*m), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if (n != sizeof(*m))
		return -EIO;
	m->msg[sizeof(m->msg) - 1] = 0;
	return 0;
}
