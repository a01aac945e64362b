/* libFuzzer target: the WebSocket frame parser (built with clang). */
#include "fuzz.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1 << 20))
		return 0;
	(void)fuzz_ws_one(data, size);
	return 0;
}
