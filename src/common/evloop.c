/* The epoll event loop (evloop.h). Sources live in a list under a mutex;
 * epoll carries a pointer to each. A deleted source is unlinked at once but
 * freed only between batches, on the loop thread, so an event of the batch
 * in flight never touches freed memory; its handler is skipped because the
 * source is marked dead. */
#include "common/evloop.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define BATCH 32

struct source {
	int fd;
	bool timer; /* the loop owns fd, a timerfd */
	bool dead;
	vs_evloop_fd_fn fn;
	vs_evloop_timer_fn tfn;
	void *ctx;
	struct source *next;
};

struct call {
	vs_evloop_call_fn fn;
	void *ctx;
	struct call *next;
};

struct vs_evloop {
	int epfd;
	int wakefd;
	pthread_mutex_t lock; /* sources, graveyard, calls */
	struct source *sources;
	struct source *graveyard; /* deleted, freed after the current batch */
	struct call *calls, **calls_tail;
	atomic_bool stop;
	atomic_bool running;
	pthread_t thread;
};

int vs_evloop_new(struct vs_evloop **out)
{
	struct vs_evloop *l = xzalloc(sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->wakefd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0) {
		int r = -errno;

		if (l->epfd >= 0)
			close(l->epfd);
		if (l->wakefd >= 0)
			close(l->wakefd);
		free(l);
		return r;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->calls_tail = &l->calls;
	*out = l;
	return 0;
}

static void free_sources(struct source *s)
{
	while (s) {
		struct source *next = s->next;

		if (s->timer)
			close(s->fd);
		free(s);
		s = next;
	}
}

void vs_evloop_free(struct vs_evloop *loop)
{
	if (!loop)
		return;
	free_sources(loop->sources);
	free_sources(loop->graveyard);
	while (loop->calls) {
		struct call *c = loop->calls;

		loop->calls = c->next;
		free(c);
	}
	close(loop->epfd);
	close(loop->wakefd);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

static struct source *find_locked(struct vs_evloop *loop, int fd, struct source ***link)
{
	for (struct source **p = &loop->sources; *p; p = &(*p)->next) {
		if ((*p)->fd == fd) {
			if (link)
				*link = p;
			return *p;
		}
	}
	return NULL;
}

static int add_source(struct vs_evloop *loop, struct source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };
	int r = 0;

	pthread_mutex_lock(&loop->lock);
	if (find_locked(loop, s->fd, NULL))
		r = -EEXIST;
	else if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		r = -errno;
	if (!r) {
		s->next = loop->sources;
		loop->sources = s;
	}
	pthread_mutex_unlock(&loop->lock);
	if (r)
		free(s);
	return r;
}

int vs_evloop_add(struct vs_evloop *loop, int fd, uint32_t events, vs_evloop_fd_fn fn, void *ctx)
{
	struct source *s = xzalloc(sizeof(*s));

	*s = (struct source){ .fd = fd, .fn = fn, .ctx = ctx };
	return add_source(loop, s, events);
}

int vs_evloop_del(struct vs_evloop *loop, int fd)
{
	struct source **link, *s;

	pthread_mutex_lock(&loop->lock);
	s = find_locked(loop, fd, &link);
	if (s) {
		*link = s->next;
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		s->dead = true;
		s->next = loop->graveyard;
		loop->graveyard = s;
	}
	pthread_mutex_unlock(&loop->lock);
	/* Not running: nobody holds an event for s; free it now. */
	if (s && !atomic_load(&loop->running) && !vs_evloop_on_thread(loop)) {
		pthread_mutex_lock(&loop->lock);
		s = loop->graveyard;
		loop->graveyard = NULL;
		pthread_mutex_unlock(&loop->lock);
		free_sources(s);
		return 0;
	}
	return s ? 0 : -ENOENT;
}

static struct itimerspec ms_spec(uint64_t first_ms, uint64_t period_ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = first_ms / 1000, .tv_nsec = (first_ms % 1000) * 1000000 },
		.it_interval = { .tv_sec = period_ms / 1000,
				 .tv_nsec = (period_ms % 1000) * 1000000 },
	};

	return its;
}

int vs_evloop_timer_arm(struct vs_evloop *loop, int tfd, uint64_t first_ms, uint64_t period_ms)
{
	struct itimerspec its = ms_spec(first_ms, period_ms);

	(void)loop;
	return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

int vs_evloop_timer_add(struct vs_evloop *loop, uint64_t first_ms, uint64_t period_ms,
			vs_evloop_timer_fn fn, void *ctx)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct source *s;
	int r;

	if (tfd < 0)
		return -errno;
	r = vs_evloop_timer_arm(loop, tfd, first_ms, period_ms);
	if (r < 0) {
		close(tfd);
		return r;
	}
	s = xzalloc(sizeof(*s));
	*s = (struct source){ .fd = tfd, .timer = true, .tfn = fn, .ctx = ctx };
	r = add_source(loop, s, EPOLLIN);
	if (r < 0) {
		close(tfd);
		return r;
	}
	return tfd;
}

int vs_evloop_call(struct vs_evloop *loop, vs_evloop_call_fn fn, void *ctx)
{
	struct call *c = xzalloc(sizeof(*c));

	c->fn = fn;
	c->ctx = ctx;
	pthread_mutex_lock(&loop->lock);
	*loop->calls_tail = c;
	loop->calls_tail = &c->next;
	pthread_mutex_unlock(&loop->lock);
	vs_evloop_wake(loop);
	return 0;
}

void vs_evloop_wake(struct vs_evloop *loop)
{
	uint64_t one = 1;
	ssize_t w = write(loop->wakefd, &one, sizeof(one));

	(void)w; /* EAGAIN: the counter is full, the loop is woken anyway */
}

void vs_evloop_stop(struct vs_evloop *loop)
{
	atomic_store(&loop->stop, true);
	vs_evloop_wake(loop);
}

bool vs_evloop_on_thread(const struct vs_evloop *loop)
{
	return atomic_load(&loop->running) && pthread_equal(loop->thread, pthread_self());
}

static void dispatch(struct vs_evloop *loop, struct source *s, uint32_t events)
{
	uint64_t n = 0;
	bool dead;

	pthread_mutex_lock(&loop->lock);
	dead = s->dead;
	pthread_mutex_unlock(&loop->lock);
	if (dead)
		return;
	if (!s->timer) {
		s->fn(loop, s->fd, events, s->ctx);
		return;
	}
	/* EAGAIN: re-armed or read since the event; nothing expired. */
	if (read(s->fd, &n, sizeof(n)) == sizeof(n) && n)
		s->tfn(loop, s->fd, n, s->ctx);
}

/* Runs the queued calls and frees what was deleted; between batches. */
static void after_batch(struct vs_evloop *loop)
{
	struct call *c;
	struct source *dead;

	pthread_mutex_lock(&loop->lock);
	c = loop->calls;
	loop->calls = NULL;
	loop->calls_tail = &loop->calls;
	pthread_mutex_unlock(&loop->lock);
	while (c) {
		struct call *next = c->next;

		c->fn(loop, c->ctx);
		free(c);
		c = next;
	}
	pthread_mutex_lock(&loop->lock);
	dead = loop->graveyard;
	loop->graveyard = NULL;
	pthread_mutex_unlock(&loop->lock);
	free_sources(dead);
}

int vs_evloop_run(struct vs_evloop *loop)
{
	struct epoll_event ev[BATCH];
	uint64_t drain;
	int n, r = 0;

	loop->thread = pthread_self();
	atomic_store(&loop->running, true);
	after_batch(loop); /* calls queued before run */
	while (!atomic_load(&loop->stop)) {
		n = epoll_wait(loop->epfd, ev, BATCH, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (!ev[i].data.ptr) {
				ssize_t rd = read(loop->wakefd, &drain, sizeof(drain));

				(void)rd;
				continue;
			}
			dispatch(loop, ev[i].data.ptr, ev[i].events);
		}
		after_batch(loop);
	}
	atomic_store(&loop->running, false);
	atomic_store(&loop->stop, false);
	return r;
}
