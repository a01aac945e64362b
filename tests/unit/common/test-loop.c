/* Unit tests for common/loop: fd callbacks, removal inside a batch, timers. */
#include "common/loop.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <cmocka.h>

struct ctx {
	int calls;
	int other_fd; /* removed by the first callback */
	struct ctx *other;
};

static void on_read(struct vs_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctx *c = arg;
	char b;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &b, 1), 1);
	c->calls++;
	if (c->other_fd >= 0)
		vs_loop_del(loop, c->other_fd);
	vs_loop_quit(loop);
}

static void test_fd_and_removal_in_batch(void **state)
{
	struct vs_loop *l = NULL;
	int a[2], b[2];
	struct ctx ca = { 0 }, cb = { 0 };

	(void)state;
	assert_int_equal(vs_loop_new(&l), 0);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	ca.other_fd = b[0];
	cb.other_fd = a[0];
	assert_int_equal(vs_loop_add(l, a[0], EPOLLIN, on_read, &ca), 0);
	assert_int_equal(vs_loop_add(l, b[0], EPOLLIN, on_read, &cb), 0);
	assert_int_equal(vs_loop_add(l, a[0], EPOLLIN, on_read, &ca), -EEXIST);
	/* both readable: whichever runs first removes the other, which must not run */
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "y", 1), 1);
	assert_int_equal(vs_loop_run(l), 0);
	assert_int_equal(ca.calls + cb.calls, 1);
	assert_int_equal(vs_loop_mod(l, ca.calls ? b[0] : a[0], EPOLLIN), -ENOENT);
	vs_loop_free(l);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

static void on_timer(struct vs_loop *loop, int fd, uint32_t events, void *arg)
{
	uint64_t n;

	(void)events;
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	(*(int *)arg)++;
	vs_loop_quit(loop);
}

static void test_timer(void **state)
{
	struct vs_loop *l = NULL;
	int fired = 0, tfd;

	(void)state;
	assert_int_equal(vs_loop_new(&l), 0);
	tfd = vs_loop_add_timer(l, 5, on_timer, &fired);
	assert_true(tfd >= 0);
	assert_int_equal(vs_loop_run(l), 0);
	assert_int_equal(fired, 1);
	assert_int_equal(vs_loop_arm_timer(tfd, 1), 0);
	assert_int_equal(vs_loop_run(l), 0);
	assert_int_equal(fired, 2);
	vs_loop_del(l, tfd);
	close(tfd);
	vs_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_and_removal_in_batch),
		cmocka_unit_test(test_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
