/* The asynchronous block engine (aio.h): a bounded worker pool per image,
 * and in front of it the io_uring path (aio-uring.c) when that engine runs.
 * Map: the write tracker (flush barrier); running one request; workers;
 * submission, and what the ring hands back; drain, cancel; creation. */
#include "block/aio.h"
#include "block/aio-internal.h"
#include "block/block.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A write submitted and not yet completed; the list is in submission order,
 * so its head is the oldest write a flush may still have to wait for. */
struct wnode {
	uint64_t seq;
	struct wnode *prev, *next;
};

struct vs_blk_aio {
	struct vs_blk *b;
	pthread_mutex_t lock;
	pthread_cond_t work; /* workers: a request was queued, or stop */
	pthread_cond_t changed; /* a request completed: flush barriers, drain */
	struct vs_blk_req *head, *tail; /* queued, not started (FIFO) */
	struct wnode *wfirst, *wlast; /* writes not completed, by seq */
	uint64_t next_seq;
	unsigned inflight; /* submitted, callback not yet returned */
	unsigned nqueued; /* on head..tail */
	unsigned nworkers, idle, max;
	bool stop;
	unsigned flags; /* VS_BLK_AIO_*; atomic */
	struct vs_uring *ring; /* the io_uring engine's, else NULL */
	unsigned fast; /* requests taken by the ring, not retired */
	unsigned excl; /* discards and write-zeroes submitted, not completed */
	uint64_t nring, npool; /* requests the ring took / the pool ran */
	uint64_t nsync; /* O_DIRECT writes the ring mapped and a worker issued */
	unsigned syncing; /* of fast: such writes queued or running on the pool */
	pthread_t tid[VS_BLK_AIO_MAX_WORKERS];
};

static bool is_write(enum vs_blk_op op)
{
	return op == VS_BLK_OP_WRITE || op == VS_BLK_OP_DISCARD || op == VS_BLK_OP_WRITE_ZEROES;
}

/* Ops that may free what a mapping names (block.h vs_blk_map_io). */
static bool is_exclusive(enum vs_blk_op op)
{
	return op == VS_BLK_OP_DISCARD || op == VS_BLK_OP_WRITE_ZEROES;
}

/* Lock held. */
static void track_add(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	struct wnode *w = xzalloc(sizeof(*w));

	w->seq = req->seq;
	w->prev = a->wlast;
	if (a->wlast)
		a->wlast->next = w;
	else
		a->wfirst = w;
	a->wlast = w;
	req->track = w;
}

/* Lock held. */
static void track_del(struct vs_blk_aio *a, struct wnode *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		a->wfirst = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		a->wlast = w->prev;
	free(w);
}

/* Lock held: waits until no write older than seq is outstanding. */
static void flush_barrier(struct vs_blk_aio *a, uint64_t seq)
{
	while (a->wfirst && a->wfirst->seq < seq)
		pthread_cond_wait(&a->changed, &a->lock);
}

static int run_ranges(struct vs_blk_aio *a, const struct vs_blk_req *req)
{
	int r = 0;

	for (unsigned i = 0; i < req->nranges && r == 0; i++) {
		const struct vs_blk_range *g = &req->ranges[i];

		r = req->op == VS_BLK_OP_DISCARD ? vs_blk_discard(a->b, g->off, g->len) :
						   vs_blk_write_zeroes(a->b, g->off, g->len);
	}
	return r;
}

/* Runs req through the image on the calling thread; no lock held. */
static int run(struct vs_blk_aio *a, const struct vs_blk_req *req)
{
	unsigned flags = __atomic_load_n(&a->flags, __ATOMIC_RELAXED);
	int r;

	switch (req->op) {
	case VS_BLK_OP_READ:
		return vs_blk_preadv(a->b, req->iov, req->niov, req->off);
	case VS_BLK_OP_WRITE:
		r = vs_blk_pwritev(a->b, req->iov, req->niov, req->off);
		break;
	case VS_BLK_OP_FLUSH:
		return (flags & VS_BLK_AIO_NO_FLUSH) ? 0 : vs_blk_flush(a->b);
	case VS_BLK_OP_DISCARD:
	case VS_BLK_OP_WRITE_ZEROES:
		r = run_ranges(a, req);
		break;
	default:
		return -EINVAL;
	}
	if (r == 0 && (flags & VS_BLK_AIO_WRITETHROUGH) && !(flags & VS_BLK_AIO_NO_FLUSH))
		r = vs_blk_flush(a->b);
	return r;
}

/* Lock held: the request's callback has returned. */
static void retire(struct vs_blk_aio *a, struct wnode *w, bool excl)
{
	if (w)
		track_del(a, w);
	if (excl)
		a->excl--;
	a->inflight--;
	pthread_cond_broadcast(&a->changed);
}

/* Lock held on entry and exit: a write the ring mapped (req->sync, counted
 * in fast), issued here; O_DIRECT's refusal sends it through the driver. */
static void complete_sync(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	struct wnode *w = req->track;
	int r;

	a->nsync++;
	pthread_mutex_unlock(&a->lock);
	r = vs_uring_write_sync(req);
	if (r == 1)
		r = run(a, req);
	req->done(req, r);
	pthread_mutex_lock(&a->lock);
	a->fast--;
	a->syncing--;
	retire(a, w, false);
}

/* Lock held on entry and exit: runs req (dequeued) and completes it. The
 * request is not touched after its callback: the caller may free it. */
static void complete(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	struct wnode *w = req->track;
	bool excl = is_exclusive(req->op);
	int r;

	if (req->sync) {
		complete_sync(a, req);
		return;
	}
	if (req->op == VS_BLK_OP_FLUSH)
		flush_barrier(a, req->seq);
	while (excl && a->fast)
		pthread_cond_wait(&a->changed, &a->lock);
	a->npool++;
	pthread_mutex_unlock(&a->lock);
	r = run(a, req);
	req->done(req, r);
	pthread_mutex_lock(&a->lock);
	retire(a, w, excl);
}

static void *worker(void *arg)
{
	struct vs_blk_aio *a = arg;
	struct vs_blk_req *req;
	sigset_t all;

	/* Signals are for the VMM's own threads (vCPU kicks, SIGINT). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->head && !a->stop) {
			a->idle++;
			pthread_cond_wait(&a->work, &a->lock);
			a->idle--;
		}
		if (!a->head)
			break;
		req = a->head;
		a->nqueued--;
		a->head = req->next;
		if (!a->head)
			a->tail = NULL;
		complete(a, req);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Lock held, about to queue one more: one more worker if the idle ones are
 * all spoken for and the limit allows. Returns false when there is no
 * worker at all to run the queue. */
static bool ensure_worker(struct vs_blk_aio *a)
{
	if (a->idle > a->nqueued || a->nworkers >= a->max)
		return a->nworkers > 0;
	if (pthread_create(&a->tid[a->nworkers], NULL, worker, a) == 0)
		a->nworkers++;
	return a->nworkers > 0;
}

/* Lock held: req (counted in inflight) goes on the pool's queue. */
static void pool_queue(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	if (!ensure_worker(a)) {
		/* No thread could be started: run it here rather than never. */
		complete(a, req);
		return;
	}
	req->next = NULL;
	if (a->tail)
		a->tail->next = req;
	else
		a->head = req;
	a->tail = req;
	a->nqueued++;
	pthread_cond_signal(&a->work);
}

/* Lock held: may req go to the ring? Not while a discard or write-zeroes
 * is pending, and write-through writes take the pool (write then flush). */
static bool ring_takes(const struct vs_blk_aio *a, const struct vs_blk_req *req)
{
	unsigned flags = __atomic_load_n(&a->flags, __ATOMIC_RELAXED);

	if (!a->ring || a->excl)
		return false;
	return req->op == VS_BLK_OP_READ ||
	       (req->op == VS_BLK_OP_WRITE && !(flags & VS_BLK_AIO_WRITETHROUGH));
}

/* Lock held: a worker is idle or may be started, so a write need not wait
 * for one (the ring's O_DIRECT writes, aio-uring.c). */
static bool pool_has_room(const struct vs_blk_aio *a)
{
	return a->idle > a->nqueued || a->nworkers < a->max;
}

/* Lock held on entry and exit: offers req to the ring; true when the ring
 * took it or mapped it for a worker (queued here, counted in fast until it
 * completes). False: the pool runs it through the driver. */
static bool offer_ring(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	bool sync_ok = req->op == VS_BLK_OP_WRITE && pool_has_room(a);
	enum vs_uring_took took;

	a->fast++;
	pthread_mutex_unlock(&a->lock);
	took = vs_uring_submit(a->ring, req, sync_ok);
	if (took == VS_URING_QUEUED) {
		__atomic_fetch_add(&a->nring, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&a->lock); /* req may have completed already */
		return true;
	}
	pthread_mutex_lock(&a->lock);
	/* a discard or write-zeroes that came meanwhile waits for fast: the
	 * mapping must not be queued behind it */
	if (took == VS_URING_SYNC && !a->excl) {
		a->syncing++;
		pool_queue(a, req);
		return true;
	}
	if (took == VS_URING_SYNC)
		vs_uring_sync_drop(req);
	a->fast--;
	pthread_cond_broadcast(&a->changed);
	return false;
}

void vs_blk_aio_submit(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	pthread_mutex_lock(&a->lock);
	req->next = NULL;
	req->track = NULL;
	req->sync = NULL;
	req->seq = a->next_seq++;
	if (is_write(req->op))
		track_add(a, req);
	a->inflight++;
	if (is_exclusive(req->op))
		a->excl++;
	if (!ring_takes(a, req) || !offer_ring(a, req))
		pool_queue(a, req);
	pthread_mutex_unlock(&a->lock);
}

void vs_blk_aio_ring_complete(struct vs_blk_aio *a, struct vs_blk_req *req, int ret)
{
	struct wnode *w = req->track;

	req->done(req, ret);
	pthread_mutex_lock(&a->lock);
	a->fast--;
	retire(a, w, false);
	pthread_mutex_unlock(&a->lock);
}

void vs_blk_aio_ring_to_pool(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	pthread_mutex_lock(&a->lock);
	a->fast--;
	pthread_cond_broadcast(&a->changed);
	pool_queue(a, req);
	pthread_mutex_unlock(&a->lock);
}

void vs_blk_aio_drain(struct vs_blk_aio *a)
{
	/* On the ring's loop thread nobody else reaps: wait on the ring. */
	bool reap = a->ring && vs_uring_on_loop_thread(a->ring);

	pthread_mutex_lock(&a->lock);
	while (a->inflight) {
		/* a mapped write a worker issues (in fast, and in syncing)
		 * brings no completion to the ring to wait for */
		if (reap && a->fast > a->syncing) {
			pthread_mutex_unlock(&a->lock);
			vs_uring_reap_wait(a->ring);
			pthread_mutex_lock(&a->lock);
		} else {
			pthread_cond_wait(&a->changed, &a->lock);
		}
	}
	pthread_mutex_unlock(&a->lock);
}

void vs_blk_aio_cancel(struct vs_blk_aio *a)
{
	struct vs_blk_req *req;

	pthread_mutex_lock(&a->lock);
	while ((req = a->head)) {
		struct wnode *w = req->track;

		a->head = req->next;
		if (!a->head)
			a->tail = NULL;
		a->nqueued--;
		if (req->sync) { /* a write the ring mapped: it leaves fast too */
			vs_uring_sync_drop(req);
			a->fast--;
			a->syncing--;
		}
		pthread_mutex_unlock(&a->lock);
		req->done(req, -ECANCELED);
		pthread_mutex_lock(&a->lock);
		retire(a, w, is_exclusive(req->op));
	}
	pthread_mutex_unlock(&a->lock);
	if (a->ring)
		vs_uring_cancel(a->ring);
	vs_blk_aio_drain(a);
}

void vs_blk_aio_counts(struct vs_blk_aio *a, uint64_t *ring, uint64_t *sync, uint64_t *pool)
{
	pthread_mutex_lock(&a->lock);
	*ring = __atomic_load_n(&a->nring, __ATOMIC_RELAXED);
	*sync = a->nsync;
	*pool = a->npool;
	pthread_mutex_unlock(&a->lock);
}

struct vs_uring *vs_blk_aio_ring(struct vs_blk_aio *a)
{
	return a->ring;
}

unsigned vs_blk_aio_ring_inflight(struct vs_blk_aio *a)
{
	return a->ring ? vs_uring_inflight(a->ring) : 0;
}

uint64_t vs_blk_aio_ring_inline(struct vs_blk_aio *a)
{
	return a->ring ? vs_uring_inline_ops(a->ring) : 0;
}

void vs_blk_aio_plug(struct vs_blk_aio *a)
{
	if (a->ring)
		vs_uring_plug(a->ring, true);
}

void vs_blk_aio_unplug(struct vs_blk_aio *a)
{
	if (a->ring)
		vs_uring_plug(a->ring, false);
}

void vs_blk_aio_set_writethrough(struct vs_blk_aio *a, bool on)
{
	if (on)
		__atomic_fetch_or(&a->flags, VS_BLK_AIO_WRITETHROUGH, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&a->flags, ~VS_BLK_AIO_WRITETHROUGH, __ATOMIC_RELAXED);
}

static const char *const kind_names[] = { "auto", "threads", "io_uring" };

const char *vs_blk_aio_kind_name(enum vs_blk_aio_kind k)
{
	return (unsigned)k < VS_ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

enum vs_blk_aio_kind vs_blk_aio_kind(const struct vs_blk_aio *a)
{
	return a->ring ? VS_BLK_AIO_IO_URING : VS_BLK_AIO_THREADS;
}

/* The ring for kind (none for THREADS); AUTO swallows a failure. */
static int open_ring(struct vs_blk_aio *a, const struct vs_blk_aio_opts *o, const char **why)
{
	int r;

	if (o->kind == VS_BLK_AIO_THREADS)
		return 0;
	r = vs_uring_new(a, a->b, o->depth ? o->depth : VS_BLK_AIO_DEPTH, o->loop, &a->ring);
	if (r < 0 && o->kind == VS_BLK_AIO_AUTO) {
		if (why)
			*why = r == -ENOSYS ? "io_uring not supported" :
			       r == -EPERM  ? "io_uring not permitted" :
					      "io_uring could not be set up";
		return 0;
	}
	return r;
}

int vs_blk_aio_open(struct vs_blk *b, const struct vs_blk_aio_opts *o, struct vs_blk_aio **out,
		    const char **why)
{
	struct vs_blk_aio *a;
	int r;

	if (why)
		*why = NULL;
	if (o->max_workers == 0 || o->max_workers > VS_BLK_AIO_MAX_WORKERS ||
	    (unsigned)o->kind > VS_BLK_AIO_IO_URING || o->depth > 4096)
		return -EINVAL;
	a = xzalloc(sizeof(*a));
	a->b = b;
	a->max = o->max_workers;
	a->flags = o->flags;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->changed, NULL);
	if ((r = open_ring(a, o, why)) < 0) {
		vs_blk_aio_free(a);
		return r;
	}
	*out = a;
	return 0;
}

int vs_blk_aio_new(struct vs_blk *b, unsigned max_workers, unsigned flags, struct vs_blk_aio **out)
{
	struct vs_blk_aio_opts o = { .kind = VS_BLK_AIO_THREADS,
				     .max_workers = max_workers,
				     .flags = flags };

	return vs_blk_aio_open(b, &o, out, NULL);
}

void vs_blk_aio_free(struct vs_blk_aio *a)
{
	if (!a)
		return;
	vs_blk_aio_drain(a);
	vs_uring_free(a->ring);
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (unsigned i = 0; i < a->nworkers; i++)
		pthread_join(a->tid[i], NULL);
	pthread_cond_destroy(&a->changed);
	pthread_cond_destroy(&a->work);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
