/* File I/O helpers: see io.h (the test hooks are in io-hooks.c). */
#include "common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

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

int vs_pwrite_zeros(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];

	for (uint64_t done = 0; done < len;) {
		uint64_t k = len - done < sizeof(zeros) ? len - done : sizeof(zeros);
		int r = vs_pwrite_full(fd, zeros, k, off + done);

		if (r < 0)
			return r;
		done += k;
	}
	return 0;
}

int vs_zero_range(int fd, uint64_t off, uint64_t len)
{
	vs_io_hook_punch(off, len);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	return vs_pwrite_zeros(fd, off, len);
}

int vs_preallocate(int fd, uint64_t off, uint64_t len, bool full)
{
	if (full)
		return vs_pwrite_zeros(fd, off, len);
	return -posix_fallocate(fd, (off_t)off, (off_t)len);
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
