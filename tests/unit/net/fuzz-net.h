/* The fuzz entry for src/net's parsers (see fuzz-net.c). */
#ifndef VS_TESTS_UNIT_NET_FUZZ_NET_H
#define VS_TESTS_UNIT_NET_FUZZ_NET_H

#include <stddef.h>
#include <stdint.h>

/* Runs data through every src/net parser. Returns 1 (never fails: a crash,
 * a sanitizer report or an abort from a broken round trip is the bug). */
int fuzz_net_one(const uint8_t *data, size_t size);

#endif
