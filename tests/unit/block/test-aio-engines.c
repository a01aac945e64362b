/* Both asynchronous block engines (block/aio.h: threads and io_uring)
 * through the same test bodies: reads, writes and flushes on raw images
 * through the page cache and O_DIRECT, many requests in flight (more than
 * the ring's depth), a read past the end of the file, short transfers and
 * -EAGAIN/-EINTR (injected on the ring's completions), errors reported to
 * the failing requests only, drain and cancel, plugged submissions, a discard that waits for
 * the ring, qcow2 data clusters; then AUTO picks io_uring here and falls
 * back to threads under a seccomp filter that refuses io_uring_setup.
 *
 * Each body runs once per engine (cmocka prestate: the kind). io_uring
 * cases skip when the kernel here refuses io_uring. */
#include "block/aio-internal.h"
#include "block/aio.h"
#include "block/block.h"
#include "block/qcow2.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define IMG_SIZE (4u << 20)
#define CHUNK (64u << 10)
#define NREQ 600 /* more than VS_BLK_AIO_DEPTH */

static enum vs_blk_aio_kind k_threads = VS_BLK_AIO_THREADS, k_uring = VS_BLK_AIO_IO_URING;

/* ---- helpers ---- */

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned done;
	unsigned calls[NREQ]; /* callbacks per request */
	int ret[NREQ];
};

struct treq {
	struct vs_blk_req io;
	struct iovec iov[3];
	unsigned idx;
	struct waiter *w;
};

static struct waiter waiter;

static void treq_done(struct vs_blk_req *io, int ret)
{
	struct treq *t = io->opaque;

	pthread_mutex_lock(&t->w->lock);
	t->w->calls[t->idx]++;
	t->w->ret[t->idx] = ret;
	t->w->done++;
	pthread_cond_broadcast(&t->w->cond);
	pthread_mutex_unlock(&t->w->lock);
}

static void waiter_reset(void)
{
	pthread_mutex_lock(&waiter.lock);
	waiter.done = 0;
	memset(waiter.calls, 0, sizeof(waiter.calls));
	memset(waiter.ret, 0x7f, sizeof(waiter.ret));
	pthread_mutex_unlock(&waiter.lock);
}

static void waiter_wait(unsigned n)
{
	pthread_mutex_lock(&waiter.lock);
	while (waiter.done < n)
		pthread_cond_wait(&waiter.cond, &waiter.lock);
	pthread_mutex_unlock(&waiter.lock);
}

/* A request with buf split into three segments (4 KiB, half, the rest). */
static void treq_rw(struct treq *t, unsigned idx, enum vs_blk_op op, uint8_t *buf, size_t len,
		    uint64_t off)
{
	size_t a = len > 8192 ? 4096 : len / 2, b = (len - a) / 2;

	*t = (struct treq){ .idx = idx, .w = &waiter };
	t->iov[0] = (struct iovec){ buf, a };
	t->iov[1] = (struct iovec){ buf + a, b };
	t->iov[2] = (struct iovec){ buf + a + b, len - a - b };
	t->io = (struct vs_blk_req){ .op = op, .iov = t->iov, .niov = 3, .off = off };
	t->io.done = treq_done;
	t->io.opaque = t;
}

static char *tmp_file(size_t size)
{
	char *path = strdup("/var/tmp/vs-test-engines-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
	return path;
}

static struct vs_blk *open_img(const char *path, const char *fmt, unsigned flags)
{
	struct vs_err *err = NULL;
	struct vs_blk *b = NULL;

	if (vs_blk_open(path, fmt, flags, &b, &err) < 0)
		fail_msg("open %s: %s", path, err->msg);
	return b;
}

/* The engine of kind for b, or NULL (the case skips) when io_uring is
 * refused here. */
static struct vs_blk_aio *engine(enum vs_blk_aio_kind kind, struct vs_blk *b, unsigned flags)
{
	struct vs_blk_aio_opts o = { .kind = kind, .max_workers = 8, .flags = flags };
	struct vs_blk_aio *a = NULL;
	int r = vs_blk_aio_open(b, &o, &a, NULL);

	if (r < 0 && kind == VS_BLK_AIO_IO_URING)
		return NULL;
	assert_int_equal(r, 0);
	assert_int_equal(vs_blk_aio_kind(a), kind);
	return a;
}

#define ENGINE_OR_SKIP(a, kind, b, flags)                                  \
	do {                                                               \
		(a) = engine((kind), (b), (flags));                        \
		if (!(a)) {                                                \
			vs_blk_close(b);                                   \
			print_message("SKIP: io_uring is refused here\n"); \
			skip();                                            \
		}                                                          \
	} while (0)

static uint8_t *aligned(size_t len)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, 4096, len), 0);
	return p;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* ---- the ring's completions, made short or retried (io_uring only) ---- */

static unsigned hook_calls;

static int short_hook(int res, const struct iovec *iov, unsigned niov, bool write, void *arg)
{
	unsigned n = __atomic_fetch_add(&hook_calls, 1, __ATOMIC_RELAXED);
	size_t left = 0, keep;

	(void)arg;
	if (n % 5 == 1)
		return -EAGAIN;
	if (n % 5 == 3)
		return -EINTR;
	for (unsigned i = 0; i < niov; i++)
		left += iov[i].iov_len;
	if (res <= 1024 || (size_t)res != left)
		return res;
	/* A third moved: a read's other bytes are spoilt until read again. */
	keep = (size_t)res / 3;
	for (unsigned i = 0; i < niov && !write; i++) {
		size_t c = keep < iov[i].iov_len ? keep : iov[i].iov_len;

		memset((uint8_t *)iov[i].iov_base + c, 0xee, iov[i].iov_len - c);
		keep -= c;
	}
	return res / 3;
}

/* ---- bodies ---- */

/* What the file holds, read without the engine, is wbuf; then b is closed
 * and the file removed. */
static void file_holds_and_close(struct vs_blk *b, const char *path, uint8_t *rbuf,
				 const uint8_t *wbuf)
{
	memset(rbuf, 0, IMG_SIZE);
	assert_int_equal(vs_blk_pread(b, rbuf, IMG_SIZE, 0), 0);
	assert_memory_equal(rbuf, wbuf, IMG_SIZE);
	vs_blk_close(b);
	unlink(path);
}

/* Writes every CHUNK of the image (three segments each), flushes, reads
 * them back in reverse order; with inject, through short_hook. */
static void rw_body(enum vs_blk_aio_kind kind, unsigned bflags, bool inject)
{
	char *path = tmp_file(IMG_SIZE);
	struct vs_blk *b = open_img(path, "raw", bflags);
	unsigned n = IMG_SIZE / CHUNK;
	uint8_t *wbuf = aligned(IMG_SIZE), *rbuf = aligned(IMG_SIZE);
	struct treq *t = calloc(n + 1, sizeof(*t));
	struct vs_blk_aio *a;
	uint64_t ring, sync, pool;

	ENGINE_OR_SKIP(a, kind, b, 0);
	if (inject && vs_blk_aio_ring(a))
		vs_uring_test_hook(vs_blk_aio_ring(a), short_hook, NULL);
	fill(wbuf, IMG_SIZE, 1);
	memset(rbuf, 0xaa, IMG_SIZE);
	waiter_reset();
	for (unsigned i = 0; i < n; i++) {
		treq_rw(&t[i], i, VS_BLK_OP_WRITE, wbuf + i * CHUNK, CHUNK, (uint64_t)i * CHUNK);
		vs_blk_aio_submit(a, &t[i].io);
	}
	t[n] = (struct treq){ .idx = n, .w = &waiter };
	t[n].io = (struct vs_blk_req){ .op = VS_BLK_OP_FLUSH, .done = treq_done, .opaque = &t[n] };
	vs_blk_aio_submit(a, &t[n].io);
	waiter_wait(n + 1);
	for (unsigned i = 0; i <= n; i++)
		assert_int_equal(waiter.ret[i], 0);
	waiter_reset();
	for (unsigned i = n; i-- > 0;) {
		treq_rw(&t[i], i, VS_BLK_OP_READ, rbuf + i * CHUNK, CHUNK, (uint64_t)i * CHUNK);
		vs_blk_aio_submit(a, &t[i].io);
	}
	vs_blk_aio_drain(a);
	assert_int_equal(waiter.done, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(waiter.ret[i], 0);
	assert_memory_equal(rbuf, wbuf, IMG_SIZE);
	vs_blk_aio_counts(a, &ring, &sync, &pool);
	if (kind == VS_BLK_AIO_IO_URING) {
		/* every read and write; the flush on the pool; O_DIRECT writes
		 * (unless VESSEL_AIO_URING_WRITES=1) mapped for idle workers,
		 * the first one at least */
		assert_int_equal(ring + sync, 2 * n);
		assert_true(ring >= n);
		if (!(bflags & VS_BLK_DIRECT) || getenv("VESSEL_AIO_URING_WRITES"))
			assert_int_equal(sync, 0);
		else
			assert_true(sync >= 1);
	} else {
		assert_int_equal(ring + sync, 0);
	}
	if (inject && kind == VS_BLK_AIO_IO_URING)
		assert_true(hook_calls > 2 * n);
	vs_blk_aio_free(a);
	file_holds_and_close(b, path, rbuf, wbuf);
	free(path), free(wbuf), free(rbuf), free(t);
}

static void test_rw_flush(void **state)
{
	rw_body(**(enum vs_blk_aio_kind **)state, 0, false);
}

static void test_rw_direct(void **state)
{
	rw_body(**(enum vs_blk_aio_kind **)state, VS_BLK_DIRECT, false);
}

/* The hook sees the ring's completions: O_DIRECT writes are queued there
 * too (VESSEL_AIO_URING_WRITES=1), so that their retries are exercised. */
static void test_short_transfers_and_retries(void **state)
{
	hook_calls = 0;
	setenv("VESSEL_AIO_URING_WRITES", "1", 1);
	rw_body(**(enum vs_blk_aio_kind **)state, VS_BLK_DIRECT, true);
	unsetenv("VESSEL_AIO_URING_WRITES");
	hook_calls = 0;
	rw_body(**(enum vs_blk_aio_kind **)state, 0, true);
}

/* One O_DIRECT write at a time (a worker always free): each is mapped by
 * the ring and issued by a worker with pwritev (aio-uring.c's head), reads
 * stay on the ring; with VESSEL_AIO_URING_WRITES=1 the writes go on the
 * ring too. The file holds what was written either way. */
static void direct_writes_body(bool on_ring)
{
	char *path = tmp_file(IMG_SIZE);
	struct vs_blk *b = open_img(path, "raw", VS_BLK_DIRECT);
	unsigned n = IMG_SIZE / CHUNK;
	uint8_t *wbuf = aligned(IMG_SIZE), *rbuf = aligned(IMG_SIZE);
	struct treq t;
	uint64_t ring, sync, pool;
	struct vs_blk_aio *a;

	if (on_ring)
		setenv("VESSEL_AIO_URING_WRITES", "1", 1);
	a = engine(VS_BLK_AIO_IO_URING, b, 0);
	unsetenv("VESSEL_AIO_URING_WRITES");
	if (!a) {
		vs_blk_close(b);
		print_message("SKIP: io_uring is refused here\n");
		skip();
	}
	fill(wbuf, IMG_SIZE, 5);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < n; i++) {
			waiter_reset();
			treq_rw(&t, 0, pass ? VS_BLK_OP_READ : VS_BLK_OP_WRITE,
				(pass ? rbuf : wbuf) + i * CHUNK, CHUNK, (uint64_t)i * CHUNK);
			vs_blk_aio_submit(a, &t.io);
			waiter_wait(1);
			assert_int_equal(waiter.ret[0], 0);
		}
	assert_memory_equal(rbuf, wbuf, IMG_SIZE);
	vs_blk_aio_counts(a, &ring, &sync, &pool);
	assert_int_equal(ring, on_ring ? 2 * n : n);
	assert_int_equal(sync, on_ring ? 0 : n);
	assert_int_equal(pool, 0);
	vs_blk_aio_free(a);
	file_holds_and_close(b, path, rbuf, wbuf);
	free(path), free(wbuf), free(rbuf);
}

static void test_direct_writes_take_a_free_worker(void **state)
{
	(void)state;
	direct_writes_body(false);
	direct_writes_body(true);
}

/* NREQ 4 KiB reads at once: more than the ring holds; all complete right.
 * Submitted under a plug, so the ring fills whatever the host's load (on a
 * busy host each read could otherwise complete before the next is queued)
 * and the rest take the thread pool. */
static void test_many_in_flight(void **state)
{
	enum vs_blk_aio_kind kind = **(enum vs_blk_aio_kind **)state;
	char *path = tmp_file(IMG_SIZE);
	struct vs_blk *b = open_img(path, "raw", VS_BLK_DIRECT);
	uint8_t *img = aligned(IMG_SIZE), *rbuf = aligned((size_t)NREQ * 4096);
	struct treq *t = calloc(NREQ, sizeof(*t));
	unsigned most = 0;
	struct vs_blk_aio *a;

	ENGINE_OR_SKIP(a, kind, b, 0);
	fill(img, IMG_SIZE, 7);
	assert_int_equal(vs_blk_pwrite(b, img, IMG_SIZE, 0), 0);
	waiter_reset();
	vs_blk_aio_plug(a);
	for (unsigned i = 0; i < NREQ; i++) {
		uint64_t off = (uint64_t)((i * 2654435761u) % (IMG_SIZE / 4096)) * 4096;

		treq_rw(&t[i], i, VS_BLK_OP_READ, rbuf + (size_t)i * 4096, 4096, off);
		vs_blk_aio_submit(a, &t[i].io);
		if (vs_blk_aio_ring_inflight(a) > most)
			most = vs_blk_aio_ring_inflight(a);
	}
	vs_blk_aio_unplug(a);
	waiter_wait(NREQ);
	for (unsigned i = 0; i < NREQ; i++) {
		assert_int_equal(waiter.calls[i], 1);
		assert_int_equal(waiter.ret[i], 0);
		assert_memory_equal(rbuf + (size_t)i * 4096, img + t[i].io.off, 4096);
	}
	if (kind == VS_BLK_AIO_IO_URING)
		assert_int_equal(most, VS_BLK_AIO_DEPTH);
	vs_blk_aio_free(a);
	vs_blk_close(b);
	unlink(path);
	free(path), free(img), free(rbuf), free(t);
}

/* A raw file of 1000 bytes is a 1024-byte disk whose tail reads as zeros. */
static void test_read_past_end_of_file(void **state)
{
	enum vs_blk_aio_kind kind = **(enum vs_blk_aio_kind **)state;
	char *path = tmp_file(0);
	uint8_t data[1000], buf[1024];
	int fd = open(path, O_WRONLY);
	struct vs_blk *b;
	struct vs_blk_aio *a;
	struct treq t;

	fill(data, sizeof(data), 3);
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(fd);
	b = open_img(path, "raw", 0);
	assert_int_equal(vs_blk_size(b), 1024);
	ENGINE_OR_SKIP(a, kind, b, 0);
	memset(buf, 0xff, sizeof(buf));
	waiter_reset();
	treq_rw(&t, 0, VS_BLK_OP_READ, buf, sizeof(buf), 0);
	vs_blk_aio_submit(a, &t.io);
	vs_blk_aio_drain(a);
	assert_int_equal(waiter.ret[0], 0);
	assert_memory_equal(buf, data, sizeof(data));
	for (size_t i = sizeof(data); i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	vs_blk_aio_free(a);
	vs_blk_close(b);
	unlink(path);
	free(path);
}

/* ---- a driver whose bad range fails (EBADF) on both paths ---- */

#define BAD_LO (1u << 20)
#define BAD_HI (2u << 20)

struct errdrv {
	struct vs_blk blk;
	int fd, badfd; /* badfd: the same file, opened O_PATH: all I/O fails */
	struct vs_blk_aio *a;
	unsigned ring_at_discard; /* ring requests in flight when a discard ran */
};

static bool in_bad(uint64_t off, uint64_t len)
{
	return off < BAD_HI && off + len > BAD_LO;
}

static int err_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off)
{
	struct errdrv *d = (struct errdrv *)b;

	if (in_bad(off, len))
		return -EBADF;
	return pread(d->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

static int err_pwrite(struct vs_blk *b, const void *buf, size_t len, uint64_t off)
{
	struct errdrv *d = (struct errdrv *)b;

	if (in_bad(off, len))
		return -EBADF;
	return pwrite(d->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

static int err_flush(struct vs_blk *b)
{
	(void)b;
	return 0;
}

static int err_discard(struct vs_blk *b, uint64_t off, uint64_t len)
{
	struct errdrv *d = (struct errdrv *)b;

	(void)off, (void)len;
	d->ring_at_discard += vs_blk_aio_ring_inflight(d->a);
	return 0;
}

/* Pieces end at BAD_LO and BAD_HI, so a request that crosses them has
 * several. */
static int err_map(struct vs_blk *b, uint64_t off, uint64_t len, bool write,
		   struct vs_blk_io_map *m)
{
	struct errdrv *d = (struct errdrv *)b;
	uint64_t end = off < BAD_LO ? BAD_LO : off < BAD_HI ? BAD_HI : IMG_SIZE;

	(void)write;
	*m = (struct vs_blk_io_map){ .fd = in_bad(off, 1) ? d->badfd : d->fd,
				     .dfd = -1,
				     .host = off,
				     .len = len < end - off ? len : end - off };
	return 0;
}

static const struct vs_blk_ops err_ops = {
	.name = "errdrv",
	.pread = err_pread,
	.pwrite = err_pwrite,
	.flush = err_flush,
	.discard = err_discard,
	.write_zeroes = err_discard,
	.map_io = err_map,
};

static struct errdrv *errdrv_new(char **path)
{
	struct errdrv *d = calloc(1, sizeof(*d));

	*path = tmp_file(IMG_SIZE);
	d->blk.ops = &err_ops;
	d->blk.size = IMG_SIZE;
	d->fd = open(*path, O_RDWR);
	d->badfd = open(*path, O_PATH);
	assert_true(d->fd >= 0 && d->badfd >= 0);
	return d;
}

static void errdrv_free(struct errdrv *d, char *path)
{
	close(d->fd);
	close(d->badfd);
	unlink(path);
	free(path);
	free(d);
}

/* Requests in, across and out of the bad range, interleaved: only those
 * touching it fail, each with its own error. */
static void test_errors_per_request(void **state)
{
	enum vs_blk_aio_kind kind = **(enum vs_blk_aio_kind **)state;
	char *path;
	struct errdrv *d = errdrv_new(&path);
	uint8_t *buf = aligned(64 * CHUNK);
	struct treq t[64];

	ENGINE_OR_SKIP(d->a, kind, &d->blk, 0);
	waiter_reset();
	for (unsigned i = 0; i < 64; i++) {
		/* every 48 KiB from BAD_LO - 1 MiB: some cross BAD_LO and BAD_HI */
		uint64_t off = BAD_LO - (1u << 20) + (uint64_t)i * 49152;

		treq_rw(&t[i], i, i % 2 ? VS_BLK_OP_WRITE : VS_BLK_OP_READ, buf + i * CHUNK, CHUNK,
			off);
		vs_blk_aio_submit(d->a, &t[i].io);
	}
	vs_blk_aio_drain(d->a);
	for (unsigned i = 0; i < 64; i++) {
		assert_int_equal(waiter.calls[i], 1);
		assert_int_equal(waiter.ret[i], in_bad(t[i].io.off, CHUNK) ? -EBADF : 0);
	}
	vs_blk_aio_free(d->a);
	errdrv_free(d, path);
	free(buf);
}

/* A discard runs only when nothing is on the ring; reads after it wait. */
static void test_discard_waits_for_the_ring(void **state)
{
	enum vs_blk_aio_kind kind = **(enum vs_blk_aio_kind **)state;
	char *path;
	struct errdrv *d = errdrv_new(&path);
	uint8_t *buf = aligned(128 * 4096);
	struct vs_blk_range rg = { 0, 4096 };
	struct treq t[129];

	ENGINE_OR_SKIP(d->a, kind, &d->blk, 0);
	waiter_reset();
	for (unsigned i = 0; i < 129; i++) {
		if (i == 64) {
			t[i] = (struct treq){ .idx = i, .w = &waiter };
			t[i].io = (struct vs_blk_req){ .op = VS_BLK_OP_DISCARD,
						       .ranges = &rg,
						       .nranges = 1,
						       .done = treq_done,
						       .opaque = &t[i] };
		} else {
			treq_rw(&t[i], i, VS_BLK_OP_READ, buf + (i % 128) * 4096, 4096,
				(uint64_t)i * 4096);
		}
		vs_blk_aio_submit(d->a, &t[i].io);
	}
	vs_blk_aio_drain(d->a);
	assert_int_equal(waiter.done, 129);
	assert_int_equal(d->ring_at_discard, 0);
	for (unsigned i = 0; i < 129; i++)
		assert_int_equal(waiter.ret[i], 0);
	vs_blk_aio_free(d->a);
	errdrv_free(d, path);
	free(buf);
}

/* drain returns with everything completed; cancel completes every request
 * exactly once (done or -ECANCELED) and returns with nothing in flight. */
static void test_drain_and_cancel(void **state)
{
	enum vs_blk_aio_kind kind = **(enum vs_blk_aio_kind **)state;
	char *path = tmp_file(IMG_SIZE);
	struct vs_blk *b = open_img(path, "raw", VS_BLK_DIRECT);
	uint8_t *rbuf = aligned((size_t)NREQ * 4096);
	struct treq *t = calloc(NREQ, sizeof(*t));
	struct vs_blk_aio *a;

	ENGINE_OR_SKIP(a, kind, b, 0);
	for (int round = 0; round < 2; round++) {
		waiter_reset();
		for (unsigned i = 0; i < NREQ; i++) {
			treq_rw(&t[i], i, VS_BLK_OP_READ, rbuf + (size_t)i * 4096, 4096,
				(uint64_t)(i % 1024) * 4096);
			vs_blk_aio_submit(a, &t[i].io);
		}
		if (round == 0)
			vs_blk_aio_drain(a);
		else
			vs_blk_aio_cancel(a);
		assert_int_equal(waiter.done, NREQ);
		assert_int_equal(vs_blk_aio_ring_inflight(a), 0);
		for (unsigned i = 0; i < NREQ; i++) {
			assert_int_equal(waiter.calls[i], 1);
			assert_true(waiter.ret[i] == 0 ||
				    (round == 1 && waiter.ret[i] == -ECANCELED));
		}
	}
	vs_blk_aio_free(a);
	vs_blk_close(b);
	unlink(path);
	free(path), free(rbuf), free(t);
}

/* Requests submitted between plug and unplug: on the ring they wait for
 * the unplug (one submission); every engine completes them all after it. */
static void test_plug_batches(void **state)
{
	enum vs_blk_aio_kind kind = **(enum vs_blk_aio_kind **)state;
	char *path = tmp_file(IMG_SIZE);
	struct vs_blk *b = open_img(path, "raw", VS_BLK_DIRECT);
	uint8_t *rbuf = aligned(16 * 4096);
	struct treq t[16];
	struct vs_blk_aio *a;

	ENGINE_OR_SKIP(a, kind, b, 0);
	waiter_reset();
	vs_blk_aio_plug(a);
	vs_blk_aio_plug(a); /* nested */
	for (unsigned i = 0; i < 16; i++) {
		treq_rw(&t[i], i, VS_BLK_OP_READ, rbuf + i * 4096, 4096, (uint64_t)i * 8192);
		vs_blk_aio_submit(a, &t[i].io);
	}
	vs_blk_aio_unplug(a);
	usleep(50000);
	if (kind == VS_BLK_AIO_IO_URING) {
		assert_int_equal(waiter.done, 0);
		assert_int_equal(vs_blk_aio_ring_inflight(a), 16);
	}
	vs_blk_aio_unplug(a);
	vs_blk_aio_drain(a);
	assert_int_equal(waiter.done, 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(waiter.ret[i], 0);
	/* only the first of the batch found the ring idle and went inline; a
	 * lone request on the idle ring does too */
	if (kind == VS_BLK_AIO_IO_URING && !getenv("VESSEL_AIO_URING_INLINE"))
		assert_int_equal(vs_blk_aio_ring_inline(a), 1);
	treq_rw(&t[0], 0, VS_BLK_OP_READ, rbuf, 4096, 8192);
	vs_blk_aio_submit(a, &t[0].io);
	vs_blk_aio_drain(a);
	assert_int_equal(waiter.done, 17);
	if (kind == VS_BLK_AIO_IO_URING && !getenv("VESSEL_AIO_URING_INLINE"))
		assert_int_equal(vs_blk_aio_ring_inline(a), 2);
	vs_blk_aio_free(a);
	vs_blk_close(b);
	unlink(path);
	free(path), free(rbuf);
}

/* qcow2: the allocating writes go through the driver, overwrites and reads
 * of allocated clusters through the ring; the image checks clean. */
static void test_qcow2_data_clusters(void **state)
{
	enum vs_blk_aio_kind kind = **(enum vs_blk_aio_kind **)state;
	char *path = tmp_file(0);
	struct qcow2_create_opts o = { .size = IMG_SIZE };
	struct vs_blk_check_result res = { 0 };
	uint8_t *wbuf = aligned(IMG_SIZE), *rbuf = aligned(IMG_SIZE);
	struct treq *t = calloc(IMG_SIZE / CHUNK, sizeof(*t));
	unsigned n = IMG_SIZE / CHUNK;
	struct vs_err *err = NULL;
	uint64_t ring, sync, pool;
	struct vs_blk_aio *a;
	struct vs_blk *b;

	assert_int_equal(qcow2_create(path, &o, &err), 0);
	b = open_img(path, "qcow2", VS_BLK_DIRECT);
	ENGINE_OR_SKIP(a, kind, b, 0);
	for (int pass = 0; pass < 3; pass++) { /* allocate, overwrite, read */
		enum vs_blk_op op = pass < 2 ? VS_BLK_OP_WRITE : VS_BLK_OP_READ;

		fill(wbuf, IMG_SIZE, pass < 2 ? (unsigned)pass + 10 : 11);
		waiter_reset();
		for (unsigned i = 0; i < n; i++) {
			treq_rw(&t[i], i, op, (op == VS_BLK_OP_READ ? rbuf : wbuf) + i * CHUNK,
				CHUNK, (uint64_t)i * CHUNK);
			vs_blk_aio_submit(a, &t[i].io);
		}
		vs_blk_aio_drain(a);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(waiter.ret[i], 0);
	}
	assert_memory_equal(rbuf, wbuf, IMG_SIZE);
	vs_blk_aio_counts(a, &ring, &sync, &pool);
	if (kind == VS_BLK_AIO_IO_URING) /* overwrites and reads; allocations on the pool */
		assert_int_equal(ring + sync, 2 * n);
	vs_blk_aio_free(a);
	assert_int_equal(vs_blk_flush(b), 0);
	assert_int_equal(vs_blk_check(b, VS_BLK_REPAIR_NONE, &res, &err), 0);
	assert_int_equal(res.corruptions + res.leaks, 0);
	vs_blk_close(b);
	unlink(path);
	free(path), free(wbuf), free(rbuf), free(t);
}

/* ---- choosing the engine ---- */

static void test_auto_is_io_uring_here(void **state)
{
	char *path = tmp_file(IMG_SIZE);
	struct vs_blk *b = open_img(path, "raw", 0);
	struct vs_blk_aio_opts o = { .kind = VS_BLK_AIO_AUTO, .max_workers = 2 };
	struct vs_blk_aio *a;
	const char *why = "unset";

	(void)state;
	assert_int_equal(vs_blk_aio_open(b, &o, &a, &why), 0);
	if (vs_blk_aio_kind(a) == VS_BLK_AIO_THREADS) {
		print_message("SKIP: io_uring is refused here (%s)\n", why);
		vs_blk_aio_free(a);
		vs_blk_close(b);
		unlink(path);
		free(path);
		skip();
	}
	assert_null(why);
	vs_blk_aio_free(a);
	vs_blk_close(b);
	unlink(path);
	free(path);
}

/* In a child under a seccomp filter that refuses io_uring_setup (as a
 * container runtime's default profile does): AUTO falls back to threads
 * and says why, IO_URING fails, and I/O works. */
static int fallback_child(const char *path)
{
	struct vs_blk_aio_opts o = { .kind = VS_BLK_AIO_AUTO, .max_workers = 2 };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct vs_blk *b = NULL;
	struct vs_blk_aio *a = NULL;
	struct vs_err *err = NULL;
	const char *why = NULL;
	uint8_t buf[4096] = { 1 }, back[4096];
	struct treq t;

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0) ||
	    seccomp_load(ctx))
		return 10;
	if (vs_blk_open(path, "raw", 0, &b, &err) < 0)
		return 11;
	if (vs_blk_aio_open(b, &o, &a, &why) < 0 || vs_blk_aio_kind(a) != VS_BLK_AIO_THREADS ||
	    !why || strcmp(why, "io_uring not supported"))
		return 12;
	waiter_reset();
	treq_rw(&t, 0, VS_BLK_OP_WRITE, buf, sizeof(buf), 8192);
	vs_blk_aio_submit(a, &t.io);
	vs_blk_aio_drain(a);
	if (waiter.ret[0] != 0 || vs_blk_pread(b, back, sizeof(back), 8192) ||
	    memcmp(buf, back, sizeof(buf)))
		return 13;
	vs_blk_aio_free(a);
	o.kind = VS_BLK_AIO_IO_URING;
	if (vs_blk_aio_open(b, &o, &a, &why) != -ENOSYS)
		return 14;
	vs_blk_close(b);
	return 0;
}

static void test_fallback_when_io_uring_is_refused(void **state)
{
	char *path = tmp_file(IMG_SIZE);
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fallback_child(path));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	free(path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

#define BOTH(fn) cmocka_unit_test_prestate(fn, &k_threads), cmocka_unit_test_prestate(fn, &k_uring)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_rw_flush),
		BOTH(test_rw_direct),
		BOTH(test_short_transfers_and_retries),
		BOTH(test_many_in_flight),
		BOTH(test_read_past_end_of_file),
		BOTH(test_errors_per_request),
		BOTH(test_discard_waits_for_the_ring),
		BOTH(test_drain_and_cancel),
		BOTH(test_plug_batches),
		BOTH(test_qcow2_data_clusters),
		cmocka_unit_test(test_direct_writes_take_a_free_worker),
		cmocka_unit_test(test_auto_is_io_uring_here),
		cmocka_unit_test(test_fallback_when_io_uring_is_refused),
	};

	pthread_mutex_init(&waiter.lock, NULL);
	pthread_cond_init(&waiter.cond, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
