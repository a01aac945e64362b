/* Guest time: a TSC derived from the host's CLOCK_MONOTONIC at the
 * advertised frequency (vm->tsc_khz), so every vCPU sees one invariant,
 * monotonic TSC without reading the host's. */
#include "emu/internal.h"

#include <time.h>

uint64_t emu_host_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t emu_tsc_at(struct emu_vm *vm, uint64_t host_ns)
{
	uint64_t ns = host_ns - vm->tsc_epoch_ns;

	/* ns * khz / 1e6 without overflowing for ~centuries of uptime */
	return (uint64_t)((unsigned __int128)ns * vm->tsc_khz / 1000000U);
}

uint64_t emu_tsc_to_ns(struct emu_vm *vm, uint64_t tsc)
{
	return (uint64_t)((unsigned __int128)tsc * 1000000U / vm->tsc_khz);
}
