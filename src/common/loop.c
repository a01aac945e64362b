/* The epoll loop (loop.h). Each watched fd has a source record; epoll's
 * data pointer points at it. Removal inside a callback only marks the
 * record dead, and dead records are freed after the batch, so a later event
 * of the same batch never reaches freed memory. */
#include "common/loop.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LOOP_BATCH 32

struct source {
	int fd;
	bool dead;
	vs_loop_fn fn;
	void *ctx;
	struct source *next;
};

struct vs_loop {
	int epfd;
	bool quit;
	struct source *sources; /* live and dead, newest first */
};

int vs_loop_new(struct vs_loop **out)
{
	struct vs_loop *l;
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return -errno;
	l = xzalloc(sizeof(*l));
	l->epfd = fd;
	*out = l;
	return 0;
}

void vs_loop_free(struct vs_loop *loop)
{
	struct source *s, *next;

	if (!loop)
		return;
	for (s = loop->sources; s; s = next) {
		next = s->next;
		free(s);
	}
	close(loop->epfd);
	free(loop);
}

static struct source *find(struct vs_loop *loop, int fd)
{
	for (struct source *s = loop->sources; s; s = s->next)
		if (s->fd == fd && !s->dead)
			return s;
	return NULL;
}

int vs_loop_add(struct vs_loop *loop, int fd, uint32_t events, vs_loop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events };
	struct source *s;

	if (find(loop, fd))
		return -EEXIST;
	s = xzalloc(sizeof(*s));
	*s = (struct source){ .fd = fd, .fn = fn, .ctx = ctx, .next = loop->sources };
	ev.data.ptr = s;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;

		free(s);
		return r;
	}
	loop->sources = s;
	return 0;
}

int vs_loop_mod(struct vs_loop *loop, int fd, uint32_t events)
{
	struct source *s = find(loop, fd);
	struct epoll_event ev = { .events = events };

	if (!s)
		return -ENOENT;
	ev.data.ptr = s;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void vs_loop_del(struct vs_loop *loop, int fd)
{
	struct source *s = find(loop, fd);

	if (!s)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->dead = true;
}

static void reap(struct vs_loop *loop)
{
	struct source **pp = &loop->sources;

	while (*pp) {
		struct source *s = *pp;

		if (s->dead) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

int vs_loop_run(struct vs_loop *loop)
{
	struct epoll_event ev[LOOP_BATCH];

	loop->quit = false;
	while (!loop->quit) {
		int n = epoll_wait(loop->epfd, ev, LOOP_BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct source *s = ev[i].data.ptr;

			if (!s->dead)
				s->fn(loop, s->fd, ev[i].events, s->ctx);
		}
		reap(loop);
	}
	return 0;
}

void vs_loop_quit(struct vs_loop *loop)
{
	loop->quit = true;
}

int vs_loop_arm_timer(int tfd, uint64_t ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (long)(ms % 1000) * 1000000 } };

	return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

int vs_loop_add_timer(struct vs_loop *loop, uint64_t ms, vs_loop_fn fn, void *ctx)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int r;

	if (tfd < 0)
		return -errno;
	if ((r = vs_loop_arm_timer(tfd, ms)) < 0 ||
	    (r = vs_loop_add(loop, tfd, EPOLLIN, fn, ctx)) < 0) {
		close(tfd);
		return r;
	}
	return tfd;
}
