/* Unit tests for the MP table: signatures, checksums, entry counts, the
 * BSP flag, IOAPIC identity, and the size limit. */
#include "vmm/arch/x86/layout.h"
#include "vmm/arch/x86/mptable.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void test_tables(void **state)
{
	static uint8_t buf[4096];
	const unsigned ncpus = 4;
	uint32_t physptr, lapic;
	uint16_t length, count;
	const uint8_t *t, *e;
	unsigned cpus = 0, bsp = 0, ioapics = 0, ints = 0;

	(void)state;
	assert_true(vs_mptable_build(buf, sizeof(buf), VS_X86_BIOS_START, ncpus) > 0);
	assert_memory_equal(buf, "_MP_", 4);
	assert_int_equal(sum(buf, 16), 0);
	memcpy(&physptr, buf + 4, 4);
	assert_int_equal(physptr, VS_X86_BIOS_START + 16);
	t = buf + 16;
	assert_memory_equal(t, "PCMP", 4);
	memcpy(&length, t + 4, 2);
	memcpy(&count, t + 34, 2);
	memcpy(&lapic, t + 36, 4);
	assert_int_equal(sum(t, length), 0);
	assert_int_equal(lapic, VS_X86_LAPIC_ADDR);
	for (e = t + 44; e < t + length; e += e[0] == 0 ? 20 : 8) {
		if (e[0] == 0) {
			assert_int_equal(e[1], cpus);
			cpus++;
			bsp += (e[3] & 2) != 0;
		} else if (e[0] == 2) {
			assert_int_equal(e[1], ncpus);
			ioapics++;
		} else if (e[0] == 3) {
			assert_int_equal(e[5], e[7]); /* ISA IRQ n -> pin n */
			ints++;
		}
	}
	assert_int_equal(e - t, length);
	assert_int_equal(cpus, ncpus);
	assert_int_equal(bsp, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(ints, 16);
	assert_int_equal(count, ncpus + 1 + 1 + 16 + 2);
}

static void test_limits(void **state)
{
	static uint8_t buf[64];

	(void)state;
	assert_int_equal(vs_mptable_build(buf, sizeof(buf), 0, 1), -ENOSPC);
	assert_int_equal(vs_mptable_build(buf, sizeof(buf), 0, 0), -ENOSPC);
	assert_true(vs_mptable_size(254) < 0x10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
