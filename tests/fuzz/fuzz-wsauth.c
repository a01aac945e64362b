/* libFuzzer target: the dashboard's WebSocket token decoding (clang). */
#include "fuzz.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1 << 16))
		return 0;
	(void)fuzz_wsauth_one(data, size);
	return 0;
}
