/* libFuzzer target: virtio-net chains and frames from a hostile driver (built with clang). */
#include "fuzz.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)fuzz_net_one(data, size);
	return 0;
}
