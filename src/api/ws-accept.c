/* The WebSocket handshake's accept key (ws.h; RFC 6455 §4.2.2): SHA-1 from
 * GnuTLS, which libmicrohttpd loads already, and base64 (RFC 4648 §4). */
#include "api/ws.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define KEY_LEN 24 /* base64 of 16 bytes: 22 characters and "==" */
#define SHA1_LEN 20

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 16 bytes in base64: 22 characters of the alphabet, the last of which
 * carries 2 bits (its low 4 bits zero), then "==". */
static bool is_key(const char *key)
{
	const char *last;

	if (!key || strlen(key) != KEY_LEN || strspn(key, b64) != KEY_LEN - 2 ||
	    strcmp(key + KEY_LEN - 2, "=="))
		return false;
	last = strchr(b64, key[KEY_LEN - 3]);
	return ((last - b64) & 15) == 0;
}

/* base64 of n bytes into out (4 * ceil(n / 3) characters and a NUL). */
static void base64(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		v |= i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0;
		v |= i + 2 < n ? p[i + 2] : 0;
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*out++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*out = 0;
}

int vs_ws_accept_key(const char *key, char out[29])
{
	char buf[KEY_LEN + sizeof(WS_GUID)];
	uint8_t md[SHA1_LEN];

	if (!is_key(key))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, strlen(buf), md) < 0)
		return -EINVAL;
	base64(md, sizeof(md), out); /* 28 chars and a NUL */
	return 0;
}
