/* Unit tests for common/util: size and integer parsing, whole-file reads;
 * and common/crc32c. */
#include "common/crc32c.h"
#include "common/util.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

static void test_parse_size_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(vs_parse_size("512", 1, &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(vs_parse_size("512", VS_MIB, &v), 0);
	assert_int_equal(v, 512 * VS_MIB);
	assert_int_equal(vs_parse_size("64K", VS_MIB, &v), 0);
	assert_int_equal(v, 64 * VS_KIB);
	assert_int_equal(vs_parse_size("2G", 1, &v), 0);
	assert_int_equal(v, 2 * VS_GIB);
	assert_int_equal(vs_parse_size("3MiB", 1, &v), 0);
	assert_int_equal(v, 3 * VS_MIB);
	assert_int_equal(vs_parse_size("1t", 1, &v), 0);
	assert_int_equal(v, 1024 * VS_GIB);
}

static void test_parse_size_rejects(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(vs_parse_size("", 1, &v), -EINVAL);
	assert_int_equal(vs_parse_size("-1", 1, &v), -EINVAL);
	assert_int_equal(vs_parse_size("12X", 1, &v), -EINVAL);
	assert_int_equal(vs_parse_size("12MB5", 1, &v), -EINVAL);
	assert_int_equal(vs_parse_size("M", 1, &v), -EINVAL);
	assert_int_equal(vs_parse_size("99999999999999999999", 1, &v), -ERANGE);
	assert_int_equal(vs_parse_size("20000000E", 1, &v), -ERANGE);
	assert_int_equal(v, 42);
}

static void test_parse_uint(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(vs_parse_uint("4", 1, 8, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(vs_parse_uint("0", 1, 8, &v), -ERANGE);
	assert_int_equal(vs_parse_uint("9", 1, 8, &v), -ERANGE);
	assert_int_equal(vs_parse_uint("2x", 1, 8, &v), -EINVAL);
	assert_int_equal(vs_parse_uint("-2", 1, 8, &v), -EINVAL);
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/vessel-test-util-XXXXXX";
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(vs_read_file(path, 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	free(buf);
	buf = NULL;
	assert_int_equal(vs_read_file(path, 4, &buf, &len), -EFBIG);
	assert_null(buf);
	unlink(path);
	assert_int_equal(vs_read_file(path, 100, &buf, &len), -ENOENT);
	assert_int_equal(vs_read_file("/tmp", 100, &buf, &len), -EISDIR);
}

/* RFC 3720's check values and a split computation. */
static void test_crc32c(void **state)
{
	uint8_t zeros[32] = { 0 }, ones[32], inc[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		ones[i] = 0xff, inc[i] = (uint8_t)i;
	assert_int_equal(vs_crc32c(0, zeros, 32), 0x8a9136aa);
	assert_int_equal(vs_crc32c(0, ones, 32), 0x62a8ab43);
	assert_int_equal(vs_crc32c(0, inc, 32), 0x46dd794e);
	assert_int_equal(vs_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(vs_crc32c(vs_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_units), cmocka_unit_test(test_parse_size_rejects),
		cmocka_unit_test(test_parse_uint),	 cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_crc32c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
