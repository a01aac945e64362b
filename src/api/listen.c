/* The listening socket of `vessel serve`: a unix socket (mode 0600; a stale
 * one left by a killed server is replaced, a live one refused) or TCP. */
#include "api/listen.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define BACKLOG 64

/* Fills sa for path; a path too long for sun_path goes through
 * /proc/self/fd/<dirfd>/<base> (*dirfd is then open, for the caller to close). */
static int unix_addr(const char *path, struct sockaddr_un *sa, int *dirfd, struct vs_err **err)
{
	_cleanup_free_ char *d = xstrdup(path), *b = xstrdup(path);
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	*dirfd = -1;
	if (strlen(path) < sizeof(sa->sun_path)) {
		memcpy(sa->sun_path, path, strlen(path) + 1);
		return 0;
	}
	*dirfd = open(dirname(d), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return vs_err_setsys(err, -errno, "--listen unix:%s", path);
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", *dirfd,
		     basename(b));
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return vs_err_set(err, -ENAMETOOLONG, "--listen unix:%s: name too long", path);
	return 0;
}

/* A socket file already there: refused if a server answers, else removed. */
static int clear_stale(const struct sockaddr_un *sa, const char *path, struct vs_err **err)
{
	struct stat st;
	_cleanup_close_ int fd = -1;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : vs_err_setsys(err, -errno, "--listen unix:%s", path);
	if (!S_ISSOCK(st.st_mode))
		return vs_err_set(err, -EEXIST, "--listen unix:%s: exists and is not a socket",
				  path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return vs_err_set(err, -EADDRINUSE,
				  "--listen unix:%s: another server is listening there", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return vs_err_setsys(err, -errno,
				     "--listen unix:%s: cannot remove the stale socket", path);
	return 0;
}

int vs_api_listen_unix(const char *path, struct vs_err **err)
{
	struct sockaddr_un sa;
	_cleanup_close_ int dirfd = -1, fd = -1;
	mode_t old;
	int r;

	if ((r = unix_addr(path, &sa, &dirfd, err)) < 0 || (r = clear_stale(&sa, path, err)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return vs_err_setsys(err, -errno, "socket");
	old = umask(0177); /* created 0600: no window with a wider mode */
	r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return vs_err_setsys(err, -errno, "--listen unix:%s", path);
	if (chmod(path, 0600) < 0 || listen(fd, BACKLOG) < 0) {
		r = vs_err_setsys(err, -errno, "--listen unix:%s", path);
		unlink(path);
		return r;
	}
	return steal_fd(fd);
}

/* "HOST:PORT" or "[V6]:PORT" into host and port (both malloc'd). */
static int split_hostport(const char *s, char **host, char **port)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || !colon[1])
		return -EINVAL;
	if (s[0] == '[') {
		if (colon[-1] != ']' || colon - s < 3)
			return -EINVAL;
		*host = strndup(s + 1, colon - s - 2);
	} else {
		*host = strndup(s, colon - s);
	}
	*port = xstrdup(colon + 1);
	return *host ? 0 : -ENOMEM;
}

int vs_api_listen_tcp(const char *hostport, struct vs_err **err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	_cleanup_free_ char *host = NULL, *port = NULL;
	struct addrinfo *ai = NULL;
	int fd, one = 1, r;

	if (split_hostport(hostport, &host, &port) < 0)
		return vs_err_set(err, -EINVAL, "--listen %s: HOST:PORT or unix:PATH expected",
				  hostport);
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0)
		return vs_err_set(err, -EINVAL, "--listen %s: %s", hostport, gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, BACKLOG) < 0) {
		r = vs_err_setsys(err, -errno, "--listen %s", hostport);
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return r;
	}
	freeaddrinfo(ai);
	return fd;
}
