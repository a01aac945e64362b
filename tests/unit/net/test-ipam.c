/* Unit tests for net/ipam: CIDR parsing and its one-line errors, overlap,
 * gateway choice, next free address. */
#include "net/ipam.h"
#include "common/err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static void expect_bad(const char *s, const char *msg)
{
	struct vs_err *e = NULL;
	struct vs_cidr c = { .addr = 77, .prefix = 7 };

	assert_int_equal(vs_subnet_parse(s, &c, &e), -EINVAL);
	assert_non_null(e);
	assert_string_equal(e->msg, msg);
	assert_null(strchr(e->msg, '\n'));
	assert_int_equal(c.addr, 77); /* *out untouched on failure */
	vs_err_free(e);
}

static void test_subnet_parse(void **state)
{
	struct vs_cidr c;
	char buf[20];

	(void)state;
	assert_int_equal(vs_subnet_parse("10.88.0.0/16", &c, NULL), 0);
	assert_int_equal(c.addr, IP(10, 88, 0, 0));
	assert_int_equal(c.prefix, 16);
	assert_string_equal(vs_cidr_str(&c, buf), "10.88.0.0/16");
	assert_int_equal(vs_subnet_parse("172.16.5.4/30", &c, NULL), 0);
	assert_int_equal(vs_cidr_broadcast(&c), IP(172, 16, 5, 7));
	expect_bad("10.0.0.1/24", "10.0.0.1/24: host bits set (network is 10.0.0.0/24)");
	expect_bad("10.0.0.0/31", "10.0.0.0/31: subnet too small (prefix /31, at least /30)");
	expect_bad("10.0.0.0/7", "10.0.0.0/7: subnet too large (prefix /7, at most /8)");
	expect_bad("10.0.0.0/33", "10.0.0.0/33: prefix length 33 is over 32");
	expect_bad("10.0.0.0", "'10.0.0.0' is not a CIDR (a.b.c.d/N)");
	expect_bad("10.0.0/24", "'10.0.0/24' is not a CIDR (a.b.c.d/N)");
	expect_bad("256.0.0.0/8", "'256.0.0.0/8' is not a CIDR (a.b.c.d/N)");
	expect_bad("010.0.0.0/8", "'010.0.0.0/8' is not a CIDR (a.b.c.d/N)");
	expect_bad("10.0.0.0/24x", "'10.0.0.0/24x' is not a CIDR (a.b.c.d/N)");
	expect_bad("10.0.0.0/", "'10.0.0.0/' is not a CIDR (a.b.c.d/N)");
	expect_bad(" 10.0.0.0/8", "' 10.0.0.0/8' is not a CIDR (a.b.c.d/N)");
	expect_bad("", "'' is not a CIDR (a.b.c.d/N)");
	expect_bad(NULL, "'' is not a CIDR (a.b.c.d/N)");
	/* a regression found by the fuzz corpus: input with a newline made a
	 * two-line message; now shown printable and cut at 64 bytes */
	expect_bad("10.0.0.0/8\nx", "'10.0.0.0/8?x' is not a CIDR (a.b.c.d/N)");
	expect_bad("1111111111111111111111111111111111111111111111111111111111111111111",
		   "'1111111111111111111111111111111111111111111111111111111111111111...' is not a "
		   "CIDR (a.b.c.d/N)");
}

static void test_ipv4_parse(void **state)
{
	uint32_t a;
	uint8_t p;
	char buf[16];

	(void)state;
	assert_int_equal(vs_ipv4_parse("192.168.1.254", &a, NULL), 0);
	assert_int_equal(a, IP(192, 168, 1, 254));
	assert_string_equal(vs_ipv4_str(a, buf), "192.168.1.254");
	assert_int_equal(vs_ipv4_parse("1.2.3", &a, NULL), -EINVAL);
	assert_int_equal(vs_ipv4_parse("1.2.3.4.5", &a, NULL), -EINVAL);
	assert_int_equal(vs_ipv4_parse("1.2.3.-4", &a, NULL), -EINVAL);
	assert_int_equal(vs_ipv4_prefix_parse("10.1.2.3/24", &a, &p, NULL), 0);
	assert_int_equal(a, IP(10, 1, 2, 3));
	assert_int_equal(p, 24);
	assert_int_equal(vs_ipv4_prefix_parse("10.1.2.3/40", &a, &p, NULL), -EINVAL);
}

static void test_overlap(void **state)
{
	struct vs_cidr a = { IP(10, 0, 0, 0), 16 }, b = { IP(10, 0, 5, 0), 24 },
		       c = { IP(10, 1, 0, 0), 16 }, d = { IP(0, 0, 0, 0), 0 };
	struct vs_cidr existing[] = { c, b };

	(void)state;
	assert_true(vs_cidr_overlaps(&a, &b));
	assert_true(vs_cidr_overlaps(&b, &a));
	assert_false(vs_cidr_overlaps(&a, &c));
	assert_false(vs_cidr_overlaps(&b, &c));
	assert_true(vs_cidr_overlaps(&d, &c));
	assert_true(vs_cidr_overlaps(&a, &a));
	assert_int_equal(vs_ipam_find_overlap(&a, existing, 2), 1);
	assert_int_equal(vs_ipam_find_overlap(&a, existing, 1), -1);
	assert_true(vs_cidr_contains(&b, IP(10, 0, 5, 255)));
	assert_false(vs_cidr_contains(&b, IP(10, 0, 6, 0)));
}

static void test_gateway(void **state)
{
	struct vs_cidr s = { IP(10, 88, 0, 0), 24 };
	struct vs_err *e = NULL;
	uint32_t gw = 0;

	(void)state;
	assert_int_equal(vs_ipam_gateway(&s, NULL, &gw, NULL), 0);
	assert_int_equal(gw, IP(10, 88, 0, 1));
	assert_int_equal(vs_ipam_gateway(&s, "10.88.0.254", &gw, NULL), 0);
	assert_int_equal(gw, IP(10, 88, 0, 254));
	assert_int_equal(vs_ipam_gateway(&s, "10.88.1.1", &gw, &e), -EINVAL);
	assert_string_equal(e->msg, "gateway 10.88.1.1 is outside the subnet 10.88.0.0/24");
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_ipam_gateway(&s, "10.88.0.255", &gw, &e), -EINVAL);
	assert_string_equal(e->msg, "gateway 10.88.0.255 is the broadcast address of 10.88.0.0/24");
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_ipam_gateway(&s, "10.88.0.0", &gw, &e), -EINVAL);
	assert_string_equal(e->msg, "gateway 10.88.0.0 is the network address of 10.88.0.0/24");
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_ipam_gateway(&s, "x", &gw, &e), -EINVAL);
	assert_string_equal(e->msg, "gateway: 'x' is not an IPv4 address (a.b.c.d)");
	vs_err_free(e);
	assert_int_equal(gw, IP(10, 88, 0, 254));
}

static void test_next(void **state)
{
	struct vs_cidr s = { IP(10, 88, 0, 0), 24 }, tiny = { IP(10, 9, 0, 0), 30 };
	/* unsorted, with a duplicate and an address of another subnet */
	uint32_t used[] = { IP(10, 88, 0, 3), IP(10, 88, 0, 2), IP(10, 88, 0, 3), IP(10, 1, 0, 4),
			    IP(10, 88, 0, 5) };
	uint32_t out = 0, all[253];
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_ipam_next(&s, IP(10, 88, 0, 1), NULL, 0, &out, NULL), 0);
	assert_int_equal(out, IP(10, 88, 0, 2));
	assert_int_equal(vs_ipam_next(&s, IP(10, 88, 0, 1), used, 5, &out, NULL), 0);
	assert_int_equal(out, IP(10, 88, 0, 4));
	/* a gateway elsewhere than .1 leaves .1 free */
	assert_int_equal(vs_ipam_next(&s, IP(10, 88, 0, 254), used, 5, &out, NULL), 0);
	assert_int_equal(out, IP(10, 88, 0, 1));
	/* every host but .254 used: .254 is next; then full */
	for (uint32_t i = 0; i < 253; i++)
		all[i] = IP(10, 88, 0, 1) + i;
	assert_int_equal(vs_ipam_next(&s, IP(10, 88, 0, 1), all, 252, &out, NULL), 0);
	assert_int_equal(out, IP(10, 88, 0, 253));
	assert_int_equal(vs_ipam_next(&s, IP(10, 88, 0, 1), all, 253, &out, NULL), 0);
	assert_int_equal(out, IP(10, 88, 0, 254));
	out = 0;
	all[0] = IP(10, 88, 0, 254);
	assert_int_equal(vs_ipam_next(&s, IP(10, 88, 0, 1), all, 253, &out, &e), -ENOSPC);
	assert_string_equal(e->msg, "subnet 10.88.0.0/24 is full");
	assert_int_equal(out, 0);
	vs_err_free(e);
	/* a /30 holds the gateway and one address */
	assert_int_equal(vs_ipam_next(&tiny, IP(10, 9, 0, 1), NULL, 0, &out, NULL), 0);
	assert_int_equal(out, IP(10, 9, 0, 2));
	assert_int_equal(vs_ipam_next(&tiny, IP(10, 9, 0, 1), &out, 1, &out, NULL), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subnet_parse), cmocka_unit_test(test_ipv4_parse),
		cmocka_unit_test(test_overlap),	     cmocka_unit_test(test_gateway),
		cmocka_unit_test(test_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
