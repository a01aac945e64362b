/* File I/O helpers and the block test hooks: see io.h. */
#include "common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_long kill_countdown = -1;
static int trace_fd = -1;
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void hooks_init(void)
{
	const char *k = getenv("VESSEL_BLOCK_KILL_AFTER_WRITES");
	const char *t = getenv("VESSEL_BLOCK_TRACE");

	if (k && *k)
		atomic_store(&kill_countdown, strtol(k, NULL, 10));
	if (t && *t)
		trace_fd = open(t, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

/* One record: tag, then up to two u64 and the payload, in one write(2)
 * sequence under the lock (the trace is for tests: failures are ignored). */
static void trace(char tag, uint64_t a, uint64_t b, const struct iovec *iov, int n)
{
	uint8_t head[17];
	ssize_t w = 0;

	head[0] = (uint8_t)tag;
	memcpy(head + 1, &a, 8);
	memcpy(head + 9, &b, 8);
	pthread_mutex_lock(&trace_lock);
	w += write(trace_fd, head, tag == 'S' ? 1 : sizeof(head));
	for (int i = 0; i < n; i++)
		w += write(trace_fd, iov[i].iov_base, iov[i].iov_len);
	pthread_mutex_unlock(&trace_lock);
	(void)w;
}

void vs_io_hook_write(const struct iovec *iov, int n, uint64_t off)
{
	uint64_t len = 0;

	pthread_once(&hooks_once, hooks_init);
	if (atomic_load(&kill_countdown) >= 0 && atomic_fetch_sub(&kill_countdown, 1) == 0)
		raise(SIGKILL);
	if (trace_fd < 0)
		return;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	trace('W', off, len, iov, n);
}

void vs_io_hook_punch(uint64_t off, uint64_t len)
{
	pthread_once(&hooks_once, hooks_init);
	if (trace_fd >= 0)
		trace('P', off, len, NULL, 0);
}

void vs_io_hook_sync(void)
{
	pthread_once(&hooks_once, hooks_init);
	if (trace_fd >= 0)
		trace('S', 0, 0, NULL, 0);
}

int vs_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) { /* past EOF reads as zeros */
			memset(p, 0, len);
			return 0;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int vs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	vs_io_hook_write(&(struct iovec){ (void *)buf, len }, 1, off);
	return write_all(fd, buf, len, off);
}

static uint64_t iov_total(const struct iovec *iov, unsigned n)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* One vectored call; after a short or interrupted one, the whole request
 * again segment by segment (reads and rewrites of the same bytes are
 * idempotent). */
static int rw_vec(int fd, const struct iovec *iov, unsigned n, uint64_t off, bool write)
{
	ssize_t got = write ? pwritev(fd, iov, (int)n, (off_t)off) :
			      preadv(fd, iov, (int)n, (off_t)off);
	int r = 0;

	if (got >= 0 && (uint64_t)got == iov_total(iov, n))
		return 0;
	if (got < 0 && errno != EINTR)
		return -errno;
	for (unsigned i = 0; i < n && r == 0; i++) {
		r = write ? write_all(fd, iov[i].iov_base, iov[i].iov_len, off) :
			    vs_pread_full(fd, iov[i].iov_base, iov[i].iov_len, off);
		off += iov[i].iov_len;
	}
	return r;
}

int vs_preadv_full(int fd, const struct iovec *iov, unsigned n, uint64_t off)
{
	return rw_vec(fd, iov, n, off, false);
}

int vs_pwritev_full(int fd, const struct iovec *iov, unsigned n, uint64_t off)
{
	vs_io_hook_write(iov, (int)n, off);
	return rw_vec(fd, iov, n, off, true);
}

void vs_write_gate_init(struct vs_write_gate *g, bool on)
{
	g->on = on;
	pthread_mutex_init(&g->lock, NULL);
}

void vs_write_gate_destroy(struct vs_write_gate *g)
{
	pthread_mutex_destroy(&g->lock);
}

void vs_write_gate_enter(struct vs_write_gate *g, size_t len)
{
	if (g->on && len >= VS_WRITE_GATE_MIN)
		pthread_mutex_lock(&g->lock);
}

void vs_write_gate_leave(struct vs_write_gate *g, size_t len)
{
	if (g->on && len >= VS_WRITE_GATE_MIN)
		pthread_mutex_unlock(&g->lock);
}

bool vs_buf_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* Check the first 16 bytes by hand, then compare the buffer with itself
	 * shifted by 16: fast and needs no zero page. */
	for (size_t i = 0; i < len && i < 16; i++)
		if (p[i])
			return false;
	return len <= 16 || memcmp(p, p + 16, len - 16) == 0;
}
