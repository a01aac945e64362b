/* qcow2 through the block interface, against an in-memory model: random
 * writes, zeroes, discards and reads over cluster sizes, versions and
 * refcount widths, with and without a backing file; snapshots; compressed
 * clusters; refcount table growth; resize. Every case ends with a clean
 * qcow2_check and a reopen. */
#include "block/block.h"
#include "block/qcow2.h"
#include "block/raw.h"
#include "common/err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#define IMG_SIZE (4u << 20)

struct fx {
	char dir[64];
	char img[96];
	char base[96];
	uint8_t *model;
	uint8_t *buf;
	unsigned seed;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/vs-test-qcow2-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->img, sizeof(f->img), "%s/a.qcow2", f->dir);
	snprintf(f->base, sizeof(f->base), "%s/base.raw", f->dir);
	f->model = calloc(1, IMG_SIZE);
	f->buf = calloc(1, IMG_SIZE);
	f->seed = getenv("VS_TEST_SEED") ? (unsigned)atoi(getenv("VS_TEST_SEED")) : 12345;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->img);
	unlink(f->base);
	rmdir(f->dir);
	free(f->model);
	free(f->buf);
	free(f);
	return 0;
}

static unsigned rnd(struct fx *f, unsigned n)
{
	f->seed = f->seed * 1103515245u + 12345u;
	return (f->seed >> 8) % n;
}

static struct vs_blk *open_img(const char *path, const char *fmt)
{
	struct vs_blk *b = NULL;
	struct vs_err *e = NULL;

	if (vs_blk_open(path, fmt, 0, &b, &e) < 0)
		fail_msg("open %s: %s", path, e->msg);
	return b;
}

static void create(struct fx *f, uint64_t cs, unsigned ver, unsigned rb, bool backing)
{
	struct qcow2_create_opts o = {
		.size = IMG_SIZE, .cluster_size = cs, .version = ver, .refcount_bits = rb
	};
	struct vs_err *e = NULL;

	memset(f->model, 0, IMG_SIZE);
	if (backing) {
		struct vs_blk *b;

		assert_int_equal(raw_create(f->base, IMG_SIZE - 12345, false, false, &e), 0);
		b = open_img(f->base, "raw");
		for (unsigned i = 0; i < IMG_SIZE - 12345; i++)
			f->model[i] = (uint8_t)(i * 7 + 3);
		assert_int_equal(vs_blk_pwrite(b, f->model, IMG_SIZE - 12345, 0), 0);
		vs_blk_close(b);
		o.backing = "base.raw";
		o.backing_fmt = "raw";
	}
	if (qcow2_create(f->img, &o, &e) < 0)
		fail_msg("create: %s", e->msg);
}

static void assert_clean(struct vs_blk *b)
{
	struct vs_blk_check_result r;
	struct vs_err *e = NULL;

	assert_int_equal(qcow2_check(b, VS_BLK_REPAIR_NONE, &r, &e), 0);
	assert_int_equal(r.corruptions, 0);
	assert_int_equal(r.leaks, 0);
}

static void assert_model(struct fx *f, struct vs_blk *b)
{
	assert_int_equal(vs_blk_pread(b, f->buf, IMG_SIZE, 0), 0);
	for (size_t i = 0; i < IMG_SIZE; i++)
		if (f->buf[i] != f->model[i])
			fail_msg("byte %zu: got %u want %u", i, f->buf[i], f->model[i]);
}

/* The model of discard: whole clusters read as zeros, unless v2 with a
 * backing file (cannot be expressed: unchanged). */
static void model_discard(struct fx *f, uint64_t off, uint64_t len, uint64_t cs, bool keep)
{
	uint64_t a = (off + cs - 1) / cs * cs, end = off + len;
	uint64_t z = end == IMG_SIZE ? end : end / cs * cs;

	if (!keep && a < z)
		memset(f->model + a, 0, z - a);
}

static void random_ops(struct fx *f, struct vs_blk *b, uint64_t cs, bool v2_backing, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t off = rnd(f, IMG_SIZE), len = 1 + rnd(f, 150000), op = rnd(f, 10);

		len = len > IMG_SIZE - off ? IMG_SIZE - off : len;
		if (op < 6) {
			for (uint64_t j = 0; j < len; j++)
				f->buf[j] = (uint8_t)(i + j / 512);
			assert_int_equal(vs_blk_pwrite(b, f->buf, len, off), 0);
			memcpy(f->model + off, f->buf, len);
		} else if (op == 6) {
			assert_int_equal(vs_blk_write_zeroes(b, off, len), 0);
			memset(f->model + off, 0, len);
		} else if (op == 7) {
			assert_int_equal(vs_blk_discard(b, off, len), 0);
			model_discard(f, off, len, cs, v2_backing);
		} else {
			assert_int_equal(vs_blk_pread(b, f->buf, len, off), 0);
			assert_memory_equal(f->buf, f->model + off, len);
		}
	}
}

static void run_model(struct fx *f, uint64_t cs, unsigned ver, unsigned rb, bool backing)
{
	struct vs_blk *b;

	create(f, cs, ver, rb, backing);
	b = open_img(f->img, "qcow2");
	random_ops(f, b, cs, ver == 2 && backing, 300);
	assert_model(f, b);
	assert_int_equal(vs_blk_flush(b), 0);
	assert_clean(b);
	vs_blk_close(b);
	b = open_img(f->img, "qcow2");
	assert_model(f, b);
	vs_blk_close(b);
}

static void test_model_matrix(void **state)
{
	static const uint64_t cs[] = { 512, 4096, 65536, 2u << 20 };
	static const unsigned rb[] = { 1, 16, 64 };

	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++)
		for (size_t j = 0; j < sizeof(rb) / sizeof(rb[0]); j++)
			run_model(*state, cs[i], 3, rb[j], false);
	run_model(*state, 65536, 2, 16, false);
}

static void test_model_backing(void **state)
{
	run_model(*state, 4096, 3, 16, true);
	run_model(*state, 65536, 3, 16, true);
	run_model(*state, 65536, 2, 16, true);
}

static void test_snapshots(void **state)
{
	struct fx *f = *state;
	struct vs_err *e = NULL;
	struct vs_blk *b;
	uint8_t *a = malloc(IMG_SIZE);

	create(f, 65536, 3, 16, false);
	b = open_img(f->img, "qcow2");
	random_ops(f, b, 65536, false, 100);
	memcpy(a, f->model, IMG_SIZE);
	assert_int_equal(qcow2_snapshot_create(b, "one", &e), 0);
	assert_clean(b);
	random_ops(f, b, 65536, false, 100);
	assert_int_equal(qcow2_snapshot_create(b, "two", &e), 0);
	assert_int_equal(qcow2_snapshot_create(b, "two", &e), -EEXIST);
	vs_err_free(e);
	e = NULL;
	assert_clean(b);
	assert_int_equal(qcow2_snapshot_apply(b, "one", &e), 0);
	memcpy(f->buf, f->model, IMG_SIZE);
	memcpy(f->model, a, IMG_SIZE);
	assert_model(f, b);
	assert_clean(b);
	random_ops(f, b, 65536, false, 50);
	assert_int_equal(qcow2_snapshot_delete(b, "one", &e), 0);
	assert_clean(b);
	assert_int_equal(qcow2_snapshot_delete(b, "two", &e), 0);
	assert_clean(b);
	assert_model(f, b);
	vs_blk_close(b);
	free(a);
}

static void test_compressed(void **state)
{
	struct fx *f = *state;
	struct vs_blk *b;

	create(f, 65536, 3, 16, false);
	b = open_img(f->img, "qcow2");
	for (uint64_t off = 0; off < IMG_SIZE; off += 65536) {
		for (unsigned j = 0; j < 65536; j++)
			f->model[off + j] = (uint8_t)(j / 1000 + off / 65536);
		assert_int_equal(qcow2_write_compressed(b, f->model + off, 65536, off), 0);
	}
	assert_model(f, b);
	assert_clean(b);
	random_ops(f, b, 65536, false, 200); /* COW out of compressed clusters */
	assert_model(f, b);
	assert_clean(b);
	vs_blk_close(b);
}

static void test_refcount_table_growth(void **state)
{
	struct fx *f = *state;
	struct vs_err *e = NULL;
	struct vs_blk *b;

	create(f, 512, 3, 16, false);
	b = open_img(f->img, "qcow2");
	memset(f->model, 0x3c, IMG_SIZE);
	assert_int_equal(vs_blk_pwrite(b, f->model, IMG_SIZE, 0), 0);
	assert_int_equal(vs_blk_truncate(b, 64u << 20, &e), 0); /* L1 moves */
	assert_model(f, b);
	assert_clean(b);
	assert_int_equal(vs_blk_truncate(b, IMG_SIZE / 2, &e), -ENOTSUP); /* data past end */
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_blk_truncate(b, IMG_SIZE, &e), 0); /* empty tail: fine */
	assert_model(f, b);
	assert_clean(b);
	vs_blk_close(b);
}

#define NTHREADS 4

struct worker {
	struct vs_blk *b;
	struct fx *f;
	unsigned id;
	int err;
};

/* Each thread owns the clusters with index % NTHREADS == id: they share L2
 * tables, refcount blocks and the allocator, never bytes. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(8192);
	unsigned seed = w->id * 7919 + 1;

	for (int i = 0; i < 400 && !w->err; i++) {
		uint64_t c, off, len;

		seed = seed * 1103515245u + 12345u;
		c = ((seed >> 8) % (IMG_SIZE / 4096 / NTHREADS)) * NTHREADS + w->id;
		off = c * 4096 + (seed >> 4) % 2048;
		len = 1 + (seed >> 12) % (4096 * (c + 1) - off);
		memset(buf, (int)(w->id * 50 + i % 50), len);
		if ((seed >> 20) % 4 == 0) {
			w->err = vs_blk_pread(w->b, buf, len, off);
			if (!w->err && memcmp(buf, w->f->model + off, len))
				w->err = -EILSEQ;
			continue;
		}
		w->err = vs_blk_pwrite(w->b, buf, len, off);
		memcpy(w->f->model + off, buf, len);
	}
	free(buf);
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *f = *state;
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	struct vs_blk *b;

	create(f, 4096, 3, 16, true);
	b = open_img(f->img, "qcow2");
	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .b = b, .f = f, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].err, 0);
	}
	assert_model(f, b);
	assert_clean(b);
	vs_blk_close(b);
}

static void test_raw(void **state)
{
	struct fx *f = *state;
	struct vs_blk_status st;
	struct vs_err *e = NULL;
	struct vs_blk *b;

	assert_int_equal(raw_create(f->base, IMG_SIZE, false, false, &e), 0);
	b = open_img(f->base, "raw");
	memset(f->buf, 9, 8192);
	assert_int_equal(vs_blk_pwrite(b, f->buf, 8192, 65536), 0);
	assert_int_equal(vs_blk_block_status(b, 0, IMG_SIZE, &st), 0);
	assert_true(st.flags & VS_BLK_ST_ZERO);
	assert_int_equal(vs_blk_pread(b, f->buf, 4, IMG_SIZE - 2), -EINVAL);
	vs_blk_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_backing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compressed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount_table_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
