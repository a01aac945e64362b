/* Unit tests for the layer unpacker on tarballs written here with
 * libarchive: the diff_id is the sha256 of the uncompressed tar (also in
 * hash-only mode), whiteouts and opaque dirs (root: device nodes, trusted
 * xattrs), refusals that leave nothing outside the layer, the limits. */
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#define TARBUF (1u << 20)

struct ent {
	const char *name;
	unsigned type; /* AE_IFREG, AE_IFDIR, AE_IFLNK */
	const char *data; /* contents, or link target */
};

/* A tar (gzip'ed when gz) of ents in a memfd; the plain tar's digest too. */
static int make_layer(const struct ent *ents, size_t n, bool gz, char *diff_id)
{
	static uint8_t buf[TARBUF];
	size_t used = 0;
	int fd = memfd_create("t", 0);

	for (int pass = 0; pass < 2; pass++) {
		struct archive *a = archive_write_new();

		archive_write_set_format_pax_restricted(a);
		if (pass == 1 && gz)
			archive_write_add_filter_gzip(a);
		assert_int_equal(archive_write_open_memory(a, buf, sizeof(buf), &used), ARCHIVE_OK);
		for (size_t i = 0; i < n; i++) {
			struct archive_entry *e = archive_entry_new();
			size_t len = ents[i].type == AE_IFREG ? strlen(ents[i].data) : 0;

			archive_entry_set_pathname(e, ents[i].name);
			archive_entry_set_filetype(e, ents[i].type);
			archive_entry_set_perm(e, 0755);
			archive_entry_set_size(e, (la_int64_t)len);
			if (ents[i].type == AE_IFLNK)
				archive_entry_set_symlink(e, ents[i].data);
			archive_write_header(a, e);
			if (len)
				archive_write_data(a, ents[i].data, len);
			archive_entry_free(e);
		}
		archive_write_close(a);
		archive_write_free(a);
		if (pass == 0) {
			struct vs_sha256 *h = vs_sha256_new();

			vs_sha256_update(h, buf, used);
			vs_sha256_final(h, diff_id);
		}
	}
	assert_int_equal(write(fd, buf, used), (ssize_t)used);
	return fd;
}

struct box {
	char dir[64], layer[80];
	int fd;
};

static int box_setup(void **state)
{
	struct box *b = calloc(1, sizeof(*b));

	strcpy(b->dir, "/tmp/vessel-test-unpack-XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(b->layer, sizeof(b->layer), "%s/layer", b->dir);
	assert_int_equal(mkdir(b->layer, 0755), 0);
	b->fd = open(b->layer, O_PATH | O_DIRECTORY);
	*state = b;
	return 0;
}

static int box_teardown(void **state)
{
	struct box *b = *state;

	close(b->fd);
	vs_rm_rf_at(AT_FDCWD, b->dir);
	free(b);
	return 0;
}

static int unpack(struct box *b, int blob, const struct vs_image_limits *lim,
		  struct vs_unpack_stats *st, struct vs_err **e)
{
	int rc = vs_layer_unpack(blob, b->fd, lim, NULL, NULL, st, e);

	close(blob);
	return rc;
}

static void test_diff_id_and_files(void **state)
{
	static const struct ent ents[] = {
		{ "./bin", AE_IFDIR, NULL },
		{ "./bin/hello", AE_IFREG, "hi\n" },
		{ "./bin/link", AE_IFLNK, "hello" },
	};
	struct box *b = *state;
	struct vs_unpack_stats st;
	char want[VS_DIGEST_LEN], p[160], buf[8] = { 0 };
	int fd;

	assert_int_equal(unpack(b, make_layer(ents, 3, true, want), NULL, &st, NULL), 0);
	assert_string_equal(st.diff_id, want);
	assert_int_equal(st.entries, 3);
	snprintf(p, sizeof(p), "%s/bin/hello", b->layer);
	fd = open(p, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	close(fd);
	assert_string_equal(buf, "hi\n");
	/* hashing only: the same diff_id, nothing written */
	fd = make_layer(ents, 3, true, want);
	assert_int_equal(vs_layer_unpack(fd, -1, NULL, NULL, NULL, &st, NULL), 0);
	close(fd);
	assert_string_equal(st.diff_id, want);
}

static void test_whiteouts(void **state)
{
	static const struct ent ents[] = {
		{ "etc/.wh.passwd", AE_IFREG, "" },
		{ "var/.wh..wh..opq", AE_IFREG, "" },
		{ "var/x", AE_IFREG, "x" },
	};
	struct box *b = *state;
	struct vs_unpack_stats st;
	char want[VS_DIGEST_LEN], p[160], v[4] = { 0 };
	struct stat sb;

	if (geteuid() != 0)
		skip(); /* whiteouts are device nodes, the opaque mark a trusted xattr */
	assert_int_equal(unpack(b, make_layer(ents, 3, false, want), NULL, &st, NULL), 0);
	snprintf(p, sizeof(p), "%s/etc/passwd", b->layer);
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(sb.st_rdev, makedev(0, 0));
	snprintf(p, sizeof(p), "%s/var", b->layer);
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_string_equal(v, "y");
	snprintf(p, sizeof(p), "%s/var/.wh..wh..opq", b->layer);
	assert_int_equal(access(p, F_OK), -1);
}

static void refused(struct box *b, const struct ent *ents, size_t n,
		    const struct vs_image_limits *lim, const char *word)
{
	struct vs_unpack_stats st;
	struct vs_err *e = NULL;
	char want[VS_DIGEST_LEN], p[160];

	assert_true(unpack(b, make_layer(ents, n, false, want), lim, &st, &e) < 0);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, word));
	vs_err_free(e);
	snprintf(p, sizeof(p), "%s/escape", b->dir);
	assert_int_equal(access(p, F_OK), -1);
}

static void test_hostile(void **state)
{
	static const struct ent dotdot[] = { { "../escape", AE_IFREG, "x" } };
	static const struct ent through[] = { { "s", AE_IFLNK, ".." },
					      { "s/escape", AE_IFREG, "x" } };
	static const struct ent abs[] = { { "/escape", AE_IFREG, "x" } };
	static const struct ent many[] = { { "a", AE_IFREG, "" },
					   { "b", AE_IFREG, "" },
					   { "c", AE_IFREG, "" } };
	static const struct ent big[] = { { "a", AE_IFREG,
					    "0123456789012345678901234567890123456789" } };
	const struct vs_image_limits two = { .max_entries = 2 }, small = { .max_bytes = 1024 };
	struct box *b = *state;

	refused(b, dotdot, 1, NULL, "'..'");
	refused(b, through, 2, NULL, "symlink");
	refused(b, abs, 1, NULL, "absolute");
	refused(b, many, 3, &two, "more than 2 entries");
	refused(b, big, 1, &small, "size limit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_diff_id_and_files, box_setup, box_teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts, box_setup, box_teardown),
		cmocka_unit_test_setup_teardown(test_hostile, box_setup, box_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
