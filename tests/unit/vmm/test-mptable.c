/* Unit tests for the MP table: signatures, checksums, entry counts, the
 * BSP flag, IOAPIC identity, and the size limit. */
#include "vmm/arch/x86/layout.h"
#include "vmm/arch/x86/mptable.h"
#include "hw/pci.h"

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
	unsigned cpus = 0, bsp = 0, ioapics = 0, ints = 0, pci_ints = 0, buses = 0;

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
		} else if (e[0] == 1) {
			/* PCI is bus 0 (its MP id is its bus number), ISA bus 1 */
			assert_memory_equal(e + 2, e[1] == 0 ? "PCI   " : "ISA   ", 6);
			assert_true(e[1] <= 1);
			buses++;
		} else if (e[0] == 3 && e[4] == 1) {
			assert_int_equal(e[5], e[7]); /* ISA IRQ n -> pin n */
			ints++;
		} else if (e[0] == 3) {
			unsigned slot = e[5] >> 2, pin = (e[5] & 3) + 1;

			/* PCI INTx: level, active high, to the pin hw/pci.h raises */
			assert_int_equal(e[4], 0);
			assert_int_equal(e[2], 0x0d);
			assert_true(slot >= 1 && slot < VS_PCI_MAX_SLOTS);
			assert_int_equal(e[7], VS_PCI_INTX_GSI_BASE +
						       (slot + pin - 1) % VS_PCI_INTX_GSIS);
			pci_ints++;
		}
	}
	assert_int_equal(e - t, length);
	assert_int_equal(cpus, ncpus);
	assert_int_equal(bsp, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(ints, 16);
	assert_int_equal(buses, 2);
	assert_int_equal(pci_ints, (VS_PCI_MAX_SLOTS - 1) * 4);
	assert_int_equal(count, ncpus + 2 + 1 + 16 + (VS_PCI_MAX_SLOTS - 1) * 4 + 2);
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
