/* Unit tests for common/fs: "beneath" resolution never follows a symlink
 * nor climbs out, mkdir -p beneath stops at a symlink, rm -rf does not
 * follow symlinks out of the tree. (The in-root helpers are tested with
 * their first user, tests/unit/ctr/test-mount.c.) */
#include "common/fs.h"

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

static char base[] = "/tmp/vessel-test-fs-XXXXXX";

static int setup(void **state)
{
	char p[128];

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(p, sizeof(p), "%s/root", base);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/outside", base);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof(p), "%s/root/up", base);
	assert_int_equal(symlink("..", p), 0);
	snprintf(p, sizeof(p), "%s/root/d", base);
	mkdir(p, 0755);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vs_rm_rf_at(AT_FDCWD, base);
	return 0;
}

static int root_fd(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/root", base);
	return open(p, O_PATH | O_DIRECTORY);
}

static void test_open_beneath(void **state)
{
	int r = root_fd(), fd;

	(void)state;
	assert_int_equal(vs_open_beneath(r, "up/outside", O_RDONLY), -ELOOP);
	assert_int_equal(vs_open_beneath(r, "../outside", O_RDONLY), -EXDEV);
	assert_int_equal(vs_open_beneath(r, "/outside", O_RDONLY), -EXDEV);
	fd = vs_open_beneath(r, "d", O_PATH | O_DIRECTORY);
	assert_true(fd >= 0);
	close(fd);
	close(r);
}

static void test_mkdir_beneath(void **state)
{
	int r = root_fd(), fd;
	char p[128];

	(void)state;
	fd = vs_mkdir_beneath(r, "d/a/b/c", 0755);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/root/d/a/b/c", base);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(vs_mkdir_beneath(r, "up/x", 0755), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/x", base);
	assert_int_equal(access(p, F_OK), -1);
	close(r);
}

static void test_rm_rf(void **state)
{
	char p[128];
	int b;

	(void)state;
	snprintf(p, sizeof(p), "%s", base);
	b = open(p, O_PATH | O_DIRECTORY);
	assert_int_equal(vs_rm_rf_at(b, "root"), 0);
	assert_int_equal(vs_rm_rf_at(b, "root"), 0); /* absent is fine */
	snprintf(p, sizeof(p), "%s/outside", base);
	assert_int_equal(access(p, F_OK), 0);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_beneath),
		cmocka_unit_test(test_mkdir_beneath),
		cmocka_unit_test(test_rm_rf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
