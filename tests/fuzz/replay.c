/* Replays every seed file of the given directories through the fuzz entry
 * point, one TAP line per file: the corpus runs in every build (under ASan
 * and UBSan in `make check-asan`), not only where libFuzzer exists. */
#include "fuzz.h"

/* Which entry point this replay binary drives (meson sets it per target). */
#ifndef FUZZ_ONE
#define FUZZ_ONE fuzz_qcow2_one
#endif

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return -1;
	}
	*data = malloc((size_t)n + 1);
	*size = fread(*data, 1, (size_t)n, f);
	fclose(f);
	return *size == (size_t)n ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, int *num)
{
	struct dirent *de;
	char *names[4096];
	int n = 0, failed = 0;
	DIR *d = opendir(dir);

	if (!d)
		return printf("not ok %d - cannot open %s\n", ++*num, dir), 1;
	while ((de = readdir(d)) && n < 4096)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp);
	for (int i = 0; i < n; i++) {
		char path[4096];
		uint8_t *data = NULL;
		size_t size = 0;
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		r = load(path, &data, &size) < 0 ? -1 : FUZZ_ONE(data, size);
		failed += r < 0;
		printf("%s %d - %s (%s)\n", r < 0 ? "not ok" : "ok", ++*num, names[i],
		       r > 0  ? "opened" :
		       r == 0 ? "refused" :
				"harness error");
		free(data);
		free(names[i]);
	}
	return failed;
}

int main(int argc, char **argv)
{
	int num = 0, failed = 0;

	for (int i = 1; i < argc; i++)
		failed += replay_dir(argv[i], &num);
	printf("1..%d\n", num);
	return failed ? 1 : 0;
}
