/* Unit tests for common/file: input files are opened without blocking
 * (a FIFO with no writer used to hang the open), refused unless regular
 * files or block devices with one line naming what and why, sized before
 * reading; vs_read_at reads exactly or says the file shrank. */
#include "common/err.h"
#include "common/file.h"
#include "common/util.h"
#include "vs-test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/vessel-test-file-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void expect_refusal(const char *path, int code, const char *needle)
{
	struct vs_err *err = NULL;
	int fd = -1;
	uint64_t size = 7;

	assert_int_equal(vs_input_open("initrd", path, O_RDONLY, &fd, &size, &err), code);
	assert_int_equal(fd, -1);
	assert_int_equal(size, 7);
	assert_non_null(err);
	if (!strstr(err->msg, needle) || strchr(err->msg, '\n'))
		fail_msg("message '%s' lacks '%s'", err->msg, needle);
	vs_err_free(err);
}

static void test_refusals(void **state)
{
	char *fifo = xasprintf("%s/fifo", dir), *want;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	want = xasprintf("initrd %s is a FIFO, not a regular file or block device", fifo);
	expect_refusal(fifo, -EINVAL, want); /* returns at once: no writer needed */
	free(want);
	expect_refusal(dir, -EISDIR, "is a directory");
	expect_refusal("/dev/null", -EINVAL, "is a character device");
	expect_refusal("/nonexistent/x", -ENOENT,
		       "cannot read initrd /nonexistent/x: No such file");
	free(fifo);
}

static void test_regular_file(void **state)
{
	char *path = xasprintf("%s/data", dir);
	char buf[16] = { 0 };
	struct vs_err *err = NULL;
	uint64_t size = 0;
	int fd = -1, w = open(path, O_WRONLY | O_CREAT, 0600);

	(void)state;
	assert_int_equal(write(w, "0123456789", 10), 10);
	close(w);
	assert_int_equal(vs_input_open("kernel", path, O_RDONLY, &fd, &size, &err), 0);
	assert_null(err);
	assert_int_equal(size, 10);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(vs_read_at(fd, buf, 4, 3), 0);
	assert_string_equal(buf, "3456");
	/* asking past the end: the file "shrank" since it was sized */
	assert_int_equal(vs_read_at(fd, buf, 8, 5), -EIO);
	assert_int_equal(vs_read_at(fd, buf, 0, 100), 0);
	close(fd);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_regular_file),
	};

	return vs_test_run("file", tests, VS_ARRAY_SIZE(tests), NULL, setup, teardown);
}
