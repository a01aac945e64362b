/* One fuzz input for the dashboard's WebSocket token (src/api/auth.c): the
 * bytes are a Sec-WebSocket-Protocol value, decoded by vs_api_ws_bearer on
 * a private NUL-terminated copy (ASan sees any read past it) into a buffer
 * with a guard after it, then checked as vs_api_auth_check would be.
 * Aborts when the result is not "Bearer " and 1-256 bytes without a NUL,
 * or when the guard was written. */
#include "fuzz.h"
#include "api/auth.h"

#include <stdlib.h>
#include <string.h>

#define GUARD 16

int fuzz_wsauth_one(const uint8_t *data, size_t size)
{
	static struct vs_api_auth a = { .token = "0123456789abcdef0123456789abcdef", .len = 32 };
	char *copy = malloc(size + 1);
	char buf[VS_API_WS_AUTH_MAX + GUARD];
	const char *h;
	size_t n;

	memcpy(copy, data, size);
	copy[size] = 0;
	memset(buf, 0x5a, sizeof(buf));
	h = vs_api_ws_bearer(copy, buf);
	for (size_t i = VS_API_WS_AUTH_MAX; i < sizeof(buf); i++)
		if (buf[i] != 0x5a)
			abort();
	free(copy);
	if (!h)
		return 0;
	if (h != buf || strncmp(h, "Bearer ", 7))
		abort();
	n = strnlen(h, VS_API_WS_AUTH_MAX);
	if (n == VS_API_WS_AUTH_MAX || n < 8 || n > 7 + VS_API_TOKEN_MAX)
		abort();
	(void)vs_api_auth_check(&a, h);
	return 1;
}
