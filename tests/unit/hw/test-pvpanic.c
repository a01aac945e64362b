/* Unit tests for the pvpanic port (hw/pvpanic.h): the capabilities read
 * back, PANICKED stops the machine as a panic, CRASH_LOADED does not. */
#include "hw/iobus.h"
#include "hw/power.h"
#include "hw/pvpanic.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static int panics, others;

static void request(void *ctx, enum vs_power_event why, int status)
{
	(void)ctx;
	(void)status;
	if (why == VS_POWER_PANIC)
		panics++;
	else
		others++;
}

static void test_pvpanic(void **state)
{
	struct vs_power power = { request, NULL };
	struct vs_iobus bus;
	uint8_t v = 0;

	(void)state;
	vs_iobus_init(&bus, "pio");
	assert_int_equal(vs_pvpanic_attach(&bus, &power), 0);
	assert_true(vs_iobus_access(&bus, VS_PVPANIC_PORT, false, &v, 1));
	assert_int_equal(v, VS_PVPANIC_PANICKED | VS_PVPANIC_CRASH_LOADED);
	v = VS_PVPANIC_CRASH_LOADED;
	assert_true(vs_iobus_access(&bus, VS_PVPANIC_PORT, true, &v, 1));
	assert_int_equal(panics, 0);
	v = VS_PVPANIC_PANICKED;
	assert_true(vs_iobus_access(&bus, VS_PVPANIC_PORT, true, &v, 1));
	assert_int_equal(panics, 1);
	assert_int_equal(others, 0);
	vs_pvpanic_detach(&bus);
	assert_false(vs_iobus_access(&bus, VS_PVPANIC_PORT, true, &v, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvpanic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
