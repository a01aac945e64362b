/*
 * Unit tests for framed console input (guest/init/stdin-frame.h,
 * vessel.stdin=pipe): the VMM's encoder against the init's decoder, all 256
 * byte values, every split of the input into reads, the end marker and the
 * reserved pairs.
 */
#include "cmdline-abi.h"
#include "stdin-frame.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define DATA_LEN 600

/* 0..255, then 0xff runs and the end marker's second byte among them. */
static void fill(unsigned char *data)
{
	for (size_t i = 0; i < DATA_LEN; i++)
		data[i] = i < 256 ? (unsigned char)i : (i % 3 ? 0xff : VS_GUEST_STDIN_EOF);
}

/* Encoded data, then the end marker, then bytes that must not be read. */
static size_t frame(const unsigned char *data, unsigned char *wire)
{
	size_t n = vs_guest_stdin_encode(data, DATA_LEN, wire);

	wire[n++] = VS_GUEST_STDIN_ESC;
	wire[n++] = VS_GUEST_STDIN_EOF;
	wire[n++] = 'x';
	return n;
}

/* Decodes wire in reads of chunk bytes; returns the data length. */
static size_t decode_in_chunks(const unsigned char *wire, size_t n, size_t chunk,
			       unsigned char *out, bool *end)
{
	struct vs_guest_stdin_decoder d = { 0 };
	size_t m = 0;

	for (size_t i = 0; i < n && !d.end; i += chunk) {
		size_t len = n - i < chunk ? n - i : chunk;

		m += vs_guest_stdin_decode(&d, wire + i, len, out + m);
	}
	*end = d.end;
	return m;
}

static void test_round_trip_every_split(void **state)
{
	unsigned char data[DATA_LEN], wire[2 * DATA_LEN + 3], out[sizeof(wire)];
	size_t n, escapes = 0;
	bool end;

	(void)state;
	fill(data);
	for (size_t i = 0; i < DATA_LEN; i++)
		escapes += data[i] == VS_GUEST_STDIN_ESC;
	n = frame(data, wire);
	assert_int_equal(n, DATA_LEN + escapes + 3); /* 0xff doubled, the end, 'x' */
	for (size_t chunk = 1; chunk <= n; chunk++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(decode_in_chunks(wire, n, chunk, out, &end), DATA_LEN);
		assert_true(end);
		assert_memory_equal(out, data, DATA_LEN);
	}
}

static void test_plain_bytes_pass_as_is(void **state)
{
	const unsigned char text[] = "a\nb\x04\x03\r\x7f";
	unsigned char wire[2 * sizeof(text)];

	(void)state;
	assert_int_equal(vs_guest_stdin_encode(text, sizeof(text), wire), sizeof(text));
	assert_memory_equal(wire, text, sizeof(text));
}

static void test_reserved_pairs_dropped(void **state)
{
	const unsigned char wire[] = { 'a', VS_GUEST_STDIN_ESC, 'z', 'b', VS_GUEST_STDIN_ESC, 0 };
	struct vs_guest_stdin_decoder d = { 0 };
	unsigned char out[sizeof(wire)];

	(void)state;
	assert_int_equal(vs_guest_stdin_decode(&d, wire, sizeof(wire), out), 2);
	assert_memory_equal(out, "ab", 2);
	assert_false(d.end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_split),
		cmocka_unit_test(test_plain_bytes_pass_as_is),
		cmocka_unit_test(test_reserved_pairs_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
