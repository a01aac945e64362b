/* Opening image files (block/file.c): QEMU's locks between handles of one
 * process (OFD locks conflict between open file descriptions, so this is
 * what two processes see), force-share, and file types that are refused
 * without blocking. */
#include "block/block.h"
#include "block/file.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct fx {
	char dir[64];
	char img[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/vs-test-file-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->img, sizeof(f->img), "%s/a.img", f->dir);
	fd = open(f->img, O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return -1;
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char fifo[128];

	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	unlink(fifo);
	unlink(f->img);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Opens with flags; returns the fd or -errno, with the message in msg. */
static int try_open(const char *path, unsigned flags, char *msg, size_t len)
{
	struct vs_err *e = NULL;
	int fd = -1, r = vs_blk_file_open(path, flags, false, &fd, &e);

	snprintf(msg, len, "%s", e ? e->msg : "");
	vs_err_free(e);
	return r < 0 ? r : fd;
}

static void test_writers_exclude_each_other(void **state)
{
	struct fx *f = *state;
	char msg[512];
	int a = try_open(f->img, 0, msg, sizeof(msg)), b;

	assert_true(a >= 0);
	b = try_open(f->img, 0, msg, sizeof(msg));
	assert_int_equal(b, -EAGAIN);
	assert_non_null(strstr(msg, "Failed to get \"write\" lock"));
	assert_non_null(strstr(msg, "Is another process using the image"));
	b = try_open(f->img, VS_BLK_RDONLY, msg, sizeof(msg));
	assert_int_equal(b, -EAGAIN);
	assert_non_null(strstr(msg, "Failed to get shared \"write\" lock"));
	b = try_open(f->img, VS_BLK_RDONLY | VS_BLK_SHARE, msg, sizeof(msg));
	assert_true(b >= 0);
	close(b);
	close(a); /* the locks go with the file description */
	b = try_open(f->img, 0, msg, sizeof(msg));
	assert_true(b >= 0);
	close(b);
}

static void test_readers_share(void **state)
{
	struct fx *f = *state;
	char msg[512];
	int a = try_open(f->img, VS_BLK_RDONLY, msg, sizeof(msg));
	int b = try_open(f->img, VS_BLK_RDONLY, msg, sizeof(msg));

	assert_true(a >= 0 && b >= 0);
	assert_int_equal(try_open(f->img, 0, msg, sizeof(msg)), -EAGAIN);
	assert_non_null(strstr(msg, "Failed to get \"write\" lock"));
	close(a);
	close(b);
}

static void test_force_share_needs_read_only(void **state)
{
	struct fx *f = *state;
	char msg[512];

	assert_int_equal(try_open(f->img, VS_BLK_SHARE, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "force-share=on can only be used with read-only images"));
}

static void test_fifo_refused_without_blocking(void **state)
{
	struct fx *f = *state;
	struct vs_blk *b = NULL;
	struct vs_err *e = NULL;
	char fifo[128], msg[512];
	int fd = -1;

	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(try_open(fifo, VS_BLK_RDONLY, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "not a regular file or block device"));
	assert_int_equal(vs_blk_file_open_nolock(fifo, &fd, &e), -EINVAL);
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_blk_open(fifo, NULL, VS_BLK_RDONLY | VS_BLK_PROBE, &b, &e), -EINVAL);
	vs_err_free(e);
	assert_int_equal(try_open(f->dir, VS_BLK_RDONLY, msg, sizeof(msg)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writers_exclude_each_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_share_needs_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_refused_without_blocking, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
