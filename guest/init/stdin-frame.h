/* Framed console input (vessel.stdin=pipe, cmdline-abi.h): the VMM's
 * encoder and the init's decoder, in the guest ABI library. */
#ifndef VS_GUEST_STDIN_FRAME_H
#define VS_GUEST_STDIN_FRAME_H

#include <stdbool.h>
#include <stddef.h>

/* Decoder state; zero-initialise it. */
struct vs_guest_stdin_decoder {
	bool escape; /* the last byte was VS_GUEST_STDIN_ESC */
	bool end; /* the end marker was seen */
};

/* Encodes in[0..n) into out, which has room for 2n bytes (each
 * VS_GUEST_STDIN_ESC doubled); returns the encoded length. */
size_t vs_guest_stdin_encode(const unsigned char *in, size_t n, unsigned char *out);

/* Decodes in[0..n) into out (room for n bytes); returns the data length.
 * An escape may end one call and its pair begin the next. Stops at the end
 * marker and sets d->end: the bytes after it are not looked at. A reserved
 * pair (the escape and any other byte) is dropped. */
size_t vs_guest_stdin_decode(struct vs_guest_stdin_decoder *d, const unsigned char *in, size_t n,
			     unsigned char *out);

#endif /* VS_GUEST_STDIN_FRAME_H */
