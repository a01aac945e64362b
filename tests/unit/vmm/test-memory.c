/* Unit tests for vs_guest_mem_ptr(): the host pointer for guest-physical
 * ranges that may come from a guest (descriptor addresses and lengths), so
 * every boundary is hostile: the 32-bit hole, ranges running past a region
 * or into the hole, and additions that wrap past 2^64. */
#include "vmm/memory.h"
#include "common/util.h"
#include "vs-test.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define HIGH (512 * VS_MIB) /* RAM above 4 GiB in the split layout */
#define VS_X86_LAPIC_TEST 0xfee00000ULL

static struct vs_guest_mem *split_mem(void)
{
	struct vs_guest_mem *m = NULL;

	assert_int_equal(vs_guest_mem_new(VS_MEM_HOLE_START + HIGH, &m), 0);
	assert_int_equal(m->nregions, 2);
	return m;
}

static void test_low_region(void **state)
{
	struct vs_guest_mem *m = NULL;
	uint64_t size = 64 * VS_MIB;

	(void)state;
	assert_int_equal(vs_guest_mem_new(size, &m), 0);
	assert_int_equal(m->nregions, 1);
	assert_ptr_equal(vs_guest_mem_ptr(m, 0, 1), m->base);
	assert_ptr_equal(vs_guest_mem_ptr(m, 0, size), m->base);
	assert_ptr_equal(vs_guest_mem_ptr(m, size - 1, 1), m->base + size - 1);
	/* an empty range at the very end is inside; one byte further is not */
	assert_ptr_equal(vs_guest_mem_ptr(m, size, 0), m->base + size);
	assert_null(vs_guest_mem_ptr(m, size, 1));
	assert_null(vs_guest_mem_ptr(m, size - 1, 2));
	assert_null(vs_guest_mem_ptr(m, 0, size + 1));
	assert_null(vs_guest_mem_ptr(m, size + 4096, 0));
	vs_guest_mem_free(m);
}

static void test_hole(void **state)
{
	struct vs_guest_mem *m = split_mem();

	(void)state;
	assert_non_null(vs_guest_mem_ptr(m, VS_MEM_HOLE_START - 4096, 4096));
	/* a range crossing from low RAM into the hole */
	assert_null(vs_guest_mem_ptr(m, VS_MEM_HOLE_START - 4096, 4097));
	/* inside the hole, and a range spanning it (both regions are contiguous
	 * in the host mapping: a naive check would hand it out) */
	assert_null(vs_guest_mem_ptr(m, VS_MEM_HOLE_START + 1, 1));
	assert_null(vs_guest_mem_ptr(m, VS_X86_LAPIC_TEST, 4));
	assert_null(vs_guest_mem_ptr(m, VS_MEM_HOLE_START - 8,
				     VS_MEM_HOLE_END - VS_MEM_HOLE_START + 16));
	assert_null(vs_guest_mem_ptr(m, VS_MEM_HOLE_END - 1, 2));
	/* high RAM maps to the host right after low RAM */
	assert_ptr_equal(vs_guest_mem_ptr(m, VS_MEM_HOLE_END, 8), m->base + VS_MEM_HOLE_START);
	assert_ptr_equal(vs_guest_mem_ptr(m, VS_MEM_HOLE_END + HIGH - 8, 8),
			 m->base + VS_MEM_HOLE_START + HIGH - 8);
	assert_null(vs_guest_mem_ptr(m, VS_MEM_HOLE_END + HIGH - 8, 9));
	assert_null(vs_guest_mem_ptr(m, VS_MEM_HOLE_END + HIGH, 1));
	vs_guest_mem_free(m);
}

static void test_wrap(void **state)
{
	struct vs_guest_mem *m = split_mem();

	(void)state;
	/* gpa + len wraps past 2^64 to land inside RAM: must be refused */
	assert_null(vs_guest_mem_ptr(m, UINT64_MAX, 2));
	assert_null(vs_guest_mem_ptr(m, UINT64_MAX - 4095, 8192));
	assert_null(vs_guest_mem_ptr(m, 4096, UINT64_MAX));
	assert_null(vs_guest_mem_ptr(m, 4096, UINT64_MAX - 4095));
	assert_null(vs_guest_mem_ptr(m, VS_MEM_HOLE_END + 16, UINT64_MAX - 8));
	assert_null(vs_guest_mem_ptr(m, UINT64_MAX, 0));
	assert_null(vs_guest_mem_ptr(m, 0, UINT64_MAX));
	vs_guest_mem_free(m);
}

static void test_bad_sizes(void **state)
{
	struct vs_guest_mem *m = NULL;

	(void)state;
	assert_int_equal(vs_guest_mem_new(0, &m), -EINVAL);
	assert_int_equal(vs_guest_mem_new(4097, &m), -EINVAL);
	assert_null(m);
}

/* Each backing: usable RAM at a 2 MiB-aligned base (THP and KVM's 2 MiB
 * mappings need the host and guest offsets to agree modulo 2 MiB), a memfd
 * only for VS_MEM_MEMFD, the hole split alike. */
static void test_backings(void **state)
{
	static const enum vs_mem_backing kinds[] = { VS_MEM_ANON, VS_MEM_ANON_THP, VS_MEM_MEMFD };

	(void)state;
	for (unsigned i = 0; i < VS_ARRAY_SIZE(kinds); i++) {
		struct vs_guest_mem *m = NULL;
		uint8_t *p;

		assert_int_equal(vs_guest_mem_new_backed(64 * VS_MIB + 4096, kinds[i], &m), 0);
		assert_int_equal(m->backing, kinds[i]);
		assert_int_equal((uintptr_t)m->base % (2 * VS_MIB), 0);
		if (kinds[i] == VS_MEM_MEMFD)
			assert_true(m->fd >= 0);
		else
			assert_int_equal(m->fd, -1);
		p = vs_guest_mem_ptr(m, 64 * VS_MIB, 4096);
		assert_ptr_equal(p, m->base + 64 * VS_MIB);
		memset(p, 0xa5, 4096);
		assert_int_equal(*(uint8_t *)vs_guest_mem_ptr(m, 64 * VS_MIB + 4095, 1), 0xa5);
		assert_int_equal(*(uint8_t *)vs_guest_mem_ptr(m, 0, 1), 0);
		vs_guest_mem_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_low_region), cmocka_unit_test(test_hole),
		cmocka_unit_test(test_wrap),	   cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_backings),
	};

	return vs_test_run("memory", tests, VS_ARRAY_SIZE(tests), NULL, NULL, NULL);
}
