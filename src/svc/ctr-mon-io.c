/* The monitor's I/O loop (ctr-mon-io.h). libc only.
 *
 * Map: log records - clients - output - vs_mon_io_pump - handover. */
#include "svc/ctr-mon-io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PUMP_BUF 65536
#define REC_HDR_MAX 64
#define LOG_BATCH (256 << 10) /* records are written in batches of up to this */
#define CLIENT_SEND_TIMEOUT_S 5 /* a client that takes longer is dropped */

void vs_mon_io_init(struct vs_mon_io *io)
{
	*io = (struct vs_mon_io){
		.out = -1, .err = -1, .tee_out = -1, .tee_err = -1, .listen = -1, .log_fd = -1
	};
	for (int i = 0; i < VS_MON_MAX_CLIENTS; i++)
		io->clients[i] = -1;
}

int vs_mon_io_open_log(struct vs_mon_io *io)
{
	struct stat st;

	io->log_fd = open(io->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (io->log_fd < 0)
		return -errno;
	io->log_size = fstat(io->log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static void log_rotate(struct vs_mon_io *io)
{
	char old[PATH_MAX];

	snprintf(old, sizeof(old), "%s.1", io->log_path);
	rename(io->log_path, old);
	close(io->log_fd);
	io->log_fd = open(io->log_path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600);
	io->log_size = 0;
}

static void log_flush(struct vs_mon_io *io)
{
	if (io->log_fd >= 0 && io->lbuf_len &&
	    write(io->log_fd, io->lbuf, io->lbuf_len) == (ssize_t)io->lbuf_len)
		io->log_size += io->lbuf_len;
	io->lbuf_len = 0;
}

/* Appends one record (prefix, F or P, text, newline) to the batch, after
 * a rotation if it would take the file past log_max. */
static void log_record(struct vs_mon_io *io, const char *pre, size_t np, const char *s, size_t n,
		       bool full)
{
	size_t rec = np + 2 + n + 1;
	char *d;

	if (io->log_size + io->lbuf_len + rec > io->log_max && io->log_size + io->lbuf_len > 0) {
		log_flush(io);
		log_rotate(io);
	}
	if (io->lbuf_len + rec > LOG_BATCH)
		log_flush(io);
	if (rec > LOG_BATCH) { /* a huge line: straight to the file */
		struct iovec iov[4] = { { (void *)pre, np },
					{ (void *)(full ? "F " : "P "), 2 },
					{ (void *)s, n },
					{ (void *)"\n", 1 } };

		if (io->log_fd >= 0 && writev(io->log_fd, iov, 4) == (ssize_t)rec)
			io->log_size += rec;
		return;
	}
	d = io->lbuf + io->lbuf_len;
	memcpy(d, pre, np);
	memcpy(d + np, full ? "F " : "P ", 2);
	memcpy(d + np + 2, s, n);
	d[np + 2 + n] = '\n';
	io->lbuf_len += rec;
}

/* One record per line of buf (a tail without a newline: a partial one),
 * all with the time of this read, written in one go. */
static void log_write(struct vs_mon_io *io, int stream, const char *buf, size_t n)
{
	char pre[REC_HDR_MAX];
	struct timespec ts;
	struct tm tm;
	size_t np;

	if (!io->lbuf && !(io->lbuf = malloc(LOG_BATCH)))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	np = strftime(pre, sizeof(pre), "%Y-%m-%dT%H:%M:%S", &tm);
	np += (size_t)snprintf(pre + np, sizeof(pre) - np, ".%09ldZ %s ", ts.tv_nsec,
			       stream ? "stderr" : "stdout");
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) : n;

		log_record(io, pre, np, buf, len, nl != NULL);
		len += nl != NULL;
		buf += len;
		n -= len;
	}
	log_flush(io);
}

bool vs_mon_io_add_client(struct vs_mon_io *io, int fd)
{
	struct timeval tv = { .tv_sec = CLIENT_SEND_TIMEOUT_S };

	for (int i = 0; i < VS_MON_MAX_CLIENTS; i++) {
		if (io->clients[i] >= 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		io->clients[i] = fd;
		return true;
	}
	close(fd);
	return false;
}

void vs_mon_io_close_clients(struct vs_mon_io *io)
{
	for (int i = 0; i < VS_MON_MAX_CLIENTS; i++) {
		if (io->clients[i] >= 0)
			close(io->clients[i]);
		io->clients[i] = -1;
	}
}

static void client_drop(struct vs_mon_io *io, int i)
{
	close(io->clients[i]);
	io->clients[i] = -1;
}

static void broadcast(struct vs_mon_io *io, const char *buf, size_t n)
{
	for (int i = 0; i < VS_MON_MAX_CLIENTS; i++) {
		for (size_t off = 0; io->clients[i] >= 0 && off < n;) {
			size_t len = n - off < VS_MON_PKT_MAX ? n - off : VS_MON_PKT_MAX;
			ssize_t w = send(io->clients[i], buf + off, len, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				client_drop(io, i); /* gone, or stuck past the timeout */
			else
				off += (size_t)w;
		}
	}
}

/* A packet from client i: input for the pty, or its window size. */
static void client_input(struct vs_mon_io *io, int i, char *buf)
{
	ssize_t n = recv(io->clients[i], buf, VS_MON_PKT_MAX + 1, MSG_DONTWAIT);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		client_drop(io, i);
		return;
	}
	if (!io->tty || io->out < 0)
		return;
	if (buf[0] == VS_MON_WINSZ && n == 1 + (ssize_t)sizeof(struct winsize)) {
		struct winsize ws;

		memcpy(&ws, buf + 1, sizeof(ws));
		io->ws_row = ws.ws_row;
		io->ws_col = ws.ws_col;
		ioctl(io->out, TIOCSWINSZ, &ws);
	} else if (buf[0] == VS_MON_IN) {
		/* the master is non-blocking: input the container does not
		 * read while its pty's buffer is full is dropped */
		if (write(io->out, buf + 1, (size_t)n - 1) < 0) {
			/* EAGAIN: dropped, as said */
		}
	}
}

void vs_mon_io_early_winsize(struct vs_mon_io *io, int fd)
{
	char pkt[1 + sizeof(struct winsize)];
	struct winsize ws;

	if (recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT) != (ssize_t)sizeof(pkt) ||
	    pkt[0] != VS_MON_WINSZ)
		return;
	memcpy(&ws, pkt + 1, sizeof(ws));
	io->ws_row = ws.ws_row;
	io->ws_col = ws.ws_col;
}

void vs_mon_io_set_master(struct vs_mon_io *io, int master)
{
	struct winsize ws = { .ws_row = io->ws_row, .ws_col = io->ws_col };

	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	if (ws.ws_row && ws.ws_col)
		ioctl(master, TIOCSWINSZ, &ws);
	io->out = master;
	io->err = -1;
}

static void accept_client(struct vs_mon_io *io)
{
	int fd = accept4(io->listen, NULL, NULL, SOCK_CLOEXEC);

	if (fd >= 0)
		vs_mon_io_add_client(io, fd);
}

static void output(struct vs_mon_io *io, int stream, char *buf)
{
	int *fd = stream ? &io->err : &io->out;
	int tee = stream ? io->tee_err : io->tee_out;
	ssize_t n = read(*fd, buf, io->tty ? VS_MON_PKT_MAX : PUMP_BUF);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) { /* EOF, or EIO from a master whose slaves are all closed */
		close(*fd);
		*fd = -1;
		return;
	}
	log_write(io, stream, buf, (size_t)n);
	if (io->tty)
		broadcast(io, buf, (size_t)n);
	else if (tee >= 0 && write(tee, buf, (size_t)n) < 0) {
		/* the foreground CLI's output closed: the log has it */
	}
}

int64_t vs_mon_io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int timeout_ms(int64_t deadline_ms)
{
	int64_t left = deadline_ms - vs_mon_io_now_ms();

	if (deadline_ms < 0)
		return -1;
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

bool vs_mon_io_pump_until(struct vs_mon_io *io, int64_t deadline_ms)
{
	struct pollfd p[3 + VS_MON_MAX_CLIENTS];
	char *buf = malloc(PUMP_BUF);

	if (!buf)
		abort();
	while (io->out >= 0 || io->err >= 0) {
		int n;

		p[0] = (struct pollfd){ .fd = io->out, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = io->err, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = io->listen, .events = POLLIN };
		for (int i = 0; i < VS_MON_MAX_CLIENTS; i++)
			p[3 + i] = (struct pollfd){ .fd = io->clients[i], .events = POLLIN };
		n = poll(p, 3 + VS_MON_MAX_CLIENTS, timeout_ms(deadline_ms));
		if (n < 0 && errno != EINTR)
			break;
		if (n == 0)
			break; /* the deadline */
		for (int s = 0; n > 0 && s < 2; s++)
			if (p[s].fd >= 0 && p[s].revents)
				output(io, s, buf);
		for (int i = 0; n > 0 && i < VS_MON_MAX_CLIENTS; i++)
			if (p[3 + i].fd >= 0 && p[3 + i].revents && io->clients[i] == p[3 + i].fd)
				client_input(io, i, buf);
		if (n > 0 && p[2].fd >= 0 && p[2].revents)
			accept_client(io);
	}
	free(buf);
	/* log_write() flushes every batch: the buffer holds nothing between
	 * calls, and an idle monitor does not keep its 256 KiB */
	free(io->lbuf);
	io->lbuf = NULL;
	return io->out < 0 && io->err < 0;
}

void vs_mon_io_pump(struct vs_mon_io *io)
{
	vs_mon_io_pump_until(io, -1);
}

void vs_mon_io_encode(const struct vs_mon_io *io, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%d,%d,%d,%d,%d,%d,%d,%llu,%hu,%hu", io->out, io->err,
			 (int)io->tty, io->tee_out, io->tee_err, io->listen, io->log_fd,
			 (unsigned long long)io->log_max, io->ws_row, io->ws_col);

	for (int i = 0; i < VS_MON_MAX_CLIENTS && n > 0 && (size_t)n < size; i++)
		if (io->clients[i] >= 0)
			n += snprintf(buf + n, size - (size_t)n, ",%d", io->clients[i]);
}

int vs_mon_io_decode(struct vs_mon_io *io, const char *s)
{
	unsigned long long max;
	int tty, used = 0, fd, k = 0;

	if (sscanf(s, "%d,%d,%d,%d,%d,%d,%d,%llu,%hu,%hu%n", &io->out, &io->err, &tty, &io->tee_out,
		   &io->tee_err, &io->listen, &io->log_fd, &max, &io->ws_row, &io->ws_col,
		   &used) != 10)
		return -EINVAL;
	io->tty = tty != 0;
	io->log_max = max;
	for (s += used; *s == ',' && k < VS_MON_MAX_CLIENTS; s += used) {
		if (sscanf(s, ",%d%n", &fd, &used) != 1)
			return -EINVAL;
		io->clients[k++] = fd;
	}
	if (*s)
		return -EINVAL;
	if (io->log_fd >= 0) {
		struct stat st;

		io->log_size = fstat(io->log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	return 0;
}

static void set_cloexec(int fd, bool on)
{
	int f = fd >= 0 ? fcntl(fd, F_GETFD) : -1;

	if (f >= 0)
		fcntl(fd, F_SETFD, on ? f | FD_CLOEXEC : f & ~FD_CLOEXEC);
}

void vs_mon_io_cloexec(const struct vs_mon_io *io, bool on)
{
	const int fds[] = { io->out, io->err, io->tee_out, io->tee_err, io->listen, io->log_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		set_cloexec(fds[i], on);
	for (int i = 0; i < VS_MON_MAX_CLIENTS; i++)
		set_cloexec(io->clients[i], on);
}
