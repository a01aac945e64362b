/* test-touch.c - the `touch` test: the cost of first touching guest RAM.
 *
 * Writes one byte of every 4 KiB page of N MiB at 64 MiB (RAM nothing else
 * has touched), timed with the TSC, then writes them all again (now
 * mapped). Writes, not reads: a read of untouched anonymous memory maps the
 * host's shared zero page and allocates nothing, which is not what a guest
 * zeroing or filling its memory costs. Under KVM the first pass pays the host's page faults and the
 * hypervisor's mapping of guest RAM: with huge pages behind it (private
 * anonymous memory with THP) KVM maps 2 MiB at a time; with 4 KiB pages
 * (memfd without shmem THP) every page faults on its own. bench/mem.sh
 * compares vessel's two guest RAM backings with it.
 *
 * `touch` writes 16 MiB, `touch:N` N MiB (1-2048). Prints
 *   touch: MiB=<N> pages=<P> first_ns=<T1> again_ns=<T2>
 * PASS unless the range is not RAM. */
#include "arch.h"
#include "boot.h"
#include "console.h"
#include "tests.h"
#include "tsc.h"

#define TOUCH_BASE (64ul << 20)
#define TOUCH_MIB_DEFAULT 16
#define TOUCH_MIB_MAX 2048
#define TOUCH_PAGE 4096

static uint64_t touch_pass(uint64_t base, uint64_t pages)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < pages; i++)
		*(volatile uint8_t *)(uintptr_t)(base + i * TOUCH_PAGE) = (uint8_t)i;
	return rdtsc() - t0;
}

static uint64_t ticks_ns(uint64_t ticks)
{
	uint64_t khz = tsc_khz();

	return khz ? ticks * 1000000 / khz : 0;
}

int test_touch(const char *arg)
{
	uint64_t mib = TOUCH_MIB_DEFAULT, pages, first, again;

	if (*arg && (parse_u64(arg, strlen(arg), &mib) || !mib || mib > TOUCH_MIB_MAX))
		return test_fail("touch:N wants 1-%u MiB", TOUCH_MIB_MAX);
	if (!e820_is_ram(TOUCH_BASE, TOUCH_BASE + (mib << 20)))
		return test_fail("[0x%lx, +%lu MiB) is not RAM: give the guest more memory",
				 TOUCH_BASE, mib);
	pages = (mib << 20) / TOUCH_PAGE;
	first = touch_pass(TOUCH_BASE, pages);
	again = touch_pass(TOUCH_BASE, pages);
	kprintf("touch: MiB=%lu pages=%lu first_ns=%lu again_ns=%lu\n", mib, pages, ticks_ns(first),
		ticks_ns(again));
	return 0;
}
