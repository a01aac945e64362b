/* Unit tests for the I/O dispatch table: ordering, overlap, straddling,
 * unmapped reads. */
#include "hw/iobus.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

struct dev {
	uint64_t last_off;
	uint32_t last_val;
	int writes;
};

static void dev_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	uint32_t v = 0x1000 + (uint32_t)off;

	(void)opaque;
	memcpy(data, &v, len);
}

static void dev_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct dev *d = opaque;

	d->last_off = off;
	d->last_val = 0;
	memcpy(&d->last_val, data, len);
	d->writes++;
}

static const struct vs_io_ops ops = { .read = dev_read, .write = dev_write };

static void test_dispatch(void **state)
{
	struct vs_iobus bus;
	struct dev a = { 0 }, b = { 0 };
	uint32_t v = 0;

	(void)state;
	vs_iobus_init(&bus, "pio");
	assert_int_equal(vs_iobus_register(&bus, 0x3f8, 8, &ops, &a), 0);
	assert_int_equal(vs_iobus_register(&bus, 0x70, 2, &ops, &b), 0);
	assert_int_equal(vs_iobus_register(&bus, 0x3fc, 1, &ops, &b), -EEXIST);
	assert_int_equal(vs_iobus_register(&bus, 0x3f0, 9, &ops, &b), -EEXIST);
	assert_int_equal(vs_iobus_register(&bus, 0, 0, &ops, &b), -EINVAL);
	assert_int_equal(vs_iobus_register(&bus, UINT64_MAX, 2, &ops, &b), -EINVAL);
	v = 0x41;
	assert_true(vs_iobus_access(&bus, 0x3f8, true, &v, 1));
	assert_int_equal(a.last_off, 0);
	assert_int_equal(a.last_val, 0x41);
	assert_true(vs_iobus_access(&bus, 0x71, false, &v, 1));
	assert_int_equal(v & 0xff, 0x01);
	/* unmapped reads are all-ones, writes are dropped */
	v = 0;
	assert_false(vs_iobus_access(&bus, 0x80, false, &v, 4));
	assert_int_equal(v, 0xffffffff);
	/* an access straddling the end of a range is unmapped */
	assert_false(vs_iobus_access(&bus, 0x3fe, true, &v, 4));
	assert_int_equal(a.writes, 1);
}

static void test_full(void **state)
{
	struct vs_iobus bus;
	struct dev d = { 0 };

	(void)state;
	vs_iobus_init(&bus, "mmio");
	for (unsigned i = 0; i < VS_IOBUS_MAX_RANGES; i++)
		assert_int_equal(vs_iobus_register(&bus, 0x1000 * (VS_IOBUS_MAX_RANGES - i), 16, &ops, &d), 0);
	assert_int_equal(vs_iobus_register(&bus, 0, 16, &ops, &d), -ENOSPC);
	for (unsigned i = 1; i < bus.n; i++)
		assert_true(bus.ranges[i - 1].base < bus.ranges[i].base);
	assert_true(vs_iobus_access(&bus, 0x1000 * 7 + 3, true, &d, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
