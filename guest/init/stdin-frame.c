/* Framed console input: see stdin-frame.h and cmdline-abi.h. */
#include "stdin-frame.h"
#include "cmdline-abi.h"

size_t vs_guest_stdin_encode(const unsigned char *in, size_t n, unsigned char *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == VS_GUEST_STDIN_ESC)
			out[m++] = VS_GUEST_STDIN_ESC;
		out[m++] = in[i];
	}
	return m;
}

size_t vs_guest_stdin_decode(struct vs_guest_stdin_decoder *d, const unsigned char *in, size_t n,
			     unsigned char *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n && !d->end; i++) {
		if (d->escape) {
			d->escape = false;
			if (in[i] == VS_GUEST_STDIN_ESC)
				out[m++] = in[i];
			else if (in[i] == VS_GUEST_STDIN_EOF)
				d->end = true;
			/* anything else is reserved: dropped */
		} else if (in[i] == VS_GUEST_STDIN_ESC) {
			d->escape = true;
		} else {
			out[m++] = in[i];
		}
	}
	return m;
}
