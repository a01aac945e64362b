/* The io_uring path of the asynchronous block engine (aio.h, QEMU's
 * aio=io_uring): a READ or WRITE is mapped onto host files by the driver
 * (block.h vs_blk_map_io), each contiguous piece becomes one readv/writev
 * on the ring (on the O_DIRECT twin when its buffers are aligned), and the
 * request completes when all its pieces have. Completions arrive through
 * an eventfd registered with the ring and watched by an event loop
 * (common/evloop.h): the caller's (a virtio device's I/O thread) or one
 * the ring runs on a thread of its own.
 *
 * Each piece finishes whole: a short transfer continues from where it
 * stopped, -EAGAIN and -EINTR are resubmitted, a read that meets the end
 * of the file fills zeros (as vs_preadv_full), a write that makes no
 * progress is -EIO. O_DIRECT's -EINVAL (a device with larger blocks) hands
 * the request back to the pool, whose driver path falls back to the page
 * cache; any other error completes the request with it. At most depth
 * operations are in flight; a request that does not fit goes to the pool.
 *
 * An operation that finds the ring idle (nothing else in flight) is issued
 * inline, by the io_uring_enter that submits it: with nothing to be
 * serialized behind, it saves the hop through a worker thread, which a
 * guest issuing one request at a time (dd O_DIRECT under emu, where the
 * guest sleeps on every request) pays on every request. The others are
 * flagged IOSQE_ASYNC: io_uring's kernel workers (io-wq)
 * issue them, in parallel, and post their completions. Issued inline by
 * io_uring_enter instead, each submission ran the host's block driver on
 * the I/O thread, and where the host is itself a virtual machine (ours:
 * its virtio disk's doorbell is an exit to the outer hypervisor) that
 * serialized tens of microseconds per request there: 16 random 4 KiB reads
 * in flight in the test guest gave 3200-5500 IOPS inline against 4400-5400
 * with IOSQE_ASYNC and 5300-6200 with the worker pool (bench/blk.sh runs,
 * 2026-12-07). VESSEL_AIO_URING_INLINE=1 issues every operation inline,
 * for hosts where the submission is cheap.
 *
 * Writes to the O_DIRECT twin are mapped here but, while the pool has a
 * free worker, issued by that worker with a plain pwritev (VS_URING_SYNC,
 * vs_uring_write_sync), as QEMU's aio=threads does. Linux completes an
 * asynchronous O_DIRECT write (io_uring's, libaio's) on ext4 or XFS
 * through the file system's dio workqueue, on a kernel worker bound to the
 * CPU that took the disk's interrupt (io_uring stopped asking for the
 * completion in its own task context in Linux 6.6: IOCB_DIO_CALLER_COMP is
 * off), and that worker waits there behind whatever runs on that CPU: on
 * our 2-core hosts, with the guest's vCPU spinning on one core and other
 * builds on the other, 3-15 ms at times, 40-100 ms of a 256 MiB sequential
 * write pass (docs/virtio.md). A synchronous O_DIRECT write is woken from
 * the interrupt directly and completes in its own thread, which the
 * scheduler may run on either core. Reads complete inline either way and
 * stay on the ring; VESSEL_AIO_URING_WRITES=1 queues O_DIRECT writes on
 * the ring too (for comparisons).
 *
 * Map: building a request's pieces; the ring (submit, resubmit); completion
 * handling; the loop; creation and teardown. */
#include "block/aio-internal.h"
#include "block/aio.h"
#include "block/block.h"
#include "block/file.h"
#include "common/evloop.h"
#include "common/io.h"
#include "common/util.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_PIECES 16 /* more fragmented requests take the pool */
#define REAP_BATCH 32

struct ureq;

/* One readv/writev on the ring, until its bytes have all moved. */
struct uop {
	struct ureq *parent;
	int fd;
	bool direct; /* fd is the O_DIRECT twin */
	bool write;
	uint64_t off; /* in fd, of the next byte to move */
	struct iovec *iov; /* the rest to move (advanced after a short transfer) */
	unsigned niov;
	size_t left;
};

/* A request on the ring: its pieces, and the iovecs they point into. */
struct ureq {
	struct vs_blk_req *req;
	unsigned nops, pending;
	int ret; /* the first error */
	bool to_pool; /* give it back to the pool when its pieces are done */
	struct uop ops[];
};

struct vs_uring {
	struct io_uring ring;
	struct vs_blk_aio *a;
	struct vs_blk *b;
	pthread_mutex_t lock; /* the submission side, ops */
	unsigned depth;
	unsigned ops; /* operations in flight */
	unsigned plugged; /* vs_uring_plug depth: queue without submitting */
	/* Issue every operation from io_uring_enter itself
	 * (VESSEL_AIO_URING_INLINE=1), not only the one that finds the ring idle,
	 * rather than from io_uring's kernel workers (IOSQE_ASYNC): see the head
	 * of the file. */
	bool inline_issue;
	bool direct_writes; /* VESSEL_AIO_URING_WRITES=1: O_DIRECT writes on the ring too */
	uint64_t inline_ops; /* operations issued inline (lock held; tests) */
	unsigned reqs; /* requests in flight (atomic) */
	int efd; /* signalled by the kernel on each completion */
	struct vs_evloop *loop;
	bool own_loop; /* loop and thread are the ring's */
	pthread_t thread;
	int (*hook)(int res, const struct iovec *iov, unsigned niov, bool write,
		    void *arg); /* tests: vs_uring_test_hook */
	void *hook_arg;
};

/* ---- building a request's pieces ---- */

static uint64_t iov_total(const struct iovec *iov, unsigned n)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < n; i++) {
		if (iov[i].iov_len > UINT64_MAX - t)
			return UINT64_MAX;
		t += iov[i].iov_len;
	}
	return t;
}

/* Maps [req->off, +total) piece by piece into m; returns the count, or 0
 * when some piece must go through the driver. */
static unsigned map_pieces(struct vs_uring *u, const struct vs_blk_req *req, uint64_t total,
			   struct vs_blk_io_map *m)
{
	bool write = req->op == VS_BLK_OP_WRITE;
	uint64_t pos = 0;
	unsigned n = 0;

	while (pos < total) {
		if (n == MAX_PIECES ||
		    vs_blk_map_io(u->b, req->off + pos, total - pos, write, &m[n]) < 0 ||
		    m[n].len == 0 || m[n].len > total - pos)
			return 0;
		pos += m[n++].len;
	}
	return n;
}

/* Points op at the next len bytes of src (*si, *skip: the cursor), copying
 * the iovecs into dst. Returns how many it used. */
static unsigned slice(const struct iovec *src, unsigned *si, size_t *skip, size_t len,
		      struct iovec *dst)
{
	unsigned n = 0;

	while (len) {
		size_t c = VS_MIN(src[*si].iov_len - *skip, len);

		if (c)
			dst[n++] = (struct iovec){ (uint8_t *)src[*si].iov_base + *skip, c };
		len -= c;
		*skip += c;
		if (*skip == src[*si].iov_len) {
			(*si)++;
			*skip = 0;
		}
	}
	return n;
}

static struct ureq *build(struct vs_uring *u, struct vs_blk_req *req)
{
	struct vs_blk_io_map m[MAX_PIECES];
	uint64_t total = iov_total(req->iov, req->niov);
	unsigned n, si = 0;
	size_t skip = 0;
	struct iovec *iov;
	struct ureq *p;

	if (total == 0 || total == UINT64_MAX || !(n = map_pieces(u, req, total, m)))
		return NULL;
	p = xzalloc(sizeof(*p) + n * sizeof(p->ops[0]) + (req->niov + n) * sizeof(*iov));
	iov = (struct iovec *)&p->ops[n];
	p->req = req;
	p->nops = p->pending = n;
	for (unsigned i = 0; i < n; i++) {
		struct uop *op = &p->ops[i];

		op->parent = p;
		op->write = req->op == VS_BLK_OP_WRITE;
		op->iov = iov;
		op->niov = slice(req->iov, &si, &skip, m[i].len, iov);
		op->left = m[i].len;
		op->off = m[i].host;
		op->direct = m[i].dfd >= 0 && vs_blk_direct_ok(op->iov, op->niov, op->off);
		op->fd = op->direct ? m[i].dfd : m[i].fd;
		iov += op->niov;
	}
	return p;
}

/* ---- the ring ---- */

/* Lock held: queues op (one slot is free: ops < depth). */
static void prep(struct vs_uring *u, struct uop *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (op->write) {
		vs_io_hook_write(op->iov, (int)op->niov, op->off);
		io_uring_prep_writev(sqe, op->fd, op->iov, op->niov, op->off);
	} else {
		io_uring_prep_readv(sqe, op->fd, op->iov, op->niov, op->off);
	}
	io_uring_sqe_set_data(sqe, op);
	if (u->inline_issue || u->ops == 0)
		u->inline_ops++;
	else
		io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	u->ops++;
}

/* Lock held: hands the queued entries to the kernel. A refusal for want of
 * resources is retried; the entries stay queued until they are taken. */
static void flush_sq(struct vs_uring *u)
{
	for (int tries = 0; io_uring_sq_ready(&u->ring) && tries < 1000; tries++) {
		int r = io_uring_submit(&u->ring);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			break;
	}
}

/* Whether every piece of p goes to the O_DIRECT twin. */
static bool all_direct(const struct ureq *p)
{
	for (unsigned i = 0; i < p->nops; i++)
		if (!p->ops[i].direct)
			return false;
	return true;
}

enum vs_uring_took vs_uring_submit(struct vs_uring *u, struct vs_blk_req *req, bool sync_writes)
{
	struct ureq *p = build(u, req);

	if (!p)
		return VS_URING_REFUSED;
	if (sync_writes && !u->direct_writes && req->op == VS_BLK_OP_WRITE && all_direct(p)) {
		req->sync = p;
		return VS_URING_SYNC;
	}
	pthread_mutex_lock(&u->lock);
	if (u->ops + p->nops > u->depth) {
		pthread_mutex_unlock(&u->lock);
		free(p);
		return VS_URING_REFUSED;
	}
	__atomic_fetch_add(&u->reqs, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < p->nops; i++)
		prep(u, &p->ops[i]);
	if (!u->plugged)
		flush_sq(u);
	pthread_mutex_unlock(&u->lock);
	return VS_URING_QUEUED;
}

int vs_uring_write_sync(struct vs_blk_req *req)
{
	struct ureq *p = req->sync;
	int r = 0;

	req->sync = NULL;
	for (unsigned i = 0; i < p->nops && r == 0; i++)
		r = vs_pwritev_full(p->ops[i].fd, p->ops[i].iov, p->ops[i].niov, p->ops[i].off);
	free(p);
	return r == -EINVAL ? 1 : r;
}

void vs_uring_sync_drop(struct vs_blk_req *req)
{
	free(req->sync);
	req->sync = NULL;
}

bool vs_uring_queues_direct_writes(const struct vs_uring *u)
{
	return u->direct_writes;
}

void vs_uring_plug(struct vs_uring *u, bool on)
{
	pthread_mutex_lock(&u->lock);
	if (on)
		u->plugged++;
	else if (u->plugged && --u->plugged == 0)
		flush_sq(u);
	pthread_mutex_unlock(&u->lock);
}

static void resubmit(struct vs_uring *u, struct uop *op)
{
	pthread_mutex_lock(&u->lock);
	prep(u, op);
	flush_sq(u);
	pthread_mutex_unlock(&u->lock);
}

void vs_uring_cancel(struct vs_uring *u)
{
	struct io_uring_sqe *sqe;

	pthread_mutex_lock(&u->lock);
	sqe = io_uring_get_sqe(&u->ring);
	if (sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data(sqe, NULL); /* its own completion is ignored */
		flush_sq(u);
	}
	pthread_mutex_unlock(&u->lock);
}

/* ---- completions ---- */

static void advance(struct uop *op, size_t n)
{
	op->off += n;
	op->left -= n;
	while (n && n >= op->iov->iov_len) {
		n -= op->iov->iov_len;
		op->iov++;
		op->niov--;
	}
	if (n) {
		op->iov->iov_base = (uint8_t *)op->iov->iov_base + n;
		op->iov->iov_len -= n;
	}
}

static void piece_done(struct vs_uring *u, struct uop *op)
{
	struct ureq *p = op->parent;
	struct vs_blk_req *req = p->req;
	int ret = p->ret;
	bool to_pool = p->to_pool && !ret;

	if (--p->pending)
		return;
	free(p);
	__atomic_fetch_sub(&u->reqs, 1, __ATOMIC_RELAXED);
	if (to_pool)
		vs_blk_aio_ring_to_pool(u->a, req);
	else
		vs_blk_aio_ring_complete(u->a, req, ret);
}

/* One completion of op with res (bytes moved or -errno). */
static void handle(struct vs_uring *u, struct uop *op, int res)
{
	struct ureq *p = op->parent;

	if (u->hook)
		res = u->hook(res, op->iov, op->niov, op->write, u->hook_arg);
	if (res == -EAGAIN || res == -EINTR) {
		resubmit(u, op);
		return;
	}
	if (res > 0 && (size_t)res < op->left) {
		advance(op, (size_t)res);
		resubmit(u, op);
		return;
	}
	if (res == -EINVAL && op->direct)
		p->to_pool = true;
	else if (res < 0 && !p->ret)
		p->ret = res;
	else if (res == 0 && op->write && !p->ret)
		p->ret = -EIO;
	else if (res == 0) /* end of file: the rest reads as zeros */
		for (unsigned i = 0; i < op->niov; i++)
			memset(op->iov[i].iov_base, 0, op->iov[i].iov_len);
	piece_done(u, op);
}

/* Handles every completion there is; on the loop's thread only. */
static void reap(struct vs_uring *u)
{
	struct {
		struct uop *op;
		int res;
	} got[REAP_BATCH];
	struct io_uring_cqe *cqe;
	unsigned n;

	do {
		n = 0;
		pthread_mutex_lock(&u->lock);
		while (n < REAP_BATCH && io_uring_peek_cqe(&u->ring, &cqe) == 0) {
			got[n].op = io_uring_cqe_get_data(cqe);
			got[n].res = cqe->res;
			io_uring_cqe_seen(&u->ring, cqe);
			if (got[n].op) {
				u->ops--;
				n++;
			}
		}
		pthread_mutex_unlock(&u->lock);
		for (unsigned i = 0; i < n; i++)
			handle(u, got[i].op, got[i].res);
	} while (n == REAP_BATCH);
}

void vs_uring_reap_wait(struct vs_uring *u)
{
	struct io_uring_cqe *cqe;

	if (io_uring_wait_cqe(&u->ring, &cqe) == 0)
		reap(u);
}

void vs_uring_test_hook(struct vs_uring *u,
			int (*fn)(int res, const struct iovec *iov, unsigned niov, bool write,
				  void *arg),
			void *arg)
{
	u->hook_arg = arg;
	u->hook = fn;
}

unsigned vs_uring_inflight(struct vs_uring *u)
{
	return __atomic_load_n(&u->reqs, __ATOMIC_RELAXED);
}

uint64_t vs_uring_inline_ops(struct vs_uring *u)
{
	uint64_t n;

	pthread_mutex_lock(&u->lock);
	n = u->inline_ops;
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* ---- the loop ---- */

static void on_efd(struct vs_evloop *loop, int fd, uint32_t events, void *ctx)
{
	uint64_t n;

	(void)loop, (void)events;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another wakeup consumed it; reap anyway */
	}
	reap(ctx);
}

bool vs_uring_on_loop_thread(struct vs_uring *u)
{
	return vs_evloop_on_thread(u->loop);
}

static void *loop_thread(void *arg)
{
	struct vs_uring *u = arg;
	sigset_t all;

	sigfillset(&all); /* signals are for the VMM's own threads */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	vs_evloop_run(u->loop);
	return NULL;
}

/* Removes the eventfd from a loop that is not the ring's, on its thread
 * (so that its handler is surely not running afterwards). */
struct unwatch {
	struct vs_uring *u;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void unwatch_call(struct vs_evloop *loop, void *ctx)
{
	struct unwatch *w = ctx;

	vs_evloop_del(loop, w->u->efd);
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void unwatch(struct vs_uring *u)
{
	struct unwatch w = { .u = u };

	if (vs_evloop_on_thread(u->loop)) {
		vs_evloop_del(u->loop, u->efd);
		return;
	}
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	vs_evloop_call(u->loop, unwatch_call, &w);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
}

/* ---- creation and teardown ---- */

/* The eventfd, the loop (given or the ring's own) watching it. */
static int start_loop(struct vs_uring *u, struct vs_evloop *loop)
{
	int r;

	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0)
		return -errno;
	if ((r = io_uring_register_eventfd(&u->ring, u->efd)) < 0)
		return r;
	u->own_loop = !loop;
	if (!loop && (r = vs_evloop_new(&loop)) < 0)
		return r;
	u->loop = loop;
	if ((r = vs_evloop_add(loop, u->efd, EPOLLIN, on_efd, u)) < 0)
		return r;
	if (u->own_loop && (r = -pthread_create(&u->thread, NULL, loop_thread, u)) < 0) {
		vs_evloop_del(loop, u->efd);
		return r;
	}
	return 0;
}

int vs_uring_new(struct vs_blk_aio *a, struct vs_blk *b, unsigned depth, struct vs_evloop *loop,
		 struct vs_uring **out)
{
	struct vs_uring *u = xzalloc(sizeof(*u));
	int r;

	u->a = a;
	u->b = b;
	u->depth = depth;
	u->efd = -1;
	u->inline_issue = getenv("VESSEL_AIO_URING_INLINE") &&
			  strcmp(getenv("VESSEL_AIO_URING_INLINE"), "1") == 0;
	u->direct_writes = getenv("VESSEL_AIO_URING_WRITES") &&
			   strcmp(getenv("VESSEL_AIO_URING_WRITES"), "1") == 0;
	r = io_uring_queue_init(depth, &u->ring, 0);
	if (r < 0) {
		free(u);
		return r;
	}
	pthread_mutex_init(&u->lock, NULL);
	if ((r = start_loop(u, loop)) < 0) {
		if (u->own_loop)
			vs_evloop_free(u->loop);
		u->loop = NULL;
		vs_uring_free(u);
		return r;
	}
	*out = u;
	return 0;
}

void vs_uring_free(struct vs_uring *u)
{
	if (!u)
		return;
	if (u->loop && u->own_loop) {
		vs_evloop_stop(u->loop);
		pthread_join(u->thread, NULL);
		vs_evloop_free(u->loop);
	} else if (u->loop) {
		unwatch(u);
	}
	io_uring_queue_exit(&u->ring);
	if (u->efd >= 0)
		close(u->efd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
