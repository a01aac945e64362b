/* The qcow2 metadata overlap map (block/qcow2/overlap.c): roles per
 * cluster, QEMU's order and names, refusal of writes onto other metadata
 * and far past the end of the file. */
#include "block/qcow2/internal.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CB 16 /* 64 KiB clusters */
#define C(n) ((uint64_t)(n) << CB)

static struct qcow2 *fake(void)
{
	struct qcow2 *q = calloc(1, sizeof(*q));

	q->cluster_bits = CB;
	q->cluster_size = 1ULL << CB;
	q->version = 2; /* no header bit to write: the fake has no file */
	q->fd = -1;
	q->file_end = C(64);
	q->alloc_end = 64;
	q->blk.filename = (char *)"fake.qcow2";
	return q;
}

static void drop(struct qcow2 *q)
{
	free(q->ol);
	free(q);
}

static void test_roles_and_order(void **state)
{
	struct qcow2 *q = fake();

	(void)state;
	qcow2_ol_add(q, 0, q->cluster_size, QCOW2_OL_HEADER);
	qcow2_ol_add(q, C(1), 8 * 3, QCOW2_OL_ACTIVE_L1);
	qcow2_ol_add(q, C(5), q->cluster_size, QCOW2_OL_ACTIVE_L2);
	qcow2_ol_add(q, C(7), q->cluster_size, QCOW2_OL_REFCOUNT_BLOCK);
	qcow2_ol_add(q, C(2), 2 * q->cluster_size, QCOW2_OL_REFCOUNT_TABLE);
	assert_int_equal(qcow2_ol_overlap(q, QCOW2_OL_DATA, C(5) + 100, 1), QCOW2_OL_ACTIVE_L2);
	assert_int_equal(qcow2_ol_overlap(q, QCOW2_OL_ACTIVE_L2, C(5), 8), 0);
	assert_int_equal(qcow2_ol_overlap(q, QCOW2_OL_DATA, C(6), q->cluster_size), 0);
	assert_int_equal(qcow2_ol_overlap(q, QCOW2_OL_DATA, C(6), q->cluster_size + 1),
			 QCOW2_OL_REFCOUNT_BLOCK);
	assert_int_equal(qcow2_ol_overlap(q, QCOW2_OL_DATA, C(3) + 5, 1), QCOW2_OL_REFCOUNT_TABLE);
	/* a range over several roles reports the first in QEMU's order */
	assert_int_equal(qcow2_ol_overlap(q, QCOW2_OL_DATA, 0, C(8)), QCOW2_OL_HEADER);
	assert_string_equal(qcow2_ol_name(QCOW2_OL_ACTIVE_L2), "active L2 table");
	assert_string_equal(qcow2_ol_name(QCOW2_OL_REFCOUNT_BLOCK), "refcount block");
	assert_string_equal(qcow2_ol_name(QCOW2_OL_INACTIVE_L1), "inactive L1 table");
	qcow2_ol_del(q, C(5), q->cluster_size, QCOW2_OL_ACTIVE_L2);
	assert_int_equal(qcow2_ol_overlap(q, QCOW2_OL_DATA, C(5), 1), 0);
	qcow2_ol_forget(q, 7); /* refcount 0: no metadata there any more */
	assert_int_equal(qcow2_ol_overlap(q, QCOW2_OL_DATA, C(7), 1), 0);
	drop(q);
}

static void test_conflict_named(void **state)
{
	struct qcow2 *q = fake();
	char msg[160];

	(void)state;
	qcow2_ol_add(q, C(4), q->cluster_size, QCOW2_OL_ACTIVE_L2);
	assert_int_equal(qcow2_ol_conflict(q, msg, sizeof(msg)), 0);
	qcow2_ol_add(q, C(4), q->cluster_size, QCOW2_OL_REFCOUNT_BLOCK);
	assert_int_equal(qcow2_ol_conflict(q, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "refcount block at offset 0x40000 overlaps with active L2 table");
	drop(q);
}

static void test_write_refused_then_read_only(void **state)
{
	struct qcow2 *q = fake();

	(void)state;
	qcow2_ol_add(q, C(9), q->cluster_size, QCOW2_OL_REFCOUNT_BLOCK);
	assert_int_equal(qcow2_pre_write(q, QCOW2_OL_DATA, C(10), 4096), 0);
	assert_int_equal(qcow2_pre_write(q, QCOW2_OL_REFCOUNT_BLOCK, C(9), 2), 0);
	assert_int_equal(qcow2_pre_write(q, QCOW2_OL_DATA, C(9) + 4096, 4096), -EIO);
	assert_true(q->corrupt_seen && q->blk.ro);
	assert_int_equal(qcow2_pre_write(q, QCOW2_OL_DATA, C(10), 4096), -EIO);
	drop(q);
}

static void test_past_eof_bound(void **state)
{
	struct qcow2 *q = fake();

	(void)state;
	assert_int_equal(qcow2_pre_write(q, QCOW2_OL_DATA, C(64) + QCOW2_EOF_SLACK - 4096, 4096),
			 0);
	assert_int_equal(qcow2_pre_write(q, QCOW2_OL_ACTIVE_L2, 1ULL << 55, 8), -EIO);
	assert_true(q->corrupt_seen);
	drop(q);
	q = fake();
	/* metadata that vessel allocates itself is not bound by the slack */
	assert_int_equal(qcow2_pre_write(q, QCOW2_OL_REFCOUNT_BLOCK, 1ULL << 40, 8), 0);
	q->alloc_end = (1ULL << 40) >> CB; /* allocated that far: data may follow */
	assert_int_equal(qcow2_pre_write(q, QCOW2_OL_DATA, 1ULL << 40, 4096), 0);
	drop(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_and_order),
		cmocka_unit_test(test_conflict_named),
		cmocka_unit_test(test_write_refused_then_read_only),
		cmocka_unit_test(test_past_eof_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
