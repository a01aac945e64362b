/* One fuzz iteration of the layer unpacker: data is a layer blob (tar,
 * maybe compressed) held in a memfd, unpacked into <tmp>/box/layer with
 * small limits. Refusals are expected; what must never happen is an entry
 * appearing beside the layer (in box/), which aborts so the fuzzer reports
 * it, or a crash, leak or undefined behaviour (the sanitizers judge). */
#include "fuzz.h"

#include "common/err.h"
#include "common/fs.h"
#include "image/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int only_layer_in(const char *box)
{
	DIR *d = opendir(box);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "layer"))
			n++;
	closedir(d);
	return n;
}

int fuzz_unpack_one(const uint8_t *data, size_t size)
{
	const struct vs_image_limits lim = { .max_entries = 4096,
					     .max_bytes = 16u << 20,
					     .max_ratio = 1024 };
	char box[] = "/tmp/vessel-fuzz-unpack-XXXXXX", layer[64];
	struct vs_unpack_stats st;
	struct vs_err *e = NULL;
	int fd, dfd, rc;

	fd = memfd_create("layer", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || !mkdtemp(box))
		return -1;
	snprintf(layer, sizeof(layer), "%s/layer", box);
	if (mkdir(layer, 0755) < 0 || (dfd = open(layer, O_PATH | O_DIRECTORY)) < 0)
		return -1;
	rc = vs_layer_unpack(fd, dfd, &lim, NULL, NULL, &st, &e);
	if (e && (!e->msg || strchr(e->msg, '\n')))
		abort(); /* errors are one line */
	vs_err_free(e);
	close(dfd);
	close(fd);
	if (only_layer_in(box) != 0)
		abort(); /* an entry escaped the layer */
	if (vs_rm_rf_at(AT_FDCWD, box) < 0)
		return -1;
	return rc == 0 ? 1 : 0;
}
