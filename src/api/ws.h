/* WebSocket framing (RFC 6455 §5), the small part `vessel serve` needs for
 * consoles: parsing a client's frames (masked, §5.3) and writing a server's
 * (unmasked). Pure functions on buffers, so that a fuzz harness drives the
 * parser (tests/fuzz/ws-one.c). The handshake's accept key is in
 * ws-accept.c (it needs SHA-1). */
#ifndef VS_API_WS_H
#define VS_API_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	VS_WS_CONT = 0x0,
	VS_WS_TEXT = 0x1,
	VS_WS_BINARY = 0x2,
	VS_WS_CLOSE = 0x8,
	VS_WS_PING = 0x9,
	VS_WS_PONG = 0xa,
};

/* RFC 6455 §7.4.1 close codes we send. */
#define VS_WS_CLOSE_NORMAL 1000
#define VS_WS_CLOSE_GOING_AWAY 1001
#define VS_WS_CLOSE_PROTOCOL 1002
#define VS_WS_CLOSE_INVALID 1007
#define VS_WS_CLOSE_TOO_BIG 1009

/* A server frame's header is at most this long. */
#define VS_WS_HEADER_MAX 10

struct vs_ws_frame {
	bool fin;
	unsigned opcode;
	uint8_t *payload; /* inside the parsed buffer, unmasked in place */
	size_t len;
};

/* Parses the frame at the start of buf (len bytes): returns the bytes it
 * takes (> 0) with *f filled and its payload unmasked in place, 0 when more
 * bytes are needed, -EPROTO for a frame RFC 6455 forbids (reserved bits or
 * opcodes, an unmasked client frame, a fragmented or long control frame, a
 * non-minimal length) or -EMSGSIZE for a payload over max. */
ssize_t vs_ws_parse(uint8_t *buf, size_t len, size_t max, struct vs_ws_frame *f);

/* Writes the header of an unmasked final frame of opcode and payload length
 * len into out (VS_WS_HEADER_MAX bytes); returns its length. */
size_t vs_ws_header(uint8_t *out, unsigned opcode, uint64_t len);

/* A console's control message (docs/api.md "Consoles over WebSocket"): a
 * client's unfragmented text frame whose payload is a JSON object with the
 * one member "resize": [cols, rows]. Returns 1 with the size in *cols and
 * *rows (1 to 65535 each), 0 when the payload is no control message (it
 * is keys, then), or -EINVAL when it is one but malformed (*why says how). */
int vs_ws_console_control(const uint8_t *p, size_t len, unsigned *cols, unsigned *rows,
			  const char **why);

/* The Sec-WebSocket-Accept value for key (RFC 6455 §4.2.2): base64 of the
 * SHA-1 of key + the GUID, 28 characters and a NUL in out. Returns 0, or
 * -EINVAL when key is not 24 characters of base64 (16 bytes). */
int vs_ws_accept_key(const char *key, char out[29]);

#endif
