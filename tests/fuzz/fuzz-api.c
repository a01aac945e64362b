/* libFuzzer target: the API's request core (built with clang). */
#include "fuzz.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (64 << 10) + 4096)
		return 0;
	(void)fuzz_api_one(data, size);
	return 0;
}
