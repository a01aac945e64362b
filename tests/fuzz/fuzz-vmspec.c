/* libFuzzer target: the VM spec's JSON form (built with clang). */
#include "fuzz.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (64 << 10))
		return 0;
	(void)fuzz_vmspec_one(data, size);
	return 0;
}
