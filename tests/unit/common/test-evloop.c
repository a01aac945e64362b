/* Unit tests for the epoll event loop: fd handlers, deleting a source whose
 * event is pending in the same batch, one-shot and periodic timers, calls
 * and stop from other threads, add/del racing a running loop. */
#include "common/evloop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

struct pipe_ctx {
	int fds[2];
	int calls;
	char last;
	int other_fd; /* deleted by the first handler that runs */
};

static void on_readable(struct vs_evloop *loop, int fd, uint32_t events, void *ctx)
{
	struct pipe_ctx *p = ctx;

	assert_true(events & EPOLLIN);
	assert_true(vs_evloop_on_thread(loop));
	assert_int_equal(read(fd, &p->last, 1), 1);
	p->calls++;
	if (p->other_fd >= 0) {
		assert_int_equal(vs_evloop_del(loop, p->other_fd), 0);
		p->other_fd = -1;
	}
	vs_evloop_stop(loop);
}

static void test_fd_handler(void **state)
{
	struct vs_evloop *loop;
	struct pipe_ctx p = { .other_fd = -1 };

	(void)state;
	assert_int_equal(vs_evloop_new(&loop), 0);
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(vs_evloop_add(loop, p.fds[0], EPOLLIN, on_readable, &p), 0);
	assert_int_equal(vs_evloop_add(loop, p.fds[0], EPOLLIN, on_readable, &p), -EEXIST);
	assert_int_equal(write(p.fds[1], "x", 1), 1);
	assert_int_equal(vs_evloop_run(loop), 0);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.last, 'x');
	assert_int_equal(vs_evloop_del(loop, p.fds[0]), 0);
	assert_int_equal(vs_evloop_del(loop, p.fds[0]), -ENOENT);
	vs_evloop_free(loop);
	close(p.fds[0]);
	close(p.fds[1]);
}

/* Two ready fds in one batch; whichever runs first deletes the other: the
 * deleted one's handler must not run (its ctx may be gone). */
static void test_del_pending(void **state)
{
	struct vs_evloop *loop;
	struct pipe_ctx a = { 0 }, b = { 0 };

	(void)state;
	assert_int_equal(vs_evloop_new(&loop), 0);
	assert_int_equal(pipe(a.fds), 0);
	assert_int_equal(pipe(b.fds), 0);
	a.other_fd = b.fds[0];
	b.other_fd = a.fds[0];
	assert_int_equal(vs_evloop_add(loop, a.fds[0], EPOLLIN, on_readable, &a), 0);
	assert_int_equal(vs_evloop_add(loop, b.fds[0], EPOLLIN, on_readable, &b), 0);
	assert_int_equal(write(a.fds[1], "a", 1), 1);
	assert_int_equal(write(b.fds[1], "b", 1), 1);
	assert_int_equal(vs_evloop_run(loop), 0);
	assert_int_equal(a.calls + b.calls, 1);
	vs_evloop_free(loop);
	for (int i = 0; i < 2; i++) {
		close(a.fds[i]);
		close(b.fds[i]);
	}
}

struct timer_ctx {
	int fired;
	uint64_t expirations;
	int stop_after;
};

static void on_timer(struct vs_evloop *loop, int tfd, uint64_t n, void *ctx)
{
	struct timer_ctx *t = ctx;

	(void)tfd;
	t->fired++;
	t->expirations += n;
	if (t->fired == t->stop_after)
		vs_evloop_stop(loop);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fcntl_check_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static void test_timers(void **state)
{
	struct vs_evloop *loop;
	struct timer_ctx once = { .stop_after = 99 }, periodic = { .stop_after = 3 };
	uint64_t t0 = now_ms();
	int t1, t2;

	(void)state;
	assert_int_equal(vs_evloop_new(&loop), 0);
	t1 = vs_evloop_timer_add(loop, 5, 0, on_timer, &once);
	t2 = vs_evloop_timer_add(loop, 10, 10, on_timer, &periodic);
	assert_true(t1 >= 0 && t2 >= 0);
	assert_int_equal(vs_evloop_run(loop), 0);
	assert_true(now_ms() - t0 >= 30);
	assert_int_equal(once.fired, 1);
	assert_int_equal(periodic.fired, 3);
	/* disarm and re-arm */
	assert_int_equal(vs_evloop_timer_arm(loop, t2, 0, 0), 0);
	assert_int_equal(vs_evloop_timer_arm(loop, t1, 1, 0), 0);
	once.stop_after = 2;
	assert_int_equal(vs_evloop_run(loop), 0);
	assert_int_equal(once.fired, 2);
	assert_int_equal(periodic.fired, 3);
	assert_int_equal(vs_evloop_del(loop, t1), 0); /* closes the timerfd */
	assert_int_equal(fcntl_check_closed(t1), 1);
	vs_evloop_free(loop); /* closes t2 */
}

static void on_call(struct vs_evloop *loop, void *ctx)
{
	int *n = ctx;

	assert_true(vs_evloop_on_thread(loop));
	if (++*n == 1000)
		vs_evloop_stop(loop);
}

static void *caller(void *arg)
{
	static int count;
	struct vs_evloop *loop = arg;

	for (int i = 0; i < 1000; i++)
		vs_evloop_call(loop, on_call, &count);
	return &count;
}

static void test_cross_thread_calls(void **state)
{
	struct vs_evloop *loop;
	pthread_t th;
	void *count;

	(void)state;
	assert_int_equal(vs_evloop_new(&loop), 0);
	assert_int_equal(pthread_create(&th, NULL, caller, loop), 0);
	assert_int_equal(vs_evloop_run(loop), 0);
	pthread_join(th, &count);
	assert_int_equal(*(int *)count, 1000);
	assert_false(vs_evloop_on_thread(loop));
	vs_evloop_free(loop);
}

static void *runner(void *arg)
{
	return (void *)(intptr_t)vs_evloop_run(arg);
}

static void on_churn(struct vs_evloop *loop, int fd, uint32_t events, void *ctx)
{
	char c;

	(void)loop;
	(void)events;
	if (read(fd, &c, 1) == 1)
		(*(int *)ctx)++;
}

/* Another thread adds and deletes sources while the loop dispatches them. */
static void test_churn_while_running(void **state)
{
	struct vs_evloop *loop;
	pthread_t th;
	int fds[2], hits = 0;
	void *ret;

	(void)state;
	assert_int_equal(vs_evloop_new(&loop), 0);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pthread_create(&th, NULL, runner, loop), 0);
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(vs_evloop_add(loop, fds[0], EPOLLIN, on_churn, &hits), 0);
		assert_int_equal(write(fds[1], "x", 1), 1);
		assert_int_equal(vs_evloop_del(loop, fds[0]), 0);
	}
	vs_evloop_stop(loop);
	pthread_join(th, &ret);
	assert_int_equal((intptr_t)ret, 0);
	vs_evloop_free(loop);
	close(fds[0]);
	close(fds[1]);
}

static void test_stop_before_run(void **state)
{
	struct vs_evloop *loop;

	(void)state;
	assert_int_equal(vs_evloop_new(&loop), 0);
	vs_evloop_stop(loop);
	assert_int_equal(vs_evloop_run(loop), 0);
	vs_evloop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_handler),
		cmocka_unit_test(test_del_pending),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_cross_thread_calls),
		cmocka_unit_test(test_churn_while_running),
		cmocka_unit_test(test_stop_before_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
