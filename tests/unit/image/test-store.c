/* Unit tests for the store's skeleton: what open creates, the empty index,
 * an index round trip, lookups of absent images, and prune's treatment of
 * import work directories (a locked one is alive, an unlocked one stale). */
#include "common/err.h"
#include "common/fs.h"
#include "image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static int setup(void **state)
{
	char *dir = strdup("/tmp/vessel-test-store-XXXXXX");
	struct vs_image_store *s = NULL;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(vs_image_store_open(dir, &s, NULL), 0);
	free(dir);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct vs_image_store *s = *state;
	char *root = strdup(s->dir);

	*strrchr(root, '/') = 0;
	vs_image_store_free(s);
	vs_rm_rf_at(AT_FDCWD, root);
	free(root);
	return 0;
}

static void test_layout(void **state)
{
	struct vs_image_store *s = *state;
	char p[256];
	json_t *idx = NULL;

	snprintf(p, sizeof(p), "%s/oci-layout", s->dir);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/blobs/sha256", s->dir);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(store_index_read(s, &idx, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(idx, "manifests")), 0);
	json_array_append_new(json_object_get(idx, "manifests"), json_string("x"));
	assert_int_equal(store_index_write(s, idx, NULL), 0);
	json_decref(idx);
	assert_int_equal(store_index_read(s, &idx, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(idx, "manifests")), 1);
	json_decref(idx);
}

static void test_missing_image(void **state)
{
	struct vs_image_store *s = *state;
	struct vs_image_info info;
	struct vs_err *e = NULL;

	assert_int_equal(vs_image_inspect(s, "nosuch:1", &info, &e), -ENOENT);
	assert_string_equal(e->msg, "no such image: nosuch:1");
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_image_rm(s, "nosuch", NULL, &e), -ENOENT);
	vs_err_free(e);
}

static void test_prune_tmp(void **state)
{
	struct vs_image_store *s = *state;
	struct vs_image_prune_stats st;
	char *live = NULL, stale[256];
	int lockfd = -1;

	assert_int_equal(store_tmp_new(s, &live, &lockfd, NULL), 0);
	snprintf(stale, sizeof(stale), "%s/tmp/1-stale", s->dir);
	assert_int_equal(mkdir(stale, 0700), 0);
	strcat(stale, "/.lock");
	close(open(stale, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(vs_image_prune(s, &st, NULL), 0);
	assert_int_equal(st.tmp, 1);
	assert_int_equal(access(live, F_OK), 0);
	*strrchr(stale, '/') = 0;
	assert_int_equal(access(stale, F_OK), -1);
	close(lockfd); /* the importer is gone: now it is stale too */
	assert_int_equal(vs_image_prune(s, &st, NULL), 0);
	assert_int_equal(st.tmp, 1);
	assert_int_equal(access(live, F_OK), -1);
	free(live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_tmp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
