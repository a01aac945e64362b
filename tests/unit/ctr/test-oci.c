/* Unit tests for small ctr pieces: mount options, signal names, container
 * ids, runc-style flag parsing. */
#include "ctr/container.h"
#include "ctr/mount.h"
#include "ctr/oci-cli.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "common/err.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <cmocka.h>

static void test_mount_options(void **state)
{
	char a[] = "rbind", b[] = "ro", c[] = "nosuid", d[] = "rslave", e[] = "mode=755",
	     f[] = "size=1m", g[] = "rw", h[] = "nodev";
	char *v[] = { a, b, c, d, e, f, g, h, NULL };
	struct vs_strv opts = { v, 8 };
	struct vs_mount_opts o;

	(void)state;
	vs_mount_parse_options(&opts, &o);
	assert_true(o.bind);
	assert_int_equal(o.flags, MS_BIND | MS_REC | MS_NOSUID | MS_NODEV); /* rw cleared ro */
	assert_int_equal(o.prop, MS_SLAVE | MS_REC);
	assert_string_equal(o.data, "mode=755,size=1m");
	free(o.data);
}

static void test_signals(void **state)
{
	(void)state;
	assert_int_equal(vs_signal_parse("KILL"), SIGKILL);
	assert_int_equal(vs_signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(vs_signal_parse("sigusr1"), SIGUSR1);
	assert_int_equal(vs_signal_parse("9"), 9);
	assert_int_equal(vs_signal_parse("0"), -EINVAL);
	assert_int_equal(vs_signal_parse("99"), -EINVAL);
	assert_int_equal(vs_signal_parse("NOPE"), -EINVAL);
}

static void test_ids(void **state)
{
	(void)state;
	assert_true(vs_ctr_id_is_valid("abc-1.2_x+y"));
	assert_false(vs_ctr_id_is_valid(""));
	assert_false(vs_ctr_id_is_valid("."));
	assert_false(vs_ctr_id_is_valid(".."));
	assert_false(vs_ctr_id_is_valid("a/b"));
	assert_false(vs_ctr_id_is_valid("a b"));
}

static void test_flags(void **state)
{
	const char *bundle = NULL, *force = NULL;
	const struct vs_oci_flag flags[] = { { "bundle|b", true, &bundle },
					     { "force|f", false, &force },
					     { NULL, false, NULL } };
	char a0[] = "-b", a1[] = "/x", a2[] = "id1", a3[] = "--force", a4[] = "9";
	char b0[] = "--bundle=/y", b1[] = "--nope";
	char *argv[] = { a0, a1, a2, a3, a4, NULL };
	char *argv2[] = { b0, b1, NULL };
	char *pos[2];
	struct vs_err *e = NULL;
	int n;

	(void)state;
	assert_int_equal(vs_oci_parse(5, argv, flags, pos, 2, &n, &e), 0);
	assert_string_equal(bundle, "/x");
	assert_string_equal(force, "true");
	assert_int_equal(n, 2);
	assert_string_equal(pos[1], "9");
	assert_int_equal(vs_oci_parse(2, argv2, flags, pos, 2, &n, &e), -EINVAL);
	assert_string_equal(bundle, "/y");
	assert_string_equal(e->msg, "flag provided but not defined: --nope");
	vs_err_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mount_options),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
