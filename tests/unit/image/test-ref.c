/* Unit tests for image names, archive paths and digests: normalisation of
 * NAME[:TAG], the cleaning of tar entry names ("..", absolute), sha256. */
#include "common/err.h"
#include "image/internal.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void norm_ok(const char *in, const char *want)
{
	char *out = NULL;

	assert_int_equal(vs_image_ref_normalize(in, &out, NULL), 0);
	assert_string_equal(out, want);
	free(out);
}

static void test_ref_normalize(void **state)
{
	(void)state;
	norm_ok("busybox", "busybox:latest");
	norm_ok("busybox:1.36", "busybox:1.36");
	norm_ok("localhost/a/b:v_1.2-x", "localhost/a/b:v_1.2-x");
	norm_ok("host:5000/name", "host:5000/name:latest");
	norm_ok("host:5000/name:tag", "host:5000/name:tag");
}

static void test_ref_rejects(void **state)
{
	static const char *const bad[] = { "",	      "Upper",	"a//b",	  "/abs",  "name:",
					   "name:-x", "sp ace", "a:b:c/", "x:t@g", "a/" };
	struct vs_err *e = NULL;
	char *out = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vs_image_ref_normalize(bad[i], &out, &e), -EINVAL);
		assert_null(out);
		assert_non_null(strstr(e->msg, "invalid image name"));
		vs_err_free(e);
		e = NULL;
	}
}

static void clean_is(const char *in, const char *want, bool want_abs)
{
	bool abs = !want_abs;
	char *out = vs_layer_path_clean(in, &abs);

	if (!want) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_string_equal(out, want);
	assert_int_equal(abs, want_abs);
	free(out);
}

static void test_path_clean(void **state)
{
	(void)state;
	clean_is("./bin/sh", "bin/sh", false);
	clean_is("bin//./sh/", "bin/sh", false);
	clean_is("./", "", false);
	clean_is("/etc/passwd", "etc/passwd", true);
	clean_is("../x", NULL, false);
	clean_is("a/../../x", NULL, false);
	clean_is("a/..", NULL, false);
	clean_is("..a/b..", "..a/b..", false);
}

static void test_sha256(void **state)
{
	struct vs_sha256 *h = vs_sha256_new();
	char d[VS_DIGEST_LEN];

	(void)state;
	vs_sha256_update(h, "ab", 2);
	vs_sha256_update(h, "c", 1);
	vs_sha256_final(h, d);
	assert_string_equal(
		d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(vs_digest_valid(d));
	assert_false(vs_digest_valid(
		"sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(vs_digest_valid("sha512:ba78"));
	assert_false(vs_digest_valid("sha256:ba78"));
	assert_false(vs_digest_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_normalize),
		cmocka_unit_test(test_ref_rejects),
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
