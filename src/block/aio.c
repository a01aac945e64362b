/* The asynchronous block engine: a bounded worker pool per image (aio.h).
 * Map: the write tracker (flush barrier); running one request; workers;
 * the public calls. */
#include "block/aio.h"
#include "block/block.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

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
	pthread_t tid[VS_BLK_AIO_MAX_WORKERS];
};

static bool is_write(enum vs_blk_op op)
{
	return op == VS_BLK_OP_WRITE || op == VS_BLK_OP_DISCARD || op == VS_BLK_OP_WRITE_ZEROES;
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

/* Lock held on entry and exit: runs req (dequeued) and completes it. The
 * request is not touched after its callback: the caller may free it. */
static void complete(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	struct wnode *w = req->track;
	int r;

	if (req->op == VS_BLK_OP_FLUSH)
		flush_barrier(a, req->seq);
	pthread_mutex_unlock(&a->lock);
	r = run(a, req);
	req->done(req, r);
	pthread_mutex_lock(&a->lock);
	if (w)
		track_del(a, w);
	a->inflight--;
	pthread_cond_broadcast(&a->changed);
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

void vs_blk_aio_submit(struct vs_blk_aio *a, struct vs_blk_req *req)
{
	pthread_mutex_lock(&a->lock);
	req->next = NULL;
	req->track = NULL;
	req->seq = a->next_seq++;
	if (is_write(req->op))
		track_add(a, req);
	a->inflight++;
	if (!ensure_worker(a)) {
		/* No thread could be started: run it here rather than never. */
		complete(a, req);
		pthread_mutex_unlock(&a->lock);
		return;
	}
	if (a->tail)
		a->tail->next = req;
	else
		a->head = req;
	a->tail = req;
	a->nqueued++;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
}

void vs_blk_aio_drain(struct vs_blk_aio *a)
{
	pthread_mutex_lock(&a->lock);
	while (a->inflight)
		pthread_cond_wait(&a->changed, &a->lock);
	pthread_mutex_unlock(&a->lock);
}

void vs_blk_aio_set_writethrough(struct vs_blk_aio *a, bool on)
{
	if (on)
		__atomic_fetch_or(&a->flags, VS_BLK_AIO_WRITETHROUGH, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&a->flags, ~VS_BLK_AIO_WRITETHROUGH, __ATOMIC_RELAXED);
}

int vs_blk_aio_new(struct vs_blk *b, unsigned max_workers, unsigned flags, struct vs_blk_aio **out)
{
	struct vs_blk_aio *a;

	if (max_workers == 0 || max_workers > VS_BLK_AIO_MAX_WORKERS)
		return -EINVAL;
	a = xzalloc(sizeof(*a));
	a->b = b;
	a->max = max_workers;
	a->flags = flags;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->changed, NULL);
	*out = a;
	return 0;
}

void vs_blk_aio_free(struct vs_blk_aio *a)
{
	if (!a)
		return;
	vs_blk_aio_drain(a);
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
