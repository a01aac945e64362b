/* Unit tests for src/api: the token file, the bearer check, the limit on
 * failed attempts per address, query splitting and routing (404/405). */
#include "api/api.h"
#include "api/ws.h"
#include "api/auth.h"
#include "common/err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define TOKEN "0123456789abcdef0123456789abcdef"

static int load(struct vs_api_auth *a, const char *text, mode_t mode)
{
	char path[] = "/tmp/vessel-test-api-XXXXXX";
	struct vs_err *err = NULL;
	int fd = mkstemp(path), r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
	r = vs_api_auth_load(a, path, &err);
	if (r < 0) {
		assert_non_null(err);
		assert_null(strchr(err->msg, '\n'));
	}
	vs_err_free(err);
	unlink(path);
	return r;
}

static void test_token_file(void **state)
{
	static struct vs_api_auth a;

	(void)state;
	assert_int_equal(load(&a, "  " TOKEN " \n second line\n", 0600), 0);
	assert_string_equal(a.token, TOKEN);
	assert_int_equal(load(&a, TOKEN "\n", 0644), -EPERM); /* others may read it */
	assert_int_equal(load(&a, "short\n", 0600), -EINVAL);
	assert_int_equal(load(&a, "\n" TOKEN, 0600), -EINVAL); /* the first line counts */
}

static void test_bearer_check(void **state)
{
	static struct vs_api_auth a;

	(void)state;
	assert_int_equal(load(&a, TOKEN, 0600), 0);
	assert_true(vs_api_auth_check(&a, "Bearer " TOKEN));
	assert_false(vs_api_auth_check(&a, NULL));
	assert_false(vs_api_auth_check(&a, TOKEN));
	assert_false(vs_api_auth_check(&a, "Basic " TOKEN));
	assert_false(vs_api_auth_check(&a, "Bearer "));
	assert_false(vs_api_auth_check(&a, "Bearer 0123456789abcdef0123456789abcdeF"));
	assert_false(vs_api_auth_check(&a, "Bearer 0123456789abcdef0123456789abcde"));
	assert_false(vs_api_auth_check(&a, "Bearer " TOKEN "0"));
	assert_false(vs_api_auth_check(&a, "bearer " TOKEN));
}

static void test_failed_attempts(void **state)
{
	static struct vs_api_auth a;
	uint8_t one[16] = { [15] = 1 }, two[16] = { [15] = 2 }, other[16] = { 0 };
	uint64_t t = 1000000;

	(void)state;
	for (unsigned i = 1; i <= VS_API_FAIL_MAX; i++) {
		assert_false(vs_api_auth_blocked(&a, one, t));
		assert_int_equal(vs_api_auth_failed(&a, one, t + i), i);
	}
	assert_true(vs_api_auth_blocked(&a, one, t + 100));
	assert_false(vs_api_auth_blocked(&a, two, t + 100)); /* per address */
	/* the window ends */
	assert_false(vs_api_auth_blocked(&a, one, t + 1 + VS_API_FAIL_WIN_S * 1000ull));
	assert_int_equal(vs_api_auth_failed(&a, one, t + 2 + VS_API_FAIL_WIN_S * 1000ull), 1);
	/* many addresses: the table stays bounded, the oldest entry is reused */
	for (unsigned i = 0; i < VS_API_FAIL_MAX; i++)
		vs_api_auth_failed(&a, two, t + 2000 * 1000 + i);
	for (unsigned i = 0; i < VS_API_FAIL_SLOTS - 2; i++) {
		other[0] = (uint8_t)i;
		other[1] = (uint8_t)(i >> 8);
		other[2] = 7;
		vs_api_auth_failed(&a, other, t + 2000 * 1000 + 10 + i);
	}
	assert_true(vs_api_auth_blocked(&a, two, t + 2000 * 1000 + 500));
	/* one more address: the oldest (one, whose window ended) makes room */
	other[2] = 8;
	vs_api_auth_failed(&a, other, t + 2000 * 1000 + 600);
	assert_true(vs_api_auth_blocked(&a, two, t + 2000 * 1000 + 700));
}

static void test_query(void **state)
{
	struct vs_api_req req = { 0 };
	char q[] = "timeout=5&force&x=";
	char many[] = "a&b&c&d&e&f&g&h&i";

	(void)state;
	assert_int_equal(vs_api_parse_query(q, &req), 0);
	assert_int_equal(req.nargs, 3);
	assert_string_equal(req.args[0].key, "timeout");
	assert_string_equal(req.args[0].value, "5");
	assert_string_equal(req.args[1].key, "force");
	assert_string_equal(req.args[1].value, "");
	assert_string_equal(req.args[2].value, "");
	memset(&req, 0, sizeof(req));
	assert_int_equal(vs_api_parse_query(many, &req), -E2BIG);
}

static unsigned status_of(const char *method, const char *path)
{
	struct vs_api_ctx ctx = { 0 }; /* no backend: only paths that never reach it */
	struct vs_api_req req = { .method = method, .path = path };
	struct vs_api_resp resp = { 0 };

	vs_api_handle(&ctx, &req, &resp);
	assert_non_null(resp.body);
	assert_non_null(strstr(resp.body, "{\"error\":"));
	free(resp.body);
	return resp.status;
}

static void test_routing_misses(void **state)
{
	const char *m, *p;
	size_t n = 0;

	(void)state;
	assert_int_equal(status_of("GET", "/v1/nope"), 404);
	assert_int_equal(status_of("GET", "/v1/vms/"), 404); /* an empty name */
	assert_int_equal(status_of("GET", "/v1/vms/a/b"), 404); /* no such action */
	assert_int_equal(status_of("GET", "/v1/vms/a/start"), 405);
	assert_int_equal(status_of("PATCH", "/v1/vms"), 405);
	assert_int_equal(status_of("GET", "/v1/vmsx"), 404);
	assert_int_equal(status_of("PUT", "/v1/containers/a"), 405);
	assert_int_equal(status_of("GET", "/v1/containers/a/start"), 405);
	while (vs_api_route_get(n, &m, &p))
		n++;
	assert_int_equal(n, 37);
}

static int control(const char *text, unsigned *cols, unsigned *rows)
{
	const char *why;
	int r = vs_ws_console_control((const uint8_t *)text, strlen(text), cols, rows, &why);

	assert_true((r < 0) == (why != NULL));
	return r;
}

/* A console's text frames: a resize is a control message, anything else
 * (and a JSON object that is not exactly a resize) is keys. */
static void test_console_control(void **state)
{
	unsigned c = 0, r = 0;

	(void)state;
	assert_int_equal(control("{\"resize\":[132,43]}", &c, &r), 1);
	assert_int_equal(c, 132);
	assert_int_equal(r, 43);
	assert_int_equal(control(" {\"resize\":[80,24]}", &c, &r), 0);
	assert_int_equal(control("ls -l\r", &c, &r), 0);
	assert_int_equal(control("{", &c, &r), 0);
	assert_int_equal(control("{\"resize\":[80,24],\"x\":1}", &c, &r), 0);
	assert_int_equal(control("{\"resize\":[80,24],\"resize\":[1,1]}", &c, &r), 0);
	assert_int_equal(control("{\"resize\":[0,24]}", &c, &r), -EINVAL);
	assert_int_equal(control("{\"resize\":[80,65536]}", &c, &r), -EINVAL);
	assert_int_equal(control("{\"resize\":[80]}", &c, &r), -EINVAL);
	assert_int_equal(control("{\"resize\":\"80x24\"}", &c, &r), -EINVAL);
	assert_int_equal(control("{\"resize\":[80.5,24]}", &c, &r), -EINVAL);
	assert_int_equal(control("{\"resize\":[65535,1]}", &c, &r), 1);
}

/* RFC 6455 §1.3's example key, and frames both ways. */
static void test_websocket(void **state)
{
	uint8_t f[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	uint8_t hdr[VS_WS_HEADER_MAX];
	struct vs_ws_frame fr;
	char accept[29];

	(void)state;
	assert_int_equal(vs_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept), 0);
	assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(vs_ws_accept_key("short", accept), -EINVAL);
	/* 24 characters, but not 16 bytes: stray bits in the last, no padding */
	assert_int_equal(vs_ws_accept_key("dGhlIHNhbXBsZSBub25jZR==", accept), -EINVAL);
	assert_int_equal(vs_ws_accept_key("dGhlIHNhbXBsZSBub25jZQxx", accept), -EINVAL);
	assert_int_equal(vs_ws_accept_key(NULL, accept), -EINVAL);
	/* §5.7: a masked "Hello" */
	assert_int_equal(vs_ws_parse(f, sizeof(f) - 1, 100, &fr), 0);
	assert_int_equal(vs_ws_parse(f, sizeof(f), 100, &fr), sizeof(f));
	assert_true(fr.fin);
	assert_int_equal(fr.opcode, VS_WS_TEXT);
	assert_memory_equal(fr.payload, "Hello", 5);
	f[1] = 0x05; /* unmasked: refused */
	assert_int_equal(vs_ws_parse(f, sizeof(f), 100, &fr), -EPROTO);
	f[1] = 0x85;
	assert_int_equal(vs_ws_parse(f, sizeof(f), 4, &fr), -EMSGSIZE);
	assert_int_equal(vs_ws_header(hdr, VS_WS_BINARY, 5), 2);
	assert_int_equal(hdr[0], 0x82);
	assert_int_equal(hdr[1], 5);
	assert_int_equal(vs_ws_header(hdr, VS_WS_BINARY, 300), 4);
	assert_int_equal(hdr[1], 126);
	assert_int_equal(hdr[2] << 8 | hdr[3], 300);
	assert_int_equal(vs_ws_header(hdr, VS_WS_BINARY, 70000), 10);
	assert_int_equal(hdr[1], 127);
}

/* A browser's WebSocket offers the token as a subprotocol. */
static void test_ws_protocol_token(void **state)
{
	char out[300], big[400];

	(void)state;
	assert_true(vs_api_auth_from_ws_protocol("vessel, bearer.abc123", out, sizeof(out)));
	assert_string_equal(out, "Bearer abc123");
	assert_true(vs_api_auth_from_ws_protocol("bearer.x,vessel", out, sizeof(out)));
	assert_string_equal(out, "Bearer x");
	assert_false(vs_api_auth_from_ws_protocol("vessel", out, sizeof(out)));
	assert_false(vs_api_auth_from_ws_protocol("bearer.", out, sizeof(out)));
	assert_false(vs_api_auth_from_ws_protocol(NULL, out, sizeof(out)));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "bearer.", 7);
	assert_false(vs_api_auth_from_ws_protocol(big, out, sizeof(out))); /* over 256 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_file),	cmocka_unit_test(test_bearer_check),
		cmocka_unit_test(test_failed_attempts), cmocka_unit_test(test_query),
		cmocka_unit_test(test_routing_misses),	cmocka_unit_test(test_websocket),
		cmocka_unit_test(test_console_control), cmocka_unit_test(test_ws_protocol_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
