/* Unit tests for net/port: the -p syntax, its one-line errors, conflicts. */
#include "net/port.h"
#include "common/err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void expect_ok(const char *s, const char *canon)
{
	struct vs_port_spec p;
	char buf[40];

	assert_int_equal(vs_port_spec_parse(s, &p, NULL), 0);
	assert_string_equal(vs_port_spec_str(&p, buf), canon);
}

static void expect_bad(const char *s, const char *msg)
{
	struct vs_port_spec p = { .host_port = 7 };
	struct vs_err *e = NULL;

	assert_int_equal(vs_port_spec_parse(s, &p, &e), -EINVAL);
	assert_non_null(e);
	assert_string_equal(e->msg, msg);
	assert_int_equal(p.host_port, 7);
	vs_err_free(e);
}

static void test_parse(void **state)
{
	struct vs_port_spec p;

	(void)state;
	expect_ok("8080:80", "8080:80/tcp");
	expect_ok("8080:80/tcp", "8080:80/tcp");
	expect_ok("53:5353/udp", "53:5353/udp");
	expect_ok("127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp");
	expect_ok("65535:1/udp", "65535:1/udp");
	assert_int_equal(vs_port_spec_parse("10.1.2.3:1:2/udp", &p, NULL), 0);
	assert_int_equal(p.host_ip, 0x0a010203);
	assert_int_equal(p.host_port, 1);
	assert_int_equal(p.port, 2);
	assert_int_equal(p.proto, VS_PROTO_UDP);
}

static void test_bad(void **state)
{
	(void)state;
	expect_bad("", "empty port spec");
	expect_bad("80", "port spec '80': expected [HOSTIP:]HOSTPORT:PORT[/tcp|udp]");
	expect_bad("0:80", "port spec '0:80': host port 0 out of range (1-65535)");
	expect_bad("8080:65536", "port spec '8080:65536': port 65536 out of range (1-65535)");
	expect_bad("8080:http", "port spec '8080:http': port 'http' is not a number");
	expect_bad("-1:80", "port spec '-1:80': host port '-1' is not a number");
	expect_bad(" 1:80", "port spec ' 1:80': host port ' 1' is not a number");
	expect_bad("8080:", "port spec '8080:': port '' is not a number");
	expect_bad("8080:80/sctp", "port spec '8080:80/sctp': protocol 'sctp' (tcp or udp)");
	expect_bad(
		"1.2.3:8080:80",
		"port spec '1.2.3:8080:80': host address: '1.2.3' is not an IPv4 address (a.b.c.d)");
	expect_bad("1.2.3.4:1:2:3", "port spec '1.2.3.4:1:2:3': too many ':'");
	/* input is quoted in one printable line, whatever it holds */
	expect_bad("80\n:81", "port spec '80?:81': not [HOSTIP:]HOSTPORT:PORT[/tcp|udp]");
	expect_bad("8080:80/tcp\x1b[2J",
		   "port spec '8080:80/tcp?[2J': not [HOSTIP:]HOSTPORT:PORT[/tcp|udp]");
	expect_bad(
		"99999999999999999999:1",
		"port spec '99999999999999999999:1': host port 99999999999999999999 out of range (1-65535)");
}

static void test_conflicts(void **state)
{
	struct vs_port_spec any = { 0, 8080, 80, VS_PROTO_TCP },
			    lo = { 0x7f000001, 8080, 81, VS_PROTO_TCP },
			    other = { 0x0a000001, 8080, 80, VS_PROTO_TCP },
			    udp = { 0, 8080, 80, VS_PROTO_UDP },
			    port = { 0, 8081, 80, VS_PROTO_TCP };

	(void)state;
	assert_true(vs_port_spec_conflicts(&any, &lo));
	assert_true(vs_port_spec_conflicts(&lo, &any));
	assert_true(vs_port_spec_conflicts(&lo, &lo));
	assert_false(vs_port_spec_conflicts(&lo, &other));
	assert_false(vs_port_spec_conflicts(&any, &udp));
	assert_false(vs_port_spec_conflicts(&any, &port));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_conflicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
