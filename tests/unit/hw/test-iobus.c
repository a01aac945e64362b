/* Unit tests for the I/O dispatch table: ordering, overlap, straddling,
 * unmapped reads. */
#include "hw/iobus.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
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
		assert_int_equal(vs_iobus_register(&bus, 0x1000 * (VS_IOBUS_MAX_RANGES - i), 16,
						   &ops, &d),
				 0);
	assert_int_equal(vs_iobus_register(&bus, 0, 16, &ops, &d), -ENOSPC);
	for (unsigned i = 1; i < bus.n; i++)
		assert_true(bus.ranges[i - 1].base < bus.ranges[i].base);
	assert_true(vs_iobus_access(&bus, 0x1000 * 7 + 3, true, &d, 1));
}

static void test_remove_move(void **state)
{
	struct vs_iobus bus;
	struct dev a = { 0 }, b = { 0 };
	uint32_t v = 5;

	(void)state;
	vs_iobus_init(&bus, "mmio");
	assert_int_equal(vs_iobus_register(&bus, 0x1000, 0x100, &ops, &a), 0);
	assert_int_equal(vs_iobus_register(&bus, 0x3000, 0x100, &ops, &b), 0);
	assert_int_equal(vs_iobus_move(&bus, 0x1000, 0x2f80), -EEXIST); /* overlaps b */
	assert_int_equal(vs_iobus_move(&bus, 0x1000, UINT64_MAX - 0x10), -EINVAL);
	assert_int_equal(vs_iobus_move(&bus, 0x1234, 0x5000), -ENOENT);
	assert_int_equal(vs_iobus_move(&bus, 0x1000, 0x5000), 0); /* past b: order kept */
	assert_true(bus.ranges[0].base < bus.ranges[1].base);
	assert_false(vs_iobus_access(&bus, 0x1000, true, &v, 4));
	assert_true(vs_iobus_access(&bus, 0x5010, true, &v, 4));
	assert_int_equal(a.last_off, 0x10);
	assert_int_equal(vs_iobus_move(&bus, 0x5000, 0x1080), 0); /* in front of b again */
	assert_true(vs_iobus_access(&bus, 0x1080, true, &v, 4));
	assert_int_equal(vs_iobus_move(&bus, 0x1080, 0x1090), 0); /* overlapping itself is fine */
	assert_int_equal(vs_iobus_remove(&bus, 0x1090), 0);
	assert_int_equal(vs_iobus_remove(&bus, 0x1090), -ENOENT);
	assert_false(vs_iobus_access(&bus, 0x1090, true, &v, 4));
	assert_int_equal(bus.n, 1);
	/* slots are recycled: fill the bus after removals */
	for (unsigned i = 0; i < VS_IOBUS_MAX_RANGES - 1; i++)
		assert_int_equal(vs_iobus_register(&bus, 0x10000 + 0x100 * i, 16, &ops, &a), 0);
	assert_int_equal(vs_iobus_register(&bus, 0, 16, &ops, &a), -ENOSPC);
}

/* A device whose callbacks check that they never run after removal. */
struct live_dev {
	atomic_bool removed;
	atomic_int calls;
	atomic_int late; /* callbacks that started after remove() returned */
	unsigned sleep_us;
};

static void live_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct live_dev *d = opaque;

	(void)off;
	(void)data;
	(void)len;
	if (atomic_load(&d->removed))
		atomic_fetch_add(&d->late, 1);
	if (d->sleep_us)
		usleep(d->sleep_us);
	if (atomic_load(&d->removed))
		atomic_fetch_add(&d->late, 1);
	atomic_fetch_add(&d->calls, 1);
}

static const struct vs_io_ops live_ops = { .write = live_write };

struct reader_arg {
	struct vs_iobus *bus;
	atomic_bool *stop;
	long accesses;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	uint32_t v = 1;

	while (!atomic_load(a->stop)) {
		for (uint64_t addr = 0x1000; addr < 0x9000; addr += 0x1000)
			vs_iobus_access(a->bus, addr + 4, true, &v, 4);
		a->accesses++;
	}
	return NULL;
}

/* Readers dispatch continuously while a writer adds, moves and removes
 * ranges: no access sees a removed device, nothing crashes. */
static void test_concurrent(void **state)
{
	static struct vs_iobus bus;
	static struct live_dev devs[8];
	struct reader_arg args[3];
	pthread_t th[3];
	atomic_bool stop = false;

	(void)state;
	vs_iobus_init(&bus, "mmio");
	for (int t = 0; t < 3; t++) {
		args[t] = (struct reader_arg){ .bus = &bus, .stop = &stop };
		assert_int_equal(pthread_create(&th[t], NULL, reader, &args[t]), 0);
	}
	for (int round = 0; round < 100; round++) {
		struct live_dev *d = &devs[round % 8];
		uint64_t base = 0x1000 * (1 + round % 8);

		memset(d, 0, sizeof(*d));
		assert_int_equal(vs_iobus_register(&bus, base, 0x100, &live_ops, d), 0);
		assert_int_equal(vs_iobus_move(&bus, base, base + 0x800), 0);
		assert_int_equal(vs_iobus_move(&bus, base + 0x800, base), 0);
		usleep(100);
		assert_int_equal(vs_iobus_remove(&bus, base), 0);
		atomic_store(&d->removed, true);
		assert_int_equal(atomic_load(&d->late), 0);
	}
	atomic_store(&stop, true);
	for (int t = 0; t < 3; t++) {
		pthread_join(th[t], NULL);
		assert_true(args[t].accesses > 0);
	}
	for (int i = 0; i < 8; i++)
		assert_int_equal(atomic_load(&devs[i].late), 0);
	assert_int_equal(bus.n, 0);
}

static void *slow_access(void *p)
{
	uint32_t v = 1;

	vs_iobus_access(p, 0x1004, true, &v, 4);
	return NULL;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* remove() waits for a callback in flight; other ranges stay reachable
 * meanwhile (the lock is not held across the callback). */
static void test_remove_waits(void **state)
{
	static struct vs_iobus bus;
	struct live_dev slow = { .sleep_us = 100000 }, other = { 0 };
	pthread_t th;
	uint32_t v = 1;
	uint64_t t0;

	(void)state;
	vs_iobus_init(&bus, "mmio");
	assert_int_equal(vs_iobus_register(&bus, 0x1000, 0x100, &live_ops, &slow), 0);
	assert_int_equal(vs_iobus_register(&bus, 0x2000, 0x100, &live_ops, &other), 0);
	assert_int_equal(pthread_create(&th, NULL, slow_access, &bus), 0);
	while (atomic_load(&bus.inflight[bus.ranges[0].slot]) == 0)
		usleep(100);
	t0 = now_us();
	assert_true(vs_iobus_access(&bus, 0x2004, true, &v, 4)); /* not blocked */
	assert_true(now_us() - t0 < 50000);
	assert_int_equal(vs_iobus_remove(&bus, 0x1000), 0);
	assert_int_equal(atomic_load(&slow.calls), 1); /* remove returned after it */
	pthread_join(th, NULL);
}

/* A callback that removes its own range does not wait for itself. */
static struct vs_iobus self_bus;

static void self_remove(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
	assert_int_equal(vs_iobus_remove(&self_bus, 0x1000), 0);
}

static const struct vs_io_ops self_ops = { .write = self_remove };

static void test_remove_self(void **state)
{
	uint32_t v = 1;

	(void)state;
	vs_iobus_init(&self_bus, "mmio");
	assert_int_equal(vs_iobus_register(&self_bus, 0x1000, 0x100, &self_ops, NULL), 0);
	assert_true(vs_iobus_access(&self_bus, 0x1000, true, &v, 4));
	assert_int_equal(self_bus.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch),     cmocka_unit_test(test_full),
		cmocka_unit_test(test_remove_move),  cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_remove_waits), cmocka_unit_test(test_remove_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
