/* Unit tests for the containers table (store/containers.h, migration 2):
 * insert and unique names, lookup by name, id and id prefix (ambiguous
 * prefixes refused), updates guarded by the monitor's pid, counts per
 * image, delete. */
#include "store/containers.h"
#include "store/store.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char root[256];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vessel-test-ctrs-%d-XXXXXX", getpid());
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static struct vs_store_ctr row(const char *id, const char *name, const char *digest)
{
	return (struct vs_store_ctr){ .id = (char *)id,
				      .name = (char *)name,
				      .image = (char *)"bb:1",
				      .image_digest = (char *)digest,
				      .spec = (char *)"{}",
				      .created_at = 5 };
}

#define ID_A "aa11000000000000000000000000000000000000000000000000000000000000"
#define ID_B "aa22000000000000000000000000000000000000000000000000000000000000"

static void test_insert_get(void **state)
{
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	struct vs_store_ctr a = row(ID_A, "one", "sha256:1"), b = row(ID_B, "two", "sha256:1");
	struct vs_store_ctr *got = NULL;
	char *who = NULL;

	(void)state;
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	assert_true(vs_store_schema_latest() >= 2);
	assert_int_equal(vs_store_ctr_insert(s, &a, &e), 0);
	assert_int_equal(vs_store_ctr_insert(s, &b, &e), 0);
	b.id = (char *)"ff";
	assert_int_equal(vs_store_ctr_insert(s, &b, &e), -EEXIST); /* name taken */
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_store_ctr_get(s, "two", &got, &e), 0);
	assert_string_equal(got->id, ID_B);
	assert_string_equal(got->state, "created");
	vs_store_ctr_free(got);
	assert_int_equal(vs_store_ctr_get(s, "aa1", &got, &e), 0);
	assert_string_equal(got->name, "one");
	vs_store_ctr_free(got);
	got = NULL;
	assert_int_equal(vs_store_ctr_get(s, "aa", &got, &e), -EINVAL); /* ambiguous */
	assert_null(got);
	assert_non_null(strstr(e->msg, "several"));
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_store_ctr_get(s, "a%", &got, &e), -ENOENT); /* no LIKE wildcards */
	assert_int_equal(vs_store_ctr_get(s, "three", &got, &e), -ENOENT);
	assert_int_equal(vs_store_ctr_count_image(s, "sha256:1", &who, &e), 2);
	assert_string_equal(who, "one");
	free(who);
	assert_int_equal(vs_store_ctr_count_image(s, "sha256:2", &who, &e), 0);
	assert_null(who);
	vs_store_close(s);
}

static void test_update_guarded_delete(void **state)
{
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	struct vs_store_ctr *got = NULL, *c;

	(void)state;
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	assert_int_equal(vs_store_ctr_get(s, "one", &c, &e), 0);
	snprintf(c->state, sizeof(c->state), "running");
	c->pid = 42;
	c->init_pid = 43;
	assert_int_equal(vs_store_ctr_update(s, c, 0, &e), 1);
	/* a stale writer (expecting another monitor) changes nothing */
	snprintf(c->state, sizeof(c->state), "exited");
	c->pid = 0;
	c->exit_code = 137;
	c->oom_killed = true;
	assert_int_equal(vs_store_ctr_update(s, c, 7, &e), 0);
	assert_int_equal(vs_store_ctr_get(s, ID_A, &got, &e), 0);
	assert_string_equal(got->state, "running");
	assert_int_equal(got->init_pid, 43);
	vs_store_ctr_free(got);
	assert_int_equal(vs_store_ctr_update(s, c, 42, &e), 1);
	assert_int_equal(vs_store_ctr_get(s, ID_A, &got, &e), 0);
	assert_string_equal(got->state, "exited");
	assert_int_equal(got->exit_code, 137);
	assert_true(got->oom_killed);
	vs_store_ctr_free(got);
	vs_store_ctr_free(c);
	assert_int_equal(vs_store_ctr_delete(s, ID_A, &e), 0);
	assert_int_equal(vs_store_ctr_delete(s, ID_A, &e), -ENOENT);
	vs_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_get),
		cmocka_unit_test(test_update_guarded_delete),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
