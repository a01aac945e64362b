/* Unit tests for the image config parser: the fields vessel run honours,
 * unset fields, wrong types refused in one line. */
#include "common/err.h"
#include "image/image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static void test_full_config(void **state)
{
	static const char j[] =
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2026-01-01T00:00:00Z\","
		"\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],"
		"\"Env\":[\"PATH=/bin\",\"A=b\"],\"WorkingDir\":\"/w\",\"User\":\"1:2\","
		"\"ExposedPorts\":{\"80/tcp\":{}},\"StopSignal\":\"SIGINT\",\"Labels\":{}},"
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
	struct vs_image_config c;

	(void)state;
	assert_int_equal(vs_image_config_parse(j, strlen(j), &c, NULL), 0);
	assert_string_equal(c.entrypoint[0], "/bin/sh");
	assert_string_equal(c.entrypoint[1], "-c");
	assert_null(c.entrypoint[2]);
	assert_string_equal(c.cmd[0], "echo hi");
	assert_string_equal(c.env[1], "A=b");
	assert_string_equal(c.working_dir, "/w");
	assert_string_equal(c.user, "1:2");
	assert_string_equal(c.exposed_ports[0], "80/tcp");
	assert_null(c.exposed_ports[1]);
	assert_string_equal(c.stop_signal, "SIGINT");
	assert_string_equal(c.os, "linux");
	assert_int_equal(c.n_diff_ids, 2);
	assert_string_equal(c.diff_ids[1], D2);
	vs_image_config_clear(&c);
}

static void test_unset_fields(void **state)
{
	static const char j[] = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
				"\"config\":{\"Cmd\":null,\"WorkingDir\":\"\"}}";
	struct vs_image_config c;

	(void)state;
	assert_int_equal(vs_image_config_parse(j, strlen(j), &c, NULL), 0);
	assert_null(c.entrypoint);
	assert_null(c.cmd);
	assert_null(c.working_dir);
	assert_int_equal(c.n_diff_ids, 0);
	vs_image_config_clear(&c);
}

static void test_refusals(void **state)
{
	static const char *const bad[] = {
		"not json",
		"[]",
		"{}",
		"{\"rootfs\":{\"diff_ids\":[\"md5:00\"]}}",
		"{\"rootfs\":{\"diff_ids\":[]},\"config\":{\"Cmd\":\"sh\"}}",
		"{\"rootfs\":{\"diff_ids\":[]},\"config\":{\"Env\":[1]}}",
		"{\"rootfs\":{\"diff_ids\":[]},\"config\":{\"User\":0}}",
		"{\"rootfs\":{\"diff_ids\":[]},\"config\":{\"ExposedPorts\":[\"80\"]}}",
	};
	struct vs_image_config c = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vs_err *e = NULL;

		assert_int_equal(vs_image_config_parse(bad[i], strlen(bad[i]), &c, &e), -EINVAL);
		assert_non_null(e);
		assert_null(strchr(e->msg, '\n'));
		vs_err_free(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_unset_fields),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
