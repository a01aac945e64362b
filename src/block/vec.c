/* Vectored reads and writes over the flat driver ops (block.h). */
#include "block/block.h"

#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>

/* Total length of iov, or -EINVAL when it overflows or passes the end. */
static int64_t vec_len(const struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		if (iov[i].iov_len > UINT64_MAX - total)
			return -EINVAL;
		total += iov[i].iov_len;
	}
	if (off > vs_blk_size(b) || total > vs_blk_size(b) - off || total > INT64_MAX)
		return -EINVAL;
	return (int64_t)total;
}

int vs_blk_preadv(struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off)
{
	int64_t total = vec_len(b, iov, n, off);
	int r = 0;

	if (total < 0)
		return (int)total;
	if (total && b->ops->preadv)
		return b->ops->preadv(b, iov, n, off);
	for (unsigned i = 0; i < n && r == 0; i++) {
		r = vs_blk_pread(b, iov[i].iov_base, iov[i].iov_len, off);
		off += iov[i].iov_len;
	}
	return r;
}

int vs_blk_pwritev(struct vs_blk *b, const struct iovec *iov, unsigned n, uint64_t off)
{
	int64_t total = vec_len(b, iov, n, off);
	int r = 0;

	if (total < 0)
		return (int)total;
	if (b->ro)
		return -EROFS;
	if (total && b->ops->pwritev)
		return b->ops->pwritev(b, iov, n, off);
	for (unsigned i = 0; i < n && r == 0; i++) {
		r = vs_blk_pwrite(b, iov[i].iov_base, iov[i].iov_len, off);
		off += iov[i].iov_len;
	}
	return r;
}
