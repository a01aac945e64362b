/* Vectored reads and writes (block/vec.c) on a raw image: segments
 * land in order at consecutive offsets, a request past the end is refused
 * whole (nothing written), a read-only image refuses writes. */
#include "block/block.h"
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
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#define SIZE 65536

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/vs-test-vec-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, SIZE) < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static struct vs_blk *open_raw(unsigned flags)
{
	struct vs_blk *b = NULL;
	struct vs_err *err = NULL;

	assert_int_equal(vs_blk_open(path, "raw", flags, &b, &err), 0);
	return b;
}

static void test_segments_in_order(void **state)
{
	struct vs_blk *b = open_raw(0);
	char a[3] = "abc", m[5] = "defgh", z[2] = "ij", got[10], back1[4], back2[6];
	struct iovec w[3] = { { a, 3 }, { m, 5 }, { z, 2 } };
	struct iovec r[2] = { { back1, 4 }, { back2, 6 } };

	(void)state;
	assert_int_equal(vs_blk_pwritev(b, w, 3, 1000), 0);
	assert_int_equal(vs_blk_pread(b, got, 10, 1000), 0);
	assert_memory_equal(got, "abcdefghij", 10);
	assert_int_equal(vs_blk_preadv(b, r, 2, 1000), 0);
	assert_memory_equal(back1, "abcd", 4);
	assert_memory_equal(back2, "efghij", 6);
	/* past the end, even by the last segment: refused, nothing written */
	assert_int_equal(vs_blk_pwritev(b, w, 3, SIZE - 9), -EINVAL);
	assert_int_equal(vs_blk_pread(b, got, 9, SIZE - 9), 0);
	for (int i = 0; i < 9; i++)
		assert_int_equal(got[i], 0);
	assert_int_equal(vs_blk_preadv(b, r, 2, UINT64_MAX - 4), -EINVAL);
	assert_int_equal(vs_blk_preadv(b, r, 0, 0), 0);
	vs_blk_close(b);
}

static void test_read_only(void **state)
{
	struct vs_blk *b = open_raw(VS_BLK_RDONLY);
	char a[4] = "abcd";
	struct iovec w = { a, 4 };

	(void)state;
	assert_int_equal(vs_blk_pwritev(b, &w, 1, 0), -EROFS);
	assert_int_equal(vs_blk_preadv(b, &w, 1, 0), 0);
	assert_int_equal(a[0], 0);
	vs_blk_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_segments_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
