/*
 * Unit tests for the guest command-line ABI (guest/init/cmdline-abi.h):
 * vs_guest_*_encode (what the VMM puts on the kernel command line) against
 * vs_guest_list_decode / vs_guest_cmdline_find (what the guest init reads),
 * and the vessel.ip parser.
 */
#include "cmd-decode.h"
#include "cmd-encode.h"
#include "cmdline-abi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Encodes argv, finds it back in a full command line, decodes, compares. */
static void round_trip(const char *const argv[])
{
	char *frag = NULL, *line, **back = NULL;
	const char *val;
	size_t len = 0, n = 0;

	assert_int_equal(vs_guest_cmd_encode((char *const *)argv, &frag), 0);
	assert_true(strlen(frag) < VS_GUEST_CMDLINE_SIZE);
	/* only the URL-safe alphabet after the key: nothing the kernel splits on */
	assert_int_equal(strspn(frag + strlen(VS_GUEST_CMD_KEY "="),
				"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
			 strlen(frag) - strlen(VS_GUEST_CMD_KEY "="));
	line = malloc(strlen(frag) + 64);
	assert_non_null(line);
	strcpy(line, "console=ttyS0 quiet ");
	strcat(line, frag);
	strcat(line, " panic=-1\n");
	val = vs_guest_cmdline_find(line, VS_GUEST_CMD_KEY, &len);
	assert_non_null(val);
	assert_int_equal(vs_guest_list_decode(val, len, &back), 0);
	for (; argv[n]; n++) {
		assert_non_null(back[n]);
		assert_string_equal(back[n], argv[n]);
	}
	assert_null(back[n]);
	free(back);
	free(line);
	free(frag);
}

static void test_round_trip(void **state)
{
	const char *simple[] = { "true", NULL };
	const char *spaces[] = { "sh", "-c", "echo 'a b'  \"c\\\"d\" $HOME; exit 3", NULL };
	const char *utf8[] = { "printf", "%s\\n",
			       "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x9a\xa2", NULL };
	const char *empties[] = { "prog", "", "x", "", "", NULL };
	const char *only_empty[] = { "", NULL };
	const char *ctrl[] = { "a\tb\nc\r", "=", "key=value", "\x01\x7f\xff", NULL };

	(void)state;
	round_trip(simple);
	round_trip(spaces);
	round_trip(utf8);
	round_trip(empties);
	round_trip(only_empty);
	round_trip(ctrl);
}

/* Every length modulo 3 of the raw data, so each padding case is covered. */
static void test_round_trip_lengths(void **state)
{
	char arg[64];

	(void)state;
	for (size_t n = 0; n < sizeof(arg) - 1; n++) {
		const char *argv[] = { "x", arg, NULL };

		memset(arg, 'a' + (int)(n % 26), n);
		arg[n] = '\0';
		round_trip(argv);
	}
}

/* A fixed vector: the wire format must not drift (guest/README.md shows it). */
static void test_known_vector(void **state)
{
	const char *argv[] = { "echo", "hi there", NULL };
	char *frag = NULL;

	(void)state;
	/* "echo\0hi there\0" in base64url without padding */
	assert_int_equal(vs_guest_cmd_encode((char *const *)argv, &frag), 0);
	assert_string_equal(frag, "vessel.cmd=ZWNobwBoaSB0aGVyZQA");
	free(frag);
}

static void test_cwd_env(void **state)
{
	const char *env[] = { "A=1", "B=x y", NULL }, *bad_env[] = { "NOEQUALS", NULL };
	char *frag = NULL, **back = NULL;
	size_t klen = strlen(VS_GUEST_ENV_KEY "=");

	(void)state;
	assert_int_equal(vs_guest_cwd_encode("/tmp/a dir", &frag), 0);
	assert_int_equal(strncmp(frag, VS_GUEST_CWD_KEY "=", strlen(VS_GUEST_CWD_KEY "=")), 0);
	free(frag);
	assert_int_equal(vs_guest_env_encode((char *const *)env, &frag), 0);
	assert_int_equal(vs_guest_list_decode(frag + klen, strlen(frag + klen), &back), 0);
	assert_string_equal(back[0], "A=1");
	assert_string_equal(back[1], "B=x y");
	assert_null(back[2]);
	free(back);
	free(frag);
	frag = NULL;
	assert_int_equal(vs_guest_env_encode((char *const *)bad_env, &frag), -EINVAL);
	assert_null(frag);
}

static void test_encode_errors(void **state)
{
	char *none[] = { NULL };
	char echo[] = "echo";
	char *frag = NULL, *big, *argv[] = { echo, NULL, NULL };

	(void)state;
	assert_int_equal(vs_guest_cmd_encode(none, &frag), -EINVAL);
	assert_int_equal(vs_guest_cmd_encode(NULL, &frag), -EINVAL);
	assert_int_equal(vs_guest_cwd_encode(NULL, &frag), -EINVAL);
	big = malloc(VS_GUEST_CMDLINE_SIZE);
	assert_non_null(big);
	memset(big, 'x', VS_GUEST_CMDLINE_SIZE - 1);
	big[VS_GUEST_CMDLINE_SIZE - 1] = '\0';
	argv[1] = big;
	assert_int_equal(vs_guest_cmd_encode(argv, &frag), -E2BIG);
	/* 4/3 expansion: a raw size well under the limit can still not fit */
	big[VS_GUEST_CMDLINE_SIZE * 3 / 4] = '\0';
	assert_int_equal(vs_guest_cmd_encode(argv, &frag), -E2BIG);
	assert_null(frag);
	free(big);
}

static void test_decode_errors(void **state)
{
	char **back = NULL;

	(void)state;
	/* '+' and '/' belong to the other alphabet; ' ' ends a parameter */
	assert_int_equal(vs_guest_list_decode("ZW+o", 4, &back), -EINVAL);
	assert_int_equal(vs_guest_list_decode("ZW/o", 4, &back), -EINVAL);
	/* one leftover character cannot hold a byte */
	assert_int_equal(vs_guest_list_decode("ZWNob", 5, &back), -EINVAL);
	/* "echo" without its NUL terminator */
	assert_int_equal(vs_guest_list_decode("ZWNobw", 6, &back), -EINVAL);
	assert_null(back);
	/* padding is tolerated; empty text is an empty list */
	assert_int_equal(vs_guest_list_decode("ZWNobwA=", 8, &back), 0);
	assert_string_equal(back[0], "echo");
	assert_null(back[1]);
	free(back);
	assert_int_equal(vs_guest_list_decode("", 0, &back), 0);
	assert_null(back[0]);
	free(back);
}

static void test_cmdline_find(void **state)
{
	const char *line = "vessel.cmdx=AA vessel.cmd=first xvessel.cmd=no vessel.cmd=last "
			   "vessel.cwd= vessel.env";
	size_t len = 0;
	const char *v;

	(void)state;
	v = vs_guest_cmdline_find(line, VS_GUEST_CMD_KEY, &len);
	assert_non_null(v);
	assert_int_equal(len, 4);
	assert_memory_equal(v, "last", 4);
	v = vs_guest_cmdline_find(line, VS_GUEST_CWD_KEY, &len);
	assert_non_null(v);
	assert_int_equal(len, 0);
	/* a bare key without '=' is not a value */
	assert_null(vs_guest_cmdline_find(line, VS_GUEST_ENV_KEY, &len));
	assert_null(vs_guest_cmdline_find("", VS_GUEST_CMD_KEY, &len));
}

static void test_ip_parse(void **state)
{
	static const char *const bad[] = {
		"eth0",
		"eth0,10.0.2.15",
		"eth0,10.0.2.15/33",
		"eth0,1.2.3/8",
		"eth0,1.2.3.4/8,x",
		"eth0,1.2.3.4/8,,,,",
		"averyveryverylongifname,1.2.3.4/8",
		",1.2.3.4/8",
		"eth0,1.2.3.4/-1",
		"eth0,1.2.3.4/",
		"eth0,1.2.3.4/8,1.2.3.4,5.6.7.8,9.9.9.9",
	};
	struct vs_guest_ip ip;
	const char *v = "eth0,10.0.2.15/24,10.0.2.2,10.0.2.3";

	(void)state;
	assert_int_equal(vs_guest_ip_parse(v, strlen(v), &ip), 0);
	assert_string_equal(ip.ifname, "eth0");
	assert_int_equal(ntohl(ip.addr.s_addr), 0x0a00020f);
	assert_int_equal(ip.prefix, 24);
	assert_true(ip.has_gateway && ip.has_dns);
	assert_int_equal(ntohl(ip.gateway.s_addr), 0x0a000202);
	assert_int_equal(ntohl(ip.dns.s_addr), 0x0a000203);
	/* parsed within len only: what follows on the command line is not read */
	assert_int_equal(vs_guest_ip_parse(v, strlen("eth0,10.0.2.15/24"), &ip), 0);
	assert_false(ip.has_gateway || ip.has_dns);
	v = "eth1,192.168.0.9/0,,8.8.8.8";
	assert_int_equal(vs_guest_ip_parse(v, strlen(v), &ip), 0);
	assert_int_equal(ip.prefix, 0);
	assert_false(ip.has_gateway);
	assert_true(ip.has_dns);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vs_guest_ip_parse(bad[i], strlen(bad[i]), &ip) != -EINVAL)
			fail_msg("accepted vessel.ip=%s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_round_trip_lengths),
		cmocka_unit_test(test_known_vector),  cmocka_unit_test(test_cwd_env),
		cmocka_unit_test(test_encode_errors), cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_cmdline_find),  cmocka_unit_test(test_ip_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
