/* Content comparison of two images, as `qemu-img compare`: equal over the
 * common size, and the larger one reads as zeros past it. Zero extents
 * reported by both are not read. */
#include "block/block.h"
#include "block/tools.h"
#include "common/io.h"
#include "common/util.h"

#include <stdlib.h>

/* Compares [off, off+len) of a and b; *diff = first differing offset or -1. */
static int compare_range(struct vs_blk *a, struct vs_blk *b, uint64_t off, uint64_t len,
			 int64_t *diff)
{
	const uint64_t chunk = 1 << 20;
	uint8_t *x = xmalloc(chunk), *y = xmalloc(chunk);
	int r = 0;

	*diff = -1;
	for (uint64_t p = off; p < off + len && r == 0 && *diff < 0; p += chunk) {
		uint64_t n = VS_MIN(chunk, off + len - p);
		struct vs_blk_status sa, sb;

		if (vs_blk_block_status(a, p, n, &sa) == 0 &&
		    vs_blk_block_status(b, p, n, &sb) == 0 &&
		    (sa.flags & sb.flags & VS_BLK_ST_ZERO) && sa.len == n && sb.len == n)
			continue;
		r = vs_blk_pread(a, x, n, p);
		if (r == 0)
			r = vs_blk_pread(b, y, n, p);
		for (uint64_t i = 0; r == 0 && i < n; i++)
			if (x[i] != y[i]) {
				*diff = (int64_t)(p + i);
				break;
			}
	}
	free(x);
	free(y);
	return r;
}

static int zero_tail(struct vs_blk *big, uint64_t from, int64_t *diff)
{
	uint8_t *x = xmalloc(1 << 20);
	int r = 0;

	*diff = -1;
	for (uint64_t p = from; p < vs_blk_size(big) && r == 0 && *diff < 0; p += 1 << 20) {
		uint64_t n = VS_MIN(1 << 20, vs_blk_size(big) - p);

		r = vs_blk_pread(big, x, n, p);
		if (r == 0 && !vs_buf_is_zero(x, n))
			for (uint64_t i = 0; i < n; i++)
				if (x[i]) {
					*diff = (int64_t)(p + i);
					break;
				}
	}
	free(x);
	return r;
}

int vs_blk_compare(struct vs_blk *a, struct vs_blk *b, int64_t *diff)
{
	uint64_t common = VS_MIN(vs_blk_size(a), vs_blk_size(b));
	int r = compare_range(a, b, 0, common, diff);

	if (r == 0 && *diff < 0 && vs_blk_size(a) != vs_blk_size(b))
		r = zero_tail(vs_blk_size(a) > common ? a : b, common, diff);
	return r;
}
