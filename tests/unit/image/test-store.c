/* Unit tests for the store's skeleton: what open creates, the empty index,
 * an index round trip, lookups of absent images, and prune's treatment of
 * import work directories (a locked one is alive, an unlocked one stale). */
#include "common/err.h"
#include "common/fs.h"
#include "image/internal.h"

#include <archive.h>
#include <archive_entry.h>

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

/* A one-file rootfs tarball at path. */
static void write_rootfs(const char *path)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	archive_entry_set_pathname(e, "hello");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 3);
	archive_write_header(a, e);
	archive_write_data(a, "hi\n", 3);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

static bool used_by_ctr(void *ctx, const char *name, const char *digest, char **who)
{
	int *calls = ctx;

	(*calls)++;
	assert_string_equal(name, "hooked:latest");
	assert_true(vs_digest_valid(digest));
	*who = strdup("container c1");
	return *calls == 1; /* in use the first time only */
}

static void test_rm_in_use_hook(void **state)
{
	struct vs_image_store *s = *state;
	const struct vs_image_import_opts o = { .name = "hooked" };
	char tar[256], **names = NULL;
	struct vs_image_info info;
	struct vs_err *e = NULL;
	int calls = 0;
	const struct vs_image_users users = { .in_use = used_by_ctr, .ctx = &calls };

	snprintf(tar, sizeof(tar), "%s/tmp/rootfs.tar", s->dir);
	write_rootfs(tar);
	assert_int_equal(vs_image_import(s, tar, &o, &names, NULL), 0);
	unlink(tar);
	assert_string_equal(names[0], "hooked:latest");
	vs_image_strv_free(names);
	assert_int_equal(vs_image_rm(s, "hooked", &users, &e), -EBUSY);
	assert_string_equal(e->msg, "image hooked is in use by container c1");
	vs_err_free(e);
	assert_int_equal(vs_image_inspect(s, "hooked", &info, NULL), 0);
	vs_image_info_clear(&info);
	assert_int_equal(vs_image_rm(s, "hooked", &users, NULL), 0);
	assert_int_equal(calls, 2);
	e = NULL;
	assert_int_equal(vs_image_inspect(s, "hooked", &info, &e), -ENOENT);
	vs_err_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_in_use_hook, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
