/* WebSocket frame parsing and server frame headers (ws.h, RFC 6455 §5.2). */
#include "api/ws.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#define FIN 0x80
#define RSV 0x70
#define OPCODE 0x0f
#define MASK 0x80
#define LEN7 0x7f
#define LEN16 126
#define LEN64 127
#define CONTROL_MAX 125 /* §5.5: control frames carry at most 125 bytes */

static bool opcode_known(unsigned op)
{
	return op <= VS_WS_BINARY || (op >= VS_WS_CLOSE && op <= VS_WS_PONG);
}

/* The payload length and where the mask starts; 0 when more bytes are
 * needed, -EPROTO for a non-minimal or oversized length encoding. */
static ssize_t payload_len(const uint8_t *buf, size_t len, uint64_t *plen)
{
	unsigned l7 = buf[1] & LEN7;
	uint64_t v = 0;

	if (l7 < LEN16) {
		*plen = l7;
		return 2;
	}
	if (len < (l7 == LEN16 ? 4u : 10u))
		return 0;
	for (unsigned i = 0; i < (l7 == LEN16 ? 2u : 8u); i++)
		v = v << 8 | buf[2 + i];
	/* §5.2: the minimal number of bytes must be used; the top bit is 0 */
	if ((l7 == LEN16 && v < LEN16) || (l7 == LEN64 && (v <= 0xffff || v >> 63)))
		return -EPROTO;
	*plen = v;
	return l7 == LEN16 ? 4 : 10;
}

ssize_t vs_ws_parse(uint8_t *buf, size_t len, size_t max, struct vs_ws_frame *f)
{
	uint64_t plen;
	ssize_t hdr;
	unsigned op;
	uint8_t *mask;

	if (len < 2)
		return 0;
	op = buf[0] & OPCODE;
	if ((buf[0] & RSV) || !opcode_known(op) || !(buf[1] & MASK))
		return -EPROTO; /* no extension negotiated; clients must mask (§5.1) */
	if ((hdr = payload_len(buf, len, &plen)) <= 0)
		return hdr;
	if (op >= VS_WS_CLOSE && (!(buf[0] & FIN) || plen > CONTROL_MAX))
		return -EPROTO;
	if (plen > max)
		return -EMSGSIZE;
	if (len - (size_t)hdr < 4 || len - (size_t)hdr - 4 < plen)
		return 0;
	mask = buf + hdr;
	f->fin = buf[0] & FIN;
	f->opcode = op;
	f->payload = mask + 4;
	f->len = (size_t)plen;
	for (size_t i = 0; i < f->len; i++)
		f->payload[i] ^= mask[i & 3];
	return hdr + 4 + (ssize_t)plen;
}

size_t vs_ws_header(uint8_t *out, unsigned opcode, uint64_t len)
{
	out[0] = FIN | (opcode & OPCODE);
	if (len < LEN16) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = LEN16;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = LEN64;
	for (unsigned i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

/* One of [cols, rows]: an integer in 1..65535. */
static bool winsize_part(const json_t *v, unsigned *out)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;

	*out = (unsigned)n;
	return n >= 1 && n <= 65535;
}

int vs_ws_console_control(const uint8_t *p, size_t len, unsigned *cols, unsigned *rows,
			  const char **why)
{
	json_t *j, *rs;
	int r = 0;

	*why = NULL;
	if (!len || p[0] != '{') /* keystrokes, cheaply */
		return 0;
	j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j) || json_object_size(j) != 1 ||
	    !(rs = json_object_get(j, "resize"))) {
		json_decref(j);
		return 0;
	}
	if (json_is_array(rs) && json_array_size(rs) == 2 &&
	    winsize_part(json_array_get(rs, 0), cols) &&
	    winsize_part(json_array_get(rs, 1), rows)) {
		r = 1;
	} else {
		*why = "resize: expected [cols, rows], integers from 1 to 65535";
		r = -EINVAL;
	}
	json_decref(j);
	return r;
}
