/* Unit tests for split virtqueues: chains (direct, indirect, mixed), the
 * used ring and DMA reporting, EVENT_IDX and flag-based suppression, avail->idx
 * read only when the chains read before are used up, and
 * every kind of hostile ring that must break the queue instead of the VMM. */
#include "vq-harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static uint8_t *ram;
static struct vq_harness h;
static struct vs_vq_elem elem;

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	vqh_init(&h, ram, QSIZE);
	h.vq.indirect = true;
	assert_int_equal(vs_vq_enable(&h.vq, &h.dma), 0);
	assert_int_equal(vs_vq_elem_init(&elem, 64), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vs_vq_elem_free(&elem);
	free(ram);
	return 0;
}

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct vs_vring_desc d = { addr, len, flags, next };

	memcpy(vqh_at(&h, table + 16ull * i), &d, sizeof(d));
}

static uint16_t *avail16(unsigned i)
{
	return (uint16_t *)vqh_at(&h, AVAIL_GPA + 2ull * i);
}

static uint16_t *used16(uint64_t off)
{
	return (uint16_t *)vqh_at(&h, USED_GPA + off);
}

/* Makes chain head available as the next avail entry. */
static void offer(uint16_t head)
{
	uint16_t idx = *avail16(1);

	*avail16(2 + idx % QSIZE) = head;
	*avail16(1) = idx + 1;
}

static void test_direct_chain(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 16, VS_VRING_DESC_F_NEXT, 3);
	set_desc(DESC_GPA, 3, DATA_GPA + 0x100, 512, VS_VRING_DESC_F_NEXT | VS_VRING_DESC_F_WRITE,
		 5);
	set_desc(DESC_GPA, 5, DATA_GPA + 0x400, 1, VS_VRING_DESC_F_WRITE, 0);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 0);
	offer(0);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(elem.head, 0);
	assert_int_equal(elem.nout, 1);
	assert_int_equal(elem.nin, 2);
	assert_int_equal(elem.out_len, 16);
	assert_int_equal(elem.in_len, 513);
	assert_ptr_equal(elem.iov[0].iov_base, vqh_at(&h, DATA_GPA));
	assert_ptr_equal(elem.iov[2].iov_base, vqh_at(&h, DATA_GPA + 0x400));
	assert_int_equal(vs_vq_elem_check(&elem, 16, 513), 0);
	assert_int_equal(vs_vq_elem_check(&elem, 17, 0), -EINVAL);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 0);

	/* used ring: id, len (clamped to in_len), idx; DMA reported */
	h.nwritten = h.ndata = 0;
	assert_int_equal(vs_vq_push(&h.vq, &elem, 100000), 0);
	assert_int_equal(*used16(2), 1);
	assert_int_equal(*(uint32_t *)vqh_at(&h, USED_GPA + 4), 0);
	assert_int_equal(*(uint32_t *)vqh_at(&h, USED_GPA + 8), 513);
	assert_true(h.nwritten >= 4); /* two data parts, the entry, idx */
	assert_true(h.written_lo <= DATA_GPA + 0x100);
	assert_true(h.written_hi >= DATA_GPA + 0x401);
	assert_true(vs_vq_should_notify(&h.vq));
}

static void test_write_report_partial(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 64, VS_VRING_DESC_F_WRITE | VS_VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, DATA_GPA + 0x1000, 64, VS_VRING_DESC_F_WRITE, 0);
	offer(0);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	h.nwritten = h.ndata = 0;
	assert_int_equal(vs_vq_push(&h.vq, &elem, 10), 0);
	/* only the 10 bytes of the first part, not the second part */
	assert_int_equal(h.written_lo, DATA_GPA);
	assert_true(h.written_hi < DATA_GPA + 0x1000);
}

static void test_indirect(void **state)
{
	uint64_t table = DATA_GPA + 0x2000;

	(void)state;
	set_desc(table, 0, DATA_GPA, 8, VS_VRING_DESC_F_NEXT, 2);
	set_desc(table, 2, DATA_GPA + 8, 8, VS_VRING_DESC_F_WRITE, 0);
	set_desc(DESC_GPA, 1, DATA_GPA + 0x10, 4, VS_VRING_DESC_F_NEXT, 2);
	set_desc(DESC_GPA, 2, table, 3 * 16, VS_VRING_DESC_F_INDIRECT, 0);
	offer(1);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(elem.nout, 2);
	assert_int_equal(elem.nin, 1);
	assert_int_equal(elem.out_len, 12);
	assert_int_equal(elem.in_len, 8);
}

/* Each hostile ring breaks the queue: pop says -EIO now and forever. */
static void expect_broken(void)
{
	assert_int_equal(vs_vq_pop(&h.vq, &elem), -EIO);
	assert_true(h.vq.broken);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), -EIO);
	assert_int_equal(vs_vq_push(&h.vq, &elem, 0), -EIO);
	assert_false(vs_vq_enable_notify(&h.vq));
}

static void test_loop(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 8, VS_VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, DATA_GPA, 8, VS_VRING_DESC_F_NEXT, 0);
	offer(0);
	expect_broken();
}

static void test_indirect_loop(void **state)
{
	uint64_t table = DATA_GPA + 0x2000;

	(void)state;
	set_desc(table, 0, DATA_GPA, 8, VS_VRING_DESC_F_NEXT, 0);
	set_desc(DESC_GPA, 0, table, 16, VS_VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken();
}

static void test_nested_indirect(void **state)
{
	uint64_t t1 = DATA_GPA + 0x2000, t2 = DATA_GPA + 0x3000;

	(void)state;
	set_desc(t2, 0, DATA_GPA, 8, 0, 0);
	set_desc(t1, 0, t2, 16, VS_VRING_DESC_F_INDIRECT, 0);
	set_desc(DESC_GPA, 0, t1, 16, VS_VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken();
}

static void test_indirect_not_negotiated(void **state)
{
	uint64_t table = DATA_GPA + 0x2000;

	(void)state;
	h.vq.indirect = false;
	set_desc(table, 0, DATA_GPA, 8, 0, 0);
	set_desc(DESC_GPA, 0, table, 16, VS_VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken();
}

static void test_indirect_bad_len(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA + 0x2000, 17, VS_VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken();
}

static void test_indirect_with_next(void **state)
{
	(void)state;
	set_desc(DATA_GPA + 0x2000, 0, DATA_GPA, 8, 0, 0);
	set_desc(DESC_GPA, 0, DATA_GPA + 0x2000, 16,
		 VS_VRING_DESC_F_INDIRECT | VS_VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, DATA_GPA, 8, 0, 0);
	offer(0);
	expect_broken();
}

static void test_out_of_ram(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, RAM_GPA + RAM_SIZE - 4, 8, 0, 0); /* straddles the end */
	offer(0);
	expect_broken();
}

static void test_wrapping_addr(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, UINT64_MAX - 3, 0xffffffffu, 0, 0);
	offer(0);
	expect_broken();
}

static void test_below_ram(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, 0x1000, 8, 0, 0);
	offer(0);
	expect_broken();
}

static void test_zero_len(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 0, 0, 0);
	offer(0);
	expect_broken();
}

static void test_read_after_write(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 8, VS_VRING_DESC_F_WRITE | VS_VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, DATA_GPA, 8, 0, 0);
	offer(0);
	expect_broken();
}

static void test_next_out_of_range(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 8, VS_VRING_DESC_F_NEXT, QSIZE);
	offer(0);
	expect_broken();
}

static void test_head_out_of_range(void **state)
{
	(void)state;
	offer(QSIZE + 3);
	expect_broken();
}

static void test_avail_jump(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 8, 0, 0);
	*avail16(1) = QSIZE + 1; /* more chains than the ring holds */
	expect_broken();
}

/* avail->idx is read when the chains read before are used up (the driver
 * writes that line for every chain): chains offered before a bad idx are
 * still popped, unpop hands them out again, and the next read of idx
 * breaks the queue. */
static void test_avail_idx_read_when_needed(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < 3; i++) {
		set_desc(DESC_GPA, i, DATA_GPA + 16ull * i, 8, 0, 0);
		offer(i);
	}
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(elem.head, 0);
	*avail16(1) = 3 + QSIZE + 1; /* more chains than the ring holds */
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(elem.head, 1);
	vs_vq_unpop(&h.vq, 1);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(elem.head, 1);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(elem.head, 2);
	expect_broken();
}

static void test_oversized_total(void **state)
{
	uint64_t table = DATA_GPA + 0x2000;

	(void)state;
	/* Declare 4 GiB of RAM so that 2 GiB parts pass the range check (the
	 * walker never dereferences data): then only the total can refuse. */
	h.mem.regions[0].size = 1ull << 32;
	set_desc(table, 0, DATA_GPA, 0x7fff0000u, 0, 0);
	set_desc(DESC_GPA, 0, table, 16, VS_VRING_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1); /* one part: fine */
	set_desc(table, 0, DATA_GPA, 0x7fff0000u, VS_VRING_DESC_F_NEXT, 1);
	set_desc(table, 1, DATA_GPA, 0x7fff0000u, 0, 0);
	set_desc(DESC_GPA, 0, table, 2 * 16, VS_VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken(); /* two: the total passes VS_VQ_MAX_TOTAL */
	h.mem.regions[0].size = RAM_SIZE;
}

static void test_chain_longer_than_cap(void **state)
{
	uint64_t table = DATA_GPA + 0x4000;
	unsigned n = 100; /* > elem cap 64 */

	(void)state;
	for (unsigned i = 0; i < n; i++)
		set_desc(table, i, DATA_GPA, 4, i + 1 < n ? VS_VRING_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	set_desc(DESC_GPA, 0, table, n * 16, VS_VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken();
}

static void test_enable_validation(void **state)
{
	struct vs_vq q = h.vq;

	(void)state;
	q.size = 0;
	assert_int_equal(vs_vq_enable(&q, &h.dma), -EINVAL);
	q.size = VS_VQ_MAX_SIZE + 1;
	assert_int_equal(vs_vq_enable(&q, &h.dma), -EINVAL);
	q.size = QSIZE;
	q.desc_gpa = DESC_GPA + 8; /* not 16-aligned */
	assert_int_equal(vs_vq_enable(&q, &h.dma), -EINVAL);
	q.desc_gpa = RAM_GPA + RAM_SIZE - 16; /* table runs past RAM */
	assert_int_equal(vs_vq_enable(&q, &h.dma), -EINVAL);
	q.desc_gpa = DESC_GPA;
	q.used_gpa = USED_GPA + 2;
	assert_int_equal(vs_vq_enable(&q, &h.dma), -EINVAL);
	assert_false(q.enabled);
	assert_int_equal(vs_vq_pop(&q, &elem), -EIO);
}

static void test_event_idx(void **state)
{
	uint16_t *used_event = avail16(2 + QSIZE);

	(void)state;
	h.vq.event_idx = true;
	set_desc(DESC_GPA, 0, DATA_GPA, 8, VS_VRING_DESC_F_WRITE, 0);
	for (int i = 0; i < 3; i++) {
		offer(0);
		assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
		/* avail_event follows what we consumed */
		assert_int_equal(*used16(4 + 8 * QSIZE), i + 1);
	}
	*used_event = 0; /* interrupt when used idx passes 0 */
	assert_int_equal(vs_vq_push(&h.vq, &elem, 8), 0);
	assert_true(vs_vq_should_notify(&h.vq)); /* first one always */
	assert_int_equal(vs_vq_push(&h.vq, &elem, 8), 0);
	assert_false(vs_vq_should_notify(&h.vq)); /* used idx 2: event 0 already passed */
	*used_event = 2;
	assert_int_equal(vs_vq_push(&h.vq, &elem, 8), 0);
	assert_true(vs_vq_should_notify(&h.vq)); /* idx went 2 -> 3: passes event 2 */
}

static void test_event_idx_wrap(void **state)
{
	(void)state;
	h.vq.event_idx = true;
	set_desc(DESC_GPA, 0, DATA_GPA, 8, VS_VRING_DESC_F_WRITE, 0);
	/* start both sides near the 16-bit wrap */
	*avail16(1) = 0xfffe;
	h.vq.last_avail = 0xfffe;
	h.vq.used_idx = 0xfffe;
	*used16(2) = 0xfffe;
	for (int i = 0; i < 4; i++) {
		offer(0);
		assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
		assert_int_equal(vs_vq_push(&h.vq, &elem, 8), 0);
	}
	assert_int_equal(*used16(2), 2);
	assert_int_equal(*avail16(1), 2);
	assert_true(vs_vq_should_notify(&h.vq));
	*avail16(2 + QSIZE) = 3; /* want one when used idx passes 3 */
	offer(0);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(vs_vq_push(&h.vq, &elem, 8), 0);
	assert_false(vs_vq_should_notify(&h.vq)); /* idx 3 */
	offer(0);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(vs_vq_push(&h.vq, &elem, 8), 0);
	assert_true(vs_vq_should_notify(&h.vq)); /* idx 4 passes 3 */
}

static void test_flag_suppression(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 8, VS_VRING_DESC_F_WRITE, 0);
	vs_vq_disable_notify(&h.vq);
	assert_int_equal(*used16(0), VS_VRING_USED_F_NO_NOTIFY);
	assert_false(vs_vq_enable_notify(&h.vq));
	assert_int_equal(*used16(0), 0);
	offer(0);
	/* a chain that arrived while notifications were off is seen */
	vs_vq_disable_notify(&h.vq);
	assert_true(vs_vq_enable_notify(&h.vq));
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 1);
	assert_int_equal(vs_vq_push(&h.vq, &elem, 1), 0);
	*avail16(0) = VS_VRING_AVAIL_F_NO_INTERRUPT;
	assert_false(vs_vq_should_notify(&h.vq));
	*avail16(0) = 0;
	assert_true(vs_vq_should_notify(&h.vq));
}

static void test_reset(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, DATA_GPA, 8, VS_VRING_DESC_F_NEXT, 0);
	offer(0);
	expect_broken();
	vs_vq_reset(&h.vq);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), -EIO); /* disabled */
	memset(ram, 0, RAM_SIZE);
	assert_int_equal(vs_vq_enable(&h.vq, &h.dma), 0);
	assert_false(h.vq.broken);
	assert_int_equal(vs_vq_pop(&h.vq, &elem), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_direct_chain),
		T(test_write_report_partial),
		T(test_indirect),
		T(test_loop),
		T(test_indirect_loop),
		T(test_nested_indirect),
		T(test_indirect_not_negotiated),
		T(test_indirect_bad_len),
		T(test_indirect_with_next),
		T(test_out_of_ram),
		T(test_wrapping_addr),
		T(test_below_ram),
		T(test_zero_len),
		T(test_read_after_write),
		T(test_next_out_of_range),
		T(test_head_out_of_range),
		T(test_avail_jump),
		T(test_avail_idx_read_when_needed),
		T(test_oversized_total),
		T(test_chain_longer_than_cap),
		T(test_enable_validation),
		T(test_event_idx),
		T(test_event_idx_wrap),
		T(test_flag_suppression),
		T(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
