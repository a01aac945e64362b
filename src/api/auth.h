/* Bearer tokens for TCP clients: the token file, the constant-time check,
 * and the limit on failed attempts per client address. */
#ifndef VS_API_AUTH_H
#define VS_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;

#define VS_API_TOKEN_MIN 16 /* bytes: shorter tokens are refused at start */
#define VS_API_TOKEN_MAX 256
#define VS_API_FAIL_MAX 5 /* failed attempts per address per window ... */
#define VS_API_FAIL_WIN_S 60 /* ... after which it gets 429 until the window ends */
#define VS_API_FAIL_SLOTS 256 /* addresses tracked (the oldest is reused) */

struct vs_api_fail_slot {
	uint8_t addr[16]; /* IPv4-mapped or IPv6 */
	unsigned count;
	uint64_t since_ms; /* start of the window */
};

struct vs_api_auth {
	char token[VS_API_TOKEN_MAX + 1];
	size_t len;
	struct vs_api_fail_slot slots[VS_API_FAIL_SLOTS];
};

/* Reads the token (the file's first line, surrounding whitespace dropped).
 * Refuses a file others may read or write, and a token shorter than
 * VS_API_TOKEN_MIN. Returns 0 or -errno with *err. */
int vs_api_auth_load(struct vs_api_auth *a, const char *path, struct vs_err **err);

/* Does the Authorization header value ("Bearer <token>") carry the token?
 * Compares in time independent of where the token differs. */
bool vs_api_auth_check(const struct vs_api_auth *a, const char *header);

/* Browsers cannot set headers on a WebSocket: they offer the token as a
 * subprotocol instead, Sec-WebSocket-Protocol: vessel, bearer.<token>.
 * Writes "Bearer <token>" into out (size len) when protocols offers one
 * (what vs_api_auth_check takes); false when it does not or it is too long. */
bool vs_api_auth_from_ws_protocol(const char *protocols, char *out, size_t len);
#define VS_API_WS_PROTOCOL "vessel" /* the subprotocol the server selects */

/* Is the address (16 bytes) over its limit of failed attempts? */
bool vs_api_auth_blocked(struct vs_api_auth *a, const uint8_t *addr, uint64_t now_ms);
/* Counts one failed attempt of the address; returns the count in the window. */
unsigned vs_api_auth_failed(struct vs_api_auth *a, const uint8_t *addr, uint64_t now_ms);

#endif
