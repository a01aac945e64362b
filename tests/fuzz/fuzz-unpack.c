/* libFuzzer entry point for the layer unpacker (tests/fuzz/unpack-one.c). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_unpack_one(data, size);
	return 0;
}
