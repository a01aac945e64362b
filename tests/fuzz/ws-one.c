/* One fuzz input for the WebSocket frame parser (src/api/ws.c): the bytes a
 * client sends on a console connection, parsed frame by frame as the relay
 * does (console.c), each time on a private copy so that ASan sees any read
 * past what the parser was given; text frames also go through the
 * console's control-message parser (a resize). Aborts when a frame breaks RFC 6455's
 * rules the parser promises to enforce, or when a whole frame parses from
 * fewer bytes than it claimed. */
#include "fuzz.h"
#include "api/ws.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_MAX 4096

static void check_frame(const struct vs_ws_frame *f, ssize_t used, const uint8_t *buf, size_t len)
{
	if (used < 6 || (size_t)used > len)
		abort(); /* 2 header bytes and a mask at least */
	if (f->payload < buf || f->payload + f->len != buf + used || f->len > FRAME_MAX)
		abort();
	if (f->opcode >= VS_WS_CLOSE && (!f->fin || f->len > 125))
		abort();
	if ((f->opcode > VS_WS_BINARY && f->opcode < VS_WS_CLOSE) || f->opcode > VS_WS_PONG)
		abort();
}

/* A text frame as the relay reads it: a resize in range, or keys, or a
 * malformed resize with its reason. */
static void check_control(const struct vs_ws_frame *f)
{
	unsigned cols = 0, rows = 0;
	const char *why;
	int r;

	if (f->opcode != VS_WS_TEXT)
		return;
	r = vs_ws_console_control(f->payload, f->len, &cols, &rows, &why);
	if ((r == 1 && (cols < 1 || cols > 65535 || rows < 1 || rows > 65535 || why)) ||
	    (r == -EINVAL && !why) || (r == 0 && why) || r > 1 || (r < 0 && r != -EINVAL))
		abort();
}

/* A frame that parsed from len bytes must not parse from fewer. */
static void check_prefix(const uint8_t *data, size_t used)
{
	uint8_t *copy = malloc(used - 1 ? used - 1 : 1);
	struct vs_ws_frame f;

	memcpy(copy, data, used - 1);
	if (vs_ws_parse(copy, used - 1, FRAME_MAX, &f) > 0)
		abort();
	free(copy);
}

int fuzz_ws_one(const uint8_t *data, size_t size)
{
	size_t off = 0;
	int frames = 0;

	while (off < size) {
		size_t len = size - off;
		uint8_t *copy = malloc(len);
		struct vs_ws_frame f;
		uint8_t hdr[VS_WS_HEADER_MAX];
		ssize_t used;

		memcpy(copy, data + off, len);
		used = vs_ws_parse(copy, len, FRAME_MAX, &f);
		if (used > 0) {
			check_frame(&f, used, copy, len);
			check_prefix(data + off, (size_t)used);
			check_control(&f);
			if (vs_ws_header(hdr, f.opcode, f.len) > VS_WS_HEADER_MAX)
				abort();
		} else if (used != 0 && used != -EPROTO && used != -EMSGSIZE) {
			abort();
		}
		free(copy);
		if (used <= 0)
			break;
		off += (size_t)used;
		frames++;
	}
	return frames;
}
