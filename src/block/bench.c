/* `vessel img bench`: qemu-img bench's access pattern (request i at
 * offset + i*step, wrapping at the image size) with depth worker threads on
 * the block interface. With log_flushes, prints "flushed N" once a flush has
 * completed, N being a count such that requests 0..N-1 had all completed
 * before that flush started (the crash test relies on it). */
#include "block/block.h"
#include "block/tools.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bench {
	struct vs_blk *b;
	const struct vs_bench_opts *o;
	uint64_t next; /* next request index (atomic) */
	pthread_mutex_t lock; /* guards done, contig, completed, err */
	uint8_t *done; /* one byte per request */
	uint64_t contig; /* requests 0..contig-1 are complete */
	uint64_t completed;
	int err;
};

/* qemu-img 7.2's rule (offset advanced by step, modulo the image size),
 * except that a request that would overrun the end goes to offset 0 where
 * qemu-img fails with EIO. */
static uint64_t req_offset(const struct bench *s, uint64_t i)
{
	uint64_t size = vs_blk_size(s->b);
	uint64_t pos = (uint64_t)(((unsigned __int128)i * s->o->step + s->o->offset) % size);

	return pos + s->o->size > size ? 0 : pos;
}

/* Records completion of request i; returns the contig mark to flush at, or 0. */
static uint64_t complete(struct bench *s, uint64_t i)
{
	uint64_t mark = 0;

	pthread_mutex_lock(&s->lock);
	s->done[i] = 1;
	while (s->contig < s->o->count && s->done[s->contig])
		s->contig++;
	s->completed++;
	if (s->o->flush_interval && s->completed % s->o->flush_interval == 0)
		mark = s->contig ? s->contig : UINT64_MAX;
	pthread_mutex_unlock(&s->lock);
	return mark;
}

static int do_flush(struct bench *s, uint64_t mark)
{
	char line[48];
	int r = vs_blk_flush(s->b), n;

	if (r == 0 && s->o->log_flushes && mark != UINT64_MAX) {
		n = snprintf(line, sizeof(line), "flushed %" PRIu64 "\n", mark);
		pthread_mutex_lock(&s->lock);
		if (write(STDOUT_FILENO, line, (size_t)n) != n)
			r = -EIO;
		pthread_mutex_unlock(&s->lock);
	}
	return r;
}

static void *worker(void *arg)
{
	struct bench *s = arg;
	uint8_t *buf = xmalloc(s->o->size);
	int r = 0;

	memset(buf, s->o->pattern, s->o->size);
	for (;;) {
		uint64_t i = __atomic_fetch_add(&s->next, 1, __ATOMIC_RELAXED), mark;

		if (i >= s->o->count || __atomic_load_n(&s->err, __ATOMIC_RELAXED))
			break;
		if (s->o->write)
			r = vs_blk_pwrite(s->b, buf, s->o->size, req_offset(s, i));
		else
			r = vs_blk_pread(s->b, buf, s->o->size, req_offset(s, i));
		mark = r == 0 ? complete(s, i) : 0;
		if (r == 0 && mark)
			r = do_flush(s, mark);
		if (r < 0) {
			__atomic_store_n(&s->err, r, __ATOMIC_RELAXED);
			break;
		}
	}
	free(buf);
	return NULL;
}

int vs_blk_bench(struct vs_blk *b, const struct vs_bench_opts *o, double *secs, struct vs_err **err)
{
	struct bench s = { .b = b, .o = o };
	pthread_t *t;
	uint64_t start, n = VS_MAX(o->depth, 1);
	int r = 0;

	if (!o->size || o->size > vs_blk_size(b))
		return vs_err_set(err, -EINVAL,
				  "request size must be between 1 and the image size");
	s.done = xzalloc(o->count ? o->count : 1);
	pthread_mutex_init(&s.lock, NULL);
	t = xzalloc(sizeof(*t) * n);
	start = vs_now_ns();
	for (uint64_t i = 0; i < n && r == 0; i++)
		r = -pthread_create(&t[i], NULL, worker, &s);
	for (uint64_t i = 0; i < n; i++)
		if (t[i])
			pthread_join(t[i], NULL);
	if (r == 0 && s.err == 0 && o->flush_interval)
		s.err = vs_blk_flush(b);
	*secs = (double)(vs_now_ns() - start) / 1e9;
	free(t);
	free(s.done);
	pthread_mutex_destroy(&s.lock);
	if (r < 0)
		return vs_err_setsys(err, r, "bench: start worker");
	if (s.err < 0)
		return vs_err_setsys(err, s.err, "bench: I/O failed");
	return 0;
}
