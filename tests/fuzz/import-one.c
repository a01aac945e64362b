/* One fuzz iteration of image import: data is written to a file and
 * imported (as an OCI archive, a docker-archive or a rootfs tarball, as the
 * import itself decides) into a fresh store, which is then listed,
 * exported, emptied and pruned. Refusals are expected; an error message of
 * more than one line, an image listed after a refused import, or leftovers
 * in the store after rm + prune abort, so the fuzzer reports them. */
#include "fuzz.h"

#include "common/err.h"
#include "common/fs.h"
#include "image/image.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void one_line(struct vs_err *e)
{
	if (e && (!e->msg || strchr(e->msg, '\n')))
		abort();
	vs_err_free(e);
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void use_and_empty(struct vs_image_store *s, const char *root)
{
	struct vs_image_prune_stats st;
	struct vs_image_info *v = NULL;
	struct vs_err *e = NULL;
	char out[256], sub[256];
	size_t n = 0;

	if (vs_image_list(s, &v, &n, &e) < 0)
		abort(); /* what import accepted, list must read */
	snprintf(out, sizeof(out), "%s/export.tar", root);
	for (size_t i = 0; i < n; i++) {
		one_line(e), e = NULL;
		(void)vs_image_export(s, v[i].name, out, &e);
		one_line(e), e = NULL;
		if (vs_image_rm(s, v[i].digest, NULL, &e) < 0)
			abort();
		vs_image_info_clear(&v[i]);
	}
	free(v);
	if (vs_image_prune(s, &st, &e) < 0)
		abort();
	snprintf(sub, sizeof(sub), "%s/images/blobs/sha256", root);
	if (entries(sub))
		abort(); /* rm + prune leave no blob */
	snprintf(sub, sizeof(sub), "%s/images/layers", root);
	if (entries(sub))
		abort();
}

int fuzz_import_one(const uint8_t *data, size_t size)
{
	const struct vs_image_import_opts o = {
		.name = size && (data[0] & 1) ? "fuzz:1" : NULL,
		.limits = { .max_entries = 4096, .max_bytes = 16u << 20, .max_ratio = 1024 },
	};
	char root[] = "/tmp/vessel-fuzz-import-XXXXXX", in[64], **names = NULL;
	struct vs_image_store *s = NULL;
	struct vs_err *e = NULL;
	int fd, rc;

	if (!mkdtemp(root))
		return -1;
	snprintf(in, sizeof(in), "%s/in", root);
	fd = open(in, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
		return -1;
	if (vs_image_store_open(root, &s, NULL) < 0)
		return -1;
	rc = vs_image_import(s, in, &o, &names, &e);
	one_line(e);
	vs_image_strv_free(names);
	use_and_empty(s, root);
	vs_image_store_free(s);
	if (vs_rm_rf_at(AT_FDCWD, root) < 0)
		return -1;
	return rc == 0 ? 1 : 0;
}
