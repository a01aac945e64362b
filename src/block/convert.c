/* `vessel img convert`'s engine: copy an image's content into another with
 * several workers, skipping what reads as zeros (block status, then a zero
 * test of every unit) and optionally compressing qcow2 clusters. */
#include "block/block.h"
#include "block/qcow2.h"
#include "block/tools.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CONVERT_CHUNK (2ULL << 20) /* a multiple of every cluster size */
#define RAW_UNIT (64ULL << 10)

struct conv {
	struct vs_blk *src, *dst;
	const struct vs_convert_opts *o;
	uint64_t size, unit;
	uint64_t next; /* next chunk index (atomic) */
	uint64_t done;
	pthread_mutex_t lock;
	int err;
};

/* Writes buf (len bytes at off) unit by unit, skipping zero units when the
 * destination already reads as zeros. */
static int put_data(struct conv *c, const uint8_t *buf, uint64_t len, uint64_t off)
{
	bool skip_zero = c->o->dst_is_zeroed;
	uint64_t p = 0, q, n;
	int r = 0;

	while (p < len && r == 0) {
		n = VS_MIN(c->unit - (off + p) % c->unit, len - p);
		if (c->o->compress) {
			if (!skip_zero || !vs_buf_is_zero(buf + p, n))
				r = qcow2_write_compressed(c->dst, buf + p, n, off + p);
			p += n;
			continue;
		}
		if (skip_zero && vs_buf_is_zero(buf + p, n)) {
			p += n;
			continue;
		}
		for (q = p + n; q < len; q += n) { /* extend over non-zero units */
			n = VS_MIN(c->unit, len - q);
			if (skip_zero && vs_buf_is_zero(buf + q, n))
				break;
		}
		r = vs_blk_pwrite(c->dst, buf + p, q - p, off + p);
		p = q;
	}
	return r;
}

/* Copies [off, off+len) extent by extent: what reads as zeros is skipped
 * outright when the destination already reads as zeros (no buffer to clear
 * and scan: most of a sparse image's CPU time went there), the rest is read
 * into buf (adjacent data extents together) and written. Chunks are
 * aligned to every cluster size, so no two workers share a cluster. */
static int copy_chunk(struct conv *c, uint8_t *buf, uint64_t off, uint64_t len)
{
	struct vs_blk_status st;
	uint64_t p = 0, run = 0; /* buf holds [off + p - run, off + p) */
	int r = 0;

	while (p < len && r == 0) {
		r = vs_blk_block_status(c->src, off + p, len - p, &st);
		if (r < 0)
			return r;
		/* compression writes whole clusters: it keeps zeros in the buffer */
		if ((st.flags & VS_BLK_ST_ZERO) && c->o->dst_is_zeroed && !c->o->compress) {
			r = run ? put_data(c, buf, run, off + p - run) : 0;
			run = 0;
		} else if (st.flags & VS_BLK_ST_ZERO) {
			memset(buf + run, 0, st.len);
			run += st.len;
		} else {
			r = vs_blk_pread(c->src, buf + run, st.len, off + p);
			run += st.len;
		}
		p += st.len;
	}
	if (r == 0 && run)
		r = put_data(c, buf, run, off + p - run);
	return r;
}

static void *conv_worker(void *arg)
{
	struct conv *c = arg;
	uint8_t *buf = xmalloc(CONVERT_CHUNK);
	int r = 0;

	for (;;) {
		uint64_t i = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED);
		uint64_t off = i * CONVERT_CHUNK, len;

		if (off >= c->size || __atomic_load_n(&c->err, __ATOMIC_RELAXED))
			break;
		len = VS_MIN(CONVERT_CHUNK, c->size - off);
		r = copy_chunk(c, buf, off, len);
		if (r < 0) {
			__atomic_store_n(&c->err, r, __ATOMIC_RELAXED);
			break;
		}
		pthread_mutex_lock(&c->lock);
		c->done += len;
		if (c->o->progress)
			c->o->progress(c->o->opaque, c->done, c->size);
		pthread_mutex_unlock(&c->lock);
	}
	free(buf);
	return NULL;
}

int vs_blk_convert(struct vs_blk *src, struct vs_blk *dst, const struct vs_convert_opts *o,
		   struct vs_err **err)
{
	struct conv c = { .src = src, .dst = dst, .o = o, .size = vs_blk_size(src) };
	unsigned n = o->threads ? o->threads : 2;
	pthread_t t[16];
	unsigned started = 0;
	int r = 0;

	if (vs_blk_size(dst) < c.size)
		return vs_err_set(err, -EINVAL, "destination is smaller than the source");
	if (o->compress && !qcow2_is(dst))
		return vs_err_set(err, -EINVAL, "compression needs a qcow2 destination");
	c.unit = qcow2_is(dst) ? qcow2_cluster_size(dst) : RAW_UNIT;
	pthread_mutex_init(&c.lock, NULL);
	for (; started < VS_MIN(n, 16u) && r == 0; started++)
		r = -pthread_create(&t[started], NULL, conv_worker, &c);
	if (r < 0)
		started--;
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&c.lock);
	if (r == 0)
		r = c.err;
	if (r == 0 && o->flush)
		r = vs_blk_flush(dst);
	if (r < 0)
		return vs_err_setsys(err, r, "convert %s -> %s", src->filename, dst->filename);
	return 0;
}
