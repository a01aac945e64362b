/* Whole-image operations behind `vessel img`: convert and bench engines. */
#ifndef VS_BLOCK_TOOLS_H
#define VS_BLOCK_TOOLS_H

#include <stdbool.h>
#include <stdint.h>

struct vs_blk;
struct vs_err;

struct vs_convert_opts {
	bool compress; /* dst must be qcow2: write compressed clusters */
	bool dst_is_zeroed; /* dst was just created: skip writing zeros */
	unsigned threads; /* workers (0: 2) */
	bool flush; /* fdatasync dst at the end (qemu-img: -t other than unsafe) */
	/* Called now and then with bytes done of total (may be NULL). */
	void (*progress)(void *opaque, uint64_t done, uint64_t total);
	void *opaque;
};

/* Copies src's content into dst (same virtual size or larger). Returns 0 or
 * -errno with *err. */
int vs_blk_convert(struct vs_blk *src, struct vs_blk *dst, const struct vs_convert_opts *o,
		   struct vs_err **err);

struct vs_bench_opts {
	uint64_t count, depth, size, step, offset;
	bool write;
	uint64_t flush_interval; /* 0: none */
	int pattern; /* byte written, default 0xa5 */
	bool log_flushes; /* print "flushed N" after each completed flush */
	bool unsafe; /* -t unsafe: the CLI opens the image VS_BLK_UNSAFE */
};

/* Runs count requests of size bytes at offset + i*step (wrapping at the image
 * size) with depth workers. Fills *secs. Returns 0 or -errno with *err. */
int vs_blk_bench(struct vs_blk *b, const struct vs_bench_opts *o, double *secs,
		 struct vs_err **err);

/* Compares a and b's content. *diff is the first differing offset, or -1.
 * Returns 0 or -errno. */
int vs_blk_compare(struct vs_blk *a, struct vs_blk *b, int64_t *diff);

#endif
