/* test-codewalk.c - the `codewalk` test: a guest that runs through fresh code.
 *
 * A CPU that caches decoded code (QEMU's translation blocks, vessel's emu
 * block cache) must bound that cache: this guest writes a 3-byte stub
 * (mov $imm8,%al; ret) at every third byte of a RAM window and calls each
 * once, so every call is code never seen before. Without a budget the
 * decoded blocks of a 16 MiB window take about a gigabyte of VMM memory.
 * A second pass rewrites the first pages with other immediates and checks
 * that the code run after the cache was flushed is the new code.
 *
 * `codewalk` walks 16 MiB starting at 32 MiB; `codewalk:N` walks N MiB
 * (1-1024). PASS if every stub returned its immediate, in both passes.
 * Prints `codewalk: stubs=<N> MiB=<M>`. Not for KVM-PVM (CPL0 emulated at
 * ~2 MIPS: minutes). */
#include "arch.h"
#include "boot.h"
#include "console.h"
#include "tests.h"

#define WALK_BASE (32ul << 20)
#define WALK_MIB_DEFAULT 16
#define WALK_MIB_MAX 1024
#define STUB_LEN 3
#define REWRITE_PAGES 16

typedef uint8_t (*stub_fn)(void);

static uint8_t stub_imm(uint64_t i, unsigned int pass)
{
	return (uint8_t)((i * 7 + 1) ^ (pass * 0x5a));
}

static void put_stub(volatile uint8_t *p, uint8_t imm)
{
	p[0] = 0xb0; /* mov $imm8,%al */
	p[1] = imm;
	p[2] = 0xc3; /* ret */
}

/* Writes the stubs of [first, first + n) a page at a time, then calls
 * them: a page is written before any of its code runs (writes to pages
 * holding code are the slow, invalidating path; that is test-smc.c's
 * subject). Returns the index of the first stub that returned the wrong
 * value, or first + n when all were right. */
static uint64_t walk(uint8_t *base, uint64_t first, uint64_t n, unsigned int pass)
{
	const uint64_t per_page = 4096 / STUB_LEN;

	for (uint64_t i = first; i < first + n; i += per_page) {
		uint64_t end = i + per_page < first + n ? i + per_page : first + n;

		for (uint64_t j = i; j < end; j++)
			put_stub(base + j * STUB_LEN, stub_imm(j, pass));
		for (uint64_t j = i; j < end; j++)
			if (((stub_fn)(uintptr_t)(base + j * STUB_LEN))() != stub_imm(j, pass))
				return j;
	}
	return first + n;
}

int test_codewalk(const char *arg)
{
	uint64_t mib = WALK_MIB_DEFAULT, n, bad;
	uint8_t *base = (uint8_t *)WALK_BASE;

	if (*arg && (parse_u64(arg, strlen(arg), &mib) || !mib || mib > WALK_MIB_MAX))
		return test_fail("codewalk:N wants 1-%u MiB", WALK_MIB_MAX);
	if (!e820_is_ram(WALK_BASE, WALK_BASE + (mib << 20)))
		return test_fail("[0x%lx, +%lu MiB) is not RAM: give the guest more memory",
				 WALK_BASE, mib);
	n = (mib << 20) / STUB_LEN;
	kprintf("codewalk: stubs=%lu MiB=%lu\n", n, mib);
	/* pass 0: all fresh code; pass 1 rewrites the first REWRITE_PAGES
	 * pages (whose blocks the budget has flushed long ago) */
	for (unsigned int pass = 0; pass < 2; pass++) {
		uint64_t cnt = pass ? REWRITE_PAGES * 4096 / STUB_LEN : n;

		bad = walk(base, 0, cnt, pass);
		if (bad != cnt)
			return test_fail("pass %u: stub %lu at 0x%lx returned a stale value", pass,
					 bad, (uint64_t)(uintptr_t)(base + bad * STUB_LEN));
	}
	return 0;
}
