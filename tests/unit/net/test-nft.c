/* Unit tests for net/nft's listing parser: rules come back with their
 * chain, comment and handle; rules without a comment are skipped; another
 * table's forward chain with policy drop is found. The
 * listing is the format libnftables 1.0.6 prints with handles. */
#include "net/nft.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char listing[] =
	"table inet vessel { # handle 7\n"
	"\tset bridges { # handle 1\n"
	"\t\ttype ifname\n"
	"\t\telements = { \"vessel-a\" }\n"
	"\t}\n"
	"\n"
	"\tchain ports { # handle 2\n"
	"\t\tmeta nfproto ipv4 tcp dport 8080 dnat ip to 10.0.0.2:80 comment \"vessel:port:tcp:0.0.0.0:8080:10.0.0.2:80\" # handle 12\n"
	"\t}\n"
	"\n"
	"\tchain prerouting { # handle 3\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tfib daddr type local jump ports # handle 8\n"
	"\t}\n"
	"\n"
	"\tchain forward { # handle 6\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tiifname \"vessel-a\" oifname != \"vessel-a\" oifname @bridges drop comment \"vessel:net:vessel-a:isolate\" # handle 10\n"
	"\t}\n"
	"}";

static void test_rules(void **state)
{
	struct vs_nft_rule *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(vs_nft_rules(listing, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].chain, "ports");
	assert_string_equal(v[0].comment, "vessel:port:tcp:0.0.0.0:8080:10.0.0.2:80");
	assert_int_equal(v[0].handle, 12);
	assert_string_equal(v[1].chain, "forward");
	assert_string_equal(v[1].comment, "vessel:net:vessel-a:isolate");
	assert_int_equal(v[1].handle, 10);
	free(v);
	assert_int_equal(vs_nft_rules("", &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
}

/* `list chains` with handles: our own forward chain (policy accept, and a
 * drop policy there must not count), then Docker-style iptables-nft. */
static const char chains[] = "table inet vessel { # handle 4\n"
			     "\tchain forward { # handle 6\n"
			     "\t\ttype filter hook forward priority filter; policy drop;\n"
			     "\t}\n"
			     "}\n"
			     "table ip nat { # handle 5\n"
			     "\tchain FORWARD { # handle 1\n"
			     "\t\ttype filter hook forward priority filter; policy accept;\n"
			     "\t}\n"
			     "}\n"
			     "table ip filter { # handle 7\n"
			     "\tchain INPUT { # handle 1\n"
			     "\t\ttype filter hook input priority filter; policy drop;\n"
			     "\t}\n"
			     "\tchain DOCKER { # handle 2\n"
			     "\t}\n"
			     "\tchain FORWARD { # handle 3\n"
			     "\t\ttype filter hook forward priority filter; policy drop;\n"
			     "\t}\n"
			     "}\n";

static void test_forward_drop(void **state)
{
	char buf[64] = "untouched";

	(void)state;
	assert_true(vs_nft_forward_drop(chains, "inet vessel", buf, sizeof(buf)));
	assert_string_equal(buf, "table ip filter chain FORWARD");
	/* the same without the other table: nothing */
	strcpy(buf, "untouched");
	assert_false(
		vs_nft_forward_drop("table inet vessel {\n\tchain forward {\n\t\ttype "
				    "filter hook forward priority filter; policy drop;\n\t}\n}\n",
				    "inet vessel", buf, sizeof(buf)));
	assert_string_equal(buf, "untouched");
	assert_false(vs_nft_forward_drop("", "inet vessel", buf, sizeof(buf)));
	/* a small buffer truncates, never overflows */
	assert_true(vs_nft_forward_drop(chains, "inet vessel", buf, 8));
	assert_string_equal(buf, "table i");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_forward_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
