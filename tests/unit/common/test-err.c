/* Unit tests for common/err: set, wrap, first error wins, NULL-safety. */
#include "common/err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void test_set_and_wrap(void **state)
{
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_err_set(&e, -EINVAL, "bad value %d", 3), -EINVAL);
	assert_string_equal(e->msg, "bad value 3");
	assert_int_equal(vs_err_wrap(&e, -EIO, "opening %s", "x"), -EINVAL);
	assert_string_equal(e->msg, "opening x: bad value 3");
	/* the first detected error wins */
	assert_int_equal(vs_err_set(&e, -ENOENT, "later"), -EINVAL);
	assert_string_equal(e->msg, "opening x: bad value 3");
	vs_err_free(e);
}

static void test_setsys_and_null(void **state)
{
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_err_setsys(&e, -ENOENT, "open %s", "/nope"), -ENOENT);
	assert_string_equal(e->msg, "open /nope: No such file or directory");
	vs_err_free(e);
	assert_int_equal(vs_err_set(NULL, -EPERM, "ignored"), -EPERM);
	e = NULL;
	assert_int_equal(vs_err_wrap(&e, -EIO, "ctx"), -EIO);
	assert_string_equal(e->msg, "ctx");
	vs_err_free(e);
	vs_err_free(NULL);
}

/* err.h's contract: with *err already set, every setter keeps the first
 * message and returns the first error's code, so return value and *err agree. */
static void test_first_code_returned(void **state)
{
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_err_set(&e, -ENOSPC, "first"), -ENOSPC);
	assert_int_equal(vs_err_setsys(&e, -EIO, "second"), -ENOSPC);
	assert_string_equal(e->msg, "first");
	assert_int_equal(e->code, -ENOSPC);
	assert_int_equal(vs_err_wrap(NULL, -EPERM, "no err"), -EPERM);
	assert_int_equal(vs_err_setsys(NULL, -EPERM, "no err"), -EPERM);
	vs_err_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_wrap),
		cmocka_unit_test(test_setsys_and_null),
		cmocka_unit_test(test_first_code_returned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
