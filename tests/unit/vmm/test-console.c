/* Unit tests for vs_console_filter(): Ctrl-A x quits, Ctrl-A Ctrl-A sends one
 * Ctrl-A, other escapes are dropped, and an escape split across two reads
 * still works. */
#include "vmm/console.h"
#include "common/util.h"
#include "vs-test.h"

#include <string.h>

static size_t filter(struct vs_console *c, const char *in, char *out, bool *quit)
{
	size_t n = strlen(in);

	memcpy(out, in, n);
	return vs_console_filter(c, (uint8_t *)out, n, quit);
}

static void test_plain_and_escapes(void **state)
{
	struct vs_console c = { 0 };
	char buf[64];
	bool quit;
	size_t n;

	(void)state;
	n = filter(&c, "ls -l\r", buf, &quit);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "ls -l\r", 6);
	assert_false(quit);
	/* Ctrl-A Ctrl-A: one literal Ctrl-A */
	n = filter(&c,
		   "a\x01\x01"
		   "b",
		   buf, &quit);
	assert_int_equal(n, 3);
	assert_memory_equal(buf,
			    "a\x01"
			    "b",
			    3);
	assert_false(quit);
	/* an unknown escape (Ctrl-A z) is dropped whole */
	n = filter(&c, "a\x01zb", buf, &quit);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "ab", 2);
	assert_false(c.escape);
}

static void test_quit(void **state)
{
	struct vs_console c = { 0 };
	char buf[64];
	bool quit;
	size_t n;

	(void)state;
	/* bytes before Ctrl-A x are forwarded, bytes after it are not */
	n = filter(&c, "ab\x01xcd", buf, &quit);
	assert_true(quit);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "ab", 2);
	/* a lone x is just an x */
	c = (struct vs_console){ 0 };
	n = filter(&c, "x", buf, &quit);
	assert_false(quit);
	assert_int_equal(n, 1);
}

static void test_split_escape(void **state)
{
	struct vs_console c = { 0 };
	char buf[64];
	bool quit;

	(void)state;
	assert_int_equal(filter(&c, "q\x01", buf, &quit), 1);
	assert_true(c.escape);
	assert_false(quit);
	assert_int_equal(filter(&c, "x", buf, &quit), 0);
	assert_true(quit);
	c = (struct vs_console){ 0 };
	assert_int_equal(filter(&c, "\x01", buf, &quit), 0);
	assert_int_equal(filter(&c, "\x01", buf, &quit), 1);
	assert_int_equal(buf[0], 0x01);
	assert_false(quit);
	assert_int_equal(vs_console_filter(&c, (uint8_t *)buf, 0, &quit), 0);
	assert_false(quit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_escapes),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_split_escape),
	};

	return vs_test_run("console", tests, VS_ARRAY_SIZE(tests), NULL, NULL, NULL);
}
