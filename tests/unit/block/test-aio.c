/* The asynchronous block engine (block/aio.c): requests complete out of
 * order (a slow one does not hold up later ones), the worker pool runs
 * requests in parallel up to its bound and no further, errors reach the
 * callback of the request that failed only, a flush starts only after every
 * write submitted before it completed (writes after it do not wait),
 * write-through and no-flush modes; then real raw and qcow2 images written
 * by many requests at once read back intact (qcow2: check clean).
 *
 * A test driver (struct vs_blk with its own ops) logs every call and can
 * hold calls at one offset until the test releases them. */
#include "block/aio.h"
#include "block/block.h"
#include "block/qcow2.h"
#include "common/err.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define SIZE (1u << 20)
#define SLOW_OFF 65536u /* calls at this offset wait for release */
#define BAD_OFF 131072u /* calls at this offset fail with EIO */
#define MAX_EV 64

/* ---- the test driver ---- */

struct fake {
	struct vs_blk blk;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool released;
	unsigned running, max_running;
	char ev[MAX_EV][16]; /* "r<off>", "w<off>", "f", "d", "z" in call order */
	unsigned nev;
	uint8_t data[SIZE];
};

static struct fake *to_fake(struct vs_blk *b)
{
	return (struct fake *)b;
}

/* Logs tag followed by off, or tag alone for 'f'. */
static void log_ev(struct fake *f, char tag, uint64_t off)
{
	pthread_mutex_lock(&f->lock);
	if (f->nev < MAX_EV && tag == 'f')
		snprintf(f->ev[f->nev++], sizeof(f->ev[0]), "f");
	else if (f->nev < MAX_EV)
		snprintf(f->ev[f->nev++], sizeof(f->ev[0]), "%c%llu", tag, (unsigned long long)off);
	pthread_mutex_unlock(&f->lock);
}

/* Entry of every data call: counts concurrency, holds SLOW_OFF calls. */
static int enter(struct fake *f, uint64_t off)
{
	pthread_mutex_lock(&f->lock);
	f->running++;
	if (f->running > f->max_running)
		f->max_running = f->running;
	while (off == SLOW_OFF && !f->released)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	return off == BAD_OFF ? -EIO : 0;
}

static void leave(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->running--;
	pthread_mutex_unlock(&f->lock);
}

static int fake_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off)
{
	struct fake *f = to_fake(b);
	int r = enter(f, off);

	if (r == 0)
		memcpy(buf, f->data + off, len);
	leave(f);
	log_ev(f, 'r', off);
	return r;
}

static int fake_pwrite(struct vs_blk *b, const void *buf, size_t len, uint64_t off)
{
	struct fake *f = to_fake(b);
	int r = enter(f, off);

	if (r == 0)
		memcpy(f->data + off, buf, len);
	leave(f);
	log_ev(f, 'w', off);
	return r;
}

static int fake_flush(struct vs_blk *b)
{
	log_ev(to_fake(b), 'f', 0);
	return 0;
}

static int fake_discard(struct vs_blk *b, uint64_t off, uint64_t len)
{
	(void)len;
	log_ev(to_fake(b), 'd', off);
	return 0;
}

static int fake_zeroes(struct vs_blk *b, uint64_t off, uint64_t len)
{
	memset(to_fake(b)->data + off, 0, len);
	log_ev(to_fake(b), 'z', off);
	return 0;
}

static const struct vs_blk_ops fake_ops = {
	.name = "fake",
	.pread = fake_pread,
	.pwrite = fake_pwrite,
	.flush = fake_flush,
	.discard = fake_discard,
	.write_zeroes = fake_zeroes,
};

static struct fake *fake_new(bool ro)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->blk.ops = &fake_ops;
	f->blk.size = SIZE;
	f->blk.ro = ro;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	return f;
}

static void fake_release(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->released = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* Index of event e in the log, or -1. */
static int ev_at(struct fake *f, const char *e)
{
	int at = -1;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nev && at < 0; i++)
		if (!strcmp(f->ev[i], e))
			at = (int)i;
	pthread_mutex_unlock(&f->lock);
	return at;
}

/* ---- requests and their completions ---- */

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static unsigned done_order; /* completions so far */

struct treq {
	struct vs_blk_req r;
	struct iovec iov;
	uint8_t buf[4096];
	bool done;
	int ret;
	unsigned order; /* 1-based position among completions */
};

static void on_done(struct vs_blk_req *r, int ret)
{
	struct treq *t = r->opaque;

	pthread_mutex_lock(&done_lock);
	t->ret = ret;
	t->order = ++done_order;
	t->done = true;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

static void treq_submit(struct vs_blk_aio *a, struct treq *t, enum vs_blk_op op, uint64_t off)
{
	memset(t, 0, sizeof(*t));
	t->iov = (struct iovec){ t->buf, sizeof(t->buf) };
	t->r = (struct vs_blk_req){
		.op = op, .iov = &t->iov, .niov = 1, .off = off, .done = on_done, .opaque = t
	};
	vs_blk_aio_submit(a, &t->r);
}

/* Waits up to 10 s for t; returns whether it completed. */
static bool wait_done(struct treq *t)
{
	struct timespec until;
	bool d;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&done_lock);
	while (!t->done && pthread_cond_timedwait(&done_cond, &done_lock, &until) == 0)
		;
	d = t->done;
	pthread_mutex_unlock(&done_lock);
	return d;
}

static bool is_done(struct treq *t)
{
	bool d;

	pthread_mutex_lock(&done_lock);
	d = t->done;
	pthread_mutex_unlock(&done_lock);
	return d;
}

/* ---- the engine against the test driver ---- */

static void test_slow_request_does_not_block_later_ones(void **state)
{
	struct fake *f = fake_new(false);
	struct vs_blk_aio *a;
	struct treq slow, fast;

	(void)state;
	assert_int_equal(vs_blk_aio_new(&f->blk, 4, 0, &a), 0);
	f->data[0] = 0x5a;
	treq_submit(a, &slow, VS_BLK_OP_READ, SLOW_OFF);
	treq_submit(a, &fast, VS_BLK_OP_READ, 0);
	assert_true(wait_done(&fast));
	assert_int_equal(fast.ret, 0);
	assert_int_equal(fast.buf[0], 0x5a);
	usleep(20000);
	assert_false(is_done(&slow));
	fake_release(f);
	assert_true(wait_done(&slow));
	assert_true(fast.order < slow.order);
	vs_blk_aio_free(a);
	free(f);
}

static void test_parallel_up_to_the_bound(void **state)
{
	struct fake *f = fake_new(false);
	struct vs_blk_aio *a;
	struct treq slow[3], fast;

	(void)state;
	assert_int_equal(vs_blk_aio_new(&f->blk, 3, 0, &a), 0);
	for (int i = 0; i < 3; i++)
		treq_submit(a, &slow[i], VS_BLK_OP_READ, SLOW_OFF);
	treq_submit(a, &fast, VS_BLK_OP_READ, 0);
	/* three workers, all held: the fourth request waits its turn */
	usleep(100000);
	assert_false(is_done(&fast));
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->max_running, 3);
	pthread_mutex_unlock(&f->lock);
	fake_release(f);
	assert_true(wait_done(&fast));
	vs_blk_aio_drain(a);
	for (int i = 0; i < 3; i++)
		assert_true(is_done(&slow[i]));
	vs_blk_aio_free(a);
	free(f);
}

static void test_errors_reach_their_request_only(void **state)
{
	struct fake *f = fake_new(false), *ro = fake_new(true);
	struct vs_blk_aio *a, *b;
	struct treq bad, past, good, rofs;

	(void)state;
	assert_int_equal(vs_blk_aio_new(&f->blk, 2, 0, &a), 0);
	assert_int_equal(vs_blk_aio_new(&ro->blk, 1, 0, &b), 0);
	treq_submit(a, &bad, VS_BLK_OP_WRITE, BAD_OFF);
	treq_submit(a, &past, VS_BLK_OP_READ, SIZE - 2048);
	treq_submit(a, &good, VS_BLK_OP_READ, 4096);
	treq_submit(b, &rofs, VS_BLK_OP_WRITE, 0);
	vs_blk_aio_drain(a);
	vs_blk_aio_drain(b);
	assert_int_equal(bad.ret, -EIO);
	assert_int_equal(past.ret, -EINVAL);
	assert_int_equal(good.ret, 0);
	assert_int_equal(rofs.ret, -EROFS);
	assert_int_equal(ev_at(ro, "w0"), -1);
	vs_blk_aio_free(a);
	vs_blk_aio_free(b);
	free(f);
	free(ro);
}

static void test_flush_waits_for_writes_submitted_before_it(void **state)
{
	struct fake *f = fake_new(false);
	struct vs_blk_aio *a;
	struct treq w1, w2, fl, w3;
	char slow_ev[16];

	(void)state;
	assert_int_equal(vs_blk_aio_new(&f->blk, 4, 0, &a), 0);
	treq_submit(a, &w1, VS_BLK_OP_WRITE, SLOW_OFF);
	treq_submit(a, &w2, VS_BLK_OP_WRITE, 0);
	treq_submit(a, &fl, VS_BLK_OP_FLUSH, 0);
	treq_submit(a, &w3, VS_BLK_OP_WRITE, 8192);
	/* the write after the flush is not held up by it */
	assert_true(wait_done(&w2));
	assert_true(wait_done(&w3));
	usleep(50000);
	assert_false(is_done(&fl));
	assert_int_equal(ev_at(f, "f"), -1);
	fake_release(f);
	assert_true(wait_done(&fl));
	vs_blk_aio_drain(a);
	snprintf(slow_ev, sizeof(slow_ev), "w%u", SLOW_OFF);
	assert_true(ev_at(f, slow_ev) >= 0);
	assert_true(ev_at(f, "f") > ev_at(f, slow_ev));
	assert_true(fl.order > w1.order);
	assert_true(fl.order > w2.order);
	assert_int_equal(fl.ret, 0);
	vs_blk_aio_free(a);
	free(f);
}

static void test_discard_and_zeroes_are_writes_for_a_flush(void **state)
{
	struct fake *f = fake_new(false);
	struct vs_blk_aio *a;
	struct vs_blk_range rg[2] = { { 0, 4096 }, { 8192, 4096 } };
	struct treq z, fl;

	(void)state;
	assert_int_equal(vs_blk_aio_new(&f->blk, 4, 0, &a), 0);
	memset(f->data, 0xff, 16384);
	memset(&z, 0, sizeof(z));
	z.r = (struct vs_blk_req){ .op = VS_BLK_OP_WRITE_ZEROES,
				   .ranges = rg,
				   .nranges = 2,
				   .done = on_done,
				   .opaque = &z };
	vs_blk_aio_submit(a, &z.r);
	treq_submit(a, &fl, VS_BLK_OP_FLUSH, 0);
	vs_blk_aio_drain(a);
	assert_int_equal(z.ret, 0);
	assert_true(ev_at(f, "z0") < ev_at(f, "z8192"));
	assert_true(ev_at(f, "f") > ev_at(f, "z8192"));
	assert_int_equal(f->data[0], 0);
	assert_int_equal(f->data[4096], 0xff);
	assert_int_equal(f->data[8192], 0);
	vs_blk_aio_free(a);
	free(f);
}

static void test_writethrough_and_no_flush(void **state)
{
	struct fake *f = fake_new(false), *g = fake_new(false);
	struct vs_blk_aio *a, *b;
	struct treq w, fl;

	(void)state;
	assert_int_equal(vs_blk_aio_new(&f->blk, 1, VS_BLK_AIO_WRITETHROUGH, &a), 0);
	treq_submit(a, &w, VS_BLK_OP_WRITE, 0);
	vs_blk_aio_drain(a);
	assert_int_equal(ev_at(f, "w0"), 0);
	assert_int_equal(ev_at(f, "f"), 1); /* durable before it completed */
	vs_blk_aio_set_writethrough(a, false);
	treq_submit(a, &w, VS_BLK_OP_WRITE, 4096);
	vs_blk_aio_drain(a);
	assert_int_equal(f->nev, 3);

	assert_int_equal(vs_blk_aio_new(&g->blk, 1, VS_BLK_AIO_NO_FLUSH, &b), 0);
	treq_submit(b, &fl, VS_BLK_OP_FLUSH, 0);
	vs_blk_aio_drain(b);
	assert_int_equal(fl.ret, 0);
	assert_int_equal(ev_at(g, "f"), -1);
	vs_blk_aio_free(a);
	vs_blk_aio_free(b);
	free(f);
	free(g);
}

/* ---- real images, many requests at once ---- */

#define NREQ 128
#define REQ_LEN 8192u

static void fill(uint8_t *p, unsigned i)
{
	for (unsigned j = 0; j < REQ_LEN; j++)
		p[j] = (uint8_t)(i * 7 + j * 13 + 1);
}

/* Writes NREQ requests (odd ones from two iovecs) at once, flushes,
 * reopens and reads them all back at once. */
static void parallel_round_trip(const char *path, const char *fmt)
{
	static uint8_t bufs[NREQ][REQ_LEN];
	static struct iovec iov[NREQ][2];
	static struct treq rq[NREQ];
	struct vs_blk *b = NULL;
	struct vs_blk_aio *a;
	struct vs_err *err = NULL;
	struct treq fl;

	assert_int_equal(vs_blk_open(path, fmt, 0, &b, &err), 0);
	assert_int_equal(vs_blk_aio_new(b, 8, 0, &a), 0);
	for (unsigned i = 0; i < NREQ; i++) {
		unsigned split = i % 2 ? 512 * (i % 7 + 1) : REQ_LEN;

		fill(bufs[i], i);
		iov[i][0] = (struct iovec){ bufs[i], split };
		iov[i][1] = (struct iovec){ bufs[i] + split, REQ_LEN - split };
		memset(&rq[i], 0, sizeof(rq[i]));
		/* scattered: request i lands at slot (i * 37) % NREQ */
		rq[i].r = (struct vs_blk_req){ .op = VS_BLK_OP_WRITE,
					       .iov = iov[i],
					       .niov = split == REQ_LEN ? 1 : 2,
					       .off = (uint64_t)((i * 37) % NREQ) * REQ_LEN,
					       .done = on_done,
					       .opaque = &rq[i] };
		vs_blk_aio_submit(a, &rq[i].r);
	}
	treq_submit(a, &fl, VS_BLK_OP_FLUSH, 0);
	vs_blk_aio_drain(a);
	for (unsigned i = 0; i < NREQ; i++)
		assert_int_equal(rq[i].ret, 0);
	assert_int_equal(fl.ret, 0);
	vs_blk_aio_free(a);
	vs_blk_close(b);

	assert_int_equal(vs_blk_open(path, fmt, 0, &b, &err), 0);
	assert_int_equal(vs_blk_aio_new(b, 8, 0, &a), 0);
	for (unsigned i = 0; i < NREQ; i++) {
		memset(bufs[i], 0, REQ_LEN);
		iov[i][0] = (struct iovec){ bufs[i], REQ_LEN };
		memset(&rq[i], 0, sizeof(rq[i]));
		rq[i].r = (struct vs_blk_req){ .op = VS_BLK_OP_READ,
					       .iov = iov[i],
					       .niov = 1,
					       .off = (uint64_t)((i * 37) % NREQ) * REQ_LEN,
					       .done = on_done,
					       .opaque = &rq[i] };
		vs_blk_aio_submit(a, &rq[i].r);
	}
	vs_blk_aio_drain(a);
	for (unsigned i = 0; i < NREQ; i++) {
		uint8_t want[REQ_LEN];

		fill(want, i);
		assert_int_equal(rq[i].ret, 0);
		assert_memory_equal(bufs[i], want, REQ_LEN);
	}
	if (!strcmp(fmt, "qcow2")) {
		struct vs_blk_check_result res = { 0 };

		assert_int_equal(qcow2_check(b, VS_BLK_REPAIR_NONE, &res, &err), 0);
		assert_int_equal(res.corruptions, 0);
		assert_int_equal(res.leaks, 0);
	}
	vs_blk_aio_free(a);
	vs_blk_close(b);
}

static void test_raw_many_requests_at_once(void **state)
{
	char path[] = "/tmp/vs-test-aio-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	close(fd);
	parallel_round_trip(path, "raw");
	unlink(path);
}

static void test_qcow2_many_allocating_requests_at_once(void **state)
{
	char path[] = "/tmp/vs-test-aio-XXXXXX";
	struct qcow2_create_opts o = { .size = SIZE, .cluster_size = 4096 };
	struct vs_err *err = NULL;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(qcow2_create(path, &o, &err), 0);
	parallel_round_trip(path, "qcow2");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_request_does_not_block_later_ones),
		cmocka_unit_test(test_parallel_up_to_the_bound),
		cmocka_unit_test(test_errors_reach_their_request_only),
		cmocka_unit_test(test_flush_waits_for_writes_submitted_before_it),
		cmocka_unit_test(test_discard_and_zeroes_are_writes_for_a_flush),
		cmocka_unit_test(test_writethrough_and_no_flush),
		cmocka_unit_test(test_raw_many_requests_at_once),
		cmocka_unit_test(test_qcow2_many_allocating_requests_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
