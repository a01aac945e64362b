/* Vectored reads and writes (block/vec.c) on a raw image: segments
 * land in order at consecutive offsets, a request past the end is refused
 * whole (nothing written), a read-only image refuses writes. With
 * VS_BLK_DIRECT (cache=none) raw and qcow2 images hold a second, O_DIRECT
 * description of the file, and aligned and unaligned requests both land
 * right. */
#include "block/block.h"
#include "block/qcow2.h"
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
#include <dirent.h>
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

/* Descriptions of path open in this process with O_DIRECT set. */
static int direct_fds(const char *p)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char link[300], target[256], info[512];
		unsigned long flags = 0;
		ssize_t l;
		FILE *f;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		l = readlink(link, target, sizeof(target) - 1);
		if (l < 0)
			continue;
		target[l] = 0;
		if (strcmp(target, p))
			continue;
		snprintf(info, sizeof(info), "/proc/self/fdinfo/%s", e->d_name);
		f = fopen(info, "r");
		while (f && fgets(info, sizeof(info), f))
			sscanf(info, "flags: %lo", &flags);
		if (f)
			fclose(f);
		n += (flags & O_DIRECT) != 0;
	}
	closedir(d);
	return n;
}

/* Aligned (O_DIRECT) and unaligned (page cache) writes and reads. */
static void direct_round_trip(const char *fmt)
{
	struct vs_blk *b = NULL;
	struct vs_err *err = NULL;
	uint8_t *al = NULL, odd[700], back[700];
	struct iovec v;

	assert_int_equal(vs_blk_open(path, fmt, VS_BLK_DIRECT, &b, &err), 0);
	assert_int_equal(direct_fds(path), 1);
	assert_int_equal(posix_memalign((void **)&al, 4096, 8192), 0);
	memset(al, 0x3c, 8192);
	v = (struct iovec){ al, 8192 };
	assert_int_equal(vs_blk_pwritev(b, &v, 1, 4096), 0);
	memset(odd, 0x7e, sizeof(odd));
	v = (struct iovec){ odd, sizeof(odd) };
	assert_int_equal(vs_blk_pwritev(b, &v, 1, 5000), 0);
	assert_int_equal(vs_blk_flush(b), 0);
	memset(al, 0, 8192);
	v = (struct iovec){ al, 8192 };
	assert_int_equal(vs_blk_preadv(b, &v, 1, 4096), 0);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(al[i], i >= 904 && i < 1604 ? 0x7e : 0x3c);
	v = (struct iovec){ back, sizeof(back) };
	assert_int_equal(vs_blk_preadv(b, &v, 1, 5000), 0);
	assert_memory_equal(back, odd, sizeof(odd));
	vs_blk_close(b);
	assert_int_equal(vs_blk_open(path, fmt, 0, &b, &err), 0);
	assert_int_equal(direct_fds(path), 0);
	vs_blk_close(b);
	free(al);
}

static void test_direct_raw(void **state)
{
	(void)state;
	direct_round_trip("raw");
}

static void test_direct_qcow2(void **state)
{
	struct qcow2_create_opts o = { .size = SIZE, .cluster_size = 4096 };
	struct vs_err *err = NULL;

	(void)state;
	assert_int_equal(qcow2_create(path, &o, &err), 0);
	direct_round_trip("qcow2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_segments_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_qcow2, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
